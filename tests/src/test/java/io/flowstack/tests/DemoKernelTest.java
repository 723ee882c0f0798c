package io.flowstack.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code stack demo} as a user runs it (issue 5, point 1): a separate JVM started as the
 * {@code ./stack} launcher starts it (this build's java and class path, {@code
 * --enable-native-access=ALL-UNNAMED}), run to the end, stopped by SIGINT in the middle of its
 * throughput run, and refused without root or without CAP_NET_ADMIN.
 *
 * <p>Only counts, data and correctness are asserted, never a speed: every step ok, the 100 MB
 * body's SHA-256, figures present and above zero, packets on both cores, and nothing the demo
 * made left behind (namespace, TAP, processes, its temporary directory). Every wait is bounded;
 * a demo still running when a test ends gets SIGTERM (its own cleanup runs), then SIGKILL, and
 * its namespace is deleted if it is still there.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS) // a backstop: every wait below has its own, shorter, limit
class DemoKernelTest {
    private static final Pattern FIRST_LINE = Pattern.compile("flowstack demo: namespace (fsdemo-([0-9a-f]{6})), tap (fsd[0-9a-f]{6})");
    private static final Pattern STEP_ROW = Pattern.compile("^  (\\d)\\. (.+?)\\s{2,}(ok|FAILED|interrupted)\\s+(.*)$",
            Pattern.MULTILINE);
    private static final Pattern THROUGHPUT = Pattern.compile("^  throughput\\s+(\\d+(?:\\.\\d+)?) (G|M|k)bit/s",
            Pattern.MULTILINE);
    private static final Pattern CONNECTIONS = Pattern.compile("^  connections/s\\s+(\\d+)\\s", Pattern.MULTILINE);
    private static final Pattern LATENCY = Pattern.compile(
            "^  latency\\s+p50 (\\d+(?:\\.\\d+)?) (us|ms), p99 (\\d+(?:\\.\\d+)?) (us|ms)\\s", Pattern.MULTILINE);
    private static final Pattern CORE_ROW = Pattern.compile("^  core (\\d+)\\s+(\\d+)\\s+(\\d+)\\s", Pattern.MULTILINE);
    /** A bench progress line: "  0.00-1.00   s   313 MB   2.51 Gbit/s". */
    private static final Pattern STREAM_INTERVAL = Pattern.compile("\\d+\\.\\d+-\\d+\\.\\d+\\s+s\\s+.*bit/s");

    private final List<Demo> demos = new ArrayList<>();
    private Path copiedClasspath;

    // ------------------------------------------------------------------ the whole demo

    @Test
    void runsEveryStepPrintsTheSummaryAndRemovesWhatItMade() {
        Demo d = start(List.of(), "demo");
        int exit = d.await(Duration.ofSeconds(240));
        String out = d.output();
        assertEquals(0, exit, () -> "exit code; output:\n" + out);
        d.parseNames();

        List<String[]> rows = stepRows(out);
        assertEquals(7, rows.size(), () -> "seven summary rows:\n" + out);
        for (String[] r : rows) {
            assertEquals("ok", r[2], () -> "step " + r[0] + " " + r[1] + ": " + r[3] + "\n" + out);
        }
        String http = row(rows, 4)[3];
        assertTrue(row(rows, 4)[1].startsWith("http GET 100 MB"), http);
        assertTrue(http.contains("status 200, 100000000 B, sha256 ok"), http);
        assertTrue(row(rows, 5)[1].startsWith("tcp throughput"), out);
        assertTrue(row(rows, 5)[3].contains("data verified"), row(rows, 5)[3]);
        assertTrue(row(rows, 6)[1].startsWith("tcp connection rate"), out);
        assertTrue(row(rows, 6)[3].contains("data verified"), row(rows, 6)[3]);

        // the live progress: curl's meter, and a line per interval of each bench run
        assertTrue(section(out, 4).contains("% Total"), () -> "curl's progress meter:\n" + section(out, 4));
        assertTrue(STREAM_INTERVAL.matcher(section(out, 5)).find(), () -> "throughput progress:\n" + section(out, 5));
        assertTrue(Pattern.compile("\\d+\\.\\d+-\\d+\\.\\d+\\s+s\\s+\\d+\\s+\\S+ (us|ms)").matcher(section(out, 6)).find(),
                () -> "connection-rate progress:\n" + section(out, 6));

        // the figures
        Matcher t = THROUGHPUT.matcher(out);
        assertTrue(t.find(), () -> "a throughput figure:\n" + out);
        assertTrue(Double.parseDouble(t.group(1)) > 0, t.group());
        Matcher c = CONNECTIONS.matcher(out);
        assertTrue(c.find(), () -> "a connections/s figure:\n" + out);
        assertTrue(Long.parseLong(c.group(1)) > 0, c.group());
        Matcher l = LATENCY.matcher(out);
        assertTrue(l.find(), () -> "latency p50 and p99:\n" + out);
        double p50 = micros(l.group(1), l.group(2));
        double p99 = micros(l.group(3), l.group(4));
        assertTrue(p50 > 0 && p50 <= p99, l.group());

        // packets on both cores
        Matcher core = CORE_ROW.matcher(out);
        int cores = 0;
        while (core.find()) {
            assertEquals(cores, Integer.parseInt(core.group(1)), core.group());
            assertTrue(Long.parseLong(core.group(2)) > 0, () -> "frames in: " + core.group());
            assertTrue(Long.parseLong(core.group(3)) > 0, () -> "frames out: " + core.group());
            cores++;
        }
        assertEquals(2, cores, () -> "a row per core:\n" + out);

        assertTrue(out.contains("namespace " + d.ns + " deleted"), out);
        assertTrue(out.strip().endsWith("flowstack demo: ok, all 7 steps passed"), out);
        assertEquals("", d.stderr(), "nothing on stderr");
        assertNothingLeft(d);
    }

