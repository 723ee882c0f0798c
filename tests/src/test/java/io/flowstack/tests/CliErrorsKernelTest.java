package io.flowstack.tests;

import static io.flowstack.tests.CliLab.KERNEL_IP;
import static io.flowstack.tests.CliLab.STACK_CIDR;
import static io.flowstack.tests.CliLab.STACK_IP;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.testing.Packets;
import io.flowstack.tests.NamespaceLab.Result;
import io.flowstack.tools.stats.ControlServer;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 5, point 6 against the kernel, each command a separate JVM in a {@link CliLab}
 * namespace (random name, addresses in 198.18.0.0/15, everything deleted afterwards): a device
 * that cannot be the TAP asked for, a busy TAP and a busy instance name, missing privileges (as
 * uid 65534, and as root without CAP_NET_ADMIN/CAP_NET_RAW or CAP_DAC_OVERRIDE) each give one
 * line on stderr saying what to do, exit 2 and no stack trace; Ctrl-C stops the long-running
 * commands (endpoint, stats --watch, bench server and client, scale, replay) with what they
 * measured so far and exit 130.
 *
 * <p>Not repeated here: a missing --packet interface (EndpointPacketOptionsTest), a kernel
 * port in use (BenchCommandTest), ping's Ctrl-C (PingKernelTest), stats without an instance
 * (StatsKernelTest). Every wait is bounded; the only sync is on the processes' output.
 */
@Timeout(300)
class CliErrorsKernelTest {
    private static final Duration RUN = Duration.ofSeconds(60);
    private static final Duration START = Duration.ofSeconds(90);
    private static final List<String> NOBODY = List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups");
    /** Root as in a container without network administration. */
    private static final List<String> NO_NET_CAPS = List.of("setpriv", "--bounding-set=-net_admin,-net_raw",
            "--inh-caps=-net_admin,-net_raw");
    /** Root that file permissions apply to. */
    private static final List<String> NO_DAC_OVERRIDE = List.of("setpriv",
            "--bounding-set=-dac_override,-dac_read_search", "--inh-caps=-dac_override,-dac_read_search");

    private CliLab lab;
    private Path socket;
    private Path readableClasspath;

    @TempDir
    Path dir;

    @AfterEach
    void cleanUp() throws IOException {
        try {
            if (lab != null) {
                lab.close(); // kills what still runs, deletes the namespace and every device in it
            }
        } finally {
            if (socket != null) {
                Files.deleteIfExists(socket); // only if an endpoint was killed before removing it
            }
            if (readableClasspath != null) {
                deleteTree(readableClasspath);
            }
            if (Files.exists(dir)) {
                try (Stream<Path> s = Files.walk(dir)) {
                    s.forEach(p -> p.toFile().setWritable(true, false)); // the read-only directory, for @TempDir
                }
            }
        }
    }

    private String id() {
        return lab.tap().substring(2); // 8 random hex digits of this run
    }

    private Result stack(String... args) {
        return lab.stack(RUN, args).await();
    }

    /** Exit 2, nothing on stdout, exactly one line on stderr: "COMMAND: ..." with every fragment, no trace. */
    private static String assertOneLine(Result r, String command, String... says) {
        assertEquals(2, r.exit(), r::toString);
        assertEquals("", r.stdout(), r::toString);
        List<String> lines = r.stderr().lines().toList();
        assertEquals(1, lines.size(), () -> "one line on stderr: " + r);
        String line = lines.get(0);
        assertTrue(line.startsWith(command + ": "), r::toString);
        for (String s : says) {
            assertTrue(line.contains(s), () -> "'" + s + "' missing: " + r);
        }
        assertFalse(r.stderr().contains("Exception") || r.stderr().contains("\tat "), r::toString);
        return line;
    }

