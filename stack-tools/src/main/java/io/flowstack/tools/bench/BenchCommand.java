package io.flowstack.tools.bench;

import io.flowstack.core.FlowStack;
import io.flowstack.core.config.StackConfig;
import io.flowstack.core.wire.Ethernet;
import io.flowstack.nic.TapNic;
import io.flowstack.tools.InterfaceName;
import io.flowstack.tools.Ipv4Prefix;
import io.flowstack.tools.Json;
import io.flowstack.tools.OffloadOption;
import io.flowstack.tools.StackOptions;
import io.flowstack.tools.ThreadOptions;
import io.flowstack.tools.Teardown;
import io.flowstack.tools.ValidatedCommand;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

/**
 * {@code stack bench}: an iperf3-like client and server whose either end runs on the kernel's
 * sockets ({@code --kernel}) or on the stack ({@code --tap}); see docs/BENCHMARKS.md.
 */
@Command(
        name = "bench",
        mixinStandardHelpOptions = true,
        versionProvider = BenchCommand.Version.class,
        header = "Measures TCP throughput, transaction rate and latency, connection rate: kernel or stack, either end.",
        description = {
            "A server (--server) answers clients on a port (default 5201) by a small protocol "
                    + "(docs/BENCHMARKS.md). A client (--client HOST) measures one of:",
            "  stream      bulk transfer (the default), client to server or --reverse",
            "  --rr N      request/response, N bytes each way, one outstanding per",
            "              connection: transactions/s and latency percentiles",
            "  --crr [N]   connect, one request/response, close: connections/s and",
            "              latency percentiles",
            "with -P N streams, connections or connect loops. Either end runs on the kernel's sockets "
                    + "(--kernel) or on the stack on a TAP device (--tap NAME --addr A.B.C.D/P, as with "
                    + "`stack endpoint`), so the two compare with the same tool. Every byte is checked "
                    + "against a known pattern.",
            "",
            "The client prints a line per interval and a summary with HdrHistogram percentiles "
                    + "(p50/p90/p99/p99.9); --json prints one JSON object at the end instead. Ctrl-C stops "
                    + "and prints what was measured. The stack needs root or CAP_NET_ADMIN (TAP devices).",
            "",
            "--compare (as root) measures the stack against the kernel on this machine by itself: it makes "
                    + "namespaces fscmp-PID-ID-c (the clients) and fscmp-PID-ID-k (the kernel's server), the stack on a "
                    + "TAP fcIDt (198.18.0.2/24, in this process; --packet: AF_PACKET over a veth fcIDp/fcIDq) and "
                    + "a veth fcIDa/fcIDb to the kernel's server (198.19.0.2/24), then runs the same kernel "
                    + "client against each in every mode (stream-1, stream-4, reverse-1, reverse-4: 1 and 4 "
                    + "streams each way; rr-1: 1 B each way; rr-64-16k: 64 B request, 16 KiB response; crr), "
                    + "-t per run (default 3 s). A progress line per run, then one table of figures and "
                    + "stack/kernel ratios (--json: one object; --markdown FILE: a section for "
                    + "docs/BENCHMARKS.md with the machine, the date and the command). Everything it made is "
                    + "removed on every exit, Ctrl-C included (the runs done so far are printed).",
            ""
        },
        sortOptions = false,
        footerHeading = "%nExamples:%n",
        footer = {
            "  # kernel against kernel (two machines, or two namespaces):",
            "  ./stack bench --server --kernel",
            "  ./stack bench --client 198.18.0.1 --kernel -t 10 -P 2",
            "",
            "  # the stack as server on tap fs0, the kernel as client:",
            "  sudo ./stack bench --server --tap fs0 --addr 198.18.0.2/24",
            "  sudo ip addr add 198.18.0.1/24 dev fs0 && sudo ip link set fs0 up",
            "  ./stack bench --client 198.18.0.2 --kernel --reverse -t 5",
            "  ./stack bench --client 198.18.0.2 --kernel --rr 1 -P 4 --json",
            "  ./stack bench --client 198.18.0.2 --kernel --crr --connections 10000",
            "  ./stack bench --client 198.18.0.2 --kernel -t 5 --json-file run.json",
            "",
            "  # the stack as client (configure the kernel side of fs0 first, e.g. a",
            "  # persistent TAP: ip tuntap add dev fs0 mode tap multi_queue):",
            "  sudo ./stack bench --client 198.18.0.1 --tap fs0 --addr 198.18.0.2/24 --rr 64",
            "",
            "  # the stack against the kernel on this machine, every mode, 3 s each:",
            "  sudo ./stack bench --compare",
            "  sudo ./stack bench --compare -t 10 --cores 1 --markdown compare.md",
            "  sudo ./stack bench --compare --packet --modes stream-1,rr-1,crr --json",
            "",
            "Exit codes: 0 ok, 1 the run failed (no server, errors, data not as sent),",
            "2 usage or environment error (bad flag, port in use, missing device or",
            "privilege); 130 after Ctrl-C (what was measured so far is printed)."
        })
