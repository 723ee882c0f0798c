package io.flowstack.core.netisr;

import io.flowstack.core.config.StackConfig;
import io.flowstack.nativeio.EventFd;
import io.flowstack.nativeio.Poller;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Core parking, for a stack with as many netisrs as the process has CPUs (docs/BENCHMARKS.md
 * "Core parking"). There an application or a client on the same machine has no CPU of its own,
 * and a netisr that sleeps between the connections hashed to it pays a thread wake-up on a CPU
 * somebody else wants, per connection. So a netisr thread busy at most
 * {@value #PARK_BELOW_PERMILLE} per mille of its last window parks when its spin ends, and one
 * that waited on the run queue at least {@value #CONTENDED_PERMILLE} per mille of it (the CPUs
 * have more runnable threads than they can run: {@link RunDelay}) parks after its next pass: it
 * hands its netisr to netisr thread 0, which then runs both (a pass polls both, a sleep polls both
 * queues' descriptors and eventfds), and sleeps on its park eventfd. Thread 0 hands every parked
 * netisr back when it was busy at least {@value #RETURN_ABOVE_PERMILLE} per mille of a window and
 * the machine had at least half a CPU idle over it ({@link SystemIdle}). Shenango and Caladan
 * reallocate cores the same way, at microseconds; this does it per {@value #WINDOW_MILLIS} ms
 * window. Each netisr's state stays its own and is touched by one thread at a time: only the
 * thread that runs it changes.
 *
 * <p>The handoff is one state per thread with one writer per transition, so neither lock nor CAS:
 * <ul>
 *   <li>{@link #RUNNING} to {@link #PARKING}: the parking thread, after its last pass over its netisr;
 *   <li>{@link #PARKING} to {@link #HOSTED}: thread 0, which claims the netisr's ownership first;
 *   <li>{@link #HOSTED} to {@link #RETURNED}: thread 0, after its last pass over it, then it signals the park eventfd;
 *   <li>{@link #RETURNED} to {@link #RUNNING}: the parked thread, which claims the ownership back.
 * </ul>
 * Each write is a release and each read an acquire, so every access to the netisr before a
 * handoff happens before every access after it.
 *
 * <p>Shared by a stack's netisr threads: each state entry is written as above; {@link SystemIdle}
 * and the load figures are thread 0's.
 */
final class CoreParking implements AutoCloseable {
    /** The thread runs its own netisr. */
    static final int RUNNING = 0;
    /** The thread has stopped touching its netisr; thread 0 has not taken it yet. */
    static final int PARKING = 1;
    /** Thread 0 runs the netisr; its thread sleeps. */
    static final int HOSTED = 2;
    /** Thread 0 has stopped touching the netisr; its thread takes it back. */
    static final int RETURNED = 3;

    static final long WINDOW_MILLIS = 50;
    /** The load window: a thread's busy share is measured over it. */
    static final long WINDOW_NANOS = WINDOW_MILLIS * 1_000_000L;
    /** A thread parks only if busy at most this share (per mille) of its last window... */
    static final int PARK_BELOW_PERMILLE = 400;
    /**
     * ... or if it waited for a CPU at least this share (per mille) of its last window
     * ({@link RunDelay}): the machine has more runnable threads than CPUs, and this one only adds
     * a context switch per hand-off.
     */
    static final int CONTENDED_PERMILLE = 200;
    /** Thread 0 hands netisrs back when busy at least this share (per mille) of a window... */
    static final int RETURN_ABOVE_PERMILLE = 900;
    /** ... and the machine was idle at least this share (per mille) of one CPU over it. */
    static final int SPARE_CPU_PERMILLE = 500;
    /** A thread given its netisr back keeps it at least this long. */
    static final long HOLD_NANOS = 4 * WINDOW_NANOS;

    private static final VarHandle STATE = MethodHandles.arrayElementVarHandle(int[].class);

    private final int[] state;
    private final EventFd[] parkFds;
    /**
     * A system property that replaces the machine's idle reading ({@link SystemIdle#idleTicks}) in
     * parkings built while it is set, for tests that need a deterministic answer: {@code none} (no
     * idle CPU ever) or {@code spare} (always a CPU idle).
     */
    static final String CPU_PROPERTY = "flowstack.parking.cpu";

    private final SystemIdle idle = new SystemIdle();
    private final java.util.function.LongSupplier idleTicks;
    private long lastIdleTicks = -1;
    private long lastIdleAt;

    /**
     * Parking for {@code threads} netisr threads.
     *
     * @param threads the stack's netisr threads, 2 or more
     */
    CoreParking(int threads) {
        state = new int[threads];
        parkFds = new EventFd[threads];
        String forTests = System.getProperty(CPU_PROPERTY, "");
        long[] fake = {0};
        idleTicks = switch (forTests) {
            case "none" -> () -> 0;
            case "spare" -> () -> fake[0] += 1_000; // 10 s of idle CPU per reading
            default -> idle::idleTicks;
        };
        for (int i = 1; i < threads; i++) {
            parkFds[i] = EventFd.create();
        }
    }

    /**
     * {@return whether a stack so configured parks: on unless turned off, with 2 or more netisrs,
     * at least as many as the CPUs, and no busy-poll (whose netisrs never sleep)}
     *
     * @param config the stack's configuration
     */
    static boolean wanted(StackConfig config) {
        return config.coreParking && !config.busyPoll && config.cores > 1 && config.cores >= ProcessCpus.COUNT;
    }

    /** {@return thread {@code i}'s state (acquire)} */
    int state(int i) {
        return (int) STATE.getAcquire(state, i);
    }

    /** Sets thread {@code i}'s state (release); the caller is the transition's one writer. */
    void state(int i, int s) {
        STATE.setRelease(state, i, s);
    }

    /** Wakes parked thread {@code i} (after its netisr was returned, or to stop it). */
    void unpark(int i) {
        parkFds[i].signal();
    }

    /**
     * Parked thread {@code i} sleeps until signalled or {@code maxMillis} pass.
     *
     * @param poller a poller of at least one slot, the thread's own
     */
    void sleepParked(int i, Poller poller, int maxMillis) {
        poller.set(0, parkFds[i].fd(), Poller.POLLIN);
        poller.count(1);
        if (poller.poll(maxMillis) > 0) {
            parkFds[i].drain();
        }
    }

    /**
     * Thread 0, at the end of each window in which it ran parked netisrs (and once when it takes
     * one, for a start): whether the machine had a CPU to spare since the last call. Unknown (no
     * {@code /proc/stat}) counts as spare: handing back is what a stack without parking does.
     *
     * @param now the stack clock's time
     * @return true to hand the netisrs back
     */
    boolean cpuToSpare(long now) {
        long ticks = idleTicks.getAsLong();
        long prevTicks = lastIdleTicks;
        long prevAt = lastIdleAt;
        lastIdleTicks = ticks;
        lastIdleAt = now;
        if (ticks < 0 || prevTicks < 0) {
            return ticks < 0;
        }
        long idleNanos = (ticks - prevTicks) * SystemIdle.NANOS_PER_TICK;
        return idleNanos * 1000 >= (now - prevAt) * SPARE_CPU_PERMILLE;
    }

    @Override
    public void close() {
        for (EventFd f : parkFds) {
            if (f != null) {
                f.close();
            }
        }
        idle.close();
    }
}
