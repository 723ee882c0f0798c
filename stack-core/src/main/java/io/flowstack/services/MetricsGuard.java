package io.flowstack.services;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The metrics service's admission rules and its own counters: a connection from a source outside
 * {@link MetricsLimits#allow} or over the core's {@link MetricsLimits#maxConnections} is refused,
 * and each refusal and each connection cut at its request deadline is counted on the connection's
 * core. Snapshots are counted by the snapshot thread.
 *
 * <p>Owned by: each core's slots by that core's netisr (plain increments published with release
 * stores, no CAS); the snapshot count by the snapshot thread (its only writer); the sums are read
 * with acquire loads from any thread.
 */
final class MetricsGuard {
    /** Counter: connections cut at their request deadline. */
    static final int CUT = 0;
    /** Counter: connections refused, the core's cap reached. */
    static final int REFUSED_LIMIT = 1;
    /** Counter: connections refused, the source not allowed. */
    static final int REFUSED_SOURCE = 2;
    private static final int KINDS = 3;
    /** 16 longs (128 bytes) between cores' slots: no false sharing. */
    private static final int STRIDE = 16;
    private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);
    private static final String[][] FAMILIES = {
        {"flowstack_metrics_cut_total",
            "metrics connections reset: no request and response head within the request timeout"},
        {"flowstack_metrics_refused_limit_total",
            "metrics connections reset on arrival: the core's connection limit was reached"},
        {"flowstack_metrics_refused_source_total",
            "metrics connections reset on arrival: the source is not in the allowed prefixes"},
    };

    private final MetricsLimits limits;
    private final int cores;
    /** [core * STRIDE + kind]. */
    private final long[] counts;
    /** Snapshots begun: written by the snapshot thread only. */
    private volatile long snapshots;

    MetricsGuard(MetricsLimits limits, int cores) {
        this.limits = limits;
        this.cores = cores;
        this.counts = new long[(cores + 1) * STRIDE];
    }

    /**
     * On core {@code core}'s netisr: whether a connection from {@code source} may be served
     * while the core serves {@code open} others; a refusal is counted.
     */
    boolean admit(int core, int source, int open) {
        if (!limits.allows(source)) {
            count(core, REFUSED_SOURCE);
            return false;
        }
        if (open >= limits.maxConnections()) {
            count(core, REFUSED_LIMIT);
            return false;
        }
        return true;
    }

    /** On core {@code core}'s netisr: counts one event of {@code kind}. */
    void count(int core, int kind) {
        int slot = core * STRIDE + kind;
        LONGS.setRelease(counts, slot, counts[slot] + 1);
    }

    /** On the snapshot thread: counts a snapshot begun. */
    void snapshotBegun() {
        snapshots = snapshots + 1; // one writer
    }

    /** {@return the events of {@code kind} counted on core {@code core}} Any thread. */
    long get(int core, int kind) {
        return (long) LONGS.getAcquire(counts, core * STRIDE + kind);
    }

    /** {@return the events of {@code kind} over every core} Any thread. */
    long sum(int kind) {
        long s = 0;
        for (int i = 0; i < cores; i++) {
            s += get(i, kind);
        }
        return s;
    }

    /** {@return the snapshots begun so far} Any thread. */
    long snapshots() {
        return snapshots;
    }

    /** Appends the service's counters to an exposition, in its format (per core, then the snapshots). */
    void render(StringBuilder b) {
        for (int k = 0; k < KINDS; k++) {
            String name = FAMILIES[k][0];
            b.append("# HELP ").append(name).append(' ').append(FAMILIES[k][1]).append('\n');
            b.append("# TYPE ").append(name).append(" counter\n");
            for (int i = 0; i < cores; i++) {
                b.append(name).append("{core=\"").append(i).append("\"} ").append(get(i, k)).append('\n');
            }
        }
        b.append("# HELP flowstack_metrics_snapshots_total snapshots of every core taken for scrapes (at most one per"
                + " cache interval)\n# TYPE flowstack_metrics_snapshots_total counter\nflowstack_metrics_snapshots_total ")
                .append(snapshots).append('\n');
    }
}
