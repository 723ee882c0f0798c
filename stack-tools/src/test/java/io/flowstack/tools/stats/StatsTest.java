package io.flowstack.tools.stats;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.FlowStack;
import io.flowstack.core.config.StackConfig;
import io.flowstack.core.stats.ConnectionQuery;
import io.flowstack.core.stats.StackSnapshot;
import io.flowstack.core.stats.Stat;
import io.flowstack.services.HttpService;
import io.flowstack.services.MetricsService;
import io.flowstack.core.socket.StackException;
import io.flowstack.core.socket.TcpConnection;
import io.flowstack.core.stats.TcpConnectionInfo;
import io.flowstack.core.wire.Ipv4;
import io.flowstack.nic.MemoryWire;
import io.flowstack.tools.Json;
import io.flowstack.tools.Main;
import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code stack stats} without root or a kernel: two threaded stacks joined by a {@link MemoryWire}
 * (a 2-core server at 198.18.0.2 with HTTP on 80 and metrics on 9100, a 1-core client at
 * 198.18.0.1 holding one HTTP connection open), the snapshot's text, JSON and Prometheus
 * renderings, the metrics service over HTTP, the control socket protocol and the command line.
 */
@Timeout(120)
class StatsTest {
    static final int SERVER = Ipv4.parse("198.18.0.2");
    static final long CLIENT_MAC = 0x02_00_00_00_00_01L;
    private static final Pattern SAMPLE = Pattern.compile(
            "([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{([a-zA-Z_][a-zA-Z0-9_]*=\"(?:[^\"\\\\\\n]|\\\\.)*\"(,[a-zA-Z_][a-zA-Z0-9_]*=\"(?:[^\"\\\\\\n]|\\\\.)*\")*)?\\})? (?<value>-?\\d+)");

    static MemoryWire wire;
    static FlowStack server;
    static FlowStack client;
    static HttpService http;
    static MetricsService metrics;
    static TcpConnection held;

    @TempDir
    static Path dir;

    @BeforeAll
    static void start() {
        MemoryWire w = MemoryWire.create(2, 4 << 20);
        wire = w;
        server = FlowStack.start(StackConfig.builder().cores(2).address(SERVER).prefixLength(24)
                .mac(0x02_00_00_00_00_02L).gateway(Ipv4.parse("198.18.0.254")).pinThreads(false).build(), w.b());
        client = FlowStack.start(StackConfig.builder().cores(2).address(Ipv4.parse("198.18.0.1")).prefixLength(24)
                .mac(CLIENT_MAC).pinThreads(false).build(), w.a());
        http = new HttpService(server, 80);
        metrics = new MetricsService(server, 9100);
        held = client.tcpConnect(SERVER, 80, 5, TimeUnit.SECONDS);
        held.readTimeout(10, TimeUnit.SECONDS);
        held.writeTimeout(10, TimeUnit.SECONDS);
        String response = exchange(held, "GET /bytes/100000 HTTP/1.1\r\nHost: x\r\n\r\n", 100_000);
        assertTrue(response.startsWith("HTTP/1.1 200"), response.substring(0, Math.min(100, response.length())));
    }

    @AfterAll
    static void stop() {
        if (held != null) {
            held.abort();
        }
        if (metrics != null) {
            metrics.close();
        }
        if (http != null) {
            http.close();
        }
        if (client != null) {
            client.close();
        }
        if (server != null) {
            server.close();
        }
        if (wire != null) {
            wire.close();
        }
    }

    /** Writes {@code request}, reads the head and {@code body} bytes (or to EOF when body < 0). */
    static String exchange(TcpConnection c, String request, int body) {
        byte[] q = request.getBytes(StandardCharsets.ISO_8859_1);
        c.write(q, 0, q.length);
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        byte[] buf = new byte[65536];
        int headEnd = -1;
        while (true) {
            String sofar = all.toString(StandardCharsets.ISO_8859_1);
            if (headEnd < 0) {
                headEnd = sofar.indexOf("\r\n\r\n");
            }
            if (headEnd >= 0 && body >= 0 && all.size() >= headEnd + 4 + body) {
                return sofar;
            }
            if (headEnd >= 0 && body < 0) {
                Matcher m = Pattern.compile("(?i)content-length: (\\d+)").matcher(sofar.substring(0, headEnd));
                if (m.find() && all.size() >= headEnd + 4 + Integer.parseInt(m.group(1))) {
                    return sofar;
                }
            }
            int n = c.read(buf, 0, buf.length);
            if (n < 0) {
                return all.toString(StandardCharsets.UTF_8);
            }
            all.write(buf, 0, n);
        }
    }

