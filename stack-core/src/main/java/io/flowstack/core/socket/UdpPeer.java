package io.flowstack.core.socket;

import io.flowstack.core.wire.Ipv4;
import java.net.InetSocketAddress;

/**
 * The remote end of a received datagram, filled in by {@link UdpSocket#receive} (a reusable
 * holder, so receiving allocates nothing). Owned by: the application thread that passes it.
 */
public final class UdpPeer {
    /** An empty holder, filled by each receive call it is given to (reuse it: no allocation per datagram). */
    public UdpPeer() {}

    /** The sender's IPv4 address, as a big-endian int. */
    public int address;
    /** The sender's UDP port. */
    public int port;

    /**
     * The sender as a socket address (a new one each call: {@link #address} and {@link #port}
     * are the allocation-free form that receive loops use).
     *
     * @return a new socket address
     */
    public InetSocketAddress socketAddress() {
        return Ipv4.toSocketAddress(address, port);
    }

    @Override
    public String toString() {
        return Ipv4.toString(address) + ":" + port;
    }
}
