package io.flowstack.nic.xdp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/**
 * The ring protocol of {@link XskRing} against rings laid out as the kernel's, with the test
 * playing the kernel: free-running 32-bit indexes (also across their wrap at 2^32), entries at
 * {@code index & (size - 1)}, our index published only by {@code submit}/{@code release}, the
 * kernel's re-read only when the cache says empty or full, and the need-wakeup flag.
 */
class XskRingTest {
    private static final XdpLayout.RingOffsets O = FakeKernel.OFFSETS;

    private static MemorySegment ring(Arena arena, int size, int entryBytes, int start) {
        MemorySegment m = arena.allocate(O.mapLength(size, entryBytes), 64);
        m.set(ValueLayout.JAVA_INT, O.producer(), start);
        m.set(ValueLayout.JAVA_INT, O.consumer(), start);
        return m;
    }

    @Test
    void producerFillsToSizeThenWaitsForTheConsumer() {
        for (int start : new int[] {0, -3, Integer.MAX_VALUE - 1}) { // -3: wraps past 2^32 on the way
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment m = ring(arena, 8, 8, start);
                XskRing fill = new XskRing(m, O, 8, 8, true);
                assertEquals(8, fill.free(100));
                for (int i = 0; i < 6; i++) {
                    fill.putAddress(i, 0x1000L * i);
                }
                assertEquals(start, FakeKernel.producer(m), "nothing published before submit");
                fill.submit(6);
                assertEquals(start + 6, FakeKernel.producer(m));
                assertEquals(2, fill.free(8), "two slots left");
                for (int i = 0; i < 6; i++) {
                    long at = O.desc() + (long) ((start + i) & 7) * 8;
                    assertEquals(0x1000L * i, m.get(ValueLayout.JAVA_LONG, at), "entry " + i + " at its masked place");
                }
                m.set(ValueLayout.JAVA_INT, O.consumer(), start + 5); // the kernel took five
                assertEquals(2, fill.free(2), "the cache suffices: the consumer is not re-read");
                assertEquals(7, fill.free(8), "re-read when the cache shows too little");
                assertEquals(6, fill.outstanding() + 5);
            }
        }
    }

    @Test
    void consumerReadsWhatTheProducerPublished() {
        try (Arena arena = Arena.ofConfined()) {
            int start = -2; // producer and consumer wrap at 2^32 during the test
            MemorySegment m = ring(arena, 4, 16, start);
            XskRing rx = new XskRing(m, O, 4, 16, false);
            assertEquals(0, rx.available(4));
            for (int i = 0; i < 3; i++) {
                long at = O.desc() + (long) ((start + i) & 3) * 16;
                m.set(ValueLayout.JAVA_LONG, at, 4096L * i + 256);
                m.set(ValueLayout.JAVA_INT, at + 8, 60 + i);
            }
            m.set(ValueLayout.JAVA_INT, O.producer(), start + 3);
            assertEquals(2, rx.available(2), "capped at the caller's max");
            assertEquals(3, rx.available(8));
            for (int i = 0; i < 3; i++) {
                assertEquals(4096L * i + 256, rx.descAddress(i));
                assertEquals(60 + i, rx.descLength(i));
            }
            assertEquals(start, FakeKernel.consumer(m), "nothing released before release");
            rx.release(3);
            assertEquals(start + 3, FakeKernel.consumer(m));
            assertEquals(0, rx.available(8));
        }
    }

    @Test
    void needWakeupIsTheFlagsWordsFirstBit() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = ring(arena, 4, 16, 0);
            XskRing tx = new XskRing(m, O, 4, 16, true);
            assertFalse(tx.needsWakeup());
            m.set(ValueLayout.JAVA_INT, O.flags(), XdpLayout.XDP_RING_NEED_WAKEUP);
            assertTrue(tx.needsWakeup());
            m.set(ValueLayout.JAVA_INT, O.flags(), 2);
            assertFalse(tx.needsWakeup(), "other bits are not the wakeup");
        }
    }

    @Test
    void refusesABadGeometry() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = ring(arena, 8, 16, 0);
            assertThrows(IllegalArgumentException.class, () -> new XskRing(m, O, 6, 16, true), "not a power of two");
            assertThrows(IllegalArgumentException.class, () -> new XskRing(m, O, 16, 16, true), "mapping too small");
        }
    }
}
