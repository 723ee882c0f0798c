package io.flowstack.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.tools.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

/**
 * {@code stack bench} against the Linux kernel (issue 5, point 2): the same tool, the same
 * measurement code, the stack on one side or not.
 *
 * <ul>
 *   <li>stack: namespace {@code fsb-<pid>-<hex>-s} holds a TAP (kernel side 198.18.0.1/24), the
 *       bench server on the stack behind it ({@code stack bench --server --tap ... --addr
 *       198.18.0.2/24}, its own JVM) and the kernel bench client;</li>
 *   <li>kernel: namespaces {@code ...-c} and {@code ...-v} joined by a veth pair (198.19.0.1/24
 *       and 198.19.0.2/24), the kernel bench client in one, the kernel bench server ({@code
 *       --server --kernel}) in the other.</li>
 * </ul>
 * Each mode runs on both, one after the other; the table of stack / kernel ratios goes to
 * stdout and to {@code target/bench-kernel.md}. Only correct behaviour is asserted (every run
 * ends cleanly, every byte checked, counts exact where a count was asked for, client and server
 * counts agree, the JSON has its fields), never a speed.
 *
 * <p>Properties: {@code flowstack.bench.seconds} (per measured run, default 4),
 * {@code flowstack.bench.omit} (warm-up seconds left out, default 1), {@code flowstack.bench.cores}
 * (the stack's cores, default 2), {@code flowstack.bench.repeat} (runs per side and mode,
 * alternating; the table shows the median, default 1). Every process runs under {@code timeout}, every wait is bounded,
 * and the namespaces (with the TAP and the veth pair) are deleted at the end, also after a failure
 * and from a shutdown hook; leftovers of crashed runs ({@code fsb-<pid>-*} of dead pids) are
 * removed first. Addresses: 198.18.0.0/15 only.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 900, unit = TimeUnit.SECONDS) // a backstop: every process has its own, shorter, limit
class BenchKernelTest {
    static final String STACK_IP = "198.18.0.2";
    static final String TAP_KERNEL_IP = "198.18.0.1";
    static final String VETH_CLIENT_IP = "198.19.0.1";
    static final String VETH_SERVER_IP = "198.19.0.2";
    static final int SECONDS = Integer.getInteger("flowstack.bench.seconds", 4);
    static final int OMIT = Integer.getInteger("flowstack.bench.omit", 1);
    static final int CORES = Integer.getInteger("flowstack.bench.cores", 2);
    static final int REPEAT = Integer.getInteger("flowstack.bench.repeat", 1);
    private static final Pattern OURS = Pattern.compile("fsb-(\\d+)-[0-9a-f]{6}-[scv]");

    private final String id = hex(3);
    private final String nsStack = "fsb-" + ProcessHandle.current().pid() + "-" + id + "-s";
    private final String nsClient = "fsb-" + ProcessHandle.current().pid() + "-" + id + "-c";
    private final String nsServer = "fsb-" + ProcessHandle.current().pid() + "-" + id + "-v";
    private final String tap = "fb" + id + "t";
    private final List<String> namespaces = new ArrayList<>();
    private final List<Proc> procs = new ArrayList<>();
    private final Map<String, List<Map<String, Object>>> stackRuns = new LinkedHashMap<>();
    private final Map<String, List<Map<String, Object>>> kernelRuns = new LinkedHashMap<>();
    private String loadBefore;
    /** What each server must have counted: bytes in, bytes out, transactions, connections. */
    private final long[] stackExpect = new long[4];
    private final long[] kernelExpect = new long[4];
    private Proc stackServer;
    private Proc kernelServer;
    private Thread hook;
    private String classpath;

    // ------------------------------------------------------------------ set-up and clean-up

    @BeforeAll
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void setUp() {
        removeStale();
        hook = new Thread(this::cleanQuietly, "bench-kernel-test-cleanup");
        Runtime.getRuntime().addShutdownHook(hook);
        classpath = childClasspath();
        for (String ns : List.of(nsStack, nsClient, nsServer)) {
            host("ip", "netns", "add", ns);
            namespaces.add(ns);
            host("ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1");
            host("ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1");
            host("ip", "-n", ns, "link", "set", "lo", "up");
        }
        // the stack's side: a persistent TAP configured before the stack attaches to it
        List<String> tuntap = new ArrayList<>(List.of("ip", "-n", nsStack, "tuntap", "add", "dev", tap, "mode", "tap"));
        if (CORES > 1) {
            tuntap.add("multi_queue");
        }
        host(tuntap.toArray(String[]::new));
        host("ip", "-n", nsStack, "addr", "add", TAP_KERNEL_IP + "/24", "dev", tap);
        host("ip", "-n", nsStack, "link", "set", tap, "up");
        // the kernel's side: a veth pair between two namespaces
        host("ip", "link", "add", "fb" + id + "a", "netns", nsClient, "type", "veth", "peer", "name", "fb" + id + "b",
                "netns", nsServer);
        host("ip", "-n", nsClient, "addr", "add", VETH_CLIENT_IP + "/24", "dev", "fb" + id + "a");
        host("ip", "-n", nsServer, "addr", "add", VETH_SERVER_IP + "/24", "dev", "fb" + id + "b");
        host("ip", "-n", nsClient, "link", "set", "fb" + id + "a", "up");
        host("ip", "-n", nsServer, "link", "set", "fb" + id + "b", "up");

        stackServer = spawn(nsStack, 3600, "bench", "--server", "--tap", tap, "--addr", STACK_IP + "/24", "--cores",
                Integer.toString(CORES), "--json");
        kernelServer = spawn(nsServer, 3600, "bench", "--server", "--kernel", "--json");
        // --json: the servers print nothing until they stop; wait until they listen
        awaitListening(nsStack, STACK_IP, stackServer);
        awaitListening(nsClient, VETH_SERVER_IP, kernelServer);
        loadBefore = loadAverage();
        stackExpect[3] = 1; // the connection that found each server listening
        kernelExpect[3] = 1;
        System.out.println("bench-kernel: stack server on " + tap + " in " + nsStack + " (" + CORES + " cores), "
                + "kernel server in " + nsServer + ", kernel clients in " + nsStack + " and " + nsClient);
    }

    /** Connects with bash's /dev/tcp until the server accepts (at most 30 s). */
    private void awaitListening(String ns, String ip, Proc server) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            Result r = run(Duration.ofSeconds(5), "ip", "netns", "exec", ns, "timeout", "3", "bash", "-c",
                    "exec 3<>/dev/tcp/" + ip + "/5201");
            if (r.exit == 0) {
                return;
            }
            if (!server.process.isAlive() || System.nanoTime() - deadline > 0) {
                throw new AssertionError("bench server at " + ip + " did not start: " + server.output());
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(200));
        }
    }

    @AfterAll
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void tearDown() {
        try {
            printTable();
            Map<String, Object> s = stop(stackServer, "stack");
            Map<String, Object> k = stop(kernelServer, "kernel");
            assertServerCounts("stack", s, stackExpect);
            assertServerCounts("kernel", k, kernelExpect);
        } finally {
            clean();
        }
    }

    /** SIGTERM: the server prints its totals as one JSON object and exits. */
    private Map<String, Object> stop(Proc p, String which) {
        if (p == null) {
            return null;
        }
        p.process.descendants().forEach(ProcessHandle::destroy);
        p.process.destroy();
        try {
            if (!p.process.waitFor(40, TimeUnit.SECONDS)) {
                System.err.println("bench-kernel: the " + which + " server did not exit 40 s after SIGTERM");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        String out = p.output();
        System.out.println("bench-kernel: " + which + " server: " + out.strip());
        String json = lastJsonLine(out);
        assertNotNull(json, () -> which + " server printed no JSON at exit: " + out);
        return Json.parseObject(json);
    }

    private static void assertServerCounts(String which, Map<String, Object> s, long[] expect) {
        if (s == null) {
            return;
        }
        assertEquals("server", s.get("role"));
        assertEquals(0L, s.get("errors"), () -> which + " server errors: " + s);
        assertEquals(expect[0], s.get("bytes_in"), () -> which + " server bytes in: " + s);
        assertEquals(expect[1], s.get("bytes_out"), () -> which + " server bytes out: " + s);
        assertEquals(expect[2], s.get("transactions"), () -> which + " server transactions: " + s);
        assertEquals(expect[3], s.get("connections"), () -> which + " server connections: " + s);
    }

    private synchronized void clean() {
        List<Throwable> failures = new ArrayList<>();
        for (Proc p : procs) {
            if (p.process.isAlive()) {
                p.process.descendants().forEach(ProcessHandle::destroyForcibly);
                p.process.destroyForcibly();
            }
            p.delete();
        }
        procs.clear();
        for (String ns : namespaces) {
            Result r = run(Duration.ofSeconds(30), "ip", "netns", "del", ns);
            if (r.exit != 0) {
                failures.add(new IllegalStateException("ip netns del " + ns + ": " + r));
            }
        }
        namespaces.clear();
        if (hook != null && Thread.currentThread() != hook) {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the hook runs and finds nothing left
            }
            hook = null;
        }
        if (!failures.isEmpty()) {
            IllegalStateException e = new IllegalStateException("cleanup failed");
            failures.forEach(e::addSuppressed);
            throw e;
        }
    }

    private void cleanQuietly() {
        try {
            clean();
        } catch (Throwable t) {
            System.err.println("bench-kernel: " + t);
        }
    }

    /** Deletes {@code fsb-<pid>-*} namespaces of processes that no longer exist. */
    private static void removeStale() {
        for (String line : run(Duration.ofSeconds(30), "ip", "netns", "list").out.split("\n")) {
            String name = line.strip().split("\\s+")[0];
            Matcher m = OURS.matcher(name);
            if (m.matches() && !ProcessHandle.of(Long.parseLong(m.group(1))).map(ProcessHandle::isAlive).orElse(false)) {
                Result r = run(Duration.ofSeconds(30), "ip", "netns", "del", name);
                System.err.println("bench-kernel: removed stale namespace " + name + ": exit " + r.exit);
            }
        }
    }

    // ------------------------------------------------------------------ counted runs: exact

    @Test
    @Order(1)
    void streamToTheServerMovesExactlyTheBytesAsked() {
        both("exact stream", false, "-n", "200M", "-P", "2");
    }

    @Test
    @Order(2)
    void streamFromTheServerMovesExactlyTheBytesAsked() {
        both("exact reverse", false, "-R", "-n", "200M", "-P", "2");
    }

    @Test
    @Order(3)
    void requestResponseRunsExactlyTheTransactionsAsked() {
        both("exact rr", false, "--rr", "100:2000", "--transactions", "20000", "-P", "2");
    }

    @Test
    @Order(4)
    void connectionRateRunsExactlyTheConnectionsAsked() {
        both("exact crr", false, "--crr", "--connections", "2000", "-P", "2");
    }

    // ------------------------------------------------------------------ timed runs: the table

    @Test
    @Order(10)
    void stream() {
        both("stream, client -> server", true);
    }

    @Test
    @Order(11)
    void streamReverse() {
        both("stream, server -> client (-R)", true, "-R");
    }

    @Test
    @Order(12)
    void streamFourParallel() {
        both("stream, 4 streams (-P 4)", true, "-P", "4");
    }

    @Test
    @Order(13)
    void requestResponse() {
        both("rr 1 byte, 1 connection", true, "--rr", "1");
    }

    @Test
    @Order(14)
    void requestResponseFourConnections() {
        both("rr 1 byte, 4 connections", true, "--rr", "1", "-P", "4");
    }

    @Test
    @Order(15)
    void requestResponseLarger() {
        both("rr 64 B request, 16 KiB response", true, "--rr", "64:16Ki");
    }

    @Test
    @Order(16)
    void connectionRate() {
        both("crr 1 byte, 1 loop", true, "--crr");
    }

    @Test
    @Order(17)
    void connectionRateFourLoops() {
        both("crr 1 byte, 4 loops", true, "--crr", "-P", "4");
    }

    // ------------------------------------------------------------------ one case, both sides

    /**
     * Runs the kernel client against the stack server (TAP) and against the kernel server (veth),
     * with {@code args}; timed runs go into the table.
     */
    private void both(String name, boolean timed, String... args) {
        List<String> a = new ArrayList<>(Arrays.asList(args));
        if (timed) {
            a.addAll(List.of("-t", Integer.toString(SECONDS + OMIT), "-O", Integer.toString(OMIT)));
        }
        int rounds = timed ? REPEAT : 1;
        for (int round = 0; round < rounds; round++) { // alternating, so that load from elsewhere hits both
            Map<String, Object> s = client(nsStack, STACK_IP, a, stackExpect, name + " (stack)");
            Map<String, Object> k = client(nsClient, VETH_SERVER_IP, a, kernelExpect, name + " (kernel)");
            if (timed) {
                stackRuns.computeIfAbsent(name, x -> new ArrayList<>()).add(s);
                kernelRuns.computeIfAbsent(name, x -> new ArrayList<>()).add(k);
            }
            System.out.printf(Locale.ROOT, "bench-kernel: %-34s stack %-22s kernel %-22s%n", name, headline(s),
                    headline(k));
        }
    }

    /** One kernel client run with --json; asserts what must hold for any correct run. */
    private Map<String, Object> client(String ns, String server, List<String> args, long[] expect, String what) {
        List<String> cmd = new ArrayList<>(List.of("bench", "--client", server, "--kernel", "--json"));
        cmd.addAll(args);
        long limit = SECONDS + OMIT + 120L; // a count-bounded run takes seconds; the client's own limit is 600 s
        Proc p = spawn(ns, limit, cmd.toArray(String[]::new));
        int exit = p.await(limit + 10);
        String out = p.output();
        p.delete();
        procs.remove(p);
        String json = lastJsonLine(out);
        assertNotNull(json, () -> what + ": no JSON from the client, exit " + exit + ":\n" + out);
        Map<String, Object> r = Json.parseObject(json);
        String ctx = what + ": " + json;
        assertEquals(0, exit, ctx);
        for (String k : List.of("mode", "net", "api", "parallel", "seconds", "bytes", "bits_per_second",
                "transactions", "connections", "errors", "verified", "stopped_by", "ok", "total", "intervals",
                "latency_us", "problems")) {
            assertTrue(r.containsKey(k), () -> "field " + k + " missing: " + ctx);
        }
        assertEquals(Boolean.TRUE, r.get("ok"), ctx);
        assertEquals(Boolean.TRUE, r.get("verified"), ctx);
        assertEquals(0L, r.get("errors"), ctx);
        assertEquals("kernel", r.get("net"), ctx);
        @SuppressWarnings("unchecked")
        Map<String, Object> total = (Map<String, Object>) r.get("total");
        long totalBytes = num(total.get("bytes"));
        long totalTx = num(total.get("transactions"));
        long totalConns = num(total.get("connections"));
        int parallel = (int) num(r.get("parallel"));
        List<?> intervals = (List<?>) r.get("intervals");
        assertTrue(!intervals.isEmpty(), ctx);
        long sumBytes = 0;
        long sumTx = 0;
        for (Object o : intervals) {
            @SuppressWarnings("unchecked")
            Map<String, Object> i = (Map<String, Object>) o;
            sumBytes += num(i.get("bytes"));
            sumTx += num(i.get("transactions"));
        }
        assertEquals(totalBytes, sumBytes, () -> "the intervals add up to the total: " + ctx);
        assertEquals(totalTx, sumTx, () -> "the intervals add up to the total: " + ctx);
        String mode = (String) r.get("mode");
        long count = countArg(args);
        switch (mode) {
            case "stream" -> {
                assertTrue(totalBytes > 0, ctx);
                if (count > 0) {
                    assertEquals(count, totalBytes, () -> "-n: exactly the bytes asked: " + ctx);
                    assertEquals("bytes", r.get("stopped_by"), ctx);
                }
                if ("send".equals(r.get("direction"))) {
                    assertEquals(totalBytes, num(r.get("server_bytes")), () -> "the server confirmed every byte: " + ctx);
                    expect[0] += totalBytes;
                } else {
                    expect[1] += totalBytes;
                }
                expect[3] += parallel;
            }
            case "rr", "crr" -> {
                @SuppressWarnings("unchecked")
                Map<String, Object> lat = (Map<String, Object>) r.get("latency_us");
                assertNotNull(lat, ctx);
                long measured = num(r.get("transactions"));
                assertEquals(measured, num(lat.get("count")), () -> "one latency per transaction: " + ctx);
                assertTrue(totalTx > 0, ctx);
                double p50 = ((Number) lat.get("p50")).doubleValue();
                double p99 = ((Number) lat.get("p99")).doubleValue();
                double p999 = ((Number) lat.get("p99_9")).doubleValue();
                assertTrue(p50 > 0 && p50 <= p99 && p99 <= p999, ctx);
                int req = (int) num(r.get("request_size"));
                int resp = (int) num(r.get("response_size"));
                assertEquals(totalTx * (req + resp), totalBytes, ctx);
                if (count > 0) {
                    assertEquals(count, totalTx, () -> "exactly the count asked: " + ctx);
                }
                expect[0] += totalTx * req;
                expect[1] += totalTx * resp;
                if (mode.equals("rr")) {
                    expect[2] += totalTx;
                    expect[3] += parallel;
                } else {
                    assertEquals(totalTx, totalConns, ctx);
                    // +1: the client's unmeasured probe connection before the run
                    expect[0] += req;
                    expect[1] += resp;
                    expect[2] += totalTx + 1;
                    expect[3] += totalConns + 1;
                }
            }
            default -> throw new AssertionError("unknown mode " + mode);
        }
        return r;
    }

    private static long countArg(List<String> args) {
        for (int i = 0; i < args.size() - 1; i++) {
            if (List.of("-n", "--transactions", "--connections").contains(args.get(i))) {
                String v = args.get(i + 1);
                return v.endsWith("M") ? Long.parseLong(v.substring(0, v.length() - 1)) * 1_000_000L : Long.parseLong(v);
            }
        }
        return 0;
    }

    private static long num(Object o) {
        return ((Number) o).longValue();
    }

    // ------------------------------------------------------------------ the table

    private static double headlineValue(Map<String, Object> r) {
        return switch ((String) r.get("mode")) {
            case "stream" -> ((Number) r.get("bits_per_second")).doubleValue();
            case "rr" -> ((Number) r.get("transactions_per_second")).doubleValue();
            default -> ((Number) r.get("connections_per_second")).doubleValue();
        };
    }

    private static String headline(Map<String, Object> r) {
        double v = headlineValue(r);
        return switch ((String) r.get("mode")) {
            case "stream" -> String.format(Locale.ROOT, "%.2f Gbit/s", v / 1e9);
            case "rr" -> String.format(Locale.ROOT, "%.0f trans/s", v);
            default -> String.format(Locale.ROOT, "%.0f conn/s", v);
        };
    }

    @SuppressWarnings("unchecked")
    private static String percentiles(Map<String, Object> r) {
        Map<String, Object> l = (Map<String, Object>) r.get("latency_us");
        if (l == null) {
            return "";
        }
        return String.format(Locale.ROOT, "%.0f / %.0f / %.0f", ((Number) l.get("p50")).doubleValue(),
                ((Number) l.get("p99")).doubleValue(), ((Number) l.get("p99_9")).doubleValue());
    }

    /** The run with the median headline figure. */
    private static Map<String, Object> median(List<Map<String, Object>> runs) {
        List<Map<String, Object>> sorted = new ArrayList<>(runs);
        sorted.sort((x, y) -> Double.compare(headlineValue(x), headlineValue(y)));
        return sorted.get(sorted.size() / 2);
    }

    private static String range(List<Map<String, Object>> runs) {
        if (runs.size() < 2) {
            return "";
        }
        double lo = runs.stream().mapToDouble(BenchKernelTest::headlineValue).min().orElse(0);
        double hi = runs.stream().mapToDouble(BenchKernelTest::headlineValue).max().orElse(0);
        boolean bits = "stream".equals(runs.get(0).get("mode"));
        return bits ? String.format(Locale.ROOT, " (%.2f-%.2f)", lo / 1e9, hi / 1e9)
                : String.format(Locale.ROOT, " (%.0f-%.0f)", lo, hi);
    }

    private static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException e) {
            return "?";
        }
    }

    private void printTable() {
        if (stackRuns.isEmpty()) {
            return;
        }
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "stack bench, kernel client; stack server on a TAP (%d core%s) vs kernel "
                + "server over veth; %d s measured after %d s warm-up, %s; %s, %d CPUs, load average %s at the "
                + "start, %s at the end%n%n", CORES, CORES == 1 ? "" : "s", SECONDS, OMIT,
                REPEAT == 1 ? "one run each" : "median of " + REPEAT + " runs each (min-max), alternating",
                LocalDate.now(), Runtime.getRuntime().availableProcessors(), loadBefore, loadAverage()));
        b.append("| mode | stack (TAP) | kernel (veth) | stack / kernel | latency p50 / p99 / p99.9 us, stack | "
                + "latency p50 / p99 / p99.9 us, kernel |\n|---|---|---|---|---|---|\n");
        for (String name : stackRuns.keySet()) {
            Map<String, Object> s = median(stackRuns.get(name));
            Map<String, Object> k = median(kernelRuns.get(name));
            double ratio = headlineValue(s) / headlineValue(k);
            b.append(String.format(Locale.ROOT, "| %s | %s%s | %s%s | %.2f | %s | %s |%n", name, headline(s),
                    range(stackRuns.get(name)), headline(k), range(kernelRuns.get(name)), ratio, percentiles(s),
                    percentiles(k)));
        }
        System.out.println();
        System.out.print(b);
        try {
            Path out = Path.of("target", "bench-kernel.md");
            Files.createDirectories(out.getParent());
            Files.writeString(out, b.toString());
            System.out.println("(also in " + out.toAbsolutePath() + ")");
        } catch (IOException e) {
            System.err.println("bench-kernel: cannot write the table: " + e);
        }
    }

    // ------------------------------------------------------------------ processes

    /** A `stack` JVM in a namespace, under `timeout`, output to a temporary file. */
    private final class Proc {
        final Process process;
        final Path out;

        Proc(Process process, Path out) {
            this.process = process;
            this.out = out;
        }

        String output() {
            try {
                return Files.readString(out, StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "(no output: " + e + ")";
            }
        }

        /** Waits at most {@code seconds}; kills the process then. Returns the exit code (-1 if killed). */
        int await(long seconds) {
            try {
                if (process.waitFor(seconds, TimeUnit.SECONDS)) {
                    return process.exitValue();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
            return -1;
        }

        void delete() {
            try {
                Files.deleteIfExists(out);
            } catch (IOException ignored) {
                // a temporary file
            }
        }
    }

    /**
     * Runs {@code stack ARGS} in {@code ns} under {@code timeout}, which forwards a SIGTERM to the
     * JVM and kills it 30 s later if it is still there.
     */
    private Proc spawn(String ns, long timeoutSeconds, String... stackArgs) {
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", ns, "timeout", "-k", "30",
                Long.toString(timeoutSeconds), Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
                "-cp", classpath, "io.flowstack.tools.Main"));
        cmd.addAll(Arrays.asList(stackArgs));
        try {
            Path out = Files.createTempFile("bench-kernel", ".out");
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile())).start();
            Proc proc = new Proc(p, out);
            synchronized (this) {
                procs.add(proc);
            }
            return proc;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + cmd, e);
        }
    }

    private static String lastJsonLine(String out) {
        String found = null;
        for (String line : out.split("\n")) {
            if (line.startsWith("{")) {
                found = line;
            }
        }
        return found;
    }

    /**
     * The test class path for the child JVMs (the stack-tools classes and their dependencies):
     * surefire may hand this JVM a manifest-only jar, whose Class-Path then lists the entries.
     */
    static String childClasspath() {
        String cp = System.getProperty("java.class.path");
        List<String> entries = new ArrayList<>(Arrays.asList(cp.split(java.io.File.pathSeparator)));
        if (entries.size() == 1 && entries.get(0).endsWith(".jar")) {
            try (JarFile jar = new JarFile(entries.get(0))) {
                Manifest m = jar.getManifest();
                String listed = m == null ? null : m.getMainAttributes().getValue("Class-Path");
                if (listed != null) {
                    entries.clear();
                    for (String u : listed.trim().split("\\s+")) {
                        entries.add(Path.of(URI.create(u)).toString());
                    }
                }
            } catch (IOException | IllegalArgumentException e) {
                throw new IllegalStateException("cannot read the class path from " + cp, e);
            }
        }
        String joined = entries.stream().filter(e -> !e.isBlank()).collect(Collectors.joining(java.io.File.pathSeparator));
        assertTrue(joined.contains("stack-tools") || joined.contains("flowstack-tools"),
                () -> "the stack-tools classes are not on the class path: " + joined);
        return joined;
    }

    // ------------------------------------------------------------------ commands

    record Result(int exit, String out) {
    }

    private static void host(String... cmd) {
        Result r = run(Duration.ofSeconds(30), cmd);
        if (r.exit != 0) {
            throw new IllegalStateException("command failed: " + String.join(" ", cmd) + ": exit " + r.exit + ": " + r.out);
        }
    }

    private static Result run(Duration timeout, String... cmd) {
        Path out = null;
        try {
            out = Files.createTempFile("bench-kernel-cmd", ".out");
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile())).start();
            boolean done = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (!done) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
            }
            return new Result(done ? p.exitValue() : -1, Files.readString(out, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + String.join(" ", cmd), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted: " + String.join(" ", cmd), e);
        } finally {
            if (out != null) {
                try {
                    Files.deleteIfExists(out);
                } catch (IOException ignored) {
                    // a temporary file
                }
            }
        }
    }

    static String hex(int bytes) {
        byte[] b = new byte[bytes];
        ThreadLocalRandom.current().nextBytes(b);
        return java.util.HexFormat.of().formatHex(b);
    }
}
