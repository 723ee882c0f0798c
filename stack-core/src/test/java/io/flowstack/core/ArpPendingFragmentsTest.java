package io.flowstack.core;

import static io.flowstack.core.testing.StackHarness.PEER;
import static io.flowstack.core.testing.StackHarness.PEER_MAC;
import static io.flowstack.core.testing.StackHarness.US;
import static io.flowstack.core.testing.StackHarness.US_MAC;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.stats.Stat;
import io.flowstack.core.socket.UdpSocket;
import io.flowstack.core.testing.Packets;
import io.flowstack.core.testing.Packets.Frame;
import io.flowstack.core.testing.StackHarness;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * A datagram larger than the MTU sent to a neighbour not yet resolved: the first fragment
 * triggers an ARP request (RFC 826) while the others are still being cut from the core's tx
 * buffer; all fragments wait for the reply (RFC 1122 2.3.2.2) and leave intact.
 *
 * <p>Regression: the ARP request used to be built in the core's tx buffer and overwrote the
 * datagram's IPv4 header there, so the second and later fragments went out with version 0 (found
 * by {@link SmpMemoryWireTest}).
 */
class ArpPendingFragmentsTest {
    @Test
    void fragmentsQueuedForArpLeaveIntact() {
        try (StackHarness h = new StackHarness(1); UdpSocket s = h.stack.udpBind(7)) {
            byte[] data = new byte[4000];
            new SplittableRandom(9).nextBytes(data);
            assertTrue(s.send(data, 0, data.length, PEER, 40001));
            List<Frame> out = h.run();
            assertEquals(1, out.size(), "only the ARP request goes out");
            assertEquals(Packets.ETH_ARP, out.get(0).type());
            h.inject(0, Packets.ethernet(US_MAC, PEER_MAC, Packets.ETH_ARP, Packets.arp(2, PEER_MAC, PEER, US_MAC, US)));
            out = h.run();
            assertEquals(3, out.size(), "the three queued fragments");
            List<byte[]> frags = new ArrayList<>();
            for (Frame f : out) {
                assertEquals(Packets.ETH_IPV4, f.type());
                assertEquals(0x45, f.bytes()[14] & 0xFF, "IPv4, 20-byte header");
                assertTrue(f.ipChecksumOk());
                assertEquals(PEER_MAC, f.dst());
                frags.add(f.datagram());
            }
            byte[] dgram = Packets.reassemble(frags);
            assertArrayEquals(data, Arrays.copyOfRange(dgram, 28, dgram.length));
            assertEquals(3, h.total(Stat.IP_FRAGMENTS_OUT));
            assertEquals(0, h.total(Stat.ARP_QUEUE_FULL));
        }
    }
}
