package io.flowstack.tools.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.tools.Json;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The formatting of {@code bench --compare}: progress lines, the table, the JSON and the Markdown section. */
class CompareReportTest {
    private static final CompareMachine MACHINE = new CompareMachine(2, "AMD EPYC", "6.18.44", "25.0.3");

    private static CompareRow.Side ok(double figure) {
        return new CompareRow.Side(true, figure, 3.0, Double.NaN, Double.NaN, null);
    }

    private static CompareRow.Side okLatency(double figure, double p50, double p99) {
        return new CompareRow.Side(true, figure, 3.0, p50, p99, null);
    }

    private static CompareReport report(List<CompareRow> rows, boolean interrupted) {
        return new CompareReport("tap", 2, "callback", 3.0, "2026-12-06T04:30:00Z", "./stack bench --compare",
                MACHINE, rows, interrupted);
    }

    private static List<CompareRow> sample() {
        return List.of(
                new CompareRow(CompareMode.STREAM_1, ok(3.24e9), ok(15.8e9)),
                new CompareRow(CompareMode.RR_64_16K, okLatency(5797, 121, 382), okLatency(41084, 19.6, 57.3)),
                new CompareRow(CompareMode.CRR, CompareRow.Side.failed("connect timed out"), okLatency(6809, 83.4, 1370)));
    }

    @Test
    void ratioIsStackOverKernelOnlyWhenBothAreOk() {
        List<CompareRow> rows = sample();
        assertEquals(3.24 / 15.8, rows.get(0).ratio(), 1e-9);
        assertEquals(5797.0 / 41084, rows.get(1).ratio(), 1e-9);
        assertTrue(Double.isNaN(rows.get(2).ratio()));
        assertTrue(Double.isNaN(new CompareRow(CompareMode.RR_1, ok(1), null).ratio()));
        assertTrue(Double.isNaN(new CompareRow(CompareMode.RR_1, ok(1), ok(0)).ratio()));
        assertFalse(rows.get(2).ok());
        assertTrue(rows.get(0).ok());
    }

    @Test
    void tableHasAHeaderAndARowPerModeWithFiguresRatiosAndLatencies() {
        List<String> t = report(sample(), false).tableLines();
        assertEquals(4, t.size(), String.join("\n", t));
        assertTrue(t.get(0).matches("mode\\s+stack\\s+kernel\\s+stack/kernel\\s+stack p50 / p99\\s+kernel p50 / p99"),
                t.get(0));
        assertTrue(t.get(1).matches("stream 1, client -> server\\s+3\\.24 Gbit/s\\s+15\\.8 Gbit/s\\s+0\\.21"), t.get(1));
        assertTrue(t.get(2).matches("rr 64 B / 16 KiB\\s+5797 trans/s\\s+41084 trans/s\\s+0\\.14\\s+121 us / 382 us\\s+"
                + "19\\.6 us / 57\\.3 us"), t.get(2));
        assertTrue(t.get(3).matches("crr 1 B / 1 B\\s+FAILED\\s+6809 conn/s\\s+-\\s+83\\.4 us / 1\\.37 ms"), t.get(3));
        // the columns line up: every figure ends where its header does
        int stackEnd = t.get(0).indexOf("stack ") + "stack".length();
        for (String line : t.subList(1, t.size())) {
            assertEquals(' ', line.charAt(stackEnd), line);
            assertTrue(line.charAt(stackEnd - 1) != ' ', line);
        }
    }

    @Test
    void progressLineSaysRunSideFigureAndLatency() {
        assertEquals("[ 3/14] stream 1, client -> server   stack     3.24 Gbit/s  (3.00 s)",
                CompareReport.progressLine(3, 14, CompareMode.STREAM_1, "stack", ok(3.24e9)));
        assertEquals("[2/6] rr 1 B / 1 B                 kernel  51632 trans/s  p50 15.2 us  p99 42.9 us  (3.00 s)",
                CompareReport.progressLine(2, 6, CompareMode.RR_1, "kernel", okLatency(51632, 15.2, 42.9)));
        assertEquals("[5/6] crr 1 B / 1 B                stack  FAILED: connect timed out",
                CompareReport.progressLine(5, 6, CompareMode.CRR, "stack", CompareRow.Side.failed("connect timed out")));
    }

