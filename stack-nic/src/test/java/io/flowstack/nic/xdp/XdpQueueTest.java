package io.flowstack.nic.xdp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.nic.FrameBatch;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * {@link XdpQueue} against the kernel's side of its rings played by {@link FakeKernel} (no socket:
 * the TX ring never asks for a wakeup, so no system call is made): the fill ring starts with half
 * the UMEM, received frames are copied out and their chunks go back to the fill ring, sent frames
 * take chunks from the other half and get them back from the completion ring, a full TX ring is a
 * counted drop, malformed descriptors are counted, and a million frames each way allocate nothing.
 */
class XdpQueueTest {
    private static final int SIZE = 64;
    private static final int CHUNK = 2048;

    @Test
    void receivedFramesAreCopiedAndTheirChunksRefilled() {
        try (Arena arena = Arena.ofConfined()) {
            FakeKernel k = new FakeKernel(arena, SIZE, CHUNK, -10);
            XdpQueue q = new XdpQueue("xv0", 0, k.socket, 16, 1500);
            assertEquals(SIZE, k.fillWaiting(), "half the UMEM waits in the fill ring");
            FrameBatch batch = new FrameBatch(arena, 32, 2048);
            assertEquals(0, q.receive(batch));
            assertFalse(q.rxReady());
            assertEquals(40, k.receive(40, 60, XdpLayout.XDP_PACKET_HEADROOM, 7));
            assertTrue(q.rxReady());
            assertEquals(32, q.receive(batch), "at most the batch");
            for (int i = 0; i < 32; i++) {
                assertEquals(60, batch.length(i));
                assertEquals((byte) 7, batch.slot(i).get(ValueLayout.JAVA_BYTE, 0));
                assertEquals((byte) (7 + 59), batch.slot(i).get(ValueLayout.JAVA_BYTE, 59));
            }
            assertEquals(SIZE - 8, k.fillWaiting(), "the 32 copied chunks are back in the fill ring, 8 still in RX");
            assertEquals(8, q.receive(batch));
            assertEquals(SIZE, k.fillWaiting());
            assertEquals(40, q.rxFrames());
            assertEquals(40 * 60, q.rxBytes());
            // the fill ring's chunks are distinct, whole chunks
            Set<Long> chunks = new HashSet<>();
            for (int i = 0; i < SIZE; i++) {
                int c = FakeKernel.consumer(k.fill) + i;
                long addr = k.fill.get(ValueLayout.JAVA_LONG, FakeKernel.OFFSETS.desc() + (long) (c & (SIZE - 1)) * 8);
                assertEquals(0, addr % CHUNK);
                chunks.add(addr);
            }
            assertEquals(SIZE, chunks.size());
        }
    }

    @Test
    void malformedDescriptorsAreCountedNotDelivered() {
        try (Arena arena = Arena.ofConfined()) {
            FakeKernel k = new FakeKernel(arena, SIZE, CHUNK, 0);
            XdpQueue q = new XdpQueue("xv0", 0, k.socket, 16, 1500);
            FrameBatch batch = new FrameBatch(arena, 8, 1024);
            k.receiveRaw(k.umem.byteSize() - 10, 60); // beyond the UMEM
            k.receiveRaw(CHUNK - 20, 60); // across two chunks
            assertEquals(1, k.receive(1, 1500, 256, 1)); // longer than the batch's slots
            assertEquals(0, q.receive(batch));
            assertEquals(2, q.rxInvalid());
            assertEquals(1, q.rxTruncated());
            assertEquals(0, q.rxFrames());
        }
    }

    @Test
    void transmitUsesTheOtherHalfAndGetsChunksBackFromCompletions() {
        try (Arena arena = Arena.ofConfined()) {
            FakeKernel k = new FakeKernel(arena, SIZE, CHUNK, 5);
            XdpQueue q = new XdpQueue("xv0", 0, k.socket, 1000, 1500);
            MemorySegment frame = arena.allocate(1514);
            for (int i = 0; i < 1514; i++) {
                frame.set(ValueLayout.JAVA_BYTE, i, (byte) (i * 3));
            }
            Set<Long> fillChunks = new HashSet<>();
            for (int i = 0; i < SIZE; i++) {
                fillChunks.add(k.fill.get(ValueLayout.JAVA_LONG, FakeKernel.OFFSETS.desc() + (long) ((5 + i) & (SIZE - 1)) * 8));
            }
            for (int i = 0; i < SIZE; i++) {
                assertTrue(q.transmit(frame, 0, 100 + i));
            }
            assertFalse(q.transmit(frame, 0, 64), "the TX ring is full and the kernel has not sent: a drop");
            assertEquals(1, q.txDrops());
            assertFalse(q.transmit(frame, 0, 1515), "longer than MTU + Ethernet header");
            assertEquals(1, q.txErrors());
            int[] seen = {0};
            assertEquals(SIZE, k.send(1000, (addr, len) -> {
                assertFalse(fillChunks.contains(addr), "a TX chunk is never one the fill ring holds");
                assertEquals(100 + seen[0], len);
                assertEquals((byte) 3, k.umem.get(ValueLayout.JAVA_BYTE, addr + 1));
                assertEquals((byte) ((len - 1) * 3), k.umem.get(ValueLayout.JAVA_BYTE, addr + len - 1));
                seen[0]++;
            }));
            // the completions come back at the next transmit or receive: the ring works again
            for (int round = 0; round < 10; round++) {
                for (int i = 0; i < SIZE; i++) {
                    assertTrue(q.transmit(frame, 0, 200), "round " + round + " frame " + i);
                }
                assertEquals(SIZE, k.send(1000, null));
            }
            assertEquals(11 * SIZE, q.txFrames());
            assertEquals(1, q.txDrops());
            assertEquals(0, q.txKicks(), "the ring never asked for a wakeup: no system call");
        }
    }

    private static long allocated() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
    }

    @Test
    void aMillionFramesEachWayAllocateNothing() {
        try (Arena arena = Arena.ofConfined()) {
            FakeKernel k = new FakeKernel(arena, 256, CHUNK, 0);
            XdpQueue q = new XdpQueue("xv0", 0, k.socket, 32, 1500);
            FrameBatch batch = new FrameBatch(arena, 32, 2048);
            long moved = run(k, q, batch, 200_000); // warm up: let C2 compile
            long before = allocated();
            moved += run(k, q, batch, 1_000_000);
            long bytes = allocated() - before;
            assertTrue(moved > 1_000_000);
            // one object per frame would be >= 16 MB; a few KiB are the JIT's and the test's own
            assertTrue(bytes < 64 * 1024, "allocated " + bytes + " bytes for a million frames each way");
            assertEquals(0, q.txDrops() + q.rxInvalid() + q.rxTruncated());
        }
    }

    /** Receives and forwards at least {@code n} frames; returns the frames received. */
    private static long run(FakeKernel k, XdpQueue q, FrameBatch batch, int n) {
        long got = 0;
        while (got < n) {
            k.receive(32, 60, XdpLayout.XDP_PACKET_HEADROOM, 1);
            int r = q.receive(batch);
            for (int i = 0; i < r; i++) {
                if (!q.transmit(batch.slot(i), 0, batch.length(i))) {
                    throw new AssertionError("dropped");
                }
            }
            k.send(64, null);
            got += r;
        }
        return got;
    }
}