    /** The client's local port of the held connection. */
    static int heldPort() {
        return held.localPort();
    }

    /**
     * Checks {@code text} against the Prometheus text format 0.0.4 (every line a comment or a
     * sample; HELP and TYPE once per family and before its samples; counters end in _total) and
     * returns the samples by {@code name{labels}}.
     */
    static Map<String, Long> parsePrometheus(String text) {
        Map<String, Long> samples = new HashMap<>();
        Set<String> helped = new HashSet<>();
        Map<String, String> typed = new HashMap<>();
        assertTrue(text.endsWith("\n"), "ends with a line feed");
        for (String line : text.split("\n")) {
            if (line.startsWith("# HELP ")) {
                String[] p = line.split(" ", 4);
                assertTrue(helped.add(p[2]), "HELP twice for " + p[2]);
                assertEquals(4, p.length, line);
            } else if (line.startsWith("# TYPE ")) {
                String[] p = line.split(" ");
                assertEquals(4, p.length, line);
                assertTrue(Set.of("counter", "gauge").contains(p[3]), line);
                assertTrue(helped.contains(p[2]), "TYPE before HELP: " + line);
                assertNull(typed.put(p[2], p[3]), "TYPE twice: " + line);
            } else {
                Matcher m = SAMPLE.matcher(line);
                assertTrue(m.matches(), () -> "not a sample line: '" + line + "'");
                String family = m.group(1);
                assertTrue(typed.containsKey(family), "sample before its TYPE: " + line);
                if (typed.get(family).equals("counter")) {
                    assertTrue(family.endsWith("_total"), line);
                }
                String key = family + (m.group(2) == null ? "" : m.group(2));
                assertNull(samples.put(key, Long.parseLong(m.group("value"))), "duplicate sample " + key);
            }
        }
        return samples;
    }

    // ------------------------------------------------------------------ snapshot and formats

    @Test
    void snapshotSeesTheConnectionOnItsOwner() {
        StackSnapshot s = server.snapshot();
        assertEquals(2, s.cores().size());
        List<TcpConnectionInfo> conns = s.connections();
        TcpConnectionInfo t = conns.stream().filter(c -> c.remotePort() == heldPort()).findFirst().orElseThrow(
                () -> new AssertionError("held connection not in " + conns));
        assertEquals("ESTABLISHED", t.state());
        assertEquals(80, t.localPort());
        assertEquals(SERVER, t.localAddress());
        assertEquals(Ipv4.parse("198.18.0.1"), t.remoteAddress());
        assertEquals(server.coreFor(SERVER, Ipv4.parse("198.18.0.1"), 80, heldPort()), t.core());
        assertTrue(t.bytesOut() >= 100_000, "bytes out " + t.bytesOut());
        assertTrue(t.bytesIn() > 0);
        assertTrue(t.srttNanos() > 0 && t.rtoNanos() > 0 && t.cwnd() > 0 && t.mss() > 0, t.toString());
        assertEquals("cubic", t.congestionControl());
        assertTrue(s.total(Stat.RX_FRAMES) > 0);
        assertEquals(s.total(Stat.TCP_PASSIVE_OPENS), server.total(Stat.TCP_PASSIVE_OPENS));
        assertTrue(s.cores().stream().anyMatch(c -> c.arp().stream().anyMatch(e -> e.mac() == CLIENT_MAC)));
    }