    @Test
    void jsonCarriesMachineSetupEveryRunAndItsRatio() {
        Map<String, Object> j = Json.parseObject(report(sample(), false).toJson().toString());
        assertEquals("flowstack bench", j.get("tool"));
        assertEquals("compare", j.get("role"));
        assertEquals("./stack bench --compare", j.get("command"));
        assertEquals("2026-12-06T04:30:00Z", j.get("date"));
        assertEquals(Map.of("nproc", 2L, "cpu", "AMD EPYC", "kernel", "6.18.44", "java", "25.0.3"), j.get("machine"));
        assertEquals(Map.of("device", "tap", "cores", 2L, "api", "callback"), j.get("stack"));
        assertEquals(false, j.get("ok"), "a failed run makes the comparison not ok");
        assertEquals(false, j.get("interrupted"));
        List<?> runs = (List<?>) j.get("runs");
        assertEquals(3, runs.size());
        Map<?, ?> first = (Map<?, ?>) runs.get(0);
        assertEquals("stream-1", first.get("mode"));
        assertEquals("bit/s", first.get("unit"));
        assertEquals(3.24 / 15.8, ((Number) first.get("ratio")).doubleValue(), 1e-6);
        assertEquals(3.24e9, ((Number) ((Map<?, ?>) first.get("stack")).get("value")).doubleValue(), 1);
        assertNull(((Map<?, ?>) first.get("stack")).get("p50_us"));
        Map<?, ?> rr = (Map<?, ?>) runs.get(1);
        assertEquals(121.0, ((Number) ((Map<?, ?>) rr.get("stack")).get("p50_us")).doubleValue(), 1e-9);
        Map<?, ?> crr = (Map<?, ?>) runs.get(2);
        assertNull(crr.get("ratio"));
        assertEquals("connect timed out", ((Map<?, ?>) crr.get("stack")).get("error"));
        assertEquals(true, Json.parseObject(report(sample().subList(0, 2), false).toJson().toString()).get("ok"));
    }

    @Test
    void markdownIsASectionWithMachineDateCommandAndTable() {
        String md = report(sample(), false).markdown();
        List<String> lines = List.of(md.split("\n"));
        assertTrue(lines.get(0).startsWith("### `stack bench --compare`: 2026-12-06"), lines.get(0));
        assertTrue(md.contains("Machine: 2 CPUs (nproc), AMD EPYC, kernel 6.18.44 (uname -r)"), md);
        assertTrue(md.contains("Date: 2026-12-06T04:30:00Z."), md);
        assertTrue(md.contains("Command: `./stack bench --compare`."), md);
        assertTrue(md.contains("| mode | stack | kernel | stack/kernel | stack p50 / p99 | kernel p50 / p99 |"), md);
        assertTrue(md.contains("| stream 1, client -> server | 3.24 Gbit/s | 15.8 Gbit/s | 0.21 | - | - |"), md);
        assertTrue(md.contains("| crr 1 B / 1 B | FAILED | 6809 conn/s | - | - | 83.4 us / 1.37 ms |"), md);
        assertEquals(3, lines.stream().filter(l -> l.startsWith("| ") && !l.startsWith("| mode")).count(), md);
        assertFalse(md.contains("INTERRUPTED"));
        assertTrue(report(sample(), true).markdown().contains("INTERRUPTED"));
    }

    @Test
    void interruptedOrEmptyIsNotOk() {
        assertFalse(report(sample().subList(0, 2), true).ok());
        assertFalse(report(List.of(), false).ok());
        assertTrue(report(sample().subList(0, 2), false).ok());
    }

    @Test
    void sideReadsTheBenchClientsJson() {
        Map<String, Object> rr = Json.parseObject("{\"ok\":true,\"seconds\":3.01,\"transactions_per_second\":41340.5,"
                + "\"latency_us\":{\"p50\":14.6,\"p99\":175.1}}");
        CompareRow.Side s = CompareRow.Side.fromClientJson(CompareMode.RR_1, rr);
        assertTrue(s.ok());
        assertEquals(41340.5, s.figure());
        assertEquals(14.6, s.p50Us());
        assertEquals(175.1, s.p99Us());
        CompareRow.Side f = CompareRow.Side.fromClientJson(CompareMode.STREAM_1,
                Json.parseObject("{\"ok\":false,\"error\":\"cannot connect to 198.18.0.2:5201: refused\"}"));
        assertFalse(f.ok());
        assertEquals("cannot connect to 198.18.0.2:5201: refused", f.error());
    }

    @Test
    void modesParseInTableOrderOnceAndNameTheUnknown() {
        assertEquals(List.of(CompareMode.STREAM_1, CompareMode.RR_1, CompareMode.CRR),
                CompareMode.parse("crr, rr-1,stream-1,crr"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CompareMode.parse("rr-2"));
        assertEquals("--modes: 'rr-2' is not a mode: use some of stream-1,stream-4,reverse-1,reverse-4,rr-1,rr-64-16k,crr",
                e.getMessage());
        assertEquals(List.of("--rr", "64:16Ki"), CompareMode.RR_64_16K.clientArgs());
    }

    @Test
    void cpuModelIsTheFirstModelName() {
        assertEquals("AMD EPYC 7B13", CompareMachine.cpuModel("processor\t: 0\nmodel name\t: AMD EPYC 7B13\n"
                + "model name\t: other\n"));
        assertEquals("unknown", CompareMachine.cpuModel("processor : 0\n"));
    }
}