    /** Exit 130 (SIGINT), nothing on stderr, stdout holding every fragment. */
    private static void assertStoppedByCtrlC(Result r, String... says) {
        assertFalse(r.timedOut(), r::toString);
        assertEquals(130, r.exit(), r::toString);
        for (String s : says) {
            assertTrue(r.stdout().contains(s), () -> "'" + s + "' missing: " + r);
        }
        assertFalse(r.stderr().contains("Exception") || r.stderr().contains("\tat "), r::toString);
    }

    // ------------------------------------------------------------------ devices

    @Test
    void aDeviceThatCannotBeTheTapAskedForIsOneLineWithWhatToDo() {
        lab = CliLab.start(false); // the lab's TAP is single-queue
        String tun = "fu" + id();
        String multi = "fm" + id();
        lab.execOk("ip", "tuntap", "add", "dev", tun, "mode", "tun");
        lab.execOk("ip", "tuntap", "add", "dev", multi, "mode", "tap", "multi_queue");

        assertOneLine(stack("endpoint", "--tap", "lo", "--addr", STACK_CIDR, "--cores", "1"), "stack endpoint",
                "cannot open TAP lo (TUNSETIFF: EINVAL): lo exists and is not a TAP device", "choose another --tap name");
        assertOneLine(stack("endpoint", "--tap", lab.tap(), "--addr", STACK_CIDR, "--cores", "2"), "stack endpoint",
                "it is a single-queue TAP", "use --cores 1", "ip tuntap add dev " + lab.tap() + " mode tap multi_queue");
        assertOneLine(stack("bench", "--server", "--tap", lab.tap(), "--addr", STACK_CIDR, "--cores", "2"),
                "stack bench", "it is a single-queue TAP");
        assertOneLine(stack("endpoint", "--tap", multi, "--addr", STACK_CIDR, "--cores", "1"), "stack endpoint",
                "it is a multi-queue TAP", "--cores 2 or more");
        assertOneLine(stack("ping", "--tap", tun, "--addr", STACK_CIDR, "-c", "1", KERNEL_IP), "stack ping",
                "it is a TUN device", "sudo ip link del " + tun);
    }

    // ------------------------------------------------------------------ busy, then Ctrl-C

    @Test
    void aBusyTapOrInstanceNameIsOneLineAndCtrlCStopsEndpointAndStatsWatch() {
        lab = CliLab.start(false);
        socket = ControlServer.socketFor(lab.tap());
        CliLab.Stack ep = lab.stack(Duration.ofSeconds(200), "endpoint", "--tap", lab.tap(), "--addr", STACK_CIDR,
                "--cores", "1", "--no-pin");
        ep.awaitOutput("(Ctrl-C to stop)", START);

        // a single-queue TAP takes one process
        assertOneLine(stack("ping", "--tap", lab.tap(), "--addr", "198.18.0.3/24", "-c", "1", KERNEL_IP), "stack ping",
                "cannot open TAP " + lab.tap() + " (TUNSETIFF: EBUSY): another process has it open",
                "choose another --tap name");
        // the same instance name on another TAP: refused before that TAP is made
        String other = "fx" + id();
        assertOneLine(stack("endpoint", "--tap", other, "--addr", "198.18.0.3/24", "--cores", "1", "--name", lab.tap()),
                "stack endpoint", "another running instance answers on " + socket, "another --name");
        assertNotEquals(0, lab.exec(RUN, "ip", "link", "show", other).exit(), "no TAP " + other + " left behind");

        lab.execOk("ping", "-c", "3", "-i", "0.2", "-W", "5", STACK_IP); // counters to show
        CliLab.Stack watch = lab.stack(RUN, "stats", "--name", lab.tap(), "--watch", "0.2");
        watch.awaitOutput("icmp_in_echo", RUN);
        watch.interrupt();
        assertStoppedByCtrlC(watch.await(), "Counters (non-zero", "TCP connections:");

        ep.interrupt();
        Result e = ep.await();
        assertStoppedByCtrlC(e, "flowstack endpoint: stopped; per-core counters:", "icmp_in_echo");
        assertEquals("", e.stderr(), e::toString);
        assertFalse(Files.exists(socket), "the endpoint removes its control socket");
    }

