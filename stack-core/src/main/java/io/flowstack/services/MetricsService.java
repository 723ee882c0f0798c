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
 * {@code flowstack_info} (address, MAC, device) follow, then the service's own counters
 * ({@link MetricsGuard}). The numbers come from {@link FlowStack#snapshot(ConnectionQuery)}
 * (counts, no connection rows), which reads each core on its own netisr.
 *
 * <p><b>Why a snapshot thread.</b> A snapshot needs every core, each read on its own netisr, so
 * a callback (which runs on one netisr and must not block) cannot take it: waiting there for the
 * other cores would stall this core's flows, and waiting for its own core would never end.
 * So a request for {@code /metrics} that the cached rendering cannot answer is parked on its
 * connection and signals the service's snapshot thread ({@code metrics-PORT-snapshot}, a daemon
 * platform thread that otherwise sleeps); that thread takes a snapshot, renders it, and
 * publishes it; each core's tick (10 ms) then answers its parked requests.
 *
 * <p><b>Limits</b> ({@link MetricsLimits}), so that the data network cannot use the endpoint
 * against the stack:
 * <ul>
 *   <li>A rendering answers every scrape that arrives within the cache interval after its
 *       snapshot began, at once, on the scrape's own core; the snapshot thread begins a snapshot
 *       only when a parked request needs a newer one, never sooner than an interval after the
 *       last. However many scrapes come, the cores are asked for their counters at most once per
 *       interval.</li>
 *   <li>A request has an absolute deadline, from the accept (or the first byte of a later
 *       request) to its response head: bytes dribbled in do not move it. Past it the connection
 *       is reset and counted.</li>
 *   <li>Each core serves at most {@link MetricsLimits#maxConnections} connections and only
 *       sources in {@link MetricsLimits#allow}; others are reset as soon as they are established,
 *       and counted.</li>
 * </ul>
 *
 * <p>HTTP: a request line and header section of at most {@value #MAX_HEAD_BYTES} bytes; other
 * paths 404, other methods 405, a malformed request or one with a body 400; HTTP/1.1 keeps the
 * connection open unless {@code Connection: close}, HTTP/1.0 closes it unless
 * {@code Connection: keep-alive}; {@link #IDLE_TIMEOUT} between requests.
 *
 * <p>Owned by: the thread that creates it (lifecycle); each connection by the netisr that owns
 * it; the rendering by the snapshot thread until published (a volatile reference to an immutable
 * rendering, read by the netisrs); the counters as {@link MetricsGuard} says.
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

    /**
     * A published rendering: the exposition text of the snapshot begun at {@code began} (stack
     * clock), or null if it could not be taken.
     */
    private record Rendered(long began, MemorySegment body) {
    }

    private final FlowStack stack;
    private final MetricsLimits limits;
    private final long cacheNanos;
    private final MetricsGuard guard;
    /** Requests parked so far, per core (slot core * STRIDE): written by that core's netisr. */
    private final long[] requests;
    /** Per core: the rendering it last looked at, and when it looks again anyway (owned by that core). */
    private final Rendered[] seen;
    private final long[] nextLook;
    private final BiConsumer<Conn, Core> deliver = this::deliver;
    /** The last rendering published, null before the first. */
    private volatile Rendered latest;
    private volatile Thread snapshotter;

    /** A connection whose request may be parked for a snapshot. */
    private static final class Scrape extends HttpConn {
        boolean parked;
        /** A rendering of a snapshot begun at or after this (stack clock) answers the parked request. */
        long since;
        boolean headOnly;
        boolean keep;
        int connection;

        Scrape(TcpChannel ch) {
            super(ch);
        }
    }

    /**
     * Serves {@code /metrics} on TCP {@code port} of {@code stack} with the default limits.
     *
     * @param stack the started stack to listen on and report
     * @param port the TCP port, 1..65535
     * @throws IllegalArgumentException if {@code port} is outside 1..65535
     * @throws StackException if the port is in use or the stack is closed
     */
    public MetricsService(FlowStack stack, int port) {
        this(stack, port, MetricsLimits.DEFAULTS);
    }

    /**
     * Serves {@code /metrics} on TCP {@code port} of {@code stack} within {@code limits}.
     *
     * @param stack the started stack to listen on and report
     * @param port the TCP port, 1..65535
     * @param limits connections per core, request deadline, cache interval, allowed sources
     * @throws IllegalArgumentException if {@code port} is outside 1..65535
     * @throws StackException if the port is in use or the stack is closed
     */
    public MetricsService(FlowStack stack, int port, MetricsLimits limits) {
        this.stack = stack;
        this.limits = limits;
        this.cacheNanos = limits.cacheInterval().toNanos();
        this.guard = new MetricsGuard(limits, stack.cores());
        this.requests = new long[(stack.cores() + 1) * STRIDE];
        this.seen = new Rendered[stack.cores()];
        this.nextLook = new long[stack.cores()];
        super(stack, port, "metrics", TcpSocketOptions.defaults(stack.config()), IDLE_TIMEOUT, WRITE_TIMEOUT,
                limits.requestTimeout(), locals(stack));
        Thread t = Thread.ofPlatform().daemon().name("metrics-" + port() + "-snapshot").unstarted(this::snapshotLoop);
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

    // ------------------------------------------------------------------ limits and counters

    /**
     * The limits the service applies.
     *
     * @return the limits given at construction
     */
    public MetricsLimits limits() {
        return limits;
    }

    /**
     * Connections reset because their request deadline passed; any thread.
     *
     * @return the count over every core since the service started
     */
    public long cut() {
        return guard.sum(MetricsGuard.CUT);
    }

    /**
     * Connections reset on arrival because their core served its maximum; any thread.
     *
     * @return the count over every core since the service started
     */
    public long refusedByLimit() {
        return guard.sum(MetricsGuard.REFUSED_LIMIT);
    }

    /**
     * Connections reset on arrival because their source is not allowed; any thread.
     *
     * @return the count over every core since the service started
     */
    public long refusedBySource() {
        return guard.sum(MetricsGuard.REFUSED_SOURCE);
    }

    /**
     * Snapshots of the stack taken (and rendered) for scrapes; any thread.
     *
     * @return the count since the service started
     */
    public long snapshots() {
        return guard.snapshots();
    }

    @Override
    boolean admit(TcpChannel ch, Core c) {
        return guard.admit(c.index, ch.remoteAddress(), c.listed);
    }

    @Override
    void requestExpired(HttpConn s, Core c) {
        guard.count(c.index, MetricsGuard.CUT);
        kill(s);
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
    boolean answer(HttpConn conn, Local l, Core c) {
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
        if (!h.pathIs("/metrics")) {
            return small(s, c, w, 404, NOT_FOUND, false, conn0, headOnly, keep);
        }
        s.headOnly = headOnly;
        s.keep = keep;
        s.connection = conn0;
        s.since = c.now - cacheNanos; // a rendering begun within the interval before this request answers it
        Rendered r = latest;
        if (r != null && r.body != null && r.began - s.since >= 0) {
            return respond(s, c, r); // from the cache, now: no core but this one works for it
        }
        s.parked = true;
        due(s, c.now + writeNanos);
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

    /** Answers a parked request if the published rendering is fresh enough for it. */
    private void deliver(Conn conn, Core c) {
        if (!(conn instanceof Scrape s) || !s.parked || s.mode != SERVING) {
            return;
        }
        Rendered r = latest;
        if (r != null && r.began - s.since >= 0 && respond(s, c, r)) {
            s.parked = false;
            if (s.mode == SERVING && s.bodyLeft == 0 && s.peerDone) {
                finish(s);
            }
        }
    }

    /**
     * Writes the response to the request of {@code s} from rendering {@code r}; false (nothing
     * written) if the send buffer has no room for its head yet. Kills the connection if the
     * snapshot failed (nothing to answer with).
     */
    private boolean respond(Scrape s, Core c, Rendered r) {
        if (r.body == null) {
            kill(s); // the snapshot failed (logged)
            return true;
        }
        int conn0 = s.connection;
        long n = r.body.byteSize();
        if (!room(s, HttpResponseWriter.headLength(200, TYPE, n, false, conn0))) {
            return false; // parked: the next tick tries again; else TCP offers the request again
        }
        HttpResponseWriter w = locals[c.index].out;
        w.head(200, TYPE, n, false, conn0);
        send(s, w);
        s.parked = false;
        if (s.headOnly || n == 0) {
            return served(s, c, s.keep, 0);
        }
        return startBody(s, c, r.body, 0, n, s.keep, 0);
    }

    @Override
    void expired(Conn conn, Core c) {
        Scrape s = (Scrape) conn;
        if (s.parked) {
            requestExpired(s, c); // no snapshot, or no room for it, in time
        } else {
            super.expired(conn, c);
        }
    }

    // ------------------------------------------------------------------ the snapshot thread

    private void snapshotLoop() {
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
            long now = stack.config().clock.nanoTime();
            Rendered last = latest;
            if (last != null && now - last.began < cacheNanos) {
                // every request parked so far came at or before now, so within the interval
                // after last began: last answers it (on its core's next tick)
                continue;
            }
            guard.snapshotBegun(); // before the snapshot, so that the rendering counts itself
            MemorySegment body = null;
            try {
                StringBuilder b = new StringBuilder(prometheus(stack.snapshot(ConnectionQuery.NONE)));
                guard.render(b);
                byte[] text = b.toString().getBytes(StandardCharsets.UTF_8);
                body = Arena.ofAuto().allocate(Math.max(1, text.length)).asSlice(0, text.length);
                MemorySegment.copy(text, 0, body, ValueLayout.JAVA_BYTE, 0, text.length);
            } catch (StackException e) {
                if (closing()) {
                    return;
                }
                log("snapshot failed: " + e.getMessage());
            }
            latest = new Rendered(now, body);
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
