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
     * The stack's address the datagram was sent to (big-endian int): a socket takes datagrams to
     * every address of the stack, and a reply sent from this one ({@link UdpSocket#reply}) reaches
     * the sender from the address it asked (RFC 1122 4.1.3.5). For a broadcast datagram, the
     * address of the interface the route to the sender leaves by.
     */
    public int localAddress;

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
