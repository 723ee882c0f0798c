package io.flowstack.tools.bench;

/**
 * The connections of one client run on one kind of network (kernel sockets, the stack's blocking
 * API, the stack's callbacks). {@link BenchClient} drives it: {@link #open}, {@link #start},
 * {@link #awaitEnd} until the end or the deadline, {@link #abort} whatever is left.
 */
interface Engine {
    /**
     * Opens the connections of a stream or rr run, or checks the server with one unmeasured
     * connection of a crr run.
     *
     * @throws BenchException if the server cannot be reached or does not answer as it should
     */
    void open();

    /** Starts the traffic. */
    void start();

    /** Waits until every connection ended (true) or {@code deadlineNanos} (System.nanoTime) passed (false). */
    boolean awaitEnd(long deadlineNanos) throws InterruptedException;

    /** Resets every connection still open (after the grace period), so the run ends in bounded time. */
    void abort();

    /** Releases threads and buffers. */
    void close();
}
