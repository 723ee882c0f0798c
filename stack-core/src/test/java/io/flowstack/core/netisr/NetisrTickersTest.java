package io.flowstack.core.netisr;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.stats.Stat;
import io.flowstack.core.testing.StackHarness;
import io.flowstack.core.testing.TwoStacks;
import io.flowstack.core.testing.Await;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;
import org.junit.jupiter.api.Test;

/** The per-core tickers: run on the netisr's 10 ms tick with its time, registered and removed by command. */
class NetisrTickersTest {

    @Test
    void aTickerRunsOnEachTickWithTheNetisrsTime() {
        try (StackHarness h = new StackHarness(2)) {
            List<Long> core0 = new ArrayList<>();
            List<Long> core1 = new ArrayList<>();
            LongConsumer t0 = core0::add;
            h.stack.addTicker(0, t0);
            h.stack.addTicker(0, t0); // once only
            h.stack.addTicker(1, core1::add);
            for (int i = 0; i < 5; i++) {
                h.advance(10_000_000L);
            }
            assertEquals(5, core0.size(), core0.toString());
            assertEquals(5, core1.size());
            for (int i = 1; i < core0.size(); i++) {
                assertEquals(10_000_000L, core0.get(i) - core0.get(i - 1), "the netisr's clock is passed in");
            }
            assertEquals(h.now, core0.getLast());
            h.advance(3_000_000L); // not yet a tick
            assertEquals(5, core0.size());
            assertTrue(h.stack.removeTicker(0, t0));
            assertFalse(h.stack.removeTicker(0, t0));
            h.advance(10_000_000L);
            assertEquals(5, core0.size(), "removed: not called again");
            assertEquals(6, core1.size(), "core 1 ticked on");
        }
    }

    @Test
    void aTickerThatThrowsIsCountedAndTheOthersStillRun() {
        try (StackHarness h = new StackHarness(1)) {
            AtomicLong ran = new AtomicLong();
            h.stack.addTicker(0, now -> {
                throw new IllegalStateException("a broken ticker");
            });
            h.stack.addTicker(0, now -> ran.incrementAndGet());
            h.advance(10_000_000L);
            h.advance(10_000_000L);
            assertEquals(2, ran.get());
            assertEquals(2, h.total(Stat.INTERNAL_ERROR));
        }
    }

    @Test
    void onARunningStackTickersRunOnTheOwningNetisrThread() {
        // without core parking each core has its own thread (CoreParkingTest: a parked core's
        // ticker runs on thread 0, which then owns it)
        try (TwoStacks s = new TwoStacks(2, 4 << 20, b -> b.coreParking(false))) {
            String[] names = new String[2];
            for (int c = 0; c < 2; c++) {
                int core = c;
                s.server.addTicker(c, now -> names[core] = Thread.currentThread().getName());
            }
            Await.until(() -> names[0] != null && names[1] != null, "both tickers to run");
            assertEquals("netisr-0", names[0]);
            assertEquals("netisr-1", names[1]);
        }
    }
}
