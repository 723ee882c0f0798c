package io.flowstack.tools.bench;

import io.flowstack.core.config.StackConfig;
import io.flowstack.nic.Nic;
import io.flowstack.nic.TapNic;
import io.flowstack.tools.Exec;
import io.flowstack.tools.Ipv4Prefix;
import io.flowstack.tools.Json;
import io.flowstack.tools.Main;
import io.flowstack.tools.Teardown;
import io.flowstack.tools.UserError;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * Runs {@code bench --compare}: builds both topologies ({@link CompareLab}), runs each mode's
 * kernel bench client against the stack and then against the kernel (a progress line per run),
 * tears everything down and prints the table ({@link CompareReport}), or the JSON with
 * {@code --json} (progress lines then go to stderr), and writes the Markdown section if asked.
 *
 * <p>Ctrl-C or SIGTERM: the shutdown hook stops the running client, removes everything (the
 * same {@link Teardown} as the normal path) and prints the table of the runs done so far; the
 * JVM then exits with 130.
 *
 * <p>Owned by: the command's thread; the shutdown hook reads the rows done so far through a
 * synchronized list.
 */
final class CompareRunner {
    /** A client's JVM start, connect timeout and the bench's grace period, beyond its run. */
    private static final Duration CLIENT_SLACK = Duration.ofSeconds(40);

    /** What the runner needs from the command line. */
    record Settings(List<CompareMode> modes, boolean packet, int cores, StackConfig stackConfig, boolean blocking,
                    Duration perRun, int omitSeconds, Duration warmup, int port, boolean json, Path markdown, String command,
                    TapNic.Options tapOptions) {
    }

    private final Settings settings;
    private final PrintWriter out;
    private final PrintWriter err;
    /** Progress: stdout, or stderr with --json. */
    private final PrintWriter progress;
    private final CompareShell shell = new CompareShell();
    private final CompareShell cleanupShell = new CompareShell();
    private final List<CompareRow> rows = new ArrayList<>(); // guarded by itself
    private final String date = ZonedDateTime.now(ZoneOffset.UTC).withNano(0).format(DateTimeFormatter.ISO_INSTANT);
    private final CompareMachine machine = CompareMachine.detect();
    private CompareLab lab;
    private Teardown teardown;
    private volatile String running = "set-up";
    private volatile boolean warming;

    CompareRunner(Settings settings, PrintWriter out, PrintWriter err) {
        this.settings = settings;
        this.out = out;
        this.err = err;
        this.progress = settings.json() ? err : out;
    }

    /** Runs the comparison; the exit code (0 every run ok and everything removed, 1 otherwise). */
    int run() {
        checkEnvironment();
        String id = HexFormat.of().formatHex(randomBytes(3));
        teardown = new Teardown("bench", err, this::onSignal, this::afterSignal);
        lab = new CompareLab(id, settings.packet(), settings.tapOptions(), shell, cleanupShell, teardown, progress);
        int total = settings.modes().size() * 2;
        try {
            progress.println("flowstack bench --compare: " + report().stackText() + " against "
                    + CompareReport.kernelText() + ", " + Units.seconds(settings.perRun().toNanos() / 1e9)
                    + " s per run, " + total + " runs");
            progress.println("  " + lab.describe());
            progress.println("  machine: " + machine.describe());
            progress.println("set-up");
            progress.flush();
            CompareLab.removeStale(shell, progress);
            lab.setUpNamespaces();
            Nic nic = lab.openStackDevice(settings.cores(), err);
            lab.startStackServer(settings.stackConfig(), nic, settings.blocking(), settings.port());
            long perRunBudget = settings.perRun().plus(CLIENT_SLACK).toSeconds();
            List<CompareMode> warmUpModes = warmUpModes(settings.modes());
            long warmUpBudget = warmUpModes.size() * settings.warmup().plus(CLIENT_SLACK).toSeconds();
            lab.startKernelServer(javaCommand(), settings.port(),
                    Duration.ofSeconds(60 + warmUpBudget + total * perRunBudget));
            warmUp(warmUpModes);
            progress.println("runs (the same kernel client against " + CompareLab.STACK_IP + " (stack) and "
                    + CompareLab.KERNEL_SERVER_IP + " (kernel), from " + lab.clientNs() + ")");
            progress.flush();
            int n = 0;
            for (CompareMode mode : settings.modes()) {
                synchronized (rows) {
                    rows.add(new CompareRow(mode, null, null));
                }
                CompareRow.Side s = runClient(mode, ++n, total, "stack", CompareLab.STACK_IP, settings.perRun(),
                        settings.omitSeconds());
                update(mode, s, true);
                CompareRow.Side k = runClient(mode, ++n, total, "kernel", CompareLab.KERNEL_SERVER_IP,
                        settings.perRun(), settings.omitSeconds());
                update(mode, k, false);
            }
            running = "clean-up";
        } catch (RuntimeException e) {
            teardown.parkIfSignalled(); // a signal during set-up or a run: the hook cleans up and reports
            teardown.close();
            throw e;
        }
        teardown.close();
        teardown.parkIfSignalled();
        List<String> left = lab.leftovers();
        CompareReport r = report();
        printReport(r, left, teardown.failures());
        boolean written = writeMarkdown(r);
        return r.ok() && left.isEmpty() && teardown.failures() == 0 && written ? Main.OK : Main.FAILURE;
    }

