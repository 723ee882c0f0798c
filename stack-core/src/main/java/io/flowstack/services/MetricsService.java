package io.flowstack.services;

import io.flowstack.services.HttpService;
import io.flowstack.services.AbstractTcpService;
import io.flowstack.core.FlowStack;
import io.flowstack.core.stats.ConnectionQuery;
import io.flowstack.core.stats.StackSnapshot;
import io.flowstack.core.stats.Stat;
import io.flowstack.core.socket.StackException;
import io.flowstack.core.socket.TcpConnection;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The stack's own counters in the Prometheus text exposition format (version 0.0.4), served by
 * the stack itself over TCP: an HTTP/1.1 responder for {@code GET /metrics} (and {@code HEAD}),
 * written on the public socket API like {@link HttpService}.
 *
 * <p>Every {@link Stat} is a counter family {@code flowstack_<stat>_total} with one sample per
 * core ({@code core="N"}), zeros included, so that series exist before the first event; gauges
 * {@code flowstack_tcp_connections}, {@code flowstack_arp_entries} (per core) and
 * {@code flowstack_info} (address, MAC, device) follow. The numbers come from
 * {@link FlowStack#snapshot()}, which reads each core on its own netisr.
 *
 * <p>HTTP: a request line and header section of at most {@value #MAX_HEAD_BYTES} bytes; other
 * paths 404, other methods 405, a malformed request or one with a body 400; HTTP/1.1 keeps the
 * connection open unless {@code Connection: close}, HTTP/1.0 closes it unless
 * {@code Connection: keep-alive}; {@link #IDLE_TIMEOUT} between requests.
 *
 * <p>Owned by: the thread that creates it (lifecycle); the accept loop runs on the platform
 * thread {@code metrics-PORT-accept}, each connection on its own virtual thread
 * {@code metrics-PORT-N}.
 */
public final class MetricsService extends AbstractTcpService {
    /** Content type of the text exposition format. */
    public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
    static final int MAX_HEAD_BYTES = 8192;
    static final Duration IDLE_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration WRITE_TIMEOUT = Duration.ofSeconds(30);

    private final FlowStack stack;

    /**
     * Serves {@code /metrics} on TCP {@code port} of {@code stack}.
     *
     * @param stack the started stack to listen on and report
     * @param port the TCP port, 1..65535
     * @throws IllegalArgumentException if {@code port} is outside 1..65535
     * @throws StackException if the port is in use or the stack is closed
     */
    public MetricsService(FlowStack stack, int port) {
        super(stack, port, "metrics");
        this.stack = stack;
        start();
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

    // ------------------------------------------------------------------ HTTP

    @Override
    void serve(TcpConnection c) {
        c.writeTimeout(WRITE_TIMEOUT.toNanos(), TimeUnit.NANOSECONDS);
        byte[] in = new byte[MAX_HEAD_BYTES];
        int end = 0;
        while (!closing()) {
            int headEnd;
            while ((headEnd = headEnd(in, end)) < 0) {
                if (end == in.length) {
                    respond(c, 431, "text/plain", "request head too large\n", false, false);
                    return;
                }
                c.readTimeout(IDLE_TIMEOUT.toNanos(), TimeUnit.NANOSECONDS);
                int n;
                try {
                    n = c.read(in, end, in.length - end);
                } catch (StackException e) {
                    if (socketTimeout(e)) {
                        return; // idle: close
                    }
                    throw e;
                }
                if (n < 0) {
                    return;
                }
                end += n;
            }
            String head = new String(in, 0, headEnd, StandardCharsets.ISO_8859_1);
            System.arraycopy(in, headEnd, in, 0, end - headEnd);
            end -= headEnd;
            if (!answer(c, head)) {
                c.shutdownOutput();
                return;
            }
        }
    }

    /** Answers one request head; returns whether the connection stays open. */
    private boolean answer(TcpConnection c, String head) {
        String[] lines = head.split("\r?\n");
        int first = 0;
        while (first < lines.length && lines[first].isEmpty()) {
            first++;
        }
        String[] rl = first < lines.length ? lines[first].split(" ", -1) : new String[0];
        if (rl.length != 3 || !rl[2].startsWith("HTTP/1.")) {
            respond(c, 400, "text/plain", "bad request line\n", false, false);
            return false;
        }
        boolean http11 = rl[2].equals("HTTP/1.1");
        boolean keep = http11;
        for (int i = first + 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            if (colon <= 0) {
                continue;
            }
            String name = lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT);
            String value = lines[i].substring(colon + 1).trim().toLowerCase(Locale.ROOT);
            if (name.equals("connection")) {
                keep = value.contains("close") ? false : value.contains("keep-alive") || keep;
            } else if ((name.equals("content-length") && !value.equals("0")) || name.equals("transfer-encoding")) {
                respond(c, 400, "text/plain", "a request body is not accepted\n", false, false);
                return false;
            }
        }
        String method = rl[0];
        boolean headOnly = method.equals("HEAD");
        if (!method.equals("GET") && !headOnly) {
            respond(c, 405, "text/plain", "only GET and HEAD\n", keep, false);
            return keep;
        }
        String path = HttpService.path(rl[1]);
        if (!"/metrics".equals(path)) {
            respond(c, 404, "text/plain", "not found: the metrics are at /metrics\n", keep, headOnly);
            return keep;
        }
        respond(c, 200, CONTENT_TYPE, prometheus(stack.snapshot(ConnectionQuery.NONE)), keep, headOnly);
        return keep;
    }

    private static void respond(TcpConnection c, int status, String type, String body, boolean keep, boolean headOnly) {
        byte[] payload = body.getBytes(StandardCharsets.UTF_8);
        String reason = switch (status) {
            case 200 -> "OK";
            case 400 -> "Bad Request";
            case 404 -> "Not Found";
            case 405 -> "Method Not Allowed";
            case 431 -> "Request Header Fields Too Large";
            default -> "Error";
        };
        StringBuilder h = new StringBuilder(256).append("HTTP/1.1 ").append(status).append(' ').append(reason)
                .append("\r\nServer: flowstack\r\nContent-Type: ").append(type)
                .append("\r\nContent-Length: ").append(payload.length).append("\r\n");
        if (status == 405) {
            h.append("Allow: GET, HEAD\r\n");
        }
        if (!keep) {
            h.append("Connection: close\r\n");
        }
        byte[] header = h.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1);
        c.write(header, 0, header.length);
        if (!headOnly) {
            c.write(payload, 0, payload.length);
        }
    }

    /** Index after the blank line ending the head in {@code b[0, end)}, or -1. */
    private static int headEnd(byte[] b, int end) {
        for (int i = 0; i < end; i++) {
            if (b[i] == '\n') {
                if (i + 1 < end && b[i + 1] == '\n') {
                    return i + 2;
                }
                if (i + 2 < end && b[i + 1] == '\r' && b[i + 2] == '\n') {
                    return i + 3;
                }
            }
        }
        return -1;
    }
}
