package io.flowstack.services;

import io.flowstack.core.FlowStack;
import io.flowstack.core.socket.StackException;
import io.flowstack.core.socket.UdpIcmpError;
import io.flowstack.core.socket.UdpPeer;
import io.flowstack.core.socket.UdpSocket;
import java.util.concurrent.TimeUnit;

/**
 * UDP echo (RFC 862 section "UDP Based Echo Service"): every datagram received on the port is
 * sent back to its sender, from the address it was sent to (RFC 1122 4.1.3.5; {@link UdpSocket#reply}).
 * Written on the public socket API, as an application would.
 *
 * <p>Owned by: its own application thread ({@code udp-echo-PORT}).
 */
public final class UdpEchoService implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("io.flowstack.services");
    private final UdpSocket socket;
    private final Thread thread;
    private volatile boolean running = true;
    private volatile long echoed;
    private volatile long icmpErrors;

    /**
     * Binds UDP {@code port} on {@code stack} and starts the echo thread.
     *
     * @param stack the started stack to bind on
     * @param port the UDP port, or 0 for an ephemeral port (see {@link #port()})
     * @throws IllegalArgumentException if {@code port} is outside 0..65535
     * @throws StackException if the port is already bound or the stack is closed
     */
    public UdpEchoService(FlowStack stack, int port) {
        this.socket = stack.udpBind(port);
        this.thread = new Thread(this::run, "udp-echo-" + port);
        this.thread.setDaemon(true);
        this.thread.start();
    }

    private void run() {
        byte[] buf = new byte[UdpSocket.MAX_PAYLOAD];
        UdpPeer peer = new UdpPeer();
        long count = 0;
        try {
            while (running) {
                int n;
                try {
                    n = socket.receive(buf, 0, buf.length, peer, 100, TimeUnit.MILLISECONDS);
                } catch (UdpIcmpError e) {
                    // a client that went away (port unreachable for an echo): a server serves the
                    // others, as an unconnected Linux socket without IP_RECVERR never sees it
                    icmpErrors = icmpErrors + 1; // this thread alone writes it
                    continue;
                }
                if (n >= 0 && socket.reply(buf, 0, n, peer)) {
                    echoed = ++count;
                }
            }
        } catch (StackException e) {
            if (running) {
                LOG.log(System.Logger.Level.WARNING,
                        "flowstack: udp-echo on port " + socket.port() + " stopped: " + e.getMessage());
            }
        }
    }

    /**
     * The UDP port the service is bound to.
     *
     * @return the bound port (the ephemeral one chosen if 0 was asked for)
     */
    public int port() {
        return socket.port();
    }

    /**
     * Datagrams echoed so far; may be read from any thread.
     *
     * @return the number of datagrams sent back since the service started
     */
    public long echoed() {
        return echoed;
    }

    /**
     * ICMP errors the socket reported (RFC 1122 4.1.3.3) and the service passed over.
     *
     * @return the number since the service started
     */
    public long icmpErrors() {
        return icmpErrors;
    }

    /**
     * Stops the echo thread (waiting up to 2 s for it) and closes the socket. Call from the
     * thread that created the service.
     */
    @Override
    public void close() {
        running = false;
        try {
            thread.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        socket.close();
    }
}