    // ------------------------------------------------------------------ privileges

    @Test
    void withoutPrivilegesEachCommandSaysWhatItNeedsInOneLine() throws IOException {
        lab = CliLab.start(false);
        String fresh = "fn" + id();
        String cp = readableClasspath();
        // uid 65534: /dev/net/tun refuses (EACCES when it is 0600, else TUNSETIFF's EPERM)
        for (String[] cmd : new String[][] {
            {"endpoint", "--tap", fresh, "--addr", STACK_CIDR, "--cores", "1"},
            {"ping", "--tap", fresh, "--addr", STACK_CIDR, "-c", "1", KERNEL_IP},
            {"bench", "--server", "--tap", fresh, "--addr", STACK_CIDR, "--cores", "1"}}) {
            assertOneLine(lab.stack(NOBODY, cp, RUN, cmd).await(), "stack " + cmd[0], "root or CAP_NET_ADMIN",
                    "run it with sudo");
        }
        assertOneLine(lab.stack(NOBODY, cp, RUN, "bench", "--server", "--kernel", "--port", "80").await(), "stack bench",
                "TCP port 80 is below the first unprivileged port", "--port of 1024 or more");

        // root without CAP_NET_ADMIN and CAP_NET_RAW
        String cpRoot = System.getProperty("java.class.path");
        assertOneLine(lab.stack(NO_NET_CAPS, cpRoot, RUN, "endpoint", "--tap", fresh, "--addr", STACK_CIDR, "--cores",
                "1").await(), "stack endpoint", "cannot open TAP " + fresh + " (TUNSETIFF: EPERM)", "CAP_NET_ADMIN",
                "run it with sudo");
        String veth = "fv" + id();
        lab.execOk("ip", "link", "add", veth, "type", "veth", "peer", "name", "fw" + id());
        lab.execOk("ip", "link", "set", veth, "up");
        lab.execOk("ip", "link", "set", "fw" + id(), "up");
        assertOneLine(lab.stack(NO_NET_CAPS, cpRoot, RUN, "endpoint", "--packet", veth, "--addr", STACK_CIDR,
                "--cores", "1").await(), "stack endpoint", "AF_PACKET sockets need root or CAP_NET_RAW", "sudo");
        assertNotEquals(0, lab.exec(RUN, "ip", "link", "show", fresh).exit(), "no TAP " + fresh + " made");

        // a capture in a directory this root may not write (another user's, mode 0500)
        Path readOnly = Files.createDirectory(dir.resolve("ro"));
        Files.setPosixFilePermissions(readOnly, PosixFilePermissions.fromString("r-x------"));
        Files.setOwner(readOnly, readOnly.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("65534"));
        Path pcap = readOnly.resolve("x.pcap");
        assertOneLine(lab.stack(NO_DAC_OVERRIDE, cpRoot, RUN, "endpoint", "--tap", lab.tap(), "--addr", STACK_CIDR,
                "--cores", "1", "--pcap", pcap.toString()).await(), "stack endpoint", "cannot write the capture " + pcap);
        assertFalse(Files.exists(pcap));
    }

