package io.flowstack.nic.xdp;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The kernel's side of an AF_XDP socket's four rings, played by a test over native memory laid
 * out as the kernel lays out a ring mapping (producer, consumer, flags words, then the entries):
 * it takes fill-ring chunks and "receives" frames into them, and "sends" TX descriptors by
 * returning their addresses on the completion ring. Single-threaded (the test thread plays both
 * sides in turn).
 */
final class FakeKernel {
    static final XdpLayout.RingOffsets OFFSETS = new XdpLayout.RingOffsets(0, 64, 192, 128);
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT;
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG;

    final int size;
    final MemorySegment fill;
    final MemorySegment completion;
    final MemorySegment rx;
    final MemorySegment tx;
    final MemorySegment umem;
    final XskSocket socket;

    FakeKernel(Arena arena, int size, int chunkSize, int startIndex) {
        this.size = size;
        fill = ring(arena, XdpLayout.ADDR_SIZE, startIndex);
        completion = ring(arena, XdpLayout.ADDR_SIZE, startIndex);
        rx = ring(arena, XdpLayout.DESC_SIZE, startIndex);
        tx = ring(arena, XdpLayout.DESC_SIZE, startIndex);
        umem = arena.allocate(2L * size * chunkSize, 4096);
        socket = new XskSocket(-1, umem, chunkSize,
                new XskRing(fill, OFFSETS, size, XdpLayout.ADDR_SIZE, true),
                new XskRing(completion, OFFSETS, size, XdpLayout.ADDR_SIZE, false),
                new XskRing(rx, OFFSETS, size, XdpLayout.DESC_SIZE, false),
                new XskRing(tx, OFFSETS, size, XdpLayout.DESC_SIZE, true), false, arena);
    }

    private MemorySegment ring(Arena arena, int entryBytes, int startIndex) {
        MemorySegment m = arena.allocate(OFFSETS.mapLength(size, entryBytes), 64);
        m.set(INT, OFFSETS.producer(), startIndex);
        m.set(INT, OFFSETS.consumer(), startIndex);
        return m;
    }

    static int producer(MemorySegment ring) {
        return ring.get(INT, OFFSETS.producer());
    }

    static int consumer(MemorySegment ring) {
        return ring.get(INT, OFFSETS.consumer());
    }

    /** Entries waiting in the fill ring. */
    int fillWaiting() {
        return producer(fill) - consumer(fill);
    }

    /**
     * Receives {@code frames} frames: each takes the next fill-ring chunk, gets {@code length}
     * bytes (byte i = seed + i) at {@code offset} into it, and its descriptor goes on the RX ring.
     *
     * @return how many were received (fewer if the fill ring ran dry or the RX ring is full)
     */
    int receive(int frames, int length, int offset, int seed) {
        int n = 0;
        while (n < frames && fillWaiting() > 0 && producer(rx) - consumer(rx) < size) {
            int fc = consumer(fill);
            long chunk = fill.get(LONG, OFFSETS.desc() + (long) (fc & (size - 1)) * 8);
            fill.set(INT, OFFSETS.consumer(), fc + 1);
            long addr = chunk + offset;
            for (int i = 0; i < length; i++) {
                umem.set(ValueLayout.JAVA_BYTE, addr + i, (byte) (seed + i));
            }
            int rp = producer(rx);
            long d = OFFSETS.desc() + (long) (rp & (size - 1)) * 16;
            rx.set(LONG, d, addr);
            rx.set(INT, d + 8, length);
            rx.set(INT, d + 12, 0);
            rx.set(INT, OFFSETS.producer(), rp + 1);
            n++;
        }
        return n;
    }

    /** Puts one raw descriptor on the RX ring (no fill-ring chunk taken): for malformed input. */
    void receiveRaw(long addr, int length) {
        int rp = producer(rx);
        long d = OFFSETS.desc() + (long) (rp & (size - 1)) * 16;
        rx.set(LONG, d, addr);
        rx.set(INT, d + 8, length);
        rx.set(INT, OFFSETS.producer(), rp + 1);
    }

    /**
     * Sends what waits on the TX ring, up to {@code max} frames and the completion ring's room:
     * checks each with {@code check}, then returns its address on the completion ring.
     *
     * @return frames sent
     */
    int send(int max, DescCheck check) {
        int n = 0;
        while (n < max && producer(tx) - consumer(tx) > 0 && producer(completion) - consumer(completion) < size) {
            int tc = consumer(tx);
            long d = OFFSETS.desc() + (long) (tc & (size - 1)) * 16;
            long addr = tx.get(LONG, d);
            int len = tx.get(INT, d + 8);
            if (check != null) {
                check.check(addr, len);
            }
            tx.set(INT, OFFSETS.consumer(), tc + 1);
            int cp = producer(completion);
            completion.set(LONG, OFFSETS.desc() + (long) (cp & (size - 1)) * 8, addr);
            completion.set(INT, OFFSETS.producer(), cp + 1);
            n++;
        }
        return n;
    }

    /** Sets or clears {@code XDP_RING_NEED_WAKEUP} on the TX ring. */
    void txNeedsWakeup(boolean on) {
        tx.set(INT, OFFSETS.flags(), on ? XdpLayout.XDP_RING_NEED_WAKEUP : 0);
    }

    /** Checks one sent descriptor. */
    interface DescCheck {
        void check(long addr, int length);
    }
}
