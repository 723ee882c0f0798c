package io.flowstack.core.socket;

import io.flowstack.core.wire.Ipv4;

/**
 * The remote end of a received datagram, filled in by {@link UdpSocket#receive} (a reusable
 * holder, so receiving allocates nothing). Owned by: the application thread that passes it.
 */
public final class UdpPeer {
    /** The sender's IPv4 address, as a big-endian int. */
    public int address;
    /** The sender's UDP port. */
    public int port;

    @Override
    public String toString() {
        return Ipv4.toString(address) + ":" + port;
    }
}