    @Test
    void ctrlCDuringTheThroughputRunStopsItPrintsWhatWasMeasuredAndRemovesEverything() {
        Demo d = start(List.of(), "demo");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        while (!STREAM_INTERVAL.matcher(section(d.output(), 5)).find()) {
            assertTrue(d.process.isAlive(), () -> "the demo ended before its throughput run printed progress:\n"
                    + d.output() + d.stderr());
            assertTrue(System.nanoTime() - deadline < 0, () -> "no throughput progress line within 180 s:\n" + d.output());
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
        }
        d.parseNames();
        assertTrue(d.process.isAlive(), "still running its throughput run");
        CliLab.Result kill = CliLab.run(List.of("kill", "-INT", Long.toString(d.process.pid())), Duration.ofSeconds(10));
        assertEquals(0, kill.exit(), kill::toString);

        int exit = d.await(Duration.ofSeconds(20)); // a liveness bound, not a speed: it normally takes < 2 s
        String out = d.output();
        assertEquals(130, exit, () -> "exit code after SIGINT (128 + 2); output:\n" + out + d.stderr());
        assertTrue(out.contains("flowstack demo: interrupted during [5/7] tcp throughput"), out);
        List<String[]> rows = stepRows(out);
        assertEquals(5, rows.size(), () -> "the four steps done and the interrupted one:\n" + out);
        for (int n = 1; n <= 4; n++) {
            assertEquals("ok", row(rows, n)[2], out);
        }
        assertTrue(row(rows, 4)[3].contains("100000000 B, sha256 ok"), out);
        String[] stopped = row(rows, 5);
        assertEquals("interrupted", stopped[2], out);
        // SIGTERM let the bench client report what it had measured: bytes and a rate so far
        assertTrue(stopped[3].matches("by Ctrl-C; until then \\d+(\\.\\d+)? (MB|GB) in \\d+\\.\\d+ s = .*bit/s.*"),
                stopped[3]);
        Matcher t = THROUGHPUT.matcher(out);
        assertTrue(t.find() && Double.parseDouble(t.group(1)) > 0, () -> "the throughput so far:\n" + out);
        assertTrue(CORE_ROW.matcher(out).find(), () -> "the per-core table:\n" + out);
        assertTrue(out.contains("namespace " + d.ns + " deleted"), out);
        assertTrue(out.strip().endsWith("flowstack demo: interrupted during step 5 of 7 (tcp throughput 5 s); "
                + "4 steps passed before"), out);
        assertFalse(out.contains("[6/7]"), "no step after the interrupted one");
        assertNothingLeft(d);
    }

    // ------------------------------------------------------------------ refused

