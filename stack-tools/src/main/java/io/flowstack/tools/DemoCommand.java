package io.flowstack.tools;

import io.flowstack.core.FlowStack;
import io.flowstack.core.config.StackConfig;
import io.flowstack.core.percore.Counters;
import io.flowstack.core.stats.Stat;
import io.flowstack.services.HttpService;
import io.flowstack.services.TcpEchoService;
import io.flowstack.services.UdpEchoService;
import io.flowstack.core.wire.Ethernet;
import io.flowstack.core.wire.Ipv4;
import io.flowstack.nic.TapNic;
import io.flowstack.tools.bench.BenchProtocol;
import io.flowstack.tools.bench.BenchServer;
import io.flowstack.tools.bench.Net;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code stack demo}: the whole stack against the Linux kernel in a private network namespace,
 * in about 20 seconds, leaving nothing behind.
 *
 * <p>It makes a namespace {@code fsdemo-XXXXXX} (IPv6 off, so no autoconfiguration noise), a
 * two-queue TAP {@code fsdXXXXXX} moved into it with 198.18.0.1/24 on the kernel side, and a
 * two-core stack on 198.18.0.2/24 serving UDP echo on port 7, TCP echo on port 7, HTTP on port
 * 80 and the bench server on port 5201. The kernel then pings it (plain and fragmented), does a
 * UDP echo round trip, fetches 100 MB over HTTP with curl (checking the body's SHA-256), runs
 * {@code stack bench --kernel} clients in the namespace for 5 s of TCP throughput and 5 s of
 * connection rate, and shows its neighbour entry. A summary table ends it: each step, the
 * figures (throughput, connections/s, latency percentiles) and the packets per core.
 * Everything is removed on success, on failure and on Ctrl-C (which also stops the step that
 * runs, bench clients included, and prints what was measured so far).
 *
 * <p>Owned by: the command's thread; the Ctrl-C hook (another thread) reads the results so far
 * and the figures, which are published through a synchronized list and volatile fields.
 */
@Command(
        name = "demo",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        header = "Shows the stack working against the Linux kernel, in a private network namespace.",
        description = {
            "Creates a network namespace fsdemo-XXXXXX (IPv6 disabled) holding a 2-queue TAP "
                    + "fsdXXXXXX with 198.18.0.1/24 on the kernel side, starts the stack on 198.18.0.2/24 "
                    + "with 2 cores serving udp-echo:7, echo:7, http:80 and the bench server on port 5201, "
                    + "then runs from the kernel side, with live output:",
            "  1. ping -c 5 -i 0.2 198.18.0.2",
            "  2. ping -c 3 -s 4000 198.18.0.2 (fragmented both ways)",
            "  3. a 1000-byte UDP echo round trip (python3), reply checked",
            "  4. curl http://198.18.0.2/bytes/100000000 (100 MB over TCP), its",
            "     progress meter, and the body's SHA-256 against the /bytes pattern",
            "  5. TCP throughput for 5 s: stack bench --client 198.18.0.2 --kernel",
            "     -P 2 -t 5, two kernel streams to the stack, every byte checked",
            "  6. TCP connection rate for 5 s: stack bench ... --kernel --crr -P 2",
            "     -t 5, two loops of connect, 1-byte request and response, close",
            "  7. ip neigh: the kernel's ARP entry for the stack",
            "The bench clients are this command line (the same java and class path) run in the "
                    + "namespace on the kernel's sockets; they print a progress line a second. A summary "
                    + "table ends the run: ok or FAILED per step, throughput both ways, connections/s, "
                    + "latency p50/p99 (connect to response) and the frames each core read and wrote. "
                    + "Everything it creates is removed afterwards, also on failure and on Ctrl-C, which "
                    + "stops the running step and prints what was measured so far. Only 198.18.0.0/15 is "
                    + "used. It takes about 20 seconds.",
            "",
            "Needs root (network namespaces and TAP devices: CAP_SYS_ADMIN and CAP_NET_ADMIN), iproute2, "
                    + "iputils-ping, procps (sysctl), python3, curl and sha256sum (coreutils).",
            ""
        },
        footerHeading = "%nExamples:%n",
        footer = {
            "  sudo ./stack demo",
            "  sudo ./stack demo --counters   # and every non-zero per-core counter",
            "  ./stack demo                   # as root",
            "",
            "Exit codes: 0 every step passed and everything was removed; 1 a step or",
            "the cleanup failed; 2 not root, no CAP_NET_ADMIN or CAP_SYS_ADMIN, or a",
            "tool missing (one line says which and what to do); 130 Ctrl-C (everything",
            "removed all the same)."
        })
final class DemoCommand implements Callable<Integer> {
    static final String KERNEL_ADDR = "198.18.0.1";
    static final String STACK_ADDR = "198.18.0.2";
    static final int PREFIX = 24;
    static final int CORES = 2;
    static final int ECHO_PORT = 7;
    static final int UDP_PAYLOAD = 1000;
    static final int HTTP_PORT = 80;
    static final long HTTP_BYTES = 100_000_000;
    static final int BENCH_PORT = BenchProtocol.DEFAULT_PORT;
    static final int BENCH_SECONDS = 5;
    /** Streams and connect loops of the bench runs: one per core of the stack. */
    static final int BENCH_PARALLEL = CORES;
    static final int STEPS = 7;
    private static final Duration SETUP_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration STEP_TIMEOUT = Duration.ofSeconds(20);
    /** curl's own limit for the 100 MB, generous for a slow machine; the step's is 10 s more. */
    private static final int CURL_MAX_SECONDS = 60;
    /** A bench client: JVM start, the run, connect timeout and the bench's grace period. */
    private static final Duration BENCH_TIMEOUT = Duration.ofSeconds(BENCH_SECONDS + 40);
    /** After Ctrl-C, how long the running step has to end by itself (a bench client prints its result). */
    private static final Duration SIGNAL_GRACE = Duration.ofSeconds(5);

    /** The required tools: program, Debian package. */
    private static final String[][] TOOLS = {
        {"ip", "iproute2"}, {"ping", "iputils-ping"}, {"sysctl", "procps"}, {"python3", "python3"},
        {"curl", "curl"}, {"sha256sum", "coreutils"}
    };

    /**
     * UDP echo client, run inside the namespace: sends random bytes, waits up to 2 s for the
     * reply, checks that it comes from the server's address and port and is identical.
     */
    static final String UDP_CLIENT = """
            import os, socket, sys, time
            host, port, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
            payload = os.urandom(size)
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.settimeout(2.0)
            t0 = time.perf_counter()
            s.sendto(payload, (host, port))
            try:
                data, peer = s.recvfrom(65535)
            except socket.timeout:
                print("udp echo: no reply from %s:%d within 2 s" % (host, port))
                sys.exit(1)
            rtt = (time.perf_counter() - t0) * 1000.0
            if peer != (host, port):
                print("udp echo: reply from %s:%d, expected %s:%d" % (peer[0], peer[1], host, port))
                sys.exit(1)
            if data != payload:
                print("udp echo: reply of %d bytes differs from the %d bytes sent" % (len(data), size))
                sys.exit(1)
            print("udp echo: %d bytes from %s:%d, identical, rtt %.3f ms" % (len(data), peer[0], peer[1], rtt))
            """;

    @Spec
    CommandSpec spec;

    @Option(names = "--counters", description = "Also print every non-zero per-core counter of the stack at the end.")
    boolean allCounters;

    /** Runs the setup commands and the steps; stopped by Ctrl-C. */
    private final Exec exec = new Exec();
    /** Runs the cleanup commands, also after Ctrl-C. */
    private final Exec cleanupExec = new Exec();
    private PrintWriter out;
    private Teardown teardown;
    private String ns;
    private String tapName;
    /** The steps done so far, in order; read by the Ctrl-C hook. */
    private final List<StepResult> results = Collections.synchronizedList(new ArrayList<>());
    /** The step that runs now, or null. */
    private volatile Running running;
    private volatile FlowStack stack;
    /** The figures of the summary, as each step delivers them (null until then). */
    private volatile HttpOutcome http;
    private volatile Map<String, Object> stream;
    private volatile Map<String, Object> crr;
    /** The summary line of the step Ctrl-C stopped (guarded by {@link #results}). */
    private StepResult interrupted;

    /** Outcomes of a step. */
    static final String OK = "ok";
    static final String FAILED = "FAILED";
    static final String INTERRUPTED = "interrupted";

    /** One line of the summary: its number, name, {@link #OK}, {@link #FAILED} or {@link #INTERRUPTED}, and detail. */
    record StepResult(int n, String name, String result, String detail) {
        StepResult(int n, String name, boolean ok, String detail) {
            this(n, name, ok ? OK : FAILED, detail);
        }

        boolean ok() {
            return result.equals(OK);
        }
    }

    /** The step that runs: its number and name, and where a bench client writes its JSON (or null). */
    private record Running(int n, String name, Path json) {
    }

    @Override
    public Integer call() {
        checkEnvironment();
        out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        String id = HexFormat.of().formatHex(randomBytes(3));
        ns = "fsdemo-" + id;
        tapName = "fsd" + id;
        int stackAddr = Ipv4.parse(STACK_ADDR);
        StackConfig config = StackConfig.builder()
                .cores(CORES)
                .address(stackAddr)
                .prefixLength(PREFIX)
                .mac(Macs.fromAddress(stackAddr))
                .pinThreads(ThreadOptions.pinnedByDefault(CORES)) // as stack endpoint: free CPUs for curl and the clients
                .build();
        String mac = Ethernet.macToString(config.mac);

        teardown = new Teardown("demo", err, this::onSignal, this::afterSignalCleanup);
        try {
            out.println("flowstack demo: namespace " + ns + ", tap " + tapName + " (" + CORES + " queues)");
            out.println("  kernel side  " + KERNEL_ADDR + "/" + PREFIX + " in " + ns);
            out.println("  stack        " + STACK_ADDR + "/" + PREFIX + " mac " + mac + " cores " + CORES
                    + ", serving " + services());
            out.println();
            out.println("setup");
            Path work = Files.createTempDirectory(ns + "-");
            teardown.add("remove " + work, () -> deleteTree(work));
            setup("ip", "netns", "add", ns);
            teardown.add("delete namespace " + ns, () -> {
                Exec.Result r = cleanupExec.quiet(SETUP_TIMEOUT, "ip", "netns", "del", ns);
                if (!r.ok()) {
                    throw new IllegalStateException("ip netns del " + ns + ": " + r.status() + ": " + r.lastLine());
                }
            });
            // before the TAP arrives, so that it never gets IPv6 autoconfiguration (FRAME-IO §8.3)
            setup("ip", "netns", "exec", ns, "sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1");
            setup("ip", "netns", "exec", ns, "sysctl", "-q", "-w", "net.ipv6.conf.default.disable_ipv6=1");
            out.println("  $ (open TAP " + tapName + " with " + CORES + " queues in this namespace)");
            TapNic nic = TapNic.open(tapName, CORES, TapNic.Options.DEFAULT);
            teardown.add("close tap " + tapName, nic::close);
            setup("ip", "link", "set", tapName, "netns", ns);
            setup("ip", "-n", ns, "addr", "add", KERNEL_ADDR + "/" + PREFIX, "dev", tapName);
            setup("ip", "-n", ns, "link", "set", tapName, "up");
            setup("ip", "-n", ns, "link", "set", "lo", "up");
            out.println("  $ (start the stack: " + STACK_ADDR + "/" + PREFIX + ", " + CORES + " cores, " + services() + ")");
            FlowStack s = FlowStack.start(config, nic);
            stack = s;
            teardown.add("stop the stack", s::close);
            UdpEchoService echo = new UdpEchoService(s, ECHO_PORT);
            teardown.add("stop udp-echo:" + ECHO_PORT, echo::close);
            TcpEchoService tcpEcho = new TcpEchoService(s, ECHO_PORT);
            teardown.add("stop echo:" + ECHO_PORT, tcpEcho::close);
            HttpService httpService = new HttpService(s, HTTP_PORT);
            teardown.add("stop http:" + HTTP_PORT, httpService::close);
            BenchServer bench = BenchServer.start(Net.stack(s), BENCH_PORT);
            teardown.add("stop the bench server", bench::close);
            out.println();

            record(pingStep(1, "ping 5 x 56 B", "5 echo requests of 56 bytes", s,
                    "ping", "-c", "5", "-i", "0.2", STACK_ADDR));
            record(pingStep(2, "ping 3 x 4000 B (fragmented)", "3 echo requests of 4000 bytes, fragmented both ways",
                    s, "ping", "-c", "3", "-s", "4000", STACK_ADDR));
            record(udpStep(3));
            record(httpStep(4, s));
            record(benchStep(5, "tcp throughput " + BENCH_SECONDS + " s",
                    "TCP throughput: " + BENCH_PARALLEL + " kernel streams send to the stack's bench server for "
                            + BENCH_SECONDS + " s, every byte checked",
                    work.resolve("stream.json"), "-P", Integer.toString(BENCH_PARALLEL), "-t",
                    Integer.toString(BENCH_SECONDS)));
            record(benchStep(6, "tcp connection rate " + BENCH_SECONDS + " s",
                    "TCP connection rate: " + BENCH_PARALLEL + " kernel loops of connect, 1-byte request, "
                            + "1-byte response, close, for " + BENCH_SECONDS + " s",
                    work.resolve("crr.json"), "--crr", "-P", Integer.toString(BENCH_PARALLEL), "-t",
                    Integer.toString(BENCH_SECONDS)));
            record(neighbourStep(7, mac));
        } catch (IOException e) {
            teardown.parkIfSignalled();
            teardown.close();
            err.println("stack demo: setup failed: cannot create a temporary directory: " + e.getMessage());
            err.flush();
            return Main.FAILURE;
        } catch (RuntimeException e) {
            teardown.parkIfSignalled(); // a signal during setup or a step: the hook cleans up and reports
            teardown.close();
            if (e instanceof SetupFailed) {
                err.println("stack demo: setup failed: " + e.getMessage());
                err.flush();
                return Main.FAILURE;
            }
            throw e;
        }

        teardown.close();
        teardown.parkIfSignalled();
        boolean nsGone = !namespaceExists(ns);
        List<StepResult> done = List.copyOf(results);
        boolean allOk = done.stream().allMatch(StepResult::ok);

        printSummary(done);
        boolean clean = nsGone && teardown.failures() == 0;
        printCleanupLine(nsGone);
        long passed = done.stream().filter(StepResult::ok).count();
        if (allOk && clean) {
            out.println("flowstack demo: ok, all " + done.size() + " steps passed");
            out.flush();
            return Main.OK;
        }
        out.flush();
        err.println("stack demo: " + (allOk ? "cleanup failed" : "FAILED: " + passed + " of " + done.size()
                + " steps passed"));
        err.flush();
        return Main.FAILURE;
    }

    private static String services() {
        return "udp-echo:" + ECHO_PORT + " echo:" + ECHO_PORT + " http:" + HTTP_PORT + " bench:" + BENCH_PORT;
    }

    /** A step is done: its result joins the summary and no step runs until the next starts. */
    private void record(StepResult r) {
        synchronized (results) {
            results.add(r);
            running = null;
        }
    }

    // ------------------------------------------------------------------ Ctrl-C

    /**
     * In the shutdown hook, first: stop the running step (a bench client gets time to write what
     * it measured) and note what it measured, before the cleanup removes its result file.
     */
    private void onSignal() {
        Running r = running;
        out.println();
        out.println("flowstack demo: interrupted " + (r != null ? "during [" + r.n + "/" + STEPS + "] " + r.name
                : results.isEmpty() ? "during setup" : "after step " + results.size()) + ": stopping it, then removing "
                + (stack != null ? "the stack, " : "") + "tap " + tapName + " and namespace " + ns);
        out.flush();
        exec.shutdown(SIGNAL_GRACE);
        synchronized (results) {
            interrupted = running == null ? null : interruptedRow(running);
        }
    }

    /** In the shutdown hook, after the cleanup: what was measured so far, and the verdict. */
    private void afterSignalCleanup() {
        List<StepResult> rows;
        StepResult stopped;
        synchronized (results) {
            rows = new ArrayList<>(results);
            stopped = interrupted;
        }
        if (stopped != null) {
            rows.add(stopped);
        }
        if (!rows.isEmpty()) {
            out.println();
            printSummary(rows);
        }
        printCleanupLine(!namespaceExists(ns));
        long passed = rows.stream().filter(StepResult::ok).count();
        out.println("flowstack demo: interrupted " + (stopped != null ? "during step " + stopped.n + " of " + STEPS
                + " (" + stopped.name + ")" : rows.isEmpty() ? "during setup" : "after step " + rows.size() + " of "
                + STEPS) + "; " + passed + " step" + (passed == 1 ? "" : "s") + " passed before");
        out.flush();
    }

    /** The summary line of the step Ctrl-C stopped: what a bench client measured until then, if it said. */
    private StepResult interruptedRow(Running r) {
        String detail = "by Ctrl-C";
        if (r.json != null) {
            Map<String, Object> j = readJson(r.json);
            if (j != null && j.get("seconds") instanceof Number secs && secs.doubleValue() > 0) {
                detail += "; until then " + benchDetail(j);
                if ("crr".equals(j.get("mode"))) {
                    crr = j;
                } else {
                    stream = j;
                }
            }
        }
        return new StepResult(r.n, r.name, INTERRUPTED, detail);
    }

    // ------------------------------------------------------------------ the summary

    /** The table of steps, the figures, and the packets per core. */
    private void printSummary(List<StepResult> rows) {
        out.println("summary");
        out.printf("  %-36s %-11s %s%n", "step", "result", "detail");
        for (StepResult r : rows) {
            out.printf("  %-36s %-11s %s%n", r.n + ". " + r.name, r.result, r.detail);
        }
        out.println();
        out.println(String.join(System.lineSeparator(), figureLines(http, stream, crr)));
        FlowStack s = stack;
        if (s != null) {
            out.println();
            out.print(perCoreTable(s));
            if (allCounters) {
                out.println();
                out.println("per-core counters of the stack (" + STACK_ADDR + "/" + PREFIX + ", " + CORES + " cores)");
                out.print(s.countersReport());
            }
        }
        out.println();
        out.flush();
    }

    /**
     * The figures: throughput both ways, connections/s and latency percentiles; "-" where the
     * step did not deliver one.
     */
    static List<String> figureLines(HttpOutcome http, Map<String, Object> stream, Map<String, Object> crr) {
        List<String> l = new ArrayList<>();
        String f = "  %-15s %-24s %s";
        if (stream != null && stream.get("bits_per_second") instanceof Number bps && bps.doubleValue() > 0) {
            l.add(String.format(Locale.ROOT, f, "throughput", bits(bps.doubleValue()),
                    "kernel -> stack, " + stream.get("parallel") + " TCP streams for "
                            + seconds(stream.get("seconds")) + " s (stack bench)"));
        } else {
            l.add(String.format(Locale.ROOT, f, "throughput", "-", "kernel -> stack (step 5 gave no figure)"));
        }
        if (http != null && http.bytesPerSecond() > 0) {
            l.add(String.format(Locale.ROOT, f, "", bits(http.bytesPerSecond() * 8),
                    "stack -> kernel, one HTTP download of " + http.size() / 1_000_000 + " MB in "
                            + String.format(Locale.ROOT, "%.2f", http.seconds()) + " s (curl)"));
        }
        if (crr != null && crr.get("connections_per_second") instanceof Number cps && cps.doubleValue() > 0) {
            l.add(String.format(Locale.ROOT, f, "connections/s", String.format(Locale.ROOT, "%.0f", cps.doubleValue()),
                    "connect, 1 B request, 1 B response, close; " + crr.get("parallel") + " loops for "
                            + seconds(crr.get("seconds")) + " s"));
        } else {
            l.add(String.format(Locale.ROOT, f, "connections/s", "-", "(step 6 gave no figure)"));
        }
        Map<?, ?> lat = crr == null ? null : crr.get("latency_us") instanceof Map<?, ?> m ? m : null;
        if (lat != null && lat.get("p50") instanceof Number p50 && lat.get("p99") instanceof Number p99) {
            l.add(String.format(Locale.ROOT, f, "latency", "p50 " + micros(p50.doubleValue()) + ", p99 "
                    + micros(p99.doubleValue()), "connect to response, over " + lat.get("count") + " connections"));
        } else {
            l.add(String.format(Locale.ROOT, f, "latency", "-", "(step 6 gave no figure)"));
        }
        return l;
    }

    /**
     * Frames each core read from and wrote to its own TAP queue, frames it handed to or took over
     * from the other core (they arrived on a core that does not own their flow) and connections
     * it accepted. (Frames dropped by the rules, e.g. old segments of a reused TIME_WAIT
     * connection, are among the counters of {@code --counters}.)
     */
    static String perCoreTable(FlowStack s) {
        StringBuilder b = new StringBuilder();
        String row = "  %-8s %12s %12s %10s %10s %14s%n";
        b.append(String.format(Locale.ROOT, "%-10s %12s %12s %10s %10s %14s%n", "per core", "frames in",
                "frames out", "hops in", "hops out", "tcp accepted"));
        long[] total = new long[5];
        for (int i = 0; i < s.cores(); i++) {
            Counters c = s.counters(i);
            long[] v = {c.get(Stat.RX_FRAMES), c.get(Stat.TX_FRAMES), c.get(Stat.HOP_IN), c.get(Stat.HOP_OUT),
                c.get(Stat.TCP_PASSIVE_OPENS)};
            for (int k = 0; k < v.length; k++) {
                total[k] += v[k];
            }
            b.append(String.format(Locale.ROOT, row, "core " + i, v[0], v[1], v[2], v[3], v[4]));
        }
        b.append(String.format(Locale.ROOT, row, "total", total[0], total[1], total[2], total[3], total[4]));
        b.append("  (frames in/out: read from and written to the core's own TAP queue; hops: frames handed\n")
                .append("   between cores because they arrived on a core that does not own their flow)\n");
        return b.toString();
    }

    private void printCleanupLine(boolean nsGone) {
        out.println("cleanup: " + (stack != null ? "bench server, services and stack stopped, " : "") + "tap " + tapName
                + " closed, namespace " + ns + (nsGone ? " deleted" : " NOT deleted (run: ip netns del " + ns + ")"));
        out.flush();
    }

    static String bits(double bps) {
        if (bps >= 1e9) {
            return String.format(Locale.ROOT, "%.2f Gbit/s", bps / 1e9);
        }
        if (bps >= 1e6) {
            return String.format(Locale.ROOT, "%.0f Mbit/s", bps / 1e6);
        }
        return String.format(Locale.ROOT, "%.0f kbit/s", bps / 1e3);
    }

    static String micros(double us) {
        return us < 1000 ? String.format(Locale.ROOT, "%.0f us", us) : String.format(Locale.ROOT, "%.2f ms", us / 1000);
    }

    private static String seconds(Object secs) {
        return secs instanceof Number n ? String.format(Locale.ROOT, "%.2f", n.doubleValue()) : "?";
    }

    /**
     * Root, CAP_NET_ADMIN and CAP_SYS_ADMIN, and the required tools; a missing one is a usage or
     * environment error (exit 2, one line saying what to do).
     */
    private static void checkEnvironment() {
        int euid = Privileges.effectiveUid();
        if (euid != 0) {
            throw new UserError("needs root (network namespaces and TAP devices need CAP_SYS_ADMIN and CAP_NET_ADMIN, "
                    + "and ip, ping and curl run inside the namespace): run sudo ./stack demo, or run it as root");
        }
        long caps = Privileges.effectiveCapabilities();
        if (caps != -1 && !(Privileges.has(caps, Privileges.CAP_NET_ADMIN) && Privileges.has(caps, Privileges.CAP_SYS_ADMIN))) {
            String missing = Privileges.has(caps, Privileges.CAP_NET_ADMIN) ? "CAP_SYS_ADMIN"
                    : Privileges.has(caps, Privileges.CAP_SYS_ADMIN) ? "CAP_NET_ADMIN" : "CAP_NET_ADMIN and CAP_SYS_ADMIN";
            throw new UserError("runs as root but without " + missing + " (network namespaces and TAP devices need "
                    + "both): grant them, e.g. in a container docker run --cap-add NET_ADMIN --cap-add SYS_ADMIN "
                    + "--device /dev/net/tun (or --privileged)");
        }
        for (String[] tool : TOOLS) {
            if (!Exec.onPath(tool[0])) {
                throw new UserError(tool[0] + " not found: install it (apt-get install " + tool[1] + ")");
            }
        }
    }

    /** Runs one setup command, echoing it; a failure aborts the demo. */
    private void setup(String... command) {
        out.println("  $ " + String.join(" ", command));
        out.flush();
        Exec.Result r = exec.quiet(SETUP_TIMEOUT, command);
        teardown.parkIfSignalled();
        if (!r.ok()) {
            throw new SetupFailed("'" + String.join(" ", command) + "' " + r.status()
                    + (r.lastLine().isEmpty() ? "" : ": " + r.lastLine()));
        }
    }

    /**
     * Runs a step's command with live output (each line indented, blank lines left out when
     * {@code skipBlank}) under a header; {@code json} is where a bench client writes its result.
     */
    private Exec.Result step(int n, String name, String header, String shownCommand, Duration timeout,
                             boolean skipBlank, Path json, String... command) {
        running = new Running(n, name, json);
        out.println("[" + n + "/" + STEPS + "] " + header);
        out.println("$ " + shownCommand);
        out.flush();
        Exec.Result r = exec.run(timeout, line -> {
            if (!teardown.signalled() && !(skipBlank && line.isBlank())) {
                out.println("  " + line);
                out.flush();
            }
        }, command);
        teardown.parkIfSignalled();
        if (!r.ok()) {
            out.println("  (" + r.status() + ")");
        }
        out.println();
        out.flush();
        return r;
    }

    private StepResult pingStep(int n, String name, String header, FlowStack stack, String... ping) {
        long reassembledBefore = stack.total(Stat.FRAG_REASSEMBLED);
        long fragmentsBefore = stack.total(Stat.IP_FRAGMENTS_OUT);
        String[] command = concat(new String[] {"ip", "netns", "exec", ns}, ping);
        Exec.Result r = step(n, name, "ping from the kernel: " + header, String.join(" ", command), STEP_TIMEOUT,
                false, null, command);
        PingStats p = PingStats.parse(r.output());
        if (p == null) {
            return new StepResult(n, name, false, "no ping statistics (" + r.status() + ")");
        }
        boolean ok = r.ok() && p.transmitted() > 0 && p.received() == p.transmitted();
        StringBuilder d = new StringBuilder();
        d.append(p.received()).append('/').append(p.transmitted()).append(" replies, ")
                .append(p.lossPercent()).append(" loss");
        if (p.rttAvgMs() != null) {
            d.append(", rtt min/avg/max ").append(p.rttMinMs()).append('/').append(p.rttAvgMs()).append('/')
                    .append(p.rttMaxMs()).append(" ms");
        }
        long reassembled = stack.total(Stat.FRAG_REASSEMBLED) - reassembledBefore;
        long fragments = stack.total(Stat.IP_FRAGMENTS_OUT) - fragmentsBefore;
        if (reassembled > 0 || fragments > 0) {
            d.append("; stack reassembled ").append(reassembled).append(", sent ").append(fragments)
                    .append(" fragments");
        }
        return new StepResult(n, name, ok, d.toString());
    }

    private StepResult udpStep(int n) {
        String port = Integer.toString(ECHO_PORT);
        String size = Integer.toString(UDP_PAYLOAD);
        String name = "udp echo " + UDP_PAYLOAD + " B";
        String[] command = {"ip", "netns", "exec", ns, "python3", "-c", UDP_CLIENT, STACK_ADDR, port, size};
        Exec.Result r = step(n, name, "UDP echo round trip: " + UDP_PAYLOAD + " bytes to " + STACK_ADDR + ":" + port,
                "ip netns exec " + ns + " python3 -c '<udp echo client>' " + STACK_ADDR + " " + port + " " + size,
                STEP_TIMEOUT, false, null, command);
        if (!r.ok()) {
            return new StepResult(n, name, false, r.lastLine().isEmpty() ? r.status() : r.lastLine());
        }
        Matcher m = Pattern.compile("rtt ([0-9.]+) ms").matcher(r.lastLine());
        return new StepResult(n, name, true, "identical reply" + (m.find() ? ", rtt " + m.group(1) + " ms" : ""));
    }

    /**
     * curl of {@code /bytes/N} from the kernel side: its progress meter (a line a second) and
     * write-out (status, size, time, speed) go to stderr, the body through {@code sha256sum};
     * both come back merged.
     */
    private StepResult httpStep(int n, FlowStack stack) {
        String url = "http://" + STACK_ADDR + (HTTP_PORT == 80 ? "" : ":" + HTTP_PORT) + "/bytes/" + HTTP_BYTES;
        String script = "curl -S --max-time " + CURL_MAX_SECONDS + " -w '%{stderr}curl: http %{http_code} size "
                + "%{size_download} time %{time_total} speed %{speed_download}\\n' " + url + " | sha256sum";
        String[] command = {"ip", "netns", "exec", ns, "sh", "-c", script};
        String name = "http GET " + HTTP_BYTES / 1_000_000 + " MB (curl)";
        long retransmitsBefore = stack.total(Stat.TCP_RETRANSMITS);
        Exec.Result r = step(n, name, "HTTP over TCP: curl fetches " + HTTP_BYTES / 1_000_000
                        + " MB (progress once a second), body checked by SHA-256",
                "ip netns exec " + ns + " sh -c \"" + script + "\"",
                Duration.ofSeconds(CURL_MAX_SECONDS + 10), true, null, command);
        String expected = patternSha256(HTTP_BYTES);
        HttpOutcome o = HttpOutcome.parse(r.output());
        if (o == null) {
            return new StepResult(n, name, false, "no curl write-out (" + r.status() + ")"
                    + (r.lastLine().isEmpty() ? "" : ": " + r.lastLine()));
        }
        boolean shaOk = expected.equals(o.sha256());
        boolean ok = r.ok() && o.status() == 200 && o.size() == HTTP_BYTES && shaOk;
        if (ok) {
            http = o;
        }
        StringBuilder d = new StringBuilder();
        d.append("status ").append(o.status()).append(", ").append(o.size()).append(" B");
        d.append(shaOk ? ", sha256 ok" : ", sha256 " + (o.sha256() == null ? "missing" : "MISMATCH (got "
                + o.sha256().substring(0, Math.min(16, o.sha256().length())) + "..., expected "
                + expected.substring(0, 16) + "...)"));
        d.append(String.format(Locale.ROOT, ", %.1f MB/s (%s) in %.2f s", o.bytesPerSecond() / 1e6,
                bits(o.bytesPerSecond() * 8), o.seconds()));
        long retransmits = stack.total(Stat.TCP_RETRANSMITS) - retransmitsBefore;
        if (retransmits > 0) {
            d.append("; ").append(retransmits).append(" retransmitted segments");
        }
        return new StepResult(n, name, ok, d.toString());
    }

    /**
     * A kernel-side {@code stack bench --client --kernel} in the namespace against the stack's
     * bench server: its progress lines pass through, its result comes back as JSON
     * ({@code --json-file}).
     */
    private StepResult benchStep(int n, String name, String header, Path json, String... args) {
        List<String> bench = new ArrayList<>(List.of("bench", "--client", STACK_ADDR, "--kernel"));
        bench.addAll(List.of(args));
        List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        command.addAll(stackCommandLine());
        command.addAll(bench);
        command.addAll(List.of("--json-file", json.toString()));
        Exec.Result r = step(n, name, header, "ip netns exec " + ns + " stack " + String.join(" ", bench),
                BENCH_TIMEOUT, false, json, command.toArray(String[]::new));
        Map<String, Object> j = readJson(json);
        if (j == null) {
            return new StepResult(n, name, false, "no result from the bench client (" + r.status() + ")"
                    + (r.lastLine().isEmpty() ? "" : ": " + r.lastLine()));
        }
        if (j.get("error") != null) {
            return new StepResult(n, name, false, String.valueOf(j.get("error")));
        }
        boolean ok = r.ok() && Boolean.TRUE.equals(j.get("ok"));
        if (ok && "crr".equals(j.get("mode"))) {
            crr = j;
        } else if (ok) {
            stream = j;
        }
        return new StepResult(n, name, ok, benchDetail(j));
    }

    /** "2.12 GB in 5.01 s = 3.39 Gbit/s, data verified" or "48139 connections in 5.00 s = 9626/s, p50 ... p99 ...". */
    static String benchDetail(Map<String, Object> j) {
        double secs = j.get("seconds") instanceof Number x ? x.doubleValue() : 0;
        long errors = j.get("errors") instanceof Number e ? e.longValue() : 0;
        StringBuilder d = new StringBuilder();
        if ("crr".equals(j.get("mode"))) {
            d.append(j.get("connections")).append(" connections in ").append(seconds(secs)).append(" s = ")
                    .append(j.get("connections_per_second") instanceof Number c
                            ? String.format(Locale.ROOT, "%.0f", c.doubleValue()) : "?")
                    .append("/s");
            if (j.get("latency_us") instanceof Map<?, ?> lat && lat.get("p50") instanceof Number p50
                    && lat.get("p99") instanceof Number p99) {
                d.append(", p50 ").append(micros(p50.doubleValue())).append(" p99 ").append(micros(p99.doubleValue()));
            }
        } else {
            long bytes = j.get("bytes") instanceof Number b ? b.longValue() : 0;
            d.append(bytes >= 1e9 ? String.format(Locale.ROOT, "%.2f GB", bytes / 1e9)
                    : String.format(Locale.ROOT, "%.0f MB", bytes / 1e6)).append(" in ").append(seconds(secs))
                    .append(" s = ").append(j.get("bits_per_second") instanceof Number bps ? bits(bps.doubleValue()) : "?");
        }
        d.append(Boolean.TRUE.equals(j.get("verified")) ? ", data verified" : ", DATA NOT VERIFIED");
        if (errors > 0) {
            d.append(", ").append(errors).append(" failed connection").append(errors == 1 ? "" : "s");
        }
        if (j.get("problems") instanceof List<?> problems && !problems.isEmpty()) {
            d.append("; ").append(problems.get(0));
        }
        return d.toString();
    }

    /** The bench client's JSON, or null if it wrote none (or not all of it). */
    private static Map<String, Object> readJson(Path json) {
        try {
            String text = Files.readString(json).strip();
            return text.isEmpty() ? null : Json.parseObject(text);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /**
     * This command line as a new process: this JVM's java, its class path and the launcher's
     * flags (FFM, Agrona), a small heap and the serial collector (a client that shares the CPUs
     * with the stack).
     */
    static List<String> stackCommandLine() {
        return List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
                "-XX:+UseSerialGC", "-Xmx256m", "-cp", System.getProperty("java.class.path"), Main.class.getName());
    }

    /** SHA-256 (hex) of the first {@code n} bytes of the /bytes pattern, byte i = (byte) (i % 251). */
    static String patternSha256(long n) {
        byte[] chunk = new byte[251 * 4096];
        for (int i = 0; i < chunk.length; i++) {
            chunk[i] = (byte) (i % 251);
        }
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (long left = n; left > 0; ) {
                int k = (int) Math.min(left, chunk.length);
                sha.update(chunk, 0, k); // chunk is a whole number of periods: the next one starts at phase 0
                left -= k;
            }
            return HexFormat.of().formatHex(sha.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** What the curl step printed: the write-out line and sha256sum's line. */
    record HttpOutcome(int status, long size, double seconds, double bytesPerSecond, String sha256) {
        private static final Pattern WRITE_OUT = Pattern.compile(
                "curl: http (\\d{3}) size (\\d+) time ([0-9.]+) speed ([0-9.]+)");
        private static final Pattern SHA = Pattern.compile("^([0-9a-f]{64})\\s+-$");

        /** Null if the write-out line is missing. */
        static HttpOutcome parse(List<String> lines) {
            Matcher w = null;
            String sha = null;
            for (String line : lines) {
                Matcher m = WRITE_OUT.matcher(line);
                if (m.find()) {
                    w = m;
                }
                Matcher h = SHA.matcher(line.strip());
                if (h.find()) {
                    sha = h.group(1);
                }
            }
            if (w == null) {
                return null;
            }
            return new HttpOutcome(Integer.parseInt(w.group(1)), Long.parseLong(w.group(2)),
                    Double.parseDouble(w.group(3)), Double.parseDouble(w.group(4)), sha);
        }
    }

    private StepResult neighbourStep(int n, String mac) {
        String[] command = {"ip", "-n", ns, "neigh"};
        String name = "kernel neighbour entry";
        Exec.Result r = step(n, name, "the kernel's neighbour (ARP) entry for the stack", String.join(" ", command),
                STEP_TIMEOUT, false, null, command);
        for (String line : r.output()) {
            String[] f = line.trim().split("\\s+");
            if (f.length > 0 && f[0].equals(STACK_ADDR)) {
                String lladdr = null;
                for (int i = 0; i + 1 < f.length; i++) {
                    if (f[i].equals("lladdr")) {
                        lladdr = f[i + 1];
                    }
                }
                String state = f[f.length - 1];
                boolean ok = r.ok() && mac.equalsIgnoreCase(lladdr) && !state.equals("FAILED")
                        && !state.equals("INCOMPLETE");
                return new StepResult(n, name, ok, STACK_ADDR + " lladdr " + lladdr + " " + state
                        + (mac.equalsIgnoreCase(lladdr) ? "" : " (expected " + mac + ")"));
            }
        }
        return new StepResult(n, name, false, "no entry for " + STACK_ADDR + " on " + tapName + " (" + r.status() + ")");
    }

    private static boolean namespaceExists(String ns) {
        return Files.exists(Path.of("/run/netns", ns));
    }

    /** Removes a directory of plain files (the bench clients' results). */
    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) {
                Files.deleteIfExists(f);
            }
        }
        Files.deleteIfExists(dir);
    }

    private static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        new SecureRandom().nextBytes(b);
        return b;
    }

    private static String[] concat(String[] a, String[] b) {
        String[] r = new String[a.length + b.length];
        System.arraycopy(a, 0, r, 0, a.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    /** A setup command failed; the message names the command, its status and its last output line. */
    static final class SetupFailed extends RuntimeException {
        private static final long serialVersionUID = 1L;

        SetupFailed(String message) {
            super(message);
        }
    }

    /**
     * The summary of iputils ping output: "5 packets transmitted, 5 received, 0% packet loss" and
     * "rtt min/avg/max/mdev = 0.046/0.078/0.112/0.023 ms" (the rtt line is missing when nothing came back).
     */
    record PingStats(int transmitted, int received, String lossPercent, String rttMinMs, String rttAvgMs,
                     String rttMaxMs) {
        private static final Pattern COUNTS = Pattern.compile(
                "(\\d+) packets transmitted, (\\d+) (?:packets )?received.*?([0-9.]+%) packet loss");
        private static final Pattern RTT = Pattern.compile(
                "(?:rtt|round-trip) min/avg/max(?:/mdev|/stddev)? = ([0-9.]+)/([0-9.]+)/([0-9.]+)");

        /** Parses ping's output lines; null if there is no statistics line. */
        static PingStats parse(List<String> lines) {
            Matcher counts = null;
            Matcher rtt = null;
            for (String line : lines) {
                Matcher c = COUNTS.matcher(line);
                if (c.find()) {
                    counts = c;
                }
                Matcher t = RTT.matcher(line);
                if (t.find()) {
                    rtt = t;
                }
            }
            if (counts == null) {
                return null;
            }
            return new PingStats(Integer.parseInt(counts.group(1)), Integer.parseInt(counts.group(2)),
                    counts.group(3),
                    rtt != null ? rtt.group(1) : null, rtt != null ? rtt.group(2) : null,
                    rtt != null ? rtt.group(3) : null);
        }
    }
}
