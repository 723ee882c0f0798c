package io.flowstack.core.netisr;

import io.flowstack.core.config.StackConfig;
import org.agrona.concurrent.IdleStrategy;

/**
 * How an idle netisr waits (DESIGN.md "Idle"; docs/BENCHMARKS.md "Wake-ups"): it spins on
 * memory for {@link StackConfig#idleSpinNanos} (its passes read the inbox rings, the
 * application ring and the commands, and the NIC queue only where an empty receive is a memory
 * read; a TAP at most every {@link StackConfig#idleNicCheckNanos}: {@link Netisr#idleSpin}),
 * then blocks in poll() on the NIC queue's descriptor and the wake eventfd ({@link Netisr#block}).
 * A sleep that ended without a descriptor ready (a timer tick) goes straight back to sleep
 * after its pass if that found no work. With busy-poll it only spins, reading the NIC on every
 * pass.
 *
 * <p>Owned by: the netisr thread it idles.
 */
public final class NetisrIdleStrategy implements IdleStrategy {
    private final Netisr netisr;
    private final boolean busyPoll;
    private final long spinNanos;
    private boolean spinning;
    private long spinStart;

    /**
     * An idle strategy for {@code netisr} as {@code config} says (busy-poll, spin time).
     *
     * @param netisr the netisr it idles
     * @param config the stack's configuration
     */
    public NetisrIdleStrategy(Netisr netisr, StackConfig config) {
        this.netisr = netisr;
        this.busyPoll = config.busyPoll;
        this.spinNanos = config.idleSpinNanos;
    }

    @Override
    public void idle(int workCount) {
        if (workCount > 0) {
            reset();
        } else {
            idle();
        }
    }

    @Override
    public void idle() {
        if (busyPoll) {
            Thread.onSpinWait();
            return;
        }
        long now = netisr.now(); // the time of the pass that found nothing
        if (!spinning) {
            spinning = true;
            spinStart = now;
            netisr.idleSpin(true);
        }
        if (now - spinStart < spinNanos) {
            Thread.onSpinWait();
            return;
        }
        if (netisr.block()) {
            // a descriptor woke it: spin again after the pass (more may follow: a reply's ACK,
            // the next request)
            spinStart = netisr.clockNanos();
        } else {
            // the sleep timed out (a timer tick): unless that pass finds work, sleep again at once
            spinStart = netisr.clockNanos() - spinNanos;
        }
    }

    @Override
    public void reset() {
        if (spinning) {
            spinning = false;
            netisr.idleSpin(false);
        }
    }

    @Override
    public String alias() {
        return busyPoll ? "netisr-busy-poll" : "netisr-poll";
    }
}
