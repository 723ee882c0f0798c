package io.flowstack.services;

import io.flowstack.core.FlowStack;
import io.flowstack.core.config.TcpSocketOptions;
import io.flowstack.core.socket.StackException;
import io.flowstack.core.socket.TcpChannel;
import io.flowstack.core.socket.TcpHandler;
import io.flowstack.core.socket.TcpListener;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongConsumer;

/**
 * The skeleton shared by the TCP services: one {@link TcpHandler} listening on every core, its
 * callbacks running on the netisr that owns each connection (no thread per connection, no
 * hand-off per request). Written on the public API only, as an application would write it.
 *
 * <p>Each core keeps an intrusive list of its open connections ({@link Conn}); a ticker
 * registered on each core ({@link FlowStack#addTicker}) runs on that core's tick, keeps the
 * core's clock reading ({@link Core#now}) for the callbacks and, every {@link #sweepNanos}, ends
 * the connections whose deadline passed (idle, write and linger timeouts). A connection that
 * moves to another core ({@link TcpHandler#onMoveOut}/{@link TcpHandler#onMoveIn}) moves to that
 * core's list.
 *
 * <p>Counters: each core counts the connections it accepted and ended in its own padded slots
 * (plain owner increments published with release stores, no CAS); {@link #accepted()} and
 * {@link #openConnections()} sum them with acquire loads from any thread.
 *
 * <p>Owned by: the thread that creates the service (lifecycle: construction and
 * {@link #close()}); each core's {@link Core} and the {@link Conn}s on its list by that core's
 * netisr (the closing thread reaches them only through commands to that netisr).
 *
 * <p>A connection ends for the service (it leaves {@link #openConnections()}) when the service
 * closes or aborts it, or when TCP reports it closed first; a peer's reset or a timeout is
 * normal and silent.
 */
abstract class AbstractTcpService implements AutoCloseable {
    /** Per-core bound of the listener's accept queue (unused by a handler's listener, kept for the API). */
    static final int BACKLOG = 128;
    /** How long {@link #close()} waits for connections to finish gracefully before resetting them. */
    static final long CLOSE_GRACE_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final System.Logger LOG = System.getLogger("io.flowstack.services");

    /** {@link Conn#mode}: served by the subclass. */
    static final byte SERVING = 0;
    /** {@link Conn#mode}: output shut down, input drained until the peer's FIN or the deadline, then closed. */
    static final byte LINGER = 1;
    /** {@link Conn#mode}: the service is closing: FIN sent, reset at the deadline. */
    static final byte STOPPING = 2;

