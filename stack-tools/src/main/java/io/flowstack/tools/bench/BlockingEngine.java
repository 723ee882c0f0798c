package io.flowstack.tools.bench;

import io.flowstack.core.FlowStack;
import io.flowstack.core.wire.Ipv4;
import io.flowstack.tools.bench.BenchProtocol.Header;
import io.flowstack.tools.bench.BenchProtocol.ProtocolException;
import io.flowstack.tools.bench.BenchProtocol.Trailer;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The client on blocking connections, one platform thread per connection (stream, rr) or per
 * connect loop (crr): the kernel's sockets, or the stack's {@code TcpConnection}. Each thread
 * owns its {@link Conn.Buffers} and its {@link Meter.Worker}; nothing is allocated per write,
 * read or transaction (crr allocates what a connection needs).
 */
final class BlockingEngine implements Engine {
    /** Opens a connection for a worker. */
    interface Dialer {
        Conn dial(Conn.Buffers buf, boolean noDelay) throws IOException;
    }

    private final BenchSpec spec;
    private final Control control;
    private final Meter meter;
    private final Dialer dialer;
    private final boolean direct;
    private final MemorySegment pattern;
    private final int run;
    private final List<Worker> workers = new ArrayList<>();
    private final CountDownLatch go = new CountDownLatch(1);
    private final CountDownLatch ended;

    private BlockingEngine(BenchSpec spec, Control control, Meter meter, Dialer dialer, boolean direct) {
        this.spec = spec;
        this.control = control;
        this.meter = meter;
        this.dialer = dialer;
        this.direct = direct;
        this.run = spec.mode() == BenchSpec.Mode.STREAM ? spec.length()
                : Math.min(BenchSpec.DEFAULT_LENGTH, Math.max(spec.requestSize(), spec.responseSize()));
        this.pattern = BenchProtocol.pattern(Arena.ofAuto(), run);
        this.ended = new CountDownLatch(spec.parallel());
    }

    /** On the kernel's sockets. */
    static BlockingEngine kernel(BenchSpec spec, Control control, Meter meter) {
        InetSocketAddress to;
        try {
            to = new InetSocketAddress(InetAddress.getByName(spec.host()), spec.port());
        } catch (UnknownHostException e) {
            throw new BenchException("unknown host " + spec.host(), true);
        }
        return new BlockingEngine(spec, control, meter,
                (buf, noDelay) -> Conn.Kernel.connect(to, noDelay, spec.connectTimeoutNanos(), buf), true);
    }

    /** On the stack's blocking API. */
    static BlockingEngine stack(BenchSpec spec, Control control, Meter meter, FlowStack stack) {
        int address = StackAddress.parse(spec.host());
        return new BlockingEngine(spec, control, meter,
                (buf, noDelay) -> {
                    try {
                        return Conn.Stack.connect(stack, address, spec.port(), noDelay, spec.connectTimeoutNanos(), buf);
                    } catch (RuntimeException e) {
                        throw new IOException(e.getMessage(), e);
                    }
                }, false);
    }

    private Conn.Buffers buffers() {
        return direct ? Conn.Buffers.direct(run, pattern) : Conn.Buffers.heap(run, pattern);
    }

    private String where() {
        return spec.host() + ":" + spec.port();
    }

    @Override
    public void open() {
        boolean noDelay = spec.mode() != BenchSpec.Mode.STREAM;
        try {
            if (spec.mode() == BenchSpec.Mode.CRR) {
                probe();
            }
            for (int i = 0; i < spec.parallel(); i++) {
                Conn.Buffers buf = buffers();
                Conn c = null;
                if (spec.mode() != BenchSpec.Mode.CRR) {
                    try {
                        c = dialer.dial(buf, noDelay);
                    } catch (IOException e) {
                        throw new BenchException("connect to " + where() + ": " + message(e) + hint(e));
                    }
                }
                Worker w = new Worker(i, buf, c, meter.newWorker());
                workers.add(w);
            }
        } catch (RuntimeException e) {
            abort();
            throw e;
        }
        for (Worker w : workers) {
            Thread t = new Thread(w, "bench-" + spec.mode().key() + "-" + w.index);
            t.setDaemon(true);
            t.start();
        }
    }

