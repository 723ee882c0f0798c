package io.flowstack.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.flowstack.tools.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.MatchResult;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code stack bench --compare} as a user runs it (issue 10, point 6): a separate JVM started as
 * the launcher starts it, which builds both topologies itself, runs short comparisons (1 s per
 * run, a subset of the modes, no warm-up: under a minute in all) with the JSON, the text table,
 * {@code --packet} and {@code --markdown}, is stopped by SIGINT in the middle of a run and during
 * its set-up, and is killed (SIGKILL) for the next run to remove what it left.
 *
 * <p>Only shape and correctness are asserted, never a speed: every run ok, every ratio above
 * zero, the table and JSON as documented, and nothing of the run left behind: no namespace
 * {@code fscmp-PID-ID-*}, no link {@code fcID*}, no bench process on the run's port (each run gets
 * a port of its own, so its clients and its kernel server can be told from anyone else's). Every
 * wait is bounded; a compare still running when a test ends gets SIGTERM (its own cleanup runs),
 * then SIGKILL, and what is left of it is removed.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS) // a backstop: every wait below has its own, shorter, limit
class BenchCompareKernelTest {
    private static final Pattern NAMES = Pattern.compile("namespaces (fscmp-\\d+-([0-9a-f]{6}))-c \\(clients\\)");
    private static final Pattern PROGRESS = Pattern.compile("^\\[ ?(\\d+)/(\\d+)\\] (.+?)\\s{2,}(stack|kernel)\\s+(.*)$",
            Pattern.MULTILINE);
    private static final Pattern HEADER = Pattern.compile(
            "^  mode\\s+stack\\s+kernel\\s+stack/kernel\\s+stack p50 / p99\\s+kernel p50 / p99$", Pattern.MULTILINE);

    private final List<Compare> compares = new ArrayList<>();

    // ------------------------------------------------------------------ runs to the end

