package io.flowstack.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.flowstack.core.config.StackConfig;
import io.flowstack.core.stats.Stat;
import io.flowstack.services.UdpEchoService;
import io.flowstack.nic.TapNic;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.UnaryOperator;

/**
 * A Linux kernel peer for the stack: a fresh network namespace holding the kernel side of a
 * (multi-queue) TAP, addressed {@value NamespaceLab#KERNEL_IP}/24, and a {@link io.flowstack.core.FlowStack}
 * on the other side of the TAP at {@value NamespaceLab#STACK_IP}/24 with a UDP echo service on port 7
 * (DESIGN.md "Tests against real kernels", FRAME-IO §1.2).
 *
 * <p>The namespace is {@code fst-<pid>-<8 hex>}, the TAP {@code ft<8 hex>}; the TAP is opened by
 * this JVM and moved into the namespace. Naming, timeouts and cleanup (here: the echo service,
 * the stack, the TAP, then the namespace; leftovers of crashed {@code fst-} runs first) are
 * {@link NamespaceLab}'s and {@link StackLab}'s.
 *
 * <p>Owned by: the test thread that started it.
 */
public final class KernelLab extends StackLab {
    static final String NS_PREFIX = "fst-";

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

    private final String tap;
    private UdpEchoService echo;
    private long kernelMac;

    private KernelLab(int cores) {
        super(NS_PREFIX, "kernel-lab", cores);
        this.tap = "ft" + runHex();
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
        return start(cores, TapNic.Options.DEFAULT, tune);
    }

    /** {@link #start(int, UnaryOperator)} on a TAP opened with {@code tapOptions} (e.g. without offloads). */
    public static KernelLab start(int cores, TapNic.Options tapOptions, UnaryOperator<StackConfig.Builder> tune) {
        return open(new KernelLab(cores), lab -> lab.setUp(tapOptions, tune));
    }

    private void setUp(TapNic.Options tapOptions, UnaryOperator<StackConfig.Builder> tune) {
        useNic(TapNic.open(tap, cores(), tapOptions));
        host("ip", "link", "set", tap, "netns", namespace());
        bringUp(tap);
        kernelMac = parseMac(execOk("cat", "/sys/class/net/" + tap + "/address").stdout().strip());
        startStack(tune);
        echo = service(s -> new UdpEchoService(s, ECHO_PORT));
    }

    // ------------------------------------------------------------------ accessors

    public String tap() {
        return tap;
    }

    public StackConfig config() {
        return stack().config();
    }

    public UdpEchoService echo() {
        return echo;
    }

    /** The MAC of the kernel's side of the TAP. */
    public long kernelMac() {
        return kernelMac;
    }

    /** All totals, for before/after comparisons. */
    public Map<Stat, Long> snapshot() {
        Map<Stat, Long> m = new EnumMap<>(Stat.class);
        for (Stat s : Stat.values()) {
            m.put(s, total(s));
        }
        return m;
    }

    @Override
    public String report() {
        return "stack " + cores() + " core(s), ns " + namespace() + ", tap " + tap + "\n" + stack().countersReport();
    }

    // ------------------------------------------------------------------ capture

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
            deleteNow(in);
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

    // ------------------------------------------------------------------ helpers

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
}
