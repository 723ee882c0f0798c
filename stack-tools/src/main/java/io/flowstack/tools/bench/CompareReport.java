package io.flowstack.tools.bench;

import io.flowstack.tools.Json;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What {@code bench --compare} prints: a progress line per run, the table of figures and
 * stack/kernel ratios, the same as one JSON object, and as a Markdown section for
 * docs/BENCHMARKS.md. Formatting only: no I/O.
 *
 * @param device      "tap" or "packet": what the stack ran on
 * @param cores       the stack's cores
 * @param api         the stack's socket API ("callback" or "blocking")
 * @param seconds     the duration of each client run
 * @param date        when the comparison started (UTC, ISO-8601)
 * @param command     the command line, as typed
 * @param machine     the machine
 * @param rows        one per mode, in order (the runs done so far)
 * @param interrupted stopped by Ctrl-C before every run was done
 */
public record CompareReport(String device, int cores, String api, double seconds, String date, String command,
                            CompareMachine machine, List<CompareRow> rows, boolean interrupted) {

    public CompareReport {
        rows = List.copyOf(rows);
    }

    /** "the stack on a TAP (2 cores, callback API)". */
    public String stackText() {
        return "the stack on " + (device.equals("packet") ? "AF_PACKET over a veth" : "a TAP") + " (" + cores + " core"
                + (cores == 1 ? "" : "s") + ", " + api + " API)";
    }

    /** "the kernel over a veth between two namespaces". */
    public static String kernelText() {
        return "the kernel over a veth between two namespaces";
    }

    /** Every row ran on both sides and was ok, and nothing was interrupted. */
    public boolean ok() {
        return !interrupted && !rows.isEmpty() && rows.stream().allMatch(CompareRow::ok);
    }

    /** "[3/14] stream 1, server -> client   stack    2.61 Gbit/s". */
    public static String progressLine(int n, int of, CompareMode mode, String side, CompareRow.Side s) {
        String width = Integer.toString(Integer.toString(of).length());
        String head = String.format(Locale.ROOT, "[%" + width + "d/%d] %-28s %-6s ", n, of, mode.label(), side);
        if (!s.ok()) {
            return head + "FAILED: " + s.error();
        }
        String lat = Double.isNaN(s.p50Us()) ? "" : "  p50 " + Units.micros(s.p50Us()) + "  p99 " + Units.micros(s.p99Us());
        return head + String.format(Locale.ROOT, "%14s", figure(mode, s.figure())) + lat + "  ("
                + Units.seconds(s.seconds()) + " s)";
    }

    /** A figure with its unit: "2.61 Gbit/s", "35192 trans/s". */
    static String figure(CompareMode mode, double v) {
        return switch (mode.unit()) {
            case BITS -> Units.bits(v);
            case TRANSACTIONS, CONNECTIONS -> Units.rate(v) + " " + mode.unit().label();
        };
    }

    private static String cell(CompareMode mode, CompareRow.Side s) {
        return s == null ? "-" : s.ok() ? figure(mode, s.figure()) : "FAILED";
    }

    private static String ratio(CompareRow r) {
        double x = r.ratio();
        return Double.isNaN(x) ? "-" : String.format(Locale.ROOT, "%.2f", x);
    }

    private static String latency(CompareRow.Side s) {
        return s == null || !s.ok() || Double.isNaN(s.p50Us()) ? "" : Units.micros(s.p50Us()) + " / "
                + Units.micros(s.p99Us());
    }

    /** The table as text lines, a header line first. */
    public List<String> tableLines() {
        List<String> l = new ArrayList<>();
        String f = "%-28s %16s %16s %14s  %-20s %-20s";
        l.add(String.format(Locale.ROOT, f, "mode", "stack", "kernel", "stack/kernel", "stack p50 / p99",
                "kernel p50 / p99").stripTrailing());
        for (CompareRow r : rows) {
            l.add(String.format(Locale.ROOT, f, r.mode().label(), cell(r.mode(), r.stack()), cell(r.mode(), r.kernel()),
                    ratio(r), latency(r.stack()), latency(r.kernel())).stripTrailing());
        }
        return l;
    }

    /** The whole comparison as one JSON object (docs/BENCHMARKS.md lists the fields). */
    public Json.Obj toJson() {
        List<Object> runs = new ArrayList<>();
        for (CompareRow r : rows) {
            double x = r.ratio();
            runs.add(Json.obj().put("mode", r.mode().key()).put("label", r.mode().label())
                    .put("unit", r.mode().unit().label())
                    .put("stack", r.stack() == null ? null : r.stack().toJson())
                    .put("kernel", r.kernel() == null ? null : r.kernel().toJson())
                    .put("ratio", Double.isNaN(x) ? null : x));
        }
        return Json.document("bench").put("role", "compare").put("date", date).put("command", command)
                .put("machine", machine.toJson())
                .put("stack", Json.obj().put("device", device).put("cores", cores).put("api", api))
                .put("kernel", Json.obj().put("device", "veth"))
                .put("seconds_per_run", seconds).put("interrupted", interrupted).put("ok", ok())
                .put("runs", runs);
    }

    /** A Markdown section for docs/BENCHMARKS.md: heading, machine, date, command, table. */
    public String markdown() {
        StringBuilder b = new StringBuilder();
        b.append("### `stack bench --compare`: ").append(date.length() >= 10 ? date.substring(0, 10) : date)
                .append(", ").append(machine.cpus()).append(" CPU").append(machine.cpus() == 1 ? "" : "s").append("\n\n");
        b.append("Machine: ").append(machine.cpus()).append(" CPUs (nproc), ").append(machine.cpu())
                .append(", kernel ").append(machine.kernel()).append(" (uname -r), Java ").append(machine.java())
                .append(".\nDate: ").append(date).append(".\nCommand: `").append(command).append("`.\n")
                .append("Stack: ").append(stackText()).append("; kernel: ").append(kernelText()).append("; ")
                .append(Units.seconds(seconds)).append(" s per run, the same kernel client against each")
                .append(interrupted ? "; INTERRUPTED before every run was done" : "").append(".\n\n");
        b.append("| mode | stack | kernel | stack/kernel | stack p50 / p99 | kernel p50 / p99 |\n");
        b.append("|---|---|---|---|---|---|\n");
        for (CompareRow r : rows) {
            b.append("| ").append(r.mode().label()).append(" | ").append(cell(r.mode(), r.stack())).append(" | ")
                    .append(cell(r.mode(), r.kernel())).append(" | ").append(ratio(r)).append(" | ")
                    .append(orDash(latency(r.stack()))).append(" | ").append(orDash(latency(r.kernel()))).append(" |\n");
        }
        return b.toString();
    }

    private static String orDash(String s) {
        return s.isEmpty() ? "-" : s;
    }
}