    /**
     * The warm-up's runs: a stream each way and rr, then every measured mode not among them, so
     * that each measured run finds its paths compiled (a crr run measured after a warm-up without
     * one ran while C2 compiled connection set-up and teardown: 438-597 ms of C2 in 3 s of it,
     * docs/BENCHMARKS.md "The bench's warm-up runs the measured modes").
     */
    static List<CompareMode> warmUpModes(List<CompareMode> measured) {
        List<CompareMode> modes = new ArrayList<>(List.of(CompareMode.STREAM_1, CompareMode.REVERSE_1,
                CompareMode.RR_1));
        for (CompareMode m : measured) {
            if (!modes.contains(m)) {
                modes.add(m);
            }
        }
        return modes;
    }

    /**
     * Unmeasured runs of {@code modes} ({@link #warmUpModes}) against the stack, so that its JIT
     * has compiled the paths the runs take; none with {@code --warmup 0}.
     */
    private void warmUp(List<CompareMode> modes) {
        if (settings.warmup().isZero()) {
            return;
        }
        progress.println("warm-up of the stack (not counted)");
        progress.flush();
        warming = true;
        for (int i = 0; i < modes.size(); i++) {
            runClient(modes.get(i), i + 1, modes.size(), "stack", CompareLab.STACK_IP, settings.warmup(), 0);
        }
        warming = false;
    }

    private void update(CompareMode mode, CompareRow.Side side, boolean stack) {
        synchronized (rows) {
            CompareRow last = rows.get(rows.size() - 1);
            rows.set(rows.size() - 1, stack ? last.withStack(side) : last.withKernel(side));
        }
    }

    private CompareReport report() {
        List<CompareRow> done;
        synchronized (rows) {
            done = List.copyOf(rows);
        }
        return new CompareReport(settings.packet() ? "packet" : "tap", settings.cores(),
                settings.blocking() ? "blocking" : "callback", settings.perRun().toNanos() / 1e9, date,
                settings.command(), machine, done, false);
    }

    /** One kernel bench client in the client namespace against {@code host}; its figures, or why it failed. */
    private CompareRow.Side runClient(CompareMode mode, int n, int total, String side, String host, Duration time,
                                      int omit) {
        running = (warming ? "warm-up " : "run ") + n + "/" + total + " (" + mode.label() + ", " + side + ")";
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", lab.clientNs()));
        cmd.addAll(javaCommand());
        cmd.addAll(List.of("bench", "--client", host, "--kernel", "--port", Integer.toString(settings.port()),
                "-t", time.toMillis() + "ms", "--json"));
        if (omit > 0) {
            cmd.addAll(List.of("-O", Integer.toString(omit)));
        }
        cmd.addAll(mode.clientArgs());
        CompareShell.Child c = shell.start("client", line -> { }, cmd.toArray(String[]::new));
        CompareShell.Result r = c.await(time.plus(CLIENT_SLACK), cmd);
        teardown.parkIfSignalled(); // stopped by Ctrl-C: the hook reports
        CompareRow.Side s = parse(mode, r);
        progress.println(CompareReport.progressLine(n, total, mode, side, s));
        progress.flush();
        return s;
    }

    private static CompareRow.Side parse(CompareMode mode, CompareShell.Result r) {
        for (int i = r.output().size() - 1; i >= 0; i--) {
            String line = r.output().get(i).strip();
            if (line.startsWith("{")) {
                try {
                    Map<String, Object> j = Json.parseObject(line);
                    return CompareRow.Side.fromClientJson(mode, j);
                } catch (RuntimeException e) {
                    break;
                }
            }
        }
        return CompareRow.Side.failed("the client gave no result: " + r.why());
    }

