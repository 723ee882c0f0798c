package io.flowstack.core.testing;

import java.time.Duration;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * Waits for a condition with a deadline: the one way tests on real threads wait (no fixed
 * sleeps). Stateless.
 */
public final class Await {
    private Await() {}

    /**
     * Returns once {@code condition} holds, checking about every millisecond.
     *
     * @throws AssertionError naming {@code what} if it does not hold within {@code timeout}
     */
    public static void until(BooleanSupplier condition, String what, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("timed out after " + timeout + " waiting for " + what);
            }
            LockSupport.parkNanos(1_000_000L);
        }
    }

    /** {@link #until(BooleanSupplier, String, Duration)} with 10 s. */
    public static void until(BooleanSupplier condition, String what) {
        until(condition, what, Duration.ofSeconds(10));
    }
}
