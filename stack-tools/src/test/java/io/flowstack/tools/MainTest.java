package io.flowstack.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.StackConfig;
import io.flowstack.core.wire.Ethernet;
import io.flowstack.core.wire.Ipv4;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

/** The command line without root: parsing, validation, messages and exit codes. */
class MainTest {

    /** Exit code and what was printed. */
    private record Run(int code, String out, String err) {
        List<String> errLines() {
            return err.isEmpty() ? List.of() : List.of(err.split("\\R"));
        }
    }

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.commandLine(new PrintWriter(out, true), new PrintWriter(err, true)).execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    /** Asserts exit 2 with one error line naming the command, then the --help hint. */
    private static String assertUsageError(Run r, String command) {
        assertEquals(Main.USAGE, r.code, r.err);
        List<String> lines = r.errLines();
        assertEquals(2, lines.size(), "one error line and one hint line, got:\n" + r.err);
        assertTrue(lines.get(0).startsWith(command + ": "), lines.get(0));
        assertEquals("Try '" + command + " --help' for more information.", lines.get(1));
        assertEquals("", r.out);
        return lines.get(0);
    }

    private static EndpointCommand parseEndpoint(String... args) {
        CommandLine cl = Main.commandLine(new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()));
        CommandLine.ParseResult parsed = cl.parseArgs(args);
        return (EndpointCommand) parsed.subcommand().commandSpec().userObject();
    }

    // ------------------------------------------------------------------ endpoint options

    @Test
    void parsesServeAndDefaults() {
        EndpointCommand e = parseEndpoint("endpoint", "--tap", "fs0", "--addr", "198.18.0.2/24",
                "--serve", "udp-echo:7", "--serve", "UDP-ECHO:9");
        assertEquals("fs0", e.tap);
        assertEquals(new Ipv4Prefix(Ipv4.parse("198.18.0.2"), 24), e.addr);
        assertEquals(List.of(new ServiceSpec(ServiceSpec.Kind.UDP_ECHO, 7), new ServiceSpec(ServiceSpec.Kind.UDP_ECHO, 9)),
                e.serve);
        assertEquals(Math.min(Runtime.getRuntime().availableProcessors(), 64), e.cores);
        e.validate();
        StackConfig c = e.config();
        assertEquals("02:00:c6:12:00:02", Ethernet.macToString(c.mac));
        assertEquals(Ipv4.parse("198.18.0.2"), c.address);
        assertEquals(24, c.prefixLength);
        assertEquals(0, c.gateway);
        assertTrue(c.pinThreads);
        assertFalse(c.busyPoll);
        assertEquals("flowstack endpoint: tap fs0 198.18.0.2/24 mac 02:00:c6:12:00:02 cores " + e.cores
                + ", serving udp-echo:7 udp-echo:9 (Ctrl-C to stop)", e.banner("fs0", c));
    }

    @Test
    void parsesEveryOption() {
        EndpointCommand e = parseEndpoint("endpoint", "--tap", "fs1", "--addr", "198.19.0.2/16",
                "--gateway", "198.19.0.1", "--cores", "1", "--mac", "02:AA:bb:00:00:01", "--mtu", "1400",
                "--busy-poll", "--no-pin");
        e.validate();
        StackConfig c = e.config();
        assertEquals(1, c.cores);
        assertEquals(Ipv4.parse("198.19.0.1"), c.gateway);
        assertEquals("02:aa:bb:00:00:01", Ethernet.macToString(c.mac));
        assertEquals(1400, c.mtu);
        assertTrue(c.busyPoll);
        assertFalse(c.pinThreads);
    }

    @Test
    void derivedMacsDifferPerAddress() {
        assertEquals("02:00:c6:12:00:01", Ethernet.macToString(Macs.fromAddress(Ipv4.parse("198.18.0.1"))));
        long mac = Macs.fromAddress(Ipv4.parse("198.19.255.254"));
        assertEquals("02:00:c6:13:ff:fe", Ethernet.macToString(mac));
        assertFalse(Ethernet.isGroup(mac), "unicast");
        assertEquals(2, (mac >>> 40) & 2, "locally administered");
    }

    @ParameterizedTest
    @ValueSource(strings = {"http:80", "echo:7", "discard:9", "chargen:19"})
    void tcpServicesAreRefusedWithOneLine(String spec) {
        Run r = run("endpoint", "--tap", "x", "--addr", "198.18.0.2/24", "--serve", spec);
        String line = assertUsageError(r, "stack endpoint");
        assertTrue(line.contains("TCP services are not available yet (TCP arrives in a later release)"), line);
    }

    @Test
    void badAddressIsOneLine() {
        String line = assertUsageError(run("endpoint", "--tap", "x", "--addr", "bad"), "stack endpoint");
        assertTrue(line.contains("--addr") && line.contains("'bad'") && line.contains("198.18.0.2/24"), line);
    }

    @ParameterizedTest
    @ValueSource(strings = {"198.18.0.2", "198.18.0.256/24", "198.18.0.2/33", "198.18.0.2/0", "198.18.0.0/24",
        "198.18.0.255/24", "127.0.0.1/8", "224.0.0.1/24", "0.0.0.0/0", "198.18.0/24", "198.18.0.2/x"})
    void rejectsBadAddresses(String addr) {
        assertUsageError(run("endpoint", "--tap", "x", "--addr", addr), "stack endpoint");
        assertThrows(IllegalArgumentException.class, () -> Ipv4Prefix.parse(addr));
    }

    @Test
    void acceptsHostAddresses() {
        assertEquals("198.18.0.2/24", Ipv4Prefix.parse(" 198.18.0.2/24 ").toString());
        assertEquals("198.18.0.1/31", Ipv4Prefix.parse("198.18.0.1/31").toString());
        assertEquals("198.18.0.0/32", Ipv4Prefix.parse("198.18.0.0/32").toString());
    }

    @Test
    void rejectsBadServiceSpecs() {
        for (String spec : new String[] {"udp-echo", "udp-echo:0", "udp-echo:65536", "udp-echo:x", "ftp:21", ""}) {
            String line = assertUsageError(run("endpoint", "--tap", "x", "--addr", "198.18.0.2/24", "--serve", spec),
                    "stack endpoint");
            assertTrue(line.contains("--serve"), line);
        }
    }

    @Test
    void relationsBetweenOptionsAreChecked() {
        String[] base = {"endpoint", "--tap", "x", "--addr", "198.18.0.2/24"};
        assertTrue(assertUsageError(run(concat(base, "--gateway", "198.19.0.1")), "stack endpoint")
                .contains("not on the subnet"));
        assertTrue(assertUsageError(run(concat(base, "--gateway", "198.18.0.2")), "stack endpoint")
                .contains("own address"));
        assertTrue(assertUsageError(run(concat(base, "--serve", "udp-echo:7", "--serve", "udp-echo:7")),
                "stack endpoint").contains("twice"));
        assertTrue(assertUsageError(run(concat(base, "--cores", "0")), "stack endpoint").contains("--cores"));
        assertTrue(assertUsageError(run(concat(base, "--mtu", "100")), "stack endpoint").contains("--mtu"));
        assertTrue(assertUsageError(run(concat(base, "--mac", "01:00:5e:00:00:01")), "stack endpoint")
                .contains("multicast"));
        assertTrue(assertUsageError(run(concat(base, "--mac", "02:00:00:00:00")), "stack endpoint")
                .contains("not a MAC"));
    }

    @Test
    void missingRequiredOptionIsOneLine() {
        String line = assertUsageError(run("endpoint", "--addr", "198.18.0.2/24"), "stack endpoint");
        assertTrue(line.contains("--tap"), line);
    }

    @Test
    void unknownOptionSuggestsTheRightOne() {
        String line = assertUsageError(run("endpoint", "--tap", "x", "--adr", "198.18.0.2/24"), "stack endpoint");
        assertTrue(line.contains("--adr") && line.contains("did you mean"), line);
    }

    @Test
    void unknownCommandIsOneLine() {
        String line = assertUsageError(run("bogus"), "stack");
        assertTrue(line.contains("bogus"), line);
    }

    @Test
    void noCommandPrintsUsageAndFails() {
        Run r = run();
        assertEquals(Main.USAGE, r.code);
        assertTrue(r.err.startsWith("stack: a command is required"), r.err);
        assertTrue(r.err.contains("endpoint"), r.err);
    }

    // ------------------------------------------------------------------ help

    @Test
    void topHelpListsTheCommands() {
        Run r = run("--help");
        assertEquals(Main.OK, r.code);
        assertTrue(r.out.contains("endpoint") && r.out.contains("demo"), r.out);
        assertTrue(r.out.contains("test") && r.out.contains("launcher"), r.out);
        assertFalse(r.out.contains("router") || r.out.contains("bench"), "only commands that exist: " + r.out);
    }

    @ParameterizedTest
    @ValueSource(strings = {"endpoint", "demo"})
    void everyCommandHasHelpWithExamples(String command) {
        Run r = run(command, "--help");
        assertEquals(Main.OK, r.code);
        assertTrue(r.out.contains("Usage: stack " + command), r.out);
        assertTrue(r.out.contains("Examples:"), r.out);
        assertEquals("", r.err);
    }

    // ------------------------------------------------------------------ helpers of demo

    @Test
    void parsesPingStatistics() {
        DemoCommand.PingStats p = DemoCommand.PingStats.parse(List.of(
                "PING 198.18.0.2 (198.18.0.2) 56(84) bytes of data.",
                "64 bytes from 198.18.0.2: icmp_seq=1 ttl=64 time=0.112 ms",
                "",
                "--- 198.18.0.2 ping statistics ---",
                "5 packets transmitted, 5 received, 0% packet loss, time 812ms",
                "rtt min/avg/max/mdev = 0.046/0.078/0.112/0.023 ms"));
        assertEquals(new DemoCommand.PingStats(5, 5, "0%", "0.046", "0.078", "0.112"), p);

        DemoCommand.PingStats lost = DemoCommand.PingStats.parse(List.of(
                "3 packets transmitted, 0 received, +3 errors, 100% packet loss, time 2030ms"));
        assertEquals(new DemoCommand.PingStats(3, 0, "100%", null, null, null), lost);
        assertNull(DemoCommand.PingStats.parse(List.of("ping: connect: Network is unreachable")));
    }

    @Test
    void readsTheEffectiveUid() {
        assertEquals(1000, Privileges.effectiveUid("Name:\tjava\nUid:\t0\t1000\t0\t0\nGid:\t0\t0\t0\t0\n"));
        assertEquals(-1, Privileges.effectiveUid("Name:\tjava\n"));
        assertTrue(Privileges.effectiveUid() >= 0, "this process's /proc/self/status is readable");
    }

    @Test
    void execStreamsOutputAndEnforcesItsTimeout() {
        Exec exec = new Exec();
        List<String> seen = new ArrayList<>();
        Exec.Result ok = exec.run(Duration.ofSeconds(10), seen::add, "sh", "-c", "echo one; echo two >&2; exit 3");
        assertEquals(List.of("one", "two"), ok.output());
        assertEquals(ok.output(), seen);
        assertEquals(3, ok.exitCode());
        assertFalse(ok.ok());
        assertEquals("two", ok.lastLine());

        long t0 = System.nanoTime();
        Exec.Result slow = exec.quiet(Duration.ofMillis(200), "sleep", "30");
        assertTrue(slow.timedOut());
        assertEquals("timed out after 200 ms", slow.status());
        assertTrue(System.nanoTime() - t0 < Duration.ofSeconds(5).toNanos(), "destroyed, not waited for");

        assertThrows(UserError.class, () -> exec.quiet(Duration.ofSeconds(1), "/nonexistent/program"));
    }

    private static String[] concat(String[] a, String... b) {
        String[] r = new String[a.length + b.length];
        System.arraycopy(a, 0, r, 0, a.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
