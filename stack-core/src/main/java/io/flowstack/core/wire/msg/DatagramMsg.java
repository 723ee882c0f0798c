package io.flowstack.core.wire.msg;

import io.flowstack.core.wire.Ethernet;

/**
 * Inter-core message: an IPv4 datagram reassembled from fragments (RFC 791 3.2) on the core
 * that owns its (src, dst) pair, sent to the core its 4-tuple hashes to (DESIGN.md).
 *
 * <pre>
 * [Ethernet header space (14), contents unused][IPv4 datagram (total length)]
 * </pre>
 *
 * The header space keeps the datagram at the offset it has in an {@link Ipv4FrameMsg}, so both
 * are held and dispatched alike. Stateless.
 */
public final class DatagramMsg {
    public static final int TYPE = 2;
    /** Unused bytes where a frame has its Ethernet header. */
    public static final int ETHERNET = 0;
    /** The IPv4 header of the reassembled datagram. */
    public static final int IP = Ethernet.HEADER_LEN;

    private DatagramMsg() {}

    /** Length of the message for a datagram of {@code ipLength} bytes. */
    public static int length(int ipLength) {
        return IP + ipLength;
    }

    /** Length of the IPv4 datagram in a message of {@code length} bytes. */
    public static int ipLength(int length) {
        return length - IP;
    }
}
