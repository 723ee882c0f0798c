package io.flowstack.services;

import io.flowstack.services.AbstractTcpService;
import io.flowstack.core.FlowStack;
import io.flowstack.core.socket.StackException;
import io.flowstack.core.socket.TcpConnection;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * TCP echo (RFC 862, "TCP Based Echo Service"): everything a client sends is sent back, until
 * the client closes its side; then the service closes the connection after the last echoed byte.
 * Written on the public socket API, as an application would.
 *
 * <p>Owned by: the thread that creates it (lifecycle); the accept loop runs on the platform
 * thread {@code echo-PORT-accept}, each connection on its own virtual thread
 * {@code echo-PORT-N}, which reads and writes it.
 *
 * <p>A connection idle (nothing received) for {@link #DEFAULT_IDLE_TIMEOUT} is closed, and one
 * whose peer accepts no data for {@link #WRITE_TIMEOUT} is given up, so dead peers do not pin
 * threads.
 */
public final class TcpEchoService extends AbstractTcpService {
    /** Idle time after which a silent connection is closed. */
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofMinutes(5);
    /** How long one write may wait for the peer to open its window. */
    public static final Duration WRITE_TIMEOUT = Duration.ofSeconds(60);
    private static final int BUFFER_BYTES = 64 * 1024;

    private final Duration idleTimeout;

    /**
     * Echo on {@code port} with the default idle timeout ({@link #DEFAULT_IDLE_TIMEOUT}).
     *
     * @param stack the started stack to listen on
     * @param port the TCP port, 1..65535
     * @throws IllegalArgumentException if {@code port} is outside 1..65535
     * @throws StackException if the port is in use or the stack is closed
     */
    public TcpEchoService(FlowStack stack, int port) {
        this(stack, port, DEFAULT_IDLE_TIMEOUT);
    }

    /**
     * Echo on {@code port}.
     *
     * @param stack the started stack to listen on
     * @param port the TCP port, 1..65535
     * @param idleTimeout how long a connection may stay silent (nothing received) before it is
     *     closed; must be positive
     * @throws IllegalArgumentException if {@code idleTimeout} is null, zero or negative, or
     *     {@code port} is outside 1..65535
     * @throws io.flowstack.core.socket.StackException if the port is in use or the stack is closed
     */
    public TcpEchoService(FlowStack stack, int port, Duration idleTimeout) {
        checkTimeout(idleTimeout); // before listening: a bad argument leaves no listener behind
        super(stack, port, "echo");
        this.idleTimeout = idleTimeout;
        start();
    }

    @Override
    void serve(TcpConnection c) {
        setReadTimeout(c, idleTimeout);
        c.writeTimeout(WRITE_TIMEOUT.toNanos(), TimeUnit.NANOSECONDS);
        byte[] buf = new byte[BUFFER_BYTES];
        while (!closing()) {
            int n;
            try {
                n = c.read(buf, 0, buf.length);
            } catch (StackException e) {
                if (socketTimeout(e)) {
                    return; // idle: the finally of the caller closes
                }
                throw e;
            }
            if (n < 0) {
                break; // the client closed its side: close ours after the echoed data
            }
            c.write(buf, 0, n);
        }
        c.close();
    }
}
