package io.flowstack.nativeio;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

class LibcTest {

    @Test
    void openOfMissingPathGivesEnoentWithPath() {
        String path = "/nonexistent/flowstack-" + System.nanoTime();
        NativeException e = assertThrows(NativeException.class, () -> Libc.open(path, Libc.O_RDONLY));
        assertEquals(Errno.ENOENT, e.errno());
        assertEquals("ENOENT", e.errnoName());
        assertEquals("open " + path + ": ENOENT (No such file or directory)", e.getMessage());
    }

    @Test
    void readAndWriteReturnMinusEagainWithoutThrowing() {
        int fd = Libc.eventfd(0, EventFd.EFD_NONBLOCK | EventFd.EFD_CLOEXEC);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(8, 8);
            assertEquals(-Errno.EAGAIN, Libc.read(fd, buf, 8), "empty eventfd read");
            buf.set(ValueLayout.JAVA_LONG, 0, 0xfffffffffffffffeL); // the largest counter value
            assertEquals(8, Libc.write(fd, buf, 8));
            buf.set(ValueLayout.JAVA_LONG, 0, 1L);
            assertEquals(-Errno.EAGAIN, Libc.write(fd, buf, 8), "full eventfd write");
            assertEquals(8, Libc.read(fd, buf, 8));
            assertEquals(0xfffffffffffffffeL, buf.get(ValueLayout.JAVA_LONG, 0));
        } finally {
            Libc.close(fd);
        }
    }

    @Test
    void readvAndWritevScatterAndGather() throws Exception {
        java.nio.file.Path file = java.nio.file.Files.createTempFile("flowstack-iov", ".bin");
        int fd = Libc.open(file.toString(), Libc.O_RDWR | Libc.O_CLOEXEC);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = arena.allocate(3);
            MemorySegment b = arena.allocate(5);
            MemorySegment iov = arena.allocate(2 * Libc.IOVEC_SIZE, 8);
            iov.set(ValueLayout.ADDRESS, Libc.IOVEC_BASE, a);
            iov.set(ValueLayout.JAVA_LONG, Libc.IOVEC_LEN, 3);
            iov.set(ValueLayout.ADDRESS, Libc.IOVEC_SIZE + Libc.IOVEC_BASE, b);
            iov.set(ValueLayout.JAVA_LONG, Libc.IOVEC_SIZE + Libc.IOVEC_LEN, 5);
            a.copyFrom(MemorySegment.ofArray(new byte[] {1, 2, 3}));
            b.copyFrom(MemorySegment.ofArray(new byte[] {4, 5, 6, 7, 8}));
            assertEquals(8, Libc.writev(fd, iov, 2));
            assertArrayEquals(new byte[] {1, 2, 3, 4, 5, 6, 7, 8}, java.nio.file.Files.readAllBytes(file));

            java.nio.file.Files.write(file, new byte[] {9, 8, 7, 6, 5, 4, 3, 2});
            int rfd = Libc.open(file.toString(), Libc.O_RDONLY | Libc.O_CLOEXEC);
            try {
                assertEquals(8, Libc.readv(rfd, iov, 2));
                assertEquals(0, Libc.readv(rfd, iov, 2), "end of file");
            } finally {
                Libc.close(rfd);
            }
            assertArrayEquals(new byte[] {9, 8, 7}, a.toArray(ValueLayout.JAVA_BYTE));
            assertArrayEquals(new byte[] {6, 5, 4, 3, 2}, b.toArray(ValueLayout.JAVA_BYTE));
        } finally {
            Libc.close(fd);
            java.nio.file.Files.deleteIfExists(file);
        }
    }

    @Test
    void badDescriptorIsANegativeErrnoOnTheHotPathAndAnExceptionOnClose() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(8);
            assertEquals(-Errno.EBADF, Libc.read(-1, buf, 8));
            assertEquals(-Errno.EBADF, Libc.write(-1, buf, 8));
        }
        NativeException e = assertThrows(NativeException.class, () -> Libc.close(-1));
        assertEquals(Errno.EBADF, e.errno());
    }

    @Test
    void sendOnAnUnconnectedDatagramSocketReturnsMinusErrno() {
        int fd = Libc.socket(Libc.AF_INET, Libc.SOCK_DGRAM | Libc.SOCK_CLOEXEC, 0);
        try (Arena arena = Arena.ofConfined()) {
            assertEquals(-Errno.EDESTADDRREQ, Libc.send(fd, arena.allocate(8), 8, Libc.MSG_DONTWAIT));
            assertEquals(-Errno.EDESTADDRREQ, Libc.send(fd, MemorySegment.NULL, 0, Libc.MSG_DONTWAIT));
        } finally {
            Libc.close(fd);
        }
    }

    @Test
    void lengthBeyondSegmentIsRejected() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(8);
            assertThrows(IndexOutOfBoundsException.class, () -> Libc.read(0, buf, 9));
        }
    }

    @Test
    void getrandomFillsBytes() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(4096);
            Libc.getrandom(buf);
            int nonZero = 0;
            for (long i = 0; i < buf.byteSize(); i++) {
                if (buf.get(ValueLayout.JAVA_BYTE, i) != 0) {
                    nonZero++;
                }
            }
            // 4096 random bytes contain ~16 zeros on average; far more would mean "not filled"
            assertTrue(nonZero > 3900, "non-zero bytes: " + nonZero);
        }
    }

    @Test
    void ifNameToIndexOfLoopbackAndMissingInterface() {
        assertTrue(Libc.ifNameToIndex("lo") > 0);
        NativeException e = assertThrows(NativeException.class, () -> Libc.ifNameToIndex("fsnone0"));
        assertEquals(Errno.ENODEV, e.errno());
        assertEquals("if_nametoindex fsnone0: ENODEV (No such device): no such device", e.getMessage());
    }

    @Test
    void socketOptionsAndNonBlocking() {
        int fd = Libc.socket(Libc.AF_INET, Libc.SOCK_DGRAM | Libc.SOCK_CLOEXEC, 0);
        try {
            assertEquals(0, Libc.fileStatusFlags(fd) & Libc.O_NONBLOCK);
            Libc.setNonBlocking(fd);
            assertEquals(Libc.O_NONBLOCK, Libc.fileStatusFlags(fd) & Libc.O_NONBLOCK);
            Libc.setsockoptInt(fd, Libc.SOL_SOCKET, Libc.SO_RCVBUF, 65536, "SO_RCVBUF");
            // Linux doubles the requested value for bookkeeping overhead
            assertEquals(131072, Libc.getsockoptInt(fd, Libc.SOL_SOCKET, Libc.SO_RCVBUF, 0, "SO_RCVBUF"));
            NativeException e = assertThrows(NativeException.class,
                    () -> Libc.setsockoptInt(fd, Libc.SOL_SOCKET, 9999, 1, "SO_BOGUS"));
            assertEquals(Errno.ENOPROTOOPT, e.errno());
            assertTrue(e.getMessage().startsWith("SO_BOGUS: ENOPROTOOPT"), e.getMessage());
        } finally {
            Libc.close(fd);
        }
    }

    @Test
    void anonymousMmapIsSizedAndUnmappedWithItsArena() {
        MemorySegment seg;
        try (Arena arena = Arena.ofConfined()) {
            seg = Libc.mmap(1 << 16, Libc.PROT_READ | Libc.PROT_WRITE,
                    Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS, -1, 0, arena);
            assertEquals(1 << 16, seg.byteSize());
            seg.set(ValueLayout.JAVA_LONG, (1 << 16) - 8, 42L);
            assertEquals(42L, seg.get(ValueLayout.JAVA_LONG, (1 << 16) - 8));
        }
        assertFalse(seg.scope().isAlive());
        NativeException e = assertThrows(NativeException.class, () -> {
            try (Arena arena = Arena.ofConfined()) {
                Libc.mmap(4096, Libc.PROT_READ, Libc.MAP_SHARED, -1, 0, arena);
            }
        });
        assertEquals(Errno.EBADF, e.errno());
    }

    @Test
    void hotPathDoesNotAllocate() {
        int fd = Libc.eventfd(0, EventFd.EFD_NONBLOCK | EventFd.EFD_CLOEXEC);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(8, 8);
            long allocated = steadyStateAllocation(() -> {
                for (int i = 0; i < 50_000; i++) {
                    buf.set(ValueLayout.JAVA_LONG, 0, 1L);
                    Libc.write(fd, buf, 8);
                    Libc.read(fd, buf, 8);
                    Libc.write(fd, buf, 0, 8);
                    Libc.read(fd, buf, 8);
                    Libc.read(fd, buf, 8); // -EAGAIN
                }
            });
            // 250,000 calls: anything per call would be megabytes
            assertTrue(allocated < 1024, "allocated " + allocated + " bytes over 250,000 calls");
        } finally {
            Libc.close(fd);
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
}
