package io.flowstack.tools.bench;

import io.flowstack.core.FlowStack;
import io.flowstack.core.socket.StackException;
import io.flowstack.core.socket.TcpChannel;
import io.flowstack.core.socket.TcpHandler;
import io.flowstack.core.config.TcpSocketOptions;
import io.flowstack.tools.bench.BenchProtocol.ProtocolException;
import io.flowstack.tools.bench.BenchProtocol.Trailer;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The client on the stack's callback API: every connection is a {@link TcpHandler} running on
 * the netisr that owns it, so data moves without a thread hop or a wake-up. Stream and rr
 * handlers write from one shared off-heap pattern and check what arrives in place in the
 * receive ring: nothing is allocated per write or transaction. Counters and latencies go to one
 * {@link Meter.Worker} per core, written only by that core's netisr.
 *
 * <p>crr runs one application thread per connect loop (a connect is a message to a netisr and
 * cannot be issued from a callback); the connection itself runs in callbacks.
 */
final class CallbackEngine implements Engine {
    private final BenchSpec spec;
    private final Control control;
    private final FlowStack stack;
    private final int address;
    private final TcpSocketOptions options;
    private final MemorySegment pattern;
    private final int run;
    private final Meter.Worker[] byCore;
    private final Meter.Worker[] loopWorkers;
    private final List<Conn> conns = new ArrayList<>();
    private final List<Thread> loops = new ArrayList<>();
    private final CountDownLatch opened;
    private final CountDownLatch allEnded;
    private final CountDownLatch go = new CountDownLatch(1);

    CallbackEngine(BenchSpec spec, Control control, Meter meter, FlowStack stack) {
        this.spec = spec;
        this.control = control;
        this.stack = stack;
        this.address = BlockingEngine.StackAddress.parse(spec.host());
        this.options = TcpSocketOptions.defaults(stack.config()).withNoDelay(spec.mode() != BenchSpec.Mode.STREAM);
        this.run = spec.mode() == BenchSpec.Mode.STREAM ? spec.length() : BenchSpec.DEFAULT_LENGTH;
        // the receive ring offers up to its whole capacity at once: checked piece by piece (matchesLong)
        this.pattern = BenchProtocol.pattern(Arena.ofAuto(), run);
        this.byCore = new Meter.Worker[stack.cores()];
        for (int i = 0; i < byCore.length; i++) {
            byCore[i] = meter.newWorker();
        }
        this.loopWorkers = new Meter.Worker[spec.mode() == BenchSpec.Mode.CRR ? spec.parallel() : 0];
        for (int i = 0; i < loopWorkers.length; i++) {
            loopWorkers[i] = meter.newWorker();
        }
        this.opened = new CountDownLatch(spec.parallel());
        this.allEnded = new CountDownLatch(spec.parallel());
    }

    private String where() {
        return spec.host() + ":" + spec.port();
    }

