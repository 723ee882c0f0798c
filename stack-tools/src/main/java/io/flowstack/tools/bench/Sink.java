package io.flowstack.tools.bench;

/**
 * Receives a run's progress, on the thread that runs {@link BenchClient#run}. Must not block
 * for long (it delays the next interval, not the traffic).
 */
@FunctionalInterface
public interface Sink {
    /** Does nothing. */
    Sink NONE = i -> { };

    /** One interval ended. */
    void interval(Interval interval);

    /** The measurement started: connections are open (stream, rr) and the clock runs. */
    default void started(BenchSpec spec, String description) {
    }
}
