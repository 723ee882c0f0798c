package io.flowstack.nativeio;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A non-blocking Linux eventfd ({@code EFD_NONBLOCK | EFD_CLOEXEC}): a wakeup that any thread can
 * raise and that the owner waits for with {@code poll(POLLIN)} next to its other descriptors.
 *
 * <p>Owned by: one consumer thread, which calls {@link #drain()} and polls {@link #fd()}.
 * {@link #signal()} may be called from any thread at any time before {@link #close()}; it
 * allocates nothing and takes no lock (one {@code write} of the 8-byte value 1). Closing while
 * other threads still signal is a programming error: the descriptor number could be reused.
 */
public final class EventFd implements AutoCloseable {
    /** {@code EFD_NONBLOCK} (= {@code O_NONBLOCK}). */
    public static final int EFD_NONBLOCK = Libc.O_NONBLOCK;
    /** {@code EFD_CLOEXEC} (= {@code O_CLOEXEC}). */
    public static final int EFD_CLOEXEC = Libc.O_CLOEXEC;
    /** {@code EFD_SEMAPHORE}. */
    public static final int EFD_SEMAPHORE = 1;

    /** The 8-byte value 1, shared read-only by every signalling thread. */
    private static final MemorySegment ONE = Arena.global().allocateFrom(ValueLayout.JAVA_LONG, 1L);
    private static final long ONE_ADDRESS = ONE.address();

    private volatile int fd;
    private final MemorySegment drainBuffer = Arena.ofAuto().allocate(8, 8);

    private EventFd(int fd) {
        this.fd = fd;
    }

    /**
     * Creates a new eventfd with counter 0, non-blocking and close-on-exec.
     *
     * @return the new eventfd, from {@code eventfd(2)}
     * @throws NativeException if the kernel refuses (e.g. {@code EMFILE})
     */
    public static EventFd create() {
        return new EventFd(Libc.eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
    }

    /**
     * The descriptor, readable (POLLIN) while signalled; -1 after {@link #close()}.
     *
     * @return the descriptor number, or -1
     */
    public int fd() {
        return fd;
    }

    /**
     * Raises the event (adds 1 to the counter). Cheap, allocation free and safe from any thread;
     * never blocks and never throws for a failed write (the counter cannot realistically
     * overflow, and an already raised event stays raised).
     */
    public void signal() {
        int f = fd;
        if (f >= 0) {
            Libc.writeRaw(f, ONE_ADDRESS, 8); // no errno capture: allocation free in every JIT state
        }
    }

    /**
     * Clears the event: reads the counter until {@code EAGAIN}. Owner thread only; allocation
     * free.
     */
    public void drain() {
        int f = fd;
        if (f < 0) {
            return;
        }
        while (Libc.read(f, drainBuffer, 8) > 0) {
            // the counter is reset by each successful read; loop for signals racing with us
        }
    }

    /** Closes the descriptor; idempotent. */
    @Override
    public void close() {
        int f = fd;
        if (f >= 0) {
            fd = -1;
            Libc.close(f);
        }
    }
}