public final class BenchCommand implements Callable<Integer>, ValidatedCommand {
    private static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(1);

    @Spec
    CommandSpec spec;

    @Option(names = {"-s", "--server"}, description = "Run as a server until Ctrl-C (or --duration).")
    boolean server;

    @Option(names = {"-c", "--client"}, paramLabel = "HOST",
            description = "Run as a client against the server at HOST (an IPv4 address; a host name with --kernel).")
    String client;

    @Option(names = {"-p", "--port"}, paramLabel = "PORT",
            description = "Server port (default: ${DEFAULT-VALUE}).")
    int port = BenchProtocol.DEFAULT_PORT;

    @Option(names = "--kernel", description = "Use the kernel's TCP (java.nio sockets).")
    boolean kernel;

    @Option(names = "--bind", paramLabel = "ADDR",
            description = "--kernel --server: the local address to listen on (default: all).")
    String bind;

    @Option(names = "--tap", paramLabel = "NAME", converter = InterfaceName.Converter.class,
            description = "Use the stack, on TAP device NAME in this network namespace (created if missing).")
    String tap;

    @Option(names = "--addr", paramLabel = "A.B.C.D/P", converter = Ipv4Prefix.Converter.class,
            description = "--tap: the stack's address and prefix length, e.g. 198.18.0.2/24.")
    Ipv4Prefix addr;

    @Mixin
    StackOptions stackOptions = new StackOptions();

    @Mixin
    ThreadOptions threadOptions = new ThreadOptions();

    @Mixin
    OffloadOption offloadOption = new OffloadOption();

    @Mixin
    CompareOptions compareOptions = new CompareOptions();

    @Option(names = "--blocking",
            description = "--tap: use the stack's blocking socket API (a thread per connection) instead of "
                    + "callbacks on the netisr.")
    boolean blocking;

    @Option(names = "--rr", paramLabel = "N|REQ:RESP", converter = SizesConverter.class,
            description = "Request/response mode: N bytes each way (or REQ request and RESP response bytes).")
    Sizes rr;

    @Option(names = "--crr", paramLabel = "N|REQ:RESP", arity = "0..1", fallbackValue = "1",
            converter = SizesConverter.class,
            description = "Connection-rate mode: connect, one request/response (default 1 byte each way), close.")
    Sizes crr;

    @Option(names = {"-R", "--reverse"}, description = "Stream: the server sends, the client receives.")
    boolean reverse;

    @Option(names = {"-P", "--parallel"}, paramLabel = "N",
            description = "Parallel streams, connections (rr) or connect loops (crr), 1..128 (default: 1).")
    int parallel = 1;

    @Option(names = {"-t", "--duration"}, paramLabel = "TIME", converter = DurationConverter.class,
            description = "How long to run: seconds, or with a unit (500ms, 10s, 2m). Client default: 10 s, or "
                    + "600 s at most when a count below is given. Server default: until Ctrl-C.")
    Duration duration;

    @Option(names = {"-n", "--bytes"}, paramLabel = "N", converter = ByteCountConverter.class,
            description = "Stream: stop after N bytes in all (suffixes k, M, G = 10^3.. and Ki, Mi, Gi = 2^10..).")
    Long bytes;

