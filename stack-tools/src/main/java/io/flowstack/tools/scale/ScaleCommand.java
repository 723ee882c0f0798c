package io.flowstack.tools.scale;

import io.flowstack.tools.Json;
import io.flowstack.tools.Main;
import io.flowstack.tools.Teardown;
import io.flowstack.tools.ValidatedCommand;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code stack scale}: how the stack's throughput grows with cores, measured in process (two
 * stacks over a {@link io.flowstack.nic.MemoryWire}, no kernel): connection rate and 64-byte
 * request/response rate on 1 core and on N cores, and their ratio. See {@link ScaleBench} for
 * what runs where, and docs/SMP.md for measured figures.
 *
 * <p>Owned by: the command-line thread.
 */
@Command(
        name = "scale",
        header = "Measures how connection and request rates scale from 1 to N cores (in process).",
        description = {
            "Runs a client stack and a server stack in this JVM, joined by an in-memory wire with one "
                    + "queue pair per core, and measures (conn) connections per second (connect, one request, "
                    + "one response, close) and (rr) request/response transactions per second over persistent "
                    + "connections, first with --cores 1, then with --cores N, and prints the ratio.",
            "",
            "Layout shared (default): one thread per core index runs that core of both stacks, so N cores "
                    + "take N threads and the load generator (the client stack, driven by callbacks on its "
                    + "netisrs) is paid for inside the same CPU budget. Layout separate: each stack runs its own "
                    + "N netisr threads (2N threads). Performance numbers are never asserted by tests.",
            ""
        },
        sortOptions = false,
        footerHeading = "%nExamples:%n",
        footer = {
            "  ./stack scale --cores 2 --duration 5",
            "  ./stack scale --cores 4 --duration 3 --test rr --conns 256 --json",
            "  ./stack scale --cores 2 --layout separate",
            "",
            "Exit codes: 0 ok, 1 the benchmark failed (no progress or an internal error),",
            "2 usage error, 130 after Ctrl-C (the results so far are printed)."
        })
public final class ScaleCommand implements Callable<Integer>, ValidatedCommand {
    @Spec
    CommandSpec spec;

    @Option(names = "--cores", paramLabel = "N", defaultValue = "2",
            description = "Cores to compare with 1 core, 1..64 (default: ${DEFAULT-VALUE}).")
    int cores;

    @Option(names = "--duration", paramLabel = "S", defaultValue = "5",
            description = "Measured seconds per run (default: ${DEFAULT-VALUE}).")
    double duration;

    @Option(names = "--warmup", paramLabel = "S", defaultValue = "2",
            description = "Unmeasured seconds at the start of each run (default: ${DEFAULT-VALUE}).")
    double warmup;

    @Option(names = "--jit-warmup", paramLabel = "S", defaultValue = "3",
            description = "Seconds of each test on N cores before any measurement, so that the JIT has compiled "
                    + "the paths before the 1-core run (default: ${DEFAULT-VALUE}; 0 to skip).")
    double jitWarmup;

    @Option(names = "--test", paramLabel = "T", defaultValue = "all",
            description = "conn, rr or all (default: ${DEFAULT-VALUE}).")
    String test;

    @Option(names = "--conns", paramLabel = "C", defaultValue = "64",
            description = "rr: persistent connections in all (default: ${DEFAULT-VALUE}).")
    int conns;

    @Option(names = "--concurrency", paramLabel = "K", defaultValue = "64",
            description = "conn: connections in flight in all (default: ${DEFAULT-VALUE}).")
    int concurrency;

    @Option(names = "--size", paramLabel = "BYTES", defaultValue = "64",
            description = "Request and response size, 1..16384 (default: ${DEFAULT-VALUE}).")
    int size;

    @Option(names = "--layout", paramLabel = "L", defaultValue = "shared",
            description = "shared or separate (default: ${DEFAULT-VALUE}).")
    String layout;

    @Option(names = "--repeat", paramLabel = "R", defaultValue = "1",
            description = "Runs per (test, cores); the median is reported (default: ${DEFAULT-VALUE}).")
    int repeat;

    @Option(names = "--no-pin", description = "Do not pin the shared-layout threads to CPUs.")
    boolean noPin;

    @Option(names = "--busy-spin", description = "Shared layout: core threads spin when idle (default: spin, yield, "
            + "then park up to 100 us; under load they never idle).")
    boolean busySpin;

