package io.flowstack.services;

import io.flowstack.core.FlowStack;
import io.flowstack.core.config.TcpSocketOptions;
import io.flowstack.core.socket.StackException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;

/**
 * A small HTTP/1.1 server (RFC 9112 message syntax, RFC 9110 semantics) for tests and
 * measurements. Written on the public callback API ({@link io.flowstack.core.socket.TcpHandler}),
 * as an application would: every connection is served on the netisr that owns it, requests are
 * parsed where they lie in the receive buffer and answered from preformatted off-heap fragments,
 * so a request costs no thread hand-off and no allocation.
 *
 * <h2>Resources</h2>
 * <ul>
 *   <li>{@code GET /}: 200, a short {@code text/html} page.</li>
 *   <li>{@code GET /bytes/N}, 0 &le; N &le; 2<sup>40</sup>: 200,
 *       {@code application/octet-stream}, {@code Content-Length: N} and exactly N bytes of a
 *       deterministic pattern: <b>byte i of the body is {@code (byte) (i % 251)}</b>
 *       ({@link #patternByte(long)}; 251 is prime, so the pattern does not line up with any
 *       power-of-two segment or buffer size). The body is written in large chunks from a
 *       precomputed off-heap buffer, with no per-byte work, as fast as the send buffer takes it
 *       (the rest follows on each {@code onWritable}: back-pressure).</li>
 *   <li>{@code HEAD} of either: the same status and headers, no body.</li>
 *   <li>Any other path: 404. Any other method: 405 with {@code Allow: GET, HEAD}.</li>
 * </ul>
 *
 * <h2>Connections</h2>
 * HTTP/1.1 connections persist unless the request carries {@code Connection: close}; HTTP/1.0
 * ones close unless it carries {@code Connection: keep-alive}. Requests are processed in order,
 * so pipelined requests work: while a response waits for send space, the requests after it stay
 * unconsumed in the receive buffer (its window closes). A closing response carries
 * {@code Connection: close} and is followed by a FIN (then the input is drained for up to
 * {@value #LINGER_MILLIS} ms, or until the client's FIN, before the connection is closed, so that
 * the peer gets the whole response rather than a reset).
 * <ul>
 *   <li>A malformed request line or header section (bad syntax, obsolete line folding, a bare CR,
 *       an HTTP/1.1 request without exactly one {@code Host}, a bad or conflicting
 *       {@code Content-Length}, {@code Transfer-Encoding} in HTTP/1.0): 400 and close.</li>
 *   <li>A request line and header section longer than {@value #MAX_HEAD_BYTES} bytes: 431 and
 *       close. An HTTP major version other than 1: 505 and close.</li>
 *   <li>A request body with {@code Content-Length} is consumed and dropped; one with
 *       {@code Transfer-Encoding} (or {@code Expect: 100-continue}) is not read: the response
 *       closes the connection.</li>
 *   <li>A connection with no request for {@link #DEFAULT_IDLE_TIMEOUT} (keep-alive idle) is
 *       closed; a request started but not complete by then gets 408 (also a request the client
 *       cut short with its FIN: TCP reports the FIN only once the bytes before it are consumed).
 *       A response that the peer does not take within {@link #WRITE_TIMEOUT} (no send space freed)
 *       ends the connection with a reset.</li>
 * </ul>
 * Responses carry {@code Server: flowstack} and {@code Date} (formatted once a second per core).
 *
 * <p>The connection handling (framing, pipelining, timeouts, lingering close) is
 * {@link AbstractHttpService}'s; this class answers the requests.
 *
 * <p>Owned by: the thread that creates it (lifecycle); each connection, and each core's parser
 * and response buffer, by the netisr of that core, where every callback runs.
 */
public final class HttpService extends AbstractHttpService {
    /** Largest N of {@code /bytes/N}: 2^40 (1 TiB). */
    public static final long MAX_BYTES = 1L << 40;
    /** Bound of the request line plus the header section, blank line included. */
    public static final int MAX_HEAD_BYTES = MAX_HEAD;
    /** Keep-alive idle time after which a connection is closed. */
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(60);
    /** How long a response may wait for the peer to take some of it. */
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

    /** {@code PATTERN[j] = j % 251}, off-heap; one chunk plus a period, so a chunk may start at any phase. */
    private static final MemorySegment PATTERN = pattern(CHUNK + PATTERN_PERIOD);

