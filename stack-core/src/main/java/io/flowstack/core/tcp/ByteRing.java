package io.flowstack.core.tcp;

import io.flowstack.nativeio.Libc;
import io.flowstack.nativeio.Madvise;
import io.flowstack.nic.TxFrame;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A single-producer/single-consumer byte ring over off-heap memory: the stream buffer between
 * an application thread and the netisr that owns a TCP connection.
 *
 * <p>Positions are monotonically increasing longs; {@code tail} is written only by the producer
 * and {@code head} only by the consumer, each published with release and read with acquire
 * semantics. No locks, no CAS. The consumer may also read bytes beyond {@code head} without
 * consuming them (TCP keeps sent data until it is acknowledged), and the producer may write
 * beyond {@code tail} before publishing it (TCP places out-of-order data in the window).
 *
 * <p>The position the ring was last emptied at ({@code resetAt}) is at offset 0 of its memory.
 * A ring lent to a connection mid-stream therefore starts at its first byte, not at wherever the
 * stream's position falls: a connection that writes a small response at a time and drains in
 * between keeps reusing the ring's first bytes, warm in the cache, and a {@linkplain #mapped
 * mapped} ring's later pages are never touched (so never faulted in).
 *
 * <p>Owned by: the connection's netisr and, for a blocking-API stream, its application thread,
 * each on its own side as above; {@code resetAt} and {@code release} only while no other thread
 * can see the ring.
 */
public final class ByteRing {
    private static final VarHandle HEAD;
    private static final VarHandle TAIL;

