package io.flowstack.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A private Linux network namespace for a test, and the commands run in it: what every kernel
 * lab shares, whatever device joins the namespace to the stack ({@link KernelLab}'s TAP,
 * {@link ImpairedKernelLab}'s impaired TAP, {@link PacketKernelLab}'s veth pair, {@link CliLab}'s
 * persistent TAP for a {@code stack} subprocess; DESIGN.md "Tests against real kernels").
 *
 * <p>Network safety, the same for every lab:
 * <ul>
 *   <li>the namespace is new for every lab, named {@code <prefix><pid>-<8 hex>} (the JVM's pid,
 *       so that a later run can tell a crashed run's namespace from a live one), and the lab's
 *       devices carry the same 8 hex digits ({@link #runHex()});</li>
 *   <li>IPv6 is off in it before any device arrives (no MLD, RS or DAD frames), and the only
 *       addresses are {@value #KERNEL_IP} and {@value #STACK_IP} in 198.18.0.0/15;</li>
 *   <li>every command runs with a timeout, after which it and its descendants are killed;</li>
 *   <li>{@link #close()} kills the background commands, closes the subclass's parts
 *       ({@link #closeParts}), deletes the namespace and the lab's files, collecting failures
 *       instead of stopping at the first; a shutdown hook does the same if the JVM stops before
 *       {@code close()} ran; {@link #open} closes everything again if a set-up step fails;</li>
 *   <li>before its namespace is created a lab removes the {@code <prefix><pid>-*} namespaces whose
 *       pid is not alive (leftovers of killed runs, {@link #removeLeftovers()}); no other
 *       namespace is ever touched.</li>
 * </ul>
 *
 * <p>Owned by: the test thread that started it; {@link #close()} may also run on the shutdown
 * hook's thread, so the lists it empties are guarded by the lab's monitor.
 */
public abstract class NamespaceLab implements AutoCloseable {
    public static final String KERNEL_IP = "198.18.0.1";
    public static final String STACK_IP = "198.18.0.2";

    static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);
    /**
     * Prefix of a command that a test stops with SIGINT, as a user's Ctrl-C: SIGINT back at its
     * default action. A shell without job control starts background commands with SIGINT
     * ignored, children inherit that, and a JVM that starts with SIGINT ignored installs no
     * handler for it: a test runner started that way (e.g. {@code ./stack test &} from a script)
     * would otherwise see every Ctrl-C test time out.
     */
    static final List<String> SIGINT_DEFAULT = List.of("env", "--default-signal=INT");
    private static final String TEMP_PREFIX = "flowstack-lab-";
    /** Standard input for a command that reads none. */
    static final ProcessBuilder.Redirect NO_INPUT = ProcessBuilder.Redirect.from(new File("/dev/null"));

    private final String prefix;
    private final String label;
    private final String runHex;
    private final String namespace;
    private final List<Background> backgrounds = new ArrayList<>();
    private final List<Process> helpers = new ArrayList<>();
    private final List<Path> files = new ArrayList<>();
    private boolean namespaceCreated;
    private Thread shutdownHook;
    private boolean closed;

    /** The result of a command. */
    public record Result(String command, int exit, byte[] stdoutBytes, String stderr, boolean timedOut) {
        public String stdout() {
            return new String(stdoutBytes, StandardCharsets.UTF_8);
        }

        @Override
        public String toString() {
            return "`" + abbreviate(command, 300) + "` exit=" + exit + (timedOut ? " (TIMED OUT, killed)" : "")
                    + "\n--- stdout ---\n" + abbreviate(stdout(), 6000) + "\n--- stderr ---\n"
                    + abbreviate(stderr, 6000);
        }
    }

    /**
     * Names the lab; nothing is created yet ({@link #open} does).
     *
     * @param prefix the namespace prefix, e.g. {@code fst-}
     * @param label  names the cleanup thread and prefixes this lab's log lines, e.g. {@code kernel-lab}
     */
    protected NamespaceLab(String prefix, String label) {
        this.prefix = prefix;
        this.label = label;
        this.runHex = hex(4);
        this.namespace = prefix + ProcessHandle.current().pid() + "-" + runHex;
    }

    // ------------------------------------------------------------------ life cycle

    /**
     * Sets {@code lab} up: removes leftovers of dead runs, creates the namespace (IPv6 off), then
     * runs {@code setUp} (the device, the stack). If any step fails everything made so far is
     * removed again and the failure is thrown, with cleanup failures suppressed in it.
     */
    protected static <L extends NamespaceLab> L open(L lab, Consumer<? super L> setUp) {
        try {
            NamespaceLab base = lab; // the private steps are not members of the type variable
            base.removeLeftovers();
            base.createNamespace();
            setUp.accept(lab);
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

    private void createNamespace() {
        shutdownHook = new Thread(this::closeQuietly, label + "-cleanup-" + namespace);
        Runtime.getRuntime().addShutdownHook(shutdownHook);
        host("ip", "netns", "add", namespace);
        namespaceCreated = true;
        // no IPv6 autoconfiguration, MLD or RS noise: off before the device arrives (FRAME-IO §1.2)
        execOk("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1");
        execOk("sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1");
    }

    /** Gives {@code device}, inside the namespace, {@value #KERNEL_IP}/24 and brings it and the loopback up. */
    protected final void bringUp(String device) {
        execOk("ip", "addr", "add", KERNEL_IP + "/24", "dev", device);
        execOk("ip", "link", "set", "lo", "up");
        execOk("ip", "link", "set", device, "up");
    }

    // ------------------------------------------------------------------ accessors

    public String namespace() {
        return namespace;
    }

    /** The 8 hex digits of this run, in the namespace's name and in the devices'. */
    protected final String runHex() {
        return runHex;
    }

    /** What the lab is, for assertion messages: its namespace, devices and counters. */
    public abstract String report();

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
        return run(inNamespace(cmd), timeout, stdin);
    }

    /**
     * Runs a bash script inside the namespace with {@code set -o pipefail} (so that a pipeline
     * fails if any of its commands does), killed after {@code timeout} like {@link #exec}.
     */
    public Result shell(Duration timeout, String script) {
        return exec(timeout, null, "bash", "-o", "pipefail", "-c", script);
    }

    /** {@code ip netns exec NS cmd...}. */
    protected final List<String> inNamespace(String... cmd) {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", namespace));
        full.addAll(Arrays.asList(cmd));
        return full;
    }

    /** A root-namespace control command (ip link, ip netns, sysctl); fails unless it exits 0. */
    Result host(String... cmd) {
        Result r = hostQuiet(cmd);
        if (r.exit() != 0) {
            throw new IllegalStateException("command failed: " + r);
        }
        return r;
    }

    /** A root-namespace command whose exit status the caller judges. */
    static Result hostQuiet(String... cmd) {
        return run(Arrays.asList(cmd), DEFAULT_TIMEOUT, null);
    }

    /**
     * Runs {@code cmd} in this (the test's) namespace with {@code stdin} (a file, or null for
     * none); after {@code timeout} the process and its descendants are killed and the result says so.
     */
    static Result run(List<String> cmd, Duration timeout, Path stdin) {
        String text = String.join(" ", cmd);
        Path out = null;
        Path err = null;
        try {
            out = Files.createTempFile(TEMP_PREFIX + "out", ".bin");
            err = Files.createTempFile(TEMP_PREFIX + "err", ".txt");
            Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile())
                    .redirectInput(stdin != null ? ProcessBuilder.Redirect.from(stdin.toFile()) : NO_INPUT).start();
            boolean finished = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (!finished) {
                kill(p);
            }
            return new Result(text, finished ? p.exitValue() : -1, Files.readAllBytes(out),
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

    // ------------------------------------------------------------------ background commands

    /**
     * Starts {@code cmd} inside the namespace in the background ({@code ip netns exec NS
     * cmd...}) with {@code stdin} (a file, or null for none). {@link Background#await} kills it
     * once {@code timeout} has passed since the start; {@link #close()} kills it if it still runs.
     */
    public Background spawn(Duration timeout, Path stdin, String... cmd) {
        List<String> full = inNamespace(cmd);
        return keep(new Background(String.join(" ", full), full,
                stdin != null ? ProcessBuilder.Redirect.from(stdin.toFile()) : NO_INPUT, timeout));
    }

    /**
     * Starts {@code cmd} inside the namespace with no timeout of its own: the caller ends it with
     * {@link Background#finish(Duration)}. With {@code pipeInput} its standard input is a pipe
     * that {@link Background#sendLine} writes to, else {@code /dev/null}.
     */
    protected final Background spawnUntimed(boolean pipeInput, String... cmd) {
        List<String> full = inNamespace(cmd);
        return keep(new Background(String.join(" ", full), full,
                pipeInput ? ProcessBuilder.Redirect.PIPE : NO_INPUT, null));
    }

    /** Has {@link #close()} close {@code b} if it is still open. */
    protected final synchronized <B extends Background> B keep(B b) {
        backgrounds.add(b);
        return b;
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

    /**
     * A command running in the background. Its output goes to temporary files; {@link #await},
     * {@link #finish} or {@link #stop} collect it (once: later calls return the same result).
     * {@link #close()} kills it (and its descendants) if it still runs; the lab's
     * {@link NamespaceLab#close()} closes every one left open.
     */
    public class Background implements AutoCloseable {
        private final String text;
        private final Process process;
        private final Path out;
        private final Path err;
        private final Duration timeout;
        private final long deadline;
        private Result result;
        private boolean done;

        /**
         * Starts {@code command}; its result is named {@code text}. {@code timeout} (null for
         * none) counts from now and bounds {@link #await}.
         */
        protected Background(String text, List<String> command, ProcessBuilder.Redirect stdin, Duration timeout) {
            this.text = text;
            this.timeout = timeout;
            this.deadline = System.nanoTime() + (timeout != null ? timeout.toNanos() : 0);
            Path o = null;
            Path e = null;
            try {
                o = Files.createTempFile(TEMP_PREFIX + "bg-out", ".bin");
                e = Files.createTempFile(TEMP_PREFIX + "bg-err", ".txt");
                this.process = new ProcessBuilder(command).redirectOutput(o.toFile()).redirectError(e.toFile())
                        .redirectInput(stdin).start();
            } catch (IOException x) {
                deleteQuietly(o);
                deleteQuietly(e);
                throw new UncheckedIOException("cannot start " + text, x);
            }
            this.out = o;
            this.err = e;
        }

        public boolean alive() {
            return process.isAlive();
        }

        protected final long pid() {
            return process.pid();
        }

        /** Output written to stdout so far (the process may still be running). */
        public String stdoutSoFar() {
            return new String(readQuietly(out), StandardCharsets.UTF_8);
        }

        /** Output written to stderr so far (the process may still be running). */
        public String stderrSoFar() {
            return new String(readQuietly(err), StandardCharsets.UTF_8);
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

        /**
         * Waits for the process until the timeout given when it started (counted from the start),
         * killing it if it is still running then, and returns its result.
         */
        public Result await() {
            if (result != null) {
                return result;
            }
            if (timeout == null) {
                throw new IllegalStateException(text + " was started without a timeout: finish(Duration) it");
            }
            return finish(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
        }

        /** Waits up to {@code wait} (then kills it and its descendants) and returns its result. */
        public Result finish(Duration wait) {
            if (result != null) {
                return result;
            }
            try {
                boolean finished = process.waitFor(wait.toNanos(), TimeUnit.NANOSECONDS);
                if (!finished) {
                    kill();
                }
                return collect(finished ? process.exitValue() : -1, !finished);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                kill();
                throw new IllegalStateException("interrupted waiting for " + text, e);
            } finally {
                close();
            }
        }

        /**
         * Stops the process now (SIGTERM, SIGKILL after 5 s) and returns what it wrote; the
         * result's {@code timedOut} is false unless it had already outlived its timeout.
         */
        public Result stop() {
            if (result != null) {
                return result;
            }
            boolean late = timeout != null && System.nanoTime() - deadline > 0;
            process.descendants().forEach(ProcessHandle::destroy);
            process.destroy();
            try {
                if (!process.waitFor(5, TimeUnit.SECONDS)) {
                    kill();
                }
                return collect(process.exitValue(), late);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                kill();
                throw new IllegalStateException("interrupted stopping " + text, e);
            } finally {
                close();
            }
        }

        /** Waits up to {@code wait} for the process to end by itself; kills it (and its descendants) if not. */
        protected final void waitOrKill(Duration wait) {
            try {
                if (!process.waitFor(wait.toMillis(), TimeUnit.MILLISECONDS)) {
                    kill();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                kill();
            }
        }

        private Result collect(int exit, boolean timedOut) {
            result = new Result(text, exit, readQuietly(out), new String(readQuietly(err), StandardCharsets.UTF_8),
                    timedOut);
            return result;
        }

        protected final void kill() {
            NamespaceLab.kill(process);
        }

        /** Kills the process if it still runs and deletes its output files; idempotent. */
        @Override
        public void close() {
            synchronized (NamespaceLab.this) {
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
     * Sends {@code payload} as one UDP datagram from the kernel side to {@code host:port} with
     * socat (one read of the file, one datagram) and returns what came back within 2 s of EOF
     * ({@code -t 2}); fails the test unless socat exits 0.
     */
    public byte[] udpExchange(String host, int port, byte[] payload) {
        Result r = exec(Duration.ofSeconds(20), tempFile(payload), "socat", "-t", "2", "-",
                "UDP:" + host + ":" + port);
        assertEquals(0, r.exit(), () -> r + "\n" + report());
        return r.stdoutBytes();
    }

    // ------------------------------------------------------------------ files

    /** A temporary file with {@code bytes}, deleted by {@link #close()}. */
    public Path tempFile(byte[] bytes) {
        try {
            Path p = Files.createTempFile(TEMP_PREFIX + "in", ".bin");
            deleteOnClose(p);
            Files.write(p, bytes);
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A file {@link #close()} deletes (e.g. a control socket a killed process could not remove). */
    public synchronized void deleteOnClose(Path f) {
        files.add(f);
    }

    /** Deletes {@code f}, a file of {@link #tempFile}, now rather than at {@link #close()}. */
    protected final void deleteNow(Path f) {
        synchronized (this) {
            files.remove(f);
        }
        deleteQuietly(f);
    }

    // ------------------------------------------------------------------ waiting

    /**
     * Polls {@code condition} every 10 ms until it holds; fails the test with {@link #report()}
     * after {@code timeout}.
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

    // ------------------------------------------------------------------ cleanup

    /**
     * Kills the background commands, closes the subclass's parts ({@link #closeParts}), deletes
     * the namespace (and with it every device inside) and the lab's files; idempotent. Every step
     * is tried even if one before failed; the failures are thrown together at the end.
     */
    @Override
    public final synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        List<Throwable> failures = new ArrayList<>();
        for (Background b : new ArrayList<>(backgrounds)) {
            attempt(failures, b::close);
        }
        for (Process p : helpers) {
            attempt(failures, () -> kill(p));
        }
        helpers.clear();
        attempt(failures, () -> closeParts(failures));
        if (namespaceCreated) {
            attempt(failures, () -> {
                Result r = hostQuiet("ip", "netns", "del", namespace);
                if (r.exit() != 0) {
                    throw new IllegalStateException("cannot delete namespace: " + r);
                }
            });
        }
        for (Path f : files) {
            deleteQuietly(f);
        }
        files.clear();
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

    /**
     * Closes what the subclass set up (services, the stack, the NIC, devices outside the
     * namespace) after the background commands and before the namespace is deleted. Each step
     * goes through {@link #attempt} so that one failure does not stop the rest.
     */
    protected void closeParts(List<Throwable> failures) {
    }

    /** Runs {@code r}, adding what it throws to {@code failures}. */
    protected static void attempt(List<Throwable> failures, Runnable r) {
        try {
            r.run();
        } catch (Throwable t) {
            failures.add(t);
        }
    }

    private void closeQuietly() {
        try {
            close();
        } catch (Throwable t) {
            System.err.println(label + ": " + t);
        }
    }

    /**
     * Removes what runs that were killed before they could clean up left behind; runs before
     * this lab's namespace exists. By default {@link #removeStaleNamespaces()}.
     */
    protected void removeLeftovers() {
        removeStaleNamespaces();
    }

    /**
     * Deletes {@code <prefix><pid>-<8 hex>} namespaces (this lab's prefix) whose pid is not a live
     * process. Namespaces of live runs and every other namespace are left alone.
     *
     * @return the 8 hex digits of the namespaces of live runs, whose devices must be left alone too
     */
    protected final Set<String> removeStaleNamespaces() {
        Pattern ours = Pattern.compile(Pattern.quote(prefix) + "(\\d+)-([0-9a-f]{8})");
        Set<String> live = new HashSet<>();
        for (String line : hostQuiet("ip", "netns", "list").stdout().split("\n")) {
            String name = line.strip().split("\\s+")[0];
            Matcher m = ours.matcher(name);
            if (!m.matches()) {
                continue;
            }
            long pid = Long.parseLong(m.group(1));
            if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
                live.add(m.group(2));
                continue;
            }
            Result r = hostQuiet("ip", "netns", "del", name);
            log("removed stale namespace " + name + " (pid " + pid + " is gone): exit " + r.exit());
        }
        return live;
    }

    /**
     * Deletes veth {@code dev} if it is still in the root namespace (a lab whose move of it into a
     * namespace failed, or that keeps it there); the namespace takes it otherwise.
     *
     * @throws IllegalStateException if it is there and cannot be deleted
     */
    protected static void deleteRootVeth(String dev) {
        if (hostQuiet("ip", "link", "show", dev).exit() == 0) {
            Result r = hostQuiet("ip", "link", "del", dev);
            if (r.exit() != 0 && hostQuiet("ip", "link", "show", dev).exit() == 0) {
                throw new IllegalStateException("cannot delete veth " + dev + ": " + r);
            }
        }
    }

    /**
     * Deletes the veth pairs a crashed run left wholly in the root namespace: those whose
     * {@code ip -o link} line {@code pair} matches with the same 8 hex digits in both names
     * (groups 1 and 2) when no live run has those digits; deleting {@code <end><hex>} takes both.
     *
     * @param liveHex the hex digits of live runs ({@link #removeStaleNamespaces()})
     */
    protected final void removeStaleRootVethPairs(Pattern pair, String end, Set<String> liveHex) {
        Result links = hostQuiet("ip", "-o", "link", "show", "type", "veth");
        for (String line : links.stdout().split("\n")) {
            Matcher m = pair.matcher(line);
            if (m.find() && m.group(1).equals(m.group(2)) && !liveHex.contains(m.group(1))) {
                Result r = hostQuiet("ip", "link", "del", end + m.group(1));
                log("removed stale veth pair " + end + m.group(1) + ": exit " + r.exit());
            }
        }
    }

    /** A line on stderr, prefixed with the lab's label. */
    protected final void log(String line) {
        System.err.println(label + ": " + line);
    }

    // ------------------------------------------------------------------ helpers

    static String hex(int bytes) {
        byte[] b = new byte[bytes];
        ThreadLocalRandom.current().nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    /** {@code s} if at most {@code max} characters, else its two ends around a note of what was cut. */
    static String abbreviate(String s, int max) {
        if (s == null || s.length() <= max) {
            return s;
        }
        return s.substring(0, max / 2) + "\n[... " + (s.length() - max) + " chars ...]\n"
                + s.substring(s.length() - max / 2);
    }

    /** SIGKILL to {@code p} and its descendants, then up to 5 s for it to end. */
    static void kill(Process p) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        try {
            p.waitFor(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static byte[] readQuietly(Path p) {
        try {
            return Files.readAllBytes(p);
        } catch (IOException e) {
            return new byte[0];
        }
    }

    static void deleteQuietly(Path p) {
        if (p != null) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException ignored) {
                // a temp file; nothing else depends on it
            }
        }
    }
}
