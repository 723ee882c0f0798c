package io.flowstack.tools.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.tools.Json;
import io.flowstack.tools.Main;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

/** {@code stack bench} on the command line: parsing, one-line errors and exit codes, and runs on loopback. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class BenchCommandTest {

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

    private static BenchCommand parse(String... args) {
        CommandLine cl = Main.commandLine(new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()));
        CommandLine.ParseResult parsed = cl.parseArgs(args);
        BenchCommand b = (BenchCommand) parsed.subcommand().commandSpec().userObject();
        return b;
    }

    /** Exit 2, one error line naming the command, then the --help hint. */
    private static String assertUsageError(Run r) {
        assertEquals(Main.USAGE, r.code, r.err);
        List<String> lines = r.errLines();
        assertEquals(2, lines.size(), "one error line and one hint line, got:\n" + r.err);
        assertTrue(lines.get(0).startsWith("stack bench: "), lines.get(0));
        assertEquals("Try 'stack bench --help' for more information.", lines.get(1));
        assertEquals("", r.out);
        return lines.get(0);
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Test
    void parsesClientOptions() {
        BenchCommand b = parse("bench", "-c", "198.18.0.2", "--kernel", "-n", "100M", "-P", "4", "-R", "-l", "64Ki");
        BenchSpec s = b.benchSpec();
        assertEquals(BenchSpec.Mode.STREAM, s.mode());
        assertEquals(100_000_000L, s.maxBytes());
        assertEquals(4, s.parallel());
        assertTrue(s.reverse());
        assertEquals(65536, s.length());
        assertEquals(BenchSpec.SAFETY_DURATION.toNanos(), s.durationNanos(), "a count without --duration: 600 s at most");
        assertEquals(5201, s.port());

        s = parse("bench", "-c", "h", "--kernel", "--rr", "64:1Ki", "-t", "500ms", "-p", "6000").benchSpec();
        assertEquals(BenchSpec.Mode.RR, s.mode());
        assertEquals(64, s.requestSize());
        assertEquals(1024, s.responseSize());
        assertEquals(Duration.ofMillis(500).toNanos(), s.durationNanos());
        assertEquals(6000, s.port());

        s = parse("bench", "-c", "h", "--kernel", "--crr").benchSpec();
        assertEquals(BenchSpec.Mode.CRR, s.mode());
        assertEquals(1, s.requestSize());
        assertEquals(1, s.responseSize());
        assertEquals(BenchSpec.DEFAULT_DURATION.toNanos(), s.durationNanos());

        s = parse("bench", "-c", "h", "--kernel", "--crr=100", "--connections", "10k", "-t", "2m").benchSpec();
        assertEquals(100, s.requestSize());
        assertEquals(100, s.responseSize());
        assertEquals(10_000, s.maxConnections());
        assertEquals(Duration.ofMinutes(2).toNanos(), s.durationNanos());
    }

    @Test
    void badCombinationsAreOneLineUsageErrors() {
        assertTrue(assertUsageError(run("bench")).contains("--server, or --client"));
        assertTrue(assertUsageError(run("bench", "-s", "-c", "h", "--kernel")).contains("exclude"));
        assertTrue(assertUsageError(run("bench", "-c", "h")).contains("--kernel"));
        assertTrue(assertUsageError(run("bench", "-c", "h", "--kernel", "--tap", "t0", "--addr", "198.18.0.2/24"))
                .contains("exclude"));
        assertTrue(assertUsageError(run("bench", "-c", "h", "--tap", "t0")).contains("--addr"));
        assertTrue(assertUsageError(run("bench", "-s", "--kernel", "--rr", "1")).contains("client option"));
        assertTrue(assertUsageError(run("bench", "-c", "h", "--kernel", "--rr", "1", "--crr")).contains("exclude"));
        assertTrue(assertUsageError(run("bench", "-c", "h", "--kernel", "--rr", "1", "-n", "1M")).contains("--bytes"));
        assertTrue(assertUsageError(run("bench", "-c", "h", "--kernel", "--connections", "5")).contains("--crr"));
        assertTrue(assertUsageError(run("bench", "-c", "h", "--kernel", "--transactions", "5", "--crr"))
                .contains("--connections"));
        assertTrue(assertUsageError(run("bench", "-c", "h", "--kernel", "--rr", "1", "-R")).contains("--reverse"));
        assertTrue(assertUsageError(run("bench", "-c", "h", "--kernel", "-P", "0")).contains("--parallel"));
        assertTrue(assertUsageError(run("bench", "-c", "h", "--kernel", "--crr", "--connections", "3", "-P", "4"))
                .contains("at least --parallel"));
        assertTrue(assertUsageError(run("bench", "-c", "h", "--kernel", "-P", "129")).contains("--parallel"));
        assertTrue(assertUsageError(run("bench", "-c", "h", "--kernel", "-t", "0")).contains("duration"));
        assertTrue(assertUsageError(run("bench", "-c", "h", "--kernel", "-t", "ten")).contains("not a duration"));
        assertTrue(assertUsageError(run("bench", "-c", "h", "--kernel", "-t", "3", "-O", "3")).contains("--omit"));
        assertTrue(assertUsageError(run("bench", "-c", "h", "--kernel", "--rr", "1:2:3")).contains("REQ:RESP"));
        assertTrue(assertUsageError(run("bench", "-c", "h", "--kernel", "--rr", "0")).contains("1..16777216"));
        assertTrue(assertUsageError(run("bench", "-c", "h", "--kernel", "--rr", "17Mi")).contains("1.."));
        assertTrue(assertUsageError(run("bench", "-c", "h", "--kernel", "-l", "2Mi")).contains("--length"));
        assertTrue(assertUsageError(run("bench", "-c", "h", "--kernel", "-n", "12x")).contains("not a count"));
        assertTrue(assertUsageError(run("bench", "-c", "h", "--kernel", "--cores", "2")).contains("--tap"));
        assertTrue(assertUsageError(run("bench", "-c", "h", "--kernel", "--blocking")).contains("--tap"));
        assertTrue(assertUsageError(run("bench", "-c", "h", "--kernel", "--bind", "127.0.0.1")).contains("--bind"));
        assertTrue(assertUsageError(run("bench", "-c", "h", "--kernel", "-p", "0")).contains("--port"));
        assertTrue(assertUsageError(run("bench", "-c", "h", "--tap", "t0", "--addr", "198.18.0.2/24", "--cores", "0"))
                .contains("--cores"));
        assertTrue(assertUsageError(run("bench", "-c", "h", "--tap", "t0", "--addr", "198.18.0.2/24", "--gateway",
                "198.19.0.1")).contains("--gateway"));
        assertTrue(assertUsageError(run("bench", "-c", "h", "--tap", "t0", "--addr", "198.18.0.2")).contains("prefix"));
        String typo = assertUsageError(run("bench", "-c", "h", "--kernel", "--revers"));
        assertTrue(typo.contains("--revers") && typo.contains("did you mean"), typo);
    }

    @Test
    void helpHasExamplesAndNoWarnings() {
        java.io.PrintStream saved = System.err;
        java.io.ByteArrayOutputStream warnings = new java.io.ByteArrayOutputStream();
        Run r;
        try {
            System.setErr(new java.io.PrintStream(warnings, true));
            r = run("bench", "--help");
        } finally {
            System.setErr(saved);
        }
        assertEquals("", warnings.toString());
        assertEquals(Main.OK, r.code);
        assertTrue(r.out.contains("Usage: stack bench") && r.out.contains("Examples:"), r.out);
        assertTrue(run("--help").out.contains("bench"));
    }

    @Test
    void noServerIsOneLineAndExit1() throws IOException {
        int port = freePort();
        Run r = run("bench", "-c", "127.0.0.1", "-p", Integer.toString(port), "--kernel", "-t", "1");
        assertEquals(Main.FAILURE, r.code, r.err);
        assertEquals(1, r.errLines().size(), r.err);
        assertTrue(r.err.startsWith("stack bench: connect to 127.0.0.1:" + port + ": ") && r.err.contains("refused"), r.err);
        Run j = run("bench", "-c", "127.0.0.1", "-p", Integer.toString(port), "--kernel", "-t", "1", "--json");
        assertEquals(Main.FAILURE, j.code);
        Map<String, Object> o = Json.parseObject(j.out.strip());
        assertEquals(Boolean.FALSE, o.get("ok"));
        assertTrue(String.valueOf(o.get("error")).contains("refused"), j.out);
        Path file = Files.createTempFile("bench-command-test", ".json");
        try {
            Run f = run("bench", "-c", "127.0.0.1", "-p", Integer.toString(port), "--kernel", "-t", "1",
                    "--json-file", file.toString());
            assertEquals(Main.FAILURE, f.code);
            assertEquals(1, f.errLines().size(), f.err);
            Map<String, Object> w = Json.parseObject(Files.readString(file).strip());
            assertEquals(Boolean.FALSE, w.get("ok"));
            assertTrue(String.valueOf(w.get("error")).contains("refused"), w.toString());
        } finally {
            Files.deleteIfExists(file);
        }
    }

    @Test
    void unknownHostIsAnEnvironmentErrorAndABadTapNameAUsageError() {
        Run r = run("bench", "-c", "no-such-host.invalid", "--kernel", "-t", "1");
        assertEquals(Main.USAGE, r.code, r.err);
        assertEquals(1, r.errLines().size(), r.err);
        assertTrue(r.err.contains("unknown host"), r.err);
        // checked while parsing, before anything is opened
        String t = assertUsageError(run("bench", "-s", "--tap", "a-name-much-too-long", "--addr", "198.18.0.2/24"));
        assertTrue(t.contains("--tap") && t.contains("longer than 15 characters"), t);
    }

    @Test
    void busyPortIsOneLineAndExit2() throws IOException {
        try (ServerSocket busy = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            Run r = run("bench", "-s", "--kernel", "--bind", "127.0.0.1", "-p", Integer.toString(busy.getLocalPort()));
            assertEquals(Main.USAGE, r.code, r.err);
            assertEquals(1, r.errLines().size(), r.err);
            assertTrue(r.err.contains("already in use"), r.err);
        }
    }

    @Test
    void serverAndClientCommandsRunOnLoopback() throws Exception {
        int port = freePort();
        CompletableFuture<Run> server = CompletableFuture.supplyAsync(() -> run("bench", "-s", "--kernel", "--bind",
                "127.0.0.1", "-p", Integer.toString(port), "-t", "8", "-i", "0.5"));
        String p = Integer.toString(port);
        Run stream = null;
        for (int attempt = 0; attempt < 50; attempt++) { // until the server listens
            stream = run("bench", "-c", "127.0.0.1", "-p", p, "--kernel", "-n", "20M", "-P", "2", "-i", "200ms");
            if (stream.code == Main.OK || !stream.err.contains("refused")) {
                break;
            }
            Thread.sleep(100);
        }
        assertEquals(Main.OK, stream.code, stream.out + stream.err);
        assertTrue(stream.out.startsWith("flowstack bench: tcp stream client -> server, 2 streams"), stream.out);
        assertTrue(stream.out.contains("summary  20.0 MB in "), stream.out);
        assertTrue(stream.out.contains("server confirmed 20000000 bytes, all 20000000 sent"), stream.out);
        assertTrue(stream.out.contains("result   ok: data verified, 0 errors, stopped by bytes"), stream.out);

        Run rr = run("bench", "-c", "127.0.0.1", "-p", p, "--kernel", "--rr", "32", "--transactions", "500", "-J");
        assertEquals(Main.OK, rr.code, rr.out + rr.err);
        assertEquals(1, rr.out.strip().lines().count(), "--json: one JSON object and nothing else: " + rr.out);
        Map<String, Object> o = Json.parseObject(rr.out);
        assertEquals("rr", o.get("mode"));
        assertEquals(500L, o.get("transactions"));
        assertEquals(Boolean.TRUE, o.get("ok"));
        @SuppressWarnings("unchecked")
        Map<String, Object> lat = (Map<String, Object>) o.get("latency_us");
        for (String k : List.of("count", "min", "mean", "p50", "p90", "p99", "p99_9", "max")) {
            assertTrue(lat.containsKey(k), k + " in " + lat);
        }
        assertEquals(500L, lat.get("count"));

        Path jsonFile = Files.createTempFile("bench-command-test", ".json");
        Run crr;
        Map<String, Object> written;
        try {
            crr = run("bench", "-c", "127.0.0.1", "-p", p, "--kernel", "--crr", "--connections", "200", "-P", "2",
                    "--json-file", jsonFile.toString());
            written = Json.parseObject(Files.readString(jsonFile).strip());
        } finally {
            Files.deleteIfExists(jsonFile);
        }
        assertEquals(Main.OK, crr.code, crr.out + crr.err);
        assertTrue(crr.out.contains("connections/s") && crr.out.contains("summary  200 connections in "),
                "--json-file: the progress lines and the summary stay on stdout: " + crr.out);
        assertTrue(crr.out.contains("latency  connect to response, 200 samples: min "), crr.out);
        assertEquals("crr", written.get("mode"));
        assertEquals(200L, written.get("connections"));
        assertEquals(Boolean.TRUE, written.get("ok"));
        assertEquals(200L, ((Map<?, ?>) written.get("latency_us")).get("count"));

        Run s = server.get(60, TimeUnit.SECONDS);
        assertEquals(Main.OK, s.code, s.out + s.err);
        assertTrue(s.out.startsWith("flowstack bench server: kernel sockets on 127.0.0.1:" + port), s.out);
        // 2 streams + 1 rr connection + 200 crr connections and the client's probe
        assertTrue(s.out.contains("stopped after ") && s.out.contains(": 204 connections, in "), s.out);
        assertTrue(s.out.contains(", 0 errors"), s.out);
    }

    @ParameterizedTest
    @ValueSource(strings = {"10", "2.5", "500ms", "10s", "2m", "1h"})
    void durationsParse(String text) {
        Duration d = new BenchCommand.DurationConverter().convert(text);
        assertTrue(d.toNanos() > 0, text);
    }
}
