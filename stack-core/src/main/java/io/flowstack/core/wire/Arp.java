package io.flowstack.core.wire;

import java.lang.foreign.MemorySegment;

/**
 * ARP packet view for Ethernet/IPv4 (RFC 826).
 *
 * <pre>
 * +--------+--------+--------+--------+
 * | HTYPE = 1       | PTYPE = 0x0800  |
 * | HLEN=6 | PLEN=4 | OPER            |
 * | SHA (6)                  | SPA (4)...
 * | ... | THA (6)            | TPA (4)
 * </pre>
 */
public final class Arp {
    public static final int LEN = 28;
    // Field offsets for Ethernet/IPv4 (RFC 826: hardware length 6, protocol length 4).
    public static final int HTYPE = 0;
    public static final int PTYPE = 2;
    public static final int HLEN = 4;
    public static final int PLEN = 5;
    public static final int OPER = 6;
    /** Sender hardware address. */
    public static final int SHA = 8;
    /** Sender protocol address. */
    public static final int SPA = 14;
    /** Target hardware address. */
    public static final int THA = 18;
    /** Target protocol address. */
    public static final int TPA = 24;
    public static final int MAC_LEN = 6;
    public static final int IPV4_LEN = 4;
    public static final int HTYPE_ETHERNET = 1;
    public static final int OP_REQUEST = 1;
    public static final int OP_REPLY = 2;

    private Arp() {}

    public static int htype(MemorySegment s, long o) { return Bytes.u16(s, o + HTYPE); }
    public static int ptype(MemorySegment s, long o) { return Bytes.u16(s, o + PTYPE); }
    public static int hlen(MemorySegment s, long o) { return Bytes.u8(s, o + HLEN); }
    public static int plen(MemorySegment s, long o) { return Bytes.u8(s, o + PLEN); }
    public static int op(MemorySegment s, long o) { return Bytes.u16(s, o + OPER); }
    public static long sha(MemorySegment s, long o) { return Bytes.mac(s, o + SHA); }
    public static int spa(MemorySegment s, long o) { return Bytes.i32(s, o + SPA); }
    public static long tha(MemorySegment s, long o) { return Bytes.mac(s, o + THA); }
    public static int tpa(MemorySegment s, long o) { return Bytes.i32(s, o + TPA); }

    public static void write(MemorySegment s, long o, int op, long sha, int spa, long tha, int tpa) {
        Bytes.u16(s, o + HTYPE, HTYPE_ETHERNET);
        Bytes.u16(s, o + PTYPE, Ethernet.TYPE_IPV4);
        Bytes.u8(s, o + HLEN, MAC_LEN);
        Bytes.u8(s, o + PLEN, IPV4_LEN);
        Bytes.u16(s, o + OPER, op);
        Bytes.mac(s, o + SHA, sha);
        Bytes.i32(s, o + SPA, spa);
        Bytes.mac(s, o + THA, tha);
        Bytes.i32(s, o + TPA, tpa);
    }
}
