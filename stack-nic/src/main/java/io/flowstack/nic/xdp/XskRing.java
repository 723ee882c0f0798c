package io.flowstack.nic.xdp;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * One of the four single-producer, single-consumer rings of an AF_XDP socket, over its mapping
 * (or, in unit tests, any native segment): a {@code u32} producer word, a {@code u32} consumer
 * word, a {@code u32} flags word and {@code size} entries (a power of two) of 16-byte
 * {@code xdp_desc} (RX, TX) or 8-byte UMEM addresses (fill, completion), at the offsets
 * {@code XDP_MMAP_OFFSETS} gave ({@link XdpLayout.RingOffsets}).
 *
 * <p>The protocol is the kernel's ({@code net/xdp/xsk_queue.h}, "The structure of the shared
 * state of the rings"): both indexes run freely over 32 bits and entry {@code i} is at
 * {@code i & (size - 1)}; the ring holds {@code producer - consumer} entries.
 * <ul>
 *   <li>As <b>producer</b> (fill, TX): read the consumer word with <b>acquire</b> (entries it
 *       passed are free: the kernel has finished reading them), write the entries, then store
 *       the new producer with <b>release</b> (the kernel sees the entries once it sees the index:
 *       the kernel's {@code smp_load_acquire} of the producer pairs with it).</li>
 *   <li>As <b>consumer</b> (RX, completion): read the producer word with <b>acquire</b> (the
 *       entries before it are written), read the entries, then store the new consumer with
 *       <b>release</b> (the kernel may reuse them only after our reads).</li>
 * </ul>
 * The other side's index is cached and read again only when the cache says the ring is empty
 * (consumer) or full (producer), as libxdp does, so a busy ring costs one shared-line read per
 * batch, not per entry. {@link #needsWakeup()} reads the flags word after a full fence, so that a
 * producer index stored just before is ordered before the read (the kernel sets the flag and then
 * checks the ring again: one of the two sides sees the other).
 *
 * <p>Owned by: the netisr thread that owns its {@link XdpQueue} (one side of every ring is the
 * kernel's, the other is this object's); never blocks, never allocates.
 */
final class XskRing {
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG;
    private static final ValueLayout.OfInt UINT = ValueLayout.JAVA_INT;

    private final MemorySegment map;
    private final long producerOffset;
    private final long consumerOffset;
    private final long flagsOffset;
    private final long descOffset;
    private final int size;
    private final int mask;
    private final int entryBytes;
    /** Our index: the producer (fill, TX) or the consumer (RX, completion). */
    private int local;
    /** The kernel's index as last read. */
    private int cachedRemote;
    private final boolean producer;

    /**
     * A ring over {@code map}.
     *
     * @param map the ring's mapping
     * @param offsets where its words and entries are
     * @param size entries, a power of two
     * @param entryBytes {@link XdpLayout#DESC_SIZE} or {@link XdpLayout#ADDR_SIZE}
     * @param producer true if we produce (fill, TX), false if we consume (RX, completion)
     */
    XskRing(MemorySegment map, XdpLayout.RingOffsets offsets, int size, int entryBytes, boolean producer) {
        if (Integer.bitCount(size) != 1) {
            throw new IllegalArgumentException("ring size must be a power of two: " + size);
        }
        if (offsets.mapLength(size, entryBytes) > map.byteSize()) {
            throw new IllegalArgumentException("ring mapping of " + map.byteSize() + " bytes is too small for "
                    + size + " entries");
        }
        this.map = map;
        this.producerOffset = offsets.producer();
        this.consumerOffset = offsets.consumer();
        this.flagsOffset = offsets.flags();
        this.descOffset = offsets.desc();
        this.size = size;
        this.mask = size - 1;
        this.entryBytes = entryBytes;
        this.producer = producer;
        int p = (int) INT.getAcquire(map, producerOffset);
        int c = (int) INT.getAcquire(map, consumerOffset);
        this.local = producer ? p : c;
        this.cachedRemote = producer ? c : p;
    }

    /** Entries of the ring. */
    int size() {
        return size;
    }

    // ---- producer side (fill, TX) ----

    /**
     * How many entries may be written now (at most {@code wanted}): the free room, re-reading the
     * kernel's consumer (acquire) when the cached value shows less than {@code wanted}.
     */
    int free(int wanted) {
        int free = size - (local - cachedRemote);
        if (free < wanted) {
            cachedRemote = (int) INT.getAcquire(map, consumerOffset);
            free = size - (local - cachedRemote);
        }
        return Math.min(free, wanted);
    }

    /** Writes a UMEM address as the {@code i}-th entry after the producer (fill ring). */
    void putAddress(int i, long address) {
        map.set(LONG, descOffset + (long) ((local + i) & mask) * entryBytes, address);
    }

    /** Writes an {@code xdp_desc} as the {@code i}-th entry after the producer (TX ring). */
    void putDesc(int i, long address, int length) {
        long at = descOffset + (long) ((local + i) & mask) * entryBytes;
        map.set(LONG, at + XdpLayout.DESC_ADDR, address);
        map.set(UINT, at + XdpLayout.DESC_LEN, length);
        map.set(UINT, at + XdpLayout.DESC_OPTIONS, 0);
    }

    /** Publishes {@code n} written entries: the producer index, release store. */
    void submit(int n) {
        local += n;
        INT.setRelease(map, producerOffset, local);
    }

    /**
     * Entries written but not yet consumed by the kernel (re-reads its consumer, acquire): 0 once
     * the kernel took everything (TX: every frame handed to the device or dropped).
     */
    int outstanding() {
        cachedRemote = (int) INT.getAcquire(map, consumerOffset);
        return local - cachedRemote;
    }

    // ---- consumer side (RX, completion) ----

    /**
     * How many entries may be read now (at most {@code max}), re-reading the kernel's producer
     * (acquire) when the cached value shows none.
     */
    int available(int max) {
        int n = cachedRemote - local;
        if (n == 0) {
            cachedRemote = (int) INT.getAcquire(map, producerOffset);
            n = cachedRemote - local;
        }
        return Math.min(n, max);
    }

    /** The UMEM address of the {@code i}-th entry after the consumer (completion ring). */
    long address(int i) {
        return map.get(LONG, descOffset + (long) ((local + i) & mask) * entryBytes);
    }

    /** {@code xdp_desc.addr} of the {@code i}-th entry after the consumer (RX ring). */
    long descAddress(int i) {
        return map.get(LONG, descOffset + (long) ((local + i) & mask) * entryBytes + XdpLayout.DESC_ADDR);
    }

    /** {@code xdp_desc.len} of the {@code i}-th entry after the consumer (RX ring). */
    int descLength(int i) {
        return map.get(UINT, descOffset + (long) ((local + i) & mask) * entryBytes + XdpLayout.DESC_LEN);
    }

    /** Gives {@code n} read entries back: the consumer index, release store. */
    void release(int n) {
        local += n;
        INT.setRelease(map, consumerOffset, local);
    }

    // ---- both ----

    /**
     * Whether the kernel asks for a wakeup ({@link XdpLayout#XDP_RING_NEED_WAKEUP}): read after a
     * full fence, so that the producer index we stored before is visible first.
     */
    boolean needsWakeup() {
        VarHandle.fullFence();
        return ((int) INT.getAcquire(map, flagsOffset) & XdpLayout.XDP_RING_NEED_WAKEUP) != 0;
    }

    /** Our index (tests, diagnostics). */
    int local() {
        return local;
    }

    /** Whether this is a producer ring (fill, TX). */
    boolean producer() {
        return producer;
    }
}
