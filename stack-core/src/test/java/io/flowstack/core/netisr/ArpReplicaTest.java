package io.flowstack.core.netisr;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.stats.Stat;
import io.flowstack.core.testing.Packets;
import io.flowstack.core.testing.StackHarness;
import io.flowstack.core.wire.msg.ArpUpdateMsg;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/**
 * Issue 13 point 5: the cores' ARP replicas converge even when an inter-core ring is full (the
 * update waits and is retried; past {@link ArpUpdates#MAX_WAITING} the core gets a full
 * resynchronisation), and an ARP packet whose sender hardware address is not the frame's
 * Ethernet source is counted and not learnt. Threadless, two cores.
 */
class ArpReplicaTest {
    private static final int FILLER_IP = Packets.ip("198.18.0.250");
    private static final long FILLER_MAC = 0x02_BB_00_00_00_01L;

    /** Fills core 0's ring to core 1 with harmless updates (one entry, again and again). */
    private static void fillRing(StackHarness h) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment m = a.allocate(ArpUpdateMsg.LENGTH);
            ArpUpdateMsg.write(m, 0, 0, FILLER_IP, FILLER_MAC);
            int n = 0;
            while (h.stack.netisr(0).hop(1, ArpUpdateMsg.TYPE, m, 0, ArpUpdateMsg.LENGTH)) {
                n++;
            }
            assertTrue(n > 1000, n + " messages filled the ring");
        }
    }

    private static byte[] arpRequestFrom(long mac, int ip) {
        return Packets.ethernet(Packets.BROADCAST, mac, Packets.ETH_ARP, Packets.arp(1, mac, ip, 0, StackHarness.US));
    }

    private static long lookup(StackHarness h, int core, int ip) {
        return h.stack.call(core, n -> n.arp(0).lookup(ip));
    }

    @Test
    void anUpdateThatFindsTheRingFullWaitsAndReachesTheOtherCore() {
        try (StackHarness h = new StackHarness(2)) {
            h.run();
            fillRing(h);
            h.inject(0, arpRequestFrom(StackHarness.PEER_MAC, StackHarness.PEER));
            h.stack.netisr(0).poll(h.now); // core 0 alone: it learns, the ring is full
            assertEquals(StackHarness.PEER_MAC, lookup(h, 0, StackHarness.PEER));
            assertEquals(1, h.stack.netisr(0).arpUpdatesWaiting(1), "the update waits for core 1");
            assertEquals(-1, lookup(h, 1, StackHarness.PEER));
            for (int i = 0; i < 100 && lookup(h, 1, StackHarness.PEER) < 0; i++) {
                h.run(); // core 1 drains its ring, core 0 retries
            }
            assertEquals(StackHarness.PEER_MAC, lookup(h, 1, StackHarness.PEER), "the replicas agree");
            assertEquals(0, h.stack.netisr(0).arpUpdatesWaiting(1));
            assertTrue(h.total(Stat.HOP_RING_FULL) >= 1);
        }
    }

    @Test
    void moreUpdatesThanWaitResynchroniseTheOtherCore() {
        try (StackHarness h = new StackHarness(2, b -> b.arpMaxEntries(4096))) {
            h.run();
            fillRing(h);
            int hosts = ArpUpdates.MAX_WAITING + 44;
            for (int i = 0; i < hosts; i++) {
                h.inject(0, arpRequestFrom(0x02_CC_00_00_00_00L + i, Packets.ip("198.18.1.0") + i));
                h.stack.netisr(0).poll(h.now);
            }
            assertEquals(1, h.total(Stat.ARP_UPDATE_RESYNC), "more waited than are kept: a resynchronisation");
            for (int i = 0; i < 100_000 && h.stack.netisr(0).arpUpdatesWaiting(1) > 0; i++) {
                h.run();
            }
            assertEquals(0, h.stack.netisr(0).arpUpdatesWaiting(1), "resynchronised");
            h.run();
            for (int i = 0; i < hosts; i++) {
                int ip = Packets.ip("198.18.1.0") + i;
                assertEquals(0x02_CC_00_00_00_00L + i, lookup(h, 1, ip), "host " + i + " on core 1");
            }
        }
    }

    @Test
    void aSenderAddressThatIsNotTheFramesSourceIsCountedAndNotLearnt() {
        try (StackHarness h = new StackHarness(1)) {
            long spoofed = 0x02_DD_00_00_00_01L;
            byte[] f = Packets.ethernet(Packets.BROADCAST, StackHarness.PEER_MAC, Packets.ETH_ARP,
                    Packets.arp(1, spoofed, StackHarness.PEER, 0, StackHarness.US));
            h.inject(0, f);
            assertTrue(h.run().isEmpty(), "no reply");
            assertEquals(1, h.total(Stat.ARP_SOURCE_MISMATCH));
            assertEquals(-1, lookup(h, 0, StackHarness.PEER), "not learnt");
            h.arpFromPeer(0); // the same request, sent by its owner: answered and learnt
            assertEquals(StackHarness.PEER_MAC, lookup(h, 0, StackHarness.PEER));
        }
    }
}
