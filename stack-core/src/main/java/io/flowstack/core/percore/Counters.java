package io.flowstack.core.percore;

import io.flowstack.core.stats.Stat;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Per-core counters, one long per {@link Stat}.
 *
 * <p>Owned by: one netisr thread, the only writer (plain increments, no atomics). Other threads
 * read with {@link #get} (opaque reads: a recent, untorn value). Padded so that two cores'
 * counters never share a cache line. With the ownership check on, every write asserts that it
 * comes from the owner (a second writer would lose increments).
 */
public final class Counters {
    private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);
    private static final int PAD = 8;
    private final long[] values = new long[Stat.values().length + 2 * PAD];
    private final int core;
    private final Ownership owner;

    public Counters(int core) {
        this(core, null);
    }

    /** Counters whose writes are checked against {@code owner} (when the check is enabled). */
    public Counters(int core, Ownership owner) {
        this.core = core;
        this.owner = owner;
    }

    public int core() {
        return core;
    }

    public void inc(Stat s) {
        if (Ownership.ENABLED && owner != null) {
            owner.check();
        }
        values[PAD + s.ordinal()]++;
    }

    public void add(Stat s, long n) {
        if (Ownership.ENABLED && owner != null) {
            owner.check();
        }
        values[PAD + s.ordinal()] += n;
    }

    /** Read from any thread. */
    public long get(Stat s) {
        return (long) LONGS.getOpaque(values, PAD + s.ordinal());
    }

    /** Sum over all drop reasons. */
    public long drops() {
        long sum = 0;
        for (Stat s : Stat.values()) {
            if (s.isDrop()) {
                sum += get(s);
            }
        }
        return sum;
    }
}
