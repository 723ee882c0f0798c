package io.flowstack.tests;

import static io.flowstack.tests.KernelLab.KERNEL_IP;
import static io.flowstack.tests.KernelLab.STACK_IP;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.stats.Stat;
import io.flowstack.services.HttpService;
import io.flowstack.services.TcpDiscardService;
import io.flowstack.core.socket.TcpConnection;
import io.flowstack.core.socket.TcpListener;
import io.flowstack.tests.NamespaceLab.Background;
import io.flowstack.tests.NamespaceLab.Result;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * TCP between the stack and the Linux kernel on the far side of a TAP (issue 3, point 6): bulk
 * HTTP download checked by SHA-256 (curl), many short HTTP requests with and without keep-alive
 * (wrk), bulk upload to the discard service (iperf2), the stack as a client moving 100 MB each
 * way at once to a kernel server, and the ways a connection ends: kernel closes first, stack
 * closes first, SYN to a closed port, and a new SYN reusing a 4-tuple the stack holds in
 * TIME-WAIT.
 *
 * <p>One stack per subclass (core count) with the HTTP (80) and discard (9) services, shared by
 * the test methods. Every method measures counter deltas or, for resets, watches its own port on
 * the wire (tcpdump on the TAP), so none depends on another or on the order. Every kernel command
 * has its own timeout, every stack-side wait too, and {@link #stopLab} removes everything even
 * after a failure; after each method and at the end, INTERNAL_ERROR must be 0 and there must be
 * no ownership violation.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class KernelTcpCases {
    static final int HTTP_PORT = 80;
    static final int DISCARD_PORT = 9;
    static final int MB100 = 100_000_000;

    private KernelLab lab;
    private HttpService http;
    private TcpDiscardService discard;
    private ExecutorService pool;

    /** Number of netisr cores (and TAP queues). */
    abstract int cores();

    @BeforeAll
    void startLab() {
        lab = KernelLab.start(cores());
        pool = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "kernel-tcp-test");
            t.setDaemon(true);
            return t;
        });
        http = new HttpService(lab.stack(), HTTP_PORT);
        discard = new TcpDiscardService(lab.stack(), DISCARD_PORT);
    }

    @AfterEach
    void stackStaysHealthy() {
        lab.assertHealthy();
    }

    @AfterAll
    void stopLab() {
        List<Throwable> failures = new ArrayList<>();
        for (AutoCloseable c : new AutoCloseable[] {http, discard}) {
            if (c != null) {
                try {
                    c.close();
                } catch (Throwable t) {
                    failures.add(t);
                }
            }
        }
        if (pool != null) {
            pool.shutdownNow();
        }
        if (lab == null) {
            return;
        }
        try {
            System.out.println(lab.report());
            lab.assertHealthy();
        } finally {
            lab.close();
            // JUnit keeps the test instance: let the closed stack (and its buffers) be collected
            lab = null;
            http = null;
            discard = null;
        }
        if (!failures.isEmpty()) {
            IllegalStateException e = new IllegalStateException("closing the services failed");
            failures.forEach(e::addSuppressed);
            throw e;
        }
    }

    // ------------------------------------------------------------------ 1. curl, 100 MB download

    /** The body of {@code GET /bytes/N}: byte i is (byte) (i % 251). */
    static String patternSha256(long n) {
        byte[] period = new byte[251 * 4096];
        for (int i = 0; i < period.length; i++) {
            period[i] = (byte) (i % 251);
        }
        MessageDigest md = sha256();
        for (long done = 0; done < n; ) {
            int k = (int) Math.min(period.length, n - done);
            md.update(period, 0, k);
            done += k;
        }
        return HexFormat.of().formatHex(md.digest());
    }

    @Test
    @Timeout(120)
    void curlDownloads100MbIntact() {
        String expected = patternSha256(MB100);
        String url = "http://" + STACK_IP + "/bytes/" + MB100;
        // the statistics go to stderr so that stdout is the body only
        Result r = lab.shell(Duration.ofSeconds(90), "curl -sS --max-time 80 -o - -w '%{stderr}%{http_code} "
                + "%{size_download} %{speed_download}\\n' " + url + " | sha256sum");
        assertEquals(0, r.exit(), () -> r + "\n" + lab.report());
        String[] stats = lastLine(r.stderr()).split(" ");
        assertEquals(3, stats.length, () -> "curl statistics: " + r);
        assertEquals("200", stats[0], () -> "HTTP status: " + r);
        assertEquals(Long.toString(MB100), stats[1], () -> "bytes downloaded: " + r + "\n" + lab.report());
        assertEquals(expected, r.stdout().strip().split("\\s+")[0], () -> "SHA-256 of the body\n" + r);
        double speed = Double.parseDouble(stats[2]);
        System.out.printf("curl 100 MB, %d core(s): %.1f MB/s (%.2f Gbit/s)%n", cores(), speed / 1e6,
                speed * 8 / 1e9);
    }

    // ------------------------------------------------------------------ 2. wrk

    private static final Pattern WRK_RPS = Pattern.compile("Requests/sec:\\s+([\\d.]+)");
    private static final Pattern WRK_TOTAL = Pattern.compile("(\\d+) requests in ");
    private static final Pattern WRK_SOCKET_ERRORS =
            Pattern.compile("Socket errors: connect (\\d+), read (\\d+), write (\\d+), timeout (\\d+)");

    private void wrk(boolean keepAlive) {
        long passive = lab.total(Stat.TCP_PASSIVE_OPENS);
        List<String> cmd = new ArrayList<>(List.of("wrk", "-t", "2", "-c", "64", "-d", "5s", "--timeout", "5s"));
        if (!keepAlive) {
            cmd.addAll(List.of("-H", "Connection: close"));
        }
        cmd.add("http://" + STACK_IP + "/");
        Result r = lab.exec(Duration.ofSeconds(40), null, cmd.toArray(String[]::new));
        String mode = keepAlive ? "keep-alive" : "Connection: close";
        System.out.println("wrk " + mode + ", " + cores() + " core(s):\n" + r.stdout());
        Supplier<String> detail = () -> r + "\n" + lab.report();
        assertEquals(0, r.exit(), detail);
        Matcher errors = WRK_SOCKET_ERRORS.matcher(r.stdout());
        if (errors.find()) {
            for (int g = 1; g <= 4; g++) {
                assertEquals("0", errors.group(g), () -> "wrk socket errors\n" + detail.get());
            }
        }
        assertFalse(r.stdout().contains("Non-2xx"), () -> "wrk got non-2xx responses\n" + detail.get());
        Matcher total = WRK_TOTAL.matcher(r.stdout());
        assertTrue(total.find(), detail);
        long requests = Long.parseLong(total.group(1));
        assertTrue(requests > 0, detail);
        Matcher rps = WRK_RPS.matcher(r.stdout());
        assertTrue(rps.find(), detail);
        long opened = lab.total(Stat.TCP_PASSIVE_OPENS) - passive;
        if (keepAlive) {
            assertTrue(opened >= 64, () -> "passive opens " + opened + "\n" + detail.get());
        } else {
            // one connection per request (the last ones may be cut by the end of the run)
            assertTrue(opened >= requests, () -> "passive opens " + opened + " < requests " + requests + "\n"
                    + detail.get());
        }
        System.out.printf("wrk %s, %d core(s): %s requests/s (%d requests, %d connections accepted)%n", mode,
                cores(), rps.group(1), requests, opened);
    }

    @Test
    @Timeout(60)
    void wrkKeepAliveWithoutErrors() {
        wrk(true);
    }

    @Test
    @Timeout(60)
    void wrkConnectionCloseWithoutErrors() {
        wrk(false);
    }

    // ------------------------------------------------------------------ 3. iperf2 to discard

    private static final Pattern IPERF_BANDWIDTH =
            Pattern.compile("([\\d.]+) (?:[KMG]?Bytes|bytes)\\s+([\\d.]+) ([KMG]?bits/sec)");

    @Test
    @Timeout(60)
    void iperfToDiscard() {
        long discarded = discard.bytes();
        Result r = lab.exec(Duration.ofSeconds(30), null, "iperf", "-c", STACK_IP, "-p",
                Integer.toString(DISCARD_PORT), "-t", "5", "-f", "m");
        System.out.println("iperf to discard, " + cores() + " core(s):\n" + r.stdout());
        assertEquals(0, r.exit(), () -> r + "\n" + lab.report());
        Matcher m = IPERF_BANDWIDTH.matcher(r.stdout());
        String last = null;
        double mbytes = 0;
        while (m.find()) {
            last = m.group(2) + " " + m.group(3);
            mbytes = Double.parseDouble(m.group(1));
        }
        assertNotNull(last, () -> "no bandwidth in iperf's report\n" + r);
        double mbits = Double.parseDouble(last.split(" ")[0]);
        assertTrue(mbits > 0, () -> "zero bandwidth\n" + r);
        assertFalse(r.stdout().contains("failed") || r.stderr().contains("failed"), r::toString);
        // everything iperf wrote reaches the discard service (iperf's MBytes are 2^20 bytes, rounded)
        long expected = Math.round(mbytes * (1 << 20));
        lab.await("the discard service to receive about " + expected + " bytes",
                () -> Math.abs(discard.bytes() - discarded - expected) <= Math.max(1 << 20, expected / 100),
                Duration.ofSeconds(10));
        System.out.printf("iperf to discard, %d core(s): %s (%d bytes discarded)%n", cores(), last,
                discard.bytes() - discarded);
    }

    // ------------------------------------------------------------------ 4. the stack as a client

    @Test
    @Timeout(150)
    void stackClientSendsAndReceives100Mb() throws Exception {
        byte[] file = new byte[MB100];
        new SplittableRandom(ThreadLocalRandom.current().nextLong()).nextBytes(file);
        String fileSha = HexFormat.of().formatHex(sha256().digest(file));
        Path path = lab.tempFile(file);
        file = null;
        long active = lab.total(Stat.TCP_ACTIVE_OPENS);
        try {
            ShaExchange.Outcome o = ShaExchange.run(lab, KERNEL_IP, 5001, path, MB100, fileSha, MB100,
                    Duration.ofSeconds(120));
            assertTrue(lab.total(Stat.TCP_ACTIVE_OPENS) > active, lab::report);
            System.out.printf("stack client, %d core(s): 100 MB each way at once in %.2f s (%.2f Gbit/s "
                    + "each way), core %d%n", cores(), o.seconds(), MB100 * 8 / o.seconds() / 1e9, o.core());
        } finally {
            Files.deleteIfExists(path);
        }
    }

    private void awaitKernelListening(int port, Background server) {
        lab.await("a kernel listener on port " + port, () -> {
            if (!server.alive()) {
                throw new AssertionError("the kernel server exited early: " + server.await());
            }
            return lab.exec("ss", "-Hltn", "sport = :" + port).stdout().contains(":" + port);
        }, Duration.ofSeconds(10));
    }

    // ------------------------------------------------------------------ 5. how connections end

    /*
     * Resets are checked on the wire, per test port (tcpdump on the TAP): the global counters of
     * the stack and of the kernel also count the tail of earlier tests' connections.
     */

    private Background captureTcpPort(int port) {
        return lab.capture("tcp port " + port, 2000, Duration.ofSeconds(60));
    }

    /** Stops the capture and returns its packet lines. */
    private static String packets(Background capture) {
        LockSupport.parkNanos(200_000_000L); // let the last segments of the exchange be printed
        return capture.stop().stdout();
    }

    private static boolean hasReset(String packets) {
        return packets.lines().anyMatch(l -> l.contains("Flags [R"));
    }

    private String sockets(int stackPort) {
        return lab.exec("ss", "-Htanoi", "dst", STACK_IP, "dport = :" + stackPort).stdout().strip();
    }

    @Test
    @Timeout(60)
    void kernelClosesFirst() throws Exception {
        int port = 7101;
        int size = 100_000;
        try (TcpListener l = lab.stack().tcpListen(port, 8); Background capture = captureTcpPort(port)) {
            Future<long[]> server = pool.submit(() -> {
                TcpConnection c = l.accept(10, TimeUnit.SECONDS);
                assertNotNull(c, "no connection accepted");
                c.readTimeout(10, TimeUnit.SECONDS);
                byte[] buf = new byte[16384];
                long n = 0;
                int last;
                while ((last = c.read(buf, 0, buf.length)) > 0) {
                    n += last;
                }
                c.close(); // after read() == -1: FIN, no RST
                lab.await("the connection to finish after both FINs", c::finished, Duration.ofSeconds(10));
                return new long[] {n, last};
            });
            String script = String.join("\n",
                    "import socket",
                    "s = socket.create_connection(('" + STACK_IP + "', " + port + "), timeout=5)",
                    "s.sendall(b'k' * " + size + ")",
                    "s.close()",
                    "print('CLOSED')");
            Result r = lab.exec(Duration.ofSeconds(20), null, "python3", "-c", script);
            assertEquals(0, r.exit(), () -> r + "\n" + lab.report());
            long[] got = server.get(20, TimeUnit.SECONDS);
            assertEquals(size, got[0], () -> "bytes the stack read\n" + lab.report());
            assertEquals(-1, got[1], "read() at the end");
            // the kernel closed first, so it holds TIME-WAIT once the stack's FIN arrived
            lab.await("kernel TIME-WAIT for the connection", () -> sockets(port).startsWith("TIME-WAIT"),
                    Duration.ofSeconds(5));
            String wire = packets(capture);
            assertFalse(hasReset(wire), () -> "a reset on the wire\n" + wire + "\n" + lab.report());
            assertTrue(wire.lines().filter(x -> x.contains("Flags [F")).count() >= 2, () -> "two FINs\n" + wire);
        }
    }

    @Test
    @Timeout(60)
    void stackClosesFirst() throws Exception {
        int port = 7102;
        int size = 100_000;
        try (TcpListener l = lab.stack().tcpListen(port, 8); Background capture = captureTcpPort(port)) {
            Future<?> server = pool.submit(() -> {
                TcpConnection c = l.accept(10, TimeUnit.SECONDS);
                assertNotNull(c, "no connection accepted");
                c.writeTimeout(10, TimeUnit.SECONDS);
                c.write(new byte[size], 0, size);
                c.close(); // FIN after the data
                return null;
            });
            String script = String.join("\n",
                    "import socket",
                    "s = socket.create_connection(('" + STACK_IP + "', " + port + "), timeout=5)",
                    "n = 0",
                    "try:",
                    "    while True:",
                    "        b = s.recv(65536)",
                    "        if not b:",
                    "            break",
                    "        n += len(b)",
                    "    print(n, 'EOF')",
                    "except ConnectionResetError:",
                    "    print(n, 'RESET')",
                    "s.close()");
            Result r = lab.exec(Duration.ofSeconds(20), null, "python3", "-c", script);
            server.get(20, TimeUnit.SECONDS);
            assertEquals(0, r.exit(), () -> r + "\n" + lab.report());
            assertEquals(size + " EOF", r.stdout().strip(), () -> r + "\n" + lab.report());
            // the stack closed first and holds TIME-WAIT; the kernel's socket (LAST-ACK after its
            // own FIN) is gone as soon as the stack acknowledges that FIN
            lab.await("the kernel socket to be gone (the stack ACKed its FIN)", () -> sockets(port).isEmpty(),
                    Duration.ofSeconds(5));
            String wire = packets(capture);
            assertFalse(hasReset(wire), () -> "a reset on the wire\n" + wire + "\n" + lab.report());
            assertTrue(wire.lines().filter(x -> x.contains("Flags [F")).count() >= 2, () -> "two FINs\n" + wire);
        }
    }

    @Test
    @Timeout(30)
    void synToClosedPortIsRefused() {
        int port = 9999;
        long noSocket = lab.total(Stat.TCP_NO_SOCKET);
        long rstOut = lab.total(Stat.TCP_RST_OUT);
        String script = String.join("\n",
                "import socket",
                "s = socket.socket()",
                "s.settimeout(3)",
                "try:",
                "    s.connect(('" + STACK_IP + "', " + port + "))",
                "    print('CONNECTED')",
                "except ConnectionRefusedError:",
                "    print('REFUSED')",
                "except socket.timeout:",
                "    print('TIMEOUT')");
        try (Background capture = captureTcpPort(port)) {
            Result r = lab.exec(Duration.ofSeconds(20), null, "python3", "-c", script);
            String wire = packets(capture);
            assertEquals("REFUSED", r.stdout().strip(), () -> r + "\n" + wire + "\n" + lab.report());
            assertTrue(wire.lines().anyMatch(x -> x.contains(" IP " + STACK_IP + "." + port + " > ") && x.contains("Flags [R.]")),
                    () -> "no RST+ACK from the stack on the wire\n" + wire);
        }
        lab.awaitTotal(Stat.TCP_RST_OUT, rstOut + 1, Duration.ofSeconds(5));
        assertTrue(lab.total(Stat.TCP_NO_SOCKET) > noSocket, lab::report);
    }

    /**
     * Two connections from the same kernel port: for each, the stack writes a line and closes
     * first (so the stack holds TIME-WAIT for the 4-tuple); the kernel reads to EOF, closes, and
     * connects again at once from the same port (retrying only while its own socket is still
     * in LAST-ACK). Prints the connect times in ms, the retries and the lines.
     */
    private static final String REUSE_CLIENT_PY = String.join("\n",
            "import errno, socket, sys, time",
            "lport, port = int(sys.argv[1]), int(sys.argv[2])",
            "for i in range(2):",
            "    t0 = time.monotonic()",
            "    for attempt in range(400):",
            "        s = socket.socket()",
            "        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)",
            "        s.bind(('" + KERNEL_IP + "', lport))",
            "        s.settimeout(5)",
            "        try:",
            "            s.connect(('" + STACK_IP + "', port))",
            "            break",
            "        except OSError as e:",
            "            s.close()",
            "            if e.errno not in (errno.EADDRNOTAVAIL, errno.EADDRINUSE):",
            "                raise",
            "            time.sleep(0.005)",
            "    ms = (time.monotonic() - t0) * 1000",
            "    data = b''",
            "    while True:",
            "        b = s.recv(4096)",
            "        if not b:",
            "            break",
            "        data += b",
            "    s.close()",
            "    print('%.1f %d %s' % (ms, attempt, data.decode().strip()))",
            "    sys.stdout.flush()");

    @Test
    @Timeout(60)
    void newSynReusesStackTimeWait() throws Exception {
        int port = 7103;
        int lport = 20000 + ThreadLocalRandom.current().nextInt(10000);
        long reuse = lab.total(Stat.TCP_TIME_WAIT_REUSE);
        long passive = lab.total(Stat.TCP_PASSIVE_OPENS);
        try (TcpListener l = lab.stack().tcpListen(port, 8); Background capture = captureTcpPort(port)) {
            Future<?> server = pool.submit(() -> {
                for (int i = 0; i < 2; i++) {
                    TcpConnection c = l.accept(10, TimeUnit.SECONDS);
                    assertNotNull(c, "connection " + i + " not accepted");
                    assertEquals(lport, c.remotePort());
                    byte[] line = ("conn-" + i + "\n").getBytes(StandardCharsets.US_ASCII);
                    c.write(line, 0, line.length);
                    c.close();
                }
                return null;
            });
            Result r = lab.exec(Duration.ofSeconds(30), null, "python3", "-c", REUSE_CLIENT_PY,
                    Integer.toString(lport), Integer.toString(port));
            server.get(20, TimeUnit.SECONDS);
            String wire = packets(capture);
            System.out.println("TIME-WAIT reuse, " + cores() + " core(s), kernel port " + lport
                    + " (connect ms, retries, line):\n" + r.stdout());
            Supplier<String> detail = () -> r + "\n--- wire ---\n" + wire + "\n" + lab.report();
            assertEquals(0, r.exit(), detail);
            String[] lines = r.stdout().strip().split("\n");
            assertEquals(2, lines.length, detail);
            assertTrue(lines[0].endsWith(" conn-0") && lines[1].endsWith(" conn-1"), detail);
            assertEquals(2, lab.total(Stat.TCP_PASSIVE_OPENS) - passive, detail);
            // the second SYN met the stack's TIME-WAIT for the same 4-tuple and reopened it at once
            assertTrue(lab.total(Stat.TCP_TIME_WAIT_REUSE) > reuse, () -> "TCP_TIME_WAIT_REUSE did not rise\n"
                    + detail.get());
            double ms = Double.parseDouble(lines[1].split(" ")[0]);
            assertTrue(ms < 500, () -> "the reconnect took " + ms + " ms (SYN retransmitted?)\n" + detail.get());
            assertFalse(hasReset(wire), () -> "a reset on the wire\n" + detail.get());
        }
    }

    // ------------------------------------------------------------------ helpers

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String lastLine(String text) {
        String[] lines = text.strip().split("\n");
        return lines[lines.length - 1].strip();
    }
}
