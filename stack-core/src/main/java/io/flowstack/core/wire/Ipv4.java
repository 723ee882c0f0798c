package io.flowstack.core.wire;

import java.lang.foreign.MemorySegment;

/**
 * IPv4 header view (RFC 791 section 3.1).
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |Version|  IHL  |Type of Service|          Total Length         |
 * |         Identification        |Flags|      Fragment Offset    |
 * |  Time to Live |    Protocol   |         Header Checksum       |
 * |                       Source Address                          |
 * |                    Destination Address                        |
 * |                    Options                    |    Padding    |
 * </pre>
 *
 * Addresses are ints in network order (198.18.0.1 = 0xC6120001).
 */
public final class Ipv4 {
    public static final int MIN_HEADER = 20;
    public static final int PROTO_ICMP = 1;
    public static final int PROTO_TCP = 6;
    public static final int PROTO_UDP = 17;
    public static final int FLAG_DF = 0x4000;
    public static final int FLAG_MF = 0x2000;
    public static final int OFFSET_MASK = 0x1FFF;
    public static final int MAX_DATAGRAM = 65535;
    public static final int BROADCAST = 0xFFFFFFFF;

    private Ipv4() {}

    public static int version(MemorySegment s, long o) { return Bytes.u8(s, o) >>> 4; }
    /** Header length in bytes (IHL * 4). */
    public static int headerLength(MemorySegment s, long o) { return (Bytes.u8(s, o) & 0xF) * 4; }
    public static int tos(MemorySegment s, long o) { return Bytes.u8(s, o + 1); }
    public static int totalLength(MemorySegment s, long o) { return Bytes.u16(s, o + 2); }
    public static int id(MemorySegment s, long o) { return Bytes.u16(s, o + 4); }
    /** Flags and fragment offset word (flags in the top 3 bits, offset in 8-byte units). */
    public static int fragWord(MemorySegment s, long o) { return Bytes.u16(s, o + 6); }
    public static int ttl(MemorySegment s, long o) { return Bytes.u8(s, o + 8); }
    public static int protocol(MemorySegment s, long o) { return Bytes.u8(s, o + 9); }
    public static int checksum(MemorySegment s, long o) { return Bytes.u16(s, o + 10); }
    public static int src(MemorySegment s, long o) { return Bytes.i32(s, o + 12); }
    public static int dst(MemorySegment s, long o) { return Bytes.i32(s, o + 16); }

    public static boolean isFragment(int fragWord) {
        return (fragWord & (FLAG_MF | OFFSET_MASK)) != 0;
    }

    public static void totalLength(MemorySegment s, long o, int v) { Bytes.u16(s, o + 2, v); }
    public static void fragWord(MemorySegment s, long o, int v) { Bytes.u16(s, o + 6, v); }
    public static void ttl(MemorySegment s, long o, int v) { Bytes.u8(s, o + 8, v); }
    public static void src(MemorySegment s, long o, int v) { Bytes.i32(s, o + 12, v); }
    public static void dst(MemorySegment s, long o, int v) { Bytes.i32(s, o + 16, v); }

    /** Writes a 20-byte header without options and its checksum. */
    public static void write(MemorySegment s, long o, int totalLength, int id, int fragWord,
                             int ttl, int protocol, int src, int dst) {
        Bytes.u8(s, o, 0x45);
        Bytes.u8(s, o + 1, 0);
        Bytes.u16(s, o + 2, totalLength);
        Bytes.u16(s, o + 4, id);
        Bytes.u16(s, o + 6, fragWord);
        Bytes.u8(s, o + 8, ttl);
        Bytes.u8(s, o + 9, protocol);
        Bytes.u16(s, o + 10, 0);
        Bytes.i32(s, o + 12, src);
        Bytes.i32(s, o + 16, dst);
        updateChecksum(s, o);
    }

    /** Recomputes the header checksum over IHL*4 bytes (RFC 791 3.1 "Header Checksum"). */
    public static void updateChecksum(MemorySegment s, long o) {
        Bytes.u16(s, o + 10, 0);
        Bytes.u16(s, o + 10, Checksum.compute(s, o, headerLength(s, o)));
    }

    public static String toString(int addr) {
        return (addr >>> 24) + "." + ((addr >>> 16) & 0xFF) + "." + ((addr >>> 8) & 0xFF) + "."
                + (addr & 0xFF);
    }

    /** Parses dotted-quad notation. */
    public static int parse(String text) {
        String[] p = text.trim().split("\\.");
        if (p.length != 4) {
            throw new IllegalArgumentException("not an IPv4 address: " + text);
        }
        int a = 0;
        for (String part : p) {
            int v;
            try {
                v = Integer.parseInt(part);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("not an IPv4 address: " + text);
            }
            if (v < 0 || v > 255) {
                throw new IllegalArgumentException("not an IPv4 address: " + text);
            }
            a = (a << 8) | v;
        }
        return a;
    }

    /** Network mask for a prefix length 0..32. */
    public static int mask(int prefixLength) {
        return prefixLength == 0 ? 0 : -1 << (32 - prefixLength);
    }
}
