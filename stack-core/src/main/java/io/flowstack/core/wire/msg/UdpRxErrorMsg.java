package io.flowstack.core.wire.msg;

import io.flowstack.core.wire.Bytes;
import java.lang.foreign.MemorySegment;

/**
 * Socket message, netisr to application: an ICMP error (RFC 792; RFC 1122 4.1.3.3) about a
 * datagram the UDP socket sent to {@code dst:dstPort}, queued in order with its datagrams.
 *
 * <pre>
 * [dst:int][dstPort:u16][type:u8][code:u8]
 * </pre>
 *
 * Stateless.
 */
public final class UdpRxErrorMsg {
    public static final int TYPE = 2;
    /** Destination IPv4 address of the datagram the error is about. */
    public static final int DST = 0;
    public static final int DST_PORT = 4;
    /** ICMP type. */
    public static final int ICMP_TYPE = 6;
    /** ICMP code. */
    public static final int ICMP_CODE = 7;
    public static final int LENGTH = 8;

    private UdpRxErrorMsg() {}

    public static void write(MemorySegment m, long index, int dst, int dstPort, int type, int code) {
        Bytes.i32(m, index + DST, dst);
        Bytes.u16(m, index + DST_PORT, dstPort);
        Bytes.u8(m, index + ICMP_TYPE, type);
        Bytes.u8(m, index + ICMP_CODE, code);
    }

    public static int dst(MemorySegment m, long index) {
        return Bytes.i32(m, index + DST);
    }

    public static int dstPort(MemorySegment m, long index) {
        return Bytes.u16(m, index + DST_PORT);
    }

    public static int icmpType(MemorySegment m, long index) {
        return Bytes.u8(m, index + ICMP_TYPE);
    }

    public static int icmpCode(MemorySegment m, long index) {
        return Bytes.u8(m, index + ICMP_CODE);
    }
}
