package io.flowstack.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.FlowStack;
import io.flowstack.core.StackConfig;
import io.flowstack.core.netisr.Ownership;
import io.flowstack.core.netisr.Stat;
import io.flowstack.core.testing.Packets;
import io.flowstack.nic.Nic;
import io.flowstack.nic.TapNic;
import io.flowstack.nic.impair.ImpairedNic;
import io.flowstack.nic.impair.ImpairedQueue;
import io.flowstack.nic.impair.ImpairmentSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Linux kernel peer for the stack, like {@link KernelLab} (a fresh namespace holding the kernel
 * side of a multi-queue TAP at {@value #KERNEL_IP}/24, the stack at {@value #STACK_IP}/24), but
 * with the stack's TAP wrapped in an {@link ImpairedNic} (loss, reordering, duplication,
 * corruption, delay: the netem the test kernels do not have), for the fault and abuse tests
 * ({@code KernelFault*}, {@code KernelAbuse*}).
 *
 * <p>Namespaces are named {@code fst-<pid>-<8 hex>} like {@link KernelLab}'s, so that either
 * fixture removes the other's leftovers of a crashed run; {@link #close()} stops the echo
 * servers and the stack, closes the NIC and deletes the namespace, a shutdown hook does the same
 * if the JVM stops first, and every command runs with a timeout.
 *
 * <p>Owned by: the test thread that started it.
 */
public final class ImpairedKernelLab implements AutoCloseable {
    public static final String KERNEL_IP = "198.18.0.1";
    public static final String STACK_IP = "198.18.0.2";
    /** The stack's MAC, set explicitly so frames can be addressed to it. */
    public static final long STACK_MAC = 0x02_46_53_00_00_02L;

    private static final Pattern OUR_NAMESPACE = Pattern.compile("fst-(\\d+)-[0-9a-f]{8}");
    private static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

    private final int cores;
    private final ImpairmentSpec spec;
    private final String namespace;
    private final String tap;
    private final List<Path> tempFiles = new ArrayList<>();
    private final List<AutoCloseable> services = new ArrayList<>();
    private final List<Process> background = new ArrayList<>();
    private boolean namespaceCreated;
    private TapNic tapNic;
    private ImpairedNic impaired;
    private FlowStack stack;
    private Thread shutdownHook;
    private boolean closed;

    /** The result of a command run in the namespace. */
    public record Result(String command, int exit, byte[] stdoutBytes, String stderr, boolean timedOut) {
        public String stdout() {
            return new String(stdoutBytes, StandardCharsets.UTF_8);
        }

        @Override
        public String toString() {
            return "`" + abbreviate(command, 300) + "` exit=" + exit + (timedOut ? " (TIMED OUT, killed)" : "")
                    + "\n--- stdout ---\n" + abbreviate(stdout(), 4000) + "\n--- stderr ---\n"
                    + abbreviate(stderr, 4000);
        }
    }

    private ImpairedKernelLab(int cores, ImpairmentSpec spec) {
        this.cores = cores;
        this.spec = spec;
        String hex = hex(4);
        this.namespace = "fst-" + ProcessHandle.current().pid() + "-" + hex;
        this.tap = "fi" + hex;
    }

    /**
     * Creates the namespace and TAP, wraps the TAP in an {@link ImpairedNic} with {@code spec}
     * (or not at all if {@code spec} is null) and starts the stack on {@code cores} cores.
     * {@code tune} may change the stack configuration (address, prefix, MAC and cores are set
     * here).
     */
    public static ImpairedKernelLab start(int cores, ImpairmentSpec spec, UnaryOperator<StackConfig.Builder> tune) {
        removeStaleNamespaces();
        ImpairedKernelLab lab = new ImpairedKernelLab(cores, spec);
        try {
            lab.setUp(tune);
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

    private void setUp(UnaryOperator<StackConfig.Builder> tune) {
        shutdownHook = new Thread(this::closeQuietly, "impaired-lab-cleanup-" + namespace);
        Runtime.getRuntime().addShutdownHook(shutdownHook);
        host(true, "ip", "netns", "add", namespace);
        namespaceCreated = true;
        execOk("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1");
        execOk("sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1");
        tapNic = TapNic.open(tap, cores, TapNic.Options.DEFAULT);
        host(true, "ip", "link", "set", tap, "netns", namespace);
        host(true, "ip", "-n", namespace, "addr", "add", KERNEL_IP + "/24", "dev", tap);
        host(true, "ip", "-n", namespace, "link", "set", "lo", "up");
        host(true, "ip", "-n", namespace, "link", "set", tap, "up");
        Nic nic = tapNic;
        if (spec != null) {
            impaired = ImpairedNic.wrap(tapNic, spec, System::nanoTime);
            nic = impaired;
        }
        StackConfig.Builder b = tune.apply(StackConfig.builder());
        StackConfig config = b.cores(cores).address(Packets.ip(STACK_IP)).prefixLength(24).mac(STACK_MAC).build();
        stack = FlowStack.start(config, nic);
    }

    // ------------------------------------------------------------------ accessors

    public int cores() {
        return cores;
    }

    public String namespace() {
        return namespace;
    }

    public String tap() {
        return tap;
    }

    public FlowStack stack() {
        return stack;
    }

    public long total(Stat s) {
        return stack.total(s);
    }

    /** The impairment counters summed over the queues (all zero without an impairment). */
    public Impairments impairments() {
        long[] c = new long[9];
        if (impaired != null) {
            for (int i = 0; i < impaired.queueCount(); i++) {
                ImpairedQueue q = impaired.queue(i);
                c[0] += q.rxDropped();
                c[1] += q.rxDuplicated();
                c[2] += q.rxCorrupted();
                c[3] += q.rxDelayed();
                c[4] += q.txDropped();
                c[5] += q.txDuplicated();
                c[6] += q.txCorrupted();
                c[7] += q.txDelayed();
                c[8] += q.heldOverflow();
            }
        }
        return new Impairments(c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8]);
    }

    /** What the {@link ImpairedNic} did, summed over its queues (RX = towards the stack). */
    public record Impairments(long rxDropped, long rxDuplicated, long rxCorrupted, long rxDelayed,
                              long txDropped, long txDuplicated, long txCorrupted, long txDelayed,
                              long heldOverflow) {
        @Override
        public String toString() {
            return "rx dropped " + rxDropped + ", duplicated " + rxDuplicated + ", corrupted " + rxCorrupted
                    + ", delayed " + rxDelayed + "; tx dropped " + txDropped + ", duplicated " + txDuplicated
                    + ", corrupted " + txCorrupted + ", delayed " + txDelayed + "; held overflow " + heldOverflow;
        }
    }

    /** Connections (any state but LISTEN) on each core, asked of the owning netisrs. */
    public int[] connectionsPerCore() {
        int[] c = new int[cores];
        for (int i = 0; i < cores; i++) {
            c[i] = stack.call(i, n -> n.tcp().connections());
        }
        return c;
    }

    public String report() {
        return "stack " + cores + " core(s), ns " + namespace + ", tap " + tap
                + (spec != null ? ", impairment " + spec + "\n  " + impairments() : ", no impairment") + "\n"
                + stack.countersReport();
    }

    // ------------------------------------------------------------------ commands in the namespace

    /** Runs {@code cmd} inside the namespace with a 30-second timeout. */
    public Result exec(String... cmd) {
        return exec(DEFAULT_TIMEOUT, null, cmd);
    }

    /** Runs {@code cmd} inside the namespace; fails the test unless it exits 0. */
    public Result execOk(String... cmd) {
        Result r = exec(cmd);
        assertEquals(0, r.exit(), () -> "command failed: " + r);
        return r;
    }

    /**
     * Runs {@code cmd} inside the namespace with {@code stdin} (a file, or null) as standard
     * input; after {@code timeout} the process and its descendants are killed and the result
     * says so.
     */
    public Result exec(Duration timeout, Path stdin, String... cmd) {
        return run(inNamespace(cmd), timeout, stdin);
    }

    private List<String> inNamespace(String... cmd) {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", namespace));
        full.addAll(Arrays.asList(cmd));
        return full;
    }

    /** A command started in the namespace and left running; {@link #finish} waits for it. */
    public final class Background {
        private final String text;
        private final Process process;
        private final Path out;
        private final Path err;

        private Background(String text, Process process, Path out, Path err) {
            this.text = text;
            this.process = process;
            this.out = out;
            this.err = err;
        }

        public boolean alive() {
            return process.isAlive();
        }

        /** Writes {@code line} and a newline to the command's standard input (started with a pipe). */
        public void sendLine(String line) {
            try {
                process.getOutputStream().write((line + "\n").getBytes(StandardCharsets.UTF_8));
                process.getOutputStream().flush();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write to " + text, e);
            }
        }

        /** Waits up to {@code timeout} (then kills it and its descendants) and collects the output. */
        public Result finish(Duration timeout) {
            try {
                boolean done = process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
                if (!done) {
                    kill(process);
                }
                int exit = done ? process.exitValue() : -1;
                return new Result(text, exit, Files.readAllBytes(out), Files.readString(err, StandardCharsets.UTF_8),
                        !done);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                kill(process);
                throw new IllegalStateException("interrupted waiting for " + text, e);
            } finally {
                synchronized (ImpairedKernelLab.this) {
                    background.remove(process);
                }
            }
        }
    }

    /** {@link #startBackground(boolean, String...)} with no input. */
    public Background startBackground(String... cmd) {
        return startBackground(false, cmd);
    }

    /**
     * Starts {@code cmd} in the namespace without waiting; with {@code pipeInput} its standard
     * input is a pipe that {@link Background#sendLine} writes to (else {@code /dev/null}). The
     * caller must {@link Background#finish} it; {@link #close()} kills it if it is still running.
     */
    public synchronized Background startBackground(boolean pipeInput, String... cmd) {
        List<String> full = inNamespace(cmd);
        String text = String.join(" ", full);
        try {
            Path out = tempPath("impaired-lab-bg-out", ".bin");
            Path err = tempPath("impaired-lab-bg-err", ".txt");
            Process p = new ProcessBuilder(full).redirectOutput(out.toFile()).redirectError(err.toFile())
                    .redirectInput(pipeInput ? ProcessBuilder.Redirect.PIPE
                            : ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile())).start();
            background.add(p);
            return new Background(text, p, out, err);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + text, e);
        }
    }

    /** A root-namespace control command (ip link / ip netns). */
    private static Result host(boolean check, String... cmd) {
        Result r = run(Arrays.asList(cmd), DEFAULT_TIMEOUT, null);
        if (check && r.exit() != 0) {
            throw new IllegalStateException("command failed: " + r);
        }
        return r;
    }

    private static Result run(List<String> cmd, Duration timeout, Path stdin) {
        String text = String.join(" ", cmd);
        Path out = null;
        Path err = null;
        try {
            out = Files.createTempFile("impaired-lab-out", ".bin");
            err = Files.createTempFile("impaired-lab-err", ".txt");
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile());
            pb.redirectInput(stdin != null ? ProcessBuilder.Redirect.from(stdin.toFile())
                    : ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
            Process p = pb.start();
            boolean finished = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (!finished) {
                kill(p);
            }
            int exit = finished ? p.exitValue() : -1;
            return new Result(text, exit, Files.readAllBytes(out), Files.readString(err, StandardCharsets.UTF_8),
                    !finished);
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

    private static void kill(Process p) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        try {
            p.waitFor(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private synchronized Path tempPath(String prefix, String suffix) throws IOException {
        Path p = Files.createTempFile(prefix, suffix);
        tempFiles.add(p);
        return p;
    }

    /** A temporary file with {@code bytes}, deleted by {@link #close()}. */
    public Path tempFile(byte[] bytes) {
        try {
            Path p = tempPath("impaired-lab-in", ".bin");
            Files.write(p, bytes);
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * A counter of the namespace's kernel from {@code /proc/net/snmp} or {@code /proc/net/netstat},
     * e.g. {@code kernelCounter("Tcp", "InCsumErrors")}.
     */
    public long kernelCounter(String group, String name) {
        Result r = execOk("cat", "/proc/net/snmp", "/proc/net/netstat");
        String[] lines = r.stdout().split("\n");
        for (int i = 0; i + 1 < lines.length; i++) {
            String[] keys = lines[i].strip().split("\\s+");
            String[] values = lines[i + 1].strip().split("\\s+");
            if (keys[0].equals(group + ":") && values[0].equals(group + ":") && keys.length == values.length) {
                for (int k = 1; k < keys.length; k++) {
                    if (keys[k].equals(name)) {
                        return Long.parseLong(values[k]);
                    }
                }
            }
        }
        throw new AssertionError("no kernel counter " + group + " " + name + " in " + r);
    }

    // ------------------------------------------------------------------ services

    /**
     * Starts a service on the stack (e.g. {@code lab.service(s -> new TcpEchoService(s, 7))});
     * {@link #close()} closes it before the stack.
     */
    public <T extends AutoCloseable> T service(Function<FlowStack, T> starter) {
        T service = starter.apply(stack);
        synchronized (this) {
            services.add(service);
        }
        return service;
    }

    // ------------------------------------------------------------------ waiting and asserting

    /** Polls {@code condition} every 10 ms until it holds; fails with the counters after {@code timeout}. */
    public void await(String what, BooleanSupplier condition, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("timed out after " + timeout.toMillis() + " ms waiting for " + what
                        + "\n" + report());
            }
            LockSupport.parkNanos(10_000_000L);
        }
    }

    /** {@code ping -c count -i 0.2} from the kernel; asserts every echo is answered, unchanged. */
    public void assertPing(int count) {
        Result r = exec(Duration.ofSeconds(30), null, "ping", "-n", "-c", Integer.toString(count), "-i", "0.2",
                "-W", "2", "-w", "15", STACK_IP);
        // with -w, ping may send one more request than -c while a reply is late: all answered counts
        KernelLab.assertAllAnswered(r.stdout(), r.toString(), count, this::report);
        assertFalse(r.stdout().contains("wrong data"), () -> "corrupted echo data\n" + r);
        assertEquals(0, r.exit(), () -> "ping exit status\n" + r);
    }

    /** INTERNAL_ERROR stays 0 on every core and no ownership violation happened in this JVM. */
    public void assertHealthy() {
        assertEquals(0, total(Stat.INTERNAL_ERROR), () -> "internal errors\n" + report());
        assertEquals(0, Ownership.violations(), () -> "ownership violations\n" + report());
    }

    // ------------------------------------------------------------------ cleanup

    /**
     * Kills background commands, closes the services and the stack, closes the NIC and deletes
     * the namespace; idempotent.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        List<Throwable> failures = new ArrayList<>();
        for (Process p : new ArrayList<>(background)) {
            attempt(failures, () -> kill(p));
        }
        background.clear();
        for (AutoCloseable service : services) {
            attempt(failures, () -> {
                try {
                    service.close();
                } catch (Exception e) {
                    throw new IllegalStateException("cannot close " + service, e);
                }
            });
        }
        if (stack != null) {
            attempt(failures, stack::close);
        }
        if (impaired != null) {
            attempt(failures, impaired::close); // closes the TAP too
        } else if (tapNic != null) {
            attempt(failures, tapNic::close);
        }
        if (namespaceCreated) {
            attempt(failures, () -> {
                Result r = host(false, "ip", "netns", "del", namespace);
                if (r.exit() != 0) {
                    throw new IllegalStateException("cannot delete namespace: " + r);
                }
            });
        }
        for (Path p : tempFiles) {
            deleteQuietly(p);
        }
        tempFiles.clear();
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
            System.err.println("impaired-kernel-lab: " + t);
        }
    }

    private static void attempt(List<Throwable> failures, Runnable r) {
        try {
            r.run();
        } catch (Throwable t) {
            failures.add(t);
        }
    }

    /**
     * Deletes {@code fst-<pid>-<8 hex>} namespaces whose pid is not a live process (leftovers of
     * killed runs); every other namespace is left alone.
     */
    static void removeStaleNamespaces() {
        Result list = host(false, "ip", "netns", "list");
        for (String line : list.stdout().split("\n")) {
            String name = line.strip().split("\\s+")[0];
            Matcher m = OUR_NAMESPACE.matcher(name);
            if (!m.matches()) {
                continue;
            }
            long pid = Long.parseLong(m.group(1));
            if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
                continue;
            }
            Result r = host(false, "ip", "netns", "del", name);
            System.err.println("impaired-kernel-lab: removed stale namespace " + name + " (pid " + pid
                    + " is gone): exit " + r.exit());
        }
    }

    // ------------------------------------------------------------------ helpers

    static String hex(int bytes) {
        byte[] b = new byte[bytes];
        ThreadLocalRandom.current().nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    static String abbreviate(String s, int max) {
        if (s == null || s.length() <= max) {
            return s;
        }
        return s.substring(0, max / 2) + "\n[... " + (s.length() - max) + " chars ...]\n"
                + s.substring(s.length() - max / 2);
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
}
