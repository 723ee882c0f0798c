package io.flowstack.core.netisr;

import org.agrona.concurrent.IdleStrategy;

/**
 * Spin briefly, yield, then block in poll() on the NIC queue and the wake eventfd, so an idle
 * stack costs no CPU (DESIGN.md "Idle"). With busy-poll it only spins.
 *
 * <p>Owned by: the netisr thread it idles.
 */
public final class NetisrIdleStrategy implements IdleStrategy {
    private static final int SPINS = 200;
    private static final int YIELDS = 20;
    private final Netisr netisr;
    private final boolean busyPoll;
    private int idleCount;

    public NetisrIdleStrategy(Netisr netisr, boolean busyPoll) {
        this.netisr = netisr;
        this.busyPoll = busyPoll;
    }

    @Override
    public void idle(int workCount) {
        if (workCount > 0) {
            idleCount = 0;
        } else {
            idle();
        }
    }

    @Override
    public void idle() {
        idleCount++;
        if (busyPoll || idleCount < SPINS) {
            Thread.onSpinWait();
        } else if (idleCount < SPINS + YIELDS) {
            Thread.yield();
        } else {
            netisr.block();
        }
    }

    @Override
    public void reset() {
        idleCount = 0;
    }

    @Override
    public String alias() {
        return busyPoll ? "netisr-busy-poll" : "netisr-poll";
    }
}
