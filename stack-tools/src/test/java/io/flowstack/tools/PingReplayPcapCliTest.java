package io.flowstack.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.config.StackConfig;
import io.flowstack.core.wire.Ethernet;
import io.flowstack.core.wire.Ipv4;
import io.flowstack.nic.pcap.PcapSpec;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

/** {@code ping}, {@code replay} and {@code endpoint --pcap*} on the command line, without root. */
class PingReplayPcapCliTest {

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

    /** Exit 2, one line naming the command and what is wrong, then the --help hint. */
    private static String usageError(Run r, String command) {
        assertEquals(Main.USAGE, r.code, r.err);
        List<String> lines = r.errLines();
        assertEquals(2, lines.size(), r.err);
        assertTrue(lines.get(0).startsWith(command + ": "), lines.get(0));
        assertEquals("Try '" + command + " --help' for more information.", lines.get(1));
        return lines.get(0);
    }

    private static <T> T parse(Class<T> type, String... args) {
        CommandLine cl = Main.commandLine(new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()));
        return type.cast(cl.parseArgs(args).subcommand().commandSpec().userObject());
    }

    @ParameterizedTest
    @ValueSource(strings = {"ping", "replay"})
    void helpHasExamplesAndNoWarnings(String command) {
        java.io.PrintStream saved = System.err;
        java.io.ByteArrayOutputStream warnings = new java.io.ByteArrayOutputStream();
        Run r;
        try {
            System.setErr(new java.io.PrintStream(warnings, true));
            r = run(command, "--help");
        } finally {
            System.setErr(saved);
        }
        assertEquals("", warnings.toString(), "picocli warnings");
        assertEquals(Main.OK, r.code);
        assertTrue(r.out.contains("Usage: stack " + command), r.out);
        assertTrue(r.out.contains("Examples:"), r.out);
        assertTrue(r.out.contains("./stack " + command + " "), r.out);
        assertEquals("", r.err);
    }

    @Test
    void theTopHelpListsPingAndReplay() {
        Run r = run("--help");
        assertTrue(r.out.contains("ping") && r.out.contains("replay"), r.out);
    }

    // ------------------------------------------------------------------ ping

    @Test
    void pingDefaultsAreIputils() {
        PingCommand p = parse(PingCommand.class, "ping", "--tap", "t0", "--addr", "198.18.0.2/24", "198.18.0.1");
        assertNull(p.count);
        assertEquals(1.0, p.interval);
        assertEquals(56, p.size);
        assertEquals(10.0, p.timeout);
        assertEquals(1, p.stackOptions.cores);
        PingCommand q = parse(PingCommand.class, "ping", "--tap", "t0", "--addr", "198.18.0.2/24", "-c", "3", "-i",
                "0.2", "-s", "4000", "-W", "2", "198.18.0.1");
        assertEquals(3, q.count);
        assertEquals(0.2, q.interval);
        assertEquals(4000, q.size);
        assertEquals(2.0, q.timeout);
    }

    @Test
    void pingRefusesWhatCannotWork() {
        String[] base = {"ping", "--tap", "t0", "--addr", "198.18.0.2/24"};
        assertTrue(usageError(run(base), "stack ping").contains("DEST"));
        assertTrue(usageError(run(cat(base, "-s", "65508", "198.18.0.1")), "stack ping").contains("--size"));
        assertTrue(usageError(run(cat(base, "-c", "0", "198.18.0.1")), "stack ping").contains("--count"));
        assertTrue(usageError(run(cat(base, "-i", "0", "198.18.0.1")), "stack ping").contains("--interval"));
        assertTrue(usageError(run(cat(base, "198.18.0.2")), "stack ping").contains("own address"));
        assertTrue(usageError(run(cat(base, "198.18.0.255")), "stack ping").contains("broadcast"));
        assertTrue(usageError(run(cat(base, "10.1.2.3")), "stack ping").contains("no route to 10.1.2.3"));
        assertTrue(usageError(run(cat(base, "--gateway", "10.0.0.1", "10.1.2.3")), "stack ping")
                .contains("not on the subnet"));
        assertTrue(usageError(run(cat(base, "1.2.3")), "stack ping").contains("not an IPv4 address"));
    }

    @Test
    void pingFormatsLikeIputils() {
        assertEquals("0.045", PingCommand.formatRtt(0.0451));
        assertEquals("2.39", PingCommand.formatRtt(2.387));
        assertEquals("14.8", PingCommand.formatRtt(14.83));
        assertEquals("123", PingCommand.formatRtt(123.4));
        assertEquals("0", PingCommand.percent(0));
        assertEquals("100", PingCommand.percent(100));
        assertEquals("33.3333", PingCommand.percent(100.0 / 3));
        assertEquals("10", PingCommand.percent(10));
        assertEquals("Destination Host Unreachable", PingCommand.errorText(3, 1));
        assertEquals("Time to live exceeded", PingCommand.errorText(11, 0));
    }

    // ------------------------------------------------------------------ replay

    @Test
    void replayNeedsAnAddressAndAReadableFile() {
        assertTrue(usageError(run("replay", "x.pcap"), "stack replay").contains("--addr"));
        Run r = run("replay", "/nonexistent/x.pcap", "--addr", "198.18.0.2/24");
        assertEquals(Main.USAGE, r.code);
        assertEquals(List.of("stack replay: cannot read /nonexistent/x.pcap: no such file"), r.errLines());
        assertTrue(usageError(run("replay", "x.pcap", "--addr", "198.18.0.2/24", "--out", "x.pcap"), "stack replay")
                .contains("is the capture being replayed"));
        assertTrue(usageError(run("replay", "x.pcap", "--addr", "198.18.0.2/24", "--cores", "0"), "stack replay")
                .contains("--cores"));
    }

    @Test
    void replayTakesTheStackOptionsOfEndpointButNoThreadOptions() {
        String[] base = {"replay", "x.pcap", "--addr", "198.18.0.2/24"};
        ReplayCommand d = parse(ReplayCommand.class, base);
        d.validate();
        StackConfig c = d.config(() -> 0L);
        assertEquals(1, c.cores);
        assertEquals(1500, c.mtu);
        assertEquals("02:00:c6:12:00:02", Ethernet.macToString(c.mac));
        assertEquals("cubic", c.tcpCongestionControl);
        assertFalse(c.pinThreads);

        ReplayCommand g = parse(ReplayCommand.class, cat(base, "--gateway", "198.18.0.1", "--cores", "2", "--mac",
                "02:00:00:00:01:02", "--mtu", "9000", "--cc", "NewReno"));
        g.validate();
        c = g.config(() -> 0L);
        assertEquals(Ipv4.parse("198.18.0.1"), c.gateway);
        assertEquals(2, c.cores);
        assertEquals("02:00:00:00:01:02", Ethernet.macToString(c.mac));
        assertEquals(9000, c.mtu);
        assertEquals("newreno", c.tcpCongestionControl);

        // endpoint's checks and messages
        assertTrue(usageError(run(cat(base, "--gateway", "198.18.0.2")), "stack replay")
                .contains("--gateway 198.18.0.2 is the stack's own address"));
        assertTrue(usageError(run(cat(base, "--gateway", "198.19.0.1")), "stack replay")
                .contains("is not on the subnet of --addr"));
        assertTrue(usageError(run(cat(base, "--cc", "bbr")), "stack replay").contains("cubic or newreno"));
        // a threadless stack: nothing to pin or busy-poll
        for (String o : ThreadOptions.NAMES) {
            assertEquals("stack replay: Unknown option: '" + o + "'", usageError(run(cat(base, o)), "stack replay"));
        }
    }

    // ------------------------------------------------------------------ endpoint --pcap

    @Test
    void endpointPcapOptionsBecomeASpec() {
        String[] base = {"endpoint", "--tap", "t0", "--addr", "198.18.0.2/24"};
        assertNull(parse(EndpointCommand.class, base).pcapSpec());
        EndpointCommand e = parse(EndpointCommand.class, cat(base, "--pcap", "/tmp/a.pcap", "--pcap-size", "100",
                "--pcap-files", "5"));
        PcapSpec s = e.pcapSpec();
        assertEquals(Path.of("/tmp/a.pcap"), s.file());
        assertEquals(100_000_000L, s.fileBytes());
        assertEquals(5, s.files());
        assertEquals(PcapSpec.Direction.BOTH, s.direction());
        assertEquals(Path.of("/tmp/a.pcap4"), s.fileName(9));
        assertEquals(PcapSpec.DEFAULT_RING_BYTES, s.ringBytes());
        assertEquals(64 << 20, parse(EndpointCommand.class, cat(base, "--pcap", "/tmp/a.pcap", "--pcap-buffer", "64"))
                .pcapSpec().ringBytes());

        e = parse(EndpointCommand.class, cat(base, "--pcap", "/tmp/b.pcap", "--pcap-size", "0.5"));
        assertEquals(500_000L, e.pcapSpec().fileBytes());
        assertEquals(0, e.pcapSpec().files());
        assertTrue(e.banner("t0", e.config()).contains("capturing to /tmp/b.pcap"), e.banner("t0", e.config()));
    }

    @Test
    void endpointPcapOptionErrorsAreOneLine() {
        String[] base = {"endpoint", "--tap", "t0", "--addr", "198.18.0.2/24"};
        assertTrue(usageError(run(cat(base, "--pcap-size", "10")), "stack endpoint").contains("needs --pcap FILE"));
        assertTrue(usageError(run(cat(base, "--pcap-buffer", "10")), "stack endpoint").contains("needs --pcap FILE"));
        assertTrue(usageError(run(cat(base, "--pcap", "a.pcap", "--pcap-buffer", "0")), "stack endpoint")
                .contains("--pcap-buffer must be 1..1024"));
        assertTrue(usageError(run(cat(base, "--pcap", "a.pcap", "--pcap-files", "3")), "stack endpoint")
                .contains("--pcap-files needs --pcap-size"));
        assertTrue(usageError(run(cat(base, "--pcap", "a.pcap", "--pcap-size", "0.001")), "stack endpoint")
                .contains("too small"));
        assertTrue(usageError(run(cat(base, "--pcap", "a.pcap", "--pcap-size", "-1")), "stack endpoint")
                .contains("positive"));
        assertTrue(usageError(run(cat(base, "--pcap", "a.pcap", "--pcap-size", "1", "--pcap-files", "0")),
                "stack endpoint").contains("--pcap-files must be"));
    }

    private static String[] cat(String[] a, String... b) {
        String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
