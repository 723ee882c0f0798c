package io.flowstack.core.netisr;

import io.flowstack.nativeio.Libc;
import io.flowstack.nativeio.NativeException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The calling thread's time spent runnable but waiting for a CPU: the second field of
 * {@code /proc/thread-self/schedstat} ({@code sum_exec_runtime run_delay timeslices}, in
 * nanoseconds; Documentation/scheduler/sched-stats.rst), read with {@code pread} into an off-heap
 * buffer and parsed in place: nothing is allocated per read. A netisr thread that waits on the run
 * queue a good share of its window shares the CPUs with more runnable threads than there are CPUs,
 * and {@link CoreParking} parks it: one thread fewer to schedule.
 *
 * <p>Owned by: the thread that created it (the file names that thread); closed by that thread.
 */
final class RunDelay implements AutoCloseable {
    /**
     * A system property that replaces the reading in run delays created while it is set, for
     * tests that need a deterministic answer: {@code always} (a second of waiting per reading) or
     * {@code never}.
     */
    static final String WAIT_PROPERTY = "flowstack.parking.wait";
    private static final int BUFFER = 96;
    private static final long FAKE_WAIT_NANOS = 1_000_000_000L;

    private final Arena arena = Arena.ofConfined();
    private final MemorySegment buf = arena.allocate(BUFFER);
    private final int fd;
    /** 0 reads the file; 1 and 2 are the {@link #WAIT_PROPERTY} answers always and never. */
    private final int fake;
    private long fakeNanos;

    /** Opens the calling thread's schedstat; without one, {@link #nanos} says unknown. */
    RunDelay() {
        fake = switch (System.getProperty(WAIT_PROPERTY, "")) {
            case "always" -> 1;
            case "never" -> 2;
            default -> 0;
        };
        int f;
        try {
            f = Libc.open("/proc/thread-self/schedstat", Libc.O_RDONLY | Libc.O_CLOEXEC);
        } catch (NativeException e) {
            f = -1; // no /proc or no CONFIG_SCHED_INFO
        }
        fd = f;
    }

    /** {@return the thread's run-queue wait since it started, in nanoseconds, or -1 if unknown} */
    long nanos() {
        if (fake != 0) {
            return fake == 1 ? fakeNanos += FAKE_WAIT_NANOS : 0;
        }
        if (fd < 0) {
            return -1;
        }
        int n = Libc.pread(fd, buf, BUFFER, 0);
        return n <= 0 ? -1 : parse(buf, n);
    }

    /**
     * The second decimal field of {@code s[0, len)}.
     *
     * @return it, or -1 if the text does not start with two fields
     */
    static long parse(MemorySegment s, int len) {
        int end = ProcDecimal.end(s, 0, len);
        if (ProcDecimal.value(s, 0, end) < 0 || end >= len || s.get(ValueLayout.JAVA_BYTE, end) != ' ') {
            return -1;
        }
        return ProcDecimal.value(s, end + 1, ProcDecimal.end(s, end + 1, len));
    }

    @Override
    public void close() {
        if (fd >= 0) {
            Libc.close(fd);
        }
        arena.close();
    }
}
