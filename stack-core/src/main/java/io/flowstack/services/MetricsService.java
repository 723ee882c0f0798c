package io.flowstack.services;

import io.flowstack.core.FlowStack;
import io.flowstack.core.config.TcpSocketOptions;
import io.flowstack.core.socket.StackException;
import io.flowstack.core.socket.TcpChannel;
import io.flowstack.core.stats.Stat;
import io.flowstack.core.stats.StackSnapshot;
import io.flowstack.core.stats.ConnectionQuery;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BiConsumer;

/**
 * The stack's own counters in the Prometheus text exposition format (version 0.0.4), served by
 * the stack itself over TCP: an HTTP/1.1 responder for {@code GET /metrics} (and {@code HEAD}),
 * on the callback API like {@link HttpService} (same connection handling: keep-alive,
 * pipelining, limits, timeouts).
 *
 * <p>Every {@link Stat} is a counter family {@code flowstack_<stat>_total} with one sample per
 * core ({@code core="N"}), zeros included, so that series exist before the first event; gauges
 * {@code flowstack_tcp_connections}, {@code flowstack_arp_entries} (per core) and
 * {@code flowstack_info} (address, MAC, device) follow. The numbers come from
 * {@link FlowStack#snapshot(ConnectionQuery)} (counts, no connection rows), which reads each core on its own netisr.
 *
 * <p><b>Why a snapshot thread.</b> A snapshot needs every core, each read on its own netisr, so
 * a callback (which runs on one netisr and must not block) cannot take it: waiting there for the
 * other cores would stall this core's flows, and waiting for its own core would never end.
 * So a request for {@code /metrics} is parked on its connection and signals the service's
 * snapshot thread ({@code metrics-PORT-snapshot}, a daemon platform thread that otherwise
 * sleeps); that thread takes a snapshot with {@link FlowStack#snapshot(ConnectionQuery)}, renders it, and
 * publishes it; each core's tick (10 ms) then answers its parked requests with the first
 * snapshot begun after they arrived, so the numbers are as fresh as with a synchronous read, and
 * concurrent scrapes share one snapshot. Pipelined requests behind a parked one wait for it.
 *
 * <p>HTTP: a request line and header section of at most {@value #MAX_HEAD_BYTES} bytes; other
 * paths 404, other methods 405, a malformed request or one with a body 400; HTTP/1.1 keeps the
 * connection open unless {@code Connection: close}, HTTP/1.0 closes it unless
 * {@code Connection: keep-alive}; {@link #IDLE_TIMEOUT} between requests.
 *
 * <p>Owned by: the thread that creates it (lifecycle); each connection by the netisr that owns
 * it; the snapshot by the snapshot thread until published (a volatile reference to an immutable
 * rendering, read by the netisrs).
 */
