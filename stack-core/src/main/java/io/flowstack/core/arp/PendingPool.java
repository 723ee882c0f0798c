package io.flowstack.core.arp;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Fixed off-heap slots for frames waiting for ARP resolution, with a free list.
 *
 * <p>Owned by: the netisr thread of its {@link ArpLayer}.
 */
final class PendingPool {
    private final MemorySegment slab;
    private final int slotSize;
    private final int[] lengths;
    private final int[] free;
    private int freeCount;

    PendingPool(Arena arena, int slots, int frameSize) {
        this.slotSize = (Math.max(frameSize, 64) + 63) & ~63;
        this.slab = arena.allocate((long) slots * slotSize, 64);
        this.lengths = new int[slots];
        this.free = new int[slots];
        for (int i = 0; i < slots; i++) {
            free[i] = slots - 1 - i;
        }
        this.freeCount = slots;
    }

    int allocate() {
        return freeCount == 0 ? -1 : free[--freeCount];
    }

    void free(int slot) {
        free[freeCount++] = slot;
    }

    void store(int slot, MemorySegment s, long off, int len) {
        if (len > slotSize) {
            throw new IllegalArgumentException("frame of " + len + " bytes exceeds the MTU slot");
        }
        MemorySegment.copy(s, off, slab, offset(slot), len);
        lengths[slot] = len;
    }

    MemorySegment buffer() {
        return slab;
    }

    long offset(int slot) {
        return (long) slot * slotSize;
    }

    int length(int slot) {
        return lengths[slot];
    }
}
