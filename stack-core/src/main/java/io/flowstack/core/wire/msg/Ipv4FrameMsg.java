package io.flowstack.core.wire.msg;

import io.flowstack.core.wire.Ethernet;

/**
 * Inter-core message: a validated IPv4 frame that another core owns, as read from a NIC queue
 * (Ethernet header included), copied whole into the ring.
 *
 * <pre>
 * [Ethernet header (14)][IPv4 datagram (total length)]
 * </pre>
 *
 * The frame's IPv4 header was validated by the core that read it (DragonFly's ip_demux); the
 * receiver trusts it. Stateless.
 */
public final class Ipv4FrameMsg {
    public static final int TYPE = 1;
    /**
     * The same message for a frame whose transport checksum the NIC vouched for
     * ({@code FrameBatch.RX_CSUM_VALID}): the type carries the flag across cores and holds.
     */
    public static final int TYPE_CSUM_VALID = 9;
    /** The Ethernet header (its destination tells a link broadcast). */
    public static final int ETHERNET = 0;
    /** The IPv4 header. */
    public static final int IP = Ethernet.HEADER_LEN;

    private Ipv4FrameMsg() {}

    /** Length of the message for a datagram of {@code ipLength} bytes. */
    public static int length(int ipLength) {
        return IP + ipLength;
    }

    /** Length of the IPv4 datagram in a message of {@code length} bytes. */
    public static int ipLength(int length) {
        return length - IP;
    }
}