    /**
     * The class path copied where uid 65534 can read it (a build's class path is often under
     * root's home or a private Maven repository).
     */
    private String readableClasspath() throws IOException {
        readableClasspath = Files.createTempDirectory("flowstack-cli-cp");
        List<String> entries = new ArrayList<>();
        int i = 0;
        for (String e : BenchKernelTest.childClasspath().split(File.pathSeparator)) {
            Path from = Path.of(e);
            if (!Files.exists(from)) {
                continue;
            }
            Path to = readableClasspath.resolve(i++ + "-" + from.getFileName());
            try (Stream<Path> s = Files.walk(from)) {
                s.forEach(p -> {
                    try {
                        Files.copy(p, to.resolve(from.relativize(p).toString()));
                    } catch (IOException x) {
                        throw new UncheckedIOException(x);
                    }
                });
            }
            entries.add(to.toString());
        }
        try (Stream<Path> s = Files.walk(readableClasspath)) {
            for (Path p : s.toList()) {
                Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(Files.isDirectory(p) ? "rwxr-xr-x"
                        : "rw-r--r--"));
            }
        }
        return String.join(File.pathSeparator, entries);
    }

    private static void deleteTree(Path root) throws IOException {
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    // ------------------------------------------------------------------ Ctrl-C

    @Test
    void ctrlCStopsBenchServerAndClientWithWhatTheyMeasured() {
        lab = CliLab.start(false);
        CliLab.Stack server = lab.stack(Duration.ofSeconds(200), "bench", "--server", "--tap", lab.tap(), "--addr",
                STACK_CIDR, "--cores", "1", "--no-pin");
        server.awaitOutput("(Ctrl-C to stop)", START);
        CliLab.Stack client = lab.stack(Duration.ofSeconds(200), "bench", "--client", STACK_IP, "--kernel", "-t", "120");
        client.awaitOutput("    0.00-1.", START); // the first interval (it may end at 1.01 s): a run under way
        client.interrupt();
        Result c = client.await();
        assertStoppedByCtrlC(c, "summary  ", "result   ");
        assertEquals("", c.stderr(), c::toString);

        server.interrupt();
        Result s = server.await();
        assertStoppedByCtrlC(s, "flowstack bench server: stopped after ");
        assertTrue(Pattern.compile("stopped after [\\d.]+ s: [1-9]\\d* connections, in [1-9]").matcher(s.stdout()).find(),
                s::toString);
        assertEquals("", s.stderr(), s::toString);
    }

    @Test
    void ctrlCStopsScaleWithTheRunsSoFar() {
        lab = CliLab.start(false);
        CliLab.Stack scale = lab.stack(Duration.ofSeconds(200), "scale", "--cores", "2", "--test", "conn", "--duration",
                "1", "--warmup", "0.5", "--jit-warmup", "0", "--repeat", "20", "--conns", "8", "--concurrency", "8");
        scale.awaitStderr("running conn on 2 core(s) (1/20)", START); // the 1-core run is measured
        scale.interrupt();
        Result r = scale.await();
        assertStoppedByCtrlC(r, "test  cores  rate (ops/s)");
        assertTrue(Pattern.compile("(?m)^conn +1 +[\\d,]+ ").matcher(r.stdout()).find(), r::toString);
        assertTrue(r.stderr().contains("stack scale: interrupted: the results so far"), r::toString);
    }

    @Test
    void ctrlCStopsReplayWithWhatWasReplayedSoFar() throws Exception {
        lab = CliLab.start(false);
        // ARP requests a day apart: the clock advances through each day in 100,000 steps, so the
        // replay takes far longer than this test waits
        int us = Packets.ip(STACK_IP);
        int peer = Packets.ip(KERNEL_IP);
        long peerMac = 0x02_aa_00_00_00_01L;
        List<byte[]> frames = new ArrayList<>();
        for (int i = 0; i < 20_000; i++) {
            frames.add(Packets.ethernet(Packets.BROADCAST, peerMac, Packets.ETH_ARP, Packets.arp(1, peerMac, peer, 0, us)));
        }
        Path capture = dir.resolve("days.pcap");
        ReplayTest.write(capture, frames, 86_400_000_000_000L);
        CliLab.Stack replay = lab.stack(Duration.ofSeconds(200), "replay", capture.toString(), "--addr", STACK_CIDR,
                "--trace");
        replay.awaitOutput("#2 ", START);
        replay.interrupt();
        Result r = replay.await();
        assertStoppedByCtrlC(r, "flowstack replay: interrupted after record ", "per-core counters:", "arp_in_request");
        assertEquals("", r.stderr(), r::toString);
    }
}
