package io.flowstack.core.tcp;

/**
 * The accept side of a listener of the blocking API, as TCP hands it connections (RFC 9293
 * 3.10.7.4: SYN-RECEIVED to ESTABLISHED on a passive open). Shared by every core's replica of
 * the listener; implemented by the socket layer.
 *
 * <p>Owned by: the listener's application (any thread calls {@link #offer}; it must not block).
 */
public interface TcpAcceptor {
    /** The application closed the listener: new SYNs are refused. */
    boolean closed();

    /**
     * Queues an established connection for accept; {@code localAddr} is the stack's address
     * the peer connected to.
     *
     * @return false if the accept queue of {@code core} is full (the connection is reset)
     */
    boolean offer(int core, TcpStream stream, int localAddr, int localPort, int remoteAddr, int remotePort);
}
