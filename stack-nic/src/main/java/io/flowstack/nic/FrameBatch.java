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
     * Allocates the slab of {@code capacity * slotSize} bytes (64-byte aligned) and carves the slots
     * out of it.
     *
     * @param arena    arena that owns the slab (closed by the caller)
     * @param capacity number of slots
     * @param slotSize bytes per slot; must hold the largest frame the queue can deliver
     * @throws IllegalArgumentException if {@code capacity} or {@code slotSize} is not positive
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

    /**
     * Number of slots, the most frames one receive call can deliver.
     *
     * @return the number of slots
     */
    public int capacity() {
        return slots.length;
    }

    /**
     * Size of every slot, the longest frame it can hold.
     *
     * @return the slot size in bytes
     */
    public int slotSize() {
        return slotSize;
    }

    /**
     * The whole slot {@code i} (its length is {@link #slotSize()}).
     *
     * @param i the slot number, {@code 0 <= i < capacity()}
     * @return the slot's memory; the same segment on every call
     */
    public MemorySegment slot(int i) {
        return slots[i];
    }

    /**
     * Length of the frame in slot {@code i}.
     *
     * @param i the slot number
     * @return the frame's length in bytes, valid for {@code i < count()}
     */
    public int length(int i) {
        return lengths[i];
    }

    /**
     * Sets the length of the frame in slot {@code i}; called by the queue that fills the batch.
     *
     * @param i the slot number
     * @param length the frame's length in bytes, at most {@link #slotSize()}
     */
    public void length(int i, int length) {
        lengths[i] = length;
    }

    /**
     * Number of valid frames, slots {@code [0, count)}.
     *
     * @return the frame count, 0 to {@link #capacity()}
     */
    public int count() {
        return count;
    }

    /**
     * Sets the number of valid frames; called by the queue at the end of a receive.
     *
     * @param count the number of frames in slots {@code [0, count)}
     */
    public void count(int count) {
        this.count = count;
    }
}
