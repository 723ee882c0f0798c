package io.flowstack.core.wire.msg;

import io.flowstack.core.wire.Bytes;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Socket message, netisr to application: an ICMP error (RFC 792) that quotes one of the echo
 * socket's requests, with the netisr's time of reception.
 *
 * <pre>
 * [from:int][dst:int][type:u8][code:u8][seq:u16][reserved:int, 0][receivedAt:long, native byte order]
 * </pre>
 *
 * Stateless.
 */
public final class EchoErrorMsg {
    public static final int TYPE = 2;
    /** The error's sender (e.g. a router). */
    public static final int FROM = 0;
    /** Destination of the quoted request. */
    public static final int DST = 4;
    /** ICMP type. */
    public static final int ICMP_TYPE = 8;
    /** ICMP code. */
    public static final int ICMP_CODE = 9;
    /** Sequence number of the quoted request. */
    public static final int SEQ = 10;
    /** Zero: keeps the time 8-byte aligned in the message. */
    public static final int RESERVED = 12;
    /** Netisr clock at reception, nanoseconds. */
    public static final int RECEIVED_AT = 16;
    public static final int LENGTH = 24;

    private EchoErrorMsg() {}

    public static void write(MemorySegment m, long index, int from, int dst, int type, int code, int seq,
                             long receivedAt) {
        Bytes.i32(m, index + FROM, from);
        Bytes.i32(m, index + DST, dst);
        Bytes.u8(m, index + ICMP_TYPE, type);
        Bytes.u8(m, index + ICMP_CODE, code);
        Bytes.u16(m, index + SEQ, seq);
        Bytes.i32(m, index + RESERVED, 0);
        m.set(ValueLayout.JAVA_LONG_UNALIGNED, index + RECEIVED_AT, receivedAt);
    }

    public static int from(MemorySegment m, long index) {
        return Bytes.i32(m, index + FROM);
    }

    public static int dst(MemorySegment m, long index) {
        return Bytes.i32(m, index + DST);
    }

    public static int icmpType(MemorySegment m, long index) {
        return Bytes.u8(m, index + ICMP_TYPE);
    }

    public static int icmpCode(MemorySegment m, long index) {
        return Bytes.u8(m, index + ICMP_CODE);
    }

    public static int seq(MemorySegment m, long index) {
        return Bytes.u16(m, index + SEQ);
    }

    public static long receivedAt(MemorySegment m, long index) {
        return m.get(ValueLayout.JAVA_LONG_UNALIGNED, index + RECEIVED_AT);
    }
}
