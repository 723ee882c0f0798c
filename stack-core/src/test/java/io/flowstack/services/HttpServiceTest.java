package io.flowstack.services;

import io.flowstack.services.HttpService;
import io.flowstack.core.testing.TwoStacks;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.socket.TcpConnection;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The HTTP/1.1 service over two stacks joined by a MemoryWire, with a minimal client. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HttpServiceTest {
    static final int PORT = 80;

    private TwoStacks s;
    private HttpService http;

    @BeforeAll
    void start() {
        s = new TwoStacks(2);
        http = new HttpService(s.server, PORT);
    }

    @AfterAll
    void stop() {
        http.close();
        assertEquals(0, s.internalErrors(), s.counters());
        s.close();
    }

    /** A response: status, headers (lower-case names), body. */
    record Response(int status, String statusLine, Map<String, String> headers, byte[] body) {
        String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }

        String text() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    /** Reads one response; the body per Content-Length, none if {@code head}. Null at end of stream. */
    static Response read(InputStream in, boolean head) throws IOException {
        ByteArrayOutputStream h = new ByteArrayOutputStream();
        int state = 0;
        while (state < 4) {
            int b = in.read();
            if (b < 0) {
                if (h.size() == 0) {
                    return null;
                }
                throw new IOException("end of stream inside a response head: " + h);
            }
            h.write(b);
            state = (b == '\r' && (state == 0 || state == 2)) || (b == '\n' && (state == 1 || state == 3))
                    ? state + 1 : (b == '\r' ? 1 : 0);
        }
        String[] lines = h.toString(StandardCharsets.ISO_8859_1).split("\r\n");
        String[] sl = lines[0].split(" ", 3);
        assertEquals("HTTP/1.1", sl[0], lines[0]);
        Map<String, String> headers = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            assertNull(headers.put(lines[i].substring(0, colon).toLowerCase(Locale.ROOT),
                    lines[i].substring(colon + 1).strip()), "repeated header " + lines[i]);
        }
        long length = Long.parseLong(headers.get("content-length"));
        byte[] body = head ? new byte[0] : in.readNBytes((int) length);
        assertEquals(head ? 0 : length, body.length, "whole body");
        return new Response(Integer.parseInt(sl[1]), lines[0], headers, body);
    }

    private static void send(TcpConnection c, String request) {
        byte[] b = request.getBytes(StandardCharsets.ISO_8859_1);
        c.write(b, 0, b.length);
    }

    private static String get(String target) {
        return "GET " + target + " HTTP/1.1\r\nHost: 198.18.0.2\r\nUser-Agent: test\r\n\r\n";
    }

    /** The documented /bytes pattern, byte by byte. */
    static byte[] pattern(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i % 251);
        }
        return b;
    }

    /** One request on a fresh connection; asserts the server closes afterwards if {@code closes}. */
    private Response exchange(String request, boolean closes) throws Exception {
        TcpConnection c = s.connect(PORT);
        try {
            send(c, request);
            Response r = read(c.inputStream(), request.startsWith("HEAD "));
            if (closes) {
                assertEquals(-1, c.read(new byte[1], 0, 1), "the server closes after " + r.statusLine);
            }
            return r;
        } finally {
            c.close();
        }
    }

    @Test
    void rootIsAShortHtmlPage() throws Exception {
        Response r = exchange(get("/"), false);
        assertEquals(200, r.status);
        assertEquals("HTTP/1.1 200 OK", r.statusLine);
        assertTrue(r.header("content-type").startsWith("text/html"), r.headers.toString());
        assertEquals("flowstack", r.header("server"));
        assertTrue(r.header("date").matches("[A-Z][a-z]{2}, \\d{2} [A-Z][a-z]{2} \\d{4} \\d{2}:\\d{2}:\\d{2} GMT"),
                r.header("date"));
        long date = java.time.ZonedDateTime.parse(r.header("date"), java.time.format.DateTimeFormatter.RFC_1123_DATE_TIME)
                .toEpochSecond();
        long now = System.currentTimeMillis() / 1000;
        assertTrue(date >= now - 2 && date <= now, "the Date is current (refreshed each second): " + r.header("date"));
        assertNull(r.header("connection"), "HTTP/1.1 persists by default");
        assertTrue(r.text().contains("<html>") && r.text().contains("flowstack"), r.text());
    }

    @Test
    void bytesReturnsExactlyNBytesOfThePattern() throws Exception {
        Response r = exchange(get("/bytes/100000"), false);
        assertEquals(200, r.status);
        assertEquals("application/octet-stream", r.header("content-type"));
        assertEquals("100000", r.header("content-length"));
        assertEquals(100_000, r.body.length);
        for (int i = 0; i < r.body.length; i++) {
            if (r.body[i] != (byte) (i % 251)) {
                throw new AssertionError("byte " + i + " is " + r.body[i] + ", expected " + (i % 251));
            }
        }
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        assertEquals(HexFormat.of().formatHex(sha.digest(pattern(100_000))),
                HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(r.body)));
        assertEquals((byte) 250, HttpService.patternByte(250));
        assertEquals((byte) 0, HttpService.patternByte(251L * 1_000_000_007L));
    }

    @Test
    void bytesOfEverySizeAcrossChunkBoundaries() throws Exception {
        TcpConnection c = s.connect(PORT);
        int[] sizes = {0, 1, 250, 251, 252, 128_511, 128_512, 128_513, 3_000_001};
        for (int n : sizes) {
            send(c, get("/bytes/" + n));
            Response r = read(c.inputStream(), false);
            assertEquals(200, r.status);
            assertArrayEquals(pattern(n), r.body, "/bytes/" + n);
        }
        c.close();
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void keepAliveServesThreeRequestsOnOneConnection(boolean pipelined) throws Exception {
        TcpConnection c = s.connect(PORT);
        String[] targets = {"/", "/bytes/70000", "/bytes/5"};
        if (pipelined) {
            send(c, get(targets[0]) + get(targets[1]) + get(targets[2]));
        }
        for (String t : targets) {
            if (!pipelined) {
                send(c, get(t));
            }
            Response r = read(c.inputStream(), false);
            assertEquals(200, r.status, t);
            if (t.startsWith("/bytes/")) {
                assertArrayEquals(pattern(Integer.parseInt(t.substring(7))), r.body, t);
            } else {
                assertTrue(r.text().contains("<html>"));
            }
        }
        // still open: a fourth request works
        send(c, "HEAD /bytes/123 HTTP/1.1\r\nHost: x\r\n\r\n");
        Response h = read(c.inputStream(), true);
        assertEquals(200, h.status);
        assertEquals("123", h.header("content-length"));
        assertEquals(0, c.inputStream().available(), "HEAD has no body");
        c.close();
    }

    @Test
    void connectionCloseIsHonoured() throws Exception {
        Response r = exchange("GET /bytes/1000 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", true);
        assertEquals(200, r.status);
        assertEquals("close", r.header("connection"));
        assertArrayEquals(pattern(1000), r.body);
    }

    @Test
    void http10ClosesUnlessKeepAlive() throws Exception {
        Response r = exchange("GET / HTTP/1.0\r\n\r\n", true);
        assertEquals(200, r.status);
        assertEquals("close", r.header("connection"));

        TcpConnection c = s.connect(PORT);
        for (int i = 0; i < 2; i++) {
            send(c, "GET /bytes/10 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
            Response k = read(c.inputStream(), false);
            assertEquals(200, k.status);
            assertEquals("keep-alive", k.header("connection"));
        }
        c.close();
    }

    @Test
    void pipelinedRequestsAfterCloseAreNotAnswered() throws Exception {
        TcpConnection c = s.connect(PORT);
        send(c, get("/bytes/3") + "GET /bytes/4 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" + get("/"));
        assertEquals(3, read(c.inputStream(), false).body.length);
        assertEquals(4, read(c.inputStream(), false).body.length);
        assertEquals(-1, c.read(new byte[1], 0, 1), "nothing after the response that closes");
        c.close();
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "GARBAGE\r\n\r\n",
        "GET /\r\nHost: x\r\n\r\n",
        "GET  / HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET / HTTP/1.1 \r\nHost: x\r\n\r\n",
        "GET / HTTX/1.1\r\nHost: x\r\n\r\n",
        "G(T / HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\nBad Name: v\r\n\r\n",
        "GET / HTTP/1.1\r\nHost : x\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n folded\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\nX: a\rb\r\n\r\n",
        "GET / HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
        "GET relative HTTP/1.1\r\nHost: x\r\n\r\n",
    })
    void malformedRequestsGet400AndClose(String request) throws Exception {
        Response r = exchange(request, true);
        assertEquals(400, r.status, r.text());
        assertEquals("close", r.header("connection"));
    }

    @Test
    void unknownPathsGet404AndKeepTheConnection() throws Exception {
        TcpConnection c = s.connect(PORT);
        for (String t : new String[] {"/nope", "/bytes/", "/bytes/x", "/bytes/-1", "/bytes/1099511627777",
            "/bytes/1e3"}) {
            send(c, get(t));
            Response r = read(c.inputStream(), false);
            assertEquals(404, r.status, t);
        }
        send(c, get("/bytes/2?query=ignored"));
        assertEquals(2, read(c.inputStream(), false).body.length);
        send(c, "GET http://198.18.0.2/bytes/7 HTTP/1.1\r\nHost: 198.18.0.2\r\n\r\n"); // absolute-form
        assertEquals(7, read(c.inputStream(), false).body.length);
        send(c, "HEAD /bytes/1099511627776 HTTP/1.1\r\nHost: x\r\n\r\n"); // 2^40 is allowed
        Response big = read(c.inputStream(), true);
        assertEquals(200, big.status);
        assertEquals("1099511627776", big.header("content-length"));
        c.close();
    }

    @Test
    void otherMethodsGet405WithAllow() throws Exception {
        TcpConnection c = s.connect(PORT);
        send(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
        Response r = read(c.inputStream(), false);
        assertEquals(405, r.status);
        assertEquals("GET, HEAD", r.header("allow"));
        for (String m : new String[] {"PUT", "DELETE", "OPTIONS", "BREW"}) {
            send(c, m + " /bytes/1 HTTP/1.1\r\nHost: x\r\n\r\n");
            assertEquals(405, read(c.inputStream(), false).status, m);
        }
        send(c, get("/bytes/9")); // the POST body was skipped: the connection is still in sync
        assertEquals(9, read(c.inputStream(), false).body.length);
        c.close();
    }

    @Test
    void headerSectionIsLimitedTo8KiB() throws Exception {
        String ok = "GET /bytes/1 HTTP/1.1\r\nHost: x\r\nX-Pad: " + "a".repeat(7000) + "\r\n\r\n";
        assertEquals(200, exchange(ok, false).status);
        String big = "GET / HTTP/1.1\r\nHost: x\r\nX-Pad: " + "a".repeat(9000) + "\r\n\r\n";
        Response r = exchange(big, true);
        assertEquals(431, r.status);
        String longLine = "GET /" + "b".repeat(9000) + " HTTP/1.1\r\nHost: x\r\n\r\n";
        assertEquals(431, exchange(longLine, true).status);
    }

    @Test
    void otherHttpVersionsAndLeadingEmptyLines() throws Exception {
        assertEquals(505, exchange("GET / HTTP/2.0\r\nHost: x\r\n\r\n", true).status);
        assertEquals(200, exchange("\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", false).status);
        assertEquals(200, exchange("GET / HTTP/1.1\nHost: x\n\n", false).status); // bare LF lines
    }

    @Test
    void idleKeepAliveConnectionsCloseAndUnfinishedRequestsGet408() throws Exception {
        try (HttpService quick = new HttpService(s.server, 8080, java.time.Duration.ofMillis(300))) {
            TcpConnection c = s.connect(8080);
            send(c, get("/bytes/1"));
            assertEquals(1, read(c.inputStream(), false).body.length);
            assertEquals(-1, c.read(new byte[1], 0, 1), "closed after 300 ms without a request");
            c.close();
            TcpConnection d = s.connect(8080);
            send(d, "GET / HTTP/1.1\r\nHost: x\r\n"); // no blank line
            Response r = read(d.inputStream(), false);
            assertEquals(408, r.status);
            assertEquals(-1, d.read(new byte[1], 0, 1));
            d.close();
            TcpConnection e = s.connect(8080);
            send(e, get("/bytes/2")); // accepted and served: not in the accept queue any more
            assertEquals(2, read(e.inputStream(), false).body.length);
            quick.close(); // closes the idle connection
            assertEquals(-1, e.read(new byte[1], 0, 1));
            e.close();
        }
    }

    @Test
    void aClientThatClosesMidBodyDoesNotHurtTheService() throws Exception {
        TcpConnection c = s.connect(PORT);
        send(c, get("/bytes/100000000"));
        c.inputStream().readNBytes(200_000);
        c.abort();
        TcpConnection d = s.connect(PORT);
        send(d, get("/bytes/11"));
        assertArrayEquals(pattern(11), read(d.inputStream(), false).body);
        d.close();
        TcpServicesTest.await(() -> http.openConnections() == 0, "connections to end");
        assertFalse(http.openConnections() > 0, "connections end: " + http.openConnections());
    }

    /**
     * Requests of every length, pipelined through a 16 KiB receive ring: heads keep straddling
     * the ring's end (the callback sees the bytes up to the end, then the rest from the start),
     * and each is answered exactly once, in order.
     */
    @Test
    void headsThatWrapAroundTheReceiveRingAreServed() throws Exception {
        try (TwoStacks w = new TwoStacks(1, 4 << 20, b -> b.tcpReceiveBufferBytes(16384));
             HttpService small = new HttpService(w.server, 81)) {
            TcpConnection c = w.connect(81);
            int count = 3000;
            StringBuilder all = new StringBuilder();
            for (int i = 0; i < count; i++) {
                all.append("GET /bytes/").append(i % 97).append(" HTTP/1.1\r\nHost: x\r\nX-Pad: ")
                        .append("p".repeat(i % 211)).append("\r\n\r\n");
            }
            byte[] bytes = all.toString().getBytes(StandardCharsets.ISO_8859_1);
            assertTrue(bytes.length > 20 * 16384, "the requests wrap the ring many times: " + bytes.length);
            java.util.concurrent.CompletableFuture<Void> writer = java.util.concurrent.CompletableFuture.runAsync(() -> {
                for (int off = 0; off < bytes.length; off += 1000) {
                    c.write(bytes, off, Math.min(1000, bytes.length - off));
                }
            });
            InputStream in = c.inputStream();
            for (int i = 0; i < count; i++) {
                Response r = read(in, false);
                assertEquals(200, r.status, "request " + i);
                assertArrayEquals(pattern(i % 97), r.body, "request " + i);
            }
            writer.get(10, java.util.concurrent.TimeUnit.SECONDS);
            c.close();
            assertEquals(0, w.internalErrors(), w.counters());
        }
    }

    /** The service runs on the netisrs: no thread of its own, however many connections are open. */
    @Test
    void connectionsAreServedWithoutThreadsOfTheService() throws Exception {
        long before = Thread.getAllStackTraces().size();
        TcpConnection[] cs = new TcpConnection[20];
        for (int i = 0; i < cs.length; i++) {
            cs[i] = s.connect(PORT);
            send(cs[i], get("/bytes/10"));
        }
        for (TcpConnection c : cs) {
            assertEquals(10, read(c.inputStream(), false).body.length);
        }
        assertTrue(http.openConnections() >= cs.length, "open: " + http.openConnections());
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            assertFalse(t.getName().startsWith("http-"), "a service thread: " + t);
        }
        assertTrue(Thread.getAllStackTraces().size() < before + 5, "threads grew with the connections");
        for (TcpConnection c : cs) {
            c.close();
        }
        TcpServicesTest.await(() -> http.openConnections() == 0, "connections to end");
    }
}
