package io.flowstack.core.netisr;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link RunDelay}: the schedstat text parsed in place, and against the kernel's scheduler: a
 * thread that competes with more spinning threads than there are CPUs sees its run-queue wait
 * grow.
 */
@Timeout(60)
class RunDelayTest {
    private static long parse(String text) {
        try (Arena a = Arena.ofConfined()) {
            byte[] b = text.getBytes(StandardCharsets.US_ASCII);
            MemorySegment s = a.allocate(Math.max(1, b.length));
            MemorySegment.copy(MemorySegment.ofArray(b), 0, s, 0, b.length);
            return RunDelay.parse(s, b.length);
        }
    }

    @Test
    void parsesTheSecondField() {
        assertEquals(4933795, parse("0 4933795 1\n"));
        assertEquals(9309379, parse("154105948 9309379 375\n"));
        assertEquals(7, parse("1 7"));
    }

    @Test
    void rejectsWhatIsNotTwoFields() {
        assertEquals(-1, parse(""));
        assertEquals(-1, parse("12"));
        assertEquals(-1, parse("12 "));
        assertEquals(-1, parse("x 1 2"));
        assertEquals(-1, parse("1  2 3"));
        assertEquals(-1, parse("1 99999999999999999999 3"));
    }

    @Test
    void aThreadAmongMoreSpinnersThanCpusWaitsForACpu() throws Exception {
        int cpus = Runtime.getRuntime().availableProcessors();
        AtomicLong before = new AtomicLong(-2);
        AtomicLong after = new AtomicLong(-2);
        Thread probe = Thread.ofPlatform().start(() -> {
            try (RunDelay d = new RunDelay()) {
                before.set(d.nanos());
                spin(TimeUnit.MILLISECONDS.toNanos(600));
                after.set(d.nanos());
            }
        });
        Thread[] hogs = new Thread[2 * cpus];
        for (int i = 0; i < hogs.length; i++) {
            hogs[i] = Thread.ofPlatform().start(() -> spin(TimeUnit.MILLISECONDS.toNanos(800)));
        }
        probe.join();
        for (Thread h : hogs) {
            h.join();
        }
        assertTrue(before.get() >= 0, "run delay readable: " + before.get());
        long waited = after.get() - before.get();
        // 2N + 1 runnable threads on N CPUs: the probe runs about N/(2N+1) of the time
        assertTrue(waited >= TimeUnit.MILLISECONDS.toNanos(100), "waited " + waited / 1_000_000 + " ms of 600");
    }

    @Test
    void theTestPropertyFakesTheWait() {
        System.setProperty(RunDelay.WAIT_PROPERTY, "always");
        try (RunDelay d = new RunDelay()) {
            assertEquals(1_000_000_000L, d.nanos());
            assertEquals(2_000_000_000L, d.nanos());
        } finally {
            System.clearProperty(RunDelay.WAIT_PROPERTY);
        }
        System.setProperty(RunDelay.WAIT_PROPERTY, "never");
        try (RunDelay d = new RunDelay()) {
            assertEquals(0, d.nanos());
        } finally {
            System.clearProperty(RunDelay.WAIT_PROPERTY);
        }
    }

    private static void spin(long nanos) {
        long end = System.nanoTime() + nanos;
        while (System.nanoTime() < end) {
            Thread.onSpinWait();
        }
    }
}
