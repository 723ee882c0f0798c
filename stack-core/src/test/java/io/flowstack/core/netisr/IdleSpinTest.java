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

    /**
     * A queue that signals arrivals in memory (a TAP's io_uring poll) is armed when the spin
     * starts and not read again until the signal shows (none in 500 us of spinning); a frame is
     * then read on the next pass, and a signal that fired for nothing arms it again.
     */
    @Test
    void aSpinningNetisrReadsASignallingQueueOnlyWhenItSignals() {
        try (StackHarness h = new StackHarness(1, b -> b.idleNicCheckNanos(CHECK))) {
            h.run();
            TestNic.TestQueue q = h.nic.q(0);
            q.signals = true;
            Netisr n = h.stack.netisr(0);

            n.idleSpin(true); // the pass before found nothing
            assertEquals(1, q.arms, "armed when the spin starts");
            int before = q.receives;
            for (int i = 0; i < 500; i++) { // 500 us of spinning, a pass every microsecond
                h.now += 1_000;
                h.stack.pollAll(h.now);
            }
            assertEquals(0, q.receives - before, "no read while nothing is signalled");

            h.inject(0, Packets.ethernet(StackHarness.US_MAC, StackHarness.PEER_MAC, Packets.ETH_ARP,
                    Packets.arp(1, StackHarness.PEER_MAC, StackHarness.PEER, 0, StackHarness.US)));
            long rx = h.total(Stat.RX_FRAMES);
            h.now += 1_000;
            h.stack.pollAll(h.now);
            assertEquals(rx + 1, h.total(Stat.RX_FRAMES), "the signalled frame is read on the next pass");
            assertEquals(1, q.receives - before);
            // that pass began in the spin: it armed the signal again before its writes went out
            // (a TAP submits both in one io_uring_enter), not in a call of its own when the next
            // idle spell starts
            assertTrue(q.armed, "armed again by the pass the signal began");
            assertEquals(2, q.arms);
            assertEquals(1, h.total(Stat.TX_FRAMES), "and that pass answered the ARP request");
            n.idleSpin(false); // that pass found work
            n.idleSpin(true); // the next found none: already armed, nothing more to submit
            assertEquals(2, q.arms);

            q.spuriousSignal = true;
            before = q.receives;
            int arms = q.arms;
            for (int i = 0; i < 100; i++) {
                h.now += 1_000;
                h.stack.pollAll(h.now);
            }
            assertEquals(1, q.receives - before, "a signal for nothing costs one read");
            assertEquals(arms + 1, q.arms, "and arms the signal again");

            // should a signal be lost, the spin still reads the queue now and then
            q.armed = true;
            before = q.receives;
            for (int i = 0; i < 2_000; i++) {
                h.now += 1_000;
                h.stack.pollAll(h.now);
            }
            int reads = q.receives - before;
            assertTrue(reads >= 1 && reads <= 3, reads + " reads in 2 ms, one per "
                    + IdleNicReads.SIGNALLED_CHECK_NANOS + " ns");
            n.idleSpin(false);
        }
    }
}
