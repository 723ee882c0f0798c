package io.flowstack.core.wire.msg;

import io.flowstack.core.wire.Bytes;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Socket message, netisr to application: a UDP datagram received for a bound port (RFC 768),
 * on that core's receive ring of the UDP socket.
 *
 * <pre>
 * [src:int][srcPort:u16][dstPort:u16][dst:int][payload]
 * </pre>
 *
 * {@code dst} is the address the datagram was sent to (one of the stack's: a reply comes from it).
 *
 * Stateless.
 */
public final class UdpRxDatagramMsg {
    public static final int TYPE = 1;
    /** Source IPv4 address. */
    public static final int SRC = 0;
    public static final int SRC_PORT = 4;
    public static final int DST_PORT = 6;
    /** Destination IPv4 address (the local address the datagram was sent to). */
    public static final int DST = 8;
    public static final int PAYLOAD = 12;
    /** Bytes before the payload. */
    public static final int HEADER_LEN = PAYLOAD;

    private UdpRxDatagramMsg() {}

    /** Length of the message for {@code payload} bytes of data. */
    public static int length(int payload) {
        return HEADER_LEN + payload;
    }

    /** Payload bytes in a message of {@code length} bytes. */
    public static int payloadLength(int length) {
        return length - HEADER_LEN;
    }

    /** Writes the message: the fields, then {@code s[off, off + len)} as the payload. */
    public static void write(MemorySegment m, long index, int src, int srcPort, int dst, int dstPort,
                             MemorySegment s, long off, int len) {
        Bytes.i32(m, index + SRC, src);
        Bytes.u16(m, index + SRC_PORT, srcPort);
        Bytes.u16(m, index + DST_PORT, dstPort);
        Bytes.i32(m, index + DST, dst);
        MemorySegment.copy(s, off, m, index + PAYLOAD, len);
    }

    public static int src(MemorySegment m, long index) {
        return Bytes.i32(m, index + SRC);
    }

    public static int srcPort(MemorySegment m, long index) {
        return Bytes.u16(m, index + SRC_PORT);
    }

    public static int dstPort(MemorySegment m, long index) {
        return Bytes.u16(m, index + DST_PORT);
    }

    public static int dst(MemorySegment m, long index) {
        return Bytes.i32(m, index + DST);
    }

    /** Copies up to {@code max} payload bytes of a message of {@code length} bytes to {@code dst}. */
    public static void readPayload(MemorySegment m, long index, int length, byte[] dst, int dstOff, int max) {
        MemorySegment.copy(m, ValueLayout.JAVA_BYTE, index + PAYLOAD, dst, dstOff,
                Math.min(payloadLength(length), max));
    }
}
