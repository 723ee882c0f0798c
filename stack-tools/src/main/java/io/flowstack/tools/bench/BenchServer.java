package io.flowstack.tools.bench;

import io.flowstack.core.FlowStack;
import io.flowstack.core.socket.StackException;
import io.flowstack.core.socket.TcpChannel;
import io.flowstack.core.socket.TcpConnection;
import io.flowstack.core.socket.TcpHandler;
import io.flowstack.core.socket.TcpListener;
import io.flowstack.core.config.TcpSocketOptions;
import io.flowstack.core.wire.Ipv4;
import io.flowstack.tools.bench.BenchProtocol.Header;
import io.flowstack.tools.bench.BenchProtocol.ProtocolException;
import io.flowstack.tools.bench.BenchProtocol.Trailer;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.net.UnknownHostException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The bench server: answers every connection by the protocol of {@link BenchProtocol}, on the
 * kernel's sockets or on a {@link FlowStack}. Connections are independent (parallel streams of
 * one client are just several connections), so one server serves any number of clients, one
 * after the other or at once.
 *
 * <ul>
 *   <li>Kernel: an accept thread and a pool of platform threads, one per open connection, on
 *       blocking {@link SocketChannel}s with direct buffers (TCP_NODELAY for rr and crr).</li>
 *   <li>Stack, callback API (default): one {@link TcpHandler} for the listener, running on the
 *       netisr that owns each connection; checks data in place in the receive ring and sends from
 *       one off-heap pattern, so nothing is allocated per write or transaction.</li>
 *   <li>Stack, blocking API: as the kernel variant, on {@link TcpConnection}.</li>
 * </ul>
 * A connection silent for {@value #IDLE_SECONDS} s is reset.
 *
 * <p>Thread-safe: {@link #totals()} and {@link #close()} from any thread.
 */
public final class BenchServer implements AutoCloseable {
    public static final int IDLE_SECONDS = 60;
    /** Bytes per write when sending a stream or a large response. */
    private static final int RUN = 128 * 1024;

    private final Net net;
    private final int port;
    private final Meter meter = new Meter(false);
    private final MemorySegment pattern = BenchProtocol.pattern(Arena.ofAuto(), RUN);
    private final AtomicInteger threads = new AtomicInteger();
    private final ExecutorService pool;
    /** Open blocking connections (the callback engine keeps its sessions per core, see {@link Handler}). */
    private final Set<Conn> live = ConcurrentHashMap.newKeySet();
    private final ThreadLocal<Meter.Worker> workers = ThreadLocal.withInitial(meter::newWorker);
    private final ThreadLocal<Conn.Buffers> buffers;
    private final Thread acceptor;
    private final Thread watchdog;
    private final ServerSocketChannel kernelListener;
    private final TcpListener stackListener;
    private final Meter.Worker[] byCore;
    private final Handler handler;
    private volatile boolean closed;

    private BenchServer(Net net, int port) {
        this.net = net;
        this.port = port;
        boolean direct = net instanceof Net.Kernel;
        this.buffers = ThreadLocal.withInitial(() -> direct ? Conn.Buffers.direct(RUN, pattern) : Conn.Buffers.heap(RUN, pattern));
        this.pool = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "bench-server-" + threads.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        boolean callbacks = net instanceof Net.Stack st && !st.blocking();
        Meter.Worker[] cores = new Meter.Worker[callbacks ? ((Net.Stack) net).stack().cores() : 0];
        for (int i = 0; i < cores.length; i++) {
            cores[i] = meter.newWorker();
        }
        this.byCore = cores;
        this.handler = callbacks ? new Handler(((Net.Stack) net).stack()) : null;
        ServerSocketChannel kl = null;
        TcpListener sl = null;
        try {
            switch (net) {
                case Net.Kernel k -> kl = bindKernel(k.bind(), port);
                case Net.Stack s -> {
                    TcpSocketOptions o = TcpSocketOptions.defaults(s.stack().config()).withNoDelay(true);
                    sl = listen(() -> handler == null ? s.stack().tcpListen(port, 1024, o)
                            : s.stack().tcpListen(port, 1024, o, handler));
                }
            }
        } catch (RuntimeException e) {
            pool.shutdownNow();
            throw e;
        }
        this.kernelListener = kl;
        this.stackListener = sl;
        if (handler == null) {
            acceptor = new Thread(this::acceptLoop, "bench-server-accept-" + port);
            acceptor.setDaemon(true);
            acceptor.start();
        } else {
            acceptor = null;
        }
        watchdog = new Thread(this::watch, "bench-server-watchdog-" + port);
        watchdog.setDaemon(true);
        watchdog.start();
    }

    /**
     * Starts a server on {@code net}, port {@code port}.
     *
     * @throws BenchException if the port is in use or the address cannot be bound (one line)
     */
    public static BenchServer start(Net net, int port) {
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("--port must be 1..65535, got " + port);
        }
        return new BenchServer(net, port);
    }

    private static ServerSocketChannel bindKernel(String bind, int port) {
        InetSocketAddress at;
        try {
            at = bind == null ? new InetSocketAddress(port) : new InetSocketAddress(InetAddress.getByName(bind), port);
        } catch (UnknownHostException e) {
            throw new BenchException("--bind " + bind + ": unknown address", true);
        }
        try {
            ServerSocketChannel ch = ServerSocketChannel.open();
            try {
                ch.setOption(StandardSocketOptions.SO_REUSEADDR, true);
                ch.bind(at, 1024);
                return ch;
            } catch (IOException | RuntimeException e) {
                ch.close();
                throw e;
            }
        } catch (BindException e) {
            String what = String.valueOf(e.getMessage()).toLowerCase(java.util.Locale.ROOT);
            if (what.contains("in use")) {
                throw new BenchException("TCP port " + port + (bind == null ? "" : " on " + bind)
                        + " is already in use (EADDRINUSE): stop the other server or choose another --port", true);
            }
            if (what.contains("permission denied") && port < 1024) {
                throw new BenchException("TCP port " + port + " is below the first unprivileged port (EACCES; "
                        + "net.ipv4.ip_unprivileged_port_start, 1024 by default): run it with sudo or choose a --port "
                        + "of 1024 or more", true);
            }
            if (what.contains("assign requested address")) {
                throw new BenchException("--bind " + bind + " is not an address of this host (EADDRNOTAVAIL): give one "
                        + "that ip addr shows, or leave --bind out to listen on all", true);
            }
            throw new BenchException("cannot listen on " + (bind == null ? "" : bind) + ":" + port + ": " + e.getMessage(), true);
        } catch (IOException e) {
            throw new BenchException("cannot listen on " + (bind == null ? "" : bind) + ":" + port + ": " + e.getMessage(), true);
        }
    }

    private interface ListenCall {
        TcpListener listen();
    }

    private static TcpListener listen(ListenCall call) {
        try {
            return call.listen();
        } catch (StackException e) {
            throw new BenchException(e.getMessage(), true); // the port is in use on the stack
        }
    }

    public int port() {
        return port;
    }

    public Net net() {
        return net;
    }

    /** What the server did so far: bytes in and out, transactions answered, connections accepted, errors. */
    public Meter.Totals totals() {
        return meter.totals();
    }

    /** "kernel sockets on *:5201" or "stack 198.18.0.2:5201 (callback API, 2 cores)". */
    public String describe() {
        return switch (net) {
            case Net.Kernel k -> "kernel sockets on " + (k.bind() == null ? "*" : k.bind()) + ":" + port;
            case Net.Stack s -> "stack " + Ipv4.toString(s.stack().config().address) + ":" + port + " ("
                    + s.api() + " API, " + s.stack().cores() + " core" + (s.stack().cores() == 1 ? "" : "s") + ")";
        };
    }

    /** Stops listening and resets the open connections. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (kernelListener != null) {
            try {
                kernelListener.close();
            } catch (IOException ignored) {
                // closing
            }
        }
        if (stackListener != null) {
            try {
                stackListener.close();
            } catch (RuntimeException ignored) {
                // the stack is closing
            }
        }
        for (Conn c : live) {
            c.abort();
        }
        if (handler != null) {
            handler.sweepAll(true);
        }
        pool.shutdownNow();
        watchdog.interrupt();
        if (acceptor != null) {
            acceptor.interrupt();
        }
    }

    // ------------------------------------------------------------------ blocking engines

    private void acceptLoop() {
        while (!closed) {
            try {
                if (kernelListener != null) {
                    SocketChannel ch = kernelListener.accept();
                    pool.execute(() -> serve(new Conn.Kernel(ch, buffers.get())));
                    continue;
                }
                TcpConnection tc = stackListener.accept(1, TimeUnit.SECONDS);
                if (tc == null) {
                    continue;
                }
                pool.execute(() -> serve(new Conn.Stack(tc, buffers.get())));
            } catch (IOException | StackException | RejectedExecutionException e) {
                if (!closed) {
                    System.err.println("stack bench: server: accept failed: " + e.getMessage());
                    try {
                        Thread.sleep(100);
                    } catch (InterruptedException ie) {
                        return;
                    }
                }
            }
        }
    }

    private void serve(Conn c) {
        Meter.Worker w = workers.get();
        w.connection();
        live.add(c);
        try {
            byte[] h = new byte[BenchProtocol.HEADER_BYTES];
            if (!c.readFully(h)) {
                return; // connected and closed: a port check
            }
            Header hd = BenchProtocol.decode(h);
            if (hd.mode() == BenchProtocol.MODE_RR || hd.mode() == BenchProtocol.MODE_CRR) {
                if (c instanceof Conn.Kernel k) {
                    k.noDelay(true);
                }
            }
            switch (hd.mode()) {
                case BenchProtocol.MODE_TO_SERVER -> receive(c, w);
                case BenchProtocol.MODE_FROM_SERVER -> send(c, w, hd.count());
                default -> answer(c, w, hd);
            }
        } catch (IOException | ProtocolException | RuntimeException e) {
            if (!closed) {
                w.error();
            }
            c.abort();
        } finally {
            live.remove(c);
            c.close();
        }
    }

    private void receive(Conn c, Meter.Worker w) throws IOException {
        long pos = 0;
        boolean intact = true;
        int n;
        while ((n = c.read(RUN)) >= 0) {
            if (intact && !BenchProtocol.matches(c.rx(), 0, n, pattern, pos)) {
                intact = false;
            }
            pos += n;
            w.addIn(n);
        }
        c.write(new Trailer(intact ? BenchProtocol.STATUS_OK : BenchProtocol.STATUS_CORRUPT, pos).encode());
    }

    private void send(Conn c, Meter.Worker w, long count) throws IOException {
        // a second thread watches for the client's FIN (its way to say stop) while this one writes
        AtomicBoolean peerDone = new AtomicBoolean();
        Thread watcher = Thread.ofVirtual().name("bench-server-fin-watch").start(() -> {
            try {
                while (c.drain() >= 0) {
                    // the client sends nothing after its header
                }
            } catch (IOException e) {
                // reset or closed: stop as well
            }
            peerDone.set(true);
        });
        long pos = 0;
        try {
            while ((count == 0 || pos < count) && !peerDone.get()) {
                int n = count == 0 ? RUN : (int) Math.min(RUN, count - pos);
                c.writePattern(pos, n);
                pos += n;
                w.addOut(n);
            }
            c.shutdownOutput();
            watcher.join(TimeUnit.SECONDS.toMillis(IDLE_SECONDS));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void answer(Conn c, Meter.Worker w, Header hd) throws IOException {
        while (true) {
            int r = c.readMessage(hd.request());
            if (r < 0) {
                return; // the client is done
            }
            if (r == 0) {
                throw new IOException("a request differs from the pattern");
            }
            w.addIn(hd.request());
            c.writeMessage(hd.response());
            w.addOut(hd.response());
            w.transaction();
            if (hd.closesAfterResponse()) {
                return; // crr: the server closes first (TIME_WAIT stays here)
            }
        }
    }

    /** Resets connections silent for {@value #IDLE_SECONDS} s. */
    private void watch() {
        long idle = TimeUnit.SECONDS.toNanos(IDLE_SECONDS);
        long ticks = 0;
        while (!closed) {
            try {
                Thread.sleep(1000);
            } catch (InterruptedException e) {
                return;
            }
            long now = System.nanoTime();
            for (Conn c : live) {
                if (now - c.lastActive() > idle) {
                    live.remove(c);
                    c.abort();
                }
            }
            if (handler != null && ++ticks % SWEEP_SECONDS == 0) {
                handler.sweepAll(false);
            }
        }
    }

    // ------------------------------------------------------------------ callback engine

    /** Every this many seconds the callback engine's idle sessions are looked for. */
    private static final int SWEEP_SECONDS = 10;

    /**
     * One connection's state, on an intrusive list of its core's sessions. Owned by: the netisr
     * of the connection (the watchdog reaches it only through a command to that netisr).
     */
    private static final class Session {
        final TcpChannel ch;
        final byte[] header = new byte[BenchProtocol.HEADER_BYTES];
        int headerGot;
        Header hd;
        long pos;
        boolean intact = true;
        int reqGot;
        int respLeft;
        long respPos;
        boolean closing;
        boolean shut;
        /** Callbacks so far, and at the last sweep: no change for {@value #IDLE_SECONDS} s = idle. */
        long progress;
        long sweptProgress;
        int idleSweeps;
        Session prev;
        Session next;

        Session(TcpChannel ch) {
            this.ch = ch;
        }
    }

    /** The listener's handler: every callback runs on the netisr that owns the connection. */
    private final class Handler implements TcpHandler {
        private final FlowStack stack;
        /** Per core: the open sessions (each list owned by that core's netisr). */
        private final Session[] heads;

        Handler(FlowStack stack) {
            this.stack = stack;
            this.heads = new Session[stack.cores()];
        }

        @Override
        public void onOpen(TcpChannel ch) {
            Session s = new Session(ch);
            ch.attachment = s;
            int core = ch.core();
            byCore[core].connection();
            s.next = heads[core];
            if (s.next != null) {
                s.next.prev = s;
            }
            heads[core] = s;
        }

        /** The connection leaves this core (rebalancing): off this core's list, on the old owner. */
        @Override
        public void onMoveOut(TcpChannel ch) {
            Session s = (Session) ch.attachment;
            if (s != null) {
                unlink(ch.core(), s);
            }
        }

        /** It arrived on its new core: onto that core's list (its bytes count there from now on). */
        @Override
        public void onMoveIn(TcpChannel ch) {
            Session s = (Session) ch.attachment;
            if (s != null) {
                int core = ch.core();
                s.next = heads[core];
                if (s.next != null) {
                    s.next.prev = s;
                }
                heads[core] = s;
            }
        }

        private void unlink(int core, Session s) {
            if (s.prev != null) {
                s.prev.next = s.next;
            } else if (heads[core] == s) {
                heads[core] = s.next;
            }
            if (s.next != null) {
                s.next.prev = s.prev;
            }
            s.prev = null;
            s.next = null;
        }

        /** Resets idle sessions (or all of them), each on its own netisr. */
        void sweepAll(boolean all) {
            for (int core = 0; core < heads.length; core++) {
                int c = core;
                try {
                    stack.call(core, n -> {
                        sweep(c, all);
                        return null;
                    });
                } catch (StackException ignored) {
                    // the stack is closing: its connections go with it
                }
            }
        }

        private void sweep(int core, boolean all) {
            for (Session s = heads[core]; s != null; ) {
                Session next = s.next;
                boolean idle = false;
                if (s.progress != s.sweptProgress) {
                    s.sweptProgress = s.progress;
                    s.idleSweeps = 0;
                } else {
                    idle = ++s.idleSweeps * SWEEP_SECONDS >= IDLE_SECONDS;
                }
                if (all || idle) {
                    unlink(core, s);
                    s.ch.abort();
                }
                s = next;
            }
        }

        @Override
        public int onData(TcpChannel ch, MemorySegment data, long offset, int length) {
            Session s = (Session) ch.attachment;
            Meter.Worker w = byCore[ch.core()];
            s.progress++;
            int used = 0;
            if (s.hd == null) {
                int k = Math.min(length, s.header.length - s.headerGot);
                MemorySegment.copy(data, ValueLayout.JAVA_BYTE, offset, s.header, s.headerGot, k);
                s.headerGot += k;
                used = k;
                if (s.headerGot < s.header.length) {
                    return used;
                }
                try {
                    s.hd = BenchProtocol.decode(s.header);
                } catch (ProtocolException e) {
                    w.error();
                    ch.abort();
                    return length;
                }
                if (s.hd.mode() == BenchProtocol.MODE_FROM_SERVER) {
                    fill(ch, s, w);
                }
            }
            switch (s.hd.mode()) {
                case BenchProtocol.MODE_TO_SERVER -> {
                    int n = length - used;
                    if (s.intact && !BenchProtocol.matchesLong(data, offset + used, n, pattern, s.pos)) {
                        s.intact = false;
                    }
                    s.pos += n;
                    w.addIn(n);
                    return length;
                }
                case BenchProtocol.MODE_FROM_SERVER -> {
                    return length; // nothing is expected from the client
                }
                default -> {
                    return requests(ch, s, w, data, offset, used, length);
                }
            }
        }

        private int requests(TcpChannel ch, Session s, Meter.Worker w, MemorySegment data, long offset, int used,
                             int length) {
            int req = s.hd.request();
            while (used < length) {
                if (s.respLeft > 0) {
                    return used; // still answering the previous request: the rest waits (back-pressure)
                }
                if (s.closing) {
                    return length;
                }
                int k = Math.min(req - s.reqGot, length - used);
                if (!BenchProtocol.matchesLong(data, offset + used, k, pattern, s.reqGot)) {
                    w.error();
                    ch.abort();
                    return length;
                }
                s.reqGot += k;
                used += k;
                w.addIn(k);
                if (s.reqGot == req) {
                    s.reqGot = 0;
                    s.respLeft = s.hd.response();
                    s.respPos = 0;
                    respond(ch, s, w);
                }
            }
            return used;
        }

        private void respond(TcpChannel ch, Session s, Meter.Worker w) {
            while (s.respLeft > 0) {
                int want = Math.min(s.respLeft, RUN);
                int n = ch.write(pattern, s.respPos % BenchProtocol.PERIOD, want);
                s.respPos += n;
                s.respLeft -= n;
                w.addOut(n);
                if (n < want) {
                    return; // onWritable continues
                }
            }
            w.transaction();
            if (s.hd.closesAfterResponse()) {
                s.closing = true;
                ch.close(); // crr: the server closes first
            }
        }

        private void fill(TcpChannel ch, Session s, Meter.Worker w) {
            long count = s.hd.count();
            while (!s.shut && (count == 0 || s.pos < count)) {
                int want = count == 0 ? RUN : (int) Math.min(RUN, count - s.pos);
                int n = ch.write(pattern, s.pos % BenchProtocol.PERIOD, want);
                s.pos += n;
                w.addOut(n);
                if (n < want) {
                    return;
                }
            }
            if (!s.shut) {
                s.shut = true;
                ch.shutdownOutput();
            }
        }

        @Override
        public void onWritable(TcpChannel ch) {
            Session s = (Session) ch.attachment;
            if (s == null || s.hd == null) {
                return;
            }
            s.progress++;
            Meter.Worker w = byCore[ch.core()];
            if (s.hd.mode() == BenchProtocol.MODE_FROM_SERVER) {
                fill(ch, s, w);
            } else if (s.respLeft > 0) {
                respond(ch, s, w);
            }
        }

        @Override
        public void onPeerClosed(TcpChannel ch) {
            Session s = (Session) ch.attachment;
            if (s.hd != null && s.hd.mode() == BenchProtocol.MODE_TO_SERVER) {
                byte[] t = new Trailer(s.intact ? BenchProtocol.STATUS_OK : BenchProtocol.STATUS_CORRUPT, s.pos).encode();
                ch.write(t, 0, t.length);
            } else if (s.hd != null && s.hd.mode() == BenchProtocol.MODE_FROM_SERVER) {
                s.shut = true; // the client says stop: what is queued goes out, then FIN
            }
            ch.close();
            // both sides are done: forget the session now (if we closed first, onClosed comes
            // when TIME_WAIT begins, once the peer's FIN is in)
            unlink(ch.core(), s);
            ch.attachment = null;
        }

        @Override
        public void onClosed(TcpChannel ch, String error) {
            Session s = (Session) ch.attachment;
            if (s != null) {
                unlink(ch.core(), s);
            }
            if (error != null && !closed) {
                byCore[ch.core()].error();
            }
        }
    }
}
