package io.flowstack.tools.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.FlowStack;
import io.flowstack.core.config.StackConfig;
import io.flowstack.core.stats.Stat;
import io.flowstack.core.wire.Ipv4;
import io.flowstack.nic.MemoryWire;
import io.flowstack.core.socket.TcpConnection;
import io.flowstack.tools.Json;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Client and server against each other, every mode, on the kernel's loopback and on two stacks
 * joined by a {@link MemoryWire} (callback and blocking APIs on either end). Asserts behaviour
 * only: the bytes, transactions and connections asked for were moved, intact, and every count
 * (client, intervals, server, histogram) agrees. No timing is asserted.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class BenchRunTest {
    static final String SERVER_IP = "198.18.0.2";

    private MemoryWire wire;
    private FlowStack serverStack;
    private FlowStack clientStack;
    private final List<AutoCloseable> servers = new ArrayList<>();
    private int kernelPort;
    private BenchServer kernelServer;
    private BenchServer stackCallbackServer;
    private BenchServer stackBlockingServer;

    private static StackConfig config(String addr, long mac) {
        return StackConfig.builder().cores(2).address(Ipv4.parse(addr)).prefixLength(24).mac(mac).pinThreads(false)
                .build();
    }

    @BeforeAll
    void start() throws IOException {
        wire = MemoryWire.create(2, 4 << 20);
        serverStack = FlowStack.start(config(SERVER_IP, 0x02_00_00_00_00_02L), wire.b());
        clientStack = FlowStack.start(config("198.18.0.1", 0x02_00_00_00_00_01L), wire.a());
        kernelPort = freePort();
        kernelServer = BenchServer.start(new Net.Kernel("127.0.0.1"), kernelPort);
        stackCallbackServer = BenchServer.start(Net.stack(serverStack), 5201);
        stackBlockingServer = BenchServer.start(Net.stackBlocking(serverStack), 5202);
        servers.addAll(List.of(kernelServer, stackCallbackServer, stackBlockingServer));
    }

    @AfterAll
    void stop() throws Exception {
        for (AutoCloseable s : servers) {
            s.close();
        }
        if (clientStack != null) {
            long internal = clientStack.total(Stat.INTERNAL_ERROR) + serverStack.total(Stat.INTERNAL_ERROR);
            long handler = clientStack.total(Stat.TCP_HANDLER_ERRORS) + serverStack.total(Stat.TCP_HANDLER_ERRORS);
            clientStack.close();
            serverStack.close();
            wire.close();
            assertEquals(0, internal, "netisr internal errors");
            assertEquals(0, handler, "bench handlers threw");
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** A client network and the server it talks to. */
    record Pair(String name, Function client, ServerPick server) {
        @Override
        public String toString() {
            return name;
        }
    }

    interface Function {
        Net net(BenchRunTest t);
    }

    interface ServerPick {
        BenchServer server(BenchRunTest t);
    }

    static Stream<Pair> pairs() {
        return Stream.of(
                new Pair("kernel -> kernel", t -> Net.kernel(), t -> t.kernelServer),
                new Pair("stack callback -> stack callback", t -> Net.stack(t.clientStack), t -> t.stackCallbackServer),
                new Pair("stack blocking -> stack callback", t -> Net.stackBlocking(t.clientStack), t -> t.stackCallbackServer),
                new Pair("stack callback -> stack blocking", t -> Net.stack(t.clientStack), t -> t.stackBlockingServer));
    }

    static Stream<Arguments> runs() {
        List<Arguments> l = new ArrayList<>();
        for (Pair p : pairs().toList()) {
            l.add(Arguments.of(p, "stream", (Supplier<BenchSpec>) () -> BenchSpec.stream("x").withParallel(2)
                    .withBytes(12_345_678).withLength(65536)));
            l.add(Arguments.of(p, "reverse", (Supplier<BenchSpec>) () -> BenchSpec.stream("x").withReverse(true)
                    .withParallel(3).withBytes(10_000_001)));
            l.add(Arguments.of(p, "rr 1", (Supplier<BenchSpec>) () -> BenchSpec.rr("x", 1).withParallel(2)
                    .withTransactions(3001)));
            l.add(Arguments.of(p, "rr 100:300000", (Supplier<BenchSpec>) () -> BenchSpec.rr("x", 1)
                    .withSizes(100, 300_000).withTransactions(41)));
            l.add(Arguments.of(p, "crr 1", (Supplier<BenchSpec>) () -> BenchSpec.crr("x", 1).withParallel(2)
                    .withConnections(301)));
            l.add(Arguments.of(p, "crr 200000:64", (Supplier<BenchSpec>) () -> BenchSpec.crr("x", 1)
                    .withSizes(200_000, 64).withConnections(20)));
        }
        return l.stream();
    }

    private BenchSpec target(Pair p, BenchSpec s) {
        BenchServer server = p.server().server(this);
        String host = server.net() instanceof Net.Kernel ? "127.0.0.1" : SERVER_IP;
        return new BenchSpec(s.mode(), s.reverse(), s.parallel(), s.requestSize(), s.responseSize(),
                TimeUnit.SECONDS.toNanos(60), s.maxBytes(), s.maxTransactions(), s.maxConnections(), s.omitSeconds(),
                s.intervalNanos(), s.length(), host, server.port(), s.connectTimeoutNanos());
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("runs")
    void countedRunMovesExactlyWhatWasAskedIntact(Pair p, String what, Supplier<BenchSpec> make) throws Exception {
        BenchServer server = p.server().server(this);
        BenchSpec spec = target(p, make.get());
        Meter.Totals before = server.totals();
        List<Interval> seen = new CopyOnWriteArrayList<>();
        BenchResult r = BenchClient.run(spec, p.client().net(this), seen::add);
        String ctx = p + " " + what + ": " + r.summaryLines() + " " + r.problems();
        assertTrue(r.ok(), ctx);
        assertTrue(r.verified(), ctx);
        assertEquals(0, r.errors(), ctx);
        assertEquals(List.of(), r.problems(), ctx);
        assertEquals(r.intervals(), seen, "the sink saw every interval");
        long sumBytes = 0;
        long sumTx = 0;
        long sumConns = 0;
        for (Interval i : r.intervals()) {
            sumBytes += i.bytes();
            sumTx += i.transactions();
            sumConns += i.connections();
            assertFalse(i.omitted());
            assertEquals(0, i.errors());
        }
        assertEquals(r.totalBytes(), sumBytes, ctx);
        assertEquals(r.totalTransactions(), sumTx, ctx);
        assertEquals(r.bytes(), r.totalBytes(), "no --omit: measured = total");
        switch (spec.mode()) {
            case STREAM -> {
                assertEquals(spec.maxBytes(), r.bytes(), ctx);
                assertEquals("bytes", r.stoppedBy(), ctx);
                assertNull(r.latency());
                if (spec.reverse()) {
                    assertEquals(-1, r.serverBytes());
                } else {
                    assertEquals(spec.maxBytes(), r.serverBytes(), "the servers confirmed every byte");
                }
                awaitServer(server, before, t -> spec.reverse() ? t.bytesOut() : t.bytesIn(), spec.maxBytes(), ctx);
                awaitServer(server, before, Meter.Totals::connections, spec.parallel(), ctx);
            }
            case RR -> {
                assertEquals(spec.maxTransactions(), r.transactions(), ctx);
                assertEquals("transactions", r.stoppedBy(), ctx);
                assertNotNull(r.latency(), ctx);
                assertEquals(r.transactions(), r.latency().count(), "one latency per transaction");
                assertTrue(r.latency().minUs() <= r.latency().p50Us() && r.latency().p50Us() <= r.latency().p99Us()
                        && r.latency().p99Us() <= r.latency().maxUs(), ctx);
                assertEquals(spec.maxTransactions() * (spec.requestSize() + spec.responseSize()), r.bytes(), ctx);
                assertEquals(spec.parallel(), r.connections(), ctx);
                awaitServer(server, before, Meter.Totals::transactions, spec.maxTransactions(), ctx);
                awaitServer(server, before, Meter.Totals::connections, spec.parallel(), ctx);
            }
            case CRR -> {
                assertEquals(spec.maxConnections(), r.connections(), ctx);
                assertEquals(spec.maxConnections(), sumConns, ctx);
                assertEquals(r.connections(), r.transactions(), ctx);
                assertEquals("connections", r.stoppedBy(), ctx);
                assertEquals(r.connections(), r.latency().count(), "one latency per connection");
                // one more: the unmeasured probe connection that checks the server first
                awaitServer(server, before, Meter.Totals::transactions, spec.maxConnections() + 1, ctx);
                awaitServer(server, before, Meter.Totals::connections, spec.maxConnections() + 1, ctx);
            }
        }
        awaitServer(server, before, Meter.Totals::errors, 0, ctx);
        Map<String, Object> json = Json.parseObject(r.toJson().toString());
        for (String k : List.of("tool", "net", "api", "mode", "parallel", "seconds", "bytes", "bits_per_second",
                "transactions", "connections", "errors", "verified", "latency_us", "stopped_by", "ok", "total",
                "intervals", "problems")) {
            assertTrue(json.containsKey(k), "JSON field " + k + ": " + json);
        }
        assertEquals(Boolean.TRUE, json.get("ok"));
        assertEquals(spec.mode().key(), json.get("mode"));
        assertEquals(r.intervals().size(), ((List<?>) json.get("intervals")).size());
    }

    /** Waits (bounded) until the server's counter moved by {@code expected} since {@code before}. */
    private static void awaitServer(BenchServer server, Meter.Totals before, java.util.function.ToLongFunction<Meter.Totals> f,
                                    long expected, String ctx) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        long got;
        while ((got = f.applyAsLong(server.totals().minus(before))) != expected && System.nanoTime() - deadline < 0) {
            Thread.sleep(10);
        }
        assertEquals(expected, got, "server count: " + ctx + " server " + server.totals().minus(before));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("pairs")
    void durationRunStopsByTimeAndConfirmsEveryByte(Pair p) {
        BenchSpec spec = target(p, BenchSpec.stream("x").withParallel(2)).withDuration(Duration.ofMillis(700))
                .withInterval(Duration.ofMillis(200));
        BenchResult r = BenchClient.run(spec, p.client().net(this), Sink.NONE);
        String ctx = p + ": " + r.summaryLines();
        assertTrue(r.ok(), ctx);
        assertEquals("duration", r.stoppedBy(), ctx);
        assertTrue(r.bytes() > 0, ctx);
        assertEquals(r.bytes(), r.serverBytes(), "every byte sent was confirmed");
        assertTrue(r.intervals().size() >= 3, ctx);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("pairs")
    void stopEndsTheRunCleanlyWithWhatWasMeasured(Pair p) throws Exception {
        BenchSpec spec = target(p, BenchSpec.rr("x", 1).withParallel(2)).withDuration(Duration.ofSeconds(30))
                .withInterval(Duration.ofMillis(100));
        BenchClient c = new BenchClient(spec, p.client().net(this));
        // stop as soon as an interval has measured a transaction (the 30 s duration bounds the wait)
        BenchResult r = c.run(interval -> {
            if (interval.transactions() > 0) {
                c.stop();
            }
        });
        assertTrue(r.ok(), p + ": " + r.summaryLines());
        assertEquals("stop", r.stoppedBy());
        assertTrue(r.transactions() > 0);
        assertTrue(r.totalSeconds() < 25, "stopped long before the 30 s limit: " + r.totalSeconds());
    }

    @Test
    void omittedWarmUpIsLeftOutOfTheSummary() {
        BenchSpec spec = BenchSpec.rr("127.0.0.1", 1).withPort(kernelPort).withDuration(Duration.ofMillis(1900))
                .withOmit(1);
        BenchResult r = BenchClient.run(spec, Net.kernel(), Sink.NONE);
        assertTrue(r.ok(), r.summaryLines().toString());
        assertTrue(r.intervals().get(0).omitted());
        assertFalse(r.intervals().get(r.intervals().size() - 1).omitted());
        long measured = r.intervals().stream().filter(i -> !i.omitted()).mapToLong(Interval::transactions).sum();
        assertEquals(measured, r.transactions());
        assertEquals(r.transactions(), r.latency().count());
        assertTrue(r.totalTransactions() > r.transactions());
        assertTrue(r.seconds() < r.totalSeconds());
    }

    @Test
    void noServerIsAOneLineFailure() throws IOException {
        int port = freePort();
        BenchException e = assertThrows(BenchException.class,
                () -> BenchClient.run(BenchSpec.stream("127.0.0.1").withPort(port), Net.kernel(), Sink.NONE));
        assertTrue(e.getMessage().contains("refused") && e.getMessage().contains("127.0.0.1:" + port), e.getMessage());
        assertFalse(e.environment());
        BenchException s = assertThrows(BenchException.class,
                () -> BenchClient.run(BenchSpec.rr(SERVER_IP, 1).withPort(7777), Net.stack(clientStack), Sink.NONE));
        assertTrue(s.getMessage().contains("refused"), s.getMessage());
        BenchException c = assertThrows(BenchException.class,
                () -> BenchClient.run(BenchSpec.crr(SERVER_IP, 1).withPort(7777), Net.stack(clientStack), Sink.NONE));
        assertTrue(c.getMessage().contains("refused"), c.getMessage());
    }

    @Test
    void aBusyPortIsAnEnvironmentError() {
        BenchException k = assertThrows(BenchException.class, () -> BenchServer.start(new Net.Kernel("127.0.0.1"), kernelPort));
        assertTrue(k.environment() && k.getMessage().contains("already in use"), k.getMessage());
        BenchException s = assertThrows(BenchException.class, () -> BenchServer.start(Net.stack(serverStack), 5201));
        assertTrue(s.environment() && s.getMessage().contains("already in use"), s.getMessage());
    }

    // ------------------------------------------------------------------ the checks catch bad data

    /** A one-connection fake server on loopback: reads the header, then runs {@code body}. */
    private static CompletableFuture<Void> fakeServer(ServerSocket ss, IoBody body) {
        return CompletableFuture.runAsync(() -> {
            try (Socket s = ss.accept()) {
                s.getInputStream().readNBytes(BenchProtocol.HEADER_BYTES);
                body.run(s);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
    }

    interface IoBody {
        void run(Socket s) throws IOException;
    }

    private static byte[] pattern(int n, int flip) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = BenchProtocol.patternByte(i);
        }
        if (flip >= 0) {
            b[flip] ^= 0x40;
        }
        return b;
    }

    @Test
    void aCorruptedStreamFromTheServerFailsTheRun() throws Exception {
        try (ServerSocket ss = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            CompletableFuture<Void> f = fakeServer(ss, s -> s.getOutputStream().write(pattern(100_000, 77_777)));
            BenchResult r = BenchClient.run(BenchSpec.stream("127.0.0.1").withPort(ss.getLocalPort()).withReverse(true)
                    .withBytes(100_000), Net.kernel(), Sink.NONE);
            f.get(10, TimeUnit.SECONDS);
            assertFalse(r.verified(), r.summaryLines().toString());
            assertFalse(r.ok());
            assertTrue(r.problems().toString().contains("differ"), r.problems().toString());
            assertTrue(String.join("\n", r.summaryLines()).contains("DATA NOT VERIFIED"));
        }
    }

    @Test
    void aServerThatConfirmsTooFewBytesFailsTheRun() throws Exception {
        try (ServerSocket ss = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            CompletableFuture<Void> f = fakeServer(ss, s -> {
                long n = s.getInputStream().readAllBytes().length;
                s.getOutputStream().write(new BenchProtocol.Trailer(BenchProtocol.STATUS_OK, n - 1).encode());
            });
            BenchResult r = BenchClient.run(BenchSpec.stream("127.0.0.1").withPort(ss.getLocalPort()).withBytes(50_000),
                    Net.kernel(), Sink.NONE);
            f.get(10, TimeUnit.SECONDS);
            assertFalse(r.verified(), r.summaryLines().toString());
            assertEquals(49_999, r.serverBytes());
        }
    }

    @Test
    void aWrongResponseFailsTheRun() throws Exception {
        try (ServerSocket ss = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            CompletableFuture<Void> f = fakeServer(ss, s -> {
                s.getInputStream().readNBytes(10);
                s.getOutputStream().write(pattern(20, 3));
                s.getInputStream().readAllBytes();
            });
            BenchResult r = BenchClient.run(BenchSpec.rr("127.0.0.1", 1).withSizes(10, 20).withPort(ss.getLocalPort())
                    .withTransactions(1), Net.kernel(), Sink.NONE);
            f.get(10, TimeUnit.SECONDS);
            assertFalse(r.verified(), r.summaryLines().toString());
            assertEquals(1, r.transactions());
        }
    }

    /** A stream of 200,000 bytes with one wrong byte, sent to each kind of server: the trailer says so. */
    @ParameterizedTest
    @ValueSource(strings = {"kernel", "stack callback", "stack blocking"})
    void serversReportCorruptedStreams(String which) throws Exception {
        byte[] data = pattern(200_000, 123_456);
        byte[] header = BenchProtocol.Header.toServer().encode();
        byte[] trailer;
        if (which.equals("kernel")) {
            try (Socket s = new Socket(InetAddress.getByName("127.0.0.1"), kernelPort)) {
                s.getOutputStream().write(header);
                s.getOutputStream().write(data);
                s.shutdownOutput();
                trailer = s.getInputStream().readAllBytes();
            }
        } else {
            int port = which.equals("stack callback") ? 5201 : 5202;
            TcpConnection c = clientStack.tcpConnect(Ipv4.parse(SERVER_IP), port, 5, TimeUnit.SECONDS);
            c.readTimeout(10, TimeUnit.SECONDS);
            c.write(header, 0, header.length);
            c.write(data, 0, data.length);
            c.shutdownOutput();
            trailer = c.inputStream().readAllBytes();
            c.close();
        }
        BenchProtocol.Trailer t = BenchProtocol.Trailer.decode(trailer);
        assertEquals(BenchProtocol.STATUS_CORRUPT, t.status(), which);
        assertEquals(data.length, t.bytes(), which);
    }

    /**
     * A request with a wrong byte: the server answers nothing, resets the connection and counts an
     * error. (The client may see end of stream rather than the reset: the stack can send a FIN
     * ahead of the RST when a handler aborts inside onData, see docs/BENCHMARKS.md.)
     */
    @ParameterizedTest
    @ValueSource(strings = {"stack callback", "stack blocking"})
    void serversRejectCorruptedRequests(String which) throws Exception {
        BenchServer server = which.equals("stack callback") ? stackCallbackServer : stackBlockingServer;
        Meter.Totals before = server.totals();
        byte[] header = BenchProtocol.Header.rr(8, 8).encode();
        TcpConnection c = clientStack.tcpConnect(Ipv4.parse(SERVER_IP), server.port(), 5, TimeUnit.SECONDS);
        c.readTimeout(10, TimeUnit.SECONDS);
        c.write(header, 0, header.length);
        c.write(pattern(8, 5), 0, 8);
        byte[] answer;
        try {
            answer = c.inputStream().readAllBytes();
        } catch (IOException reset) {
            answer = new byte[0];
        }
        assertEquals(0, answer.length, "no response to a corrupted request");
        c.close();
        awaitServer(server, before, Meter.Totals::errors, 1, which);
        awaitServer(server, before, Meter.Totals::transactions, 0, which);
    }
}
