package io.flowstack.nativeio;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The io_uring binding: ring setup and mapping, NOP, READV/WRITEV/READ/WRITE and the fixed-buffer
 * variants on an eventfd, a read on an empty non-blocking descriptor staying armed, a full submission
 * queue, errors naming the call, and (as root) a frame each way through a TAP with a vnet header
 * in a namespace of the test's own.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class IoUringTest {

    @Test
    void setupMapsTheRingsAndANopCompletes() {
        try (IoUring ring = IoUring.open(8)) {
            assertEquals(8, ring.sqEntries());
            assertEquals(16, ring.cqEntries(), "the CQ ring is twice the SQ ring by default");
            assertNotEquals(0, ring.features() & IoUringLayout.IORING_FEAT_SINGLE_MMAP);
            for (int i = 0; i < 3; i++) {
                assertTrue(ring.prepare(IoUringLayout.IORING_OP_NOP, -1, 0, 0, 0, 0, 100 + i));
            }
            assertEquals(3, ring.pending());
            assertEquals(3, ring.submit(3));
            assertEquals(0, ring.pending());
            assertEquals(3, ring.ready());
            for (int i = 0; i < 3; i++) {
                assertEquals(100 + i, ring.userData(i));
                assertEquals(0, ring.result(i));
            }
            ring.advance(3);
            assertEquals(0, ring.ready());
            assertEquals(1, ring.enterCalls(), "three operations, one io_uring_enter");
        }
    }

    @Test
    void theSubmissionQueueReportsFullAndWrapsAround() {
        try (IoUring ring = IoUring.open(4)) {
            for (int round = 0; round < 5; round++) {
                for (int i = 0; i < 4; i++) {
                    assertTrue(ring.prepare(IoUringLayout.IORING_OP_NOP, -1, 0, 0, 0, 0, i));
                }
                assertFalse(ring.prepare(IoUringLayout.IORING_OP_NOP, -1, 0, 0, 0, 0, 9), "full");
                assertEquals(0, ring.sqSpace());
                assertEquals(4, ring.submit(4));
                assertEquals(4, ring.sqSpace());
                assertEquals(4, ring.ready());
                for (int i = 0; i < 4; i++) {
                    assertEquals(i, ring.userData(i), "round " + round);
                }
                ring.advance(4);
            }
        }
    }

    @Test
    void writevAndReadvMoveBytesThroughAnEventfd() {
        try (EventFd ev = EventFd.create(); IoUring ring = IoUring.open(8); Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(8, 8);
            out.set(ValueLayout.JAVA_LONG, 0, 41L);
            MemorySegment in = arena.allocate(8, 8);
            MemorySegment iov = arena.allocate(2 * Libc.IOVEC_SIZE, 8);
            iov.set(ValueLayout.JAVA_LONG, Libc.IOVEC_BASE, out.address());
            iov.set(ValueLayout.JAVA_LONG, Libc.IOVEC_LEN, 8);
            iov.set(ValueLayout.JAVA_LONG, Libc.IOVEC_SIZE + Libc.IOVEC_BASE, in.address());
            iov.set(ValueLayout.JAVA_LONG, Libc.IOVEC_SIZE + Libc.IOVEC_LEN, 8);

            assertTrue(ring.prepareWritev(ev.fd(), iov.address(), 1, 1));
            assertTrue(ring.prepare(IoUringLayout.IORING_OP_WRITE, ev.fd(), out.address(), 8, -1, 0, 2));
            assertEquals(2, ring.submit(2));
            assertEquals(2, ring.ready());
            assertEquals(8, ring.result(0));
            assertEquals(8, ring.result(1));
            ring.advance(2);

            assertTrue(ring.prepareReadv(ev.fd(), iov.address() + Libc.IOVEC_SIZE, 1, 3));
            assertEquals(1, ring.submit(1));
            assertEquals(3, ring.userData(0));
            assertEquals(8, ring.result(0));
            assertEquals(82L, in.get(ValueLayout.JAVA_LONG, 0), "both writes of 41 were summed");
            ring.advance(1);

            // nothing to read: the read stays armed (no -EAGAIN although the eventfd is O_NONBLOCK)
            assertTrue(ring.prepare(IoUringLayout.IORING_OP_READ, ev.fd(), in.address(), 8, -1, 0, 4));
            assertEquals(1, ring.submit(0));
            assertEquals(0, ring.ready(), "a read on an empty eventfd waits");
            ev.signal();
            assertEquals(0, ring.submit(1), "wait for the armed read");
            assertEquals(1, ring.ready());
            assertEquals(4, ring.userData(0));
            assertEquals(8, ring.result(0));
            assertEquals(1L, in.get(ValueLayout.JAVA_LONG, 0));
            ring.advance(1);

            // an armed read is cancelled by fd
            assertTrue(ring.prepare(IoUringLayout.IORING_OP_READ, ev.fd(), in.address(), 8, -1, 0, 5));
            ring.submit(0);
            assertTrue(ring.prepareCancelFd(ev.fd(), 6));
            ring.submit(2);
            assertEquals(2, ring.ready());
            for (int i = 0; i < 2; i++) {
                if (ring.userData(i) == 5) {
                    assertEquals(-Errno.ECANCELED, ring.result(i));
                } else {
                    assertEquals(6, ring.userData(i));
                    assertEquals(1, ring.result(i), "one operation cancelled");
                }
            }
            ring.advance(2);
        }
    }

    /**
     * A one-shot POLL_ADD on a ring with {@code COOP_TASKRUN | TASKRUN_FLAG}: it completes inside
     * the submitting call when the descriptor is readable already; otherwise another thread's
     * signal becomes visible in the ring's memory (a completion, or the TASKRUN flag that asks for
     * an enter) while this thread makes no system call, and the next enter posts the completion.
     */
    @Test
    void aPollForInputShowsInMemoryWithoutASystemCall() throws Exception {
        int flags = IoUringLayout.IORING_SETUP_COOP_TASKRUN | IoUringLayout.IORING_SETUP_TASKRUN_FLAG;
        try (EventFd ev = EventFd.create(); IoUring ring = IoUring.open(4, flags, 0)) {
            ev.signal();
            assertTrue(ring.preparePollIn(ev.fd(), 7));
            assertEquals(1, ring.submit(0));
            assertEquals(1, ring.ready(), "readable already: completed inside the call");
            assertEquals(7, ring.userData(0));
            assertEquals(Poller.POLLIN, ring.result(0) & Poller.POLLIN);
            ring.advance(1);
            ev.drain();

            assertTrue(ring.preparePollIn(ev.fd(), 8));
            assertEquals(1, ring.submit(0));
            assertEquals(0, ring.ready(), "nothing to read: the poll waits");
            assertFalse(ring.taskRunPending());
            long calls = ring.enterCalls();
            Thread signaller = Thread.ofPlatform().start(ev::signal);
            long deadline = System.nanoTime() + 5_000_000_000L;
            boolean seen = false;
            while (!seen && System.nanoTime() < deadline) {
                seen = ring.ready() > 0 || ring.taskRunPending();
                Thread.onSpinWait();
            }
            signaller.join();
            assertTrue(seen, "the signal showed in the ring's memory");
            assertEquals(calls, ring.enterCalls(), "seen without entering the kernel");
            if (ring.ready() == 0) {
                ring.enter(0, 1, IoUringLayout.IORING_ENTER_GETEVENTS); // runs the waiting work
            }
            assertEquals(1, ring.ready());
            assertEquals(8, ring.userData(0));
            assertEquals(Poller.POLLIN, ring.result(0) & Poller.POLLIN);
            ring.advance(1);
            assertFalse(ring.taskRunPending());
        }
    }

    @Test
    void fixedBuffersWorkOnceRegistered() {
        try (EventFd ev = EventFd.create(); IoUring ring = IoUring.open(4); Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(4096, 4096);
            MemorySegment iov = arena.allocate(Libc.IOVEC_SIZE, 8);
            iov.set(ValueLayout.JAVA_LONG, Libc.IOVEC_BASE, buf.address());
            iov.set(ValueLayout.JAVA_LONG, Libc.IOVEC_LEN, 4096);
            ring.registerBuffers(iov, 1);
            buf.set(ValueLayout.JAVA_LONG, 0, 7L);
            assertTrue(ring.prepareWriteFixed(ev.fd(), buf.address(), 8, 0, 1));
            assertTrue(ring.prepareReadFixed(ev.fd(), buf.address() + 64, 8, 0, 2));
            ring.submit(2);
            assertEquals(2, ring.ready());
            assertEquals(8, ring.result(0));
            assertEquals(8, ring.result(1));
            assertEquals(7L, buf.get(ValueLayout.JAVA_LONG, 64));
            ring.advance(2);
            ring.unregisterBuffers();
            NativeException e = assertThrows(NativeException.class, ring::unregisterBuffers);
            assertEquals("io_uring_register", e.call());
            assertEquals(Errno.ENXIO, e.errno());
        }
    }

    @Test
    void errorsNameTheCall() {
        NativeException setup = assertThrows(NativeException.class,
                () -> IoUring.open(8, 0x40000000, 0)); // an undefined setup flag
        assertEquals("io_uring_setup", setup.call());
        assertEquals(Errno.EINVAL, setup.errno());
        try (IoUring ring = IoUring.open(2)) {
            assertTrue(ring.prepare(IoUringLayout.IORING_OP_READ, 1_000_000, 0, 8, -1, 0, 5));
            ring.submit(1);
            assertEquals(-Errno.EBADF, ring.result(0), "a per-operation error is the completion's result");
            ring.advance(1);
            NativeException enter = assertThrows(NativeException.class, () -> ring.enter(0, 0, 0x4000_0000));
            assertEquals("io_uring_enter", enter.call());
        }
        assertThrows(IllegalArgumentException.class, () -> IoUring.open(0));
    }

    @Test
    void sqpollSubmitsWithoutEnteringWhenAwake() {
        // The build runs as root on kernels (5.11+) that take SQPOLL: a refusal is a failure.
        try (IoUring ring = IoUring.open(8, IoUringLayout.IORING_SETUP_SQPOLL, 50)) {
            assertTrue(ring.sqPoll());
            int done = 0;
            for (int i = 0; i < 100; i++) {
                assertTrue(ring.prepare(IoUringLayout.IORING_OP_NOP, -1, 0, 0, 0, 0, i));
                ring.submit(0);
                long deadline = System.nanoTime() + 5_000_000_000L;
                while (ring.ready() == 0) {
                    assertTrue(System.nanoTime() < deadline, "the SQPOLL thread never took entry " + i);
                    Thread.onSpinWait();
                }
                assertEquals(i, ring.userData(0));
                ring.advance(1);
                done++;
            }
            assertEquals(100, done);
            assertTrue(ring.enterCalls() < 100, "the poll thread took most entries without a system call: "
                    + ring.enterCalls());
        }
    }

    /** As root: an ARP request written through the ring into a TAP is answered, read through the ring. */
    @Test
    void aFrameEachWayThroughATapWithVnetHeader() throws Exception {
        assertTrue(TapNetns.usable(), "the build runs as root with ip and /dev/net/tun");
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread t = Thread.ofPlatform().start(() -> {
            try {
                tapRoundTrip();
            } catch (Throwable e) {
                failure.set(e);
            }
        });
        t.join();
        if (failure.get() != null) {
            throw new AssertionError(failure.get());
        }
    }

    private static void tapRoundTrip() {
        String run = Long.toString(ProcessHandle.current().pid() % 100000, 36);
        try (TapNetns tn = TapNetns.open("fs-iou-t" + run, "iout" + run, "198.18.77.1/24", 1000);
                IoUring ring = IoUring.open(8); Arena arena = Arena.ofConfined()) {
            byte[] myMac = {2, 0, 0, 0, 0, 2};
            byte[] kmac = tn.kernelMac();
            MemorySegment hdr = arena.allocate(16, 8); // zero vnet header: no offload on this frame
            MemorySegment tx = arena.allocate(64, 8);
            // Ethernet: broadcast, from myMac, ARP
            for (int i = 0; i < 6; i++) {
                tx.set(ValueLayout.JAVA_BYTE, i, (byte) 0xff);
                tx.set(ValueLayout.JAVA_BYTE, 6 + i, myMac[i]);
                tx.set(ValueLayout.JAVA_BYTE, 22 + i, myMac[i]); // sender hw
            }
            byte[] arp = {0x08, 0x06, 0, 1, 0x08, 0x00, 6, 4, 0, 1};
            MemorySegment.copy(arp, 0, tx, ValueLayout.JAVA_BYTE, 12, arp.length);
            byte[] spa = {(byte) 198, 18, 77, 2};
            byte[] tpa = {(byte) 198, 18, 77, 1};
            MemorySegment.copy(spa, 0, tx, ValueLayout.JAVA_BYTE, 28, 4);
            MemorySegment.copy(tpa, 0, tx, ValueLayout.JAVA_BYTE, 38, 4);
            MemorySegment iov = arena.allocate(4 * Libc.IOVEC_SIZE, 8);
            iov.set(ValueLayout.JAVA_LONG, 0, hdr.address());
            iov.set(ValueLayout.JAVA_LONG, 8, Tun.VNET_HDR_LEN);
            iov.set(ValueLayout.JAVA_LONG, 16, tx.address());
            iov.set(ValueLayout.JAVA_LONG, 24, 60);
            MemorySegment rxHdr = arena.allocate(16, 8);
            MemorySegment rx = arena.allocate(70_000, 8);
            iov.set(ValueLayout.JAVA_LONG, 32, rxHdr.address());
            iov.set(ValueLayout.JAVA_LONG, 40, Tun.VNET_HDR_LEN);
            iov.set(ValueLayout.JAVA_LONG, 48, rx.address());
            iov.set(ValueLayout.JAVA_LONG, 56, rx.byteSize());

            assertTrue(ring.prepareWritev(tn.fd, iov.address(), 2, 1));
            assertEquals(1, ring.submit(1));
            assertEquals(Tun.VNET_HDR_LEN + 60, ring.result(0), "the TAP took the whole frame");
            ring.advance(1);

            // a ring read on an empty TAP would stay armed: wait for POLLIN first, then read
            Poller poller = new Poller(1);
            poller.set(0, tn.fd, Poller.POLLIN);
            long deadline = System.nanoTime() + 5_000_000_000L;
            boolean answered = false;
            while (!answered && System.nanoTime() < deadline) {
                if (poller.poll(100) <= 0) {
                    continue;
                }
                assertTrue(ring.prepareReadv(tn.fd, iov.address() + 2 * Libc.IOVEC_SIZE, 2, 2));
                ring.submit(1);
                int r = ring.result(0);
                ring.advance(1);
                assertTrue(r > Tun.VNET_HDR_LEN, "read result " + r);
                // an ARP reply (op 2) to us from the kernel's MAC
                if (rx.get(ValueLayout.JAVA_BYTE, 12) == 0x08 && rx.get(ValueLayout.JAVA_BYTE, 13) == 0x06
                        && rx.get(ValueLayout.JAVA_BYTE, 21) == 2) {
                    byte[] dst = rx.asSlice(0, 6).toArray(ValueLayout.JAVA_BYTE);
                    byte[] src = rx.asSlice(6, 6).toArray(ValueLayout.JAVA_BYTE);
                    assertArrayEquals(myMac, dst);
                    assertArrayEquals(kmac, src);
                    answered = true;
                }
            }
            assertTrue(answered, "no ARP reply read through the ring");
        }
    }
}
