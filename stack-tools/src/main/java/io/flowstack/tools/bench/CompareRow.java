package io.flowstack.tools.bench;

import io.flowstack.tools.Json;
import java.util.Map;

/**
 * One row of {@code bench --compare}: a mode measured against the stack and against the kernel
 * (either may still be missing, after Ctrl-C).
 *
 * @param mode   what was measured
 * @param stack  the run against the stack, or null if it did not run
 * @param kernel the run against the kernel, or null if it did not run
 */
public record CompareRow(CompareMode mode, Side stack, Side kernel) {

    /**
     * One client run as the table needs it.
     *
     * @param ok      the client said ok (no error, every byte verified)
     * @param figure  bit/s, transactions/s or connections/s (0 if the run failed)
     * @param seconds the measured time
     * @param p50Us   rr, crr: median latency in microseconds (NaN otherwise)
     * @param p99Us   rr, crr: 99th percentile in microseconds (NaN otherwise)
     * @param error   why it failed (null if ok)
     */
    public record Side(boolean ok, double figure, double seconds, double p50Us, double p99Us, String error) {

        /** A run that gave no result: {@code error} says why. */
        public static Side failed(String error) {
            return new Side(false, 0, 0, Double.NaN, Double.NaN, error);
        }

        /** The figures of a bench client's {@code --json} object for {@code mode}. */
        public static Side fromClientJson(CompareMode mode, Map<String, Object> j) {
            boolean ok = Boolean.TRUE.equals(j.get("ok"));
            double figure = number(j.get(mode.unit().jsonField()));
            double seconds = number(j.get("seconds"));
            double p50 = Double.NaN;
            double p99 = Double.NaN;
            if (j.get("latency_us") instanceof Map<?, ?> l) {
                p50 = number(l.get("p50"));
                p99 = number(l.get("p99"));
            }
            String error = null;
            if (!ok) {
                error = j.get("error") instanceof String s ? s
                        : j.get("problems") instanceof java.util.List<?> p && !p.isEmpty() ? String.valueOf(p.get(0))
                        : "the client reported a failure (errors " + j.get("errors") + ", verified " + j.get("verified") + ")";
            }
            return new Side(ok, Double.isNaN(figure) ? 0 : figure, Double.isNaN(seconds) ? 0 : seconds, p50, p99, error);
        }

        private static double number(Object o) {
            return o instanceof Number n ? n.doubleValue() : Double.NaN;
        }

        /** The figure as the JSON of the compare carries it. */
        Json.Obj toJson() {
            return Json.obj().put("ok", ok).put("value", figure).put("seconds", seconds)
                    .put("p50_us", Double.isNaN(p50Us) ? null : p50Us)
                    .put("p99_us", Double.isNaN(p99Us) ? null : p99Us)
                    .put("error", error);
        }
    }

    /** stack / kernel, or NaN unless both ran, both are ok and the kernel's figure is above 0. */
    public double ratio() {
        if (stack == null || kernel == null || !stack.ok() || !kernel.ok() || kernel.figure() <= 0) {
            return Double.NaN;
        }
        return stack.figure() / kernel.figure();
    }

    /** Both runs happened and were ok. */
    public boolean ok() {
        return stack != null && kernel != null && stack.ok() && kernel.ok();
    }

    /** This row with the stack's run. */
    public CompareRow withStack(Side s) {
        return new CompareRow(mode, s, kernel);
    }

    /** This row with the kernel's run. */
    public CompareRow withKernel(Side k) {
        return new CompareRow(mode, stack, k);
    }
}