    @Option(names = "--transactions", paramLabel = "N", converter = ByteCountConverter.class,
            description = "rr: stop after N transactions in all.")
    Long transactions;

    @Option(names = "--connections", paramLabel = "N", converter = ByteCountConverter.class,
            description = "crr: stop after N connections in all.")
    Long connections;

    @Option(names = {"-O", "--omit"}, paramLabel = "S",
            description = "Leave the first S seconds (warm-up) out of the summary; they are printed, marked.")
    int omit;

    @Option(names = {"-i", "--interval"}, paramLabel = "TIME", converter = DurationConverter.class,
            description = "Progress interval (default: 1 s).")
    Duration interval = DEFAULT_INTERVAL;

    @Option(names = {"-l", "--length"}, paramLabel = "N", converter = ByteCountConverter.class,
            description = "Stream: bytes per write (default: 128Ki).")
    Long length;

    @Option(names = "--connect-timeout", paramLabel = "TIME", converter = DurationConverter.class,
            description = "How long a connect may take (default: 10 s).")
    Duration connectTimeout = Duration.ofSeconds(10);

    @Option(names = {"-J", "--json"},
            description = "Print one JSON object at the end (no progress lines); see docs/BENCHMARKS.md.")
    boolean json;

    @Option(names = "--json-file", paramLabel = "FILE",
            description = "Client: also write the JSON object of --json to FILE at the end (replaced if it exists); "
                    + "stdout stays as it is, progress lines included.")
    Path jsonFile;

    private PrintWriter out;
    private PrintWriter err;

    private boolean given(String option) {
        return spec.commandLine().getParseResult() != null && spec.commandLine().getParseResult().hasMatchedOption(option);
    }

    private ParameterException usage(String message) {
        return new ParameterException(spec.commandLine(), message);
    }

    /** Checks the relations between options (ParameterException: exit 2). */
    @Override
    public void validate() {
        if (compareOptions.validate(spec.commandLine(), stackOptions, threadOptions, port, duration, omit)) {
            return; // --compare: checked
        }
        if (server == (client != null)) {
            throw usage(server ? "--server and --client exclude each other" : "give --server, or --client HOST");
        }
        if (kernel == (tap != null)) {
            throw usage(kernel ? "--kernel and --tap exclude each other"
                    : "give --kernel (the kernel's TCP) or --tap NAME --addr A.B.C.D/P (the stack)");
        }
        if (tap != null && addr == null) {
            throw usage("--tap needs --addr A.B.C.D/P (the stack's address)");
        }
        if (kernel) {
            for (String o : Stream.of(new String[] {"--addr"}, StackOptions.NAMES, ThreadOptions.NAMES, OffloadOption.NAMES,
                    new String[] {"--blocking"}).flatMap(Arrays::stream).toList()) {
                if (given(o)) {
                    throw usage(o + " is for the stack (--tap), not --kernel");
                }
            }
        }
        if (bind != null && (!kernel || !server)) {
            throw usage("--bind is for a --kernel --server");
        }
        if (tap != null) {
            stackOptions.validate(spec.commandLine(), addr);
            threadOptions.validate(spec.commandLine());
        }
        if (port < 1 || port > 65535) {
            throw usage("--port must be 1..65535, got " + port);
        }
        if (server) {
            for (String o : new String[] {"--rr", "--crr", "--reverse", "--parallel", "--bytes", "--transactions",
                "--connections", "--omit", "--length", "--connect-timeout", "--json-file"}) {
                if (given(o)) {
                    throw usage(o + " is a client option: the client tells the server what to do");
                }
            }
            if (duration != null && (duration.isNegative() || duration.isZero())) {
                throw usage("--duration must be > 0");
            }
            return;
        }
        if (rr != null && crr != null) {
            throw usage("--rr and --crr exclude each other");
        }
        if (interval.toMillis() < 100 || interval.toSeconds() > 60) {
            throw usage("--interval must be 0.1..60 s");
        }
        try {
            benchSpec();
        } catch (IllegalArgumentException e) {
            throw usage(e.getMessage());
        }
    }