    @Test
    void withoutRootOrCapNetAdminItSaysSoInOneLineAndExits2() throws IOException {
        List<String> before = demoNamespaces();
        // an ordinary user: nobody, with a copy of the class path it can read
        Demo user = start(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"), "demo",
                readableClasspath());
        assertEquals(2, user.await(Duration.ofSeconds(60)), () -> user.output() + user.stderr());
        assertEquals("", user.output());
        List<String> lines = user.stderr().lines().toList();
        assertEquals(1, lines.size(), () -> "one line:\n" + user.stderr());
        assertTrue(lines.get(0).startsWith("stack demo: needs root"), lines.get(0));
        assertTrue(lines.get(0).contains("sudo ./stack demo"), lines.get(0));

        // root without CAP_NET_ADMIN and CAP_SYS_ADMIN (as in a container that was not given them)
        Demo capless = start(List.of("setpriv", "--inh-caps=-all", "--bounding-set=-net_admin,-sys_admin"), "demo");
        assertEquals(2, capless.await(Duration.ofSeconds(60)), () -> capless.output() + capless.stderr());
        assertEquals("", capless.output());
        List<String> capLines = capless.stderr().lines().toList();
        assertEquals(1, capLines.size(), () -> "one line:\n" + capless.stderr());
        assertTrue(capLines.get(0).startsWith("stack demo: runs as root but without CAP_NET_ADMIN and CAP_SYS_ADMIN"),
                capLines.get(0));
        assertTrue(capLines.get(0).contains("--cap-add NET_ADMIN"), capLines.get(0));
        assertEquals(before, demoNamespaces(), "no namespace made");
    }

    // ------------------------------------------------------------------ what must be gone