    @Override
    public void open() {
        if (spec.mode() == BenchSpec.Mode.CRR) {
            probe();
            for (int i = 0; i < spec.parallel(); i++) {
                int index = i;
                Thread t = new Thread(() -> connectLoop(index), "bench-crr-" + i);
                t.setDaemon(true);
                loops.add(t);
                t.start();
            }
            return;
        }
        for (int i = 0; i < spec.parallel(); i++) {
            Conn c = spec.mode() == BenchSpec.Mode.RR ? new RrConn(i) : spec.reverse() ? new ReceiveConn(i) : new SendConn(i);
            conns.add(c);
            try {
                stack.tcpConnect(address, spec.port(), options, c);
            } catch (StackException e) {
                abort();
                throw new BenchException("connect to " + where() + ": " + e.getMessage());
            }
        }
        long deadline = System.nanoTime() + spec.connectTimeoutNanos();
        try {
            boolean all = false;
            while (!all) {
                all = opened.await(10, TimeUnit.MILLISECONDS);
                for (Conn c : conns) {
                    String f = c.failure;
                    if (f != null || (all && c.ch == null)) {
                        abort();
                        f = f != null ? f : "closed during the handshake";
                        throw new BenchException("connect to " + where() + ": " + f + BlockingEngine.hint(new Exception(f)));
                    }
                }
                if (!all && System.nanoTime() - deadline > 0) {
                    abort();
                    throw new BenchException("connect to " + where() + ": timed out");
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            abort();
            throw new BenchException("interrupted while connecting");
        }
    }

    /** One unmeasured crr connection: the server is there and answers. */
    private void probe() {
        CrrConn c = new CrrConn(-1, System.nanoTime());
        try {
            stack.tcpConnect(address, spec.port(), options, c);
        } catch (StackException e) {
            throw new BenchException("connect to " + where() + ": " + e.getMessage());
        }
        long deadline = System.nanoTime() + spec.connectTimeoutNanos() + TimeUnit.SECONDS.toNanos(5);
        while (!c.done) {
            if (System.nanoTime() - deadline > 0) {
                c.abandon(spec.connectTimeoutNanos() + TimeUnit.SECONDS.toNanos(5));
                throw new BenchException(where() + ": no answer (timed out)");
            }
            LockSupport.parkNanos(c, TimeUnit.MILLISECONDS.toNanos(10));
        }
        if (!c.ok) {
            throw new BenchException("connect to " + where() + ": " + c.failure + BlockingEngine.hint(new Exception(c.failure)));
        }
    }

    @Override
    public void start() {
        go.countDown();
        for (Conn c : conns) {
            onNetisr(c, () -> c.begin(c.ch));
        }
    }

    /** Runs {@code r} on the netisr that owns {@code c} unless the connection already ended. */
    private void onNetisr(Conn c, Runnable r) {
        TcpChannel ch = c.ch;
        if (ch == null) {
            return;
        }
        try {
            onOwner(stack, ch, () -> {
                if (!c.ended) {
                    r.run();
                }
            });
        } catch (StackException e) {
            control.problem("netisr-" + ch.core() + ": " + e.getMessage());
        }
    }

    /**
     * Runs {@code r} on the netisr that owns {@code ch} when it runs: a connection can move to
     * another core with its bucket (stack rebalance) between reading its core and getting there.
     */
    static void onOwner(FlowStack stack, TcpChannel ch, Runnable r) {
        for (int tries = 0; tries < 16; tries++) {
            int core = ch.core();
            boolean ran = stack.call(core, n -> {
                if (ch.core() != n.core()) {
                    return false; // it moved on the way: follow it
                }
                r.run();
                return true;
            });
            if (ran) {
                return;
            }
        }
        throw new StackException("connection " + ch + " kept moving between cores");
    }

    @Override
    public boolean awaitEnd(long deadlineNanos) throws InterruptedException {
        if (!control.stopped()) {
            return allEnded.await(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
        }
        // stopping: tell the open connections now (their callbacks also see the flag)
        for (Conn c : conns) {
            if (!c.stopAsked) {
                c.stopAsked = true;
                onNetisr(c, () -> c.stop(c.ch));
            }
        }
        return allEnded.await(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
    }

    @Override
    public void abort() {
        for (Conn c : conns) {
            onNetisr(c, () -> c.ch.abort());
        }
        for (Thread t : loops) {
            t.interrupt();
        }
    }

    @Override
    public void close() {
        go.countDown();
    }

    // ------------------------------------------------------------------ connections

    /** A connection's handler and state. Owned by: the netisr of its connection (fields read by others are volatile). */
    private abstract class Conn implements TcpHandler {
        final int index;
        volatile TcpChannel ch;
        volatile boolean ended;
        volatile String failure;
        boolean stopAsked;
        boolean shut;
        private boolean counted;

        Conn(int index) {
            this.index = index;
        }

        Meter.Worker worker(TcpChannel c) {
            return byCore[c.core()];
        }

        @Override
        public void onOpen(TcpChannel c) {
            ch = c;
            worker(c).connection();
            opened.countDown();
        }

        /** The measurement starts (on the netisr). */
        abstract void begin(TcpChannel c);

        /** The run is stopping (on the netisr). */
        abstract void stop(TcpChannel c);

        void shutdown(TcpChannel c) {
            if (!shut) {
                shut = true;
                c.shutdownOutput();
            }
        }

        /**
         * The server closed (after our FIN, or after the bytes asked for): close too. The
         * connection counts as ended now (if we closed first, onClosed comes when our TIME_WAIT
         * begins, after the last ACK).
         */
        @Override
        public void onPeerClosed(TcpChannel c) {
            c.close();
            finished();
        }

        @Override
        public void onClosed(TcpChannel c, String error) {
            if (error != null) {
                failure = error;
                if (ch != null) {
                    worker(c).error();
                    control.problem("connection " + index + ": " + error);
                }
            }
            finished();
        }

        /** Writes the run header announcing {@code count}; false (and the connection reset) if it did not fit. */
        final boolean writeHeader(TcpChannel c, long count) {
            byte[] h = spec.header(count).encode();
            if (c.write(h, 0, h.length) != h.length) {
                fail(c, "no room for the header");
                return false;
            }
            return true;
        }

        /** Protocol violation by the server: reset. */
        void fail(TcpChannel c, String what) {
            control.problem("connection " + index + ": " + what);
            worker(c).error();
            c.abort();
        }

        final void finished() {
            if (!counted) {
                counted = true;
                ended = true;
                if (ch == null) {
                    opened.countDown(); // a connect that failed: open() reports it
                }
                allEnded.countDown();
            }
        }
    }

    /** Stream to the server: fills the send ring, then reads the server's trailer. */
    private final class SendConn extends Conn {
        private final long quota;
        private long pos;
        private boolean begun;
        private final byte[] trailer = new byte[BenchProtocol.TRAILER_BYTES];
        private int trailerGot;

        SendConn(int index) {
            super(index);
            this.quota = spec.share(spec.maxBytes(), index);
        }

        @Override
        void begin(TcpChannel c) {
            if (!writeHeader(c, 0)) {
                return;
            }
            begun = true;
            fill(c);
        }

        private void fill(TcpChannel c) {
            Meter.Worker w = worker(c);
            int length = spec.length();
            while (!control.stopped() && (quota == 0 || pos < quota)) {
                int want = quota == 0 ? length : (int) Math.min(length, quota - pos);
                int n = c.write(pattern, pos % BenchProtocol.PERIOD, want);
                if (n > 0) {
                    pos += n;
                    w.addOut(n);
                }
                if (n < want) {
                    return; // onWritable when the peer acknowledges
                }
            }
            shutdown(c);
        }

        @Override
        public void onWritable(TcpChannel c) {
            if (begun && !shut) {
                fill(c);
            }
        }

        @Override
        void stop(TcpChannel c) {
            if (begun) {
                shutdown(c);
            }
        }

        @Override
        public int onData(TcpChannel c, MemorySegment data, long offset, int length) {
            int k = Math.min(length, trailer.length - trailerGot);
            MemorySegment.copy(data, ValueLayout.JAVA_BYTE, offset, trailer, trailerGot, k);
            trailerGot += k;
            if (k < length) {
                fail(c, "the server sent more than its trailer");
                return length;
            }
            if (trailerGot == trailer.length) {
                try {
                    Trailer t = Trailer.decode(trailer);
                    control.serverBytes.add(t.bytes());
                    if (!t.intact()) {
                        control.corrupt("connection " + index + ": the server received bytes that differ from the pattern");
                    }
                    if (t.bytes() != pos) {
                        control.corrupt("connection " + index + ": sent " + pos + " bytes, the server received " + t.bytes());
                    }
                } catch (ProtocolException e) {
                    fail(c, e.getMessage());
                }
            }
            return length;
        }

        @Override
        public void onClosed(TcpChannel c, String error) {
            if (error == null && begun && trailerGot < trailer.length) {
                control.problem("connection " + index + ": the server closed without confirming the bytes received");
                worker(c).error();
            }
            super.onClosed(c, error);
        }
    }

    /** Stream from the server: checks what arrives in place, ends with FIN when stopped. */
    private final class ReceiveConn extends Conn {
        private final long quota;
        private long pos;
        private boolean intact = true;

        ReceiveConn(int index) {
            super(index);
            this.quota = spec.share(spec.maxBytes(), index);
        }

        @Override
        void begin(TcpChannel c) {
            writeHeader(c, quota);
        }

        @Override
        void stop(TcpChannel c) {
            shutdown(c);
        }

        @Override
        public int onData(TcpChannel c, MemorySegment data, long offset, int length) {
            if (intact && !BenchProtocol.matchesLong(data, offset, length, pattern, pos)) {
                intact = false;
                control.corrupt("connection " + index + ": received bytes that differ from the pattern after "
                        + pos + " bytes");
            }
            pos += length;
            worker(c).addIn(length);
            if (control.stopped()) {
                shutdown(c);
            }
            return length;
        }

        @Override
        public void onPeerClosed(TcpChannel c) {
            if (quota > 0 && pos != quota && !control.stopped()) {
                control.corrupt("connection " + index + ": asked for " + quota + " bytes, received " + pos);
            }
            super.onPeerClosed(c);
        }
    }

    /** Request/response, one outstanding. */
    private final class RrConn extends Conn {
        private final long quota;
        private long count;
        private int reqSent;
        private int respGot;
        private long t0;
        private boolean begun;

        RrConn(int index) {
            super(index);
            this.quota = spec.share(spec.maxTransactions(), index);
        }

        @Override
        void begin(TcpChannel c) {
            if (!writeHeader(c, 0)) {
                return;
            }
            begun = true;
            request(c);
        }

        private void request(TcpChannel c) {
            t0 = System.nanoTime();
            reqSent = 0;
            respGot = 0;
            writeRequest(c);
        }

        private void writeRequest(TcpChannel c) {
            int req = spec.requestSize();
            while (reqSent < req) {
                int want = Math.min(req - reqSent, run);
                int n = c.write(pattern, reqSent % BenchProtocol.PERIOD, want);
                reqSent += n;
                if (n < want) {
                    return;
                }
            }
        }

        @Override
        public void onWritable(TcpChannel c) {
            if (begun && reqSent < spec.requestSize()) {
                writeRequest(c);
            }
        }

        @Override
        void stop(TcpChannel c) {
            // the transaction in flight completes first; onData then ends the connection
        }

        @Override
        public int onData(TcpChannel c, MemorySegment data, long offset, int length) {
            int resp = spec.responseSize();
            if (!begun || reqSent < spec.requestSize() || respGot + length > resp) {
                fail(c, "the server sent bytes that were not asked for");
                return length;
            }
            if (!BenchProtocol.matchesLong(data, offset, length, pattern, respGot)) {
                control.corrupt("connection " + index + ": a response differs from the pattern");
            }
            respGot += length;
            if (respGot == resp) {
                long t1 = System.nanoTime();
                Meter.Worker w = worker(c);
                w.latency(t1 - t0);
                w.addOut(spec.requestSize());
                w.addIn(resp);
                w.transaction();
                count++;
                if (control.stopped() || (quota > 0 && count >= quota)) {
                    begun = false;
                    shutdown(c);
                } else {
                    request(c);
                }
            }
            return length;
        }
    }

    // ------------------------------------------------------------------ crr

    /** One connect loop (application thread): connect, wait for the callbacks to finish, again. */
    private void connectLoop(int index) {
        Meter.Worker own = loopWorkers[index]; // failures seen by this thread (one writer per worker)
        long quota = spec.share(spec.maxConnections(), index);
        long count = 0;
        long wait = spec.connectTimeoutNanos() + TimeUnit.SECONDS.toNanos(5);
        try {
            go.await();
            while (!control.stopped() && (quota == 0 || count < quota)) {
                CrrConn c = new CrrConn(index, System.nanoTime());
                try {
                    stack.tcpConnect(address, spec.port(), options, c);
                } catch (StackException e) {
                    own.error();
                    control.problem("loop " + index + ": " + e.getMessage());
                    continue;
                }
                long deadline = System.nanoTime() + wait;
                while (!c.done) {
                    if (System.nanoTime() - deadline > 0) {
                        own.error();
                        c.abandon(wait);
                        break;
                    }
                    LockSupport.parkNanos(c, TimeUnit.MILLISECONDS.toNanos(50));
                    if (Thread.interrupted()) {
                        c.abandon(wait);
                        return;
                    }
                }
                if (c.ok) {
                    count++;
                }
            }
        } catch (InterruptedException e) {
            // aborted before the start
        } finally {
            allEnded.countDown();
        }
    }

    /**
     * One connection of a connect loop (or of the probe, index -1, which is not measured).
     * Latency: from the connect call to the last byte of the response.
     */
    private final class CrrConn extends Conn {
        private final Thread loop = Thread.currentThread();
        private final long t0;
        private long t1;
        private int reqSent;
        private int respGot;
        volatile boolean done;
        volatile boolean ok;
        private volatile boolean abandoned;

        CrrConn(int index, long t0) {
            super(index);
            this.t0 = t0;
        }

        @Override
        public void onOpen(TcpChannel c) {
            ch = c;
            if (!writeHeader(c, 0)) {
                return;
            }
            writeRequest(c);
        }

        private void writeRequest(TcpChannel c) {
            int req = spec.requestSize();
            while (reqSent < req) {
                int want = Math.min(req - reqSent, run);
                int n = c.write(pattern, reqSent % BenchProtocol.PERIOD, want);
                reqSent += n;
                if (n < want) {
                    return;
                }
            }
        }

        @Override
        public void onWritable(TcpChannel c) {
            writeRequest(c);
        }

        @Override
        void begin(TcpChannel c) {
        }

        @Override
        void stop(TcpChannel c) {
        }

        @Override
        public int onData(TcpChannel c, MemorySegment data, long offset, int length) {
            int resp = spec.responseSize();
            if (respGot + length > resp || reqSent < spec.requestSize()) {
                fail(c, "the server sent bytes that were not asked for");
                return length;
            }
            if (!BenchProtocol.matchesLong(data, offset, length, pattern, respGot)) {
                control.corrupt("loop " + index + ": a response differs from the pattern");
            }
            respGot += length;
            if (respGot == resp) {
                t1 = System.nanoTime();
            }
            return length;
        }

        @Override
        public void onPeerClosed(TcpChannel c) {
            c.close();
            if (abandoned) {
                signal();
                return;
            }
            if (respGot == spec.responseSize()) {
                if (index >= 0) {
                    Meter.Worker w = worker(c);
                    w.latency(t1 - t0);
                    w.addOut(spec.requestSize());
                    w.addIn(respGot);
                    w.transaction();
                    w.connection();
                }
                ok = true;
            } else {
                failure = "the server closed after " + respGot + " of " + spec.responseSize() + " response bytes";
                if (index >= 0) {
                    worker(c).error();
                    control.problem("loop " + index + ": " + failure);
                }
            }
            signal();
        }

        @Override
        public void onClosed(TcpChannel c, String error) {
            if (!done) {
                failure = error != null ? error : "closed before the response";
                if (index >= 0 && !abandoned) {
                    worker(c).error();
                    control.problem("loop " + index + ": " + failure);
                }
                signal();
            }
        }

        private void signal() {
            if (!done) {
                done = true;
                LockSupport.unpark(loop);
            }
        }

        /** The loop gave up waiting after {@code waited} ns (called by the loop thread); resets the connection. */
        void abandon(long waited) {
            abandoned = true;
            failure = "no answer within " + TimeUnit.NANOSECONDS.toSeconds(waited) + " s";
            if (index >= 0) {
                control.problem("loop " + index + ": " + failure);
            }
            TcpChannel c = ch;
            if (c != null) {
                try {
                    onOwner(stack, c, () -> {
                        if (!done) {
                            c.abort();
                        }
                    });
                } catch (StackException ignored) {
                    // the stack is closing
                }
            }
        }
    }
}
