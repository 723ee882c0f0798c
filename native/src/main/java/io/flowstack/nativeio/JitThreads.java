package io.flowstack.nativeio;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The JVM's JIT compiler threads, found by name in {@code /proc/self/task}, moved to
 * {@code SCHED_IDLE}. A thread that calls a method often enough queues it for compilation and
 * wakes the compiler threads; on a machine with as many busy threads as CPUs the woken compiler
 * preempts the caller and compiles for milliseconds while it waits (measured with perf sched on
 * a netisr: 1-4 ms ping outliers, docs/BENCHMARKS.md "Wake-ups"). At {@code SCHED_IDLE} it never
 * preempts a normal thread and runs on CPU time no other thread wants. Compiler threads the JVM
 * adds later are started by a compiler thread and inherit the policy.
 *
 * <p>Owned by: none (stateless; called once by the stack at start).
 */
public final class JitThreads {
    private JitThreads() {
    }

    /**
     * Moves this process's JIT compiler threads (HotSpot names them {@code "C1 CompilerThread<n>"}
     * and {@code "C2 CompilerThread<n>"}, truncated to 15 characters in {@code comm}) to
     * {@code SCHED_IDLE}.
     *
     * @return how many threads were moved (0 where /proc is missing or the call is refused)
     */
    public static int idle() {
        int moved = 0;
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc/self/task"))) {
            for (Path task : tasks) {
                String comm;
                try {
                    comm = Files.readString(task.resolve("comm")).trim();
                } catch (IOException e) {
                    continue; // the thread ended
                }
                if (isCompiler(comm)
                        && Libc.schedSetScheduler(Integer.parseInt(task.getFileName().toString()), Libc.SCHED_IDLE) == 0) {
                    moved++;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return moved;
        }
        return moved;
    }

    /**
     * Whether a thread name ({@code comm}) is a HotSpot JIT compiler thread's.
     *
     * @param comm the name, as in {@code /proc/self/task/<tid>/comm}
     * @return true for C1 and C2 compiler threads
     */
    public static boolean isCompiler(String comm) {
        return comm.startsWith("C1 CompilerThre") || comm.startsWith("C2 CompilerThre");
    }
}
