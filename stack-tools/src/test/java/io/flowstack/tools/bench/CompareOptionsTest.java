package io.flowstack.tools.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.tools.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The options of {@code bench --compare} are checked before anything is made: a wrong one is one
 * line naming it, the {@code --help} hint and exit 2 (nothing here needs root, nothing runs).
 */
class CompareOptionsTest {

    private record Run(int code, String out, String err) {
    }

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.commandLine(new PrintWriter(out, true), new PrintWriter(err, true)).execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "--compare --client 198.18.0.2|--client is not for --compare: it builds both topologies and runs every mode itself",
        "--compare --kernel|--kernel is not for --compare",
        "--compare --tap fs0|--tap is not for --compare",
        "--compare --rr 64|--rr is not for --compare",
        "--compare -P 4|--parallel is not for --compare",
        "--compare --mtu 9000|--mtu is not for --compare",
        "--compare --modes stream-1,nope|--modes: 'nope' is not a mode: use some of stream-1,",
        "--compare --warmup 61|--warmup must be 0..60 seconds, got 61",
        "--compare --cores 0|--cores must be 1..64, got 0",
        "--compare -t 2 -O 2|--omit must be >= 0 and shorter than --duration",
        "--compare -O 3|--omit must be shorter than the 3 s of a run: give -t too",
        "--server --kernel --markdown x.md|--markdown is for --compare",
        "--client 198.18.0.2 --kernel --packet|--packet is for --compare",
        "--client 198.18.0.2 --kernel --modes crr|--modes is for --compare",
    })
    void wrongOptionsAreOneLineAndExit2(String args, String message) {
        Run r = run(concat("bench", args.split(" ")));
        assertEquals(Main.USAGE, r.code(), r.err());
        List<String> lines = List.of(r.err().split("\\R"));
        assertEquals(2, lines.size(), r.err());
        assertTrue(lines.get(0).startsWith("stack bench: " + message), lines.get(0));
        assertEquals("Try 'stack bench --help' for more information.", lines.get(1));
        assertEquals("", r.out());
    }

    private static String[] concat(String first, String[] rest) {
        String[] a = new String[rest.length + 1];
        a[0] = first;
        System.arraycopy(rest, 0, a, 1, rest.length);
        return a;
    }

    /**
     * The warm-up runs a stream each way and rr, then every measured mode not among them, once,
     * in the order asked: a measured crr run finds connection set-up compiled.
     */
    @Test
    void theWarmUpRunsEveryMeasuredModeOnce() {
        assertEquals(List.of(CompareMode.STREAM_1, CompareMode.REVERSE_1, CompareMode.RR_1, CompareMode.CRR),
                CompareRunner.warmUpModes(List.of(CompareMode.CRR)));
        assertEquals(List.of(CompareMode.STREAM_1, CompareMode.REVERSE_1, CompareMode.RR_1, CompareMode.RR_64_16K,
                CompareMode.STREAM_4), CompareRunner.warmUpModes(List.of(CompareMode.RR_1, CompareMode.RR_64_16K,
                CompareMode.STREAM_1, CompareMode.STREAM_4)));
        assertEquals(List.of(CompareMode.values()).size(),
                CompareRunner.warmUpModes(List.of(CompareMode.values())).size(), "each mode once");
    }
}
