package io.flowstack.core.wire.msg;

import io.flowstack.core.wire.Bytes;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Socket message, netisr to application: an ICMP echo reply (RFC 792) for an echo socket, on
 * that core's receive ring of the socket, with the netisr's time of reception.
 *
 * <pre>
 * [src:int][ttl:u8][reserved:u8, 0][seq:u16][receivedAt:long, native byte order][echo data]
 * </pre>
 *
 * Stateless.
 */
public final class EchoReplyMsg {
    public static final int TYPE = 1;
    /** Source IPv4 address of the reply. */
    public static final int SRC = 0;
    /** The IPv4 TTL the reply arrived with. */
    public static final int TTL = 4;
    public static final int RESERVED = 5;
    public static final int SEQ = 6;
    /** Netisr clock at reception, nanoseconds. */
    public static final int RECEIVED_AT = 8;
    public static final int DATA = 16;
    /** Bytes before the echo data. */
    public static final int HEADER_LEN = DATA;

    private EchoReplyMsg() {}

    /** Length of the message for {@code dataLen} bytes of echo data. */
    public static int length(int dataLen) {
        return HEADER_LEN + dataLen;
    }

    /** Echo data bytes in a message of {@code length} bytes. */
    public static int dataLength(int length) {
        return length - HEADER_LEN;
    }

    /** Writes the message: the fields, then {@code s[dataOff, dataOff + dataLen)} as the data. */
    public static void write(MemorySegment m, long index, int src, int ttl, int seq, long receivedAt,
                             MemorySegment s, long dataOff, int dataLen) {
        Bytes.i32(m, index + SRC, src);
        Bytes.u8(m, index + TTL, ttl);
        Bytes.u8(m, index + RESERVED, 0);
        Bytes.u16(m, index + SEQ, seq);
        m.set(ValueLayout.JAVA_LONG_UNALIGNED, index + RECEIVED_AT, receivedAt);
        MemorySegment.copy(s, dataOff, m, index + DATA, dataLen);
    }

    public static int src(MemorySegment m, long index) {
        return Bytes.i32(m, index + SRC);
    }

    public static int ttl(MemorySegment m, long index) {
        return Bytes.u8(m, index + TTL);
    }

    public static int seq(MemorySegment m, long index) {
        return Bytes.u16(m, index + SEQ);
    }

    public static long receivedAt(MemorySegment m, long index) {
        return m.get(ValueLayout.JAVA_LONG_UNALIGNED, index + RECEIVED_AT);
    }
}
