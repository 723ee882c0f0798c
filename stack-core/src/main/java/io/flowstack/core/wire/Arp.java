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
    public static final int HTYPE_ETHERNET = 1;
    public static final int OP_REQUEST = 1;
    public static final int OP_REPLY = 2;

    private Arp() {}

    public static int htype(MemorySegment s, long o) { return Bytes.u16(s, o); }
    public static int ptype(MemorySegment s, long o) { return Bytes.u16(s, o + 2); }
    public static int hlen(MemorySegment s, long o) { return Bytes.u8(s, o + 4); }
    public static int plen(MemorySegment s, long o) { return Bytes.u8(s, o + 5); }
    public static int op(MemorySegment s, long o) { return Bytes.u16(s, o + 6); }
    public static long sha(MemorySegment s, long o) { return Bytes.mac(s, o + 8); }
    public static int spa(MemorySegment s, long o) { return Bytes.i32(s, o + 14); }
    public static long tha(MemorySegment s, long o) { return Bytes.mac(s, o + 18); }
    public static int tpa(MemorySegment s, long o) { return Bytes.i32(s, o + 24); }

    public static void write(MemorySegment s, long o, int op, long sha, int spa, long tha, int tpa) {
        Bytes.u16(s, o, HTYPE_ETHERNET);
        Bytes.u16(s, o + 2, Ethernet.TYPE_IPV4);
        Bytes.u8(s, o + 4, 6);
        Bytes.u8(s, o + 5, 4);
        Bytes.u16(s, o + 6, op);
        Bytes.mac(s, o + 8, sha);
        Bytes.i32(s, o + 14, spa);
        Bytes.mac(s, o + 18, tha);
        Bytes.i32(s, o + 24, tpa);
    }
}
