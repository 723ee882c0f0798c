package io.flowstack.services;

import io.flowstack.core.FlowStack;
import io.flowstack.core.socket.StackException;
import io.flowstack.core.socket.TcpChannel;
import java.lang.foreign.MemorySegment;
import java.time.Duration;

/**
 * TCP echo (RFC 862, "TCP Based Echo Service"): everything a client sends is sent back, until
 * the client closes its side; then the service closes the connection after the last echoed byte.
 * Written on the public callback API ({@link io.flowstack.core.socket.TcpHandler}), as an
 * application would.
 *
 * <p>Echoing is a write of the received bytes straight from the receive buffer into the send
 * buffer: what the send buffer cannot take stays unconsumed, so the receive window closes and
 * the client waits (back-pressure), and is offered again once send space frees.
 *
 * <p>Owned by: the thread that creates it (lifecycle); each connection by the netisr that owns
 * it, where every callback runs (no thread per connection).
 *
 * <p>A connection idle (nothing received) for {@link #DEFAULT_IDLE_TIMEOUT} is closed, and one
 * whose peer accepts no data for {@link #WRITE_TIMEOUT} (echoed bytes wait, nothing is taken) is
 * reset, so dead peers do not pin buffers.
 */
public final class TcpEchoService extends AbstractTcpService {
    /** Idle time after which a silent connection is closed. */
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofMinutes(5);
    /** How long echoed bytes may wait for the peer to take some. */
    public static final Duration WRITE_TIMEOUT = Duration.ofSeconds(60);

    private final long idleNanos;
    private final long writeNanos;

    /** An echo connection: whether echoed bytes are waiting for send space. */
    private static final class Echo extends Conn {
        boolean blocked;

        Echo(TcpChannel ch) {
            super(ch);
        }
    }

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
        this(stack, port, idleTimeout, WRITE_TIMEOUT);
    }

    /** Echo with a write timeout other than {@link #WRITE_TIMEOUT} (tests). */
    TcpEchoService(FlowStack stack, int port, Duration idleTimeout, Duration writeTimeout) {
        checkTimeout(idleTimeout); // before listening: a bad argument leaves no listener behind
        checkTimeout(writeTimeout);
        this.idleNanos = idleTimeout.toNanos(); // set before listening: callbacks start at once
        this.writeNanos = writeTimeout.toNanos();
        super(stack, port, "echo", Math.min(idleTimeout.toNanos(), writeTimeout.toNanos()) / 8);
    }

    @Override
    Conn open(TcpChannel ch, Core c) {
        Echo e = new Echo(ch);
        e.deadline = c.now + idleNanos;
        return e;
    }

    @Override
    int data(Conn s, Core c, MemorySegment d, long off, int len) {
        Echo e = (Echo) s;
        int n = e.ch.write(d, off, len); // what does not fit stays in the receive buffer
        if (n == len) {
            e.blocked = false;
            e.deadline = c.now + idleNanos;
        } else if (n > 0 || !e.blocked) {
            e.blocked = true; // the write timeout runs from the last byte the peer made room for
            e.deadline = c.now + writeNanos;
        }
        return n;
    }

    @Override
    void writable(Conn s, Core c) {
        // the unconsumed bytes are offered again by onData right after
    }

    @Override
    void peerClosed(Conn s, Core c) {
        finish(s); // every byte before the FIN was echoed (consumed): FIN after them
    }

    @Override
    void expired(Conn s, Core c) {
        if (((Echo) s).blocked) {
            kill(s); // the peer took nothing for WRITE_TIMEOUT
        } else {
            finish(s); // idle
        }
    }
}
