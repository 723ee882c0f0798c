package io.flowstack.services;

import io.flowstack.core.FlowStack;
import io.flowstack.core.socket.StackException;
import io.flowstack.core.socket.UdpPeer;
import io.flowstack.core.socket.UdpSocket;
import java.util.concurrent.TimeUnit;

/**
 * UDP echo (RFC 862 section "UDP Based Echo Service"): every datagram received on the port is
 * sent back to its sender. Written on the public socket API, as an application would.
 *
 * <p>Owned by: its own application thread ({@code udp-echo-PORT}).
 */
public final class UdpEchoService implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("io.flowstack.services");
    private final UdpSocket socket;
    private final Thread thread;
    private volatile boolean running = true;
    private volatile long echoed;

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
                int n = socket.receive(buf, 0, buf.length, peer, 100, TimeUnit.MILLISECONDS);
                if (n >= 0 && socket.send(buf, 0, n, peer.address, peer.port)) {
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

    public int port() {
        return socket.port();
    }

    public long echoed() {
        return echoed;
    }

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
