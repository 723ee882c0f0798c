package io.flowstack.core.wire.msg;

import io.flowstack.core.wire.Bytes;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Inter-core message: an ARP cache update (RFC 826) that one core learnt on an interface, sent to
 * every other core's replica of that interface's cache.
 *
 * <pre>
 * [ip:int][interface:int][mac:long, native byte order]
 * </pre>
 *
 * The MAC is the low 48 bits of a long in the machine's byte order (the ring never leaves the
 * process). Stateless.
 */
public final class ArpUpdateMsg {
    public static final int TYPE = 3;
    public static final int IP = 0;
    public static final int IFACE = 4;
    public static final int MAC = 8;
    public static final int LENGTH = 16;

    private ArpUpdateMsg() {}

    public static void write(MemorySegment m, long index, int iface, int ip, long mac) {
        Bytes.i32(m, index + IP, ip);
        Bytes.i32(m, index + IFACE, iface);
        m.set(ValueLayout.JAVA_LONG_UNALIGNED, index + MAC, mac);
    }

    public static int ip(MemorySegment m, long index) {
        return Bytes.i32(m, index + IP);
    }

    public static int iface(MemorySegment m, long index) {
        return Bytes.i32(m, index + IFACE);
    }

    public static long mac(MemorySegment m, long index) {
        return m.get(ValueLayout.JAVA_LONG_UNALIGNED, index + MAC);
    }
}
