package io.flowstack.tools.bench;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.SingleWriterRecorder;

/**
 * The measurement shared by every engine (kernel sockets, the stack's blocking API, the stack's
 * callbacks): a set of {@link Worker}s, each written by one thread only (a connection thread,
 * or the netisr that runs a core's callbacks), summed by the reporting thread.
 *
 * <p>Counters are plain longs published with opaque writes (one writer, monotonic, read once a
 * second): no lock, no CAS, no allocation on the measured path. Latencies go to one HdrHistogram
 * {@link SingleWriterRecorder} per worker, in nanoseconds.
 */
public final class Meter {
    /** Highest latency recorded exactly; longer ones are recorded as this. */
    static final long MAX_LATENCY_NANOS = TimeUnit.SECONDS.toNanos(60);
    private static final long LOWEST_NANOS = 10;
    private static final int DIGITS = 3;

    private final List<Worker> workers = new CopyOnWriteArrayList<>();
    private final boolean latency;

    /** @param latency whether workers record latencies */
    public Meter(boolean latency) {
        this.latency = latency;
    }

    /** A new worker (registered for good: its counts stay in the totals). */
    public Worker newWorker() {
        Worker w = new Worker(latency ? new SingleWriterRecorder(LOWEST_NANOS, MAX_LATENCY_NANOS, DIGITS) : null);
        workers.add(w);
        return w;
    }

    /** An empty histogram with the workers' range. */
    public static Histogram newHistogram() {
        return new Histogram(LOWEST_NANOS, MAX_LATENCY_NANOS, DIGITS);
    }

    /** Sum of every worker's counters now. */
    public Totals totals() {
        long in = 0;
        long out = 0;
        long tx = 0;
        long conns = 0;
        long errors = 0;
        for (Worker w : workers) {
            in += w.bytesIn();
            out += w.bytesOut();
            tx += w.transactions();
            conns += w.connections();
            errors += w.errors();
        }
        return new Totals(in, out, tx, conns, errors);
    }

    /**
     * Moves the latencies recorded since the last call into {@code into} (reporting thread
     * only). Returns {@code into}.
     */
    public Histogram drainLatencies(Histogram into) {
        into.reset();
        if (!latency) {
            return into;
        }
        for (Worker w : workers) {
            w.recycle = w.recorder.getIntervalHistogram(w.recycle);
            into.add(w.recycle);
        }
        return into;
    }

    /** Counter totals at one moment. */
    public record Totals(long bytesIn, long bytesOut, long transactions, long connections, long errors) {
        public static final Totals ZERO = new Totals(0, 0, 0, 0, 0);

        public Totals minus(Totals o) {
            return new Totals(bytesIn - o.bytesIn, bytesOut - o.bytesOut, transactions - o.transactions,
                    connections - o.connections, errors - o.errors);
        }
    }

    /**
     * One writer's counters. Owned by: the one thread that updates it (a connection thread, or a
     * netisr for the callback engine); read by the reporting thread.
     */
    public static final class Worker {
        private static final VarHandle IN;
        private static final VarHandle OUT;
        private static final VarHandle TX;
        private static final VarHandle CONNS;
        private static final VarHandle ERRORS;

        static {
            try {
                MethodHandles.Lookup l = MethodHandles.lookup();
                IN = l.findVarHandle(Worker.class, "bytesIn", long.class);
                OUT = l.findVarHandle(Worker.class, "bytesOut", long.class);
                TX = l.findVarHandle(Worker.class, "transactions", long.class);
                CONNS = l.findVarHandle(Worker.class, "connections", long.class);
                ERRORS = l.findVarHandle(Worker.class, "errors", long.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        private final SingleWriterRecorder recorder;
        /** The reporting thread's interval histogram, handed back to the recorder each time. */
        private Histogram recycle;
        @SuppressWarnings("unused")
        private long p0, p1, p2, p3, p4, p5, p6;
        private long bytesIn;
        private long bytesOut;
        private long transactions;
        private long connections;
        private long errors;
        @SuppressWarnings("unused")
        private long q0, q1, q2, q3, q4, q5, q6;

        Worker(SingleWriterRecorder recorder) {
            this.recorder = recorder;
        }

        public void addIn(long n) {
            IN.setOpaque(this, bytesIn + n);
        }

        public void addOut(long n) {
            OUT.setOpaque(this, bytesOut + n);
        }

        public void transaction() {
            TX.setOpaque(this, transactions + 1);
        }

        public void connection() {
            CONNS.setOpaque(this, connections + 1);
        }

        public void error() {
            ERRORS.setOpaque(this, errors + 1);
        }

        /** Records one latency in nanoseconds (clamped to the histogram's range). */
        public void latency(long nanos) {
            if (recorder != null) {
                recorder.recordValue(Math.max(LOWEST_NANOS, Math.min(nanos, MAX_LATENCY_NANOS)));
            }
        }

        long bytesIn() {
            return (long) IN.getOpaque(this);
        }

        long bytesOut() {
            return (long) OUT.getOpaque(this);
        }

        long transactions() {
            return (long) TX.getOpaque(this);
        }

        long connections() {
            return (long) CONNS.getOpaque(this);
        }

        long errors() {
            return (long) ERRORS.getOpaque(this);
        }
    }
}
