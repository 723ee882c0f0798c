package io.flowstack.services;

import io.flowstack.services.AbstractTcpService;
import io.flowstack.core.FlowStack;
import io.flowstack.core.config.TcpSocketOptions;
import io.flowstack.core.socket.StackException;
import io.flowstack.core.socket.TcpConnection;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * A small HTTP/1.1 server (RFC 9112 message syntax, RFC 9110 semantics) for tests and
 * measurements. Written on the public socket API, as an application would.
 *
 * <h2>Resources</h2>
 * <ul>
 *   <li>{@code GET /}: 200, a short {@code text/html} page.</li>
 *   <li>{@code GET /bytes/N}, 0 &le; N &le; 2<sup>40</sup>: 200,
 *       {@code application/octet-stream}, {@code Content-Length: N} and exactly N bytes of a
 *       deterministic pattern: <b>byte i of the body is {@code (byte) (i % 251)}</b>
 *       ({@link #patternByte(long)}; 251 is prime, so the pattern does not line up with any
 *       power-of-two segment or buffer size). The body is written in large chunks from a
 *       precomputed buffer, with no per-byte work.</li>
 *   <li>{@code HEAD} of either: the same status and headers, no body.</li>
 *   <li>Any other path: 404. Any other method: 405 with {@code Allow: GET, HEAD}.</li>
 * </ul>
 *
 * <h2>Connections</h2>
 * HTTP/1.1 connections persist unless the request carries {@code Connection: close}; HTTP/1.0
 * ones close unless it carries {@code Connection: keep-alive}. Requests are processed in order,
 * so pipelined requests work. A closing response carries {@code Connection: close} and is
 * followed by a FIN (then the input is drained for up to {@value #LINGER_MILLIS} ms before the
 * socket is closed, so that the peer gets the whole response rather than a reset).
 * <ul>
 *   <li>A malformed request line or header section (bad syntax, obsolete line folding, a bare CR,
 *       an HTTP/1.1 request without exactly one {@code Host}, a bad or conflicting
 *       {@code Content-Length}, {@code Transfer-Encoding} in HTTP/1.0): 400 and close.</li>
 *   <li>A request line and header section longer than {@value #MAX_HEAD_BYTES} bytes: 431 and
 *       close. An HTTP major version other than 1: 505 and close.</li>
 *   <li>A request body with {@code Content-Length} is read and dropped; one with
 *       {@code Transfer-Encoding} (or {@code Expect: 100-continue}) is not read: the response
 *       closes the connection.</li>
 *   <li>A connection with no request for {@link #DEFAULT_IDLE_TIMEOUT} (keep-alive idle) is
 *       closed; a request started but not complete by then gets 408. A write that the peer does
 *       not accept within {@link #WRITE_TIMEOUT} ends the connection.</li>
 * </ul>
 * Responses carry {@code Server: flowstack} and {@code Date}.
 *
 * <p>Owned by: the thread that creates it (lifecycle); the accept loop runs on the platform
 * thread {@code http-PORT-accept}, each connection on its own virtual thread {@code http-PORT-N},
 * which reads and writes it.
 */
public final class HttpService extends AbstractTcpService {
    /** Largest N of {@code /bytes/N}: 2^40 (1 TiB). */
    public static final long MAX_BYTES = 1L << 40;
    /** Bound of the request line plus the header section, blank line included. */
    public static final int MAX_HEAD_BYTES = 8192;
    /** Keep-alive idle time after which a connection is closed. */
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(60);
    /** How long one write may wait for the peer to open its window. */
    public static final Duration WRITE_TIMEOUT = Duration.ofSeconds(60);
    /** The body pattern's period. */
    public static final int PATTERN_PERIOD = 251;
    static final int LINGER_MILLIS = 2000;

    /**
     * Send buffer of every connection: 4 MiB, what Linux lets a sending socket grow to
     * ({@code tcp_wmem}'s maximum), so a download keeps that much in flight and queued. Measured
     * (docs/BENCHMARKS.md): curl of 4 GB at 22.7-24.8 Gbit/s against 16.8-18.0 with the stack's
     * default 1 MiB, alternating in one session.
     */
    static final int SEND_BUFFER_BYTES = 4 << 20;

    private static TcpSocketOptions options(FlowStack stack) {
        TcpSocketOptions d = TcpSocketOptions.defaults(stack.config());
        return d.withBuffers(Math.max(d.sendBufferBytes(), SEND_BUFFER_BYTES), d.receiveBufferBytes());
    }

    /** Body bytes per write. */
    private static final int CHUNK = PATTERN_PERIOD * 512; // 128512
    /** {@code PATTERN[j] = j % 251}; one chunk plus a period, so a chunk may start at any phase. */
    private static final byte[] PATTERN = new byte[CHUNK + PATTERN_PERIOD];
    private static final int IN_BYTES = 16 * 1024;

    static {
        for (int j = 0; j < PATTERN.length; j++) {
            PATTERN[j] = (byte) (j % PATTERN_PERIOD);
        }
    }

    private static final byte[] INDEX = ("""
            <!DOCTYPE html>
            <html><head><meta charset="utf-8"><title>flowstack</title></head>
            <body><h1>flowstack</h1>
            <p>This page was served over TCP by flowstack, a per-core userspace TCP/IP stack for the JVM.</p>
            <p><a href="/bytes/1000000">/bytes/N</a> returns N bytes (byte i is i % 251), N up to 2^40.</p>
            </body></html>
            """).getBytes(StandardCharsets.UTF_8);

    private static final DateTimeFormatter IMF_FIXDATE =
            DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.US).withZone(ZoneOffset.UTC);
    private static volatile CachedDate date = new CachedDate(Long.MIN_VALUE, "");

    private record CachedDate(long second, String text) {
    }

    private final Duration idleTimeout;

    /**
     * HTTP on {@code port} with the default keep-alive idle timeout.
     *
     * @param stack the started stack to listen on
     * @param port the TCP port, 1..65535
     * @throws IllegalArgumentException if {@code port} is outside 1..65535
     * @throws StackException if the port is in use or the stack is closed
     */
    public HttpService(FlowStack stack, int port) {
        this(stack, port, DEFAULT_IDLE_TIMEOUT);
    }

    /**
     * HTTP on {@code port}.
     *
     * @param stack the started stack to listen on
     * @param port the TCP port, 1..65535
     * @param idleTimeout how long a connection may wait for its next request; must be positive
     * @throws IllegalArgumentException if {@code idleTimeout} is null, zero or negative, or
     *     {@code port} is outside 1..65535
     * @throws StackException if the port is in use or the stack is closed
     */
    public HttpService(FlowStack stack, int port, Duration idleTimeout) {
        checkTimeout(idleTimeout); // before listening: a bad argument leaves no listener behind
        super(stack, port, "http", options(stack));
        this.idleTimeout = idleTimeout;
        start();
    }

    /**
     * Byte {@code i} of every {@code /bytes/N} body: {@code (byte) (i % 251)}.
     *
     * @param i the offset in the body, 0-based and non-negative
     * @return the byte at that offset
     */
    public static byte patternByte(long i) {
        return (byte) (i % PATTERN_PERIOD);
    }

    @Override
    void serve(TcpConnection c) {
        c.writeTimeout(WRITE_TIMEOUT.toNanos(), TimeUnit.NANOSECONDS);
        new Exchange(c).run();
    }

    /** Current IMF-fixdate (RFC 9110 5.6.7), formatted at most once a second. */
    private static String date() {
        long now = System.currentTimeMillis() / 1000;
        CachedDate d = date;
        if (d.second != now) {
            d = new CachedDate(now, IMF_FIXDATE.format(Instant.ofEpochSecond(now)));
            date = d;
        }
        return d.text;
    }

    /** A request that cannot be served: the status to answer with, then the connection closes. */
    private static final class Reject extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final int status;

        Reject(int status, String why) {
            super(why, null, false, false);
            this.status = status;
        }
    }

    /** One parsed request head. */
    private record Request(String method, String target, int minor, boolean keepAlive, long contentLength,
                           boolean chunkedOrUnknownBody, boolean expectContinue) {
    }

    /** The state of one connection: an input buffer that may hold pipelined requests. */
    private final class Exchange {
        private final TcpConnection c;
        private final byte[] in = new byte[IN_BYTES];
        private int start;
        private int end;
        /** Where the search for the end of the head resumes (relative to the buffer). */
        private int scanned;

        Exchange(TcpConnection c) {
            this.c = c;
        }

        void run() {
            while (!closing()) {
                Request r;
                try {
                    r = nextRequest();
                } catch (Reject e) {
                    respondError(e.status, e.getMessage());
                    lingeringClose();
                    return;
                }
                if (r == null) {
                    c.close(); // the client closed or went idle between requests
                    return;
                }
                boolean keep = r.keepAlive && !r.chunkedOrUnknownBody && !r.expectContinue;
                if (r.contentLength > 0 && keep) {
                    if (!skipBody(r.contentLength)) {
                        c.close();
                        return;
                    }
                }
                if (!respond(r, keep)) {
                    lingeringClose();
                    return;
                }
            }
        }

        // ------------------------------------------------------------ input

        /**
         * Reads the next request head. Returns null at a clean end of stream or idle timeout
         * between requests; throws {@link Reject} for a request that must be refused.
         */
        private Request nextRequest() {
            long deadline = System.nanoTime() + idleTimeout.toNanos();
            while (true) {
                // RFC 9112 2.2: ignore empty lines before the request line
                while (start < end && (in[start] == '\r' || in[start] == '\n')) {
                    if (in[start] == '\r' && (start + 1 >= end || in[start + 1] != '\n')) {
                        if (start + 1 >= end) {
                            break; // wait for the LF
                        }
                        throw new Reject(400, "bare CR before the request line");
                    }
                    start++;
                }
                scanned = Math.max(scanned, start);
                int headEnd = findHeadEnd();
                if (headEnd >= 0) {
                    Request r = parse(start, headEnd);
                    start = headEnd;
                    scanned = start;
                    return r;
                }
                if (end - start >= MAX_HEAD_BYTES) {
                    throw new Reject(431, "the request line and header section exceed " + MAX_HEAD_BYTES + " bytes");
                }
                boolean partial = end > start;
                int n = fill(deadline);
                if (n == -2) { // timed out
                    if (partial) {
                        throw new Reject(408, "the request was not complete within " + idleTimeout.toSeconds() + " s");
                    }
                    return null;
                }
                if (n < 0) {
                    if (partial) {
                        throw new Reject(400, "the connection ended in the middle of a request");
                    }
                    return null;
                }
            }
        }

        /** Reads more input; returns bytes read, -1 at end of stream, -2 on timeout. */
        private int fill(long deadline) {
            if (end == in.length) {
                System.arraycopy(in, start, in, 0, end - start);
                end -= start;
                scanned -= start;
                start = 0;
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return -2;
            }
            c.readTimeout(left, TimeUnit.NANOSECONDS);
            try {
                int n = c.read(in, end, in.length - end);
                if (n > 0) {
                    end += n;
                }
                return n;
            } catch (StackException e) {
                if (socketTimeout(e)) {
                    return -2;
                }
                throw e;
            }
        }

        /** Index after the blank line that ends the head (CRLF CRLF, or LF LF leniently), or -1. */
        private int findHeadEnd() {
            for (int i = Math.max(scanned, start); i < end; i++) {
                if (in[i] == '\n') {
                    if (i + 1 < end && in[i + 1] == '\n') {
                        return i + 2;
                    }
                    if (i + 2 < end && in[i + 1] == '\r' && in[i + 2] == '\n') {
                        return i + 3;
                    }
                    if (i + 2 >= end) {
                        scanned = i; // look at this LF again when more has arrived
                        return -1;
                    }
                }
            }
            scanned = end;
            return -1;
        }

        /** Reads and drops {@code n} body bytes; false if the connection ended first. */
        private boolean skipBody(long n) {
            long deadline = System.nanoTime() + idleTimeout.toNanos();
            while (n > 0) {
                int have = end - start;
                if (have > 0) {
                    int k = (int) Math.min(have, n);
                    start += k;
                    n -= k;
                    continue;
                }
                start = end = scanned = 0;
                int r = fill(deadline);
                if (r < 0) {
                    return false;
                }
                deadline = System.nanoTime() + idleTimeout.toNanos();
            }
            scanned = start;
            return true;
        }

        // ------------------------------------------------------------ parsing (RFC 9112)

        private Request parse(int from, int to) {
            if (to - from > MAX_HEAD_BYTES) {
                throw new Reject(431, "the request line and header section exceed " + MAX_HEAD_BYTES + " bytes");
            }
            String head = new String(in, from, to - from, StandardCharsets.ISO_8859_1);
            String[] lines = head.split("\n", -1);
            // the head ends with an empty line: lines[last] and lines[last-1] are empty
            int count = lines.length - 2;
            for (int i = 0; i < count; i++) {
                String l = lines[i];
                if (l.endsWith("\r")) {
                    l = l.substring(0, l.length() - 1);
                }
                if (l.indexOf('\r') >= 0) {
                    throw new Reject(400, "bare CR in the request head");
                }
                lines[i] = l;
            }
            String[] rl = lines[0].split(" ", -1);
            if (rl.length != 3) {
                throw new Reject(400, "the request line is not METHOD SP TARGET SP VERSION");
            }
            String method = rl[0];
            String target = rl[1];
            String version = rl[2];
            if (!isToken(method)) {
                throw new Reject(400, "bad method");
            }
            if (target.isEmpty() || !visible(target)) {
                throw new Reject(400, "bad request target");
            }
            if (version.length() != 8 || !version.startsWith("HTTP/") || !digit(version.charAt(5))
                    || version.charAt(6) != '.' || !digit(version.charAt(7))) {
                throw new Reject(400, "bad HTTP version '" + version + "'");
            }
            if (version.charAt(5) != '1') {
                throw new Reject(505, "only HTTP/1.x is supported");
            }
            int minor = version.charAt(7) - '0';
            int hosts = 0;
            boolean close = false;
            boolean keepAlive = false;
            long contentLength = -1;
            boolean transferEncoding = false;
            boolean expectContinue = false;
            for (int i = 1; i < count; i++) {
                String l = lines[i];
                if (l.isEmpty()) {
                    throw new Reject(400, "empty header line");
                }
                if (l.charAt(0) == ' ' || l.charAt(0) == '\t') {
                    throw new Reject(400, "obsolete line folding in the header section");
                }
                int colon = l.indexOf(':');
                if (colon <= 0) {
                    throw new Reject(400, "a header line without a field name and colon");
                }
                String name = l.substring(0, colon);
                if (!isToken(name)) {
                    throw new Reject(400, "bad header field name '" + name.strip() + "'");
                }
                String value = trimOws(l.substring(colon + 1));
                for (int k = 0; k < value.length(); k++) {
                    char ch = value.charAt(k);
                    if ((ch < 0x20 && ch != '\t') || ch == 0x7F) {
                        throw new Reject(400, "control character in header field " + name);
                    }
                }
                switch (name.toLowerCase(Locale.ROOT)) {
                    case "host" -> hosts++;
                    case "connection" -> {
                        for (String option : value.split(",")) {
                            String o = trimOws(option).toLowerCase(Locale.ROOT);
                            close |= o.equals("close");
                            keepAlive |= o.equals("keep-alive");
                        }
                    }
                    case "content-length" -> {
                        for (String v : value.split(",", -1)) { // RFC 9112 6.3: a list of identical values
                            long n = parseLength(trimOws(v));
                            if (n < 0 || (contentLength >= 0 && n != contentLength)) {
                                throw new Reject(400, "bad Content-Length");
                            }
                            contentLength = n;
                        }
                    }
                    case "transfer-encoding" -> transferEncoding = true;
                    case "expect" -> expectContinue |= value.equalsIgnoreCase("100-continue");
                    default -> {
                    }
                }
            }
            if (minor >= 1 && hosts != 1) {
                throw new Reject(400, hosts == 0 ? "HTTP/1.1 request without Host" : "more than one Host");
            }
            if (hosts > 1) {
                throw new Reject(400, "more than one Host");
            }
            if (transferEncoding && (minor == 0 || contentLength >= 0)) {
                throw new Reject(400, minor == 0 ? "Transfer-Encoding in an HTTP/1.0 request"
                        : "both Transfer-Encoding and Content-Length");
            }
            boolean persist = !close && (minor >= 1 || keepAlive);
            return new Request(method, target, minor, persist, Math.max(0, contentLength), transferEncoding,
                    expectContinue && contentLength > 0);
        }

        // ------------------------------------------------------------ responses

        /** Answers {@code r}; returns whether the connection stays open. */
        private boolean respond(Request r, boolean keep) {
            boolean head = r.method.equals("HEAD");
            if (!head && !r.method.equals("GET")) {
                respondSmall(405, "Method Not Allowed", "text/plain; charset=utf-8",
                        (r.method + " is not supported: use GET or HEAD\n").getBytes(StandardCharsets.UTF_8),
                        "Allow: GET, HEAD\r\n", keep, r, false);
                return keep;
            }
            String path = path(r.target);
            if (path == null) {
                respondSmall(400, "Bad Request", "text/plain; charset=utf-8",
                        "400 Bad Request: bad request target\n".getBytes(StandardCharsets.UTF_8), "", false, r, head);
                return false;
            }
            if (path.equals("/")) {
                respondSmall(200, "OK", "text/html; charset=utf-8", INDEX, "", keep, r, head);
                return keep;
            }
            long n = path.startsWith("/bytes/") ? parseLength(path.substring(7)) : -1;
            if (n < 0 || n > MAX_BYTES) {
                respondSmall(404, "Not Found", "text/plain; charset=utf-8",
                        (path.startsWith("/bytes/") ? "no such resource: N must be 0.." + MAX_BYTES + "\n"
                                : "no such resource: try / or /bytes/N\n").getBytes(StandardCharsets.UTF_8),
                        "", keep, r, head);
                return keep;
            }
            byte[] h = headers(200, "OK", "application/octet-stream", n, "", keep, r);
            c.write(h, 0, h.length);
            if (!head) {
                long pos = 0;
                while (pos < n) {
                    if (closing()) {
                        throw new StackException("write to " + c + ": service closed");
                    }
                    int phase = (int) (pos % PATTERN_PERIOD);
                    int len = (int) Math.min(CHUNK, n - pos);
                    c.write(PATTERN, phase, len);
                    pos += len;
                }
            }
            return keep;
        }

        /** A whole response in one write. */
        private void respondSmall(int status, String reason, String type, byte[] body, String extra, boolean keep,
                                  Request r, boolean head) {
            byte[] h = headers(status, reason, type, body.length, extra, keep, r);
            byte[] all = new byte[h.length + (head ? 0 : body.length)];
            System.arraycopy(h, 0, all, 0, h.length);
            if (!head) {
                System.arraycopy(body, 0, all, h.length, body.length);
            }
            c.write(all, 0, all.length);
        }

        private void respondError(int status, String why) {
            String reason = switch (status) {
                case 400 -> "Bad Request";
                case 408 -> "Request Timeout";
                case 431 -> "Request Header Fields Too Large";
                case 505 -> "HTTP Version Not Supported";
                default -> "Error";
            };
            try {
                respondSmall(status, reason, "text/plain; charset=utf-8",
                        (status + " " + reason + ": " + why + "\n").getBytes(StandardCharsets.UTF_8), "", false, null,
                        false);
            } catch (StackException e) {
                // the peer is gone: nothing to tell it
            }
        }

        private byte[] headers(int status, String reason, String type, long length, String extra, boolean keep,
                               Request r) {
            StringBuilder b = new StringBuilder(256);
            b.append("HTTP/1.1 ").append(status).append(' ').append(reason).append("\r\n")
                    .append("Server: flowstack\r\n")
                    .append("Date: ").append(date()).append("\r\n")
                    .append("Content-Type: ").append(type).append("\r\n")
                    .append("Content-Length: ").append(length).append("\r\n")
                    .append(extra);
            if (!keep) {
                b.append("Connection: close\r\n");
            } else if (r != null && r.minor == 0) {
                b.append("Connection: keep-alive\r\n");
            }
            return b.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1);
        }

        /**
         * Half-closes (FIN after the response), drains what the client still sends for up to
         * {@value #LINGER_MILLIS} ms or until its FIN, then closes: closing with unread input
         * would reset the connection and could destroy the response in the client's buffers.
         */
        private void lingeringClose() {
            try {
                c.shutdownOutput();
                long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(LINGER_MILLIS);
                byte[] sink = in;
                while (true) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        break;
                    }
                    c.readTimeout(left, TimeUnit.NANOSECONDS);
                    if (c.read(sink, 0, sink.length) < 0) {
                        break;
                    }
                }
            } catch (StackException e) {
                // timed out or reset: close anyway
            }
            c.close();
        }
    }

    /** The path of an origin-form or absolute-form target (RFC 9112 3.2), without the query; null if invalid. */
    static String path(String target) {
        String t = target;
        if (t.regionMatches(true, 0, "http://", 0, 7) || t.regionMatches(true, 0, "https://", 0, 8)) {
            int authority = t.indexOf("//") + 2;
            int slash = t.indexOf('/', authority);
            int query = t.indexOf('?', authority);
            if (slash < 0 || (query >= 0 && query < slash)) {
                t = "/" + (query >= 0 ? t.substring(query) : "");
            } else {
                t = t.substring(slash);
            }
        }
        if (!t.startsWith("/")) {
            return null;
        }
        int q = t.indexOf('?');
        return q >= 0 ? t.substring(0, q) : t;
    }

    /** A non-negative decimal of at most 15 digits, else -1. */
    static long parseLength(String s) {
        if (s.isEmpty() || s.length() > 15) {
            return -1;
        }
        long n = 0;
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            if (!digit(ch)) {
                return -1;
            }
            n = n * 10 + (ch - '0');
        }
        return n;
    }

    private static boolean digit(char ch) {
        return ch >= '0' && ch <= '9';
    }

    /** RFC 9110 5.6.2 token. */
    static boolean isToken(String s) {
        if (s.isEmpty()) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            boolean ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || digit(ch)
                    || "!#$%&'*+-.^_`|~".indexOf(ch) >= 0;
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    private static boolean visible(String s) {
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            if (ch <= 0x20 || ch >= 0x7F) {
                return false;
            }
        }
        return true;
    }

    private static String trimOws(String s) {
        int a = 0;
        int b = s.length();
        while (a < b && (s.charAt(a) == ' ' || s.charAt(a) == '\t')) {
            a++;
        }
        while (b > a && (s.charAt(b - 1) == ' ' || s.charAt(b - 1) == '\t')) {
            b--;
        }
        return s.substring(a, b);
    }
}
