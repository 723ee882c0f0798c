package io.flowstack.core.tcp;

import io.flowstack.core.config.TcpSocketOptions;

/**
 * One core's replica of a listening socket: its port, the shared accept side and this core's
 * count of half-open connections (RFC 9293 LISTEN).
 *
 * <p>Owned by: one netisr (each core has its own replica of every listener).
 */
public final class TcpListenerState {
    final int port;
    final TcpAcceptor acceptor;
    final int synBacklog;
    final TcpSocketOptions options;
    final TcpUpcalls.Binder binder; // null: blocking API (accept queue)
    int halfOpen;
    /** When this core last answered a SYN with a cookie (its queue overflowed); long ago at first. */
    long overflowedAt = Long.MIN_VALUE / 2;

    /**
     * @param acceptor the accept side (blocking API; also tells whether the listener closed)
     * @param binder the upcalls of each accepted connection (callback API), or null for the
     *     blocking API's accept queue
     */
    public TcpListenerState(int port, TcpAcceptor acceptor, int synBacklog, TcpSocketOptions options,
                            TcpUpcalls.Binder binder) {
        this.port = port;
        this.acceptor = acceptor;
        this.synBacklog = synBacklog;
        this.options = options;
        this.binder = binder;
    }
}
