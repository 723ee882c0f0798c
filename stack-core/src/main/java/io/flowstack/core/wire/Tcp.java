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

    // Field offsets from the start of the header (RFC 9293 section 3.1).
    public static final int SRC_PORT = 0;
    public static final int DST_PORT = 2;
    public static final int SEQ_NUMBER = 4;
    public static final int ACK_NUMBER = 8;
    /** Data offset (high 4 bits, in 32-bit words) and reserved bits. */
    public static final int DATA_OFFSET = 12;
    /** Control bits: CWR, ECE, URG, ACK, PSH, RST, SYN, FIN (RFC 9293 3.1, RFC 3168 23.2). */
    public static final int FLAGS = 13;
    public static final int WINDOW = 14;
    public static final int CHECKSUM = 16;
    public static final int URGENT_POINTER = 18;
    /** First option byte (RFC 9293 3.2); the options end at the data offset. */
    public static final int OPTIONS = 20;

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

    // Option layout (RFC 9293 3.2): kind, then (but for EOL and NOP) length, then the value.
    /** Offset of an option's length byte (counts kind, length and value). */
    public static final int OPT_LENGTH_AT = 1;
    /** Offset of an option's value. */
    public static final int OPT_VALUE_AT = 2;
    /** MSS option: kind, length, 16-bit MSS (RFC 9293 3.2). */
    public static final int OPT_MSS_LEN = 4;
    /** Window scale option: kind, length, shift count (RFC 7323 2.2). */
    public static final int OPT_WSCALE_LEN = 3;
    /** SACK-permitted option: kind, length (RFC 2018 2). */
    public static final int OPT_SACK_PERMITTED_LEN = 2;
    /** Timestamps option: kind, length, TSval, TSecr (RFC 7323 3.2). */
    public static final int OPT_TIMESTAMP_LEN = 10;
    /** Timestamps option: offset of TSval. */
    public static final int OPT_TS_VAL_AT = 2;
    /** Timestamps option: offset of TSecr. */
    public static final int OPT_TS_ECR_AT = 6;
    /** SACK option: kind, length, then the blocks (RFC 2018 3). */
    public static final int OPT_SACK_HEADER_LEN = 2;
    /** One SACK block: left edge, right edge (RFC 2018 3). */
    public static final int SACK_BLOCK_LEN = 8;
    /** A window scale shift above 14 is used as 14 (RFC 7323 2.3). */
    public static final int MAX_WSCALE = 14;

    private Tcp() {}

    public static int srcPort(MemorySegment s, long o) { return Bytes.u16(s, o + SRC_PORT); }
    public static int dstPort(MemorySegment s, long o) { return Bytes.u16(s, o + DST_PORT); }
    public static int seq(MemorySegment s, long o) { return Bytes.i32(s, o + SEQ_NUMBER); }
    public static int ack(MemorySegment s, long o) { return Bytes.i32(s, o + ACK_NUMBER); }
    /** Header length in bytes (data offset * 4). */
    public static int headerLength(MemorySegment s, long o) { return (Bytes.u8(s, o + DATA_OFFSET) >>> 4) * 4; }
    public static int flags(MemorySegment s, long o) { return Bytes.u8(s, o + FLAGS); }
    public static int window(MemorySegment s, long o) { return Bytes.u16(s, o + WINDOW); }
    public static int checksum(MemorySegment s, long o) { return Bytes.u16(s, o + CHECKSUM); }
    public static int urgent(MemorySegment s, long o) { return Bytes.u16(s, o + URGENT_POINTER); }
    /** Writes the sequence number. */
    public static void seq(MemorySegment s, long o, int v) { Bytes.i32(s, o + SEQ_NUMBER, v); }
    /** Writes the control bits octet (CWR ... FIN). */
    public static void flags(MemorySegment s, long o, int v) { Bytes.u8(s, o + FLAGS, v); }

    /** Writes the fixed header (checksum zero; see {@link #finishChecksum}). */
    public static void write(MemorySegment s, long o, int sport, int dport, int seq, int ack,
                             int headerLength, int flags, int window) {
        Bytes.u16(s, o + SRC_PORT, sport);
        Bytes.u16(s, o + DST_PORT, dport);
        Bytes.i32(s, o + SEQ_NUMBER, seq);
        Bytes.i32(s, o + ACK_NUMBER, ack);
        Bytes.u8(s, o + DATA_OFFSET, (headerLength / 4) << 4);
        Bytes.u8(s, o + FLAGS, flags);
        Bytes.u16(s, o + WINDOW, window);
        Bytes.u16(s, o + CHECKSUM, 0);
        Bytes.u16(s, o + URGENT_POINTER, 0);
    }

    /** Computes and stores the checksum over pseudo-header, header and data (RFC 9293 3.1). */
    public static void finishChecksum(MemorySegment s, long o, int length, int src, int dst) {
        Bytes.u16(s, o + CHECKSUM, 0);
        long acc = Checksum.pseudoHeader(src, dst, Ipv4.PROTO_TCP, length);
        Bytes.u16(s, o + CHECKSUM, Checksum.finish(Checksum.sum(s, o, length, acc)));
    }

    /**
     * Stores the folded, non-inverted pseudo-header sum for a segment of {@code length} bytes
     * (header and data), for a device that completes the checksum over the segment
     * ({@code NEEDS_CSUM}, FRAME-IO §2; RFC 9293 3.1's sum, finished elsewhere). For a super-frame
     * {@code length} is the whole super-frame's: the device adjusts it per segment.
     */
    public static void partialChecksum(MemorySegment s, long o, int length, int src, int dst) {
        Bytes.u16(s, o + CHECKSUM, Checksum.fold(Checksum.pseudoHeader(src, dst, Ipv4.PROTO_TCP, length)));
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