    @Test
    void textReportHasEveryTable() {
        String text = StatsFormat.text(server.snapshot());
        assertTrue(text.startsWith("flowstack " + server.nic().name() + ": "), text);
        assertTrue(text.contains("198.18.0.2/24 mac 02:00:00:00:00:02"), text);
        assertTrue(Pattern.compile("(?m)^  rx_frames +\\d+ +\\d+ +[1-9]\\d*$").matcher(text).find(), text);
        assertTrue(Pattern.compile("(?m)^  tcp_passive_opens +\\d+ +\\d+ +[1-9]\\d*$").matcher(text).find(), text);
        assertFalse(Pattern.compile("(?m)^  internal_error ").matcher(text).find(), text);
        assertTrue(text.contains("(drops, all reasons)"), text);
        assertTrue(Pattern.compile("(?m)^  ESTABLISHED +198\\.18\\.0\\.2:80 +198\\.18\\.0\\.1:" + heldPort() + " +[01]$")
                .matcher(text).find(), text);
        assertTrue(Pattern.compile("(?m)^\\t cubic rtt:\\d+\\.\\d{3}/\\d+\\.\\d{3} rto:\\d+\\.\\d{3} mss:\\d+ cwnd:\\d+ "
                + "ssthresh:(-|\\d+) snd_wnd:\\d+ unacked:\\d+ bytes_sent:\\d+ bytes_received:\\d+ retrans:\\d+$")
                .matcher(text).find(), text);
        assertTrue(Pattern.compile("(?m)^  198\\.18\\.0\\.1 +02:00:00:00:00:01 +REACHABLE +\\d+\\.\\d s +\\d+  [01](,[01])?$")
                .matcher(text).find(), text);
        assertTrue(Pattern.compile("(?m)^  198\\.18\\.0\\.0/24 +- +\\S+ +198\\.18\\.0\\.2 +connected$").matcher(text).find(), text);
        assertTrue(Pattern.compile("(?m)^  default +198\\.18\\.0\\.254 +\\S+ +198\\.18\\.0\\.2 +gateway$").matcher(text).find(), text);
    }

    @Test
    void theTextReportCountsTimeWaitEntriesPerCoreAndTheOnesEndedEarly() {
        long[] c0 = new long[Stat.values().length];
        long[] c1 = new long[Stat.values().length];
        c1[Stat.TCP_TIME_WAIT_OVERFLOW.ordinal()] = 7;
        TcpConnectionInfo tw0 = new TcpConnectionInfo(0, "TIME_WAIT", SERVER, 80, Ipv4.parse("198.18.0.9"), 40000,
                0, 0, 0, 0, 0, Integer.MAX_VALUE / 2, 0, 0, 0, 0, 0, null);
        TcpConnectionInfo tw1 = new TcpConnectionInfo(1, "TIME_WAIT", SERVER, 80, Ipv4.parse("198.18.0.9"), 40001,
                0, 0, 0, 0, 0, Integer.MAX_VALUE / 2, 0, 0, 0, 0, 0, null);
        TcpConnectionInfo tw2 = new TcpConnectionInfo(1, "TIME_WAIT", SERVER, 80, Ipv4.parse("198.18.0.9"), 40002,
                0, 0, 0, 0, 0, Integer.MAX_VALUE / 2, 0, 0, 0, 0, 0, null);
        StackSnapshot s = new StackSnapshot("test0", server.config(), 1500, 0L, ConnectionQuery.ALL, List.of(
                new StackSnapshot.Core(0, c0, 1, Map.of("TIME_WAIT", 1L), 1, List.of(tw0), new int[0], List.of(), new int[0],
                        new long[128]),
                new StackSnapshot.Core(1, c1, 2, Map.of("TIME_WAIT", 2L), 2, List.of(tw1, tw2), new int[0], List.of(),
                        new int[0], new long[128])));
        String text = StatsFormat.text(s);
        assertTrue(text.contains("TCP connections: 3\n"), text);
        assertTrue(Pattern.compile("(?m)^  TIME_WAIT +1 +2 +3$").matcher(text).find(), text);
        assertTrue(text.contains("\n  of which TIME_WAIT entries: core0 1, core1 2; ended early (table full): 7\n"), text);
        assertTrue(Pattern.compile("(?m)^  TIME_WAIT +198\\.18\\.0\\.2:80 +198\\.18\\.0\\.9:40000 +0\n  TIME_WAIT ")
                .matcher(text).find(), () -> "no detail line under an entry\n" + text);
        StackSnapshot none = new StackSnapshot("test0", server.config(), 1500, 0L, ConnectionQuery.ALL, List.of(
                new StackSnapshot.Core(0, new long[Stat.values().length], 0, Map.of(), 0, List.of(), new int[0], List.of(),
                        new int[0], new long[128])));
        assertFalse(StatsFormat.text(none).contains("of which TIME_WAIT"), "no line when there is none");
    }

