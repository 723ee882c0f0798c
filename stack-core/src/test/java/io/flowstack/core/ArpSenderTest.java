package io.flowstack.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.stats.Stat;
import io.flowstack.core.testing.Packets;
import io.flowstack.core.testing.StackHarness;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * ARP senders that are no host (RFC 1122 3.2.1.3): found by ArpFuzzTest, a request from
 * 198.18.0.255, the subnet's broadcast address, was learnt into the cache (and answered).
 */
class ArpSenderTest {
    @Test
    void aBroadcastOrLoopbackSenderIsNotLearntNorAnswered() {
        try (StackHarness h = new StackHarness(1)) {
            long mac = 0x02_66_00_00_00_01L;
            int[] senders = {Packets.ip("198.18.0.255"), Packets.ip("255.255.255.255"), Packets.ip("127.0.0.5"),
                Packets.ip("224.0.0.1")};
            for (int spa : senders) {
                h.inject(0, Packets.ethernet(Packets.BROADCAST, mac, Packets.ETH_ARP,
                        Packets.arp(1, mac, spa, 0, StackHarness.US)));
                assertTrue(h.run().isEmpty(), "no reply to " + Integer.toHexString(spa));
            }
            assertEquals(senders.length, h.total(Stat.ARP_BAD_SENDER));
            List<Integer> learnt = new ArrayList<>();
            h.stack.call(0, n -> {
                n.arp(0).forEach((ip, m, expires) -> learnt.add(ip));
                return null;
            });
            assertEquals(List.of(), learnt, "nothing learnt");
            assertEquals(1, h.arpFromPeer(0).size(), "a host's request is still answered");
        }
    }
}