    @Option(names = "--counters", description = "After each run, print both stacks' per-core counters (to stderr).")
    boolean counters;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
    boolean help;

    @Option(names = "--json", description = "Print the results as one JSON object instead of a table.")
    boolean json;

    @Override
    public Integer call() {
        validate();
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        // Ctrl-C / SIGTERM: the run under way ends early, the results so far are printed, then
        // the hook returns and the JVM exits (130 after SIGINT)
        CountDownLatch stop = new CountDownLatch(1);
        CountDownLatch printed = new CountDownLatch(1);
        Teardown.SignalHook hook = Teardown.onSignal("scale", () -> {
            stop.countDown();
            try {
                printed.await(60, TimeUnit.SECONDS); // a run's teardown, then the table
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        try {
            return measure(out, err, stop);
        } finally {
            printed.countDown();
            hook.close(); // nothing to do once the hook runs
        }
    }

    /** The runs, then the table or JSON; after {@code stop}, what was measured until then. */
    private int measure(PrintWriter out, PrintWriter err, CountDownLatch stop) {
        ScaleBench.Layout lay = ScaleBench.Layout.valueOf(layout.toUpperCase(Locale.ROOT));
        List<ScaleBench.Test> tests = test.equals("all") ? List.of(ScaleBench.Test.CONN, ScaleBench.Test.RR)
                : List.of(ScaleBench.Test.valueOf(test.toUpperCase(Locale.ROOT)));
        if (jitWarmup > 0) {
            for (ScaleBench.Test t : tests) {
                if (stop.getCount() == 0) {
                    break;
                }
                if (!json) {
                    err.printf("jit warm-up: %s on %d core(s) for %.1f s%n", name(t), cores, jitWarmup);
                    err.flush();
                }
                ScaleBench.run(params(t, cores, lay, 0, jitWarmup), stop);
            }
        }
        // 1 core and N cores alternate, so that both see the same background load on a shared machine
        int[] coreCounts = cores == 1 ? new int[] {1} : new int[] {1, cores};
        List<ScaleBench.Result> results = new ArrayList<>();
        ScaleBench.Result last = null;
        for (ScaleBench.Test t : tests) {
            List<List<ScaleBench.Result>> runs = new ArrayList<>();
            for (int k = 0; k < coreCounts.length; k++) {
                runs.add(new ArrayList<>());
            }
            for (int i = 0; i < repeat && stop.getCount() > 0; i++) {
                for (int k = 0; k < coreCounts.length && stop.getCount() > 0; k++) {
                    int n = coreCounts[k];
                    if (!json) {
                        err.printf("running %s on %d core(s)%s...%n", name(t), n,
                                repeat > 1 ? " (" + (i + 1) + "/" + repeat + ")" : "");
                        err.flush();
                    }
                    ScaleBench.Result r = ScaleBench.run(params(t, n, lay, warmup, duration), stop);
                    if (r == null) {
                        break; // stopped in the warm-up: nothing measured
                    }
                    if (counters) {
                        err.printf("%s on %d core(s), client stack:%n%sserver stack:%n%s", name(t), n,
                                r.clientCounters(), r.serverCounters());
                        err.flush();
                    }
                    runs.get(k).add(r);
                    last = r;
                }
            }
            for (List<ScaleBench.Result> rs : runs) {
                if (!rs.isEmpty()) {
                    rs.sort(Comparator.comparingDouble(ScaleBench.Result::rate));
                    results.add(rs.get(rs.size() / 2)); // the median run by rate
                }
            }
            if (stop.getCount() == 0) {
                break;
            }
        }
        boolean stopped = stop.getCount() == 0;
        if (stopped) {
            err.println("stack scale: interrupted: " + (last == null ? "nothing was measured yet"
                    : String.format(Locale.ROOT, "the results so far; the last run (%s on %d core(s)) measured %.1f s "
                    + "of %.1f", name(last.params().test()), last.params().cores(), last.seconds(), duration)));
            err.flush();
            if (results.isEmpty()) {
                return Main.FAILURE;
            }
        }
        out.print(json ? json(results, lay) : table(results, lay));
        out.flush();
        for (ScaleBench.Result r : results) {
            if (!stopped && (r.ops() == 0 || r.internalErrors() > 0)) {
                err.println("stack scale: " + name(r.params().test()) + " on " + r.params().cores()
                        + " core(s) made " + (r.ops() == 0 ? "no progress" : r.internalErrors() + " internal errors"));
                err.flush();
                return Main.FAILURE;
            }
        }
        return Main.OK;
    }

    private ScaleBench.Params params(ScaleBench.Test t, int n, ScaleBench.Layout lay, double warm, double secs) {
        return new ScaleBench.Params(t, n, lay, warm, secs, conns, concurrency, size, !noPin, busySpin);
    }

    @Override
    public void validate() {
        if (cores < 1 || cores > 64) {
            throw new ParameterException(spec.commandLine(), "--cores must be 1..64, got " + cores);
        }
        if (!(duration > 0) || duration > 3600) {
            throw new ParameterException(spec.commandLine(), "--duration must be in (0, 3600] seconds, got " + duration);
        }
        if (!(warmup >= 0) || !(jitWarmup >= 0) || warmup > 600 || jitWarmup > 600) {
            throw new ParameterException(spec.commandLine(), "--warmup and --jit-warmup must be 0..600 seconds");
        }
        if (!List.of("conn", "rr", "all").contains(test)) {
            throw new ParameterException(spec.commandLine(), "--test must be conn, rr or all, got '" + test + "'");
        }
        if (!List.of("shared", "separate").contains(layout)) {
            throw new ParameterException(spec.commandLine(), "--layout must be shared or separate, got '" + layout + "'");
        }
        if (conns < 1 || conns > 100_000 || concurrency < 1 || concurrency > 100_000) {
            throw new ParameterException(spec.commandLine(), "--conns and --concurrency must be 1..100000");
        }
        if (size < 1 || size > 16384) {
            throw new ParameterException(spec.commandLine(), "--size must be 1..16384 bytes, got " + size);
        }
        if (repeat < 1 || repeat > 100) {
            throw new ParameterException(spec.commandLine(), "--repeat must be 1..100, got " + repeat);
        }
    }

    static String name(ScaleBench.Test t) {
        return t.name().toLowerCase(Locale.ROOT);
    }

    static String name(ScaleBench.Layout l) {
        return l.name().toLowerCase(Locale.ROOT);
    }

    /** Rate on N cores divided by the rate on 1 core, or NaN if either is missing. */
    static double ratio(List<ScaleBench.Result> results, ScaleBench.Test t, int n) {
        return ratioOf(results, t, n, ScaleBench.Result::rate);
    }

    /** {@code metric} of test {@code t} on N cores divided by the same on 1 core, or NaN if either is missing. */
    private static double ratioOf(List<ScaleBench.Result> results, ScaleBench.Test t, int n,
                                  java.util.function.ToDoubleFunction<ScaleBench.Result> metric) {
        double one = Double.NaN;
        double many = Double.NaN;
        for (ScaleBench.Result r : results) {
            if (r.params().test() == t && r.params().cores() == 1) {
                one = metric.applyAsDouble(r);
            }
            if (r.params().test() == t && r.params().cores() == n) {
                many = metric.applyAsDouble(r);
            }
        }
        return many / one;
    }

    private String table(List<ScaleBench.Result> results, ScaleBench.Layout lay) {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "flowstack scale: two stacks in one JVM over MemoryWire, layout %s, %d CPUs, "
                        + "%.1f s per run (after %.1f s warm-up), %d-byte messages, rr over %d connections, "
                        + "conn with %d in flight%n", name(lay), Runtime.getRuntime().availableProcessors(), duration,
                warmup, size, conns, concurrency));
        b.append(String.format("%-5s %5s %13s  %-22s %9s %13s %6s %6s %7s%n", "test", "cores", "rate (ops/s)",
                "per core (ops/s)", "cpu share", "ops/cpu-s", "errors", "hops", "retrans"));
        for (ScaleBench.Result r : results) {
            String per = String.join(" ", Arrays.stream(r.perCore())
                    .mapToObj(v -> String.format(Locale.ROOT, "%.0f", v / r.seconds())).toList());
            b.append(String.format(Locale.ROOT, "%-5s %5d %,13.0f  %-22s %8.0f%% %,13.0f %6d %6d %7d%n",
                    name(r.params().test()), r.params().cores(), r.rate(), per, 100 * r.cpuShare(),
                    r.ratePerCpuSecond(), r.errors(), r.clientHops() + r.serverHops(), r.retransmits()));
        }
        boolean anyRatio = Arrays.stream(ScaleBench.Test.values()).anyMatch(t -> !Double.isNaN(ratio(results, t, cores)));
        if (cores > 1 && anyRatio) { // both core counts of a test measured (not so after an early Ctrl-C)
            StringBuilder wall = new StringBuilder();
            StringBuilder cpu = new StringBuilder();
            for (ScaleBench.Test t : ScaleBench.Test.values()) {
                double x = ratio(results, t, cores);
                if (!Double.isNaN(x)) {
                    wall.append(wall.isEmpty() ? "" : ", ").append(String.format(Locale.ROOT, "%s %.2fx", name(t), x));
                    cpu.append(cpu.isEmpty() ? "" : ", ").append(String.format(Locale.ROOT, "%s %.2fx", name(t),
                            cores * cpuEfficiency(results, t, cores)));
                }
            }
            b.append(String.format("scaling %d cores / 1 core, wall clock:            %s%n", cores, wall));
            b.append(String.format("scaling %d cores / 1 core, per CPU-second x %d:     %s%n", cores, cores, cpu));
            b.append("(the second line is what N cores give if each core thread gets a whole CPU: it divides out\n"
                    + " the CPU time other processes took from the core threads; cpu share shows how much they got)\n");
        }
        double minShare = results.stream().mapToDouble(ScaleBench.Result::cpuShare).min().orElse(1);
        long rexmt = results.stream().mapToLong(ScaleBench.Result::retransmits).sum();
        if (minShare < 0.8 || rexmt > 0) {
            b.append(String.format(Locale.ROOT, "warning: the core threads got as little as %.0f%% of their CPUs%s: "
                            + "other processes are using this machine, so the wall-clock figures measure its load%n",
                    100 * minShare, rexmt > 0 ? " and " + rexmt + " segments were retransmitted (a thread kept off"
                            + " its CPU longer than an RTO)" : ""));
        }
        return b.toString();
    }

    /** Operations per CPU-second on N cores divided by the same on 1 core. */
    static double cpuEfficiency(List<ScaleBench.Result> results, ScaleBench.Test t, int n) {
        return ratioOf(results, t, n, ScaleBench.Result::ratePerCpuSecond);
    }

    private String json(List<ScaleBench.Result> results, ScaleBench.Layout lay) {
        List<Json.Obj> runs = new ArrayList<>();
        for (ScaleBench.Result r : results) {
            runs.add(Json.obj().put("test", name(r.params().test())).put("cores", r.params().cores())
                    .put("ops_per_s", r.rate()).put("ops", r.ops()).put("seconds", r.seconds())
                    .put("per_core_ops", Arrays.stream(r.perCore()).boxed().toList()).put("errors", r.errors())
                    .put("hops", r.clientHops() + r.serverHops()).put("retransmits", r.retransmits())
                    .put("internal_errors", r.internalErrors()).put("core_threads", r.threads())
                    .put("cpu_seconds", r.cpuSeconds()).put("cpu_share", r.cpuShare())
                    .put("ops_per_cpu_s", r.ratePerCpuSecond()));
        }
        Json.Obj ratios = Json.obj();
        Json.Obj perCpuSecond = Json.obj();
        for (ScaleBench.Test t : ScaleBench.Test.values()) {
            double x = cores > 1 ? ratio(results, t, cores) : Double.NaN;
            if (!Double.isNaN(x)) {
                ratios.put(name(t), x);
            }
            double y = cores > 1 ? cores * cpuEfficiency(results, t, cores) : Double.NaN;
            if (!Double.isNaN(y)) {
                perCpuSecond.put(name(t), y);
            }
        }
        return Json.document("scale").put("layout", name(lay)).put("cpus", Runtime.getRuntime().availableProcessors())
                .put("cores", cores).put("duration_s", duration).put("warmup_s", warmup).put("message_bytes", size)
                .put("rr_connections", conns).put("conn_concurrency", concurrency).put("repeat", repeat)
                .put("results", runs).put("ratios", ratios).put("ratios_per_cpu_second", perCpuSecond) + "\n";
    }
}
