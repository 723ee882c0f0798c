package io.flowstack.services;

import io.flowstack.core.FlowStack;
import io.flowstack.core.socket.StackException;
import io.flowstack.core.socket.TcpChannel;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;

/**
 * TCP discard (RFC 863, "TCP Based Discard Service"): everything a client sends is consumed in
 * place in the receive buffer and thrown away, and counted ({@link #bytes()}); the service sends
 * nothing and closes when the client does. Written on the public callback API
 * ({@link io.flowstack.core.socket.TcpHandler}), as an application would.
 *
 * <p>Owned by: the thread that creates it (lifecycle); each connection by the netisr that owns
 * it, where every callback runs. The byte count is kept per core (a padded slot each, written by
 * that core's netisr with a release store); {@link #bytes()} sums the slots from any thread.
 *
 * <p>A connection idle for {@link #DEFAULT_IDLE_TIMEOUT} is closed.
 */
public final class TcpDiscardService extends AbstractTcpService {
    /** Idle time after which a silent connection is closed. */
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofMinutes(5);
    private static final int STRIDE = 16; // 128 bytes between cores' slots
    private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);

    private final long idleNanos;
    private final long[] bytes;

    /** A discard connection (no state beyond the skeleton's). */
    private static final class Discard extends Conn {
        Discard(TcpChannel ch) {
            super(ch);
        }
    }

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
        this.idleNanos = idleTimeout.toNanos(); // set before listening: callbacks start at once
        this.bytes = new long[(stack.cores() + 1) * STRIDE];
        super(stack, port, "discard", idleTimeout.toNanos() / 8);
    }

    /**
     * Bytes received and discarded so far, over all connections; may be read from any thread.
     *
     * @return the byte count
     */
    public long bytes() {
        long sum = 0;
        for (int i = 0; i * STRIDE < bytes.length - STRIDE; i++) {
            sum += (long) LONGS.getAcquire(bytes, i * STRIDE);
        }
        return sum;
    }

    @Override
    Conn open(TcpChannel ch, Core c) {
        Discard d = new Discard(ch);
        d.deadline = c.now + idleNanos;
        return d;
    }

    @Override
    int data(Conn s, Core c, MemorySegment d, long off, int len) {
        int slot = s.core * STRIDE;
        LONGS.setRelease(bytes, slot, bytes[slot] + len);
        s.deadline = c.now + idleNanos;
        return len;
    }

    @Override
    void peerClosed(Conn s, Core c) {
        finish(s);
    }

    @Override
    void expired(Conn s, Core c) {
        finish(s);
    }
}