public final class MetricsService extends AbstractHttpService {
    /** Content type of the text exposition format. */
    public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
    static final int MAX_HEAD_BYTES = MAX_HEAD;
    static final Duration IDLE_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration WRITE_TIMEOUT = Duration.ofSeconds(30);
    private static final MemorySegment TYPE =
            HttpResponseWriter.fragment("\r\nContent-Type: " + CONTENT_TYPE + "\r\nContent-Length: ");
    private static final String NOT_FOUND = "not found: the metrics are at /metrics\n";
    private static final String ONLY_GET = "only GET and HEAD\n";
    private static final int STRIDE = 16; // 128 bytes between cores' slots
    private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);

    /** A published rendering: snapshot {@code seq}'s exposition text, or null if it could not be taken. */
    private record Rendered(long seq, MemorySegment body) {
    }

    private final FlowStack stack;
    /** Requests parked so far, per core (slot core * STRIDE): written by that core's netisr. */
    private final long[] requests;
    /** Per core: the rendering it last looked at, and when it looks again anyway (owned by that core). */
    private final Rendered[] seen;
    private final long[] nextLook;
    private final BiConsumer<Conn, Core> deliver = this::deliver;
    /** Snapshots begun: written by the snapshot thread only. */
    private volatile long begun;
    private volatile Rendered latest = new Rendered(0, null);
    private volatile Thread snapshotter;

    /** A connection whose request may be parked for a snapshot. */
    private static final class Scrape extends HttpConn {
        boolean parked;
        long wantSeq;
        boolean headOnly;
        boolean keep;
        int connection;

        Scrape(TcpChannel ch) {
            super(ch);
        }
    }

    /**
     * Serves {@code /metrics} on TCP {@code port} of {@code stack}.
     *
     * @param stack the started stack to listen on and report
     * @param port the TCP port, 1..65535
     * @throws IllegalArgumentException if {@code port} is outside 1..65535
     * @throws StackException if the port is in use or the stack is closed
     */
    public MetricsService(FlowStack stack, int port) {
        this.stack = stack;
        this.requests = new long[(stack.cores() + 1) * STRIDE];
        this.seen = new Rendered[stack.cores()];
        this.nextLook = new long[stack.cores()];
        super(stack, port, "metrics", TcpSocketOptions.defaults(stack.config()), IDLE_TIMEOUT, WRITE_TIMEOUT,
                locals(stack));
        Thread t = Thread.ofPlatform().daemon().name("metrics-" + port() + "-snapshot").unstarted(this::snapshots);
        snapshotter = t;
        t.start();
    }

    // ------------------------------------------------------------------ exposition format

    /**
     * Renders {@code snapshot} in the Prometheus text format: one family per counter, one sample
     * per core. A pure function; any thread may call it.
     *
     * @param snapshot the counters to render
     * @return the exposition text, served with {@link #CONTENT_TYPE}
     */
    public static String prometheus(StackSnapshot snapshot) {
        StringBuilder b = new StringBuilder(64 * 1024);
        for (Stat s : Stat.values()) {
            String name = "flowstack_" + s.key() + "_total";
            family(b, name, s.description(), "counter");
            for (StackSnapshot.Core c : snapshot.cores()) {
                sample(b, name, c.core(), c.get(s));
            }
        }
        family(b, "flowstack_tcp_connections", "TCP connections (any state but LISTEN) owned by the core", "gauge");
        for (StackSnapshot.Core c : snapshot.cores()) {
            sample(b, "flowstack_tcp_connections", c.core(), c.connectionCount());
        }
        family(b, "flowstack_tcp_connections_by_state", "TCP connections by RFC 9293 state, all cores", "gauge");
        for (Map.Entry<String, Long> e : snapshot.connectionsByState().entrySet()) {
            b.append("flowstack_tcp_connections_by_state{state=\"").append(e.getKey()).append("\"} ")
                    .append(e.getValue()).append('\n');
        }
        family(b, "flowstack_arp_entries", "entries of the core's ARP cache replica", "gauge");
        for (StackSnapshot.Core c : snapshot.cores()) {
            sample(b, "flowstack_arp_entries", c.core(), c.arp().size());
        }
        family(b, "flowstack_info", "the stack instance: device, address, MAC and cores", "gauge");
        b.append("flowstack_info{device=\"").append(label(snapshot.device())).append("\",address=\"")
                .append(snapshot.config().inetAddress().getHostAddress()).append('/').append(snapshot.config().prefixLength)
                .append("\",mac=\"").append(snapshot.config().macAddress()).append("\",cores=\"")
                .append(snapshot.cores().size()).append("\"} 1\n");
        return b.toString();
    }

    private static void family(StringBuilder b, String name, String help, String type) {
        b.append("# HELP ").append(name).append(' ').append(help(help)).append('\n');
        b.append("# TYPE ").append(name).append(' ').append(type).append('\n');
    }

    private static void sample(StringBuilder b, String name, int core, long value) {
        b.append(name).append("{core=\"").append(core).append("\"} ").append(value).append('\n');
    }

    /** HELP text escaping: backslash and line feed. */
    static String help(String s) {
        return s.replace("\\", "\\\\").replace("\n", "\\n");
    }

    /** Label value escaping: backslash, double quote and line feed. */
    static String label(String s) {
        return help(s).replace("\"", "\\\"");
    }

    // ------------------------------------------------------------------ HTTP (on the netisrs)

    @Override
    HttpConn newConn(TcpChannel ch) {
        return new Scrape(ch);
    }

    @Override
    boolean busy(HttpConn s) {
        return ((Scrape) s).parked;
    }

    @Override
    boolean answer(HttpConn conn, Local l, Core c, MemorySegment d) {
        Scrape s = (Scrape) conn;
        HttpRequestHead h = l.head;
        if (h.contentLength > 0 || h.transferEncoding) {
            reject(s, l, c, 400, "a request body is not accepted");
            return true;
        }
        boolean keep = h.persist && !h.expectContinue;
        int conn0 = !keep ? HttpResponseWriter.CONN_CLOSE
                : h.minor == 0 ? HttpResponseWriter.CONN_KEEP_ALIVE : HttpResponseWriter.CONN_NONE;
        HttpResponseWriter w = l.out;
        boolean headOnly = h.method == HttpRequestHead.HEAD;
        if (h.method == HttpRequestHead.OTHER) {
            return small(s, c, w, 405, ONLY_GET, true, conn0, false, keep);
        }
        if (!h.pathIs(d, "/metrics")) {
            return small(s, c, w, 404, NOT_FOUND, false, conn0, headOnly, keep);
        }
        s.parked = true;
        s.headOnly = headOnly;
        s.keep = keep;
        s.connection = conn0;
        s.wantSeq = begun + 1; // the first snapshot begun after this request
        s.deadline = c.now + writeNanos;
        int slot = s.core * STRIDE;
        LONGS.setRelease(requests, slot, requests[slot] + 1);
        LockSupport.unpark(snapshotter);
        return true;
    }

    /** A short text response (404, 405); false if there is no room for it yet. */
    private boolean small(Scrape s, Core c, HttpResponseWriter w, int status, String text, boolean allow,
                                 int conn, boolean headOnly, boolean keep) {
        int body = text.length();
        if (!room(s, HttpResponseWriter.headLength(status, HttpResponseWriter.TYPE_TEXT, body, allow, conn) + body)) {
            return false;
        }
        w.head(status, HttpResponseWriter.TYPE_TEXT, body, allow, conn);
        if (!headOnly) {
            w.ascii(text);
        }
        send(s, w);
        return served(s, c, keep, 0);
    }

    @Override
    void ticked(Core c) {
        super.ticked(c);
        Rendered r = latest;
        if (r != seen[c.index] || c.now - nextLook[c.index] >= 0) {
            seen[c.index] = r; // answer the parked requests this rendering satisfies
            nextLook[c.index] = c.now + TimeUnit.SECONDS.toNanos(1); // and look now and then anyway (moved connections)
            eachConn(c, deliver);
        }
    }

    /** Answers a parked request if the published snapshot is fresh enough for it. */
    private void deliver(Conn conn, Core c) {
        if (!(conn instanceof Scrape s) || !s.parked || s.mode != SERVING) {
            return;
        }
        Rendered r = latest;
        if (r.seq < s.wantSeq) {
            return;
        }
        if (r.body == null) {
            kill(s); // the snapshot failed (logged): nothing to answer with
            return;
        }
        int conn0 = s.connection;
        long n = r.body.byteSize();
        if (!room(s, HttpResponseWriter.headLength(200, TYPE, n, false, conn0))) {
            return; // the next tick tries again
        }
        HttpResponseWriter w = locals[c.index].out;
        w.head(200, TYPE, n, false, conn0);
        send(s, w);
        s.parked = false;
        if (s.headOnly || n == 0) {
            served(s, c, s.keep, 0);
            if (s.peerDone && s.mode == SERVING) {
                finish(s);
            }
        } else {
            startBody(s, c, r.body, 0, n, s.keep, 0);
        }
    }

    @Override
    void expired(Conn conn, Core c) {
        if (((Scrape) conn).parked) {
            kill(conn); // no snapshot, or no room for it, within the write timeout
        } else {
            super.expired(conn, c);
        }
    }

    // ------------------------------------------------------------------ the snapshot thread

    private void snapshots() {
        long done = 0;
        while (!closing()) {
            long want = 0;
            for (int i = 0; i * STRIDE < requests.length - STRIDE; i++) {
                want += (long) LONGS.getAcquire(requests, i * STRIDE);
            }
            if (want == done) {
                LockSupport.parkNanos(this, TimeUnit.MILLISECONDS.toNanos(100)); // unparked by a request
                continue;
            }
            done = want;
            long seq = begun + 1;
            begun = seq; // requests parked from now on want a later snapshot
            MemorySegment body = null;
            try {
                byte[] text = prometheus(stack.snapshot(ConnectionQuery.NONE)).getBytes(StandardCharsets.UTF_8);
                body = Arena.ofAuto().allocate(Math.max(1, text.length)).asSlice(0, text.length);
                MemorySegment.copy(text, 0, body, ValueLayout.JAVA_BYTE, 0, text.length);
            } catch (StackException e) {
                if (closing()) {
                    return;
                }
                log("snapshot failed: " + e.getMessage());
            }
            latest = new Rendered(seq, body);
        }
    }

    /** Stops serving (as every service) and the snapshot thread. */
    @Override
    public void close() {
        super.close();
        Thread t = snapshotter;
        LockSupport.unpark(t);
        try {
            t.join(TimeUnit.SECONDS.toMillis(6));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
