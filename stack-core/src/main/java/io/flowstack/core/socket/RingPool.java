package io.flowstack.core.socket;

import java.lang.foreign.Arena;
import java.util.ArrayDeque;
import org.agrona.collections.Int2ObjectHashMap;

/**
 * One core's pool of TCP stream rings: rings are allocated once (off-heap, in the core's arena)
 * and reused by later connections, so opening a connection neither allocates nor zeroes
 * megabytes of memory on the netisr, and the memory is bounded and freed with the stack, not by
 * the GC. Lent bytes are bounded by the core's share of the TCP memory budget.
 *
 * <p>Owned by: one netisr thread.
 */
public final class RingPool {
    private final Arena arena = Arena.ofShared();
    private final Int2ObjectHashMap<ArrayDeque<ByteRing>> free = new Int2ObjectHashMap<>();
    private final long budget;
    private long lent;
    private long allocated;

    public RingPool(long budgetBytes) {
        this.budget = budgetBytes;
    }

    /** Whether {@code bytes} more can be lent within the budget. */
    public boolean canLend(long bytes) {
        return lent + bytes <= budget;
    }

    /** A ring of {@code capacity} bytes, empty (head = tail = 0). */
    public ByteRing take(int capacity) {
        ArrayDeque<ByteRing> q = free.get(capacity);
        ByteRing r = q == null ? null : q.poll();
        if (r == null) {
            r = new ByteRing(arena, capacity);
            allocated += capacity;
        } else {
            r.reset();
        }
        lent += capacity;
        return r;
    }

    public void give(ByteRing r) {
        lent -= r.capacity();
        free.computeIfAbsent(r.capacity(), k -> new ArrayDeque<>()).push(r);
    }

    /** Bytes currently lent to connections. */
    public long lent() {
        return lent;
    }

    /** Bytes allocated so far (lent or idle in the pool). */
    public long allocated() {
        return allocated;
    }

    /** Frees every ring; call once the netisr has stopped. */
    public void close() {
        arena.close();
    }
}
