package io.flowstack.services;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.socket.StackException;
import io.flowstack.core.stats.Stat;
import io.flowstack.core.socket.TcpConnection;
import io.flowstack.core.testing.Await;
import io.flowstack.core.testing.TwoStacks;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/**
 * The metrics service on the callback API, and its limits: one snapshot per cache interval
 * however many scrapes come (a fake clock shows N scrapes within the interval take one; a flood
 * on the real clock stays within elapsed / interval + 1); the absolute request deadline against
 * a slowloris (bytes dribbled in do not move it), the per-core connection cap, and the source
 * prefixes. The stacks of the fake-clock tests read a clock only the test moves: nothing times
 * out, ticks or sweeps unless the test says so.
 */
class MetricsServiceTest {
    private static final long MS = 1_000_000L;
    private static final long SECOND = 1_000 * MS;
    private static final String GET = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";

    /** The clock of the fake-clock tests' stacks, moved by the test only. */
    private final AtomicLong now = new AtomicLong(1_000 * SECOND);

    private TwoStacks fakeClockStacks(int cores) {
        return new TwoStacks(cores, 4 << 20, b -> b.clock(now::get));
    }

    @Test
    void scrapesWithinTheIntervalShareOneSnapshot() throws Exception {
        try (TwoStacks s = fakeClockStacks(2); MetricsService m = new MetricsService(s.server, 9100)) {
            assertEquals(MetricsLimits.DEFAULTS, m.limits());
            AtomicLong ticked0 = new AtomicLong();
            AtomicLong ticked1 = new AtomicLong();
            s.server.addTicker(0, ticked0::set);
            s.server.addTicker(1, ticked1::set);
            TcpConnection a = s.connect(9100);
            TcpConnection b = s.connect(9100);
            HttpServiceTest.Response first = scrape(a, GET, true); // parked: the clock moves for the ticks
            assertEquals(200, first.status());
            assertEquals(MetricsService.CONTENT_TYPE, first.header("content-type"));
            assertTrue(first.text().contains("# TYPE flowstack_rx_frames_total counter"), first.text());
            assertEquals(1, sample(first.text(), "flowstack_metrics_snapshots_total"), "the rendering counts itself");
            long at = now.get();
            for (int i = 0; i < 100; i++) { // served from the cache at once: the clock stands still
                HttpServiceTest.Response r = scrape(i % 2 == 0 ? a : b, GET, false);
                assertEquals(200, r.status());
                assertArrayEquals(first.body(), r.body(), "the same rendering");
            }
            assertEquals(at, now.get());
            assertEquals(1, m.snapshots(), "101 scrapes within the interval, one snapshot");
            // pipelined, still within the interval: in order, from the same rendering
            String all = GET + "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n" + GET
                    + "HEAD /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
            byte[] req = all.getBytes(StandardCharsets.US_ASCII);
            a.write(req, 0, req.length);
            InputStream in = a.inputStream();
            HttpServiceTest.Response r1 = HttpServiceTest.read(in, false);
            assertEquals(404, HttpServiceTest.read(in, false).status());
            HttpServiceTest.Response r3 = HttpServiceTest.read(in, false);
            HttpServiceTest.Response r4 = HttpServiceTest.read(in, true);
            assertArrayEquals(first.body(), r1.body());
            assertArrayEquals(first.body(), r3.body());
            assertEquals(200, r4.status());
            assertEquals("close", r4.header("connection"));
            assertEquals(String.valueOf(first.body().length), r4.header("content-length"));
            assertEquals(1, m.snapshots());
            // past the interval: the next scrape waits for a new snapshot, with newer numbers
            advanceTo(now.get() + SECOND + 10 * MS, ticked0, ticked1);
            HttpServiceTest.Response fresh = scrape(b, GET, true);
            assertEquals(2, m.snapshots());
            assertEquals(2, sample(fresh.text(), "flowstack_metrics_snapshots_total"));
            assertTrue(sum(fresh.text(), "flowstack_rx_frames_total{") > sum(first.text(), "flowstack_rx_frames_total{"),
                    "a fresh snapshot counts the frames since");
            b.close();
            assertEquals(-1, a.read(new byte[1], 0, 1), "closed after Connection: close");
            a.close();
            drive(() -> m.openConnections() == 0, "the scrape connections to end");
            assertEquals(0, m.cut() + m.refusedByLimit() + m.refusedBySource());
            assertEquals(0, s.internalErrors(), s.counters());
        }
    }