    /** The client's spec from the options. */
    BenchSpec benchSpec() {
        BenchSpec s;
        if (rr != null) {
            s = BenchSpec.rr(client, 1).withSizes(rr.request(), rr.response());
        } else if (crr != null) {
            s = BenchSpec.crr(client, 1).withSizes(crr.request(), crr.response());
        } else {
            s = BenchSpec.stream(client);
        }
        boolean counted = bytes != null || transactions != null || connections != null;
        Duration d = duration != null ? duration : counted ? BenchSpec.SAFETY_DURATION : BenchSpec.DEFAULT_DURATION;
        if (length != null && (length < 1 || length > BenchSpec.MAX_LENGTH)) {
            throw new IllegalArgumentException("--length must be 1.." + BenchSpec.MAX_LENGTH + " bytes, got " + length);
        }
        return s.withReverse(reverse).withParallel(parallel).withDuration(d)
                .withBytes(bytes == null ? 0 : positive("--bytes", bytes))
                .withTransactions(transactions == null ? 0 : positive("--transactions", transactions))
                .withConnections(connections == null ? 0 : positive("--connections", connections))
                .withOmit(omit).withInterval(interval).withLength(length == null ? BenchSpec.DEFAULT_LENGTH : (int) (long) length)
                .withPort(port).withConnectTimeout(connectTimeout);
    }

    private static long positive(String option, long v) {
        if (v <= 0) {
            throw new IllegalArgumentException(option + " must be > 0");
        }
        return v;
    }

    StackConfig stackConfig() {
        return stackOptions.config(addr, threadOptions);
    }

    @Override
    public Integer call() {
        validate();
        out = spec.commandLine().getOut();
        err = spec.commandLine().getErr();
        if (compareOptions.compare) {
            return compareOptions.run(spec.commandLine(), stackOptions, threadOptions, offloadOption, blocking, port,
                    duration, omit,
                    json);
        }
        try {
            return server ? runServer() : runClient();
        } catch (BenchException e) {
            if (!server && (json || jsonFile != null)) {
                Json.Obj failed = Json.document("bench").put("role", "client")
                        .put("ok", false).put("error", e.getMessage());
                if (json) {
                    out.println(failed);
                    out.flush();
                }
                writeJsonFile(failed);
            }
            throw e; // Main prints it as one line (ErrorText): exit 2 for the environment's errors, else 1
        }
    }

    /**
     * {@code --json-file}: the client's JSON object to the file. False (after one line on stderr)
     * if it cannot be written.
     */
    private boolean writeJsonFile(Json.Obj o) {
        if (jsonFile == null) {
            return true;
        }
        try {
            Files.writeString(jsonFile, o + "\n");
            return true;
        } catch (IOException | RuntimeException e) {
            err.println("stack bench: cannot write --json-file " + jsonFile + ": " + e.getMessage());
            err.flush();
            return false;
        }
    }

    // ------------------------------------------------------------------ the network

    /** Opens the TAP and starts the stack (registering both for cleanup), or returns the kernel. */
    private Net openNet(Teardown cleanup) {
        if (kernel) {
            return new Net.Kernel(bind);
        }
        StackConfig config = stackConfig();
        TapNic nic = TapNic.open(tap, stackOptions.cores, offloadOption.tapOptions(), stackOptions.rssKey());
        cleanup.add("close tap " + nic.name(), nic::close);
        FlowStack stack = FlowStack.start(config, nic);
        cleanup.add("stop the stack", stack::close);
        return blocking ? Net.stackBlocking(stack) : Net.stack(stack);
    }

    private String netText(Net net) {
        return switch (net) {
            case Net.Kernel k -> "kernel sockets";
            case Net.Stack s -> "stack " + addr + " mac " + Ethernet.macToString(s.stack().config().mac) + " on tap "
                    + tap + " (" + s.api() + " API, " + stackOptions.cores + " core" + (stackOptions.cores == 1 ? "" : "s") + ", tcp cc " + stackOptions.cc + ")";
        };
    }

    // ------------------------------------------------------------------ client

