package io.flowstack.core.tcp;

import io.flowstack.core.socket.TcpListener;
import io.flowstack.core.socket.TcpSocketOptions;

/**
 * One core's replica of a listening socket: its port, the shared accept side and this core's
 * count of half-open connections (RFC 9293 LISTEN).
 *
 * <p>Owned by: one netisr (each core has its own replica of every listener).
 */
public final class TcpListenerState {
    final int port;
    final TcpListener listener;
    final int synBacklog;
    final TcpSocketOptions options;
    final io.flowstack.core.socket.TcpHandler handler; // null: blocking API (accept queue)
    int halfOpen;

    public TcpListenerState(int port, TcpListener listener, int synBacklog, TcpSocketOptions options) {
        this(port, listener, synBacklog, options, null);
    }

    public TcpListenerState(int port, TcpListener listener, int synBacklog, TcpSocketOptions options,
                            io.flowstack.core.socket.TcpHandler handler) {
        this.handler = handler;
        this.port = port;
        this.listener = listener;
        this.synBacklog = synBacklog;
        this.options = options;
    }
}
