package io.flowstack.services;

import java.time.Duration;
import java.util.List;

/**
 * What {@link MetricsService} allows a client: how many connections each core serves at once,
 * how long a request may take, how often the counters are read, and from which sources.
 * Immutable.
 *
 * @param maxConnections connections each core serves at once (the total is this times the
 *     cores); a connection over it is reset as soon as it is established. 1..65535
 * @param requestTimeout the absolute deadline of a request: from the connection's accept, or from
 *     the first byte of a later request, to its response head written; not restarted by the bytes
 *     that arrive. A connection past it is reset. 10 ms..60 s
 * @param cacheInterval how long a rendering of the counters answers scrapes: a scrape is answered
 *     with a snapshot begun at most this long before it arrived, so snapshots are taken at most
 *     once per interval however many scrapes come. 10 ms..60 s
 * @param allow the source prefixes connections are accepted from; empty: any. A connection from
 *     elsewhere is reset as soon as it is established
 */
public record MetricsLimits(int maxConnections, Duration requestTimeout, Duration cacheInterval,
                            List<SourcePrefix> allow) {
    // before DEFAULTS: its construction checks against them
    private static final Duration SHORTEST = Duration.ofMillis(10);
    private static final Duration LONGEST = Duration.ofSeconds(60);

    /** Connections per core by default. */
    public static final int DEFAULT_MAX_CONNECTIONS = 32;
    /** The request deadline by default. */
    public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(5);
    /** The cache interval by default. */
    public static final Duration DEFAULT_CACHE_INTERVAL = Duration.ofSeconds(1);
    /** The defaults: 32 connections per core, 5 s per request, a snapshot at most every second, any source. */
    public static final MetricsLimits DEFAULTS = new MetricsLimits(DEFAULT_MAX_CONNECTIONS, DEFAULT_REQUEST_TIMEOUT,
            DEFAULT_CACHE_INTERVAL, List.of());

    /**
     * Checks the ranges; copies {@code allow}.
     *
     * @throws IllegalArgumentException if a value is out of its range (the message says which)
     */
    public MetricsLimits {
        if (maxConnections < 1 || maxConnections > 65535) {
            throw new IllegalArgumentException("max-connections must be 1..65535 per core, got " + maxConnections);
        }
        check("timeout", requestTimeout);
        check("cache", cacheInterval);
        allow = List.copyOf(allow);
    }

    private static void check(String what, Duration d) {
        if (d == null || d.compareTo(SHORTEST) < 0 || d.compareTo(LONGEST) > 0) {
            throw new IllegalArgumentException(what + " must be 10ms..60s, got " + (d == null ? "nothing" : text(d)));
        }
    }

    /**
     * These limits with another connection cap.
     *
     * @param n connections per core
     * @return the new limits
     */
    public MetricsLimits withMaxConnections(int n) {
        return new MetricsLimits(n, requestTimeout, cacheInterval, allow);
    }

    /**
     * These limits with another request deadline.
     *
     * @param d the deadline
     * @return the new limits
     */
    public MetricsLimits withRequestTimeout(Duration d) {
        return new MetricsLimits(maxConnections, d, cacheInterval, allow);
    }

    /**
     * These limits with another cache interval.
     *
     * @param d the interval
     * @return the new limits
     */
    public MetricsLimits withCacheInterval(Duration d) {
        return new MetricsLimits(maxConnections, requestTimeout, d, allow);
    }

    /**
     * These limits with another list of allowed sources.
     *
     * @param prefixes the prefixes; empty for any source
     * @return the new limits
     */
    public MetricsLimits withAllow(List<SourcePrefix> prefixes) {
        return new MetricsLimits(maxConnections, requestTimeout, cacheInterval, prefixes);
    }

    /**
     * Whether a connection from {@code address} is accepted.
     *
     * @param address the peer's IPv4 address, big-endian
     * @return true if {@link #allow} is empty or a prefix of it contains the address
     */
    public boolean allows(int address) {
        if (allow.isEmpty()) {
            return true;
        }
        for (SourcePrefix p : allow) {
            if (p.contains(address)) {
                return true;
            }
        }
        return false;
    }

    /**
     * A duration as the options write it: whole seconds as {@code 5s}, else milliseconds as
     * {@code 500ms}.
     *
     * @param d the duration
     * @return its text
     */
    public static String text(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
    }
}
