package io.flowstack.core.netisr;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.stats.Stat;
import io.flowstack.core.testing.Packets;
import io.flowstack.core.testing.StackHarness;
import io.flowstack.core.testing.TestNic;
import org.junit.jupiter.api.Test;

/**
 * While its idle strategy spins, a netisr reads a NIC queue whose receive is a system call (a
 * TAP's readv; {@link TestNic}'s queue says so too) at most every {@code idleNicCheckNanos},
 * not on every pass, and a frame arriving meanwhile waits at most that long (threadless, fake
 * clock: the passes are the spins).
 */
class IdleSpinTest {
    private static final long CHECK = 10_000;

    @Test
    void aSpinningNetisrReadsASystemCallQueueOncePerCheckInterval() {
        try (StackHarness h = new StackHarness(1, b -> b.idleNicCheckNanos(CHECK))) {
            h.run();
            TestNic.TestQueue q = h.nic.q(0);
            Netisr n = h.stack.netisr(0);

            int before = q.receives;
            for (int i = 0; i < 10; i++) {
                h.now += 1_000;
                h.stack.pollAll(h.now);
            }
            assertEquals(10, q.receives - before, "working: the NIC is read on every pass");

            n.idleSpin(true); // the pass before found nothing
            before = q.receives;
            for (int i = 0; i < 100; i++) { // 100 us of spinning, a pass every microsecond
                h.now += 1_000;
                h.stack.pollAll(h.now);
            }
            int reads = q.receives - before;
            assertTrue(reads >= 9 && reads <= 11, reads + " reads in 100 us of spinning, one per 10 us");

            // a frame arriving during the spin is read within the check interval
            h.inject(0, Packets.ethernet(StackHarness.US_MAC, StackHarness.PEER_MAC, Packets.ETH_ARP,
                    Packets.arp(1, StackHarness.PEER_MAC, StackHarness.PEER, 0, StackHarness.US)));
            long arrived = h.now;
            long rx = h.total(Stat.RX_FRAMES);
            while (h.total(Stat.RX_FRAMES) == rx) {
                h.now += 1_000;
                h.stack.pollAll(h.now);
                assertTrue(h.now - arrived <= CHECK, "the frame waits at most the check interval");
            }
            n.idleSpin(false);
        }
    }
}
