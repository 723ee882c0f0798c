package io.flowstack.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * A Linux kernel peer for the {@code stack} command line run as a separate process: a fresh
 * network namespace {@code fst-<pid>-<8 hex>} (the {@link KernelLab} naming, so either fixture
 * removes the other's leftovers of a crashed run) holding a persistent TAP {@code fc<8 hex>}
 * (multi-queue when asked) with the kernel's address {@value #KERNEL_IP}/24, up. The command
 * ({@code stack endpoint --tap NAME ...}, {@code stack ping --tap NAME ...}) runs inside the
 * namespace, with this JVM's java and class path, and attaches to the existing TAP: nothing has
 * to be moved or configured after it starts, so it can send at once.
 *
 * <p>{@link #close()} kills what still runs and deletes the namespace, which destroys the TAP; a
 * shutdown hook does the same if the JVM stops first. Every command has a timeout.
 *
 * <p>Owned by: the test thread that started it.
 */
public final class CliLab implements AutoCloseable {
    public static final String KERNEL_IP = "198.18.0.1";
    public static final String STACK_IP = "198.18.0.2";
    public static final String STACK_CIDR = STACK_IP + "/24";
    private static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

    private final String namespace;
    private final String tap;
    private final List<Stack> processes = new ArrayList<>();
    private final List<Process> helpers = new ArrayList<>();
    private final List<Path> files = new ArrayList<>();
    private boolean namespaceCreated;
    private Thread shutdownHook;
    private boolean closed;

    /** The result of a command. */
    public record Result(String command, int exit, String stdout, String stderr, boolean timedOut) {
        @Override
        public String toString() {
            return "`" + command + "` exit=" + exit + (timedOut ? " (TIMED OUT, killed)" : "")
                    + "\n--- stdout ---\n" + abbreviate(stdout) + "\n--- stderr ---\n" + abbreviate(stderr);
        }
    }

    private CliLab() {
        String hex = KernelLab.hex(4);
        this.namespace = KernelLab.NS_PREFIX + ProcessHandle.current().pid() + "-" + hex;
        this.tap = "fc" + hex;
    }

    /** Creates the namespace and the TAP ({@code multiQueue} for a stack of more than one core). */
    public static CliLab start(boolean multiQueue) {
        KernelLab.removeStaleNamespaces();
        CliLab lab = new CliLab();
        try {
            lab.setUp(multiQueue);
            return lab;
        } catch (Throwable t) {
            try {
                lab.close();
            } catch (Throwable suppressed) {
                t.addSuppressed(suppressed);
            }
            throw t;
        }
    }

    private void setUp(boolean multiQueue) {
        shutdownHook = new Thread(this::closeQuietly, "cli-lab-cleanup-" + namespace);
        Runtime.getRuntime().addShutdownHook(shutdownHook);
        checkOk(run(List.of("ip", "netns", "add", namespace), DEFAULT_TIMEOUT));
        namespaceCreated = true;
        // no IPv6 autoconfiguration noise on the TAP (FRAME-IO §1.2)
        execOk("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1");
        execOk("sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1");
        List<String> add = new ArrayList<>(List.of("ip", "tuntap", "add", "dev", tap, "mode", "tap"));
        if (multiQueue) {
            add.add("multi_queue");
        }
        execOk(add.toArray(String[]::new));
        execOk("ip", "addr", "add", KERNEL_IP + "/24", "dev", tap);
        execOk("ip", "link", "set", "lo", "up");
        execOk("ip", "link", "set", tap, "up");
    }

    public String namespace() {
        return namespace;
    }

    public String tap() {
        return tap;
    }

    // ------------------------------------------------------------------ commands in the namespace

    /** Runs {@code cmd} in the namespace, killed after {@code timeout}. */
    public Result exec(Duration timeout, String... cmd) {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", namespace));
        full.addAll(Arrays.asList(cmd));
        return run(full, timeout);
    }

    public Result execOk(String... cmd) {
        return checkOk(exec(DEFAULT_TIMEOUT, cmd));
    }

    private static Result checkOk(Result r) {
        assertEquals(0, r.exit(), () -> "command failed: " + r);
        return r;
    }

    /** Runs a command in this (the test's) namespace, killed after {@code timeout}. */
    public static Result run(List<String> cmd, Duration timeout) {
        String text = String.join(" ", cmd);
        Path out = null;
        Path err = null;
        try {
            out = Files.createTempFile("cli-lab-out", ".txt");
            err = Files.createTempFile("cli-lab-err", ".txt");
            Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile())).start();
            boolean finished = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (!finished) {
                kill(p);
            }
            return new Result(text, finished ? p.exitValue() : -1, Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8), !finished);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + text, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted running " + text, e);
        } finally {
            deleteQuietly(out);
            deleteQuietly(err);
        }
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
        String java = ProcessHandle.current().info().command().orElse(System.getProperty("java.home") + "/bin/java");
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", namespace));
        full.addAll(wrapper);
        full.addAll(List.of(java,
                "--enable-native-access=ALL-UNNAMED", "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
                "-XX:+UseParallelGC", "-Xmx512m", "-cp", classpath,
                "io.flowstack.tools.Main"));
        full.addAll(Arrays.asList(args));
        String text = "stack " + String.join(" ", args);
        Path out = null;
        Path err = null;
        try {
            out = Files.createTempFile("cli-lab-stack-out", ".txt");
            err = Files.createTempFile("cli-lab-stack-err", ".txt");
            Process p = new ProcessBuilder(full).redirectOutput(out.toFile()).redirectError(err.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile())).start();
            Stack s = new Stack(text, p, out, err, timeout);
            synchronized (this) {
                processes.add(s);
            }
            return s;
        } catch (IOException e) {
            deleteQuietly(out);
            deleteQuietly(err);
            throw new UncheckedIOException("cannot start " + text, e);
        }
    }

    /**
     * Starts {@code stack endpoint} on this lab's TAP (2 cores, unpinned, {@link #STACK_CIDR}) with
     * {@code extra} options, waits (90 s at most) until it serves, and has {@link #close()} remove
     * its control socket if it could not (killed). It is stopped at {@code timeout} at the latest.
     */
    public Stack endpoint(Duration timeout, String... extra) {
        deleteOnClose(io.flowstack.tools.stats.ControlServer.socketFor(tap));
        List<String> args = new ArrayList<>(List.of("endpoint", "--tap", tap, "--addr", STACK_CIDR, "--cores", "2",
                "--no-pin"));
        args.addAll(Arrays.asList(extra));
        Stack ep = stack(timeout, args.toArray(String[]::new));
        ep.awaitOutput("(Ctrl-C to stop)", Duration.ofSeconds(90));
        return ep;
    }

    /** Starts a helper process (e.g. curl in the namespace); {@link #close()} kills it if it still runs. */
    public synchronized Process background(ProcessBuilder pb) {
        try {
            Process p = pb.start();
            helpers.add(p);
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + pb.command(), e);
        }
    }

    /** A file {@link #close()} deletes. */
    public synchronized void deleteOnClose(Path f) {
        files.add(f);
    }

    /** A {@code stack} command running in the namespace. */
    public final class Stack implements AutoCloseable {
        private final String text;
        private final Process process;
        private final Path out;
        private final Path err;
        private final long deadline;
        private boolean done;

        private Stack(String text, Process process, Path out, Path err, Duration timeout) {
            this.text = text;
            this.process = process;
            this.out = out;
            this.err = err;
            this.deadline = System.nanoTime() + timeout.toNanos();
        }

        public boolean alive() {
            return process.isAlive();
        }

        public String stdoutSoFar() {
            return readQuietly(out);
        }

        public String stderrSoFar() {
            return readQuietly(err);
        }

        /** Waits until stdout contains {@code text}; fails with the output if the process ends first. */
        public void awaitOutput(String text, Duration timeout) {
            awaitText(out, text, timeout);
        }

        /** Waits until stderr contains {@code text} (progress lines); fails as {@link #awaitOutput}. */
        public void awaitStderr(String text, Duration timeout) {
            awaitText(err, text, timeout);
        }

        private void awaitText(Path file, String text, Duration timeout) {
            long until = System.nanoTime() + timeout.toNanos();
            while (!readQuietly(file).contains(text)) {
                boolean ended = !process.isAlive() && !readQuietly(file).contains(text); // wrote it, then exited
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
            Result r = CliLab.run(List.of("kill", "-INT", Long.toString(process.pid())), DEFAULT_TIMEOUT);
            assertEquals(0, r.exit(), () -> "kill -INT: " + r);
        }

        /**
         * Waits for the process until the timeout given to {@link CliLab#stack} (from the start),
         * killing it then, and returns its result.
         */
        public Result await() {
            try {
                boolean finished = process.waitFor(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                if (!finished) {
                    kill(process);
                }
                return new Result(text, finished ? process.exitValue() : -1, readQuietly(out), readQuietly(err),
                        !finished);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                kill(process);
                throw new IllegalStateException("interrupted waiting for " + text, e);
            } finally {
                close();
            }
        }

        /** SIGINT, then {@link #await()} (at most 30 s more). */
        public Result stop() {
            if (process.isAlive()) {
                CliLab.run(List.of("kill", "-INT", Long.toString(process.pid())), DEFAULT_TIMEOUT);
                try {
                    if (!process.waitFor(30, TimeUnit.SECONDS)) {
                        kill(process);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    kill(process);
                }
            }
            return await();
        }

        /** Kills the process if it still runs and deletes its output files; idempotent. */
        @Override
        public void close() {
            synchronized (CliLab.this) {
                if (done) {
                    return;
                }
                done = true;
                processes.remove(this);
            }
            if (process.isAlive()) {
                kill(process);
            }
            deleteQuietly(out);
            deleteQuietly(err);
        }
    }

    // ------------------------------------------------------------------ cleanup

    /** Kills the commands still running and deletes the namespace (and so the TAP); idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        List<Throwable> failures = new ArrayList<>();
        for (Process p : helpers) {
            if (p.isAlive()) {
                kill(p);
            }
        }
        for (Stack s : new ArrayList<>(processes)) {
            try {
                s.close();
            } catch (Throwable t) {
                failures.add(t);
            }
        }
        for (Path f : files) {
            deleteQuietly(f); // e.g. a control socket left by an endpoint that had to be killed
        }
        if (namespaceCreated) {
            Result r = run(List.of("ip", "netns", "del", namespace), DEFAULT_TIMEOUT);
            if (r.exit() != 0) {
                failures.add(new IllegalStateException("cannot delete namespace: " + r));
            }
        }
        if (shutdownHook != null && Thread.currentThread() != shutdownHook) {
            try {
                Runtime.getRuntime().removeShutdownHook(shutdownHook);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running or about to
            }
        }
        if (!failures.isEmpty()) {
            IllegalStateException e = new IllegalStateException("cleanup of " + namespace + " failed");
            failures.forEach(e::addSuppressed);
            throw e;
        }
    }

    private void closeQuietly() {
        try {
            close();
        } catch (Throwable t) {
            System.err.println("cli-lab: " + t);
        }
    }

    private static void kill(Process p) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        try {
            p.waitFor(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static String readQuietly(Path p) {
        try {
            return Files.readString(p, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    private static void deleteQuietly(Path p) {
        if (p != null) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException ignored) {
                // a temp file
            }
        }
    }

    static String abbreviate(String s, int max) {
        return s.length() <= max ? s : s.substring(0, max / 2) + "\n[... " + (s.length() - max) + " chars ...]\n"
                + s.substring(s.length() - max / 2);
    }

    private static String abbreviate(String s) {
        return abbreviate(s, 6000);
    }
}
