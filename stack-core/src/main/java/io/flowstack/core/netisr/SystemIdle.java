package io.flowstack.core.netisr;

import io.flowstack.nativeio.Libc;
import io.flowstack.nativeio.NativeException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The machine's idle CPU time so far: the idle and iowait fields of the first line of
 * {@code /proc/stat} ({@code cpu  user nice system idle iowait ...}, in USER_HZ ticks, 1/100 s on
 * Linux), read with {@code pread} into an off-heap buffer and parsed in place: nothing is
 * allocated per read. {@link CoreParking} asks it once per load window whether a CPU is free
 * before it hands a parked netisr back to its own thread.
 *
 * <p>Owned by: the thread that hosts parked netisrs (netisr thread 0); closed by the stack.
 */
final class SystemIdle implements AutoCloseable {
    /** Nanoseconds per USER_HZ tick (100 per second on Linux, whatever the kernel's HZ). */
    static final long NANOS_PER_TICK = 10_000_000L;
    private static final int BUFFER = 512;

    private final Arena arena = Arena.ofShared();
    private final MemorySegment buf = arena.allocate(BUFFER);
    private final int fd;

    SystemIdle() {
        int f;
        try {
            f = Libc.open("/proc/stat", Libc.O_RDONLY | Libc.O_CLOEXEC);
        } catch (NativeException e) {
            f = -1; // no /proc: idleTicks() says unknown
        }
        fd = f;
    }

    /** {@return idle plus iowait ticks of all CPUs since boot, or -1 if /proc/stat cannot be read} */
    long idleTicks() {
        if (fd < 0) {
            return -1;
        }
        int n = Libc.pread(fd, buf, BUFFER, 0);
        if (n <= 0) {
            return -1;
        }
        return parse(buf, n);
    }

    /**
     * Idle plus iowait from the {@code cpu} line at the start of {@code s[0, len)}.
     *
     * @return the sum, or -1 if the line is not the aggregate {@code cpu} line or is cut short
     */
    static long parse(MemorySegment s, int len) {
        if (len < 4 || s.get(ValueLayout.JAVA_BYTE, 0) != 'c' || s.get(ValueLayout.JAVA_BYTE, 1) != 'p'
                || s.get(ValueLayout.JAVA_BYTE, 2) != 'u' || s.get(ValueLayout.JAVA_BYTE, 3) != ' ') {
            return -1;
        }
        long sum = 0;
        int field = 0; // 1 user, 2 nice, 3 system, 4 idle, 5 iowait
        int i = 4;
        while (field < 5) {
            while (i < len && s.get(ValueLayout.JAVA_BYTE, i) == ' ') {
                i++;
            }
            if (i >= len) {
                return -1;
            }
            int end = ProcDecimal.end(s, i, len);
            long v = ProcDecimal.value(s, i, end);
            if (v < 0) {
                return -1;
            }
            i = end;
            field++;
            if (field >= 4) {
                sum += v;
            }
        }
        return sum;
    }

    @Override
    public void close() {
        if (fd >= 0) {
            Libc.close(fd);
        }
        arena.close();
    }
}
