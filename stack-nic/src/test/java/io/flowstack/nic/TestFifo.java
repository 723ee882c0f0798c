package io.flowstack.nic;

import io.flowstack.nativeio.Libc;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A named pipe for tests of gathering writes without a network device or privileges: made with
 * mkfifo(1) in a fresh temp directory and opened read-write and non-blocking, so one descriptor
 * both takes the writes (up to the pipe's 64 KiB, then {@code EAGAIN}) and reads them back.
 * {@link #close()} closes the descriptor and deletes the pipe and its directory.
 *
 * <p>Owned by: the test thread that made it.
 */
public final class TestFifo implements AutoCloseable {
    private final Path path;
    private final int fd;

    private TestFifo(Path path, int fd) {
        this.path = path;
        this.fd = fd;
    }

    /**
     * Makes and opens a pipe.
     *
     * @return the open pipe
     * @throws IOException if mkfifo fails
     */
    public static TestFifo open() throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory("flowstack-fifo-");
        Path p = dir.resolve("pipe");
        Process mk = new ProcessBuilder("mkfifo", p.toString()).inheritIO().start();
        if (!mk.waitFor(10, TimeUnit.SECONDS) || mk.exitValue() != 0) {
            mk.destroyForcibly();
            Files.deleteIfExists(dir);
            throw new IOException("mkfifo " + p + " failed");
        }
        return new TestFifo(p, Libc.open(p.toString(), Libc.O_RDWR | Libc.O_NONBLOCK | Libc.O_CLOEXEC));
    }

    /** The read-write, non-blocking descriptor. */
    public int fd() {
        return fd;
    }

    /** The pipe's path (to open it again, e.g. read-only). */
    public Path path() {
        return path;
    }

    /**
     * Reads exactly {@code n} bytes that the pipe already holds.
     *
     * @param n bytes to read
     * @param arena where the read buffer is allocated
     * @return the bytes
     */
    public byte[] read(int n, Arena arena) {
        MemorySegment buf = arena.allocate(Math.max(n, 1));
        int got = 0;
        while (got < n) {
            int r = Libc.read(fd, buf, got, n - got);
            if (r <= 0) {
                throw new AssertionError("read " + got + " of " + n + " bytes from the pipe, then " + r);
            }
            got += r;
        }
        return buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE);
    }

    @Override
    public void close() throws IOException {
        try {
            Libc.close(fd);
        } finally {
            Files.deleteIfExists(path);
            Files.deleteIfExists(path.getParent());
        }
    }
}
