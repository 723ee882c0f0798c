package io.flowstack.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.config.StackConfig;
import io.flowstack.core.wire.Ethernet;
import io.flowstack.core.wire.Ipv4;
import io.flowstack.nic.Toeplitz;
import io.flowstack.nic.impair.ImpairmentSpec;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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
    void warmupDefaultsToTwoSecondsAndTakesZeroToThirty() {
        assertEquals(2.0, parseEndpoint("endpoint", "--tap", "fs0", "--addr", "198.18.0.2/24").warmupSeconds);
        assertEquals(0.0, parseEndpoint("endpoint", "--tap", "fs0", "--addr", "198.18.0.2/24", "--warmup", "0")
                .warmupSeconds);
        for (String bad : new String[] {"-1", "31", "NaN"}) {
            String line = assertUsageError(run("endpoint", "--tap", "fs0", "--addr", "198.18.0.2/24", "--warmup", bad),
                    "stack endpoint");
            assertTrue(line.contains("--warmup must be 0..30 seconds"), line);
        }
    }

    @Test
    void parsesServeAndDefaults() {
        EndpointCommand e = parseEndpoint("endpoint", "--tap", "fs0", "--addr", "198.18.0.2/24",
                "--serve", "udp-echo:7", "--serve", "UDP-ECHO:9");
        assertEquals("fs0", e.tap);
        assertEquals(new Ipv4Prefix(Ipv4.parse("198.18.0.2"), 24), e.addr);
        assertEquals(List.of(new ServiceSpec(ServiceSpec.Kind.UDP_ECHO, 7), new ServiceSpec(ServiceSpec.Kind.UDP_ECHO, 9)),
                e.serve);
        assertEquals(Math.min(Runtime.getRuntime().availableProcessors(), 64), e.stackOptions.cores);
        e.validate();
        StackConfig c = e.config();
        assertEquals("02:00:c6:12:00:02", Ethernet.macToString(c.mac));
        assertEquals(Ipv4.parse("198.18.0.2"), c.address);
        assertEquals(24, c.prefixLength);
        assertEquals(0, c.gateway);
        // pinned only if the netisrs leave CPUs free; --cores defaults to every CPU
        assertEquals(e.stackOptions.cores < Runtime.getRuntime().availableProcessors(), c.pinThreads);
        assertFalse(c.busyPoll);
        assertEquals("cubic", c.tcpCongestionControl);
        assertNull(e.impair);
        assertEquals("flowstack endpoint: tap fs0 198.18.0.2/24 mac 02:00:c6:12:00:02 cores " + e.stackOptions.cores
                + ", tcp cc cubic, serving udp-echo:7 udp-echo:9 (Ctrl-C to stop)", e.banner("fs0", c));
    }

    @Test
    void parsesTcpServicesCongestionControlAndImpairment() {
        EndpointCommand e = parseEndpoint("endpoint", "--tap", "fs0", "--addr", "198.18.0.2/24", "--cores", "2",
                "--serve", "http:80", "--serve", "echo:7", "--serve", "discard:9", "--serve", "Chargen:19",
                "--serve", "udp-echo:7", "--cc", "NewReno", "--impair", "loss=1%,delay=2ms,dir=rx,seed=3");
        e.validate();
        assertEquals(List.of(new ServiceSpec(ServiceSpec.Kind.HTTP, 80), new ServiceSpec(ServiceSpec.Kind.ECHO, 7),
                new ServiceSpec(ServiceSpec.Kind.DISCARD, 9), new ServiceSpec(ServiceSpec.Kind.CHARGEN, 19),
                new ServiceSpec(ServiceSpec.Kind.UDP_ECHO, 7)), e.serve);
        StackConfig c = e.config();
        assertEquals("newreno", c.tcpCongestionControl);
        assertEquals(ImpairmentSpec.parse("loss=1%,delay=2ms,dir=rx,seed=3"), e.impair);
        assertTrue(e.impairs());
        assertEquals("flowstack endpoint: tap fs0 198.18.0.2/24 mac 02:00:c6:12:00:02 cores 2, tcp cc newreno, "
                + "impaired loss=1%,delay=2ms,seed=3,dir=rx, serving http:80 echo:7 discard:9 chargen:19 udp-echo:7 "
                + "(Ctrl-C to stop)", e.banner("fs0", c));

        EndpointCommand none = parseEndpoint("endpoint", "--tap", "fs0", "--addr", "198.18.0.2/24", "--impair", "");
        assertFalse(none.impairs(), "an empty spec impairs nothing: the TAP is not wrapped");
    }

    @Test
    void badImpairmentOrCongestionControlIsOneLine() {
        String[] base = {"endpoint", "--tap", "x", "--addr", "198.18.0.2/24"};
        String line = assertUsageError(run(concat(base, "--impair", "loss=5")), "stack endpoint");
        assertTrue(line.contains("--impair") && line.contains("loss=5") && line.contains("5%"), line);
        line = assertUsageError(run(concat(base, "--impair", "bogus=1")), "stack endpoint");
        assertTrue(line.contains("unknown key 'bogus'") && line.contains("accepted keys"), line);
        line = assertUsageError(run(concat(base, "--impair", "reorder=5%")), "stack endpoint");
        assertTrue(line.contains("needs a delay"), line);
        line = assertUsageError(run(concat(base, "--cc", "bbr")), "stack endpoint");
        assertTrue(line.contains("--cc") && line.contains("cubic or newreno"), line);
    }

    /** Issue 13 point 9: {@code --rss-key} is the devices' and the flow hash's key; random without it. */
    @Test
    void rssKeyIsGivenInHexOrChosenAtRandomAndABadOneIsOneLine() {
        String[] base = {"endpoint", "--tap", "x", "--addr", "198.18.0.2/24"};
        String hex = "6d:5a:".repeat(19) + "6d:5a";
        EndpointCommand given = parseEndpoint(concat(base, "--rss-key", hex));
        given.validate();
        assertEquals(Toeplitz.WOO_PARK, given.stackOptions.rssKey());
        EndpointCommand one = parseEndpoint(base);
        EndpointCommand two = parseEndpoint(base);
        EndpointCommand three = parseEndpoint(base);
        assertSame(one.stackOptions.rssKey(), one.stackOptions.rssKey(), "chosen once: a router's interfaces share it");
        assertTrue(new java.util.HashSet<>(List.of(one.stackOptions.rssKey(), two.stackOptions.rssKey(),
                three.stackOptions.rssKey())).size() > 1, "chosen at random per run");
        for (String bad : List.of("6d5a".repeat(19), "6d5a".repeat(19) + "6d5b", "ffff".repeat(20), "xyz")) {
            String line = assertUsageError(run(concat(base, "--rss-key", bad)), "stack endpoint");
            assertTrue(line.contains("--rss-key") && line.contains("RSS key"), line);
        }
        String replay = assertUsageError(run("replay", "--addr", "198.18.0.2/24", "--rss-key", "6d5a".repeat(20),
                "in.pcap"), "stack replay");
        assertTrue(replay.contains("--rss-key"), replay);
    }

    @Test
    void threadsArePinnedWhenTheyLeaveCpusFreeUnlessTold() {
        int cpus = Runtime.getRuntime().availableProcessors();
        String[] base = {"endpoint", "--tap", "fs1", "--addr", "198.19.0.2/16"};
        assertEquals(1 < cpus, parseEndpoint(concat(base, "--cores", "1")).config().pinThreads);
        assertFalse(parseEndpoint(concat(base, "--cores", Integer.toString(cpus))).config().pinThreads,
                "netisrs on every CPU: the scheduler places them");
        assertTrue(parseEndpoint(concat(base, "--cores", Integer.toString(cpus), "--pin")).config().pinThreads);
        assertFalse(parseEndpoint(concat(base, "--cores", "1", "--no-pin")).config().pinThreads);
        EndpointCommand both = parseEndpoint(concat(base, "--pin", "--no-pin"));
        assertThrows(picocli.CommandLine.ParameterException.class, both::validate);
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

    @Test
    void portsAreUniquePerProtocol() {
        String[] base = {"endpoint", "--tap", "x", "--addr", "198.18.0.2/24"};
        String line = assertUsageError(run(concat(base, "--serve", "echo:7", "--serve", "http:7")), "stack endpoint");
        assertTrue(line.contains("--serve http:7: TCP port 7 is given twice"), line);
        line = assertUsageError(run(concat(base, "--serve", "http:80", "--serve", "HTTP:80")), "stack endpoint");
        assertTrue(line.contains("TCP port 80 is given twice"), line);
        // TCP 7 and UDP 7 are different ports
        EndpointCommand e = parseEndpoint(concat(base, "--serve", "echo:7", "--serve", "udp-echo:7"));
        e.validate();
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
        for (String spec : new String[] {"udp-echo", "udp-echo:0", "udp-echo:65536", "udp-echo:x", "ftp:21", "",
            "http", "http:0", "echo:99999", "chargen:-1", "discard:9x", "tcp:80"}) {
            String line = assertUsageError(run("endpoint", "--tap", "x", "--addr", "198.18.0.2/24", "--serve", spec),
                    "stack endpoint");
            assertTrue(line.contains("--serve"), line);
        }
        String line = assertUsageError(run("endpoint", "--tap", "x", "--addr", "198.18.0.2/24", "--serve", "ftp:21"),
                "stack endpoint");
        assertTrue(line.contains("not a known service") && line.contains("http:PORT") && line.contains("chargen:PORT"),
                line);
        line = assertUsageError(run("endpoint", "--tap", "x", "--addr", "198.18.0.2/24", "--serve",
                "metrics:9100,allow=198.18.0.9/24"), "stack endpoint");
        assertTrue(line.contains("--serve") && line.contains("has host bits set: write 198.18.0.0/24"), line);
        line = assertUsageError(run("router", "--if", "tap:r0=198.18.1.1/24", "--if", "tap:r1=198.18.2.1/24", "--serve",
                "metrics:9100,allow=198.18.1.0/24,timeout=forever"), "stack router");
        assertTrue(line.contains("timeout=forever is not a duration"), line);
        EndpointCommand e = parseEndpoint("endpoint", "--tap", "x", "--addr", "198.18.0.2/24", "--serve",
                "metrics:9100,allow=198.18.0.0/24,allow=10.0.0.0/8");
        assertEquals("metrics:9100,allow=198.18.0.0/24,allow=10.0.0.0/8", e.serve.get(0).toString(),
                "one --serve keeps its commas");
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
        assertTrue(r.out.contains("bench"), r.out);
        assertTrue(r.out.contains("router") && r.out.contains("route "), "the router and its routes: " + r.out);
    }

    @ParameterizedTest
    @ValueSource(strings = {"endpoint", "router", "route", "demo", "bench"})
    void everyCommandHasHelpWithExamples(String command) {
        java.io.PrintStream saved = System.err;
        java.io.ByteArrayOutputStream warnings = new java.io.ByteArrayOutputStream();
        Run r;
        try {
            System.setErr(new java.io.PrintStream(warnings, true));
            r = run(command, "--help");
        } finally {
            System.setErr(saved);
        }
        assertEquals("", warnings.toString(), "picocli warnings (an unescaped % in a description?)");
        assertEquals(Main.OK, r.code);
        assertTrue(r.out.contains("Usage: stack " + command), r.out);
        assertTrue(r.out.contains("Examples:"), r.out);
        assertEquals("", r.err);
    }

    // ------------------------------------------------------------------ helpers of demo

    @Test
    void patternShaMatchesTheServicesPattern() throws Exception {
        byte[] body = new byte[1_234_567];
        for (int i = 0; i < body.length; i++) {
            body[i] = io.flowstack.services.HttpService.patternByte(i);
        }
        assertEquals(java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(body)),
                DemoCommand.patternSha256(body.length));
    }

    @Test
    void parsesCurlOutput() {
        DemoCommand.HttpOutcome o = DemoCommand.HttpOutcome.parse(List.of(
                "a3f1c0ffee00000000000000000000000000000000000000000000000000beef  -",
                "curl: http 200 size 10000000 time 0.123456 speed 81000000"));
        assertEquals(new DemoCommand.HttpOutcome(200, 10_000_000, 0.123456, 81_000_000,
                "a3f1c0ffee00000000000000000000000000000000000000000000000000beef"), o);
        DemoCommand.HttpOutcome failed = DemoCommand.HttpOutcome.parse(List.of(
                "curl: (7) Failed to connect to 198.18.0.2 port 80",
                "curl: http 000 size 0 time 0.001 speed 0",
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  -"));
        assertEquals(0, failed.status());
        assertNull(DemoCommand.HttpOutcome.parse(List.of("sh: 1: curl: not found")));
    }

    @Test
    void summarisesTheBenchRunsAndTheFigures() {
        Map<String, Object> stream = Json.parseObject("{\"mode\":\"stream\",\"parallel\":2,"
                + "\"seconds\":5.01,\"bytes\":2123235328,\"bits_per_second\":3.39e9,\"errors\":0,\"verified\":true,"
                + "\"ok\":true,\"problems\":[]}");
        Map<String, Object> crr = Json.parseObject("{\"mode\":\"crr\",\"parallel\":2,"
                + "\"seconds\":5.0,\"connections\":48139,\"connections_per_second\":9627.8,\"errors\":0,"
                + "\"verified\":true,\"ok\":true,\"problems\":[],\"latency_us\":{\"count\":48139,\"p50\":122.1,"
                + "\"p99\":1480.0}}");
        assertEquals("2.12 GB in 5.01 s = 3.39 Gbit/s, data verified", DemoCommand.benchDetail(stream));
        assertEquals("48139 connections in 5.00 s = 9628/s, p50 122 us p99 1.48 ms, data verified",
                DemoCommand.benchDetail(crr));
        Map<String, Object> partial = Json.parseObject("{\"mode\":\"stream\",\"seconds\":1.2,"
                + "\"bytes\":351000000,\"bits_per_second\":2.34e9,\"errors\":1,\"verified\":false,"
                + "\"problems\":[\"connection 1: reset\"]}");
        assertEquals("351 MB in 1.20 s = 2.34 Gbit/s, DATA NOT VERIFIED, 1 failed connection; connection 1: reset",
                DemoCommand.benchDetail(partial));

        DemoCommand.HttpOutcome http = new DemoCommand.HttpOutcome(200, 100_000_000, 0.8, 125_000_000, "x");
        List<String> all = DemoCommand.figureLines(http, stream, crr);
        assertEquals(4, all.size(), all.toString());
        assertTrue(all.get(0).matches("  throughput +3\\.39 Gbit/s +kernel -> stack, 2 TCP streams for 5\\.01 s .*"),
                all.get(0));
        assertTrue(all.get(1).matches(" +1\\.00 Gbit/s +stack -> kernel, one HTTP download of 100 MB in 0\\.80 s .*"),
                all.get(1));
        assertTrue(all.get(2).matches("  connections/s +9628 +connect, .*"), all.get(2));
        assertTrue(all.get(3).matches("  latency +p50 122 us, p99 1\\.48 ms +connect to response, over 48139 connections"),
                all.get(3));
        List<String> none = DemoCommand.figureLines(null, null, null);
        assertEquals(3, none.size(), none.toString());
        for (String l : none) {
            assertTrue(l.matches("  \\S+ +- .*"), l);
        }
    }

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
    void readsTheEffectiveUidAndCapabilities() {
        assertEquals(1000, Privileges.effectiveUid("Name:\tjava\nUid:\t0\t1000\t0\t0\nGid:\t0\t0\t0\t0\n"));
        assertEquals(-1, Privileges.effectiveUid("Name:\tjava\n"));
        assertTrue(Privileges.effectiveUid() >= 0, "this process's /proc/self/status is readable");
        String status = "Uid:\t0\t0\t0\t0\nCapInh:\t0000000000000000\nCapEff:\t000001fffedfefff\n";
        long caps = Privileges.effectiveCapabilities(status);
        assertEquals(0x1fffedfefffL, caps);
        assertFalse(Privileges.has(caps, Privileges.CAP_NET_ADMIN));
        assertFalse(Privileges.has(caps, Privileges.CAP_SYS_ADMIN));
        assertTrue(Privileges.has(caps, 0)); // CAP_CHOWN
        long all = Privileges.effectiveCapabilities("CapEff:\t000001ffffffffff\n");
        assertTrue(Privileges.has(all, Privileges.CAP_NET_ADMIN) && Privileges.has(all, Privileges.CAP_SYS_ADMIN));
        assertEquals(-1, Privileges.effectiveCapabilities("Name:\tjava\n"));
        assertFalse(Privileges.has(-1, Privileges.CAP_NET_ADMIN));
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
