package io.flowstack.core.forward;

import java.lang.management.ManagementFactory;

/**
 * Measures the heap bytes this thread allocates while running a batch of calls, after warm-up
 * (class loading, interpretation, compilation). Stateless.
 */
final class Allocations {
    static final int CALLS = 100_000;
    private static final int WARM_UP_ROUNDS = 5;
    private static final int ROUNDS = 5;

    private Allocations() {}

    /**
     * The fewest bytes allocated by one run of {@code batch} (which makes {@link #CALLS} calls)
     * in {@value #ROUNDS} runs after {@value #WARM_UP_ROUNDS} runs of warm-up. A call that
     * allocates shows in every run; zero in a run means the calls allocate nothing (a one-off
     * allocation of the JVM's own, such as a compilation's transition, shows in one run only).
     */
    static long perBatch(Runnable batch) {
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        for (int i = 0; i < WARM_UP_ROUNDS; i++) {
            batch.run();
        }
        long min = Long.MAX_VALUE;
        for (int i = 0; i < ROUNDS; i++) {
            long before = mx.getCurrentThreadAllocatedBytes();
            batch.run();
            min = Math.min(min, mx.getCurrentThreadAllocatedBytes() - before);
        }
        return min;
    }
}