    /** One unmeasured crr transaction: the server is there and speaks the protocol. */
    private void probe() {
        Conn.Buffers buf = buffers();
        Conn c;
        try {
            c = dialer.dial(buf, true);
        } catch (IOException e) {
            throw new BenchException("connect to " + where() + ": " + message(e) + hint(e));
        }
        try {
            c.write(requestBytes());
            if (c.readMessage(spec.responseSize()) < 0) {
                throw new BenchException(where() + " closed the connection without answering: not a flowstack bench server?");
            }
        } catch (IOException e) {
            throw new BenchException(where() + ": " + message(e) + " (not a flowstack bench server?)");
        } finally {
            c.close();
        }
    }

    static String message(Throwable e) {
        String m = e.getMessage();
        return m == null ? e.getClass().getSimpleName() : m;
    }

    static String hint(Throwable e) {
        String m = String.valueOf(e.getMessage()).toLowerCase(java.util.Locale.ROOT);
        return m.contains("refused") ? " (is `stack bench --server` running there?)" : "";
    }

    /** The header and, for crr, the request, as one write. */
    private byte[] requestBytes() {
        byte[] h = spec.header(0).encode();
        if (spec.mode() != BenchSpec.Mode.CRR) {
            return h;
        }
        byte[] b = new byte[h.length + spec.requestSize()];
        System.arraycopy(h, 0, b, 0, h.length);
        for (int i = 0; i < spec.requestSize(); i++) {
            b[h.length + i] = BenchProtocol.patternByte(i);
        }
        return b;
    }

    @Override
    public void start() {
        go.countDown();
    }

