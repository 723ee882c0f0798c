package io.flowstack.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.FlowStack;
import io.flowstack.core.StackConfig;
import io.flowstack.core.netisr.Ownership;
import io.flowstack.core.netisr.Stat;
import io.flowstack.core.service.UdpEchoService;
import io.flowstack.core.testing.Packets;
import io.flowstack.nic.TapNic;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Linux kernel peer for the stack: a fresh network namespace holding the kernel side of a
 * (multi-queue) TAP, addressed {@value #KERNEL_IP}/24, and a {@link FlowStack} on the other side
 * of the TAP at {@value #STACK_IP}/24 with a UDP echo service on port 7 (DESIGN.md "Tests against
 * real kernels", FRAME-IO §1.2).
 *
 * <p>The namespace is {@code fst-<pid>-<8 hex>} (the JVM's pid, so that a later run can tell a
 * crashed run's namespace from a live one), the TAP {@code ft<8 hex>}. {@link #close()} stops
 * the stack, closes the TAP and deletes the namespace; a shutdown hook does the same if the JVM
 * is stopped before {@code close()} ran, and {@link #start} first removes {@code fst-<pid>-*}
 * namespaces whose pid is no longer alive (leftovers of crashed runs). No other namespace is
 * ever touched.
 *
 * <p>Owned by: the test thread that started it.
 */
public final class KernelLab implements AutoCloseable {
    public static final String KERNEL_IP = "198.18.0.1";
    public static final String STACK_IP = "198.18.0.2";
    /** The stack's MAC, set explicitly so frames can be addressed to it. */
    public static final long STACK_MAC = 0x02_46_53_00_00_02L;
    public static final String STACK_MAC_TEXT = "02:46:53:00:00:02";
    public static final int ECHO_PORT = 7;

    static final String NS_PREFIX = "fst-";
    private static final Pattern OUR_NAMESPACE = Pattern.compile("fst-(\\d+)-[0-9a-f]{8}");
    private static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

    /**
     * Sends the hex frames read from stdin (one per line) on an AF_PACKET socket bound to the
     * TAP given as argv[1], i.e. into the kernel's transmit path towards the stack. Retries on
     * ENOBUFS (qdisc full) for up to 1 s per frame; prints the number of frames sent.
     */
    private static final String INJECT_PY = String.join("\n",
            "import errno, socket, sys, time",
            "s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)",
            "s.bind((sys.argv[1], 0))",
            "n = 0",
            "for line in sys.stdin:",
            "    line = line.strip()",
            "    if not line:",
            "        continue",
            "    b = bytes.fromhex(line)",
            "    for attempt in range(1000):",
            "        try:",
            "            sent = s.send(b)",
            "            break",
            "        except OSError as e:",
            "            if e.errno != errno.ENOBUFS:",
            "                raise",
            "            time.sleep(0.001)",
            "    else:",
            "        sys.exit('ENOBUFS for 1 s')",
            "    if sent != len(b):",
            "        sys.exit('short send %d of %d' % (sent, len(b)))",
            "    n += 1",
            "print(n)");

    /** Sends one hex frame (argv[2]) and prints the errno (0 on success) instead of failing. */
    private static final String TRY_SEND_PY = String.join("\n",
            "import socket, sys",
            "s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)",
            "s.bind((sys.argv[1], 0))",
            "try:",
            "    s.send(bytes.fromhex(sys.argv[2]))",
            "    print(0)",
            "except OSError as e:",
            "    print(e.errno)");

    private final int cores;
    private final String namespace;
    private final String tap;
    private final List<Path> tempFiles = new ArrayList<>();
    private final List<Background> backgrounds = new ArrayList<>();
    private boolean namespaceCreated;
    private TapNic nic;
    private FlowStack stack;
    private UdpEchoService echo;
    private long kernelMac;
    private Thread shutdownHook;
    private boolean closed;

    /** The result of a command run in the namespace. */
    public record Result(String command, int exit, byte[] stdoutBytes, String stderr, boolean timedOut) {
        public String stdout() {
            return new String(stdoutBytes, StandardCharsets.UTF_8);
        }

        @Override
        public String toString() {
            return "`" + command + "` exit=" + exit + (timedOut ? " (TIMED OUT, killed)" : "")
                    + "\n--- stdout ---\n" + stdout() + "\n--- stderr ---\n" + stderr;
        }
    }

    private KernelLab(int cores) {
        this.cores = cores;
        String hex = hex(4);
        this.namespace = NS_PREFIX + ProcessHandle.current().pid() + "-" + hex;
        this.tap = "ft" + hex;
    }

    /** {@link #start(int, UnaryOperator)} with the default stack configuration. */
    public static KernelLab start(int cores) {
        return start(cores, UnaryOperator.identity());
    }

    /**
     * Creates the namespace and TAP and starts the stack on {@code cores} cores (one TAP queue
     * per core). {@code tune} may change the stack configuration (address, prefix, MAC and
     * cores are set here).
     */
    public static KernelLab start(int cores, UnaryOperator<StackConfig.Builder> tune) {
        removeStaleNamespaces();
        KernelLab lab = new KernelLab(cores);
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
        shutdownHook = new Thread(this::closeQuietly, "kernel-lab-cleanup-" + namespace);
        Runtime.getRuntime().addShutdownHook(shutdownHook);
        host(true, "ip", "netns", "add", namespace);
        namespaceCreated = true;
        // no IPv6 MLD/RS noise on the TAP: disable before the device arrives (FRAME-IO §1.2)
        execOk("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1");
        execOk("sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1");
        nic = TapNic.open(tap, cores, TapNic.Options.DEFAULT);
        host(true, "ip", "link", "set", tap, "netns", namespace);
        host(true, "ip", "-n", namespace, "addr", "add", KERNEL_IP + "/24", "dev", tap);
        host(true, "ip", "-n", namespace, "link", "set", "lo", "up");
        host(true, "ip", "-n", namespace, "link", "set", tap, "up");
        kernelMac = parseMac(execOk("cat", "/sys/class/net/" + tap + "/address").stdout().strip());
        StackConfig.Builder b = StackConfig.builder();
        b = tune.apply(b);
        StackConfig config = b.cores(cores).address(Packets.ip(STACK_IP)).prefixLength(24).mac(STACK_MAC).build();
        stack = FlowStack.start(config, nic);
        echo = new UdpEchoService(stack, ECHO_PORT);
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

    public StackConfig config() {
        return stack.config();
    }

    public UdpEchoService echo() {
        return echo;
    }

    /** The MAC of the kernel's side of the TAP. */
    public long kernelMac() {
        return kernelMac;
    }

    public long total(Stat s) {
        return stack.total(s);
    }

    /** All totals, for before/after comparisons. */
    public Map<Stat, Long> snapshot() {
        Map<Stat, Long> m = new EnumMap<>(Stat.class);
        for (Stat s : Stat.values()) {
            m.put(s, stack.total(s));
        }
        return m;
    }

    public String report() {
        return "stack " + cores + " core(s), ns " + namespace + ", tap " + tap + "\n" + stack.countersReport();
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
     * Runs {@code cmd} inside the namespace ({@code ip netns exec NS cmd...}), with {@code stdin}
     * (a file, or null for none) as standard input. After {@code timeout} the process and its
     * descendants are killed and the result says so.
     */
    public Result exec(Duration timeout, Path stdin, String... cmd) {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", namespace));
        full.addAll(Arrays.asList(cmd));
        return run(full, timeout, stdin);
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
            out = Files.createTempFile("kernel-lab-out", ".bin");
            err = Files.createTempFile("kernel-lab-err", ".txt");
            ProcessBuilder pb = new ProcessBuilder(cmd)
                    .redirectOutput(out.toFile())
                    .redirectError(err.toFile());
            if (stdin != null) {
                pb.redirectInput(stdin.toFile());
            } else {
                pb.redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
            }
            Process p = pb.start();
            boolean finished = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (!finished) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
            }
            int exit = finished ? p.exitValue() : -1;
            return new Result(text, exit, Files.readAllBytes(out),
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

    /** A temporary file with {@code bytes}, deleted by {@link #close()}. */
    public Path tempFile(byte[] bytes) {
        try {
            Path p = Files.createTempFile("kernel-lab-in", ".bin");
            tempFiles.add(p);
            Files.write(p, bytes);
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Runs a bash script inside the namespace with {@code set -o pipefail} (so that a pipeline
     * fails if any of its commands does), killed after {@code timeout} like {@link #exec}.
     */
    public Result shell(Duration timeout, String script) {
        return exec(timeout, null, "bash", "-o", "pipefail", "-c", script);
    }

    /**
     * A command running inside the namespace in the background ({@link #spawn}). Its output goes
     * to temporary files; {@link #await} collects it. {@link #close()} kills it (and its
     * descendants) if it still runs; {@link KernelLab#close()} closes every one left open.
     */
    public final class Background implements AutoCloseable {
        private final String text;
        private final Process process;
        private final Path out;
        private final Path err;
        private final long deadline;
        private boolean done;

        private Background(String text, Process process, Path out, Path err, Duration timeout) {
            this.text = text;
            this.process = process;
            this.out = out;
            this.err = err;
            this.deadline = System.nanoTime() + timeout.toNanos();
        }

        public boolean alive() {
            return process.isAlive();
        }

        /**
         * Waits for the process until the timeout given to {@link #spawn} (counted from the
         * start), killing it if it is still running then, and returns its result.
         */
        public Result await() {
            try {
                long left = deadline - System.nanoTime();
                boolean finished = process.waitFor(Math.max(0, left), TimeUnit.NANOSECONDS);
                if (!finished) {
                    kill();
                }
                return new Result(text, finished ? process.exitValue() : -1, Files.readAllBytes(out),
                        Files.readString(err, StandardCharsets.UTF_8), !finished);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read the output of " + text, e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                kill();
                throw new IllegalStateException("interrupted waiting for " + text, e);
            } finally {
                close();
            }
        }

        /** Output written to stderr so far (the process may still be running). */
        public String stderrSoFar() {
            try {
                return Files.readString(err, StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "";
            }
        }

        /**
         * Stops the process now (SIGTERM, SIGKILL after 5 s) and returns what it wrote; the
         * result's {@code timedOut} is false unless it had already outlived its timeout.
         */
        public Result stop() {
            boolean late = System.nanoTime() - deadline > 0;
            process.descendants().forEach(ProcessHandle::destroy);
            process.destroy();
            try {
                if (!process.waitFor(5, TimeUnit.SECONDS)) {
                    kill();
                }
                return new Result(text, process.exitValue(), Files.readAllBytes(out),
                        Files.readString(err, StandardCharsets.UTF_8), late);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read the output of " + text, e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                kill();
                throw new IllegalStateException("interrupted stopping " + text, e);
            } finally {
                close();
            }
        }

        private void kill() {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
            try {
                process.waitFor(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        /** Kills the process if it still runs and deletes its output files; idempotent. */
        @Override
        public void close() {
            synchronized (KernelLab.this) {
                if (done) {
                    return;
                }
                done = true;
                backgrounds.remove(this);
            }
            if (process.isAlive()) {
                kill();
            }
            deleteQuietly(out);
            deleteQuietly(err);
        }
    }

    /**
     * Starts {@code cmd} inside the namespace in the background ({@code ip netns exec NS
     * cmd...}) with {@code stdin} (a file, or null for none). {@link Background#await} kills it
     * once {@code timeout} has passed since the start.
     */
    public Background spawn(Duration timeout, Path stdin, String... cmd) {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", namespace));
        full.addAll(Arrays.asList(cmd));
        String text = String.join(" ", full);
        Path out = null;
        Path err = null;
        try {
            out = Files.createTempFile("kernel-lab-bg-out", ".bin");
            err = Files.createTempFile("kernel-lab-bg-err", ".txt");
            ProcessBuilder pb = new ProcessBuilder(full).redirectOutput(out.toFile()).redirectError(err.toFile());
            pb.redirectInput(stdin != null ? ProcessBuilder.Redirect.from(stdin.toFile())
                    : ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
            Background b = new Background(text, pb.start(), out, err, timeout);
            synchronized (this) {
                backgrounds.add(b);
            }
            return b;
        } catch (IOException e) {
            deleteQuietly(out);
            deleteQuietly(err);
            throw new UncheckedIOException("cannot start " + text, e);
        }
    }

    /**
     * Starts {@code tcpdump} on the kernel side of the TAP with the given filter, printing one
     * line per packet (numeric, line-buffered), at most {@code maxPackets} packets and for at
     * most {@code timeout}; returns once it is capturing. {@link Background#stop()} ends it and
     * returns the lines.
     */
    public Background capture(String filter, int maxPackets, Duration timeout) {
        // coreutils timeout too: the capture ends even if this JVM dies without cleaning up
        Background b = spawn(timeout, null, "timeout", Long.toString(timeout.toSeconds() + 1), "tcpdump", "-i", tap,
                "-nn", "-l", "-c", Integer.toString(maxPackets), filter);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!b.stderrSoFar().contains("listening on")) {
            if (!b.alive() || System.nanoTime() - deadline > 0) {
                Result r = b.stop();
                throw new IllegalStateException("tcpdump did not start: " + r);
            }
            LockSupport.parkNanos(10_000_000L);
        }
        return b;
    }

    // ------------------------------------------------------------------ frame injection

    /**
     * Writes raw Ethernet frames into the kernel side of the TAP from inside the namespace (an
     * AF_PACKET socket bound to it), so that the stack reads them from its queues. One process
     * for the whole batch. Fails the test if the kernel refuses a frame.
     *
     * @return the number of frames the kernel accepted (all of them)
     */
    public int inject(List<byte[]> frames) {
        StringBuilder hex = new StringBuilder();
        HexFormat hf = HexFormat.of();
        for (byte[] f : frames) {
            hex.append(hf.formatHex(f)).append('\n');
        }
        Path in = tempFile(hex.toString().getBytes(StandardCharsets.US_ASCII));
        try {
            Result r = exec(Duration.ofSeconds(60), in, "python3", "-c", INJECT_PY, tap);
            assertEquals(0, r.exit(), () -> "frame injection failed: " + r);
            int sent = Integer.parseInt(r.stdout().strip());
            assertEquals(frames.size(), sent, () -> "frames injected: " + r);
            return sent;
        } finally {
            tempFiles.remove(in);
            deleteQuietly(in);
        }
    }

    public int inject(byte[]... frames) {
        return inject(List.of(frames));
    }

    /** Tries to send one frame as {@link #inject} does; returns the errno (0 if accepted). */
    public int trySend(byte[] frame) {
        Result r = exec(DEFAULT_TIMEOUT, null, "python3", "-c", TRY_SEND_PY, tap, HexFormat.of().formatHex(frame));
        assertEquals(0, r.exit(), () -> "frame send script failed: " + r);
        return Integer.parseInt(r.stdout().strip());
    }

    /** Frames the kernel dropped because the TAP's queue towards the stack was full. */
    public long tapTxDropped() {
        return Long.parseLong(execOk("cat", "/sys/class/net/" + tap + "/statistics/tx_dropped").stdout().strip());
    }

    // ------------------------------------------------------------------ waiting and asserting

    /**
     * Polls {@code condition} every 10 ms until it holds; fails the test with the counters
     * report after {@code timeout}.
     */
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

    /** Waits until the total of {@code s} reaches {@code atLeast}. */
    public void awaitTotal(Stat s, long atLeast, Duration timeout) {
        await(s.key() + " >= " + atLeast + " (now " + total(s) + ")", () -> total(s) >= atLeast, timeout);
    }

    private static final Pattern PING_SUMMARY =
            Pattern.compile("(\\d+) packets transmitted, (\\d+) received");

    /** Number of replies in ping's summary line; fails if there is none. */
    public static int pingReceived(Result r) {
        Matcher m = PING_SUMMARY.matcher(r.stdout());
        assertTrue(m.find(), () -> "no ping summary in: " + r);
        return Integer.parseInt(m.group(2));
    }

    public static int pingTransmitted(Result r) {
        Matcher m = PING_SUMMARY.matcher(r.stdout());
        assertTrue(m.find(), () -> "no ping summary in: " + r);
        return Integer.parseInt(m.group(1));
    }

    /**
     * Every echo request was answered and at least {@code count} were. With {@code -w}, ping's
     * {@code -c} counts replies, so a slow reply (a loaded machine) can make it send a few more
     * requests than {@code count}: what matters is that none went unanswered.
     */
    public static void assertAllAnswered(Result r, int count, java.util.function.Supplier<String> context) {
        assertAllAnswered(r.stdout(), r.toString(), count, context);
    }

    /** {@link #assertAllAnswered(Result, int, java.util.function.Supplier)} on ping's output {@code stdout}. */
    public static void assertAllAnswered(String stdout, String shown, int count,
                                         java.util.function.Supplier<String> context) {
        Matcher m = PING_SUMMARY.matcher(stdout);
        assertTrue(m.find(), () -> "no ping summary in: " + shown);
        int transmitted = Integer.parseInt(m.group(1));
        int received = Integer.parseInt(m.group(2));
        assertTrue(received >= count, () -> "expected at least " + count + " replies\n" + shown + "\n" + context.get());
        assertEquals(transmitted, received, () -> "unanswered echo requests\n" + shown + "\n" + context.get());
    }

    /** {@code ping -c count -i 0.2} from the kernel; asserts every echo is answered, unchanged. */
    public void assertPing(int count) {
        Result r = exec(Duration.ofSeconds(30), null, "ping", "-n", "-c", Integer.toString(count), "-i", "0.2",
                "-W", "2", "-w", "15", STACK_IP);
        assertAllAnswered(r, count, this::report);
        assertFalse(r.stdout().contains("wrong data"), () -> "corrupted echo data\n" + r);
        assertEquals(0, r.exit(), () -> "ping exit status\n" + r);
    }

    /** End of a test class: prints the counters, checks the stack stayed healthy, always closes. */
    public static void finish(KernelLab lab) {
        if (lab == null) {
            return;
        }
        try {
            System.out.println(lab.report());
            lab.assertHealthy();
        } finally {
            lab.close();
        }
    }

    /** INTERNAL_ERROR stays 0 on every core and no ownership violation happened in this JVM. */
    public void assertHealthy() {
        assertEquals(0, total(Stat.INTERNAL_ERROR), () -> "internal errors\n" + report());
        assertEquals(0, Ownership.violations(), () -> "ownership violations\n" + report());
    }

    // ------------------------------------------------------------------ cleanup

    /** Stops the stack, closes the TAP and deletes the namespace; idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        List<Throwable> failures = new ArrayList<>();
        for (Background b : new ArrayList<>(backgrounds)) {
            attempt(failures, b::close);
        }
        if (echo != null) {
            attempt(failures, echo::close);
        }
        if (stack != null) {
            attempt(failures, stack::close);
        }
        if (nic != null) {
            attempt(failures, nic::close);
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
                // the hook is running or about to: nothing left to do
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
            System.err.println("kernel-lab: " + t);
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
     * Deletes {@code fst-<pid>-<8 hex>} namespaces whose pid is not a live process: leftovers of
     * runs that were killed before they could clean up. Namespaces of live runs and every other
     * namespace are left alone.
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
            System.err.println("kernel-lab: removed stale namespace " + name + " (pid " + pid + " is gone): exit "
                    + r.exit());
        }
    }

    // ------------------------------------------------------------------ helpers

    static String hex(int bytes) {
        byte[] b = new byte[bytes];
        ThreadLocalRandom.current().nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    static long parseMac(String text) {
        String[] p = text.split(":");
        if (p.length != 6) {
            throw new IllegalArgumentException("not a MAC: " + text);
        }
        long v = 0;
        for (String s : p) {
            v = (v << 8) | Integer.parseInt(s, 16);
        }
        return v;
    }

    private static void deleteQuietly(Path p) {
        if (p != null) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException ignored) {
                // a temp file; nothing else depends on it
            }
        }
    }
}
