package io.flowstack.nic;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A fixed set of off-heap frame slots that a {@link NicQueue} fills in one
 * {@link NicQueue#receive} call. All slots are carved out of one slab allocated at construction;
 * nothing is allocated afterwards.
 *
 * <p>Owned by: one netisr thread (not thread safe).
 */
public final class FrameBatch {
    private final MemorySegment slab;
    private final MemorySegment[] slots;
    private final int[] lengths;
    private final int slotSize;
    private int count;

    /**
     * @param arena    arena that owns the slab (closed by the caller)
     * @param capacity number of slots
     * @param slotSize bytes per slot; must hold the largest frame the queue can deliver
     */
    public FrameBatch(Arena arena, int capacity, int slotSize) {
        if (capacity <= 0 || slotSize <= 0) {
            throw new IllegalArgumentException("capacity and slotSize must be > 0");
        }
        this.slotSize = slotSize;
        this.slab = arena.allocate((long) capacity * slotSize, 64);
        this.slots = new MemorySegment[capacity];
        this.lengths = new int[capacity];
        for (int i = 0; i < capacity; i++) {
            slots[i] = slab.asSlice((long) i * slotSize, slotSize);
        }
    }

    public int capacity() {
        return slots.length;
    }

    public int slotSize() {
        return slotSize;
    }

    /** The whole slot {@code i} (its length is {@link #slotSize()}). */
    public MemorySegment slot(int i) {
        return slots[i];
    }

    /** Length of the frame in slot {@code i}. */
    public int length(int i) {
        return lengths[i];
    }

    public void length(int i, int length) {
        lengths[i] = length;
    }

    /** Number of valid frames, slots {@code [0, count)}. */
    public int count() {
        return count;
    }

    public void count(int count) {
        this.count = count;
    }
}
