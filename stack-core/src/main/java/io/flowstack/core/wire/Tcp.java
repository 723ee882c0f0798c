package io.flowstack.core.wire;

import java.lang.foreign.MemorySegment;

/**
 * TCP header view (RFC 9293 section 3.1).
 *
 * <pre>
 *  0                   1                   2                   3
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |          Source Port          |       Destination Port        |
 * |                        Sequence Number                        |
 * |                    Acknowledgment Number                      |
 * |  Data |       |C|E|U|A|P|R|S|F|                               |
 * | Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             |
 * |           Checksum            |         Urgent Pointer        |
 * |                    Options                    |    Padding    |
 * </pre>
 */
public final class Tcp {
    public static final int MIN_HEADER = 20;
    public static final int FIN = 0x01;
    public static final int SYN = 0x02;
    public static final int RST = 0x04;
    public static final int PSH = 0x08;
    public static final int ACK = 0x10;
    public static final int URG = 0x20;
    public static final int ECE = 0x40;
    public static final int CWR = 0x80;

    public static final int OPT_EOL = 0;
    public static final int OPT_NOP = 1;
    public static final int OPT_MSS = 2;
    public static final int OPT_WSCALE = 3;
    public static final int OPT_SACK_PERMITTED = 4;
    public static final int OPT_SACK = 5;
    public static final int OPT_TIMESTAMP = 8;

    private Tcp() {}

    public static int srcPort(MemorySegment s, long o) { return Bytes.u16(s, o); }
    public static int dstPort(MemorySegment s, long o) { return Bytes.u16(s, o + 2); }
    public static int seq(MemorySegment s, long o) { return Bytes.i32(s, o + 4); }
    public static int ack(MemorySegment s, long o) { return Bytes.i32(s, o + 8); }
    /** Header length in bytes (data offset * 4). */
    public static int headerLength(MemorySegment s, long o) { return (Bytes.u8(s, o + 12) >>> 4) * 4; }
    public static int flags(MemorySegment s, long o) { return Bytes.u8(s, o + 13); }
    public static int window(MemorySegment s, long o) { return Bytes.u16(s, o + 14); }
    public static int checksum(MemorySegment s, long o) { return Bytes.u16(s, o + 16); }
    public static int urgent(MemorySegment s, long o) { return Bytes.u16(s, o + 18); }

    /** Writes the fixed header (checksum zero; see {@link #finishChecksum}). */
    public static void write(MemorySegment s, long o, int sport, int dport, int seq, int ack,
                             int headerLength, int flags, int window) {
        Bytes.u16(s, o, sport);
        Bytes.u16(s, o + 2, dport);
        Bytes.i32(s, o + 4, seq);
        Bytes.i32(s, o + 8, ack);
        Bytes.u8(s, o + 12, (headerLength / 4) << 4);
        Bytes.u8(s, o + 13, flags);
        Bytes.u16(s, o + 14, window);
        Bytes.u16(s, o + 16, 0);
        Bytes.u16(s, o + 18, 0);
    }

    /** Computes and stores the checksum over pseudo-header, header and data (RFC 9293 3.1). */
    public static void finishChecksum(MemorySegment s, long o, int length, int src, int dst) {
        Bytes.u16(s, o + 16, 0);
        long acc = Checksum.pseudoHeader(src, dst, Ipv4.PROTO_TCP, length);
        Bytes.u16(s, o + 16, Checksum.finish(Checksum.sum(s, o, length, acc)));
    }

    public static boolean verifyChecksum(MemorySegment s, long o, int length, int src, int dst) {
        long acc = Checksum.pseudoHeader(src, dst, Ipv4.PROTO_TCP, length);
        return Checksum.fold(Checksum.sum(s, o, length, acc)) == 0xFFFF;
    }

    public static String flagsToString(int f) {
        StringBuilder b = new StringBuilder();
        if ((f & SYN) != 0) b.append('S');
        if ((f & FIN) != 0) b.append('F');
        if ((f & RST) != 0) b.append('R');
        if ((f & PSH) != 0) b.append('P');
        if ((f & ACK) != 0) b.append('.');
        return b.toString();
    }
}
