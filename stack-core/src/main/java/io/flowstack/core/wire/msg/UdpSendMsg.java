package io.flowstack.core.wire.msg;

import io.flowstack.core.wire.Bytes;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Application message: a UDP datagram to send (RFC 768), queued by any application thread on
 * the application ring of the core its 4-tuple hashes to, which builds and transmits it.
 *
 * <pre>
 * [srcPort:u16][dstPort:u16][dst:int][src:int][payload]
 * </pre>
 *
 * {@code src} is the source address, one of the stack's; 0 lets the core choose the address of
 * the interface the route to {@code dst} leaves by (RFC 1122 3.3.4.3).
 *
 * Stateless.
 */
public final class UdpSendMsg {
    public static final int TYPE = 10;
    public static final int SRC_PORT = 0;
    public static final int DST_PORT = 2;
    /** Destination IPv4 address. */
    public static final int DST = 4;
    /** Source IPv4 address, or 0 (chosen by route). */
    public static final int SRC = 8;
    public static final int PAYLOAD = 12;
    /** Bytes before the payload. */
    public static final int HEADER_LEN = PAYLOAD;

    private UdpSendMsg() {}

    /** Length of the message for {@code payload} bytes of data. */
    public static int length(int payload) {
        return HEADER_LEN + payload;
    }

    /** Payload bytes in a message of {@code length} bytes. */
    public static int payloadLength(int length) {
        return length - HEADER_LEN;
    }

    /** Writes the message: the fields, then {@code buf[off, off + len)} as the payload. */
    public static void write(MemorySegment m, long index, int src, int srcPort, int dstPort, int dst,
                             byte[] buf, int off, int len) {
        Bytes.u16(m, index + SRC_PORT, srcPort);
        Bytes.u16(m, index + DST_PORT, dstPort);
        Bytes.i32(m, index + DST, dst);
        Bytes.i32(m, index + SRC, src);
        MemorySegment.copy(buf, off, m, ValueLayout.JAVA_BYTE, index + PAYLOAD, len);
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

    public static int src(MemorySegment m, long index) {
        return Bytes.i32(m, index + SRC);
    }
}
