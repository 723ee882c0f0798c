package io.flowstack.core.wire;

import java.lang.foreign.MemorySegment;

/**
 * ICMP message view (RFC 792): type, code, checksum, then 4 bytes of rest-of-header
 * (identifier and sequence for echo; unused or next-hop MTU for errors).
 */
public final class Icmp {
    public static final int HEADER_LEN = 8;
    public static final int ECHO_REPLY = 0;
    public static final int DEST_UNREACHABLE = 3;
    public static final int SOURCE_QUENCH = 4;
    public static final int REDIRECT = 5;
    public static final int ECHO_REQUEST = 8;
    public static final int TIME_EXCEEDED = 11;
    public static final int PARAMETER_PROBLEM = 12;
    public static final int CODE_PROTOCOL_UNREACHABLE = 2;
    public static final int CODE_PORT_UNREACHABLE = 3;
    public static final int CODE_FRAG_NEEDED = 4;

    private Icmp() {}

    public static int type(MemorySegment s, long o) { return Bytes.u8(s, o); }
    public static int code(MemorySegment s, long o) { return Bytes.u8(s, o + 1); }
    public static int checksum(MemorySegment s, long o) { return Bytes.u16(s, o + 2); }
    public static int id(MemorySegment s, long o) { return Bytes.u16(s, o + 4); }
    public static int seq(MemorySegment s, long o) { return Bytes.u16(s, o + 6); }

    /** Error types that quote an offending datagram (RFC 792; RFC 1122 3.2.2). */
    public static boolean isError(int type) {
        return type == DEST_UNREACHABLE || type == SOURCE_QUENCH || type == REDIRECT
                || type == TIME_EXCEEDED || type == PARAMETER_PROBLEM;
    }
}