    /** The table (or the JSON) and the line about the clean-up. */
    private void printReport(CompareReport r, List<String> left, int cleanupFailures) {
        if (settings.json()) {
            out.println(r.toJson().put("cleanup", Json.obj().put("ok", left.isEmpty() && cleanupFailures == 0)
                    .put("left", left)));
        } else {
            out.println();
            if (r.rows().isEmpty()) {
                out.println("summary: interrupted before the first run");
                out.flush();
                printCleanup(r, left, cleanupFailures);
                return;
            }
            out.println(r.interrupted() ? "summary (interrupted: the runs done so far)" : "summary");
            for (String line : r.tableLines()) {
                out.println("  " + line);
            }
            out.println("  (figures: stream bit/s, rr transactions/s, crr connections/s; stack/kernel > 1: the stack "
                    + "is faster; latency per transaction or connection)");
        }
        out.flush();
        printCleanup(r, left, cleanupFailures);
    }

    private void printCleanup(CompareReport r, List<String> left, int cleanupFailures) {
        progress.println(left.isEmpty() && cleanupFailures == 0 ? "cleanup: " + lab.describe() + " removed"
                : "cleanup: NOT everything removed: " + String.join(", ", left)
                        + (left.isEmpty() ? "" : " (remove with ip netns del / ip link del)"));
        progress.println("flowstack bench --compare: " + (r.ok() ? "ok" : r.interrupted() ? "interrupted" : "FAILED")
                + (settings.markdown() != null ? ", markdown in " + settings.markdown() : ""));
        progress.flush();
    }

    private boolean writeMarkdown(CompareReport r) {
        if (settings.markdown() == null) {
            return true;
        }
        try {
            Files.writeString(settings.markdown(), r.markdown());
            return true;
        } catch (IOException | RuntimeException e) {
            err.println("stack bench: cannot write --markdown " + settings.markdown() + ": " + e.getMessage());
            err.flush();
            return false;
        }
    }

    // ------------------------------------------------------------------ Ctrl-C

    /** In the shutdown hook, first: say so and stop the running client and commands. */
    private void onSignal() {
        progress.println();
        progress.println("flowstack bench --compare: interrupted during " + running + ": stopping it, then removing "
                + (lab != null ? lab.describe() : "what was made"));
        progress.flush();
        shell.shutdown();
    }

    /** In the shutdown hook, after the clean-up: the runs done so far. */
    private void afterSignal() {
        CompareReport done = report();
        CompareReport r = new CompareReport(done.device(), done.cores(), done.api(), done.seconds(), done.date(),
                done.command(), done.machine(), done.rows(), true);
        printReport(r, lab != null ? lab.leftovers() : List.of(), teardown.failures());
        writeMarkdown(r);
    }

    // ------------------------------------------------------------------ environment

    /**
     * This JVM's java and class path, the launcher's flags (FFM, Agrona), a small heap and the
     * serial collector, running {@link Main}: the command line of every client and of the
     * kernel's server.
     */
    static List<String> javaCommand() {
        return List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
                "-XX:+UseSerialGC", "-Xmx256m", "-cp", System.getProperty("java.class.path"), Main.class.getName());
    }

    /** Root, ip and sysctl; otherwise a one-line usage error (exit 2). */
    private static void checkEnvironment() {
        if (effectiveUid() != 0) {
            throw new UserError("--compare needs root (network namespaces, veth pairs and TAP devices): run sudo "
                    + "./stack bench --compare, or run it as root");
        }
        for (String[] tool : new String[][] {{"ip", "iproute2"}, {"sysctl", "procps"}}) {
            if (!Exec.onPath(tool[0])) {
                throw new UserError(tool[0] + " not found: install it (apt-get install " + tool[1] + ")");
            }
        }
    }

    /** The effective uid from /proc/self/status, or -1. */
    private static int effectiveUid() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) {
                    return Integer.parseInt(line.substring(4).strip().split("\\s+")[1]);
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    /** The stack's address and prefix in the topology. */
    static Ipv4Prefix stackAddress() {
        return Ipv4Prefix.parse(CompareLab.STACK_IP + "/" + CompareLab.PREFIX);
    }

    private static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        new SecureRandom().nextBytes(b);
        return b;
    }
}
