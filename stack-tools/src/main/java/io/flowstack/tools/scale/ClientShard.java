package io.flowstack.tools.scale;

import io.flowstack.core.FlowStack;
import io.flowstack.core.netisr.Netisr;
import io.flowstack.core.socket.StackException;
import io.flowstack.core.socket.TcpChannel;
import io.flowstack.core.socket.TcpHandler;
import io.flowstack.core.config.TcpSocketOptions;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The load of one core of the client stack: its connections, driven by callbacks on that core's
 * netisr (the non-blocking {@link TcpHandler} API), so the load generator costs no thread and no
 * hop. Each connection uses a local port whose 4-tuple hashes to this core, so it is born,
 * served and closed here.
 *
 * <ul>
 *   <li>{@link ScaleBench.Test#CONN}: connect, send one request, read the response, see the
 *       server's FIN, close; then open the next connection (a constant number in flight).</li>
 *   <li>{@link ScaleBench.Test#RR}: persistent connections, one request outstanding on each:
 *       a response completes a transaction and sends the next request.</li>
 * </ul>
 *
 * <p>Owned by: the netisr thread of its core (every callback and {@link #start} run there).
 * Other threads only read {@link #completed()} and {@link #errors()} (opaque reads of counters
 * the owner publishes with opaque writes) and set {@link #stop()}. What the owner writes while
 * the load runs never shares a cache line with another core's: the counters sit in their own
 * 128-byte stride of a shared array, and the mutable state ({@link State}) is allocated by the
 * owner thread itself, in its own allocation buffer, when it starts.
 */
final class ClientShard implements TcpHandler {
    private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);
    /** longs between two shards' counters: 128 bytes, two cache lines (adjacent-line prefetch). */
    static final int STRIDE = 16;

    private final ScaleBench.Test test;
    private final FlowStack stack;
    private final Netisr netisr;
    private final int[] ports;
    private final int remote;
    private final int remotePort;
    private final TcpSocketOptions options;
    private final MemorySegment request;
    private final int connections;
    private final long[] counters;
    private final int completedAt;
    private final int errorsAt;
    private volatile boolean stopping;
    /** Owner thread only; allocated by it in {@link #start}. */
    private State st;

    /** The owner's mutable state. */
    private static final class State {
        int nextPort;
        int pendingOpens;
        boolean openScheduled;
    }

    /** Per-connection state, in {@link TcpChannel#attachment}. */
    private static final class Conn {
        int got;
    }

    ClientShard(ScaleBench.Test test, FlowStack stack, Netisr netisr, int[] ports, int remote, int remotePort,
                TcpSocketOptions options, MemorySegment request, int connections, long[] counters, int slot) {
        this.test = test;
        this.stack = stack;
        this.netisr = netisr;
        this.ports = ports;
        this.remote = remote;
        this.remotePort = remotePort;
        this.options = options;
        this.request = request;
        this.connections = connections;
        this.counters = counters;
        this.completedAt = (slot + 1) * STRIDE;
        this.errorsAt = completedAt + 1;
        if (counters.length < completedAt + STRIDE) {
            throw new IllegalArgumentException("counter array too short for slot " + slot);
        }
    }

    /** Opens this core's connections (runs on the owner, as a netisr command). */
    void start() {
        st = new State();
        st.pendingOpens = connections;
        openPending();
    }

    /** Stops opening connections and sending requests (any thread). */
    void stop() {
        stopping = true;
    }

    long completed() {
        return (long) LONGS.getOpaque(counters, completedAt);
    }

    long errors() {
        return (long) LONGS.getOpaque(counters, errorsAt);
    }

    private void countCompleted() {
        LONGS.setOpaque(counters, completedAt, counters[completedAt] + 1);
    }

    private void countError() {
        LONGS.setOpaque(counters, errorsAt, counters[errorsAt] + 1);
    }

    private void openPending() {
        State s = st;
        s.openScheduled = false;
        while (s.pendingOpens > 0 && !stopping) {
            s.pendingOpens--;
            if (!connectOne()) {
                countError();
            }
        }
    }

    /** Schedules a connect outside the callback that asked for it (never re-enter TCP input). */
    private void openLater() {
        State s = st;
        s.pendingOpens++;
        if (!s.openScheduled && !stopping) {
            s.openScheduled = true;
            if (!netisr.submit(n -> openPending())) {
                s.openScheduled = false;
                countError();
            }
        }
    }

    private boolean connectOne() {
        State s = st;
        for (int tries = 0; tries < ports.length; tries++) {
            int lport = ports[s.nextPort];
            s.nextPort = s.nextPort + 1 == ports.length ? 0 : s.nextPort + 1;
            try {
                if (stack.tcpConnectOnNetisr(netisr.core(), remote, remotePort, lport, options, this)) {
                    return true;
                }
            } catch (StackException e) {
                return false; // a stack limit (connections, memory): counted as an error
            }
        }
        return false;
    }

    // ------------------------------------------------------------------ callbacks (owner thread)

    @Override
    public void onOpen(TcpChannel ch) {
        ch.attachment = new Conn();
        send(ch);
    }

    private void send(TcpChannel ch) {
        int len = (int) request.byteSize();
        if (ch.write(request, 0, len) != len) {
            countError(); // 64 KiB of send buffer and one request in flight: cannot happen
            ch.abort();
        }
    }

    @Override
    public int onData(TcpChannel ch, MemorySegment data, long offset, int length) {
        Conn c = (Conn) ch.attachment;
        int msg = (int) request.byteSize();
        c.got += length;
        if (test == ScaleBench.Test.RR) {
            while (c.got >= msg) {
                c.got -= msg;
                countCompleted();
                if (!stopping) {
                    send(ch);
                }
            }
        }
        return length;
    }

    @Override
    public void onPeerClosed(TcpChannel ch) {
        ch.close();
    }

    @Override
    public void onClosed(TcpChannel ch, String error) {
        Conn c = ch == null ? null : (Conn) ch.attachment;
        if (test == ScaleBench.Test.CONN) {
            if (error == null && c != null && c.got >= request.byteSize()) {
                countCompleted();
            } else {
                countError();
            }
            if (!stopping) {
                openLater();
            }
        } else if (!stopping) {
            countError(); // a persistent connection ended during the run
        }
    }
}
