package io.flowstack.tools.bench;

import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * What a bench client measures (immutable). Build with {@link #stream}, {@link #rr} or
 * {@link #crr} and the {@code with...} methods; the constructor checks every value and throws
 * {@link IllegalArgumentException} with a one-line message.
 *
 * @param mode           stream, request/response or connect/request/response/close
 * @param reverse        stream only: the server sends, the client receives
 * @param parallel       connections (streams, request/response connections, connect loops), 1..{@value #MAX_PARALLEL}
 * @param requestSize    rr/crr: bytes per request
 * @param responseSize   rr/crr: bytes per response
 * @param durationNanos  time limit (always set: every run is bounded in time)
 * @param maxBytes       stream: stop after this many bytes in all (0: no byte limit)
 * @param maxTransactions rr: stop after this many transactions in all (0: none)
 * @param maxConnections crr: stop after this many connections in all (0: none)
 * @param omitSeconds    warm-up seconds left out of the summary (printed, marked omitted)
 * @param intervalNanos  progress interval
 * @param length         stream: bytes per write
 * @param host           the server's address
 * @param port           the server's port
 * @param connectTimeoutNanos how long one connect may take
 */
public record BenchSpec(Mode mode, boolean reverse, int parallel, int requestSize, int responseSize,
                        long durationNanos, long maxBytes, long maxTransactions, long maxConnections,
                        int omitSeconds, long intervalNanos, int length, String host, int port,
                        long connectTimeoutNanos) {
    public static final int MAX_PARALLEL = 128;
    public static final int DEFAULT_LENGTH = 128 * 1024;
    public static final int MAX_LENGTH = 1 << 20;
    public static final Duration DEFAULT_DURATION = Duration.ofSeconds(10);
    /** The time limit of a run bounded by a count when no duration is given. */
    public static final Duration SAFETY_DURATION = Duration.ofSeconds(600);
    public static final Duration MAX_DURATION = Duration.ofDays(1);

    /** What is measured. */
    public enum Mode {
        /** Bulk transfer: throughput. */
        STREAM("stream"),
        /** Request/response on open connections: transactions/s and latency. */
        RR("rr"),
        /** Connect, one request/response, close: connections/s and latency. */
        CRR("crr");

        private final String key;

        Mode(String key) {
            this.key = key;
        }

        public String key() {
            return key;
        }
    }

    public BenchSpec {
        if (mode == null) {
            throw new IllegalArgumentException("no mode");
        }
        if (parallel < 1 || parallel > MAX_PARALLEL) {
            throw new IllegalArgumentException("--parallel must be 1.." + MAX_PARALLEL + ", got " + parallel);
        }
        if (mode != Mode.STREAM) {
            checkSize(mode == Mode.RR ? "--rr" : "--crr", requestSize);
            checkSize(mode == Mode.RR ? "--rr" : "--crr", responseSize);
            if (reverse) {
                throw new IllegalArgumentException("--reverse is for the stream mode (not --" + mode.key + ")");
            }
        }
        if (durationNanos <= 0 || durationNanos > MAX_DURATION.toNanos()) {
            throw new IllegalArgumentException("--duration must be > 0 and at most 1 day");
        }
        if (maxBytes < 0 || maxTransactions < 0 || maxConnections < 0) {
            throw new IllegalArgumentException("counts must be positive");
        }
        long count = Math.max(maxBytes, Math.max(maxTransactions, maxConnections));
        if (count > 0 && count < parallel) {
            throw new IllegalArgumentException("a count (" + count + ") must be at least --parallel (" + parallel
                    + "): it is split over the connections");
        }
        if (maxBytes > 0 && mode != Mode.STREAM) {
            throw new IllegalArgumentException("--bytes is for the stream mode; with --" + mode.key
                    + " use --" + (mode == Mode.RR ? "transactions" : "connections"));
        }
        if (maxTransactions > 0 && mode != Mode.RR) {
            throw new IllegalArgumentException("--transactions is for --rr"
                    + (mode == Mode.CRR ? "; with --crr use --connections" : ""));
        }
        if (maxConnections > 0 && mode != Mode.CRR) {
            throw new IllegalArgumentException("--connections is for --crr (stream and rr keep --parallel connections open)");
        }
        if (omitSeconds < 0 || TimeUnit.SECONDS.toNanos(omitSeconds) >= durationNanos) {
            throw new IllegalArgumentException("--omit must be >= 0 and shorter than --duration");
        }
        if (intervalNanos < TimeUnit.MILLISECONDS.toNanos(100) || intervalNanos > TimeUnit.SECONDS.toNanos(60)) {
            throw new IllegalArgumentException("--interval must be 0.1..60 seconds");
        }
        if (length < 1 || length > MAX_LENGTH) {
            throw new IllegalArgumentException("--length must be 1.." + MAX_LENGTH + " bytes, got " + length);
        }
        if (host == null || host.isBlank()) {
            throw new IllegalArgumentException("no server address");
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("--port must be 1..65535, got " + port);
        }
        if (connectTimeoutNanos <= 0) {
            throw new IllegalArgumentException("the connect timeout must be > 0");
        }
    }

    private static void checkSize(String option, int size) {
        if (size < 1 || size > BenchProtocol.MAX_MESSAGE) {
            throw new IllegalArgumentException(option + " sizes must be 1.." + BenchProtocol.MAX_MESSAGE + " bytes, got " + size);
        }
    }

    /** A 10-second single stream to {@code host}, client to server. */
    public static BenchSpec stream(String host) {
        return new BenchSpec(Mode.STREAM, false, 1, 0, 0, DEFAULT_DURATION.toNanos(), 0, 0, 0, 0,
                TimeUnit.SECONDS.toNanos(1), DEFAULT_LENGTH, host, BenchProtocol.DEFAULT_PORT,
                TimeUnit.SECONDS.toNanos(10));
    }

    /** Request/response of {@code size} bytes each way on one connection for 10 s. */
    public static BenchSpec rr(String host, int size) {
        return new BenchSpec(Mode.RR, false, 1, size, size, DEFAULT_DURATION.toNanos(), 0, 0, 0, 0,
                TimeUnit.SECONDS.toNanos(1), DEFAULT_LENGTH, host, BenchProtocol.DEFAULT_PORT,
                TimeUnit.SECONDS.toNanos(10));
    }

    /** Connect/request/response/close with {@code size} bytes each way, one loop, 10 s. */
    public static BenchSpec crr(String host, int size) {
        return new BenchSpec(Mode.CRR, false, 1, size, size, DEFAULT_DURATION.toNanos(), 0, 0, 0, 0,
                TimeUnit.SECONDS.toNanos(1), DEFAULT_LENGTH, host, BenchProtocol.DEFAULT_PORT,
                TimeUnit.SECONDS.toNanos(10));
    }

    public BenchSpec withReverse(boolean v) {
        return new BenchSpec(mode, v, parallel, requestSize, responseSize, durationNanos, maxBytes, maxTransactions,
                maxConnections, omitSeconds, intervalNanos, length, host, port, connectTimeoutNanos);
    }

    public BenchSpec withParallel(int v) {
        return new BenchSpec(mode, reverse, v, requestSize, responseSize, durationNanos, maxBytes, maxTransactions,
                maxConnections, omitSeconds, intervalNanos, length, host, port, connectTimeoutNanos);
    }

    public BenchSpec withSizes(int request, int response) {
        return new BenchSpec(mode, reverse, parallel, request, response, durationNanos, maxBytes, maxTransactions,
                maxConnections, omitSeconds, intervalNanos, length, host, port, connectTimeoutNanos);
    }

    public BenchSpec withDuration(Duration d) {
        return new BenchSpec(mode, reverse, parallel, requestSize, responseSize, d.toNanos(), maxBytes,
                maxTransactions, maxConnections, omitSeconds, intervalNanos, length, host, port, connectTimeoutNanos);
    }

    public BenchSpec withBytes(long v) {
        return new BenchSpec(mode, reverse, parallel, requestSize, responseSize, durationNanos, v, maxTransactions,
                maxConnections, omitSeconds, intervalNanos, length, host, port, connectTimeoutNanos);
    }

    public BenchSpec withTransactions(long v) {
        return new BenchSpec(mode, reverse, parallel, requestSize, responseSize, durationNanos, maxBytes, v,
                maxConnections, omitSeconds, intervalNanos, length, host, port, connectTimeoutNanos);
    }

    public BenchSpec withConnections(long v) {
        return new BenchSpec(mode, reverse, parallel, requestSize, responseSize, durationNanos, maxBytes,
                maxTransactions, v, omitSeconds, intervalNanos, length, host, port, connectTimeoutNanos);
    }

    public BenchSpec withOmit(int seconds) {
        return new BenchSpec(mode, reverse, parallel, requestSize, responseSize, durationNanos, maxBytes,
                maxTransactions, maxConnections, seconds, intervalNanos, length, host, port, connectTimeoutNanos);
    }

    public BenchSpec withInterval(Duration d) {
        return new BenchSpec(mode, reverse, parallel, requestSize, responseSize, durationNanos, maxBytes,
                maxTransactions, maxConnections, omitSeconds, d.toNanos(), length, host, port, connectTimeoutNanos);
    }

    public BenchSpec withLength(int v) {
        return new BenchSpec(mode, reverse, parallel, requestSize, responseSize, durationNanos, maxBytes,
                maxTransactions, maxConnections, omitSeconds, intervalNanos, v, host, port, connectTimeoutNanos);
    }

    public BenchSpec withPort(int v) {
        return new BenchSpec(mode, reverse, parallel, requestSize, responseSize, durationNanos, maxBytes,
                maxTransactions, maxConnections, omitSeconds, intervalNanos, length, host, v, connectTimeoutNanos);
    }

    public BenchSpec withConnectTimeout(Duration d) {
        return new BenchSpec(mode, reverse, parallel, requestSize, responseSize, durationNanos, maxBytes,
                maxTransactions, maxConnections, omitSeconds, intervalNanos, length, host, port, d.toNanos());
    }

    /** Whether this is a latency mode (rr, crr). */
    public boolean latency() {
        return mode != Mode.STREAM;
    }

    /**
     * The share of {@code total} that connection {@code index} of {@link #parallel} carries: at
     * least 1, since a count is never below {@code parallel} (0 if there is no count).
     */
    public long share(long total, int index) {
        if (total == 0) {
            return 0;
        }
        return total / parallel + (index < total % parallel ? 1 : 0);
    }

    /** The header a connection of this spec starts with. */
    BenchProtocol.Header header(long streamQuota) {
        return switch (mode) {
            case STREAM -> reverse ? BenchProtocol.Header.fromServer(streamQuota) : BenchProtocol.Header.toServer();
            case RR -> BenchProtocol.Header.rr(requestSize, responseSize);
            case CRR -> BenchProtocol.Header.crr(requestSize, responseSize);
        };
    }

    /** "tcp stream, client -> server, 2 streams" and the like. */
    public String describe() {
        String p = parallel + " " + switch (mode) {
            case STREAM -> parallel == 1 ? "stream" : "streams";
            case RR -> parallel == 1 ? "connection" : "connections";
            case CRR -> parallel == 1 ? "connect loop" : "connect loops";
        };
        return switch (mode) {
            case STREAM -> String.format(Locale.ROOT, "tcp stream %s, %s, %d-byte writes",
                    reverse ? "server -> client" : "client -> server", p, length);
            case RR -> String.format(Locale.ROOT, "tcp request/response %d/%d bytes, %s, one outstanding each",
                    requestSize, responseSize, p);
            case CRR -> String.format(Locale.ROOT, "tcp connect/request/response/close %d/%d bytes, %s",
                    requestSize, responseSize, p);
        };
    }
}
