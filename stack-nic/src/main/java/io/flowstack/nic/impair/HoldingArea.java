package io.flowstack.nic.impair;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Frames held back by one direction of an {@link ImpairedQueue}: a fixed off-heap slab of
 * {@code capacity} slots of {@code slotSize} bytes, and a binary min-heap of slot numbers keyed by
 * (release time, arrival number), so that frames due at the same time leave in arrival order
 * (netem's {@code tfifo} queue is a tree sorted the same way).
 *
 * <pre>
 *   slab:  | slot 0 | slot 1 | ... | slot capacity-1 |      frame bytes, off-heap
 *   due[s], order[s], length[s]                          keys and length of slot s
 *   heap[0..size)   slot numbers, heap[0] is the earliest
 *   free[0..freeTop) unused slot numbers (a stack)
 * </pre>
 *
 * Times are {@code nanoTime} values compared by difference, so any clock origin works. All arrays
 * and the slab are allocated by the constructor; nothing is allocated afterwards.
 *
 * <p>Owned by: the thread that owns the wrapped queue (not thread safe).
 */
final class HoldingArea {
    private final MemorySegment slab;
    private final int slotSize;
    private final long[] due;
    private final long[] order;
    private final int[] length;
    private final int[] heap;
    private final int[] free;
    private int size;
    private int freeTop;
    private long nextOrder;

    HoldingArea(Arena arena, int capacity, int slotSize) {
        this.slotSize = slotSize;
        this.slab = arena.allocate((long) capacity * slotSize, 64);
        this.due = new long[capacity];
        this.order = new long[capacity];
        this.length = new int[capacity];
        this.heap = new int[capacity];
        this.free = new int[capacity];
        for (int i = 0; i < capacity; i++) {
            free[i] = capacity - 1 - i; // slot 0 is handed out first
        }
        this.freeTop = capacity;
    }

    int capacity() {
        return heap.length;
    }

    int slotSize() {
        return slotSize;
    }

    /** Number of frames held. */
    int size() {
        return size;
    }

    boolean isEmpty() {
        return size == 0;
    }

    /** The slab that holds every slot; slot {@code s} starts at {@link #offset(int) offset(s)}. */
    MemorySegment slab() {
        return slab;
    }

    long offset(int slot) {
        return (long) slot * slotSize;
    }

    int length(int slot) {
        return length[slot];
    }

    /**
     * Copies {@code src[srcOffset, srcOffset + len)} into a free slot due at {@code dueNanos}.
     *
     * @return the slot, or {@code -1} if the area is full or the frame is longer than a slot
     */
    int hold(MemorySegment src, long srcOffset, int len, long dueNanos) {
        if (freeTop == 0 || len > slotSize) {
            return -1;
        }
        int slot = free[--freeTop];
        MemorySegment.copy(src, srcOffset, slab, offset(slot), len);
        length[slot] = len;
        due[slot] = dueNanos;
        order[slot] = nextOrder++;
        siftUp(size++, slot);
        return slot;
    }

    /** Release time of the earliest frame; only when not {@link #isEmpty()}. */
    long earliestDue() {
        return due[heap[0]];
    }

    /** Whether the earliest frame is due at {@code now}. */
    boolean hasDue(long now) {
        return size > 0 && due[heap[0]] - now <= 0;
    }

    /**
     * Removes the earliest frame from the order and returns its slot, whose bytes stay valid
     * until {@link #free(int)} or the next {@link #hold}.
     */
    int pop() {
        int top = heap[0];
        int last = heap[--size];
        if (size > 0) {
            siftDown(0, last);
        }
        return top;
    }

    /** Returns a slot obtained from {@link #pop()} to the free stack. */
    void free(int slot) {
        free[freeTop++] = slot;
    }

    private boolean before(int a, int b) {
        long d = due[a] - due[b];
        return d < 0 || (d == 0 && order[a] < order[b]);
    }

    private void siftUp(int i, int slot) {
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            int p = heap[parent];
            if (!before(slot, p)) {
                break;
            }
            heap[i] = p;
            i = parent;
        }
        heap[i] = slot;
    }

    private void siftDown(int i, int slot) {
        int half = size >>> 1;
        while (i < half) {
            int child = 2 * i + 1;
            int c = heap[child];
            int right = child + 1;
            if (right < size && before(heap[right], c)) {
                child = right;
                c = heap[child];
            }
            if (!before(c, slot)) {
                break;
            }
            heap[i] = c;
            i = child;
        }
        heap[i] = slot;
    }
}
