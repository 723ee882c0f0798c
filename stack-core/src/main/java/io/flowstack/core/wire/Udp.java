package io.flowstack.core.wire;

import java.lang.foreign.MemorySegment;

/**
 * UDP header view (RFC 768).
 *
 * <pre>
 * +--------+--------+--------+--------+
 * |   Source Port   | Destination Port|
 * |     Length      |    Checksum     |
 * </pre>
 */
public final class Udp {
    public static final int HEADER_LEN = 8;

    private Udp() {}

    public static int srcPort(MemorySegment s, long o) { return Bytes.u16(s, o); }
    public static int dstPort(MemorySegment s, long o) { return Bytes.u16(s, o + 2); }
    public static int length(MemorySegment s, long o) { return Bytes.u16(s, o + 4); }
    public static int checksum(MemorySegment s, long o) { return Bytes.u16(s, o + 6); }

    /**
     * Writes the header and the checksum over pseudo-header, header and payload (RFC 768: a
     * computed zero is sent as all ones).
     */
    public static void write(MemorySegment s, long o, int srcPort, int dstPort, int length,
                             int srcAddr, int dstAddr) {
        Bytes.u16(s, o, srcPort);
        Bytes.u16(s, o + 2, dstPort);
        Bytes.u16(s, o + 4, length);
        Bytes.u16(s, o + 6, 0);
        long acc = Checksum.pseudoHeader(srcAddr, dstAddr, Ipv4.PROTO_UDP, length);
        int c = Checksum.finish(Checksum.sum(s, o, length, acc));
        Bytes.u16(s, o + 6, c == 0 ? 0xFFFF : c);
    }
}
