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
    // Field offsets from the start of the header (RFC 768).
    public static final int SRC_PORT = 0;
    public static final int DST_PORT = 2;
    /** Length of header and data in bytes. */
    public static final int LENGTH = 4;
    public static final int CHECKSUM = 6;
    /** Bytes that hold the two ports (at the same offsets in TCP, RFC 9293 3.1). */
    public static final int PORTS_LEN = 4;

    private Udp() {}

    public static int srcPort(MemorySegment s, long o) { return Bytes.u16(s, o + SRC_PORT); }
    public static int dstPort(MemorySegment s, long o) { return Bytes.u16(s, o + DST_PORT); }
    public static int length(MemorySegment s, long o) { return Bytes.u16(s, o + LENGTH); }
    public static int checksum(MemorySegment s, long o) { return Bytes.u16(s, o + CHECKSUM); }

    /**
     * Writes the header and the checksum over pseudo-header, header and payload (RFC 768: a
     * computed zero is sent as all ones).
     */
    public static void write(MemorySegment s, long o, int srcPort, int dstPort, int length,
                             int srcAddr, int dstAddr) {
        Bytes.u16(s, o + SRC_PORT, srcPort);
        Bytes.u16(s, o + DST_PORT, dstPort);
        Bytes.u16(s, o + LENGTH, length);
        Bytes.u16(s, o + CHECKSUM, 0);
        long acc = Checksum.pseudoHeader(srcAddr, dstAddr, Ipv4.PROTO_UDP, length);
        int c = Checksum.finish(Checksum.sum(s, o, length, acc));
        Bytes.u16(s, o + CHECKSUM, c == 0 ? 0xFFFF : c);
    }
}