    private static final MemorySegment INDEX = HttpResponseWriter.fragment("""
            <!DOCTYPE html>
            <html><head><meta charset="utf-8"><title>flowstack</title></head>
            <body><h1>flowstack</h1>
            <p>This page was served over TCP by flowstack, a per-core userspace TCP/IP stack for the JVM.</p>
            <p><a href="/bytes/1000000">/bytes/N</a> returns N bytes (byte i is i % 251), N up to 2^40.</p>
            </body></html>
            """);
    private static final String NOT_SUPPORTED = " is not supported: use GET or HEAD\n";
    private static final String NO_RESOURCE = "no such resource: try / or /bytes/N\n";
    private static final String BAD_N = "no such resource: N must be 0.." + MAX_BYTES + "\n";
    private static final String BAD_TARGET = "400 Bad Request: bad request target\n";

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
        super(stack, port, "http", options(stack), idleTimeout, WRITE_TIMEOUT, locals(stack));
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

    private static MemorySegment pattern(int n) {
        MemorySegment m = Arena.global().allocate(n, 64);
        for (int j = 0; j < n; j++) {
            m.set(ValueLayout.JAVA_BYTE, j, (byte) (j % PATTERN_PERIOD));
        }
        return m.asReadOnly();
    }

    @Override
    boolean answer(HttpConn s, Local l, Core c) {
        HttpRequestHead h = l.head;
        boolean keep = h.persist && !h.transferEncoding && !h.expectContinue;
        int conn = !keep ? HttpResponseWriter.CONN_CLOSE
                : h.minor == 0 ? HttpResponseWriter.CONN_KEEP_ALIVE : HttpResponseWriter.CONN_NONE;
        boolean headOnly = h.method == HttpRequestHead.HEAD;
        HttpResponseWriter w = l.out;
        if (h.method == HttpRequestHead.OTHER) {
            int body = h.methodLen + NOT_SUPPORTED.length();
            if (!room(s, HttpResponseWriter.headLength(405, HttpResponseWriter.TYPE_TEXT, body, true, conn) + body)) {
                return false;
            }
            w.head(405, HttpResponseWriter.TYPE_TEXT, body, true, conn);
            w.put(h.bytes, h.methodOff, h.methodLen);
            w.ascii(NOT_SUPPORTED);
            send(s, w);
            return served(s, c, keep, h.contentLength);
        }
        if (!h.hasPath()) {
            conn = HttpResponseWriter.CONN_CLOSE;
            int body = BAD_TARGET.length();
            if (!room(s, HttpResponseWriter.headLength(400, HttpResponseWriter.TYPE_TEXT, body, false, conn) + body)) {
                return false;
            }
            w.head(400, HttpResponseWriter.TYPE_TEXT, body, false, conn);
            if (!headOnly) {
                w.ascii(BAD_TARGET);
            }
            send(s, w);
            return served(s, c, false, h.contentLength);
        }
        if (h.pathIs("/")) {
            int body = (int) INDEX.byteSize();
            if (!room(s, HttpResponseWriter.headLength(200, HttpResponseWriter.TYPE_HTML, body, false, conn) + body)) {
                return false;
            }
            w.head(200, HttpResponseWriter.TYPE_HTML, body, false, conn);
            if (!headOnly) {
                w.put(INDEX);
            }
            send(s, w);
            return served(s, c, keep, h.contentLength);
        }
        long n = h.bytesN();
        if (n < 0 || n > MAX_BYTES) {
            String text = n == -1 ? NO_RESOURCE : BAD_N;
            int body = text.length();
            if (!room(s, HttpResponseWriter.headLength(404, HttpResponseWriter.TYPE_TEXT, body, false, conn) + body)) {
                return false;
            }
            w.head(404, HttpResponseWriter.TYPE_TEXT, body, false, conn);
            if (!headOnly) {
                w.ascii(text);
            }
            send(s, w);
            return served(s, c, keep, h.contentLength);
        }
        if (!room(s, HttpResponseWriter.headLength(200, HttpResponseWriter.TYPE_OCTETS, n, false, conn))) {
            return false;
        }
        w.head(200, HttpResponseWriter.TYPE_OCTETS, n, false, conn);
        send(s, w);
        if (headOnly || n == 0) {
            return served(s, c, keep, h.contentLength);
        }
        return startBody(s, c, PATTERN, PATTERN_PERIOD, n, keep, h.contentLength);
    }
}
