package io.flowstack.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.flowstack.tools.stats.ControlServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;

/**
 * A Linux kernel peer for the {@code stack} command line run as a separate process: a fresh
 * network namespace {@code fst-<pid>-<8 hex>} (the {@link KernelLab} naming, so either fixture
 * removes the other's leftovers of a crashed run) holding a persistent TAP {@code fc<8 hex>}
 * (multi-queue when asked) with the kernel's address {@value NamespaceLab#KERNEL_IP}/24, up. The
 * command ({@code stack endpoint --tap NAME ...}, {@code stack ping --tap NAME ...}) runs inside
 * the namespace, with this JVM's java and class path, and attaches to the existing TAP: nothing
 * has to be moved or configured after it starts, so it can send at once.
 *
 * <p>{@link #close()} kills what still runs and deletes the namespace, which destroys the TAP;
 * naming, timeouts and the rest of the cleanup are {@link NamespaceLab}'s.
 *
 * <p>Owned by: the test thread that started it.
 */
public final class CliLab extends NamespaceLab {
    public static final String STACK_CIDR = STACK_IP + "/24";

    private final String tap;

    private CliLab() {
        super(KernelLab.NS_PREFIX, "cli-lab");
        this.tap = "fc" + runHex();
    }

    /** Creates the namespace and the TAP ({@code multiQueue} for a stack of more than one core). */
    public static CliLab start(boolean multiQueue) {
        return open(new CliLab(), lab -> lab.setUp(multiQueue));
    }

    private void setUp(boolean multiQueue) {
        List<String> add = new ArrayList<>(List.of("ip", "tuntap", "add", "dev", tap, "mode", "tap"));
        if (multiQueue) {
            add.add("multi_queue");
        }
        execOk(add.toArray(String[]::new));
        bringUp(tap);
    }

    public String tap() {
        return tap;
    }

    @Override
    public String report() {
        return "ns " + namespace() + ", tap " + tap;
    }

    // ------------------------------------------------------------------ commands

    /** Runs {@code cmd} in the namespace, killed after {@code timeout}. */
    public Result exec(Duration timeout, String... cmd) {
        return exec(timeout, null, cmd);
    }

    /** Runs a command in this (the test's) namespace, killed after {@code timeout}. */
    public static Result run(List<String> cmd, Duration timeout) {
        return run(cmd, timeout, null);
    }

    /**
     * Starts {@code stack ARGS...} (the {@code io.flowstack.tools.Main} of this build, with this
     * JVM's java, class path and the launcher's JVM flags, heap capped at 512 MiB) in the
     * namespace. {@link Stack#await} kills it once {@code timeout} has passed since the start.
     */
    public Stack stack(Duration timeout, String... args) {
        return stack(List.of(), System.getProperty("java.class.path"), timeout, args);
    }

    /**
     * {@link #stack(Duration, String...)} through {@code wrapper}, a command that runs the JVM
     * with fewer privileges (e.g. {@code setpriv --reuid=65534 ...}), with the class path
     * {@code classpath} (which that user must be able to read).
     */
    public Stack stack(List<String> wrapper, String classpath, Duration timeout, String... args) {
        return stack(wrapper, classpath, List.of(), timeout, args);
    }

    /**
     * {@link #stack(Duration, String...)} with JVM options of the test's, e.g.
     * {@code -Dflowstack.ownership.check=true}: every layer then asserts it runs on its owner.
     */
    public Stack stack(List<String> jvmOptions, Duration timeout, String... args) {
        return stack(List.of(), System.getProperty("java.class.path"), jvmOptions, timeout, args);
    }

    private Stack stack(List<String> wrapper, String classpath, List<String> jvmOptions, Duration timeout,
                        String... args) {
        String java = ProcessHandle.current().info().command().orElse(System.getProperty("java.home") + "/bin/java");
        List<String> jvm = new ArrayList<>(wrapper);
        jvm.addAll(SIGINT_DEFAULT);
        jvm.add(java);
        jvm.addAll(jvmOptions);
        jvm.addAll(List.of(
                "--enable-native-access=ALL-UNNAMED", "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
                "-XX:+UseParallelGC", "-Xmx512m", "-cp", classpath,
                "io.flowstack.tools.Main"));
        jvm.addAll(Arrays.asList(args));
        return keep(new Stack("stack " + String.join(" ", args), inNamespace(jvm.toArray(String[]::new)), timeout));
    }

    /**
     * Starts {@code stack endpoint} on this lab's TAP (2 cores, unpinned, {@link #STACK_CIDR}) with
     * {@code extra} options, waits (90 s at most) until it serves, and has {@link #close()} remove
     * its control socket if it could not (killed). It is stopped at {@code timeout} at the latest.
     */
    public Stack endpoint(Duration timeout, String... extra) {
        return endpoint(List.of(), timeout, extra);
    }

    /** {@link #endpoint(Duration, String...)} with JVM options of the test's, e.g. {@code -Xlog:...}. */
    public Stack endpoint(List<String> jvmOptions, Duration timeout, String... extra) {
        deleteOnClose(ControlServer.socketFor(tap));
        List<String> args = new ArrayList<>(List.of("endpoint", "--tap", tap, "--addr", STACK_CIDR, "--cores", "2",
                "--no-pin"));
        args.addAll(Arrays.asList(extra));
        Stack ep = stack(jvmOptions, timeout, args.toArray(String[]::new));
        ep.awaitOutput("(Ctrl-C to stop)", Duration.ofSeconds(90));
        return ep;
    }

    /** A {@code stack} command running in the namespace. */
    public final class Stack extends Background {
        private Stack(String text, List<String> command, Duration timeout) {
            super(text, command, NO_INPUT, timeout);
        }

        /** Waits until stdout contains {@code text}; fails with the output if the process ends first. */
        public void awaitOutput(String text, Duration timeout) {
            awaitText(this::stdoutSoFar, text, timeout);
        }

        /** Waits until stderr contains {@code text} (progress lines); fails as {@link #awaitOutput}. */
        public void awaitStderr(String text, Duration timeout) {
            awaitText(this::stderrSoFar, text, timeout);
        }

        private void awaitText(Supplier<String> soFar, String text, Duration timeout) {
            long until = System.nanoTime() + timeout.toNanos();
            while (!soFar.get().contains(text)) {
                boolean ended = !alive() && !soFar.get().contains(text); // wrote it, then exited
                if (ended || System.nanoTime() - until > 0) {
                    Result r = stop();
                    throw new AssertionError("no '" + text + "' from the stack within " + timeout.toSeconds() + " s: "
                            + r);
                }
                LockSupport.parkNanos(20_000_000L);
            }
        }

        /** Sends SIGINT (Ctrl-C) to the process. */
        public void interrupt() {
            Result r = CliLab.run(List.of("kill", "-INT", Long.toString(pid())), DEFAULT_TIMEOUT);
            assertEquals(0, r.exit(), () -> "kill -INT: " + r);
        }

        /** Sends SIGTERM (what init systems and {@code kill} send) to the process. */
        public void terminate() {
            Result r = CliLab.run(List.of("kill", "-TERM", Long.toString(pid())), DEFAULT_TIMEOUT);
            assertEquals(0, r.exit(), () -> "kill -TERM: " + r);
        }

        /** SIGINT, then {@link #await()} (at most 30 s more). */
        @Override
        public Result stop() {
            if (alive()) {
                CliLab.run(List.of("kill", "-INT", Long.toString(pid())), DEFAULT_TIMEOUT);
                waitOrKill(Duration.ofSeconds(30));
            }
            return await();
        }
    }
}
