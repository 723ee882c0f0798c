package io.flowstack.core.wire;

import java.lang.foreign.MemorySegment;

/**
 * ICMP message view (RFC 792): type, code, checksum, then 4 bytes of rest-of-header
 * (identifier and sequence for echo; unused or next-hop MTU for errors).
 */
public final class Icmp {
    public static final int HEADER_LEN = 8;
    // Field offsets from the start of the message (RFC 792).
    public static final int TYPE = 0;
    public static final int CODE = 1;
    public static final int CHECKSUM = 2;
    /** Rest of header: 4 bytes whose meaning depends on the type. */
    public static final int REST = 4;
    /** Echo and echo reply: identifier (in the rest of header). */
    public static final int ID = 4;
    /** Echo and echo reply: sequence number (in the rest of header). */
    public static final int SEQ = 6;
    /** Destination unreachable, fragmentation needed: next-hop MTU, low 16 bits of the rest (RFC 1191 4). */
    public static final int NEXT_HOP_MTU = 6;
    /** Echo data, or the quoted datagram of an error (RFC 792). */
    public static final int DATA = 8;
    /** An error quotes the offending header and at least the first 64 bits of its data (RFC 792). */
    public static final int QUOTED_DATA = 8;
    public static final int ECHO_REPLY = 0;
    public static final int DEST_UNREACHABLE = 3;
    public static final int SOURCE_QUENCH = 4;
    public static final int REDIRECT = 5;
    public static final int ECHO_REQUEST = 8;
    public static final int TIME_EXCEEDED = 11;
    public static final int PARAMETER_PROBLEM = 12;
    /** Destination unreachable: net unreachable (RFC 792; RFC 1812 5.2.7.1: no route). */
    public static final int CODE_NET_UNREACHABLE = 0;
    /** Destination unreachable: host unreachable (RFC 792; RFC 1812 5.2.7.1: the next hop does not answer ARP). */
    public static final int CODE_HOST_UNREACHABLE = 1;
    public static final int CODE_PROTOCOL_UNREACHABLE = 2;
    public static final int CODE_PORT_UNREACHABLE = 3;
    public static final int CODE_FRAG_NEEDED = 4;
    /** Time exceeded: time to live exceeded in transit (RFC 792; RFC 1812 5.3.1). */
    public static final int CODE_TTL_EXCEEDED = 0;
    /** Time exceeded: fragment reassembly time exceeded (RFC 792). */
    public static final int CODE_REASSEMBLY_TIME_EXCEEDED = 1;

    private Icmp() {}

    public static int type(MemorySegment s, long o) { return Bytes.u8(s, o + TYPE); }
    public static int code(MemorySegment s, long o) { return Bytes.u8(s, o + CODE); }
    public static int checksum(MemorySegment s, long o) { return Bytes.u16(s, o + CHECKSUM); }
    public static int rest(MemorySegment s, long o) { return Bytes.i32(s, o + REST); }
    public static int id(MemorySegment s, long o) { return Bytes.u16(s, o + ID); }
    public static int seq(MemorySegment s, long o) { return Bytes.u16(s, o + SEQ); }
    public static int nextHopMtu(MemorySegment s, long o) { return Bytes.u16(s, o + NEXT_HOP_MTU); }

    public static void type(MemorySegment s, long o, int v) { Bytes.u8(s, o + TYPE, v); }
    public static void code(MemorySegment s, long o, int v) { Bytes.u8(s, o + CODE, v); }
    public static void checksum(MemorySegment s, long o, int v) { Bytes.u16(s, o + CHECKSUM, v); }
    public static void rest(MemorySegment s, long o, int v) { Bytes.i32(s, o + REST, v); }
    public static void id(MemorySegment s, long o, int v) { Bytes.u16(s, o + ID, v); }
    public static void seq(MemorySegment s, long o, int v) { Bytes.u16(s, o + SEQ, v); }

    /** Stores the checksum over the {@code len} bytes of the message (RFC 792, RFC 1071). */
    public static void updateChecksum(MemorySegment s, long o, int len) {
        Bytes.u16(s, o + CHECKSUM, 0);
        Bytes.u16(s, o + CHECKSUM, Checksum.compute(s, o, len));
    }

    /** Error types that quote an offending datagram (RFC 792; RFC 1122 3.2.2). */
    public static boolean isError(int type) {
        return type == DEST_UNREACHABLE || type == SOURCE_QUENCH || type == REDIRECT
                || type == TIME_EXCEEDED || type == PARAMETER_PROBLEM;
    }
}