    private static void assertNothingLeft(Demo d) {
        assertNotNull(d.ns, "the demo named its namespace");
        assertFalse(demoNamespaces().contains(d.ns), () -> d.ns + " still in ip netns list");
        assertFalse(Files.exists(Path.of("/run/netns", d.ns)), "/run/netns/" + d.ns);
        CliLab.Result links = CliLab.run(List.of("ip", "-o", "link", "show"), Duration.ofSeconds(10));
        assertEquals(0, links.exit(), links::toString);
        assertFalse(links.stdout().contains(d.tap), () -> "tap " + d.tap + " still there:\n" + links.stdout());
        List<String> procs = processesMentioning(d.id);
        assertTrue(procs.isEmpty(), () -> "processes of the demo still running: " + procs);
        try (Stream<Path> tmp = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
            List<Path> left = tmp.filter(p -> p.getFileName().toString().startsWith(d.ns + "-")).toList();
            assertTrue(left.isEmpty(), () -> "temporary directory left: " + left);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<String> demoNamespaces() {
        CliLab.Result r = CliLab.run(List.of("ip", "netns", "list"), Duration.ofSeconds(10));
        assertEquals(0, r.exit(), r::toString);
        return r.stdout().lines().map(l -> l.strip().split("\\s+")[0]).filter(n -> n.startsWith("fsdemo-")).toList();
    }

    /** Command lines of live processes that contain {@code text} (the demo's id is in its namespace's name). */
    private static List<String> processesMentioning(String text) {
        List<String> found = new ArrayList<>();
        ProcessHandle.allProcesses().forEach(p -> {
            if (p.pid() == ProcessHandle.current().pid()) {
                return;
            }
            try {
                String cmd = Files.readString(Path.of("/proc", Long.toString(p.pid()), "cmdline"), StandardCharsets.UTF_8)
                        .replace('\0', ' ');
                if (cmd.contains(text)) {
                    found.add(p.pid() + ": " + cmd.strip());
                }
            } catch (IOException | UncheckedIOException e) {
                // gone meanwhile
            }
        });
        return found;
    }

    // ------------------------------------------------------------------ parsing the output

    /** The summary's step rows: number, name, result, detail. */
    private static List<String[]> stepRows(String out) {
        int at = out.lastIndexOf("\nsummary\n");
        assertTrue(at >= 0, () -> "a summary:\n" + out);
        List<String[]> rows = new ArrayList<>();
        Matcher m = STEP_ROW.matcher(out.substring(at));
        while (m.find()) {
            rows.add(new String[] {m.group(1), m.group(2), m.group(3), m.group(4)});
        }
        return rows;
    }

    private static String[] row(List<String[]> rows, int n) {
        return rows.stream().filter(r -> r[0].equals(Integer.toString(n))).findFirst()
                .orElseThrow(() -> new AssertionError("no summary row " + n));
    }

    /** The live output of step {@code n}: from its header to the next blank line ending it. */
    private static String section(String out, int n) {
        int from = out.indexOf("[" + n + "/7] ");
        if (from < 0) {
            return "";
        }
        int to = out.indexOf("\n[" + (n + 1) + "/7] ", from);
        int summary = out.indexOf("\nsummary\n", from);
        int interrupted = out.indexOf("\nflowstack demo: interrupted", from);
        int end = out.length();
        for (int e : new int[] {to, summary, interrupted}) {
            if (e >= 0 && e < end) {
                end = e;
            }
        }
        return out.substring(from, end);
    }

    private static double micros(String value, String unit) {
        double v = Double.parseDouble(value);
        return unit.equals("ms") ? v * 1000 : v;
    }

    // ------------------------------------------------------------------ processes

    /** A demo JVM: its output goes to files, so that a test can read it while it runs. */
    private static final class Demo {
        final Process process;
        final Path out;
        final Path err;
        String ns;
        String id;
        String tap;

        Demo(Process process, Path out, Path err) {
            this.process = process;
            this.out = out;
            this.err = err;
        }

        String output() {
            return read(out);
        }

        String stderr() {
            return read(err);
        }

        /** The namespace and TAP names from the first line. */
        void parseNames() {
            Matcher m = FIRST_LINE.matcher(output());
            assertTrue(m.find(), () -> "the first line names the namespace and the tap:\n" + output());
            ns = m.group(1);
            id = m.group(2);
            tap = m.group(3);
        }

        /** Waits at most {@code timeout}; -1 if it had to be killed. */
        int await(Duration timeout) {
            try {
                if (process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    return process.exitValue();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            stop();
            return -1;
        }

        /** SIGTERM (the demo cleans up), SIGKILL after 30 s, then whatever it made that is left. */
        void stop() {
            if (ns == null) {
                Matcher m = FIRST_LINE.matcher(output());
                if (m.find()) {
                    ns = m.group(1);
                    id = m.group(2);
                    tap = m.group(3);
                }
            }
            if (process.isAlive()) {
                List<ProcessHandle> tree = new ArrayList<>(process.descendants().toList());
                process.destroy();
                try {
                    process.waitFor(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                tree.add(process.toHandle());
                tree.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
            }
            if (ns != null && Files.exists(Path.of("/run/netns", ns))) {
                CliLab.run(List.of("ip", "netns", "del", ns), Duration.ofSeconds(30));
            }
        }

        void delete() {
            try {
                Files.deleteIfExists(out);
                Files.deleteIfExists(err);
            } catch (IOException ignored) {
                // temporary files
            }
        }

        private static String read(Path p) {
            try {
                return Files.readString(p, StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "(unreadable: " + e + ")";
            }
        }
    }

    /**
     * Starts {@code prefix... java ... io.flowstack.tools.Main args...} as the launcher would:
     * this JVM's java, the stack-tools class path, {@code --enable-native-access=ALL-UNNAMED}.
     */
    private Demo start(List<String> prefix, String command) {
        return start(prefix, command, BenchKernelTest.childClasspath());
    }

    private Demo start(List<String> prefix, String command, String classpath) {
        List<String> cmd = new ArrayList<>(prefix);
        cmd.addAll(NamespaceLab.SIGINT_DEFAULT);
        cmd.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
                "-XX:-UsePerfData", "-cp", classpath, "io.flowstack.tools.Main", command));
        try {
            Path out = Files.createTempFile("demo-kernel-test", ".out");
            Path err = Files.createTempFile("demo-kernel-test", ".err");
            Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile())).start();
            Demo d = new Demo(p, out, err);
            demos.add(d);
            return d;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + cmd, e);
        }
    }

    /**
     * The class path copied to a directory anyone can read (the Maven repository holding the jars
     * may not be), for a JVM that runs as nobody.
     */
    private String readableClasspath() throws IOException {
        copiedClasspath = Files.createTempDirectory("demo-kernel-test-cp",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        Files.setPosixFilePermissions(copiedClasspath, PosixFilePermissions.fromString("rwxr-xr-x"));
        List<String> entries = new ArrayList<>();
        int i = 0;
        for (String e : BenchKernelTest.childClasspath().split(java.io.File.pathSeparator)) {
            Path src = Path.of(e);
            if (!Files.exists(src)) {
                continue;
            }
            Path dst = copiedClasspath.resolve(i++ + "-" + src.getFileName());
            try (Stream<Path> walk = Files.walk(src)) {
                for (Path f : walk.toList()) {
                    Path to = dst.resolve(src.relativize(f).toString());
                    if (Files.isDirectory(f)) {
                        Files.createDirectories(to);
                        Files.setPosixFilePermissions(to, PosixFilePermissions.fromString("rwxr-xr-x"));
                    } else {
                        Files.copy(f, to);
                        Files.setPosixFilePermissions(to, PosixFilePermissions.fromString("rw-r--r--"));
                    }
                }
            }
            entries.add(dst.toString());
        }
        return String.join(java.io.File.pathSeparator, entries);
    }

    @AfterEach
    void cleanUp() throws IOException {
        for (Demo d : demos) {
            d.stop();
            d.delete();
        }
        demos.clear();
        if (copiedClasspath != null) {
            try (Stream<Path> walk = Files.walk(copiedClasspath)) {
                for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
            copiedClasspath = null;
        }
    }
}
