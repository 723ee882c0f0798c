package io.flowstack.nativeio;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A reusable, preallocated {@code struct pollfd[]} and the {@code poll(2)} call over its first
 * {@link #count()} entries. Nothing is allocated per call.
 *
 * <pre>
 * struct pollfd {       // 8 bytes
 *     int   fd;         // 0
 *     short events;     // 4
 *     short revents;    // 6
 * };
 * </pre>
 *
 * <p>Owned by: one thread (typically a netisr waiting for its NIC queue and its eventfd). It may
 * be built on another thread and handed over before use. Not thread safe.
 */
public final class Poller {
    /** {@code poll(2)} event: there is data to read. */
    public static final short POLLIN = 0x001;
    /** {@code poll(2)} event: an exceptional condition (e.g. out-of-band data). */
    public static final short POLLPRI = 0x002;
    /** {@code poll(2)} event: writing is possible. */
    public static final short POLLOUT = 0x004;
    /** {@code poll(2)} event (reported only): an error condition, e.g. a pending socket error. */
    public static final short POLLERR = 0x008;
    /** {@code poll(2)} event (reported only): hang up. */
    public static final short POLLHUP = 0x010;
    /** {@code poll(2)} event (reported only): the descriptor is not open. */
    public static final short POLLNVAL = 0x020;

    private static final long SIZE = 8;
    private static final long FD = 0;
    private static final long EVENTS = 4;
    private static final long REVENTS = 6;

    private final MemorySegment fds;
    /** {@link #pollNanos}'s {@code struct timespec}. */
    private final MemorySegment timespec;
    private final int maxFds;
    private int count;

    /**
     * A poller with {@code maxFds} entries, all with fd -1 (skipped), and a count of 0. The array
     * lives in an automatic arena, freed by the GC with the poller.
     *
     * @param maxFds number of entries to preallocate (&gt; 0)
     * @throws IllegalArgumentException if {@code maxFds} is not positive
     */
    public Poller(int maxFds) {
        if (maxFds <= 0) {
            throw new IllegalArgumentException("maxFds must be > 0: " + maxFds);
        }
        this.maxFds = maxFds;
        Arena arena = Arena.ofAuto();
        this.fds = arena.allocate(SIZE * maxFds, 8);
        this.timespec = arena.allocate(16, 8);
        for (int i = 0; i < maxFds; i++) {
            fds.set(ValueLayout.JAVA_INT, i * SIZE + FD, -1);
        }
    }

    /**
     * Capacity given at construction.
     *
     * @return the number of entries
     */
    public int maxFds() {
        return maxFds;
    }

    /**
     * Sets entry {@code index} to wait for {@code events} on {@code fd} (a negative fd makes the
     * kernel skip the entry). Raises {@link #count()} to {@code index + 1} if it was lower.
     *
     * @param index the entry, {@code 0 <= index < maxFds()}
     * @param fd the descriptor, or a negative value to skip the entry
     * @param events the events to wait for, e.g. {@link #POLLIN}
     * @throws IndexOutOfBoundsException if {@code index} is out of range
     */
    public void set(int index, int fd, short events) {
        checkIndex(index);
        long base = index * SIZE;
        fds.set(ValueLayout.JAVA_INT, base + FD, fd);
        fds.set(ValueLayout.JAVA_SHORT, base + EVENTS, events);
        fds.set(ValueLayout.JAVA_SHORT, base + REVENTS, (short) 0);
        if (index >= count) {
            count = index + 1;
        }
    }

    /**
     * Number of entries passed to {@code poll}.
     *
     * @return the count, 0 to {@link #maxFds()}
     */
    public int count() {
        return count;
    }

    /**
     * Sets the number of entries passed to {@code poll}, {@code 0 <= count <= maxFds()}.
     *
     * @param count the number of entries
     * @throws IllegalArgumentException if {@code count} is out of range
     */
    public void count(int count) {
        if (count < 0 || count > maxFds) {
            throw new IllegalArgumentException("count " + count + " outside [0, " + maxFds + "]");
        }
        this.count = count;
    }

    /**
     * The descriptor of entry {@code index}.
     *
     * @param index the entry, {@code 0 <= index < maxFds()}
     * @return the descriptor, -1 if never set
     * @throws IndexOutOfBoundsException if {@code index} is out of range
     */
    public int fd(int index) {
        checkIndex(index);
        return fds.get(ValueLayout.JAVA_INT, index * SIZE + FD);
    }

    /**
     * Waits until one of the first {@link #count()} descriptors is ready or the timeout expires.
     *
     * @param timeoutMillis milliseconds to wait; 0 returns at once, negative waits forever
     * @return number of entries with non-zero {@link #revents}, 0 on timeout or when interrupted
     *     by a signal ({@code EINTR})
     * @throws NativeException for other failures (EFAULT, EINVAL, ENOMEM)
     */
    public int poll(int timeoutMillis) {
        int r = Libc.poll(fds, count, timeoutMillis);
        if (r >= 0) {
            return r;
        }
        if (r == -Errno.EINTR) {
            return 0;
        }
        throw new NativeException("poll", count + " fds", -r);
    }

    /**
     * {@link #poll} with a timeout in nanoseconds ({@code ppoll(2)}): a sleep bounded by a timer
     * deadline ends at that deadline (plus the kernel's timer slack), not at a whole millisecond.
     *
     * @param timeoutNanos nanoseconds to wait; 0 returns at once, negative waits forever
     * @return number of entries with non-zero {@link #revents}, 0 on timeout or when interrupted
     *     by a signal ({@code EINTR})
     * @throws NativeException for other failures (EFAULT, EINVAL, ENOMEM)
     */
    public int pollNanos(long timeoutNanos) {
        if (timeoutNanos < 0) {
            return poll(-1);
        }
        timespec.set(ValueLayout.JAVA_LONG, 0, timeoutNanos / 1_000_000_000L);
        timespec.set(ValueLayout.JAVA_LONG, 8, timeoutNanos % 1_000_000_000L);
        int r = Libc.ppoll(fds, count, timespec);
        if (r >= 0) {
            return r;
        }
        if (r == -Errno.EINTR) {
            return 0;
        }
        throw new NativeException("ppoll", count + " fds", -r);
    }

    /**
     * The events reported for entry {@code index} by the last {@link #poll}.
     *
     * @param index the entry, {@code 0 <= index < maxFds()}
     * @return the {@code revents} bits, e.g. {@link #POLLIN} or {@link #POLLERR}
     * @throws IndexOutOfBoundsException if {@code index} is out of range
     */
    public short revents(int index) {
        checkIndex(index);
        return fds.get(ValueLayout.JAVA_SHORT, index * SIZE + REVENTS);
    }

    /**
     * Whether the last {@link #poll} reported any of {@code mask} for entry {@code index}.
     *
     * @param index the entry, {@code 0 <= index < maxFds()}
     * @param mask the events of interest, e.g. {@code POLLIN | POLLERR}
     * @return true if any of them was reported
     * @throws IndexOutOfBoundsException if {@code index} is out of range
     */
    public boolean ready(int index, short mask) {
        return (revents(index) & mask) != 0;
    }

    private void checkIndex(int index) {
        if (index < 0 || index >= maxFds) {
            throw new IndexOutOfBoundsException("index " + index + " outside [0, " + maxFds + ")");
        }
    }
}