    @Test
    void aScrapeFloodTakesAtMostOneSnapshotPerInterval() throws Exception {
        Duration interval = Duration.ofMillis(100);
        int threads = 4;
        int each = 600;
        try (TwoStacks s = new TwoStacks(2);
             MetricsService m = new MetricsService(s.server, 9100, MetricsLimits.DEFAULTS.withCacheInterval(interval))) {
            List<TcpConnection> conns = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                conns.add(s.connect(9100));
            }
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            long start = System.nanoTime(); // the stacks' clock
            List<Future<Integer>> done = new ArrayList<>();
            for (TcpConnection c : conns) {
                done.add(pool.submit(() -> {
                    byte[] req = GET.getBytes(StandardCharsets.US_ASCII);
                    int ok = 0;
                    for (int i = 0; i < each; i++) {
                        c.write(req, 0, req.length);
                        HttpServiceTest.Response r = HttpServiceTest.read(c.inputStream(), false);
                        ok += r.status() == 200 && r.text().contains("flowstack_info{") ? 1 : 0;
                    }
                    return ok;
                }));
            }
            int ok = 0;
            for (Future<Integer> f : done) {
                ok += f.get(120, TimeUnit.SECONDS);
            }
            long snapshots = m.snapshots(); // read before the end is taken: every one counted began before it
            long elapsed = System.nanoTime() - start;
            pool.shutdown();
            assertEquals(threads * each, ok, "every scrape answered");
            long bound = elapsed / interval.toNanos() + 1;
            assertTrue(snapshots >= 1 && snapshots <= bound, snapshots + " snapshots for " + ok + " scrapes in "
                    + elapsed / MS + " ms: at most " + bound);
            System.out.printf("metrics flood: %d scrapes in %d ms, %d snapshots (bound %d)%n", ok, elapsed / MS,
                    snapshots, bound);
            for (TcpConnection c : conns) {
                c.close();
            }
            Await.until(() -> m.openConnections() == 0, "the scrape connections to end");
            assertEquals(0, s.internalErrors(), s.counters());
        }
    }

    @Test
    void aSlowlorisIsCutAtTheAbsoluteDeadlineAndTheCapHolds() throws Exception {
        MetricsLimits limits = MetricsLimits.DEFAULTS.withMaxConnections(6);
        try (TwoStacks s = fakeClockStacks(1); MetricsService m = new MetricsService(s.server, 9100, limits)) {
            AtomicLong ticked = new AtomicLong();
            s.server.addTicker(0, ticked::set); // after the service's ticker: its tick at that time is done
            long t0 = now.get();
            String slow = "GET /metrics HTTP/1.1\r\nHost: x\r\n"; // never ends: no blank line
            List<TcpConnection> first = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                first.add(s.connect(9100)); // four dribble a byte a second, the fifth sends nothing
            }
            drive(() -> m.openConnections() == 5, "five connections");
            for (int sec = 0; sec < 5; sec++) {
                if (sec > 0) {
                    advanceTo(t0 + sec * SECOND, ticked);
                }
                for (int i = 0; i < 4; i++) {
                    write(first.get(i), slow.substring(sec, sec + 1));
                }
                if (sec == 1) { // a legitimate scrape meanwhile: the sixth connection
                    TcpConnection ok = s.connect(9100);
                    assertEquals(200, scrape(ok, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                            true).status());
                    assertEquals(-1, ok.read(new byte[1], 0, 1));
                    ok.close();
                    drive(() -> m.openConnections() == 5, "the scrape's connection to end");
                }
                if (sec == 2) { // the sixth slow one fills the cap; a seventh is refused
                    first.add(s.connect(9100));
                    write(first.get(5), "G");
                    drive(() -> m.openConnections() == 6, "six connections");
                    TcpConnection over = s.client.tcpConnect(TwoStacks.SERVER, 9100, 5, TimeUnit.SECONDS);
                    assertReset(over);
                    assertEquals(1, m.refusedByLimit());
                    assertEquals(6, m.openConnections(), "the cap holds");
                }
            }
            advanceTo(t0 + 4_900 * MS, ticked);
            assertEquals(0, m.cut(), "nothing cut before the deadline");
            assertEquals(6, m.openConnections());
            // deadline + a sweep period (an eighth of it): the first five are cut, dribblers or not
            advanceTo(t0 + 5 * SECOND + 625 * MS + 10 * MS, ticked);
            assertEquals(5, m.cut());
            for (int i = 0; i < 5; i++) {
                assertReset(first.get(i));
            }
            assertEquals(1, m.openConnections(), "the one that came at 2 s runs to 7 s");
            advanceTo(t0 + 7 * SECOND + 635 * MS, ticked);
            assertEquals(6, m.cut());
            assertReset(first.get(5));
            assertEquals(0, m.openConnections());
            TcpConnection after = s.connect(9100);
            assertEquals(200, scrape(after, GET, true).status(), "served once the slow ones are gone");
            after.close();
            drive(() -> m.openConnections() == 0, "the last scrape's connection to end");
            assertEquals(0, m.refusedBySource());
            assertEquals(0, s.internalErrors(), s.counters());
        }
    }

    @Test
    void aLaterRequestsDeadlineRunsFromItsFirstByte() throws Exception {
        try (TwoStacks s = fakeClockStacks(1); MetricsService m = new MetricsService(s.server, 9100)) {
            AtomicLong ticked = new AtomicLong();
            s.server.addTicker(0, ticked::set);
            TcpConnection c = s.connect(9100);
            assertEquals(200, scrape(c, GET, true).status());
            long t1 = now.get();
            advanceTo(t1 + 20 * SECOND, ticked); // idle on keep-alive: under the 30 s idle timeout
            assertEquals(1, m.openConnections());
            assertEquals(0, m.cut());
            long segments = s.server.total(Stat.TCP_IN);
            write(c, "GET /metr");
            // its pass began before the clock moves on: the first byte is seen at 20 s
            Await.until(() -> s.server.total(Stat.TCP_IN) > segments, "the first bytes at the server");
            advanceTo(t1 + 24 * SECOND, ticked);
            write(c, "ics HTTP/1.1\r\n");
            advanceTo(t1 + 24_900 * MS, ticked);
            assertEquals(0, m.cut(), "the later request runs from its first byte, at 20 s");
            advanceTo(t1 + 25 * SECOND + 635 * MS, ticked);
            assertEquals(1, m.cut());
            assertReset(c);
            assertEquals(0, s.internalErrors(), s.counters());
        }
    }

    @Test
    void onlyTheAllowedSourcesAreServed() throws Exception {
        try (TwoStacks s = new TwoStacks(1);
             MetricsService allowed = new MetricsService(s.server, 9100, MetricsLimits.DEFAULTS.withAllow(
                     List.of(SourcePrefix.parse("10.0.0.0/8"), SourcePrefix.parse("198.18.0.0/30"))));
             MetricsService denied = new MetricsService(s.server, 9101, MetricsLimits.DEFAULTS.withAllow(
                     List.of(SourcePrefix.parse("198.18.0.2"), SourcePrefix.parse("198.18.1.0/24"))))) {
            TcpConnection c = s.connect(9100); // from 198.18.0.1
            byte[] req = GET.getBytes(StandardCharsets.US_ASCII);
            c.write(req, 0, req.length);
            assertEquals(200, HttpServiceTest.read(c.inputStream(), false).status());
            c.close();
            assertEquals(0, allowed.refusedBySource());
            for (int i = 1; i <= 3; i++) {
                TcpConnection d = s.client.tcpConnect(TwoStacks.SERVER, 9101, 5, TimeUnit.SECONDS);
                assertReset(d);
                assertEquals(i, denied.refusedBySource());
            }
            assertEquals(0, denied.accepted(), "never served");
            assertEquals(0, denied.refusedByLimit() + denied.cut());
            Await.until(() -> allowed.openConnections() == 0, "the allowed connection to end");
            assertEquals(0, s.internalErrors(), s.counters());
        }
    }

    @Test
    void theServicesCountersAreInTheExposition() throws Exception {
        MetricsLimits limits = MetricsLimits.DEFAULTS.withAllow(List.of(SourcePrefix.parse("198.18.0.1/32")));
        try (TwoStacks s = new TwoStacks(2); MetricsService m = new MetricsService(s.server, 9100, limits)) {
            TcpConnection c = s.connect(9100);
            byte[] req = GET.getBytes(StandardCharsets.US_ASCII);
            c.write(req, 0, req.length);
            String text = HttpServiceTest.read(c.inputStream(), false).text();
            for (String family : List.of("flowstack_metrics_cut_total", "flowstack_metrics_refused_limit_total",
                    "flowstack_metrics_refused_source_total")) {
                assertTrue(text.contains("# TYPE " + family + " counter\n"), text);
                assertEquals(0, sample(text, family + "{core=\"0\"}"));
                assertEquals(0, sample(text, family + "{core=\"1\"}"));
            }
            assertTrue(text.contains("# TYPE flowstack_metrics_snapshots_total counter\n"), text);
            assertEquals(1, sample(text, "flowstack_metrics_snapshots_total"));
            c.close();
            Await.until(() -> m.openConnections() == 0, "the connection to end");
        }
    }

    // ------------------------------------------------------------------ helpers

    /**
     * Writes {@code request} and reads one complete response, moving the fake clock 10 ms at a
     * time while it is incomplete if {@code step} (a parked scrape is answered on a tick), not
     * at all otherwise (so it must come without any tick).
     */
    private HttpServiceTest.Response scrape(TcpConnection c, String request, boolean step) throws Exception {
        byte[] b = request.getBytes(StandardCharsets.US_ASCII);
        c.write(b, 0, b.length);
        boolean head = request.startsWith("HEAD");
        InputStream in = c.inputStream();
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        long deadline = System.nanoTime() + 10 * SECOND;
        byte[] buf = new byte[64 * 1024];
        while (true) {
            int n = in.available();
            if (n > 0) {
                got.write(buf, 0, in.read(buf, 0, Math.min(n, buf.length)));
                byte[] all = got.toByteArray();
                int end = new String(all, StandardCharsets.ISO_8859_1).indexOf("\r\n\r\n");
                if (end >= 0 && (head || all.length >= end + 4 + contentLength(all, end))) {
                    return HttpServiceTest.read(new java.io.ByteArrayInputStream(all), head);
                }
                continue;
            }
            assertTrue(System.nanoTime() < deadline, "no complete response within 10 s: " + got);
            if (step) {
                now.addAndGet(10 * MS);
            }
            LockSupport.parkNanos(MS);
        }
    }

    private static int contentLength(byte[] all, int end) {
        for (String line : new String(all, 0, end, StandardCharsets.ISO_8859_1).split("\r\n")) {
            if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
                return Integer.parseInt(line.substring(15).strip());
            }
        }
        throw new AssertionError("no Content-Length");
    }

    /**
     * Moves the fake clock to {@code t} and waits until each server core with a ticker in
     * {@code ticked} (registered after the service's) ticked at {@code t}: the service's tick
     * at that time, sweep included, is done.
     */
    private void advanceTo(long t, AtomicLong... ticked) {
        assertTrue(t > now.get(), "the clock only moves forward");
        now.set(t);
        for (AtomicLong k : ticked) {
            Await.until(() -> k.get() >= t, "the server's tick at " + t);
        }
    }

    /**
     * Waits for {@code condition}, moving the fake clock 10 ms at a time (for ticks and lingering
     * closes) but 200 ms at most, then in real time only: on a loaded machine the real wait is long,
     * and the fake clock must not pass the times a test schedules next.
     */
    private void drive(java.util.function.BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + 10 * SECOND;
        long limit = now.get() + 200 * MS;
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting for " + what);
            if (now.get() < limit) {
                now.addAndGet(10 * MS);
            }
            LockSupport.parkNanos(MS);
        }
    }

    private static void write(TcpConnection c, String text) {
        byte[] b = text.getBytes(StandardCharsets.US_ASCII);
        c.write(b, 0, b.length);
    }

    /** The server reset {@code c}: it ends, and reading says so. */
    private static void assertReset(TcpConnection c) {
        Await.until(c::finished, "the reset of " + c);
        StackException e = assertThrows(StackException.class, () -> c.read(new byte[1], 0, 1));
        assertTrue(e.getMessage().contains("reset"), e.getMessage());
        c.close();
    }

    /** The value of the sample whose name and labels are {@code series}. */
    private static long sample(String text, String series) {
        for (String line : text.split("\n")) {
            if (line.startsWith(series + " ")) {
                return Long.parseLong(line.substring(series.length() + 1));
            }
        }
        throw new AssertionError("no sample " + series + " in\n" + text);
    }

    /** The sum of the samples whose line starts with {@code prefix}. */
    private static long sum(String text, String prefix) {
        long sum = 0;
        boolean any = false;
        for (String line : text.split("\n")) {
            if (line.startsWith(prefix)) {
                sum += Long.parseLong(line.substring(line.lastIndexOf(' ') + 1));
                any = true;
            }
        }
        assertTrue(any, prefix);
        return sum;
    }
}
