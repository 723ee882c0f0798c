package io.flowstack.tools;

import io.flowstack.core.config.StackConfig;
import picocli.CommandLine;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * How a stack's netisr threads run, declared once for every command whose stack has threads
 * ({@code stack endpoint}, {@code stack bench --tap}, {@code stack ping}) as a picocli
 * {@code @Mixin} next to {@link StackOptions}: {@code --busy-poll}, {@code --pin}/{@code
 * --no-pin} and {@code --no-park}, their check ({@link #validate}) and what they set in a {@link StackConfig}
 * ({@link #apply}). {@code stack replay} does not include it: its stack is polled by the
 * command's own thread, so neither pinning nor busy polling means anything there.
 *
 * <p>Owned by: the thread that parses the command line and runs the command.
 */
public final class ThreadOptions {
    @Option(names = "--busy-poll",
            description = "Spin on the queues when idle instead of sleeping in poll(): lowest latency, one busy CPU "
                    + "per core.")
    public boolean busyPoll;

    @Option(names = "--idle-spin", paramLabel = "US",
            description = "Without --busy-poll: microseconds an idle netisr spins on memory before it sleeps in poll()"
                    + " (default 50; 0 sleeps at once).")
    public long idleSpinMicros = -1;

    @Option(names = "--jit-idle",
            description = "Run the JVM's JIT compiler threads at SCHED_IDLE: a compilation never preempts a netisr (no"
                    + " multi-millisecond outliers while code warms up), but it hardly runs while the CPUs are busy.")
    public boolean jitIdle;

    @Option(names = "--pin", description = "Pin netisr thread i to CPU i (the default when --cores is below the"
            + " number of CPUs).")
    public boolean pin;

    @Option(names = "--no-pin", description = "Let the scheduler place the netisr threads (the default when they"
            + " would take every CPU, so that the application and the kernel run where a netisr is idle).")
    public boolean noPin;

    @Option(names = "--no-park",
            description = "Keep every netisr on its own thread. By default, when the netisrs take every CPU, a netisr"
                    + " thread whose load stays low hands its netisr to thread 0 and sleeps (core parking), so that"
                    + " the application and the kernel keep a CPU; thread 0 hands it back when it is busy and a CPU"
                    + " is idle.")
    public boolean noPark;

    /** The options that belong to the stack's threads, for a command that runs without a stack to refuse them. */
    public static final String[] NAMES = {"--busy-poll", "--idle-spin", "--jit-idle", "--pin", "--no-pin", "--no-park"};

    /** Checks the values; throws ParameterException (exit 2) for {@code cmd}. */
    public void validate(CommandLine cmd) {
        if (pin && noPin) {
            throw new ParameterException(cmd, "--pin and --no-pin exclude each other: give one (or neither, for the default)");
        }
        if (idleSpinMicros < -1 || idleSpinMicros > 1_000_000) {
            throw new ParameterException(cmd, "--idle-spin must be 0 to 1000000 microseconds, got " + idleSpinMicros);
        }
    }

    /**
     * The command line's default for {@code StackConfig.pinThreads}: pin netisr thread i to CPU i only when
     * the netisrs leave CPUs free ({@code cores} below the CPUs this process may use). When they
     * would take every CPU, the application, the kernel's network processing and the JVM share
     * those CPUs with them, and a netisr woken on its own busy CPU waits for it while another
     * may be idle: on a 2-vCPU VM, 2 pinned cores gave one connect loop 2,600-7,300 conn/s with
     * p99 0.5-3.9 ms, unpinned 5,400-6,800 with p99 0.4-0.5 ms (docs/BENCHMARKS.md).
     *
     * @param cores the number of netisr cores the stack will run
     * @return true if pinning is the default for that many cores on this machine
     */
    public static boolean pinnedByDefault(int cores) {
        return cores < Runtime.getRuntime().availableProcessors();
    }

    /** Whether the netisr threads of {@code cores} cores are pinned: {@code --pin}, {@code --no-pin} or the default. */
    public boolean pinThreads(int cores) {
        return pin || (!noPin && pinnedByDefault(cores));
    }

    /** Sets pinning and busy polling of a stack with {@code cores} cores in {@code b}; returns {@code b}. */
    public StackConfig.Builder apply(StackConfig.Builder b, int cores) {
        b.pinThreads(pinThreads(cores)).busyPoll(busyPoll).jitIdlePriority(jitIdle).coreParking(!noPark);
        if (idleSpinMicros >= 0) {
            b.idleSpinNanos(idleSpinMicros * 1000);
        }
        return b;
    }
}
