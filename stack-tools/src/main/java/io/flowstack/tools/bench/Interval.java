package io.flowstack.tools.bench;

import io.flowstack.tools.Json;

/**
 * One progress interval of a run, seconds counted from the start of the measurement.
 *
 * @param bytes        bytes the client moved (sent in a stream to the server, received in one from it)
 * @param latency      percentiles of the transactions completed in the interval (rr, crr), or null
 * @param omitted      inside the {@code --omit} warm-up: not part of the summary
 */
public record Interval(double start, double end, long bytes, long transactions, long connections, long errors,
                       Latency latency, boolean omitted) {

    public double seconds() {
        return end - start;
    }

    public double bitsPerSecond() {
        return seconds() > 0 ? bytes * 8.0 / seconds() : 0;
    }

    public double transactionsPerSecond() {
        return seconds() > 0 ? transactions / seconds() : 0;
    }

    public double connectionsPerSecond() {
        return seconds() > 0 ? connections / seconds() : 0;
    }

    Json.Obj toJson() {
        Json.Obj o = Json.obj().put("start", start).put("end", end).put("bytes", bytes)
                .put("bits_per_second", bitsPerSecond()).put("transactions", transactions)
                .put("transactions_per_second", transactionsPerSecond()).put("connections", connections)
                .put("connections_per_second", connectionsPerSecond()).put("errors", errors);
        if (latency != null) {
            o.put("p50_us", latency.p50Us()).put("p99_us", latency.p99Us());
        }
        return o.put("omitted", omitted);
    }
}
