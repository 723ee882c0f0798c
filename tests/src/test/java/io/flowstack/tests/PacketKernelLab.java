package io.flowstack.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.flowstack.core.FlowStack;
import io.flowstack.core.StackConfig;
import io.flowstack.core.netisr.Ownership;
import io.flowstack.core.netisr.Stat;
import io.flowstack.core.service.UdpEchoService;
import io.flowstack.core.testing.Packets;
import io.flowstack.nativeio.Ethtool;
import io.flowstack.nic.packet.FanoutMode;
import io.flowstack.nic.packet.PacketNic;
import io.flowstack.nic.packet.PacketQueue;
import io.flowstack.tests.KernelLab.Result;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Linux kernel peer for the stack's AF_PACKET back-end: a veth pair whose kernel end
 * ({@code fpn<8 hex>}) sits in a fresh network namespace with {@value KernelLab#KERNEL_IP}/24,
 * and whose other end ({@code fpk<8 hex>}) stays in the root namespace, where the test JVM opens
 * a {@link PacketNic} on it for a {@link FlowStack} at {@value KernelLab#STACK_IP}/24 with a UDP
 * echo service on port 7 (DESIGN.md "Tests against real kernels").
 *
 * <p>The JVM cannot enter a namespace per thread, so the stack's end lives in the root
 * namespace; the root kernel is kept out of the traffic: that end has no IPv4 address, IPv6 is
 * disabled on it before it comes up (no autoconfiguration, MLD or DAD frames), and it is
 * promiscuous only through the stack's socket membership, so frames addressed to the stack's MAC
 * are "other host" frames that the root kernel's IP input discards. Before the kernel end moves
 * into the namespace its tx-checksumming is turned off (and with it TSO): a veth otherwise hands
 * its peer CHECKSUM_PARTIAL frames with unfinished checksums and 64 KB GSO super-frames, which a
 * real NIC never puts on the wire (docs/AF_PACKET.md).
 *
 * <p>Names are per run: the namespace is {@code fsp-<pid>-<hex>}. {@link #close()} stops the
 * stack, closes the NIC and deletes the namespace, which deletes both veth ends; a shutdown hook
 * does the same if the JVM stops first, and {@link #start} removes leftovers of crashed runs
 * ({@code fsp-<pid>-*} namespaces of dead pids, and {@code fpk}/{@code fpn} pairs left in the
 * root namespace by a crash before the move). Nothing else is touched.
 *
 * <p>Owned by: the test thread that started it.
 */
public final class PacketKernelLab implements AutoCloseable {
    static final String NS_PREFIX = "fsp-";
    private static final Pattern OUR_NAMESPACE = Pattern.compile("fsp-(\\d+)-([0-9a-f]{8})");
    private static final Pattern OUR_ROOT_VETH = Pattern.compile("\\d+: fpk([0-9a-f]{8})@fpn([0-9a-f]{8}):");
    private static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

    private final int cores;
    private final FanoutMode fanout;
    private final String hex;
    private final String namespace;
    private final String stackEnd;
    private final String kernelEnd;
    private final List<Path> tempFiles = new ArrayList<>();
    private boolean namespaceCreated;
    private boolean vethCreated;
    private PacketNic nic;
    private FlowStack stack;
    private UdpEchoService echo;
    private Thread shutdownHook;
    private boolean closed;

    private PacketKernelLab(int cores, FanoutMode fanout) {
        this.cores = cores;
        this.fanout = fanout;
        this.hex = KernelLab.hex(4);
        this.namespace = NS_PREFIX + ProcessHandle.current().pid() + "-" + hex;
        this.stackEnd = "fpk" + hex;
        this.kernelEnd = "fpn" + hex;
    }

    /**
     * Creates the namespace and the veth pair and starts the stack on {@code cores} cores, one
     * AF_PACKET socket each, spread by {@code fanout}.
     */
    public static PacketKernelLab start(int cores, FanoutMode fanout) {
        removeLeftovers();
        PacketKernelLab lab = new PacketKernelLab(cores, fanout);
        try {
            lab.setUp();
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

    private void setUp() {
        shutdownHook = new Thread(this::closeQuietly, "packet-lab-cleanup-" + namespace);
        Runtime.getRuntime().addShutdownHook(shutdownHook);
        host("ip", "netns", "add", namespace);
        namespaceCreated = true;
        execOk("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1");
        execOk("sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1");
        host("ip", "link", "add", stackEnd, "type", "veth", "peer", "name", kernelEnd);
        vethCreated = true;
        // finished checksums and no GSO super-frames from the kernel's side, like a wire
        Ethtool.set(kernelEnd, Ethtool.Feature.TX_CSUM, false);
        Ethtool.set(kernelEnd, Ethtool.Feature.TSO, false);
        host("ip", "link", "set", kernelEnd, "netns", namespace);
        // the root kernel stays out: no IPv6 (set before the link is up), no IPv4 address
        host("sysctl", "-qw", "net.ipv6.conf." + stackEnd + ".disable_ipv6=1");
        host("ip", "link", "set", stackEnd, "up");
        execOk("ip", "addr", "add", KernelLab.KERNEL_IP + "/24", "dev", kernelEnd);
        execOk("ip", "link", "set", "lo", "up");
        execOk("ip", "link", "set", kernelEnd, "up");
        nic = PacketNic.open(stackEnd, cores, PacketNic.Options.DEFAULT.withFanout(fanout));
        StackConfig config = StackConfig.builder().cores(cores).address(Packets.ip(KernelLab.STACK_IP))
                .prefixLength(24).mac(KernelLab.STACK_MAC).build();
        stack = FlowStack.start(config, nic);
        echo = new UdpEchoService(stack, KernelLab.ECHO_PORT);
    }

    // ------------------------------------------------------------------ accessors

    public int cores() {
        return cores;
    }

    public FanoutMode fanout() {
        return fanout;
    }

    public String namespace() {
        return namespace;
    }

    /** The kernel's end of the veth, inside the namespace. */
    public String kernelEnd() {
        return kernelEnd;
    }

    /** The stack's end of the veth, in the root namespace. */
    public String stackEnd() {
        return stackEnd;
    }

    public FlowStack stack() {
        return stack;
    }

    public PacketNic nic() {
        return nic;
    }

    public UdpEchoService echo() {
        return echo;
    }

    public long total(Stat s) {
        return stack.total(s);
    }

    /** Sum of {@code f} over the NIC's queues. */
    public long sumQueues(java.util.function.ToLongFunction<PacketQueue> f) {
        long t = 0;
        for (int i = 0; i < nic.queueCount(); i++) {
            t += f.applyAsLong(nic.queue(i));
        }
        return t;
    }

    public String report() {
        return "stack " + cores + " core(s), fanout " + fanout.cliName() + ", ns " + namespace + ", veth "
                + stackEnd + "/" + kernelEnd + "\n" + stack.countersReport();
    }

    // ------------------------------------------------------------------ commands

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
     * Runs {@code cmd} inside the namespace with {@code stdin} (a file or null); after
     * {@code timeout} the process and its descendants are killed and the result says so.
     */
    public Result exec(Duration timeout, Path stdin, String... cmd) {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", namespace));
        full.addAll(Arrays.asList(cmd));
        return run(full, timeout, stdin);
    }

    /** A bash script inside the namespace with {@code pipefail}, killed after {@code timeout}. */
    public Result shell(Duration timeout, String script) {
        return exec(timeout, null, "bash", "-o", "pipefail", "-c", script);
    }

    /** A root-namespace command (ip link on the stack's end); fails unless it exits 0. */
    static Result host(String... cmd) {
        Result r = run(Arrays.asList(cmd), DEFAULT_TIMEOUT, null);
        if (r.exit() != 0) {
            throw new IllegalStateException("command failed: " + r);
        }
        return r;
    }

    private static Result hostQuiet(String... cmd) {
        return run(Arrays.asList(cmd), DEFAULT_TIMEOUT, null);
    }

    private static Result run(List<String> cmd, Duration timeout, Path stdin) {
        String text = String.join(" ", cmd);
        Path out = null;
        Path err = null;
        try {
            out = Files.createTempFile("packet-lab-out", ".bin");
            err = Files.createTempFile("packet-lab-err", ".txt");
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile());
            pb.redirectInput(stdin != null ? ProcessBuilder.Redirect.from(stdin.toFile())
                    : ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
            Process p = pb.start();
            boolean finished = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (!finished) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
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

    /** A temporary file with {@code bytes}, deleted by {@link #close()}. */
    public Path tempFile(byte[] bytes) {
        try {
            Path p = Files.createTempFile("packet-lab-in", ".bin");
            tempFiles.add(p);
            Files.write(p, bytes);
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ------------------------------------------------------------------ waiting and asserting

    /** Polls {@code condition} every 10 ms; fails with the counters after {@code timeout}. */
    public void await(String what, BooleanSupplier condition, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("timed out after " + timeout.toMillis() + " ms waiting for " + what + "\n"
                        + report());
            }
            LockSupport.parkNanos(10_000_000L);
        }
    }

    /**
     * The stack is healthy (INTERNAL_ERROR 0 on every core, no ownership violation) and the
     * rings saw nothing they had to drop: no truncated frame, no unfinished checksum, no corrupt
     * block, no outgoing frame looped back, no TX error.
     */
    public void assertHealthy() {
        assertEquals(0, total(Stat.INTERNAL_ERROR), () -> "internal errors\n" + report());
        assertEquals(0, Ownership.violations(), () -> "ownership violations\n" + report());
        assertEquals(0, sumQueues(q -> q.rxRing().truncated()), () -> "truncated frames\n" + report());
        assertEquals(0, sumQueues(q -> q.rxRing().csumNotReady()), () -> "unfinished checksums\n" + report());
        assertEquals(0, sumQueues(q -> q.rxRing().corruptBlocks()), () -> "corrupt blocks\n" + report());
        assertEquals(0, sumQueues(q -> q.rxRing().outgoing()), () -> "outgoing frames looped back\n" + report());
        assertEquals(0, sumQueues(PacketQueue::txErrors), () -> "TX errors\n" + report());
        assertEquals(0, sumQueues(PacketQueue::txKickErrors), () -> "TX kick errors\n" + report());
    }

    /** End of a test class: prints the counters, checks health, always closes. */
    public static void finish(PacketKernelLab lab) {
        if (lab == null) {
            return;
        }
        try {
            System.out.println(lab.report());
            System.out.print(lab.nic.countersReport());
            lab.assertHealthy();
        } finally {
            lab.close();
        }
    }

    // ------------------------------------------------------------------ cleanup

    /** Stops the stack, closes the NIC, deletes the namespace (and both veth ends); idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        List<Throwable> failures = new ArrayList<>();
        if (echo != null) {
            attempt(failures, echo::close);
        }
        if (stack != null) {
            attempt(failures, stack::close);
        }
        if (nic != null) {
            attempt(failures, nic::close);
        }
        if (vethCreated) {
            // still in the root namespace if the move failed; otherwise the namespace takes it
            attempt(failures, () -> {
                if (hostQuiet("ip", "link", "show", stackEnd).exit() == 0) {
                    Result r = hostQuiet("ip", "link", "del", stackEnd);
                    if (r.exit() != 0 && hostQuiet("ip", "link", "show", stackEnd).exit() == 0) {
                        throw new IllegalStateException("cannot delete veth " + stackEnd + ": " + r);
                    }
                }
            });
        }
        if (namespaceCreated) {
            attempt(failures, () -> {
                Result r = hostQuiet("ip", "netns", "del", namespace);
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
            System.err.println("packet-lab: " + t);
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
     * Removes what crashed runs left: {@code fsp-<pid>-<hex>} namespaces whose pid is dead (their
     * veth pairs go with them), and {@code fpk<hex>}/{@code fpn<hex>} pairs still wholly in the
     * root namespace (a crash between creating and moving) when no namespace of that run
     * exists. Everything else is left alone.
     */
    static void removeLeftovers() {
        Result list = hostQuiet("ip", "netns", "list");
        Set<String> liveHex = new HashSet<>();
        for (String line : list.stdout().split("\n")) {
            String name = line.strip().split("\\s+")[0];
            Matcher m = OUR_NAMESPACE.matcher(name);
            if (!m.matches()) {
                continue;
            }
            long pid = Long.parseLong(m.group(1));
            if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
                liveHex.add(m.group(2));
                continue;
            }
            Result r = hostQuiet("ip", "netns", "del", name);
            System.err.println("packet-lab: removed stale namespace " + name + " (pid " + pid + " is gone): exit "
                    + r.exit());
        }
        Result links = hostQuiet("ip", "-o", "link", "show", "type", "veth");
        for (String line : links.stdout().split("\n")) {
            Matcher m = OUR_ROOT_VETH.matcher(line);
            if (m.find() && m.group(1).equals(m.group(2)) && !liveHex.contains(m.group(1))) {
                Result r = hostQuiet("ip", "link", "del", "fpk" + m.group(1));
                System.err.println("packet-lab: removed stale veth pair fpk" + m.group(1) + ": exit " + r.exit());
            }
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
}