    @Test
    @SuppressWarnings("unchecked")
    void jsonIsOneParseableObjectWithEveryCounter() {
        StackSnapshot s = server.snapshot();
        String json = StatsFormat.json(s);
        assertFalse(json.contains("\n"));
        Map<String, Object> o = (Map<String, Object>) Json.parse(json);
        assertEquals("198.18.0.2", o.get("address"));
        assertEquals(24L, o.get("prefix_length"));
        assertEquals("198.18.0.254", o.get("gateway"));
        assertEquals(2L, o.get("cores"));
        Map<String, Object> counters = (Map<String, Object>) o.get("counters");
        assertEquals(Stat.values().length, counters.size());
        for (Stat st : Stat.values()) {
            Map<String, Object> c = (Map<String, Object>) counters.get(st.key());
            List<Object> per = (List<Object>) c.get("per_core");
            assertEquals(2, per.size());
            assertEquals((Long) per.get(0) + (Long) per.get(1), c.get("total"), st.key());
            assertEquals(st.isDrop(), c.get("drop"));
        }
        assertTrue((Long) ((Map<String, Object>) counters.get("rx_frames")).get("total") > 0);
        List<Object> conns = (List<Object>) o.get("connections");
        Map<String, Object> held = conns.stream().map(x -> (Map<String, Object>) x)
                .filter(c -> ((Long) c.get("remote_port")).intValue() == heldPort()).findFirst().orElseThrow();
        assertEquals("ESTABLISHED", held.get("state"));
        assertEquals("198.18.0.2", held.get("local_address"));
        assertEquals(80L, held.get("local_port"));
        assertEquals("198.18.0.1", held.get("remote_address"));
        assertTrue((Long) held.get("srtt_us") > 0);
        List<Object> arp = (List<Object>) o.get("arp");
        assertTrue(arp.stream().anyMatch(a -> "02:00:00:00:00:01".equals(((Map<String, Object>) a).get("mac"))), json);
        List<Object> routes = (List<Object>) o.get("routes");
        assertEquals(2, routes.size());
        assertEquals("198.18.0.0/24", ((Map<String, Object>) routes.get(0)).get("destination"));
        assertNull(((Map<String, Object>) routes.get(0)).get("gateway"));
        assertEquals("0.0.0.0/0", ((Map<String, Object>) routes.get(1)).get("destination"));
    }

    @Test
    void theJsonWriterEscapesAndItsParserReadsItBackAndRejectsMalformedText() {
        Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("a\"b", "x\\y\n\u0001\t");
        m.put("l", java.util.Arrays.asList(1, 2.5, true, null, Double.NaN));
        String s = Json.write(m);
        assertEquals("{\"a\\\"b\":\"x\\\\y\\n\\u0001\\t\",\"l\":[1,2.5,true,null,null]}", s);
        assertEquals("x\\y\n\u0001\t", Json.parseObject(s).get("a\"b"));
        assertThrows(IllegalArgumentException.class, () -> Json.parse("{\"a\":1,}"));
        assertThrows(IllegalArgumentException.class, () -> Json.parse("[1] 2"));
    }

    /** Issue 9 point 4: {@code stack stats --json} names its tool and the version of its fields, as bench's JSON does. */
    @Test
    void jsonNamesItsToolAndFormatLikeBench() {
        Map<String, Object> o = Json.parseObject(StatsFormat.json(server.snapshot()));
        List<String> keys = List.copyOf(o.keySet());
        assertEquals(List.of("tool", "format"), keys.subList(0, 2));
        assertEquals("flowstack stats", o.get("tool"));
        assertEquals((long) Json.FORMAT, o.get("format"));
        Map<String, Object> bench = Json.parseObject(Json.document("bench").toString());
        assertEquals(bench.get("format"), o.get("format"));
    }