    @Override
    public boolean awaitEnd(long deadlineNanos) throws InterruptedException {
        return ended.await(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
    }

    @Override
    public void abort() {
        for (Worker w : workers) {
            Conn c = w.current;
            if (c != null) {
                c.abort();
            }
        }
    }

    @Override
    public void close() {
        go.countDown(); // workers that never started end at once
    }

    /** One connection (stream, rr) or connect loop (crr) on its own thread. */
    private final class Worker implements Runnable {
        final int index;
        final Conn.Buffers buf;
        final Meter.Worker meter;
        volatile Conn current;

        Worker(int index, Conn.Buffers buf, Conn c, Meter.Worker meter) {
            this.index = index;
            this.buf = buf;
            this.current = c;
            this.meter = meter;
        }

        @Override
        public void run() {
            try {
                go.await();
                if (control.stopped() && spec.mode() == BenchSpec.Mode.CRR) {
                    return;
                }
                switch (spec.mode()) {
                    case STREAM -> {
                        meter.connection();
                        if (spec.reverse()) {
                            receive(current);
                        } else {
                            send(current);
                        }
                    }
                    case RR -> {
                        meter.connection();
                        rr(current);
                    }
                    case CRR -> crr();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (IOException | ProtocolException | RuntimeException e) {
                meter.error();
                control.problem("connection " + index + ": " + message(e));
                Conn c = current;
                if (c != null) {
                    c.abort();
                }
            } finally {
                Conn c = current;
                if (c != null) {
                    c.close();
                }
                ended.countDown();
            }
        }

        private void send(Conn c) throws IOException, ProtocolException {
            long quota = spec.share(spec.maxBytes(), index);
            c.write(spec.header(0).encode());
            long pos = 0;
            int length = spec.length();
            while (!control.stopped() && (quota == 0 || pos < quota)) {
                int n = quota == 0 ? length : (int) Math.min(length, quota - pos);
                c.writePattern(pos, n);
                pos += n;
                meter.addOut(n);
            }
            c.shutdownOutput();
            byte[] t = new byte[BenchProtocol.TRAILER_BYTES];
            if (!c.readFully(t)) {
                throw new IOException("the server closed without confirming the bytes received");
            }
            Trailer tr = Trailer.decode(t);
            control.serverBytes.add(tr.bytes());
            if (!tr.intact()) {
                control.corrupt("connection " + index + ": the server received bytes that differ from the pattern");
            }
            if (tr.bytes() != pos) {
                control.corrupt("connection " + index + ": sent " + pos + " bytes, the server received " + tr.bytes());
            }
            while (c.read(buf.run) >= 0) {
                // the server closes after its trailer
            }
        }

        private void receive(Conn c) throws IOException {
            long quota = spec.share(spec.maxBytes(), index);
            c.write(spec.header(quota).encode());
            long pos = 0;
            boolean shut = false;
            boolean intact = true;
            while (true) {
                if (!shut && control.stopped()) {
                    c.shutdownOutput(); // the server stops sending and closes
                    shut = true;
                }
                int n = c.read(buf.run);
                if (n < 0) {
                    break;
                }
                if (intact && !BenchProtocol.matches(c.rx(), 0, n, buf.pattern, pos)) {
                    intact = false;
                    control.corrupt("connection " + index + ": received bytes that differ from the pattern after "
                            + pos + " bytes");
                }
                pos += n;
                meter.addIn(n);
            }
            if (quota > 0 && pos != quota && !control.stopped()) {
                control.corrupt("connection " + index + ": asked for " + quota + " bytes, received " + pos);
            }
        }

        private void rr(Conn c) throws IOException {
            long quota = spec.share(spec.maxTransactions(), index);
            c.write(spec.header(0).encode());
            int req = spec.requestSize();
            int resp = spec.responseSize();
            long count = 0;
            while (!control.stopped() && (quota == 0 || count < quota)) {
                long t0 = System.nanoTime();
                c.writeMessage(req);
                int r = c.readMessage(resp);
                long t1 = System.nanoTime();
                if (r < 0) {
                    throw new IOException("the server closed the connection");
                }
                if (r == 0) {
                    control.corrupt("connection " + index + ": a response differs from the pattern");
                }
                meter.latency(t1 - t0);
                meter.addOut(req);
                meter.addIn(resp);
                meter.transaction();
                count++;
            }
            c.shutdownOutput();
            while (c.read(buf.run) >= 0) {
                // the server closes after our FIN
            }
        }

        private void crr() {
            long quota = spec.share(spec.maxConnections(), index);
            byte[] request = requestBytes();
            int resp = spec.responseSize();
            long count = 0;
            while (!control.stopped() && (quota == 0 || count < quota)) {
                long t0 = System.nanoTime();
                Conn c = null;
                try {
                    c = dialer.dial(buf, true);
                    current = c;
                    c.write(request);
                    int r = c.readMessage(resp);
                    long t1 = System.nanoTime();
                    if (r < 0) {
                        throw new IOException("the server closed the connection without answering");
                    }
                    if (r == 0) {
                        control.corrupt("loop " + index + ": a response differs from the pattern");
                    }
                    if (c.read(1) >= 0) {
                        throw new IOException("the server sent more than the response");
                    }
                    c.close();
                    current = null;
                    meter.latency(t1 - t0);
                    meter.addOut(spec.requestSize());
                    meter.addIn(resp);
                    meter.transaction();
                    meter.connection();
                    count++;
                } catch (IOException | RuntimeException e) {
                    meter.error();
                    control.problem("loop " + index + ": " + message(e));
                    if (c != null) {
                        c.abort();
                    }
                    current = null;
                }
            }
        }
    }

    /** Stack addresses are IPv4 dotted quads. */
    static final class StackAddress {
        private StackAddress() {
        }

        static int parse(String host) {
            try {
                return Ipv4.parse(host.strip());
            } catch (IllegalArgumentException e) {
                throw new BenchException("the stack needs an IPv4 address for the server, not '" + host + "'", true);
            }
        }
    }
}
