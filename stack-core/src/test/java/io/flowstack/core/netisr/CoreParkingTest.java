package io.flowstack.core.netisr;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.FlowStack;
import io.flowstack.core.percore.Ownership;
import io.flowstack.core.socket.TcpConnection;
import io.flowstack.core.socket.TcpListener;
import io.flowstack.core.stats.Stat;
import io.flowstack.core.testing.Await;
import io.flowstack.core.testing.TwoStacks;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Core parking ({@link CoreParking}) on running stacks with as many cores as the process has CPUs:
 * an idle core's thread parks and thread 0 runs its netisr (and owns it: the ownership check is
 * on in tests); traffic on every core is served while parked; thread 0 hands the netisr back when
 * it is busy and the machine has a CPU to spare, and not when it has none; a stack closes with a
 * thread parked.
 */
@Timeout(120)
class CoreParkingTest {
    private static final int CORES = Math.max(2, Math.min(64, ProcessCpus.COUNT));

    private static String owner(FlowStack s, int core) {
        return s.netisr(core).ownership().owner().getName();
    }

    private static void awaitParked(FlowStack s) {
        Await.until(() -> {
            for (int c = 1; c < CORES; c++) {
                if (!owner(s, c).equals("netisr-0")) {
                    return false;
                }
            }
            return true;
        }, "every core but 0 parked on thread 0");
    }

    @Test
    void anIdleCoreParksOnThreadZeroWhichServesItsFlows() throws Exception {
        long violations = Ownership.violations();
        try (TwoStacks s = new TwoStacks(CORES); TcpListener l = s.server.tcpListen(7, 64)) {
            awaitParked(s.server);
            assertTrue(s.server.total(Stat.NETISR_PARKED) >= CORES - 1, s.counters());
            boolean[] served = new boolean[CORES];
            byte[] out = new byte[3000];
            for (int i = 0; i < 32; i++) {
                java.util.Arrays.fill(out, (byte) i);
                TcpConnection c = s.connect(7);
                TcpConnection a = l.accept(5, TimeUnit.SECONDS);
                c.write(out, 0, out.length);
                byte[] got = readFully(a, out.length);
                a.write(got, 0, got.length);
                assertArrayEquals(out, readFully(c, out.length), "echo on connection " + i);
                served[a.core()] = true;
                c.close();
                a.close();
            }
            for (int c = 0; c < CORES; c++) {
                assertTrue(served[c], "a connection on core " + c);
            }
            assertEquals(0, s.internalErrors(), s.counters());
        }
        assertEquals(violations, Ownership.violations(), "no thread touched a netisr it did not own");
    }

    @Test
    void aBusyThreadZeroHandsTheNetisrsBackOnlyWhenACpuIsIdle() {
        System.setProperty(CoreParking.CPU_PROPERTY, "none"); // no idle CPU: the ticks never move
        try (TwoStacks s = new TwoStacks(CORES)) {
            awaitParked(s.server);
            keepBusy(s.server, 600);
            assertEquals(0, s.server.total(Stat.NETISR_RETURNED), "no CPU to spare, nothing handed back");
        } finally {
            System.clearProperty(CoreParking.CPU_PROPERTY);
        }
        System.setProperty(CoreParking.CPU_PROPERTY, "spare");
        try (TwoStacks s = new TwoStacks(CORES)) {
            awaitParked(s.server);
            keepBusyUntil(s, 0, Stat.NETISR_RETURNED, CORES - 1);
            assertEquals(0, s.internalErrors(), s.counters());
        } finally {
            System.clearProperty(CoreParking.CPU_PROPERTY);
        }
    }

    @Test
    void aBusyThreadThatWaitsForACpuParks() {
        System.setProperty(CoreParking.CPU_PROPERTY, "spare"); // thread 0 hands back when busy
        System.setProperty(RunDelay.WAIT_PROPERTY, "never");
        try (TwoStacks s = new TwoStacks(CORES)) {
            awaitParked(s.server);
            // core 1 busy: hosted, thread 0 is busy and hands it back; its own thread, busy, never
            // waiting for a CPU, keeps it
            keepBusyUntil(s, 1, Stat.NETISR_RETURNED, 1);
            keepBusy(s.server, 1, 600);
            assertEquals(0, s.server.total(Stat.NETISR_PARKED_CONTENDED), s.counters());
        } finally {
            System.clearProperty(RunDelay.WAIT_PROPERTY);
        }
        System.setProperty(RunDelay.WAIT_PROPERTY, "always"); // a second on the run queue per window
        try (TwoStacks s = new TwoStacks(CORES)) {
            awaitParked(s.server);
            keepBusyUntil(s, 1, Stat.NETISR_PARKED_CONTENDED, 1);
            assertEquals(0, s.internalErrors(), s.counters());
        } finally {
            System.clearProperty(RunDelay.WAIT_PROPERTY);
            System.clearProperty(CoreParking.CPU_PROPERTY);
        }
    }

    @Test
    void aStackClosesWithAThreadParked() {
        TwoStacks s = new TwoStacks(CORES);
        awaitParked(s.server);
        long t0 = System.nanoTime();
        s.close();
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertTrue(millis < 2_000, "closed in " + millis + " ms");
    }

    @Test
    void withoutParkingEveryCoreKeepsItsThread() throws Exception {
        try (TwoStacks s = new TwoStacks(CORES, 4 << 20, b -> b.coreParking(false))) {
            // a thread claims its core when it starts, which a loaded machine may delay
            for (int c = 0; c < CORES; c++) {
                String thread = "netisr-" + c;
                int core = c;
                Await.until(() -> owner(s.server, core).equals(thread), "core " + c + " claimed by " + thread);
            }
            long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300); // six load windows, idle
            while (System.nanoTime() < until) {
                for (int c = 0; c < CORES; c++) {
                    assertEquals("netisr-" + c, owner(s.server, c));
                }
            }
            assertEquals(0, s.server.total(Stat.NETISR_PARKED));
        }
    }

    /** Keeps {@code core} busy until the server's {@code stat} reaches {@code min} (at most 10 s); asserts it did. */
    private static void keepBusyUntil(TwoStacks s, int core, Stat stat, long min) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (s.server.total(stat) < min && System.nanoTime() < deadline) {
            keepBusy(s.server, core, 100);
        }
        assertTrue(s.server.total(stat) >= min, s.counters());
    }

    /** Keeps thread 0 busy for {@code millis}: commands on core 0 that each spin for 20 ms. */
    private static void keepBusy(FlowStack s, long millis) {
        keepBusy(s, 0, millis);
    }

    /** Keeps the thread that runs {@code core} busy for {@code millis}: commands that each spin for 20 ms. */
    private static void keepBusy(FlowStack s, int core, long millis) {
        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (System.nanoTime() < until) {
            s.call(core, n -> {
                long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(20);
                while (System.nanoTime() < end) {
                    Thread.onSpinWait();
                }
                return null;
            });
        }
    }

    private static byte[] readFully(TcpConnection c, int len) {
        byte[] b = new byte[len];
        for (int k = 0; k < len; ) {
            int n = c.read(b, k, len - k);
            assertTrue(n > 0, "read " + n);
            k += n;
        }
        return b;
    }
}
