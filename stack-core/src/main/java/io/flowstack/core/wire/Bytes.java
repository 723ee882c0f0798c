package io.flowstack.core.wire;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** Explicit-byte-order accessors shared by the wire views (network order is big-endian). */
public final class Bytes {
    public static final ValueLayout.OfShort U16 =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    public static final ValueLayout.OfInt U32 =
            ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    private Bytes() {}

    public static int u8(MemorySegment s, long off) {
        return s.get(ValueLayout.JAVA_BYTE, off) & 0xFF;
    }

    public static void u8(MemorySegment s, long off, int v) {
        s.set(ValueLayout.JAVA_BYTE, off, (byte) v);
    }

    public static int u16(MemorySegment s, long off) {
        return s.get(U16, off) & 0xFFFF;
    }

    public static void u16(MemorySegment s, long off, int v) {
        s.set(U16, off, (short) v);
    }

    public static int i32(MemorySegment s, long off) {
        return s.get(U32, off);
    }

    public static void i32(MemorySegment s, long off, int v) {
        s.set(U32, off, v);
    }

    /** 48-bit MAC address at {@code off}, as the low 48 bits of a long. */
    public static long mac(MemorySegment s, long off) {
        return ((long) u16(s, off) << 32) | (i32(s, off + 2) & 0xFFFFFFFFL);
    }

    public static void mac(MemorySegment s, long off, long mac) {
        u16(s, off, (int) (mac >>> 32));
        i32(s, off + 2, (int) mac);
    }
}