    @Test
    void jsonOfFourModesHasEveryFigureAndPositiveRatiosAndLeavesNothing() {
        Compare c = start("--compare", "-t", "1", "--warmup", "0", "--modes", "stream-1,reverse-4,rr-64-16k,crr",
                "--json");
        int exit = c.await(Duration.ofSeconds(150));
        String out = c.stdout();
        String err = c.stderr();
        assertEquals(0, exit, () -> "exit code; stdout:\n" + out + "\nstderr:\n" + err);
        String id = c.id();

        List<String> lines = out.lines().filter(l -> !l.isBlank()).toList();
        assertEquals(1, lines.size(), () -> "one JSON object on stdout, progress on stderr:\n" + out);
        Map<String, Object> j = Json.parseObject(lines.get(0));
        assertEquals("flowstack bench", j.get("tool"));
        assertEquals("compare", j.get("role"));
        assertEquals(true, j.get("ok"), out);
        assertEquals(false, j.get("interrupted"));
        assertTrue(((String) j.get("command")).startsWith("./stack bench --compare -t 1"), out);
        assertTrue(((String) j.get("date")).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ"), out);
        Map<?, ?> machine = (Map<?, ?>) j.get("machine");
        assertEquals((long) Runtime.getRuntime().availableProcessors(), machine.get("nproc"));
        assertEquals(unameR(), machine.get("kernel"));
        assertNotNull(machine.get("cpu"));
        assertEquals("tap", ((Map<?, ?>) j.get("stack")).get("device"));
        assertEquals(Map.of("ok", true, "left", List.of()), j.get("cleanup"));

        List<?> runs = (List<?>) j.get("runs");
        assertEquals(List.of("stream-1", "reverse-4", "rr-64-16k", "crr"),
                runs.stream().map(r -> ((Map<?, ?>) r).get("mode")).toList());
        for (Object o : runs) {
            Map<?, ?> r = (Map<?, ?>) o;
            double ratio = ((Number) r.get("ratio")).doubleValue();
            assertTrue(ratio > 0 && Double.isFinite(ratio), () -> "ratio of " + r);
            for (String side : List.of("stack", "kernel")) {
                Map<?, ?> s = (Map<?, ?>) r.get(side);
                assertEquals(true, s.get("ok"), () -> side + " of " + r);
                assertTrue(((Number) s.get("value")).doubleValue() > 0, () -> side + " of " + r);
                assertTrue(((Number) s.get("seconds")).doubleValue() >= 0.9, () -> side + " of " + r);
                boolean latency = !((String) r.get("mode")).startsWith("stream") && !((String) r.get("mode")).startsWith("reverse");
                assertEquals(latency, s.get("p50_us") != null, () -> side + " of " + r);
            }
            double stack = ((Number) ((Map<?, ?>) r.get("stack")).get("value")).doubleValue();
            double kernel = ((Number) ((Map<?, ?>) r.get("kernel")).get("value")).doubleValue();
            assertEquals(stack / kernel, ratio, ratio * 1e-6, () -> "ratio = stack / kernel: " + r);
        }

        // a progress line per run, stack then kernel, on stderr
        List<MatchResult> progress = PROGRESS.matcher(err).results().toList();
        assertEquals(8, progress.size(), () -> "eight progress lines:\n" + err);
        for (int i = 0; i < progress.size(); i++) {
            MatchResult m = progress.get(i);
            assertEquals(Integer.toString(i + 1), m.group(1), err);
            assertEquals("8", m.group(2), err);
            assertEquals(i % 2 == 0 ? "stack" : "kernel", m.group(4), err);
            assertTrue(m.group(5).matches("\\S+ (bit/s|kbit/s|Mbit/s|Gbit/s|trans/s|conn/s).*\\(\\d+\\.\\d\\d s\\)"),
                    m.group());
        }
        assertTrue(err.contains("cleanup: namespaces " + c.nsBase() + "-c"), err);
        assertTrue(err.contains(") removed\n"), err);
        assertNothingLeft(id, c.port);
    }

    @Test
    void packetPrintsTheTableAndWritesTheMarkdownSection() throws IOException {
        Path md = Files.createTempFile("bench-compare", ".md");
        try {
            Compare c = start("--compare", "--packet", "-t", "1", "--warmup", "0", "--modes", "stream-1,rr-64-16k",
                    "--markdown", md.toString());
            int exit = c.await(Duration.ofSeconds(120));
            String out = c.stdout();
            assertEquals(0, exit, () -> "exit code; stdout:\n" + out + "\nstderr:\n" + c.stderr());
            String id = c.id();
            assertTrue(out.contains("flowstack bench --compare: the stack on AF_PACKET over a veth ("), out);
            assertTrue(out.contains("veth fc" + id + "p/fc" + id + "q (stack, AF_PACKET)"), out);
            assertTrue(HEADER.matcher(out).find(), () -> "the table's header:\n" + out);
            assertTrue(Pattern.compile("^  stream 1, client -> server\\s+\\S+ [kMG]?bit/s\\s+\\S+ [kMG]?bit/s\\s+\\d+\\.\\d\\d$",
                    Pattern.MULTILINE).matcher(out).find(), out);
            String lat = "\\S+ (us|ms|s) / \\S+ (us|ms|s)";
            assertTrue(Pattern.compile("^  rr 64 B / 16 KiB\\s+[\\d.]+ trans/s\\s+[\\d.]+ trans/s\\s+\\d+\\.\\d\\d\\s+"
                    + lat + "\\s+" + lat + "$", Pattern.MULTILINE).matcher(out).find(), out);
            assertTrue(out.contains("flowstack bench --compare: ok, markdown in " + md), out);

            String section = Files.readString(md);
            List<String> l = section.lines().toList();
            assertTrue(l.get(0).startsWith("### `stack bench --compare`: 20"), section);
            assertTrue(section.contains("Machine: " + Runtime.getRuntime().availableProcessors() + " CPUs (nproc), "),
                    section);
            assertTrue(section.contains("kernel " + unameR() + " (uname -r)"), section);
            assertTrue(section.contains("Command: `./stack bench --compare --packet -t 1"), section);
            assertTrue(section.contains("| mode | stack | kernel | stack/kernel | stack p50 / p99 | kernel p50 / p99 |"),
                    section);
            assertEquals(2, l.stream().filter(x -> x.startsWith("| stream 1") || x.startsWith("| rr 64 B")).count(), section);
            assertNothingLeft(id, c.port);
        } finally {
            Files.deleteIfExists(md);
        }
    }

    // ------------------------------------------------------------------ Ctrl-C

    @Test
    void sigintInTheMiddleOfARunRemovesEverythingAndPrintsTheRunsSoFar() {
        Compare c = start("--compare", "-t", "3", "--warmup", "0");
        c.awaitOutput("[ 1/14] ", Duration.ofSeconds(90)); // the first run is done: the second runs now
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1000));
        c.sigint();
        int exit = c.await(Duration.ofSeconds(60));
        String out = c.stdout();
        assertEquals(130, exit, () -> "exit code after SIGINT (128 + 2); stdout:\n" + out + "\nstderr:\n" + c.stderr());
        String id = c.id();
        assertTrue(out.contains("flowstack bench --compare: interrupted during run 2/14 (stream 1, client -> server, "
                + "kernel): stopping it, then removing namespaces " + c.nsBase() + "-c"), out);
        assertTrue(out.contains("summary (interrupted: the runs done so far)"), out);
        assertTrue(HEADER.matcher(out).find(), out);
        assertTrue(Pattern.compile("^  stream 1, client -> server\\s+\\S+ [kMG]?bit/s\\s+-\\s+-$", Pattern.MULTILINE)
                .matcher(out).find(), () -> "the stack's figure, none yet for the kernel:\n" + out);
        assertTrue(out.contains("cleanup: namespaces " + c.nsBase() + "-c"), out);
        assertTrue(out.contains("flowstack bench --compare: interrupted"), out);
        assertTrue(c.stderr().isBlank(), c.stderr());
        assertNothingLeft(id, c.port);
    }

    @Test
    void sigintDuringTheSetUpRemovesEverything() {
        Compare c = start("--compare", "-t", "1", "--warmup", "0");
        c.awaitOutput("$ ip netns add fscmp-", Duration.ofSeconds(60));
        c.sigint();
        int exit = c.await(Duration.ofSeconds(60));
        String out = c.stdout();
        assertEquals(130, exit, () -> "exit code after SIGINT; stdout:\n" + out + "\nstderr:\n" + c.stderr());
        String id = c.id();
        assertTrue(out.contains("flowstack bench --compare: interrupted during set-up"), out);
        assertTrue(out.contains("summary: interrupted before the first run"), out);
        assertTrue(out.contains(" removed\n"), out);
        assertNothingLeft(id, c.port);
    }

    @Test
    void aRunKilledWithSigkillIsRemovedByTheNext() {
        Compare killed = start("--compare", "-t", "2", "--warmup", "0", "--modes", "stream-1");
        killed.awaitOutput("runs (the same kernel client", Duration.ofSeconds(90)); // its kernel server runs
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(500)); // and its first client starts
        String base = killed.nsBase();
        killed.process.destroyForcibly(); // SIGKILL: no cleanup of its own
        try {
            killed.process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        assertTrue(Files.exists(Path.of("/run/netns", base + "-c")), "SIGKILL leaves the namespaces");

        Compare next = start("--compare", "-t", "1", "--warmup", "0", "--modes", "rr-1");
        int exit = next.await(Duration.ofSeconds(90));
        String out = next.stdout();
        assertEquals(0, exit, () -> "exit code; stdout:\n" + out + "\nstderr:\n" + next.stderr());
        assertTrue(out.contains("  removed namespace " + base + "-c of a run that was killed\n"), out);
        assertTrue(out.contains("  removed namespace " + base + "-k of a run that was killed\n"), out);
        assertNothingLeft(killed.id(), killed.port);
        assertNothingLeft(next.id(), next.port);
    }

    // ------------------------------------------------------------------ what is left

    /** No namespace fscmp-ID-*, no link fcID* in the root namespace, no bench process on {@code port}. */
    private static void assertNothingLeft(String id, int port) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        List<String> left;
        do {
            left = leftovers(id, port);
            if (left.isEmpty()) {
                return;
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(200));
        } while (System.nanoTime() - deadline < 0);
        fail("left behind by compare " + id + ": " + left);
    }

    private static List<String> leftovers(String id, int port) {
        List<String> left = new ArrayList<>();
        try (Stream<Path> ns = Files.exists(Path.of("/run/netns")) ? Files.list(Path.of("/run/netns")) : Stream.empty();
             Stream<Path> links = Files.list(Path.of("/sys/class/net"))) {
            ns.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("fscmp-") && n.contains("-" + id + "-")).forEach(n -> left.add("netns " + n));
            links.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("fc" + id)).forEach(n -> left.add("link " + n));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        String portArg = "--port\0" + port + "\0";
        ProcessHandle.allProcesses().forEach(h -> {
            try {
                String cmdline = Files.readString(Path.of("/proc", Long.toString(h.pid()), "cmdline"), StandardCharsets.UTF_8);
                if (cmdline.contains("io.flowstack.tools.Main\0bench\0") && cmdline.contains(portArg)
                        && !cmdline.contains("--compare")) {
                    left.add("process " + h.pid() + ": " + cmdline.replace('\0', ' '));
                }
            } catch (IOException | RuntimeException e) {
                // gone, or not ours to read
            }
        });
        return left;
    }

    private static String unameR() {
        try {
            return Files.readString(Path.of("/proc/sys/kernel/osrelease")).strip();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ------------------------------------------------------------------ the process

    /** One {@code stack bench --compare} process, its output in files. */
    private static final class Compare {
        final Process process;
        final Path out;
        final Path err;
        final int port;

        Compare(Process process, Path out, Path err, int port) {
            this.process = process;
            this.out = out;
            this.err = err;
            this.port = port;
        }

        String stdout() {
            return read(out);
        }

        String stderr() {
            return read(err);
        }

        /** The run's six hex digits, from its first lines. */
        String id() {
            return names().group(2);
        }

        /** "fscmp-PID-ID": its namespaces without the -c or -k. */
        String nsBase() {
            return names().group(1);
        }

        private Matcher names() {
            Matcher m = NAMES.matcher(stdout() + stderr());
            assertTrue(m.find(), () -> "no namespace names in the output:\n" + stdout() + stderr());
            return m;
        }

        /** Waits until stdout or stderr contains {@code text}; fails after {@code timeout}. */
        void awaitOutput(String text, Duration timeout) {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (!(stdout() + stderr()).contains(text)) {
                if (!process.isAlive() || System.nanoTime() - deadline > 0) {
                    fail("no '" + text + "' in the output" + (process.isAlive() ? "" : " (it ended)") + ":\n" + stdout()
                            + stderr());
                }
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
            }
        }

        void sigint() {
            CliLab.Result kill = CliLab.run(List.of("kill", "-INT", Long.toString(process.pid())), Duration.ofSeconds(10));
            assertEquals(0, kill.exit(), kill::toString);
        }

        /** Waits at most {@code timeout}; -1 if it had to be stopped. */
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

        /** SIGTERM (its own cleanup runs), SIGKILL after 20 s. */
        void stop() {
            if (!process.isAlive()) {
                return;
            }
            process.destroy();
            try {
                if (!process.waitFor(20, TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
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

    /** Starts {@code java ... io.flowstack.tools.Main bench ARGS --port P} as the launcher would, SIGINT at its default. */
    private Compare start(String... args) {
        int port = ThreadLocalRandom.current().nextInt(20000, 40000);
        List<String> cmd = new ArrayList<>(NamespaceLab.SIGINT_DEFAULT);
        cmd.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
                "-XX:-UsePerfData", "-cp", BenchKernelTest.childClasspath(), "io.flowstack.tools.Main", "bench"));
        cmd.addAll(List.of(args));
        cmd.addAll(List.of("--port", Integer.toString(port)));
        try {
            Path out = Files.createTempFile("bench-compare-test", ".out");
            Path err = Files.createTempFile("bench-compare-test", ".err");
            Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile())
                    .redirectInput(NamespaceLab.NO_INPUT).start();
            Compare c = new Compare(p, out, err, port);
            compares.add(c);
            return c;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + cmd, e);
        }
    }

    @AfterEach
    void cleanUp() {
        for (Compare c : compares) {
            c.stop();
            // a run that failed its own cleanup: remove what is left, so that no test leaks
            Matcher m = NAMES.matcher(c.stdout() + c.stderr());
            if (m.find()) {
                for (String ns : List.of(m.group(1) + "-c", m.group(1) + "-k")) {
                    if (Files.exists(Path.of("/run/netns", ns))) {
                        CliLab.run(List.of("ip", "netns", "del", ns), Duration.ofSeconds(10));
                    }
                }
                if (Files.exists(Path.of("/sys/class/net", "fc" + m.group(2) + "p"))) {
                    CliLab.run(List.of("ip", "link", "del", "fc" + m.group(2) + "p"), Duration.ofSeconds(10));
                }
            }
            c.delete();
        }
        compares.clear();
    }
}
