package io.flowstack.tools.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * The bench client: runs one measurement against a bench server ({@link BenchServer}, or
 * {@code stack bench --server} anywhere) and returns a {@link BenchResult}.
 *
 * <pre>{@code
 * BenchResult r = BenchClient.run(BenchSpec.rr("198.18.0.1", 1).withDuration(Duration.ofSeconds(5)),
 *         Net.stack(flowStack), Sink.NONE);
 * r.transactionsPerSecond(); r.latency().p99Us();
 * }</pre>
 *
 * <p>The calling thread is the reporting thread: it samples the {@link Meter} once per interval,
 * hands each {@link Interval} to the {@link Sink}, stops the run at its time limit and waits
 * (at most {@value #GRACE_SECONDS} s) for the connections to end cleanly, resetting those that
 * do not. {@link #stop()} (any thread, e.g. a Ctrl-C hook) ends the run early the same way; the
 * result then holds what was measured so far.
 */
public final class BenchClient {
    /** How long connections may take to end after the run stopped before they are reset. */
    public static final int GRACE_SECONDS = 10;

    private final BenchSpec spec;
    private final Net net;
    private final Control control = new Control();

    public BenchClient(BenchSpec spec, Net net) {
        this.spec = spec;
        this.net = net;
    }

    /** Runs {@code spec} on {@code net}. */
    public static BenchResult run(BenchSpec spec, Net net, Sink sink) {
        return new BenchClient(spec, net).run(sink);
    }

    /** Ends the run early (thread-safe); {@link #run} then returns what was measured. */
    public void stop() {
        control.stop("stop");
    }

    /**
     * Opens the connections, measures, and returns the result.
     *
     * @throws BenchException if the server cannot be reached or does not speak the protocol
     */
    public BenchResult run(Sink sink) {
        Meter meter = new Meter(spec.latency());
        Engine engine = switch (net) {
            case Net.Kernel k -> BlockingEngine.kernel(spec, control, meter);
            case Net.Stack s when s.blocking() -> BlockingEngine.stack(spec, control, meter, s.stack());
            case Net.Stack s -> new CallbackEngine(spec, control, meter, s.stack());
        };
        try {
            engine.open();
            return measure(engine, meter, sink);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            engine.abort();
            throw new BenchException("interrupted");
        } finally {
            engine.close();
        }
    }

    private BenchResult measure(Engine engine, Meter meter, Sink sink) throws InterruptedException {
        long interval = spec.intervalNanos();
        long t0 = System.nanoTime();
        long deadline = t0 + spec.durationNanos();
        long omitEnd = t0 + TimeUnit.SECONDS.toNanos(spec.omitSeconds());
        sink.started(spec, spec.describe());
        engine.start();

        List<Interval> intervals = new ArrayList<>();
        Histogram intervalHist = Meter.newHistogram();
        Histogram measuredHist = Meter.newHistogram();
        Histogram allHist = Meter.newHistogram();
        Meter.Totals prev = Meter.Totals.ZERO;
        long prevTime = t0;
        Meter.Totals measuredFrom = spec.omitSeconds() == 0 ? Meter.Totals.ZERO : null;
        long measuredStart = spec.omitSeconds() == 0 ? t0 : 0;
        boolean ended;
        boolean grace = false;
        long graceDeadline = 0;
        long end;
        while (true) {
            long next = prevTime + interval;
            long limit = grace ? graceDeadline : deadline;
            long wake = next - limit < 0 ? next : limit;
            if (control.stopped() && !grace) {
                wake = System.nanoTime(); // just stopped (Ctrl-C, a count): start the grace period now
            }
            ended = engine.awaitEnd(wake);
            long now = System.nanoTime();
            if (!ended && !control.stopped() && now - deadline >= 0) {
                control.stop("duration");
            }
            boolean last = ended || (grace && now - graceDeadline >= 0);
            if (now - next >= 0 || last) {
                Meter.Totals t = meter.totals();
                Meter.Totals d = t.minus(prev);
                meter.drainLatencies(intervalHist);
                boolean omitted = measuredFrom == null;
                // rr, crr: a transaction is counted in the interval whose histogram holds its latency
                long tx = spec.latency() ? intervalHist.getTotalCount() : 0;
                Interval iv = new Interval(seconds(prevTime - t0), seconds(now - t0), moved(d), tx,
                        spec.mode() == BenchSpec.Mode.CRR ? tx : 0, d.errors(), spec.latency() ? Latency.of(intervalHist) : null,
                        omitted);
                intervals.add(iv); // every one, the last sliver too: the intervals add up to the totals
                sink.interval(iv);
                allHist.add(intervalHist);
                if (!omitted) {
                    measuredHist.add(intervalHist);
                }
                if (measuredFrom == null && now - omitEnd >= 0) {
                    measuredFrom = t;
                    measuredStart = now;
                }
                if (!omitted && spec.mode() == BenchSpec.Mode.CRR && tx == 0 && d.errors() > 0
                        && !control.stopped()) {
                    control.stop("error"); // a whole interval of failures: the server is gone
                }
                prev = t;
                prevTime = now;
            }
            if (last) {
                end = now;
                break;
            }
            if (control.stopped() && !grace) {
                grace = true;
                graceDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(GRACE_SECONDS);
            }
        }
        if (!ended) {
            control.problem("connections still open " + GRACE_SECONDS + " s after the run stopped were reset");
            engine.abort();
            engine.awaitEnd(System.nanoTime() + TimeUnit.SECONDS.toNanos(5));
        }
        Meter.Totals all = meter.totals();
        if (measuredFrom == null) { // the run ended inside the warm-up: report all of it
            measuredFrom = Meter.Totals.ZERO;
            measuredStart = t0;
            measuredHist = allHist;
        }
        Meter.Totals measured = all.minus(measuredFrom);
        long serverBytes = -1;
        if (spec.mode() == BenchSpec.Mode.STREAM && !spec.reverse()) {
            serverBytes = control.serverBytes.sum();
            if (serverBytes != all.bytesOut() && !control.corrupted() && all.errors() == 0) {
                control.corrupt("sent " + all.bytesOut() + " bytes, the server confirmed " + serverBytes);
            }
        }
        String stoppedBy = control.reason();
        if (stoppedBy == null) {
            stoppedBy = all.errors() > 0 ? "error" : spec.maxBytes() > 0 ? "bytes"
                    : spec.maxTransactions() > 0 ? "transactions" : spec.maxConnections() > 0 ? "connections" : "done";
        }
        // rr, crr: transactions are counted by their latencies (every one records exactly one), so
        // that counts and percentiles cover the same transactions, also across the --omit boundary
        // (the last interval was taken after every connection had ended: nothing is left over)
        long measuredTx = spec.latency() ? measuredHist.getTotalCount() : 0;
        long allTx = spec.latency() ? allHist.getTotalCount() : 0;
        boolean crr = spec.mode() == BenchSpec.Mode.CRR;
        return new BenchResult(spec, net.name(), net.api(), seconds(end - measuredStart), moved(measured),
                measuredTx, crr ? measuredTx : all.connections(),
                all.errors(), spec.latency() ? Latency.of(measuredHist) : null, !control.corrupted(), serverBytes,
                stoppedBy, seconds(end - t0), moved(all), allTx, crr ? allTx : all.connections(), intervals,
                control.problems());
    }

    /** The bytes a stream run moved: sent to the server, or received from it. */
    private long moved(Meter.Totals t) {
        if (spec.mode() == BenchSpec.Mode.STREAM) {
            return spec.reverse() ? t.bytesIn() : t.bytesOut();
        }
        return t.bytesOut() + t.bytesIn();
    }

    private static double seconds(long nanos) {
        return nanos / 1e9;
    }
}