    static {
        try {
            HEAD = MethodHandles.lookup().findVarHandle(ByteRing.class, "head", long.class);
            TAIL = MethodHandles.lookup().findVarHandle(ByteRing.class, "tail", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    boolean inPool;
    private final MemorySegment data;
    /** {@link #mapped}: the memory is an anonymous mapping of the ring's own. */
    private final boolean mapping;
    private final int capacity;
    private final int mask;
    /** The position at offset 0: set only while no other thread can see the ring. */
    private long base;
    @SuppressWarnings("unused")
    private long p1, p2, p3, p4, p5, p6, p7;
    private volatile long head;
    @SuppressWarnings("unused")
    private long q1, q2, q3, q4, q5, q6, q7;
    private volatile long tail;

    public ByteRing(Arena arena, int capacity) {
        if (Integer.bitCount(capacity) != 1) {
            throw new IllegalArgumentException("capacity must be a power of two: " + capacity);
        }
        this.capacity = capacity;
        this.mask = capacity - 1;
        this.data = arena.allocate(capacity, 64);
        this.mapping = false;
    }

    private ByteRing(MemorySegment data) {
        this.capacity = (int) data.byteSize();
        this.mask = capacity - 1;
        this.data = data;
        this.mapping = true;
    }

    /**
     * A ring over an anonymous private mapping of its own ({@code mmap(2)}), unmapped once the
     * ring is unreachable: the kernel supplies zeroed pages as they are first touched, so a ring
     * costs no zeroing when made and only the pages it uses are resident (an {@link Arena}
     * allocation zeroes, and so touches, all of it at once).
     *
     * @param capacity a power of two (the mapping is at least a page)
     * @throws io.flowstack.nativeio.NativeException if the kernel refuses the mapping
     */
    public static ByteRing mapped(int capacity) {
        if (Integer.bitCount(capacity) != 1) {
            throw new IllegalArgumentException("capacity must be a power of two: " + capacity);
        }
        MemorySegment m = Libc.mmap(Math.max(capacity, Madvise.PAGE), Libc.PROT_READ | Libc.PROT_WRITE,
                Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS, -1, 0, Arena.ofAuto());
        return new ByteRing(m.asSlice(0, capacity));
    }

    public int capacity() {
        return capacity;
    }

    /**
     * Gives a {@link #mapped} ring's pages back to the kernel now ({@code MADV_DONTNEED}), for a
     * ring that nothing will use again (a pool dropping it): its mapping goes only when the GC
     * finds the ring unreachable, which may be long after. The ring reads as zeros afterwards.
     * Nothing for an arena's ring.
     */
    void release() {
        if (mapping) {
            Madvise.dontNeed(data);
        }
    }

    /** Empties the ring for reuse (only while no other thread can see it). */
    void reset() {
        resetAt(0L);
    }

    /**
     * Empties the ring with head = tail = {@code pos} (only while no other thread can see it): a
     * ring lent to a connection mid-life continues its stream's positions, with {@code pos} at
     * offset 0.
     */
    void resetAt(long pos) {
        base = pos;
        HEAD.setRelease(this, pos);
        TAIL.setRelease(this, pos);
    }

    /** The ring's memory (for zero-copy reads of contiguous runs, see {@link #contiguous}). */
    public MemorySegment segment() {
        return data;
    }

    /** Offset in {@link #segment()} of ring position {@code pos}. */
    public long offset(long pos) {
        return at(pos);
    }

    /** The index in the memory of ring position {@code pos}. */
    private int at(long pos) {
        return (int) ((pos - base) & mask);
    }

    /** Bytes readable without wrapping from {@code pos}, of {@code len} wanted. */
    public int contiguous(long pos, int len) {
        return Math.min(len, capacity - at(pos));
    }

    public long head() {
        return (long) HEAD.getAcquire(this);
    }

    public long tail() {
        return (long) TAIL.getAcquire(this);
    }

    /** Consumer: releases bytes up to {@code pos}. */
    public void head(long pos) {
        HEAD.setRelease(this, pos);
    }

    /** Producer: publishes bytes up to {@code pos}. */
    public void tail(long pos) {
        TAIL.setRelease(this, pos);
    }

    /** Bytes published and not consumed. */
    public int size() {
        return (int) (tail() - head());
    }

    /**
     * Appends the {@code len} bytes at ring position {@code pos} to {@code frame} as one slice, or
     * two where the ring wraps: the frame then points at the ring instead of a copy.
     */
    public void appendTo(TxFrame frame, long pos, int len) {
        int i = at(pos);
        int first = Math.min(len, capacity - i);
        frame.append(data, i, first);
        if (first < len) {
            frame.append(data, 0, len - first);
        }
    }

    /** Copies {@code len} bytes at ring position {@code pos} into {@code dst[dstOff...]}. */
    public void read(long pos, MemorySegment dst, long dstOff, int len) {
        int i = at(pos);
        int first = Math.min(len, capacity - i);
        MemorySegment.copy(data, i, dst, dstOff, first);
        if (first < len) {
            MemorySegment.copy(data, 0, dst, dstOff + first, len - first);
        }
    }

    public void read(long pos, byte[] dst, int dstOff, int len) {
        int i = at(pos);
        int first = Math.min(len, capacity - i);
        MemorySegment.copy(data, ValueLayout.JAVA_BYTE, i, dst, dstOff, first);
        if (first < len) {
            MemorySegment.copy(data, ValueLayout.JAVA_BYTE, 0, dst, dstOff + first, len - first);
        }
    }

    /** Copies {@code len} bytes from {@code src[srcOff...]} to ring position {@code pos}. */
    public void write(long pos, MemorySegment src, long srcOff, int len) {
        int i = at(pos);
        int first = Math.min(len, capacity - i);
        MemorySegment.copy(src, srcOff, data, i, first);
        if (first < len) {
            MemorySegment.copy(src, srcOff + first, data, 0, len - first);
        }
    }

    public void write(long pos, byte[] src, int srcOff, int len) {
        int i = at(pos);
        int first = Math.min(len, capacity - i);
        MemorySegment.copy(src, srcOff, data, ValueLayout.JAVA_BYTE, i, first);
        if (first < len) {
            MemorySegment.copy(src, srcOff + first, data, ValueLayout.JAVA_BYTE, 0, len - first);
        }
    }
}
