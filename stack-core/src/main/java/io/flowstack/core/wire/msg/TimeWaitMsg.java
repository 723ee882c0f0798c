package io.flowstack.core.wire.msg;

import io.flowstack.core.wire.Bytes;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Inter-core message, old owner to new owner: TIME-WAIT entries of a bucket that moves to the
 * receiver (docs/REBALANCING.md), sent right after the bucket's {@link MigrateAdoptMsg} on the
 * same ring, so they are in the new owner's table before any frame of the bucket is processed
 * there. A move with many entries sends several messages.
 *
 * <pre>
 * [count:int][reserved:int, 0][count entries of {@value #ENTRY} bytes]
 * entry: [remoteAddr:int][remotePort:u16][localPort:u16][sndNxt:int][rcvNxt:int]
 *        [rcvWnd:int][tsRecent:int][flags:u8 (1 = timestamps on)][rcvWscale:u8][reserved:u16, 0]
 *        [localAddr:int]
 *        [expiresAt:long][tsRecentAt:long]
 * </pre>
 *
 * The two times are nanoseconds on the stack's clock (its cores share it), longs in the
 * machine's byte order (the ring never leaves the process). Stateless.
 */
public final class TimeWaitMsg {
    public static final int TYPE = 12;
    public static final int COUNT = 0;
    public static final int RESERVED = 4;
    /** Offset of the first entry. */
    public static final int ENTRIES = 8;
    /** Bytes per entry. */
    public static final int ENTRY = 48;
    /** The most entries one message carries (a move sends as many messages as it needs). */
    public static final int MAX_ENTRIES = 256;

    /** Entry field offsets, from the entry's start. */
    public static final int REMOTE_ADDR = 0;
    public static final int REMOTE_PORT = 4;
    public static final int LOCAL_PORT = 6;
    public static final int SND_NXT = 8;
    public static final int RCV_NXT = 12;
    public static final int RCV_WND = 16;
    public static final int TS_RECENT = 20;
    public static final int FLAGS = 24;
    public static final int RCV_WSCALE = 25;
    public static final int ENTRY_RESERVED = 26;
    /** The connection's local address (one of the stack's interfaces'). */
    public static final int LOCAL_ADDR = 28;
    public static final int EXPIRES_AT = 32;
    public static final int TS_RECENT_AT = 40;
    /** {@link #FLAGS} bit: timestamps (RFC 7323) were on. */
    public static final int FLAG_TS_OK = 1;

    private TimeWaitMsg() {}

    /** Length of a message of {@code count} entries. */
    public static int length(int count) {
        return ENTRIES + count * ENTRY;
    }

    /** Writes the message header (the entries are written with {@link #writeEntry} or copied in). */
    public static void writeHeader(MemorySegment m, long index, int count) {
        Bytes.i32(m, index + COUNT, count);
        Bytes.i32(m, index + RESERVED, 0);
    }

    public static int count(MemorySegment m, long index) {
        return Bytes.i32(m, index + COUNT);
    }

    /** Offset of entry {@code i} of the message at {@code index}. */
    public static long entry(long index, int i) {
        return index + ENTRIES + (long) i * ENTRY;
    }

    /** Writes one entry at {@code at} (a message's {@link #entry}, or any buffer of entries). */
    public static void writeEntry(MemorySegment m, long at, int localAddr, int remoteAddr, int remotePort, int localPort,
                                  int sndNxt, int rcvNxt, int rcvWnd, int rcvWscale, boolean tsOk, int tsRecent,
                                  long expiresAt, long tsRecentAt) {
        Bytes.i32(m, at + REMOTE_ADDR, remoteAddr);
        Bytes.u16(m, at + REMOTE_PORT, remotePort);
        Bytes.u16(m, at + LOCAL_PORT, localPort);
        Bytes.i32(m, at + SND_NXT, sndNxt);
        Bytes.i32(m, at + RCV_NXT, rcvNxt);
        Bytes.i32(m, at + RCV_WND, rcvWnd);
        Bytes.i32(m, at + TS_RECENT, tsRecent);
        Bytes.u8(m, at + FLAGS, tsOk ? FLAG_TS_OK : 0);
        Bytes.u8(m, at + RCV_WSCALE, rcvWscale);
        Bytes.u16(m, at + ENTRY_RESERVED, 0);
        Bytes.i32(m, at + LOCAL_ADDR, localAddr);
        m.set(ValueLayout.JAVA_LONG_UNALIGNED, at + EXPIRES_AT, expiresAt);
        m.set(ValueLayout.JAVA_LONG_UNALIGNED, at + TS_RECENT_AT, tsRecentAt);
    }

    public static int localAddr(MemorySegment m, long at) {
        return Bytes.i32(m, at + LOCAL_ADDR);
    }

    public static int remoteAddr(MemorySegment m, long at) {
        return Bytes.i32(m, at + REMOTE_ADDR);
    }

    public static int remotePort(MemorySegment m, long at) {
        return Bytes.u16(m, at + REMOTE_PORT);
    }

    public static int localPort(MemorySegment m, long at) {
        return Bytes.u16(m, at + LOCAL_PORT);
    }

    public static int sndNxt(MemorySegment m, long at) {
        return Bytes.i32(m, at + SND_NXT);
    }

    public static int rcvNxt(MemorySegment m, long at) {
        return Bytes.i32(m, at + RCV_NXT);
    }

    public static int rcvWnd(MemorySegment m, long at) {
        return Bytes.i32(m, at + RCV_WND);
    }

    public static int tsRecent(MemorySegment m, long at) {
        return Bytes.i32(m, at + TS_RECENT);
    }

    public static boolean tsOk(MemorySegment m, long at) {
        return (Bytes.u8(m, at + FLAGS) & FLAG_TS_OK) != 0;
    }

    public static int rcvWscale(MemorySegment m, long at) {
        return Bytes.u8(m, at + RCV_WSCALE);
    }

    public static long expiresAt(MemorySegment m, long at) {
        return m.get(ValueLayout.JAVA_LONG_UNALIGNED, at + EXPIRES_AT);
    }

    public static long tsRecentAt(MemorySegment m, long at) {
        return m.get(ValueLayout.JAVA_LONG_UNALIGNED, at + TS_RECENT_AT);
    }
}