    private int runClient() {
        BenchSpec bs = benchSpec();
        Teardown cleanup = new Teardown("bench", err);
        CountDownLatch reported = new CountDownLatch(1);
        BenchClient[] running = new BenchClient[1];
        Teardown.SignalHook hook = Teardown.onSignal("bench", () -> {
            BenchClient c;
            synchronized (running) {
                c = running[0];
                running[0] = null;
            }
            if (c != null) {
                c.stop();
                try { // the main thread prints what was measured, then the stack goes
                    reported.await(BenchClient.GRACE_SECONDS + 10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            cleanup.close();
        });
        try {
            Net net = openNet(cleanup);
            BenchClient bc = new BenchClient(bs, net);
            synchronized (running) {
                running[0] = bc;
            }
            if (!json) {
                out.println("flowstack bench: " + bs.describe());
                out.println("  " + netText(net) + " -> " + bs.host() + ":" + bs.port() + ", "
                        + (bs.maxBytes() + bs.maxTransactions() + bs.maxConnections() > 0 && duration == null
                        ? "until the count (at most " + bs.durationNanos() / 1_000_000_000L + " s)"
                        : "for " + Units.seconds(bs.durationNanos() / 1e9) + " s")
                        + (bs.omitSeconds() > 0 ? ", first " + bs.omitSeconds() + " s omitted" : ""));
                out.flush();
            }
            BenchResult r = bc.run(json ? Sink.NONE : new TextSink(out, bs));
            synchronized (running) {
                running[0] = null;
            }
            boolean written = writeJsonFile(r.toJson());
            if (json) {
                out.println(r.toJson());
            } else {
                for (String line : r.summaryLines()) {
                    out.println(line);
                }
            }
            out.flush();
            reported.countDown();
            cleanup.close();
            if (cleanup.failures() > 0 || !written) {
                return 1;
            }
            return r.ok() ? 0 : 1;
        } finally {
            reported.countDown();
            cleanup.close();
            hook.close();
        }
    }

    /** Progress lines for a terminal. */
    static final class TextSink implements Sink {
        private final PrintWriter out;
        private final BenchSpec spec;

        TextSink(PrintWriter out, BenchSpec spec) {
            this.out = out;
            this.spec = spec;
        }

        @Override
        public void started(BenchSpec s, String description) {
            out.println(switch (s.mode()) {
                case STREAM -> String.format(Locale.ROOT, "  %-15s %12s %14s", "interval", "transfer", "bitrate");
                case RR -> String.format(Locale.ROOT, "  %-15s %14s %10s %10s", "interval", "transactions/s", "p50",
                        "p99");
                case CRR -> String.format(Locale.ROOT, "  %-15s %14s %10s %10s", "interval", "connections/s", "p50",
                        "p99");
            });
            out.flush();
        }

        @Override
        public void interval(Interval i) {
            if (i.seconds() * 1e9 < spec.intervalNanos() / 10.0 && i.start() > 0) {
                return; // the last sliver of a run: counted in the summary, not worth a line
            }
            out.println(line(spec, i));
            out.flush();
        }

        static String line(BenchSpec spec, Interval i) {
            String when = String.format(Locale.ROOT, "%6.2f-%-6.2f s", i.start(), i.end());
            String tail = (i.errors() > 0 ? "  errors " + i.errors() : "") + (i.omitted() ? "  (omitted)" : "");
            Latency l = i.latency();
            return switch (spec.mode()) {
                case STREAM -> String.format(Locale.ROOT, "  %-15s %12s %14s", when, Units.bytes(i.bytes()),
                        Units.bits(i.bitsPerSecond())) + tail;
                case RR -> String.format(Locale.ROOT, "  %-15s %14s %10s %10s", when, Units.rate(i.transactionsPerSecond()),
                        l == null ? "-" : Units.micros(l.p50Us()), l == null ? "-" : Units.micros(l.p99Us())) + tail;
                case CRR -> String.format(Locale.ROOT, "  %-15s %14s %10s %10s", when, Units.rate(i.connectionsPerSecond()),
                        l == null ? "-" : Units.micros(l.p50Us()), l == null ? "-" : Units.micros(l.p99Us())) + tail;
            };
        }
    }

    // ------------------------------------------------------------------ server

    private int runServer() {
        Teardown cleanup = new Teardown("bench", err);
        CountDownLatch stop = new CountDownLatch(1);
        long t0 = System.nanoTime();
        BenchServer[] srv = new BenchServer[1]; // set before the hook can see it (guarded by reported)
        boolean[] reported = new boolean[1];
        // whoever comes first (the main thread or the Ctrl-C hook) prints, the other waits until it
        // has: the JVM halts when the hook returns, so the hook must not return before the totals are out
        Runnable report = () -> {
            synchronized (reported) {
                if (reported[0] || srv[0] == null) {
                    return;
                }
                reported[0] = true;
                printServerTotals(srv[0], t0);
            }
        };
        Teardown.SignalHook hook = Teardown.onSignal("bench", () -> {
            stop.countDown();
            report.run(); // first: the totals are there already, and closing the stack may take a while
            cleanup.close();
        });
        try {
            Net net = openNet(cleanup);
            BenchServer s = BenchServer.start(net, port);
            cleanup.add("stop the server", s::close);
            synchronized (reported) {
                srv[0] = s;
            }
            if (!json) {
                out.println("flowstack bench server: " + s.describe()
                        + (net instanceof Net.Stack ? " on tap " + tap + " " + addr + " mac "
                        + Ethernet.macToString(((Net.Stack) net).stack().config().mac) + ", tcp cc " + stackOptions.cc : "")
                        + (duration != null ? ", for " + Units.seconds(duration.toNanos() / 1e9) + " s" : "")
                        + " (Ctrl-C to stop)");
                out.flush();
            }
            serveUntilStopped(s, stop, t0);
            report.run();
            cleanup.close();
            return cleanup.failures() > 0 ? 1 : 0;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 1;
        } finally {
            cleanup.close();
            hook.close();
        }
    }

    private void printServerTotals(BenchServer server, long t0) {
        Meter.Totals t = server.totals();
        double secs = (System.nanoTime() - t0) / 1e9;
        if (json) {
            out.println(Json.document("bench").put("role", "server")
                    .put("net", server.net().name()).put("api", server.net().api()).put("port", port)
                    .put("seconds", secs).put("connections", t.connections()).put("bytes_in", t.bytesIn())
                    .put("bytes_out", t.bytesOut()).put("transactions", t.transactions()).put("errors", t.errors()));
        } else {
            out.println("flowstack bench server: stopped after " + Units.seconds(secs) + " s: " + t.connections()
                    + " connections, in " + Units.bytes(t.bytesIn()) + ", out " + Units.bytes(t.bytesOut()) + ", "
                    + t.transactions() + " transactions, " + t.errors() + " errors");
        }
        out.flush();
    }

    /** Prints a line per interval with traffic (not with --json) until the stop or the duration. */
    private void serveUntilStopped(BenchServer s, CountDownLatch stop, long t0) throws InterruptedException {
        long end = duration != null ? t0 + duration.toNanos() : Long.MAX_VALUE;
        long step = interval.toNanos();
        Meter.Totals prev = Meter.Totals.ZERO;
        long prevTime = t0;
        while (true) {
            long next = prevTime + step;
            long wake = duration != null && end - next < 0 ? end : next;
            if (stop.await(Math.max(0, wake - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                return;
            }
            long now = System.nanoTime();
            Meter.Totals t = s.totals();
            Meter.Totals d = t.minus(prev);
            if (!json && (d.bytesIn() | d.bytesOut() | d.connections() | d.transactions() | d.errors()) != 0) {
                double secs = (now - prevTime) / 1e9;
                out.println(String.format(Locale.ROOT, "  %6.2f-%-6.2f s  in %10s %14s  out %10s %14s  conns %6d  trans/s %8s%s",
                        (prevTime - t0) / 1e9, (now - t0) / 1e9, Units.bytes(d.bytesIn()), Units.bits(d.bytesIn() * 8 / secs),
                        Units.bytes(d.bytesOut()), Units.bits(d.bytesOut() * 8 / secs), d.connections(),
                        Units.rate(d.transactions() / secs), d.errors() > 0 ? "  errors " + d.errors() : ""));
                out.flush();
            }
            prev = t;
            prevTime = now;
            if (duration != null && now - end >= 0) {
                return;
            }
        }
    }

    // ------------------------------------------------------------------ converters

    private static final Pattern DURATION = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*(ms|s|m|h)?");

    /** Seconds, or a number with ms, s, m or h. */
    static final class DurationConverter implements ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            Matcher m = DURATION.matcher(value.strip().toLowerCase(Locale.ROOT));
            if (!m.matches()) {
                throw new TypeConversionException("'" + value + "' is not a duration: give seconds (10, 2.5) or a unit "
                        + "(500ms, 10s, 2m)");
            }
            double v = Double.parseDouble(m.group(1));
            String unit = m.group(2) == null ? "s" : m.group(2);
            double nanos = v * switch (unit) {
                case "ms" -> 1e6;
                case "m" -> 60e9;
                case "h" -> 3600e9;
                default -> 1e9;
            };
            if (nanos <= 0 || nanos > 86400e9) {
                throw new TypeConversionException("'" + value + "': a duration must be > 0 and at most 1 day");
            }
            return Duration.ofNanos((long) nanos);
        }
    }

    private static final Pattern COUNT = Pattern.compile("(\\d+)\\s*(k|ki|m|mi|g|gi|t|ti)?b?");

    /** A count with an optional decimal (k, M, G, T) or binary (Ki, Mi, Gi, Ti) suffix. */
    static final class ByteCountConverter implements ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            Matcher m = COUNT.matcher(value.strip().toLowerCase(Locale.ROOT));
            if (!m.matches()) {
                throw new TypeConversionException("'" + value + "' is not a count: give a number, optionally with k, M, G "
                        + "(10^3, 10^6, 10^9) or Ki, Mi, Gi (2^10, 2^20, 2^30), e.g. 100M");
            }
            long mult = m.group(2) == null ? 1 : switch (m.group(2)) {
                case "k" -> 1_000L;
                case "ki" -> 1L << 10;
                case "m" -> 1_000_000L;
                case "mi" -> 1L << 20;
                case "g" -> 1_000_000_000L;
                case "gi" -> 1L << 30;
                case "t" -> 1_000_000_000_000L;
                default -> 1L << 40;
            };
            try {
                long v = Math.multiplyExact(Long.parseLong(m.group(1)), mult);
                if (v <= 0) {
                    throw new TypeConversionException("'" + value + "' must be > 0");
                }
                return v;
            } catch (ArithmeticException | NumberFormatException e) {
                throw new TypeConversionException("'" + value + "' is too large");
            }
        }
    }

    /** Request and response sizes of --rr and --crr. */
    record Sizes(int request, int response) {
    }

    /** {@code N} (both ways) or {@code REQ:RESP}. */
    static final class SizesConverter implements ITypeConverter<Sizes> {
        @Override
        public Sizes convert(String value) {
            String[] p = value.strip().split(":", -1);
            if (p.length > 2) {
                throw new TypeConversionException("'" + value + "': give N or REQ:RESP (bytes)");
            }
            int req = size(value, p[0]);
            int resp = p.length == 2 ? size(value, p[1]) : req;
            return new Sizes(req, resp);
        }

        private static int size(String value, String part) {
            long v;
            try {
                v = new ByteCountConverter().convert(part);
            } catch (TypeConversionException e) {
                throw new TypeConversionException("'" + value + "': give N or REQ:RESP, sizes in bytes 1.."
                        + BenchProtocol.MAX_MESSAGE);
            }
            if (v > BenchProtocol.MAX_MESSAGE) {
                throw new TypeConversionException("'" + value + "': message sizes must be 1.." + BenchProtocol.MAX_MESSAGE
                        + " bytes");
            }
            return (int) v;
        }
    }

    /** The project version (from the flowstack-core jar's Maven metadata). */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = null;
            try (InputStream in = BenchCommand.class.getResourceAsStream(
                    "/META-INF/maven/io.flowstack/flowstack-core/pom.properties")) {
                if (in != null) {
                    Properties p = new Properties();
                    p.load(in);
                    v = p.getProperty("version");
                }
            } catch (IOException e) {
                // unknown
            }
            return new String[] {"flowstack " + (v != null ? v : "(version unknown)") + ", Java " + Runtime.version()};
        }
    }
}
