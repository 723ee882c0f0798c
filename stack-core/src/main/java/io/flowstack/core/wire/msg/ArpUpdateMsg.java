package io.flowstack.core.wire.msg;

import io.flowstack.core.wire.Bytes;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Inter-core message: an ARP cache update (RFC 826) that one core learnt, sent to every other
 * core's replica of the cache.
 *
 * <pre>
 * [ip:int][reserved:int, 0][mac:long, native byte order]
 * </pre>
 *
 * The MAC is the low 48 bits of a long in the machine's byte order (the ring never leaves the
 * process). Stateless.
 */
public final class ArpUpdateMsg {
    public static final int TYPE = 3;
    public static final int IP = 0;
    public static final int RESERVED = 4;
    public static final int MAC = 8;
    public static final int LENGTH = 16;

    private ArpUpdateMsg() {}

    public static void write(MemorySegment m, long index, int ip, long mac) {
        Bytes.i32(m, index + IP, ip);
        Bytes.i32(m, index + RESERVED, 0);
        m.set(ValueLayout.JAVA_LONG_UNALIGNED, index + MAC, mac);
    }

    public static int ip(MemorySegment m, long index) {
        return Bytes.i32(m, index + IP);
    }

    public static long mac(MemorySegment m, long index) {
        return m.get(ValueLayout.JAVA_LONG_UNALIGNED, index + MAC);
    }
}
