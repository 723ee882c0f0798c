package io.flowstack.nic.xdp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.nativeio.Libc;
import io.flowstack.nic.NicQueue;
import io.flowstack.nic.TestFifo;
import io.flowstack.nic.TxFrame;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

/**
 * {@link XdpQueue#transmit(TxFrame)} and {@link XdpQueue#txOffloads()} with and without the
 * companion socket, the rings played by {@link FakeKernel} and the companion AF_PACKET socket by a
 * pipe (no privileges, no device: the pipe receives exactly what the socket would be given): the
 * offload bits, the bytes written (vnet header, headers, slices), the TX ring kicked before the
 * write, the counting of drops ({@code EAGAIN}) and errors, and no allocation per frame.
 *
 * <p>Owned by: the JUnit test thread, which plays the queue's netisr and the kernel in turn.
 */
class XdpQueueSuperFrameTest {
    private static final int SIZE = 64;
    private static final int CHUNK = 2048;
    private static final int HEADERS = 14 + 20 + 20;
    private static final int MSS = 1448;

    /** A super-frame of 3 x 1,448 bytes in two slices, as the router's. */
    private static TxFrame superFrame(Arena arena, TxFrame f) {
        MemorySegment head = arena.allocate(HEADERS);
        MemorySegment payload = arena.allocate(3 * MSS);
        for (int i = 0; i < HEADERS; i++) {
            head.set(ValueLayout.JAVA_BYTE, i, (byte) (0x40 + i));
        }
        for (int i = 0; i < 3 * MSS; i++) {
            payload.set(ValueLayout.JAVA_BYTE, i, (byte) (i * 13));
        }
        return f.headers(head, 0, HEADERS).append(payload, 0, MSS).append(payload, MSS, 2 * MSS)
                .checksum(14 + 20, 16).gso(TxFrame.GSO_TCPV4, MSS);
    }

    @Test
    void withoutACompanionTheQueueHasNoOffloadsAndNoGatheringTransmit() {
        try (Arena arena = Arena.ofConfined()) {
            XdpQueue q = new XdpQueue("xv0", 0, new FakeKernel(arena, SIZE, CHUNK, 0).socket, 16, 1500);
            assertEquals(0, q.txOffloads());
            assertFalse(q.sendsSuperFrames());
            assertThrows(UnsupportedOperationException.class, () -> q.transmit(superFrame(arena, new TxFrame())));
        }
    }

    @Test
    void aSuperFrameGoesWholeThroughTheCompanionAfterTheFramesQueuedBeforeIt() throws Exception {
        try (TestFifo pipe = TestFifo.open(); Arena arena = Arena.ofConfined()) {
            FakeKernel k = new FakeKernel(arena, SIZE, CHUNK, 3);
            GsoPacketSocket companion = new GsoPacketSocket(dup(pipe));
            XdpQueue q = new XdpQueue("xv0", 0, k.socket, 1000, 1500, companion, false);
            try {
                assertEquals(NicQueue.TX_GATHER | NicQueue.TX_TSO4, q.txOffloads(),
                        "gathering and TSO, deliberately not TX_CSUM (the stack's TCP output stays as it was)");
                assertTrue(q.sendsSuperFrames());
                MemorySegment small = arena.allocate(60);
                for (int i = 0; i < 3; i++) {
                    assertTrue(q.transmit(small, 0, 60));
                }
                k.txNeedsWakeup(true); // copy mode: every kick is a sendto (on fd -1 here: counted, harmless)
                assertEquals(0, q.txKicks(), "three frames wait on the TX ring, not kicked yet");
                TxFrame f = superFrame(arena, new TxFrame());
                assertTrue(q.transmit(f));
                assertEquals(1, q.txKicks(), "the TX ring was kicked before the super-frame was written");
                assertEquals(4, q.txFrames());
                assertEquals(3 * 60 + HEADERS + 3 * MSS, q.txBytes());
                byte[] got = pipe.read(10 + HEADERS + 3 * MSS, arena);
                MemorySegment want = arena.allocate(10 + HEADERS + 3 * MSS);
                f.putVnetHeader(want, 0);
                f.copyTo(want, 10);
                assertArrayEquals(want.toArray(ValueLayout.JAVA_BYTE), got);
                assertEquals(1, got[0], "NEEDS_CSUM");
                assertEquals(1, got[1], "GSO TCPV4");
                assertEquals(3, k.send(SIZE, null), "the three small frames are still the ring's to send");
            } finally {
                companion.close(); // (the queue's close would close the fake kernel's rings too)
            }
        }
    }