    @Test
    void prometheusTextIsWellFormedAndMatchesTheCounters() {
        StackSnapshot s = server.snapshot();
        Map<String, Long> samples = parsePrometheus(MetricsService.prometheus(s));
        for (Stat st : Stat.values()) {
            for (int core = 0; core < 2; core++) {
                assertEquals(s.cores().get(core).get(st), samples.get("flowstack_" + st.key() + "_total{core=\"" + core + "\"}"),
                        st.key());
            }
        }
        assertTrue(samples.get("flowstack_rx_frames_total{core=\"0\"}") + samples.get("flowstack_rx_frames_total{core=\"1\"}") > 0);
        assertTrue(samples.get("flowstack_tcp_connections_by_state{state=\"ESTABLISHED\"}") >= 1);
        assertEquals(1L, samples.get("flowstack_info{device=\"" + s.device() + "\",address=\"198.18.0.2/24\","
                + "mac=\"02:00:00:00:00:02\",cores=\"2\"}"));
    }

    // ------------------------------------------------------------------ metrics over HTTP (the stack's TCP)

    @Test
    void metricsServiceAnswersGetMetricsWithKeepAlive() {
        TcpConnection c = client.tcpConnect(SERVER, 9100, 5, TimeUnit.SECONDS);
        try {
            c.readTimeout(10, TimeUnit.SECONDS);
            c.writeTimeout(10, TimeUnit.SECONDS);
            String r1 = exchange(c, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", -1);
            assertTrue(r1.startsWith("HTTP/1.1 200 OK\r\n"), r1);
            assertTrue(r1.contains("Content-Type: " + MetricsService.CONTENT_TYPE + "\r\n"), r1);
            Map<String, Long> samples = parsePrometheus(r1.substring(r1.indexOf("\r\n\r\n") + 4));
            assertTrue(samples.get("flowstack_tcp_passive_opens_total{core=\"0\"}")
                    + samples.get("flowstack_tcp_passive_opens_total{core=\"1\"}") >= 2);
            // same connection: 404, 405, then a closing request
            String r2 = exchange(c, "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n", -1);
            assertTrue(r2.startsWith("HTTP/1.1 404 "), r2);
            String r3 = exchange(c, "DELETE /metrics HTTP/1.1\r\nHost: x\r\n\r\n", -1);
            assertTrue(r3.startsWith("HTTP/1.1 405 ") && r3.contains("Allow: GET, HEAD\r\n"), r3);
            String r4 = exchange(c, "HEAD /metrics?x=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 0);
            assertTrue(r4.startsWith("HTTP/1.1 200 OK\r\n") && r4.contains("Connection: close\r\n"), r4);
            assertTrue(r4.endsWith("\r\n\r\n"), "HEAD has no body: " + r4);
            byte[] b = new byte[16];
            assertEquals(-1, c.read(b, 0, b.length), "the server closes after Connection: close");
        } finally {
            c.close();
        }
    }

    // ------------------------------------------------------------------ control socket protocol

    @Test
    void controlSocketAnswersTextJsonPrometheusAndErrors() throws Exception {
        Path sock = dir.resolve("proto.sock");
        try (ControlServer cs = ControlServer.start(server, sock, "proto")) {
            assertTrue(Files.exists(sock));
            assertTrue(ControlClient.request(sock, "text").contains("ESTABLISHED"));
            assertTrue(Json.parse(ControlClient.request(sock, "json").strip()) instanceof Map);
            assertTrue(parsePrometheus(ControlClient.request(sock, "prometheus")).containsKey("flowstack_rx_frames_total{core=\"1\"}"));
            StackException e = assertThrows(StackException.class, () -> ControlClient.request(sock, "bogus"));
            assertTrue(e.getMessage().contains("unknown request 'bogus'"), e.getMessage());
            IllegalStateException twice = assertThrows(IllegalStateException.class,
                    () -> ControlServer.start(server, sock, "proto"));
            assertTrue(twice.getMessage().contains("another running instance"), twice.getMessage());
        }
        assertFalse(Files.exists(sock), "close() removes the socket file");
        StackException missing = assertThrows(StackException.class, () -> ControlClient.request(sock, "text"));
        assertTrue(missing.getMessage().startsWith("no running instance: control socket " + sock + " does not exist"),
                missing.getMessage());
    }

    @Test
    void staleSocketIsRefusedByClientAndReplacedByServer() throws Exception {
        Path sock = dir.resolve("stale.sock");
        ServerSocketChannel dead = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        dead.bind(UnixDomainSocketAddress.of(sock));
        dead.close(); // the file stays, nobody listens: like an endpoint killed with SIGKILL
        assertTrue(Files.exists(sock));
        StackException refused = assertThrows(StackException.class, () -> ControlClient.request(sock, "text"));
        assertTrue(refused.getMessage().startsWith("no running instance answers on " + sock + ": connection refused"),
                refused.getMessage());
        try (ControlServer cs = ControlServer.start(server, sock, "stale")) {
            assertTrue(ControlClient.request(sock, "text").contains("TCP connections:"));
        }
    }

    // ------------------------------------------------------------------ command line

    private record Run(int code, String out, String err) {
    }

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.commandLine(new PrintWriter(out, true), new PrintWriter(err, true)).execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void statsCommandPrintsReportsAndFailsCleanly() {
        Path sock = dir.resolve("cli.sock");
        try (ControlServer cs = ControlServer.start(server, sock, "cli")) {
            Run text = run("stats", "--socket", sock.toString());
            assertEquals(0, text.code, text.err);
            // the default report counts connections by state and core and lists none
            assertTrue(Pattern.compile("(?m)^  ESTABLISHED +\\d+ +\\d+ +[1-9]\\d*$").matcher(text.out).find(), text.out);
            assertTrue(Pattern.compile("(?m)^  listening on TCP 80 9100$").matcher(text.out).find(), text.out);
            assertFalse(text.out.contains("198.18.0.1:" + heldPort()), text.out);
            Run listed = run("stats", "--socket", sock.toString(), "--connections");
            assertEquals(0, listed.code, listed.err);
            assertTrue(listed.out.contains("198.18.0.1:" + heldPort()), listed.out);
            Run held = run("stats", "--socket", sock.toString(), "--state", "established", "--dport",
                    Integer.toString(heldPort()));
            assertEquals(0, held.code, held.err);
            assertTrue(held.out.contains("Selected connections: 1\n"), held.out);
            assertTrue(Pattern.compile("(?m)^  ESTABLISHED +198\\.18\\.0\\.2:80 +198\\.18\\.0\\.1:" + heldPort() + " +[01]$")
                    .matcher(held.out).find(), held.out);
            Run none = run("stats", "--socket", sock.toString(), "--state", "syn-recv", "--sport", "80");
            assertEquals(0, none.code, none.err);
            assertTrue(none.out.contains("Selected connections: 0\n"), none.out);
            Run cut = run("stats", "--socket", sock.toString(), "--connections", "--limit", "1");
            assertEquals(0, cut.code, cut.err);
            assertTrue(Pattern.compile("(?m)^Connections: ([2-9]|\\d\\d+), the first 1 listed").matcher(cut.out).find(),
                    cut.out);
            assertEquals(1, Pattern.compile("(?m)^\\t ").matcher(cut.out).results().count(), cut.out);
            Run badState = run("stats", "--socket", sock.toString(), "--state", "sleeping");
            assertEquals(Main.USAGE, badState.code, badState.err);
            assertTrue(badState.err.startsWith("stack stats: --state: unknown TCP state 'sleeping': one of syn-sent, "),
                    badState.err);
            Run promList = run("stats", "--socket", sock.toString(), "--prometheus", "--connections");
            assertEquals(Main.USAGE, promList.code, promList.err);
            Run badLimit = run("stats", "--socket", sock.toString(), "--limit", "0");
            assertEquals(Main.USAGE, badLimit.code, badLimit.err);
            Run json = run("stats", "--socket", sock.toString(), "--json", "--watch", "0.1", "--count", "3");
            assertEquals(0, json.code, json.err);
            String[] lines = json.out.split("\n");
            assertEquals(3, lines.length, json.out);
            for (String l : lines) {
                assertTrue(Json.parse(l) instanceof Map);
            }
            Run prom = run("stats", "--socket", sock.toString(), "--prometheus");
            assertEquals(0, prom.code, prom.err);
            parsePrometheus(prom.out);
        }
        Run gone = run("stats", "--socket", sock.toString());
        assertEquals(Main.FAILURE, gone.code);
        assertEquals("", gone.out);
        assertEquals(1, gone.err.strip().lines().count(), gone.err);
        assertTrue(gone.err.startsWith("stack stats: no running instance: control socket "), gone.err);

        Run countAlone = run("stats", "--socket", sock.toString(), "--count", "2");
        assertEquals(Main.USAGE, countAlone.code);
        assertTrue(countAlone.err.startsWith("stack stats: --count needs --watch"), countAlone.err);
        Run both = run("stats", "--name", "a", "--socket", "/x");
        assertEquals(Main.USAGE, both.code, both.err);
        Run badWatch = run("stats", "--socket", sock.toString(), "--watch", "0");
        assertEquals(Main.USAGE, badWatch.code, badWatch.err);
        Run help = run("stats", "--help");
        assertEquals(0, help.code);
        assertTrue(help.out.contains("Examples:") && help.out.contains("--watch") && help.out.contains("--json"), help.out);
        assertTrue(help.out.contains("--connections") && help.out.contains("--state") && help.out.contains("--sport")
                && help.out.contains("--dport") && help.out.contains("--limit"), help.out);
    }

    @Test
    void controlRequestsSelectConnectionsLikeSs() {
        assertEquals(ConnectionQuery.NONE, ControlServer.query(new String[] {"text"}));
        assertEquals(ConnectionQuery.NONE, ControlServer.query(new String[] {"json"}));
        assertEquals(new ConnectionQuery(null, -1, -1, -1, ControlServer.DEFAULT_LIMIT),
                ControlServer.query(new String[] {"text", "connections"}));
        assertEquals(new ConnectionQuery("TIME_WAIT", 80, -1, -1, 5),
                ControlServer.query("json state=time-wait sport=80 limit=5".split(" ")));
        assertEquals(new ConnectionQuery("SYN_RECEIVED", -1, 4000, 443, ControlServer.DEFAULT_LIMIT),
                ControlServer.query("text state=SYN_RECV dport=4000 port=443".split(" ")));
        for (String bad : new String[] {"text state=nope", "text sport=70000", "text limit=0", "text bogus",
                "json port=x", "prometheus connections", "load state=established"}) {
            assertThrows(IllegalArgumentException.class, () -> ControlServer.query(bad.split(" ")), bad);
        }
        ConnectionQuery q = new ConnectionQuery("ESTABLISHED", -1, -1, 80, 10);
        assertTrue(q.matches("ESTABLISHED", 80, 5000) && q.matches("ESTABLISHED", 5000, 80));
        assertFalse(q.matches("ESTABLISHED", 81, 5000) || q.matches("TIME_WAIT", 80, 5000));
    }

    @Test
    void aSummarySnapshotCountsConnectionsWithoutListingThem() {
        StackSnapshot all = server.snapshot();
        StackSnapshot summary = server.snapshot(ConnectionQuery.NONE);
        assertTrue(summary.connections().isEmpty());
        assertEquals(all.connections().size(), summary.connectionCount());
        assertTrue(summary.connectionsByState().get("ESTABLISHED") >= 1, summary.connectionsByState()::toString);
        assertEquals(summary.connectionCount(), summary.cores().stream().mapToLong(StackSnapshot.Core::connectionCount).sum());
        assertArrayEquals(new int[] {80, 9100}, summary.listeners());
        StackSnapshot held = server.snapshot(new ConnectionQuery(null, -1, heldPort(), -1, 10));
        assertEquals(1, held.matchedConnections());
        assertEquals(heldPort(), held.connections().get(0).remotePort());
        StackSnapshot one = server.snapshot(new ConnectionQuery(null, 80, -1, -1, 1));
        assertEquals(1, one.connections().size());
        assertTrue(one.matchedConnections() >= 1);
        @SuppressWarnings("unchecked")
        Map<String, Object> o = (Map<String, Object>) Json.parse(StatsFormat.json(summary));
        @SuppressWarnings("unchecked")
        Map<String, Object> cs = (Map<String, Object>) o.get("connections_summary");
        assertEquals(summary.connectionCount(), cs.get("total"));
        assertEquals(List.of(80L, 9100L), cs.get("listeners"));
        assertEquals(List.of(), o.get("connections"));
    }

    @Test
    void metricsIsAServeKind() {
        assertEquals("metrics:9100", io.flowstack.tools.ServiceSpec.parse("metrics:9100").toString());
        assertTrue(io.flowstack.tools.ServiceSpec.parse("METRICS:9100").kind().tcp());
    }
}
