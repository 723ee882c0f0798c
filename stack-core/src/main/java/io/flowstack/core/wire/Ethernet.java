package io.flowstack.core.wire;

import java.lang.foreign.MemorySegment;

/**
 * Ethernet II header view (IEEE 802.3 / RFC 894 framing, no FCS).
 *
 * <pre>
 *  0                   1                   2                   3
 * +-------------------------------------------------------------+
 * |              destination MAC (6)  |  source MAC (6)          |
 * +-------------------------------------------------------------+
 * |  EtherType (2)  |  payload ...
 * </pre>
 *
 * Stateless: all accessors take the segment and the frame's offset.
 */
public final class Ethernet {
    public static final int HEADER_LEN = 14;
    // Field offsets from the start of the frame.
    public static final int DST = 0;
    public static final int SRC = 6;
    /** EtherType (RFC 894). */
    public static final int TYPE = 12;
    public static final int TYPE_IPV4 = 0x0800;
    public static final int TYPE_ARP = 0x0806;
    public static final int TYPE_IPV6 = 0x86DD;
    public static final int TYPE_VLAN = 0x8100;
    public static final long BROADCAST = 0xFFFF_FFFF_FFFFL;
    /** Minimum frame length without FCS; shorter frames are padded on output (IEEE 802.3). */
    public static final int MIN_FRAME = 60;

    private Ethernet() {}

    public static long dst(MemorySegment s, long off) {
        return Bytes.mac(s, off + DST);
    }

    public static long src(MemorySegment s, long off) {
        return Bytes.mac(s, off + SRC);
    }

    public static int type(MemorySegment s, long off) {
        return Bytes.u16(s, off + TYPE);
    }

    public static void write(MemorySegment s, long off, long dst, long src, int type) {
        Bytes.mac(s, off + DST, dst);
        Bytes.mac(s, off + SRC, src);
        Bytes.u16(s, off + TYPE, type);
    }

    /** A multicast or broadcast MAC has the I/G bit (least significant bit of octet 0) set. */
    public static boolean isGroup(long mac) {
        return ((mac >>> 40) & 1) != 0;
    }

    public static String macToString(long mac) {
        StringBuilder b = new StringBuilder(17);
        for (int i = 5; i >= 0; i--) {
            int o = (int) (mac >>> (8 * i)) & 0xFF;
            if (b.length() > 0) {
                b.append(':');
            }
            b.append(Character.forDigit(o >>> 4, 16)).append(Character.forDigit(o & 15, 16));
        }
        return b.toString();
    }

    /**
     * Parses six octets of one or two hex digits separated by {@code :} or {@code -}.
     *
     * @throws IllegalArgumentException for anything else (an octet that is not hex or above ff
     *     was a NumberFormatException, or spilled into the next octet, until CliSpecsFuzzTest)
     */
    public static long parseMac(String text) {
        String[] parts = text.split("[:-]", -1);
        if (parts.length != 6) {
            throw new IllegalArgumentException("not a MAC address: " + text);
        }
        long mac = 0;
        for (String p : parts) {
            if (p.isEmpty() || p.length() > 2 || hex(p.charAt(0)) < 0 || hex(p.charAt(p.length() - 1)) < 0) {
                throw new IllegalArgumentException("not a MAC address: " + text);
            }
            mac = (mac << 8) | (p.length() == 1 ? hex(p.charAt(0)) : hex(p.charAt(0)) << 4 | hex(p.charAt(1)));
        }
        return mac;
    }

    /** The value of an ASCII hex digit, or -1. */
    private static int hex(char c) {
        return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    }
}
