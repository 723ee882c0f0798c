package io.flowstack.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The endpoint's warm-up ({@link Warmup}, {@code --warmup}): it exercises every TCP service it
 * can, ends on time, and leaves no client thread behind; an endpoint with nothing to exercise
 * skips it.
 */
class WarmupTest {
    @Test
    @Timeout(60)
    void exercisesTheServicesForItsTimeAndLeavesNothingRunning() throws InterruptedException {
        List<ServiceSpec> serve = List.of(new ServiceSpec(ServiceSpec.Kind.HTTP, 80),
                new ServiceSpec(ServiceSpec.Kind.ECHO, 7), new ServiceSpec(ServiceSpec.Kind.DISCARD, 9),
                new ServiceSpec(ServiceSpec.Kind.CHARGEN, 19), new ServiceSpec(ServiceSpec.Kind.METRICS, 9100));
        long budget = 1_500_000_000L;
        Warmup.Result r = Warmup.run(serve, 2, Warmup.DEFAULT_MTU, budget);
        assertTrue(r.requests() > 0, () -> "no keep-alive request answered: " + r);
        assertTrue(r.connections() > 0, () -> "no Connection: close exchange completed: " + r);
        assertTrue(r.bytes() > 1_000_000, () -> "little bulk data moved: " + r);
        assertTrue(r.nanos() >= budget, () -> "ended before its time: " + r);
        assertTrue(r.nanos() < budget + 5_000_000_000L, () -> "overran its time by more than 5 s: " + r);
        assertTrue(r.toString().startsWith("warmed up in "), r::toString);
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (clientsAlive() && System.nanoTime() - deadline < 0) {
            LockSupport.parkNanos(10_000_000L);
        }
        assertFalse(clientsAlive(), "a warm-up client thread outlived the warm-up");
    }

    @Test
    void onlyTcpServicesOtherThanMetricsAreExercised() {
        assertTrue(Warmup.exercises(List.of(new ServiceSpec(ServiceSpec.Kind.HTTP, 80))));
        assertTrue(Warmup.exercises(List.of(new ServiceSpec(ServiceSpec.Kind.UDP_ECHO, 7),
                new ServiceSpec(ServiceSpec.Kind.DISCARD, 9))));
        assertFalse(Warmup.exercises(List.of()));
        assertFalse(Warmup.exercises(List.of(new ServiceSpec(ServiceSpec.Kind.METRICS, 9100),
                new ServiceSpec(ServiceSpec.Kind.UDP_ECHO, 7))));
    }

    @Test
    void resultSaysWhatWasDone() {
        assertEquals("warmed up in 2.0 s (12,345 keep-alive requests, 678 connections closed, 1,234 MB of bulk data)",
                new Warmup.Result(12_345, 678, 1_234_000_000L, 2_010_000_000L).toString());
    }

    private static boolean clientsAlive() {
        return Thread.getAllStackTraces().keySet().stream()
                .anyMatch(t -> t.isAlive() && t.getName().equals("warmup-client"));
    }
}
