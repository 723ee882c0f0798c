package io.flowstack.core.socket;

import java.lang.foreign.Arena;

/**
 * One core's accounting of TCP stream rings: every connection's two rings are charged against
 * the core's share of the TCP memory budget while they are lent, and released when both the
 * netisr and the application are done with them.
 *
 * <p>The rings themselves live in GC-managed arenas ({@code Arena.ofAuto}). Reusing returned
 * rings for new connections (a real pool) lifted the connection rate from hundreds to ~12,000
 * per second, but it exposed 1-3 premature ends of stream per 60,000 connections under
 * `wrk -H 'Connection: close'` whose cause is not found yet (docs/DESIGN-NOTES.md, "Ring pool"),
 * so rings are not reused until it is.
 *
 * <p>Owned by: one netisr thread.
 */
public final class RingPool {
    private final long budget;
    private long lent;

    public RingPool(long budgetBytes) {
        this.budget = budgetBytes;
    }

    /** Whether {@code bytes} more can be lent within the budget. */
    public boolean canLend(long bytes) {
        return lent + bytes <= budget;
    }

    /** A new, empty ring of {@code capacity} bytes. */
    public ByteRing take(int capacity) {
        lent += capacity;
        return new ByteRing(Arena.ofAuto(), capacity);
    }

    /** The ring's owner is done with it: its bytes no longer count against the budget. */
    public void give(ByteRing r) {
        if (r.inPool) {
            throw new IllegalStateException("ring returned twice");
        }
        r.inPool = true;
        lent -= r.capacity();
    }

    /** Bytes currently lent to connections. */
    public long lent() {
        return lent;
    }

    /** Nothing to free: the rings' arenas are freed by the GC. */
    public void close() {}
}
