package io.flowstack.tools.bench;

import io.flowstack.tools.Json;
import java.util.ArrayList;
import java.util.List;

/**
 * The outcome of one client run. The measured figures cover the run after the {@code --omit}
 * warm-up ({@code seconds}, {@code bytes}, {@code transactions}, {@code connections}, the
 * latency percentiles); the {@code total...} figures cover all of it.
 *
 * @param net          "kernel" or "stack"
 * @param api          "sockets" (kernel), "callback" or "blocking" (stack)
 * @param seconds      measured time: from the end of the warm-up to the last connection's end
 * @param bytes        stream: bytes the client sent (and the server confirmed) or received
 * @param transactions rr: request/response pairs; crr: completed connections
 * @param connections  connections completed (crr) or opened (stream, rr)
 * @param errors       connections that failed (reset, refused, timed out, protocol error)
 * @param latency      rr, crr: per transaction (rr: request sent to response read; crr: connect
 *                     started to response read); null otherwise or if none completed
 * @param verified     every byte that arrived matched the pattern and every count the server
 *                     confirmed matched what was sent
 * @param serverBytes  stream to the server: the bytes the servers confirmed in their trailers
 *                     (-1 if not applicable)
 * @param stoppedBy    duration, bytes, transactions, connections, stop (Ctrl-C or {@link BenchClient#stop}),
 *                     error, or done (every connection ended by itself)
 * @param problems     the first error messages (at most 10)
 */
public record BenchResult(BenchSpec spec, String net, String api, double seconds, long bytes, long transactions,
                          long connections, long errors, Latency latency, boolean verified, long serverBytes,
                          String stoppedBy, double totalSeconds, long totalBytes, long totalTransactions,
                          long totalConnections, List<Interval> intervals, List<String> problems) {

    public BenchResult {
        intervals = List.copyOf(intervals);
        problems = List.copyOf(problems);
    }

    public double bitsPerSecond() {
        return seconds > 0 ? bytes * 8.0 / seconds : 0;
    }

    public double transactionsPerSecond() {
        return seconds > 0 ? transactions / seconds : 0;
    }

    public double connectionsPerSecond() {
        return seconds > 0 ? connections / seconds : 0;
    }

    /** No error, every byte as expected. */
    public boolean ok() {
        return errors == 0 && verified && problems.isEmpty();
    }

    /** The figure a comparison table shows: bit/s (stream), transactions/s (rr) or connections/s (crr). */
    public double headline() {
        return switch (spec.mode()) {
            case STREAM -> bitsPerSecond();
            case RR -> transactionsPerSecond();
            case CRR -> connectionsPerSecond();
        };
    }

    /** The summary as text lines. */
    public List<String> summaryLines() {
        List<String> l = new ArrayList<>();
        String window = Units.seconds(seconds) + " s" + (spec.omitSeconds() > 0
                ? " (after " + spec.omitSeconds() + " s omitted; all: " + Units.seconds(totalSeconds) + " s)" : "");
        switch (spec.mode()) {
            case STREAM -> {
                l.add("summary  " + Units.bytes(bytes) + " in " + window + " = " + Units.bits(bitsPerSecond())
                        + " (" + (spec.reverse() ? "received" : "sent") + ")");
                if (!spec.reverse() && serverBytes >= 0) {
                    l.add("         server confirmed " + serverBytes + " bytes, all " + totalBytes + " sent"
                            + (serverBytes == totalBytes ? "" : " (MISMATCH)"));
                } else if (spec.reverse()) {
                    l.add("         all " + totalBytes + " bytes received");
                }
            }
            case RR -> l.add("summary  " + transactions + " transactions in " + window + " = "
                    + Units.rate(transactionsPerSecond()) + " transactions/s over " + spec.parallel() + " connection"
                    + (spec.parallel() == 1 ? "" : "s"));
            case CRR -> l.add("summary  " + connections + " connections in " + window + " = "
                    + Units.rate(connectionsPerSecond()) + " connections/s (" + spec.parallel() + " connect loop"
                    + (spec.parallel() == 1 ? "" : "s") + ")");
        }
        if (latency != null) {
            l.add("latency  " + (spec.mode() == BenchSpec.Mode.CRR ? "connect to response, " : "request to response, ")
                    + latency.count() + " samples: min " + Units.micros(latency.minUs())
                    + "  p50 " + Units.micros(latency.p50Us()) + "  p90 " + Units.micros(latency.p90Us())
                    + "  p99 " + Units.micros(latency.p99Us()) + "  p99.9 " + Units.micros(latency.p999Us())
                    + "  max " + Units.micros(latency.maxUs()) + "  mean " + Units.micros(latency.meanUs()));
        }
        l.add("result   " + (ok() ? "ok" : "FAILED") + ": " + (verified ? "data verified" : "DATA NOT VERIFIED")
                + ", " + errors + " error" + (errors == 1 ? "" : "s") + ", stopped by " + stoppedBy);
        for (String p : problems) {
            l.add("problem  " + p);
        }
        return l;
    }

    /** The whole result as one JSON object (docs/BENCHMARKS.md lists the fields). */
    public Json.Obj toJson() {
        Json.Obj o = Json.document("bench")
                .put("role", "client")
                .put("net", net)
                .put("api", api)
                .put("mode", spec.mode().key())
                .put("direction", spec.mode() == BenchSpec.Mode.STREAM ? (spec.reverse() ? "receive" : "send") : null)
                .put("parallel", spec.parallel())
                .put("request_size", spec.latency() ? spec.requestSize() : null)
                .put("response_size", spec.latency() ? spec.responseSize() : null)
                .put("length", spec.mode() == BenchSpec.Mode.STREAM ? spec.length() : null)
                .put("server", spec.host() + ":" + spec.port())
                .put("omit_seconds", spec.omitSeconds())
                .put("seconds", seconds)
                .put("bytes", bytes)
                .put("bits_per_second", bitsPerSecond())
                .put("transactions", transactions)
                .put("transactions_per_second", spec.latency() ? transactionsPerSecond() : null)
                .put("connections", connections)
                .put("connections_per_second", spec.mode() == BenchSpec.Mode.CRR ? connectionsPerSecond() : null)
                .put("errors", errors)
                .put("verified", verified)
                .put("server_bytes", serverBytes >= 0 ? serverBytes : null)
                .put("latency_us", latency != null ? latency.toJson() : null)
                .put("stopped_by", stoppedBy)
                .put("ok", ok())
                .put("total", Json.obj().put("seconds", totalSeconds).put("bytes", totalBytes)
                        .put("transactions", totalTransactions).put("connections", totalConnections))
                .put("problems", problems);
        List<Object> iv = new ArrayList<>();
        for (Interval i : intervals) {
            iv.add(i.toJson());
        }
        return o.put("intervals", iv);
    }
}
