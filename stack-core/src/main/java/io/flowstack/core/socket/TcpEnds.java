package io.flowstack.core.socket;

import io.flowstack.core.tcp.TcpStream;
import io.flowstack.core.wire.Ipv4;
import java.net.InetSocketAddress;

/**
 * The two ends of a TCP connection and the core that owns it, as both APIs see them
 * ({@link TcpConnection} for threads, {@link TcpChannel} for callbacks).
 *
 * <p>Immutable but for the owner, which the stream tracks (it changes when the connection's
 * bucket moves); any thread may read it.
 */
abstract class TcpEnds {
    /** The connection's shared rings and flags. */
    final TcpStream s;
    final int localAddr;
    final int localPort;
    final int remoteAddr;
    final int remotePort;

    TcpEnds(TcpStream s, int localAddr, int localPort, int remoteAddr, int remotePort) {
        this.s = s;
        this.localAddr = localAddr;
        this.localPort = localPort;
        this.remoteAddr = remoteAddr;
        this.remotePort = remotePort;
    }

    /**
     * Our TCP port.
     *
     * @return the port
     */
    public int localPort() { return localPort; }

    /**
     * The peer's IPv4 address.
     *
     * @return the address, as a big-endian int
     */
    public int remoteAddress() { return remoteAddr; }

    /**
     * The peer's TCP port.
     *
     * @return the port
     */
    public int remotePort() { return remotePort; }

    /**
     * The core (netisr) that owns the connection now.
     *
     * @return the core number; it changes if the connection's bucket moves
     */
    public int core() { return s.owner().core(); }

    /**
     * The local end (the stack's address and the connection's port), like
     * {@code Socket.getLocalSocketAddress}. Allocates: for set-up and logging, not per segment.
     *
     * @return a new socket address
     */
    public InetSocketAddress localSocketAddress() {
        return Ipv4.toSocketAddress(localAddr, localPort);
    }

    /**
     * The peer, like {@code Socket.getRemoteSocketAddress}; {@link #remoteAddress()} and
     * {@link #remotePort()} are the allocation-free int forms. Allocates: for set-up and logging.
     *
     * @return a new socket address
     */
    public InetSocketAddress remoteSocketAddress() {
        return Ipv4.toSocketAddress(remoteAddr, remotePort);
    }
}
