package io.flowstack.core.socket;

import io.flowstack.core.netisr.SocketHost;
import io.flowstack.core.tcp.TcpAcceptor;
import io.flowstack.core.tcp.TcpStream;
import java.util.function.Consumer;
import io.flowstack.core.wire.Ipv4;
import java.lang.invoke.VarHandle;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.agrona.concurrent.OneToOneConcurrentArrayQueue;

/**
 * A listening TCP socket. The listen state is replicated on every core; a SYN is handled on the
 * core it hashes to, and the connection, once established, is queued on that core's accept
 * queue (an SPSC queue: producer = that core, consumer = the accepting thread). {@link #accept}
 * drains the per-core queues round-robin. One thread accepts at a time.
 */
public final class TcpListener implements AutoCloseable {
    private final SocketHost stack;
    /** TCP's side of the listener: established connections offered by each core's netisr. */
    private final TcpAcceptor acceptor = new TcpAcceptor() {
        @Override
        public boolean closed() {
            return TcpListener.this.closed();
        }

        @Override
        public boolean offer(int core, TcpStream s, int localAddr, int localPort, int remoteAddr, int remotePort) {
            return TcpListener.this.offer(core, new TcpConnection(s, localAddr, localPort, remoteAddr, remotePort));
        }
    };
    private final Consumer<TcpListener> unbind;
    private final int port;
    private final OneToOneConcurrentArrayQueue<TcpConnection>[] queues;
    private volatile Thread waiter;
    private volatile boolean closed;
    private int next;

    /**
     * Stack internal: made by {@code FlowStack.tcpListen}, which replicates the listen state to the
     * cores.
     *
     * @param stack the stack
     * @param port the TCP port
     * @param cores the number of cores, one accept queue each
     * @param backlog the bound of each core's accept queue (at least 2 is used)
     * @param unbind called by {@link #close()} to remove the listener from every core
     */
    @SuppressWarnings("unchecked")
    public TcpListener(SocketHost stack, int port, int cores, int backlog, Consumer<TcpListener> unbind) {
        this.unbind = unbind;
        this.stack = stack;
        this.port = port;
        this.queues = new OneToOneConcurrentArrayQueue[cores];
        int perCore = Math.max(2, backlog);
        for (int i = 0; i < cores; i++) {
            queues[i] = new OneToOneConcurrentArrayQueue<>(perCore);
        }
    }

    /**
     * The TCP port the listener listens on.
     *
     * @return the port
     */
    public int port() {
        return port;
    }

    /**
     * The listening end: the stack's address (interface 0's) and {@link #port()}, like
     * {@code ServerSocket.getLocalSocketAddress}. The listener takes connections to every address
     * of the stack (a wildcard bind); each accepted connection's
     * {@link TcpConnection#localSocketAddress()} is the address its peer connected to.
     *
     * @return a new socket address
     */
    public InetSocketAddress localSocketAddress() {
        return Ipv4.toSocketAddress(stack.config().address, port);
    }

    /**
     * Whether the listener is closed (any thread).
     *
     * @return true once {@link #close()} has been called
     */
    public boolean closed() {
        return closed;
    }

    /**
     * Stack internal: the accept side TCP hands this listener's established connections to, on
     * every core (its type is not exported: only the stack can offer connections).
     *
     * @return the acceptor every core's listener replica uses
     */
    public TcpAcceptor acceptor() {
        return acceptor;
    }

    /**
     * Netisr of core {@code core}: queues an established connection; false if the queue is full.
     *
     * @param core the calling netisr's core
     * @param c the established connection
     * @return false if the listener is closed or the queue is full (the caller resets the
     *     connection)
     */
    private boolean offer(int core, TcpConnection c) {
        stack.netisr(core).checkOwner(); // queues[core] is SPSC: its one producer is netisr-core
        if (closed || !queues[core].offer(c)) {
            return false;
        }
        VarHandle.fullFence();
        Thread w = waiter;
        if (w != null) {
            LockSupport.unpark(w);
        }
        return true;
    }

    /**
     * Waits for the next connection (blocking).
     *
     * @return the connection
     * @throws StackException if the listener or the stack is closed
     */
    public TcpConnection accept() {
        TcpConnection c = accept(Long.MAX_VALUE, TimeUnit.NANOSECONDS);
        if (c == null) {
            throw new StackException("listener on port " + port + " is closed");
        }
        return c;
    }

    /**
     * Waits up to {@code timeout} for a connection.
     *
     * @param timeout the longest wait; {@link Long#MAX_VALUE} waits forever
     * @param unit the unit of {@code timeout}
     * @return the connection, or null on timeout
     * @throws StackException if the listener or the stack is closed
     */
    public TcpConnection accept(long timeout, TimeUnit unit) {
        long deadline = timeout == Long.MAX_VALUE ? Long.MAX_VALUE : System.nanoTime() + unit.toNanos(timeout);
        while (true) {
            if (closed) {
                throw new StackException("listener on port " + port + " is closed");
            }
            if (!stack.running()) {
                throw new StackException("the stack is closed");
            }
            TcpConnection c = poll();
            if (c != null) {
                return c;
            }
            long left = deadline == Long.MAX_VALUE ? 100_000_000L : deadline - System.nanoTime();
            if (left <= 0) {
                return null;
            }
            waiter = Thread.currentThread();
            VarHandle.fullFence();
            c = poll();
            if (c != null) {
                waiter = null;
                return c;
            }
            LockSupport.parkNanos(this, Math.min(left, 100_000_000L));
            waiter = null;
        }
    }

    private TcpConnection poll() {
        for (int i = 0; i < queues.length; i++) {
            int k = (next + i) % queues.length;
            TcpConnection c = queues[k].poll();
            if (c != null) {
                next = (k + 1) % queues.length;
                return c;
            }
        }
        return null;
    }

    /** Stops listening on every core and resets connections that were never accepted. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        unbind.accept(this);
        Thread w = waiter;
        if (w != null) {
            LockSupport.unpark(w);
        }
        for (OneToOneConcurrentArrayQueue<TcpConnection> q : queues) {
            TcpConnection c;
            while ((c = q.poll()) != null) {
                c.abort();
            }
        }
    }
}
