package io.flowstack.nic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class MemoryWireTest {
    private final Arena arena = Arena.ofShared();

    @AfterEach
    void closeArena() {
        arena.close();
    }

    private MemorySegment frame(int length, int seed) {
        MemorySegment f = arena.allocate(length);
        for (int i = 0; i < length; i++) {
            f.set(ValueLayout.JAVA_BYTE, i, (byte) (seed * 31 + i));
        }
        return f;
    }

    private static void assertFrame(FrameBatch batch, int slot, int length, int seed) {
        assertEquals(length, batch.length(slot), "length of slot " + slot);
        MemorySegment s = batch.slot(slot);
        for (int i = 0; i < length; i++) {
            if (s.get(ValueLayout.JAVA_BYTE, i) != (byte) (seed * 31 + i)) {
                throw new AssertionError("slot " + slot + " differs at byte " + i);
            }
        }
    }

    @Test
    void framesOf60And1514BytesCrossInBothDirectionsOnTwoQueues() {
        try (MemoryWire wire = MemoryWire.create(2, 64 * 1024)) {
            Nic a = wire.a();
            Nic b = wire.b();
            assertEquals(2, a.queueCount());
            assertEquals(1500, a.mtu());
            assertEquals(-1, a.queue(0).pollFd());
            FrameBatch batch = new FrameBatch(arena, 8, 2048);
            Nic[][] directions = {{a, b}, {b, a}};
            int seed = 0;
            for (Nic[] dir : directions) {
                for (int q = 0; q < 2; q++) {
                    int s60 = ++seed;
                    int s1514 = ++seed;
                    assertTrue(dir[0].queue(q).transmit(frame(60, s60), 0, 60));
                    assertTrue(dir[0].queue(q).transmit(frame(1514, s1514), 0, 1514));
                    assertEquals(0, dir[1].queue(1 - q).receive(batch), "no frame on the other queue");
                    assertEquals(0, dir[0].queue(q).receive(batch), "no echo to the sender");
                    assertEquals(2, dir[1].queue(q).receive(batch));
                    assertEquals(2, batch.count());
                    assertFrame(batch, 0, 60, s60);
                    assertFrame(batch, 1, 1514, s1514);
                    assertEquals(0, dir[1].queue(q).receive(batch));
                    assertEquals(0, batch.count());
                }
            }
            MemoryWire.Queue qa0 = (MemoryWire.Queue) a.queue(0);
            MemoryWire.Queue qb0 = (MemoryWire.Queue) b.queue(0);
            assertEquals(2, qa0.txFrames());
            assertEquals(1574, qa0.txBytes());
            assertEquals(2, qb0.rxFrames());
            assertEquals(1574, qb0.rxBytes());
            assertEquals(2, qa0.rxFrames());
            assertEquals(0, qa0.txDrops());
        }
    }

    @Test
    void frameSliceAtAnOffsetIsSent() {
        try (MemoryWire wire = MemoryWire.create(1, 4096)) {
            MemorySegment big = frame(200, 7);
            assertTrue(wire.a().queue(0).transmit(big, 100, 60));
            FrameBatch batch = new FrameBatch(arena, 4, 2048);
            assertEquals(1, wire.b().queue(0).receive(batch));
            assertEquals(60, batch.length(0));
            assertEquals(big.get(ValueLayout.JAVA_BYTE, 100), batch.slot(0).get(ValueLayout.JAVA_BYTE, 0));
            assertEquals(big.get(ValueLayout.JAVA_BYTE, 159), batch.slot(0).get(ValueLayout.JAVA_BYTE, 59));
        }
    }

    @Test
    void fullRingRefusesAndCountsDropsUntilTheConsumerFreesSpace() {
        try (MemoryWire wire = MemoryWire.create(1, 4096)) {
            NicQueue tx = wire.a().queue(0);
            NicQueue rx = wire.b().queue(0);
            MemorySegment f = frame(1514, 3);
            // each 1514-byte frame takes 8 + 1514 rounded up to 8 = 1528 bytes: two fit in 4096
            assertTrue(tx.transmit(f, 0, 1514));
            assertTrue(tx.transmit(f, 0, 1514));
            assertFalse(tx.transmit(f, 0, 1514));
            assertFalse(tx.transmit(f, 0, 1514));
            assertEquals(2, tx.txDrops());
            FrameBatch one = new FrameBatch(arena, 1, 2048);
            assertEquals(1, rx.receive(one), "batch capacity limits the receive");
            assertFrame(one, 0, 1514, 3);
            assertTrue(tx.transmit(f, 0, 1514), "space was freed");
            assertEquals(2, tx.txDrops());
            assertEquals(3, ((MemoryWire.Queue) tx).txFrames());
        }
    }

    @Test
    void oversizedAndTruncatedFramesAreCountedNotThrown() {
        try (MemoryWire wire = MemoryWire.create(1, 4096)) {
            MemoryWire.Queue tx = (MemoryWire.Queue) wire.a().queue(0);
            MemoryWire.Queue rx = (MemoryWire.Queue) wire.b().queue(0);
            assertEquals(2040, tx.maxFrame());
            MemorySegment f = frame(3000, 1);
            assertFalse(tx.transmit(f, 0, 2041));
            assertFalse(tx.transmit(f, 0, 0));
            assertEquals(2, tx.txErrors());
            assertEquals(0, tx.txDrops());
            assertTrue(tx.transmit(f, 0, 1000));
            assertTrue(tx.transmit(f, 0, 100));
            FrameBatch small = new FrameBatch(arena, 4, 512);
            assertEquals(1, rx.receive(small));
            assertEquals(100, small.length(0));
            assertEquals(1, rx.rxTruncated());
        }
    }

    @Test
    void wrapAroundKeepsFramesIntact() {
        try (MemoryWire wire = MemoryWire.create(1, 4096)) {
            NicQueue tx = wire.a().queue(0);
            NicQueue rx = wire.b().queue(0);
            FrameBatch batch = new FrameBatch(arena, 4, 2048);
            SplittableRandom random = new SplittableRandom(42);
            MemorySegment src = frame(2048, 9);
            long sent = 0;
            for (int round = 0; round < 5000; round++) {
                int burst = 1 + random.nextInt(3);
                int[] lengths = new int[burst];
                int accepted = 0;
                for (int i = 0; i < burst; i++) {
                    int len = 14 + random.nextInt(1500);
                    if (tx.transmit(src, 0, len)) {
                        lengths[accepted++] = len;
                    }
                }
                sent += accepted;
                assertEquals(accepted, rx.receive(batch));
                for (int i = 0; i < accepted; i++) {
                    assertFrame(batch, i, lengths[i], 9);
                }
            }
            assertTrue(sent > 5000, "sent " + sent);
        }
    }

    @Test
    void notifierRunsWhenTheRingBecomesNonEmpty() {
        try (MemoryWire wire = MemoryWire.create(2, 4096)) {
            AtomicInteger wakeups = new AtomicInteger();
            AtomicInteger otherQueue = new AtomicInteger();
            wire.b().queue(0).readyNotifier(wakeups::incrementAndGet);
            wire.b().queue(1).readyNotifier(otherQueue::incrementAndGet);
            NicQueue tx = wire.a().queue(0);
            MemorySegment f = frame(60, 1);
            FrameBatch batch = new FrameBatch(arena, 8, 2048);

            assertTrue(tx.transmit(f, 0, 60));
            assertEquals(1, wakeups.get());
            assertTrue(tx.transmit(f, 0, 60));
            assertEquals(1, wakeups.get(), "no second wakeup while frames are unread");
            assertEquals(2, wire.b().queue(0).receive(batch));
            assertTrue(tx.transmit(f, 0, 60));
            assertEquals(2, wakeups.get(), "wakeup after the consumer drained the ring");
            assertEquals(0, otherQueue.get());
            // the sender's own notifier is for its incoming ring: not run by its own transmits
            AtomicInteger own = new AtomicInteger();
            tx.readyNotifier(own::incrementAndGet);
            assertTrue(tx.transmit(f, 0, 60));
            assertEquals(0, own.get());
        }
    }

    @Test
    void producerAndConsumerThreadsLoseNoFrameAndNoWakeup() throws Exception {
        final int frames = 200_000;
        try (MemoryWire wire = MemoryWire.create(1, 16 * 1024)) {
            NicQueue tx = wire.a().queue(0);
            NicQueue rx = wire.b().queue(0);
            AtomicReference<Thread> consumerThread = new AtomicReference<>();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            AtomicLong received = new AtomicLong();
            rx.readyNotifier(() -> LockSupport.unpark(consumerThread.get()));
            Thread consumer = Thread.ofPlatform().unstarted(() -> {
                try (Arena local = Arena.ofConfined()) {
                    FrameBatch batch = new FrameBatch(local, 32, 256);
                    long expected = 0;
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                    while (expected < frames) {
                        int n = rx.receive(batch);
                        if (n == 0) {
                            // sleep protocol: re-check once after arming, then park
                            n = rx.receive(batch);
                            if (n == 0) {
                                LockSupport.parkNanos(TimeUnit.SECONDS.toNanos(5));
                                if (System.nanoTime() > deadline) {
                                    throw new AssertionError("stuck at frame " + expected);
                                }
                                continue;
                            }
                        }
                        for (int i = 0; i < n; i++) {
                            long seq = batch.slot(i).get(ValueLayout.JAVA_LONG_UNALIGNED, 0);
                            if (seq != expected) {
                                throw new AssertionError("expected frame " + expected + " got " + seq);
                            }
                            int len = batch.length(i);
                            if (len != 60 + (int) (seq % 150)) {
                                throw new AssertionError("frame " + seq + " has length " + len);
                            }
                            expected++;
                        }
                        received.set(expected);
                    }
                } catch (Throwable t) {
                    failure.set(t);
                }
            });
            consumerThread.set(consumer);
            consumer.start();
            MemorySegment f = arena.allocate(256, 8);
            long drops = 0;
            for (long seq = 0; seq < frames; seq++) {
                f.set(ValueLayout.JAVA_LONG, 0, seq);
                while (!tx.transmit(f, 0, 60 + (int) (seq % 150))) {
                    drops++;
                    Thread.onSpinWait();
                    if (failure.get() != null) {
                        break;
                    }
                }
            }
            consumer.join(TimeUnit.SECONDS.toMillis(90));
            assertFalse(consumer.isAlive(), "consumer did not finish; received " + received.get());
            if (failure.get() != null) {
                throw new AssertionError(failure.get());
            }
            assertEquals(frames, received.get());
            assertEquals(drops, tx.txDrops());
        }
    }

    @Test
    void sendAndReceiveDoNotAllocate() {
        try (MemoryWire wire = MemoryWire.create(1, 64 * 1024)) {
            NicQueue tx = wire.a().queue(0);
            NicQueue rx = wire.b().queue(0);
            rx.readyNotifier(() -> { });
            FrameBatch batch = new FrameBatch(arena, 16, 2048);
            MemorySegment f = frame(1514, 5);
            long allocated = steadyStateAllocation(() -> {
                for (int round = 0; round < 20_000; round++) {
                    for (int i = 0; i < 16; i++) {
                        tx.transmit(f, 0, 60 + i * 90);
                    }
                    rx.receive(batch);
                    rx.receive(batch);
                }
            });
            assertTrue(allocated < 1024, "allocated " + allocated + " bytes for 320,000 frames");
        }
    }

    /**
     * Allocated bytes of the cheapest of up to 20 runs of {@code body} on this thread: the
     * steady state, once the JIT has compiled (and escape-analysed) the path under test.
     */
    private static long steadyStateAllocation(Runnable body) {
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long tid = Thread.currentThread().threadId();
        long min = Long.MAX_VALUE;
        for (int round = 0; round < 20 && min >= 1024; round++) {
            long before = mx.getThreadAllocatedBytes(tid);
            body.run();
            min = Math.min(min, mx.getThreadAllocatedBytes(tid) - before);
        }
        return min;
    }

    @Test
    void closedWireAndBadArguments() {
        assertThrows(IllegalArgumentException.class, () -> MemoryWire.create(0, 4096));
        assertThrows(IllegalArgumentException.class, () -> MemoryWire.create(1, 1024));
        MemoryWire wire = MemoryWire.create(1, 5000, 9000);
        assertEquals(9000, wire.b().mtu());
        wire.a().close();
        wire.close();
        wire.close();
        FrameBatch batch = new FrameBatch(arena, 1, 64);
        assertThrows(IllegalStateException.class, () -> wire.b().queue(0).receive(batch));
    }
}
