package io.flowstack.tools.bench;

import io.flowstack.tools.Json;
import org.HdrHistogram.Histogram;

/**
 * Latency percentiles in microseconds, from an HdrHistogram of nanoseconds (3 significant
 * digits).
 */
public record Latency(long count, double minUs, double meanUs, double p50Us, double p90Us, double p99Us,
                      double p999Us, double maxUs) {

    /** The percentiles of {@code h}, or null if it is empty. */
    public static Latency of(Histogram h) {
        if (h.getTotalCount() == 0) {
            return null;
        }
        return new Latency(h.getTotalCount(), us(h.getMinValue()), h.getMean() / 1000.0,
                us(h.getValueAtPercentile(50)), us(h.getValueAtPercentile(90)), us(h.getValueAtPercentile(99)),
                us(h.getValueAtPercentile(99.9)), us(h.getMaxValue()));
    }

    private static double us(long nanos) {
        return nanos / 1000.0;
    }

    Json.Obj toJson() {
        return Json.obj().put("count", count).put("min", minUs).put("mean", meanUs).put("p50", p50Us)
                .put("p90", p90Us).put("p99", p99Us).put("p99_9", p999Us).put("max", maxUs);
    }
}
