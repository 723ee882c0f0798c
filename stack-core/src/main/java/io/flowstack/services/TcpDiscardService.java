package io.flowstack.services;

import io.flowstack.services.AbstractTcpService;
import io.flowstack.core.FlowStack;
import io.flowstack.core.socket.StackException;
import io.flowstack.core.socket.TcpConnection;
import java.time.Duration;
import java.util.concurrent.atomic.LongAdder;

/**
 * TCP discard (RFC 863, "TCP Based Discard Service"): everything a client sends is read and
 * thrown away, and counted ({@link #bytes()}); the service sends nothing and closes when the
 * client does. Written on the public socket API, as an application would.
 *
 * <p>Owned by: the thread that creates it (lifecycle); the accept loop runs on the platform
 * thread {@code discard-PORT-accept}, each connection on its own virtual thread
 * {@code discard-PORT-N}. {@link #bytes()} may be read from any thread.
 *
 * <p>A connection idle for {@link #DEFAULT_IDLE_TIMEOUT} is closed.
 */
public final class TcpDiscardService extends AbstractTcpService {
    /** Idle time after which a silent connection is closed. */
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofMinutes(5);
    private static final int BUFFER_BYTES = 64 * 1024;

    private final Duration idleTimeout;
    private final LongAdder bytes = new LongAdder();

    /**
     * Discard on {@code port} with the default idle timeout ({@link #DEFAULT_IDLE_TIMEOUT}).
     *
     * @param stack the started stack to listen on
     * @param port the TCP port, 1..65535
     * @throws IllegalArgumentException if {@code port} is outside 1..65535
     * @throws StackException if the port is in use or the stack is closed
     */
    public TcpDiscardService(FlowStack stack, int port) {
        this(stack, port, DEFAULT_IDLE_TIMEOUT);
    }

    /**
     * Discard on {@code port}.
     *
     * @param stack the started stack to listen on
     * @param port the TCP port, 1..65535
     * @param idleTimeout how long a connection may stay silent (nothing received) before it is
     *     closed; must be positive
     * @throws IllegalArgumentException if {@code idleTimeout} is null, zero or negative, or
     *     {@code port} is outside 1..65535
     * @throws io.flowstack.core.socket.StackException if the port is in use or the stack is closed
     */
    public TcpDiscardService(FlowStack stack, int port, Duration idleTimeout) {
        checkTimeout(idleTimeout); // before listening: a bad argument leaves no listener behind
        super(stack, port, "discard");
        this.idleTimeout = idleTimeout;
        start();
    }

    /**
     * Bytes received and discarded so far, over all connections; may be read from any thread.
     *
     * @return the byte count
     */
    public long bytes() {
        return bytes.sum();
    }

    @Override
    void serve(TcpConnection c) {
        setReadTimeout(c, idleTimeout);
        byte[] buf = new byte[BUFFER_BYTES];
        while (!closing()) {
            int n;
            try {
                n = c.read(buf, 0, buf.length);
            } catch (StackException e) {
                if (socketTimeout(e)) {
                    return;
                }
                throw e;
            }
            if (n < 0) {
                break;
            }
            bytes.add(n);
        }
        c.close();
    }
}
