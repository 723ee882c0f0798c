package io.flowstack.nativeio;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * CPU affinity of the calling OS thread ({@code sched_setaffinity}, {@code sched_getcpu}).
 * Call from platform threads; on a virtual thread it would pin the carrier.
 *
 * <p>Owned by: nobody (stateless, thread safe; each call acts on the calling thread).
 */
public final class Affinity {
    /** {@code sizeof(cpu_set_t)}: 1024 CPUs. */
    public static final int CPU_SET_BYTES = 128;

    private Affinity() {
    }

    /**
     * Pins the calling thread to CPU {@code cpu}.
     *
     * @param cpu the CPU number, 0-based as in {@code /proc/cpuinfo}
     * @return {@code true} if the kernel accepted it; {@code false} (no exception) if the CPU
     *     number is out of range, not in the allowed set (cgroup cpuset), or the kernel refused
     */
    public static boolean pinCurrentThread(int cpu) {
        if (cpu < 0 || cpu >= CPU_SET_BYTES * 8) {
            return false;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment mask = arena.allocate(CPU_SET_BYTES, 8);
            mask.set(java.lang.foreign.ValueLayout.JAVA_BYTE, cpu >>> 3, (byte) (1 << (cpu & 7)));
            return Libc.schedSetAffinity(0, mask) == 0;
        }
    }

    /**
     * The CPUs the calling thread may run on (its affinity mask), ascending; empty if unknown.
     *
     * @return the CPU numbers from {@code sched_getaffinity(2)}
     */
    public static int[] currentThreadCpus() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment mask = arena.allocate(CPU_SET_BYTES, 8);
            if (Libc.schedGetAffinity(0, mask) != 0) {
                return new int[0];
            }
            java.util.BitSet bits = java.util.BitSet.valueOf(mask.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
            return bits.stream().toArray();
        }
    }

    /**
     * The CPU the calling thread is running on now, or -1 if unknown.
     *
     * @return the CPU number from {@code sched_getcpu(3)}, or -1; it may change as soon as this
     *     returns unless the thread is pinned
     */
    public static int currentCpu() {
        int cpu = Libc.schedGetCpu();
        return cpu >= 0 ? cpu : -1;
    }
}
