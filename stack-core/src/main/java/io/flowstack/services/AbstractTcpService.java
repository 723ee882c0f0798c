package io.flowstack.services;

import io.flowstack.core.FlowStack;
import io.flowstack.core.config.TcpSocketOptions;
import io.flowstack.core.socket.StackException;
import io.flowstack.core.socket.TcpConnection;
import io.flowstack.core.socket.TcpListener;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The skeleton shared by the TCP services: a listener, an accept loop on its own platform thread
 * ({@code KIND-PORT-accept}) and one virtual thread per connection ({@code KIND-PORT-N}). Written
 * on the public socket API only, as an application would write it.
 *
 * <p>Owned by: the thread that creates the service (lifecycle: construction and
 * {@link #close()}); the listener by the accept thread; each connection by its virtual thread.
 *
 * <p>Errors on one connection end that connection only. A reset, a timeout or a close by the peer
 * is normal and silent; anything else is logged as one {@code WARNING} line on the
 * {@link System.Logger} {@code io.flowstack.services}.
 */
abstract class AbstractTcpService implements AutoCloseable {
    /** Per-core bound of the listener's accept queue. */
    static final int BACKLOG = 128;
    /** How long {@link #close()} waits for connections to finish gracefully before resetting them. */
    private static final long CLOSE_GRACE_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final System.Logger LOG = System.getLogger("io.flowstack.services");

    private final String kind;
    private final int port;
    private final TcpListener listener;
    private final ThreadFactory workers;
    private final Thread acceptor;
    private final Set<TcpConnection> open = ConcurrentHashMap.newKeySet();
    private final AtomicLong accepted = new AtomicLong();
    private volatile boolean closing;

    /**
     * Listens on {@code port}. The subclass calls {@link #start()} at the end of its constructor,
     * once its own fields are set.
     *
     * @throws StackException if the port is in use or the stack is closed
     */
    AbstractTcpService(FlowStack stack, int port, String kind) {
        this(stack, port, kind, TcpSocketOptions.defaults(stack.config()));
    }

    /**
     * Listens on {@code port} with {@code options} for every accepted connection.
     *
     * @throws StackException if the port is in use or the stack is closed
     */
    AbstractTcpService(FlowStack stack, int port, String kind, TcpSocketOptions options) {
        this.kind = kind;
        this.listener = stack.tcpListen(port, BACKLOG, options);
        this.port = listener.port();
        this.workers = Thread.ofVirtual().name(kind + "-" + port + "-", 0).factory();
        this.acceptor = Thread.ofPlatform().daemon().name(kind + "-" + port + "-accept").unstarted(this::acceptLoop);
    }

    /** Starts the accept loop. */
    final void start() {
        acceptor.start();
    }

    /** Serves one connection on its own virtual thread; returning or throwing ends (closes) it. */
    abstract void serve(TcpConnection c);

    /**
     * The TCP port the service listens on.
     *
     * @return the port
     */
    public int port() {
        return port;
    }

    /**
     * Connections accepted so far; may be read from any thread.
     *
     * @return the count since the service started
     */
    public long accepted() {
        return accepted.get();
    }

    /**
     * Connections open right now; may be read from any thread.
     *
     * @return the number of connections not yet ended
     */
    public int openConnections() {
        return open.size();
    }

    /** True once {@link #close()} has begun: connection loops stop at their next step. */
    final boolean closing() {
        return closing;
    }

    /** Starts {@code task} on a new virtual thread of this service (a second thread for one connection). */
    final Thread spawn(Runnable task) {
        Thread t = workers.newThread(task);
        t.start();
        return t;
    }

    private void acceptLoop() {
        while (!closing) {
            TcpConnection c;
            try {
                c = listener.accept(1, TimeUnit.SECONDS);
            } catch (StackException e) {
                if (!closing) {
                    log("stopped accepting: " + e.getMessage());
                }
                return;
            }
            if (c == null) {
                continue;
            }
            if (closing) {
                c.abort();
                return;
            }
            accepted.incrementAndGet();
            open.add(c);
            try {
                spawn(() -> run(c));
            } catch (RuntimeException | OutOfMemoryError e) {
                open.remove(c);
                c.abort();
                log(c + ": could not start a thread: " + e);
            }
        }
    }

    private void run(TcpConnection c) {
        try {
            serve(c);
        } catch (StackException e) {
            if (!closing && !normal(e)) {
                log(c + ": " + e.getMessage());
            }
        } catch (RuntimeException | Error e) {
            log(c + ": " + e);
        } finally {
            try {
                c.close(); // idempotent; resets instead if input was left unread
            } catch (RuntimeException e) {
                if (!closing) {
                    log(c + ": close: " + e.getMessage());
                }
            }
            open.remove(c);
        }
    }

    /** A failure that the peer or the network causes, not a bug: ends the connection silently. */
    static boolean normal(StackException e) {
        String m = e.getMessage();
        return m != null && (m.contains("reset") || m.contains("timed out") || m.contains("closed")
                || m.contains("aborted") || m.contains("shut down") || m.contains("refused"));
    }

    /** Whether {@code e} is a read or write timeout of the socket API (not a TCP retransmission timeout). */
    static boolean socketTimeout(StackException e) {
        String m = e.getMessage();
        return m != null && (m.startsWith("read from ") || m.startsWith("write to ")) && m.endsWith(": timed out");
    }

    /** A timeout must be positive. */
    static void checkTimeout(Duration d) {
        if (d == null || d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException("idle timeout must be positive, got " + d);
        }
    }

    static void setReadTimeout(TcpConnection c, Duration d) {
        c.readTimeout(Math.max(1, d.toNanos()), TimeUnit.NANOSECONDS);
    }

    final void log(String message) {
        LOG.log(System.Logger.Level.WARNING, "flowstack: " + kind + ":" + port + ": " + message);
    }

    /**
     * Stops accepting, closes every open connection gracefully (FIN after the data already
     * written), waits up to 1 s for them to end, then resets the rest. Idempotent.
     */
    @Override
    public void close() {
        if (closing) {
            return;
        }
        closing = true;
        listener.close();
        try {
            acceptor.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (TcpConnection c : open) {
            closeQuietly(c, false);
        }
        long deadline = System.nanoTime() + CLOSE_GRACE_NANOS;
        while (!open.isEmpty() && System.nanoTime() < deadline) {
            sleepMillis(10);
        }
        for (TcpConnection c : open) {
            closeQuietly(c, true);
        }
        deadline = System.nanoTime() + CLOSE_GRACE_NANOS;
        while (!open.isEmpty() && System.nanoTime() < deadline) {
            sleepMillis(10);
        }
    }

    private static void closeQuietly(TcpConnection c, boolean abort) {
        try {
            if (abort) {
                c.abort();
            } else {
                c.close();
            }
        } catch (RuntimeException e) {
            // the stack is closing or the connection is already gone
        }
    }

    private static void sleepMillis(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
