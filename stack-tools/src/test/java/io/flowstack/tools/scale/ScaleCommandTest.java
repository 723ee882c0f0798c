package io.flowstack.tools.scale;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.percore.Ownership;
import io.flowstack.tools.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code stack scale} runs end to end for short durations (a warm-up of 1 s, so connections
 * are up even on a loaded machine: at 0.3 s one run once measured nothing), in both layouts and for core counts
 * other than 2, with the ownership check on. Performance is never asserted: only that every
 * run made progress without errors, hops or internal errors, and that the output has its shape.
 */
class ScaleCommandTest {
    private record Run(int code, String out, String err) {}

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.commandLine(new PrintWriter(out, true), new PrintWriter(err, true)).execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    private static final Pattern RESULT = Pattern.compile("\\{\"test\":\"(conn|rr)\",\"cores\":(\\d+),\"ops_per_s\":([\\d.]+),"
            + "\"ops\":(\\d+),.*?\"errors\":(\\d+),\"hops\":(\\d+),\"retransmits\":\\d+,\"internal_errors\":(\\d+),"
            + "\"core_threads\":(\\d+),");

    @ParameterizedTest(name = "{0} cores, layout {1}")
    @CsvSource({"2, shared", "3, shared", "2, separate"})
    void runsBothTestsOnOneAndNCoresAndPrintsJson(int cores, String layout) {
        long violations = Ownership.violations();
        Run r = run("scale", "--cores", Integer.toString(cores), "--layout", layout, "--duration", "1",
                "--warmup", "1", "--jit-warmup", "0", "--conns", "8", "--concurrency", "8", "--json");
        assertEquals(Main.OK, r.code(), r.err());
        assertTrue(r.out().startsWith("{\"tool\":\"flowstack scale\",\"format\":1,\"layout\":\"" + layout + "\""), r.out());
        Matcher m = RESULT.matcher(r.out());
        int results = 0;
        while (m.find()) {
            results++;
            int n = Integer.parseInt(m.group(2));
            assertTrue(n == 1 || n == cores, r.out());
            assertTrue(Long.parseLong(m.group(4)) > 0, () -> "no progress: " + r.out());
            assertEquals("0", m.group(5), () -> "errors: " + r.out());
            assertEquals("0", m.group(6), () -> "a connection's frames hopped between cores: " + r.out());
            assertEquals("0", m.group(7), () -> "internal errors: " + r.out());
            int threads = Integer.parseInt(m.group(8));
            assertEquals(layout.equals("shared") ? n : 2 * n, threads, r.out());
        }
        assertEquals(4, results, r.out());
        assertTrue(r.out().contains("\"ratios\":{\"conn\":") && r.out().contains("\"rr\":"), r.out());
        assertEquals(violations, Ownership.violations(), "the driver threads own the cores they run");
    }

    @ParameterizedTest
    @ValueSource(strings = {"conn", "rr"})
    void oneCoreOnlyPrintsATable(String test) {
        Run r = run("scale", "--cores", "1", "--test", test, "--duration", "0.5", "--warmup", "1",
                "--jit-warmup", "0", "--conns", "4", "--concurrency", "4");
        assertEquals(Main.OK, r.code(), r.err());
        assertTrue(r.out().contains("test  cores"), r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith(test + " ")), r.out());
        assertTrue(!r.out().contains("scaling"), "no ratio for one core: " + r.out());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "--cores 0|--cores must be 1..64",
        "--test tput|--test must be conn, rr or all",
        "--layout numa|--layout must be shared or separate",
        "--duration 0|--duration must be in (0, 3600] seconds",
        "--size 0|--size must be 1..16384 bytes"})
    void badValuesAreUsageErrors(String args, String message) {
        String[] a = ("scale " + args).split(" ");
        Run r = run(a);
        assertEquals(Main.USAGE, r.code(), r.err());
        assertTrue(r.err().startsWith("stack scale: " + message), r.err());
    }
}