    @Test
    void aFullSocketIsADropAndAnyOtherFailureAnError() throws Exception {
        try (TestFifo pipe = TestFifo.open(); Arena arena = Arena.ofConfined()) {
            GsoPacketSocket full = new GsoPacketSocket(dup(pipe));
            XdpQueue q = new XdpQueue("xv0", 0, new FakeKernel(arena, SIZE, CHUNK, 0).socket, 16, 1500, full, false);
            TxFrame f = superFrame(arena, new TxFrame());
            try {
                int sent = 0;
                while (q.transmit(f)) { // the pipe holds 64 KiB: then EAGAIN
                    assertTrue(++sent < 100, "the pipe never filled");
                }
                assertEquals(sent, q.txFrames());
                assertEquals(1, q.txDrops(), "EAGAIN is back-pressure");
                assertEquals(0, q.txErrors());
            } finally {
                full.close();
            }

            GsoPacketSocket readOnly = new GsoPacketSocket(
                    Libc.open(pipe.path().toString(), Libc.O_RDONLY | Libc.O_NONBLOCK | Libc.O_CLOEXEC));
            XdpQueue r = new XdpQueue("xv0", 0, new FakeKernel(arena, SIZE, CHUNK, 0).socket, 16, 1500, readOnly, false);
            try {
                assertFalse(r.transmit(f), "EBADF: not open for writing");
                assertEquals(1, r.txErrors());
                assertEquals(0, r.txDrops() + r.txFrames());
            } finally {
                readOnly.close();
            }
        }
    }

    @Test
    void aZeroCopyQueueTakesNoCompanion() throws Exception {
        try (TestFifo pipe = TestFifo.open(); Arena arena = Arena.ofConfined()) {
            XskSocket s = new FakeKernel(arena, SIZE, CHUNK, 0).socket;
            XskSocket zc = new XskSocket(s.fd(), s.umem(), s.chunkSize(), s.fill(), s.completion(), s.rx(), s.tx(),
                    true, arena);
            GsoPacketSocket companion = new GsoPacketSocket(dup(pipe));
            try {
                assertThrows(IllegalArgumentException.class, () -> new XdpQueue("xv0", 0, zc, 16, 1500, companion, false));
            } finally {
                companion.close();
            }
        }
    }

    /** The fewest bytes one run of {@code body} allocated, over rounds until one is below 1 KiB (C2 compiled). */
    private static long steadyStateAllocation(Runnable body) {
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long min = Long.MAX_VALUE;
        for (int round = 0; round < 30 && min >= 1024; round++) {
            long before = mx.getCurrentThreadAllocatedBytes();
            body.run();
            min = Math.min(min, mx.getCurrentThreadAllocatedBytes() - before);
        }
        return min;
    }

    @Test
    void superFramesAllocateNothing() {
        try (Arena arena = Arena.ofConfined()) {
            GsoPacketSocket devNull = new GsoPacketSocket(Libc.open("/dev/null", Libc.O_WRONLY | Libc.O_CLOEXEC));
            XdpQueue q = new XdpQueue("xv0", 0, new FakeKernel(arena, SIZE, CHUNK, 0).socket, 16, 1500, devNull, false);
            try {
                TxFrame f = superFrame(arena, new TxFrame());
                long bytes = steadyStateAllocation(() -> send(q, f, 20_000));
                // one object per frame would be >= 320 KB
                assertTrue(bytes < 1024, "allocated " + bytes + " bytes for 20,000 super-frames");
                assertEquals(0, q.txFrames() % 20_000, "every frame counted once");
                assertEquals(0, q.txErrors() + q.txDrops());
            } finally {
                devNull.close();
            }
        }
    }

    private static void send(XdpQueue q, TxFrame f, int n) {
        for (int i = 0; i < n; i++) {
            if (!q.transmit(f)) {
                throw new AssertionError("not sent: " + q.txErrors() + " errors");
            }
        }
    }

    /** A second descriptor of the pipe, for the companion to own and close. */
    private static int dup(TestFifo pipe) {
        return Libc.open(pipe.path().toString(), Libc.O_RDWR | Libc.O_NONBLOCK | Libc.O_CLOEXEC);
    }
}