    /** One slot per counter and core, 16 longs (128 bytes) apart: no false sharing between cores. */
    private static final int STRIDE = 16;
    private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);

    final FlowStack stack;
    private final String kind;
    private final int port;
    private final TcpListener listener;
    private final Core[] cores;
    private final LongConsumer[] tickers;
    /** [core * STRIDE] accepted, [core * STRIDE + 8] ended. */
    private final long[] counts;
    private final long sweepNanos;
    private volatile boolean closing;

    /**
     * A connection of the service, on its core's list. Owned by: the netisr that owns the
     * connection.
     */
    abstract static class Conn {
        final TcpChannel ch;
        /** The core whose list holds this connection. */
        int core;
        /** What the connection is doing for the service (SERVING, LINGER, STOPPING). */
        byte mode;
        /** Set once the connection ended for the service (closed, aborted or reported closed). */
        boolean ended;
        /** When (stack clock, ns) the connection is given up or acted on; 0 for never. */
        long deadline;
        Conn prev;
        Conn next;

        Conn(TcpChannel ch) {
            this.ch = ch;
        }
    }

    /** A core's part of the service. Owned by: that core's netisr. */
    static final class Core {
        /** The core's number. */
        final int index;
        /** The core's last tick time (stack clock, ns); callbacks set deadlines from it. */
        long now;
        private long nextSweep;
        /** Whether this core has begun the service's close (owned by the core's netisr). */
        private boolean stopped;
        private Conn head;
        /** The connections on the list (any mode). */
        int listed;

        Core(int index) {
            this.index = index;
        }
    }

    /**
     * Listens on {@code port} with {@code options} for every accepted connection; connections
     * are served as soon as this returns, so the subclass sets its fields before calling.
     *
     * @param sweepNanos how often each core looks for expired deadlines (clamped to 10 ms..1 s)
     * @throws StackException if the port is in use or the stack is closed
     */
    AbstractTcpService(FlowStack stack, int port, String kind, TcpSocketOptions options, long sweepNanos) {
        this.stack = stack;
        this.kind = kind;
        this.sweepNanos = Math.clamp(sweepNanos, TimeUnit.MILLISECONDS.toNanos(10), TimeUnit.SECONDS.toNanos(1));
        int n = stack.cores();
        this.cores = new Core[n];
        this.tickers = new LongConsumer[n];
        this.counts = new long[(n + 1) * STRIDE];
        long now = stack.config().clock.nanoTime();
        for (int i = 0; i < n; i++) {
            Core c = new Core(i);
            c.now = now;
            cores[i] = c;
            tickers[i] = t -> tick(c, t);
        }
        this.listener = stack.tcpListen(port, BACKLOG, options, new Handler());
        this.port = listener.port();
        try {
            for (int i = 0; i < n; i++) {
                stack.addTicker(i, tickers[i]);
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Default options and a sweep every {@code sweepNanos}. */
    AbstractTcpService(FlowStack stack, int port, String kind, long sweepNanos) {
        this(stack, port, kind, TcpSocketOptions.defaults(stack.config()), sweepNanos);
    }

    // ------------------------------------------------------------------ what a service implements

    /**
     * Whether a connection just established on core {@code c} is served ({@link Core#listed}
     * counts the core's others); if not, it is reset at once and never opened. Every connection
     * by default.
     */
    boolean admit(TcpChannel ch, Core c) {
        return true;
    }

    /** A connection opened on core {@code c}: returns its state (may start writing). */
    abstract Conn open(TcpChannel ch, Core c);

    /** In-order bytes for a SERVING connection; returns how many were consumed (as {@link TcpHandler#onData}). */
    abstract int data(Conn s, Core c, MemorySegment d, long off, int len);

    /** Send space freed after a short write of a SERVING connection. */
    void writable(Conn s, Core c) {
    }

    /** The peer's FIN on a SERVING connection, once every byte before it was consumed. */
    abstract void peerClosed(Conn s, Core c);

    /** A SERVING connection's deadline passed. */
    abstract void expired(Conn s, Core c);

    // ------------------------------------------------------------------ the public face

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
        long sum = 0;
        for (int i = 0; i < cores.length; i++) {
            sum += (long) LONGS.getAcquire(counts, i * STRIDE);
        }
        return sum;
    }

    /**
     * Connections open right now; may be read from any thread.
     *
     * @return the number of connections not yet ended
     */
    public int openConnections() {
        long ended = 0;
        for (int i = 0; i < cores.length; i++) {
            ended += (long) LONGS.getAcquire(counts, i * STRIDE + 8); // ended first: never more than accepted
        }
        return (int) Math.max(0, accepted() - ended);
    }

    /** True once {@link #close()} has begun. */
    final boolean closing() {
        return closing;
    }

    final void log(String message) {
        LOG.log(System.Logger.Level.WARNING, "flowstack: " + kind + ":" + port + ": " + message);
    }

    // ------------------------------------------------------------------ ending connections (owner)

    /** Graceful close (FIN after what is queued); the connection ends for the service. */
    final void finish(Conn s) {
        if (!s.ended) {
            end(s);
            s.ch.close();
        }
    }

    /** Reset; the connection ends for the service. */
    final void kill(Conn s) {
        if (!s.ended) {
            end(s);
            s.ch.abort();
        }
    }

    /**
     * FIN after what is queued, then drains input until the peer's FIN or {@code nanos}, then
     * closes: closing with unread input would reset the connection and could destroy the
     * response in the peer's buffers.
     */
    final void linger(Conn s, Core c, long nanos) {
        if (s.ended || s.mode != SERVING) {
            return;
        }
        s.mode = LINGER;
        s.deadline = c.now + nanos;
        s.ch.shutdownOutput();
    }

    private void end(Conn s) {
        s.ended = true;
        unlink(cores[s.core], s);
        s.ch.attachment = null;
        int slot = s.core * STRIDE + 8;
        LONGS.setRelease(counts, slot, counts[slot] + 1);
    }

    private static void link(Core c, Conn s) {
        c.listed++;
        s.prev = null;
        s.next = c.head;
        if (c.head != null) {
            c.head.prev = s;
        }
        c.head = s;
    }

    private static void unlink(Core c, Conn s) {
        if (s.prev == null && c.head != s) {
            return; // not on this list (moved out, not yet in)
        }
        c.listed--;
        if (s.prev != null) {
            s.prev.next = s.next;
        } else if (c.head == s) {
            c.head = s.next;
        }
        if (s.next != null) {
            s.next.prev = s.prev;
        }
        s.prev = null;
        s.next = null;
    }

    // ------------------------------------------------------------------ per-core tick (owner)

    private void tick(Core c, long now) {
        c.now = now;
        ticked(c);
        if (closing) {
            if (!c.stopped) {
                c.stopped = true;
                stopAll(c); // close() began: FIN every connection once, then sweep on every tick
            }
        } else if (now - c.nextSweep < 0) {
            return;
        }
        c.nextSweep = now + sweepNanos;
        for (Conn s = c.head; s != null; ) {
            Conn next = s.next; // s may leave the list
            if (s.deadline != 0 && now - s.deadline >= 0) {
                s.deadline = 0;
                switch (s.mode) {
                    case LINGER -> finish(s);
                    case STOPPING -> kill(s);
                    default -> {
                        try {
                            expired(s, c);
                        } catch (RuntimeException e) {
                            log(s.ch + ": " + e);
                            kill(s);
                        }
                    }
                }
            }
            s = next;
        }
    }

    /** Service close, on a core: FIN every connection, reset at the grace's end. */
    private void stopAll(Core c) {
        for (Conn s = c.head; s != null; ) {
            Conn next = s.next;
            if (s.mode != STOPPING) {
                s.mode = STOPPING;
                s.deadline = c.now + CLOSE_GRACE_NANOS;
                s.ch.shutdownOutput();
            }
            s = next;
        }
    }

    /** Calls {@code f} for each connection on core {@code c}'s list; {@code f} may end the connection. */
    final void eachConn(Core c, java.util.function.BiConsumer<Conn, Core> f) {
        for (Conn s = c.head; s != null; ) {
            Conn next = s.next;
            f.accept(s, c);
            s = next;
        }
    }

    /**
     * Stops accepting, shuts down the output of every open connection (FIN after the data
     * already queued), waits up to 1 s for them to end (the peer's FIN), then resets the rest.
     * Each core's ticker does that work on its netisr (it sees the service closing on its next
     * tick); this thread only waits, then unregisters the tickers. Idempotent.
     */
    @Override
    public void close() {
        if (closing) {
            return;
        }
        closing = true;
        try {
            listener.close();
        } catch (RuntimeException e) {
            // the stack is closing: its connections go with it
        }
        if (!stack.running()) {
            return;
        }
        long deadline = System.nanoTime() + CLOSE_GRACE_NANOS + TimeUnit.MILLISECONDS.toNanos(500);
        while (openConnections() > 0 && System.nanoTime() - deadline < 0) {
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5)); // the netisrs end them (peer FIN or grace)
        }
        for (int i = 0; i < cores.length; i++) {
            try {
                stack.removeTicker(i, tickers[i]);
            } catch (StackException e) {
                return; // the stack closed meanwhile: its connections went with it
            }
        }
    }

    /** A timeout must be positive. */
    static void checkTimeout(Duration d) {
        if (d == null || d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException("idle timeout must be positive, got " + d);
        }
    }

    // ------------------------------------------------------------------ the listener's handler

    /** Every callback runs on the netisr that owns the connection. */
    private final class Handler implements TcpHandler {
        @Override
        public void onOpen(TcpChannel ch) {
            if (closing) {
                ch.abort();
                return;
            }
            int core = ch.core();
            Core c = cores[core];
            if (!admit(ch, c)) {
                ch.abort(); // refused: a reset, the connection is never the service's
                return;
            }
            Conn s = open(ch, c);
            s.core = core;
            ch.attachment = s;
            link(c, s);
            int slot = core * STRIDE;
            LONGS.setRelease(counts, slot, counts[slot] + 1);
            s.mode = SERVING;
            started(s, c);
        }

        @Override
        public int onData(TcpChannel ch, MemorySegment data, long offset, int length) {
            if (!(ch.attachment instanceof Conn s) || s.mode != SERVING) {
                return length; // lingering, stopping or ended: input is drained
            }
            return data(s, cores[s.core], data, offset, length);
        }

        @Override
        public void onWritable(TcpChannel ch) {
            if (ch.attachment instanceof Conn s && s.mode == SERVING) {
                writable(s, cores[s.core]);
            }
        }

        @Override
        public void onPeerClosed(TcpChannel ch) {
            if (ch.attachment instanceof Conn s) {
                if (s.mode == SERVING) {
                    peerClosed(s, cores[s.core]);
                } else {
                    finish(s); // both sides are done
                }
            }
        }

        @Override
        public void onMoveOut(TcpChannel ch) {
            if (ch.attachment instanceof Conn s) {
                unlink(cores[s.core], s);
            }
        }

        @Override
        public void onMoveIn(TcpChannel ch) {
            if (ch.attachment instanceof Conn s) {
                int core = ch.core();
                Core c = cores[core];
                // the ended count goes to the new core: the totals stay right
                s.core = core;
                link(c, s);
            }
        }

        @Override
        public void onClosed(TcpChannel ch, String error) {
            if (ch.attachment instanceof Conn s && !s.ended) {
                end(s);
            }
        }
    }

    /** After a connection joined its core's list (e.g. chargen starts writing here). */
    void started(Conn s, Core c) {
    }

    /** Every tick of core {@code c} (10 ms), before the sweep; {@link Core#now} is current. */
    void ticked(Core c) {
    }
}
