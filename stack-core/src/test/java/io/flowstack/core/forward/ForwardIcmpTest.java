package io.flowstack.core.forward;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.testing.Packets;
import io.flowstack.core.wire.Icmp;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/** {@link ForwardIcmp}: the quoted length (RFC 1812 4.3.2.3), the next-hop MTU word (RFC 1191 4), the sources that get no error. */
class ForwardIcmpTest {
    static MemorySegment datagram(Arena a, int total, int available) {
        byte[] d = Packets.ipv4(Packets.ip("198.18.0.1"), Packets.ip("198.19.0.1"), 17, 1, 0, new byte[total - 20]);
        MemorySegment s = a.allocate(Math.max(available, total));
        MemorySegment.copy(d, 0, s, ValueLayout.JAVA_BYTE, 0, d.length);
        return s;
    }

    @Test
    void quotesAsMuchAsFitsA576OctetErrorButNeverMoreThanTheDatagram() {
        try (Arena a = Arena.ofConfined()) {
            assertEquals(548, ForwardIcmp.MAX_QUOTE, "576 - 20 - 8");
            assertEquals(548, ForwardIcmp.quotedLength(datagram(a, 1500, 1500), 0, 1500));
            assertEquals(548, ForwardIcmp.quotedLength(datagram(a, 549, 549), 0, 549));
            assertEquals(548, ForwardIcmp.quotedLength(datagram(a, 548, 548), 0, 548));
            assertEquals(300, ForwardIcmp.quotedLength(datagram(a, 300, 300), 0, 300));
            // a 28-octet datagram in a minimum Ethernet frame: its 18 octets of padding are not quoted
            assertEquals(28, ForwardIcmp.quotedLength(datagram(a, 28, 46), 0, 46));
            // fewer bytes present than the total length says: only those
            assertEquals(100, ForwardIcmp.quotedLength(datagram(a, 1500, 1500), 0, 100));
            assertEquals(12, ForwardIcmp.quotedLength(datagram(a, 1500, 1500), 0, 12));
            assertEquals(0, ForwardIcmp.quotedLength(datagram(a, 1500, 1500), 0, -5));
        }
    }

    @Test
    void fragmentationNeededCarriesTheNextHopMtuInTheLow16Bits() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment icmp = a.allocate(8);
            for (int mtu : new int[] {68, 576, 1280, 1492, 1500, 9000, 65535}) {
                Icmp.rest(icmp, 0, ForwardIcmp.fragNeededRest(mtu));
                assertEquals(mtu, Icmp.nextHopMtu(icmp, 0), "RFC 1191 4: next-hop MTU");
                assertEquals(0, icmp.get(ValueLayout.JAVA_BYTE, 4), "unused, zero");
                assertEquals(0, icmp.get(ValueLayout.JAVA_BYTE, 5), "unused, zero");
            }
            assertThrows(IllegalArgumentException.class, () -> ForwardIcmp.fragNeededRest(67));
            assertThrows(IllegalArgumentException.class, () -> ForwardIcmp.fragNeededRest(65536));
        }
    }

    @Test
    void noErrorToASourceThatIsNotASingleHost() {
        for (String bad : new String[] {"0.0.0.0", "0.1.2.3", "127.0.0.1", "127.255.255.254", "224.0.0.1",
                "239.255.255.255", "240.0.0.1", "255.255.255.255"}) {
            assertFalse(ForwardIcmp.sourceIsSingleHost(Packets.ip(bad)), bad);
        }
        for (String ok : new String[] {"1.0.0.0", "10.0.0.1", "126.255.255.255", "128.0.0.1", "198.18.0.1",
                "223.255.255.254"}) {
            assertTrue(ForwardIcmp.sourceIsSingleHost(Packets.ip(ok)), ok);
        }
    }

    @Test
    void allocatesNothingPerCall() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment d = datagram(a, 1500, 1500);
            long[] sum = new long[1];
            long allocated = Allocations.perBatch(() -> {
                for (int i = 0; i < Allocations.CALLS; i++) {
                    sum[0] += ForwardIcmp.quotedLength(d, 0, 1500) + ForwardIcmp.fragNeededRest(1280 + (i & 0xFF))
                            + (ForwardIcmp.sourceIsSingleHost(i) ? 1 : 0);
                }
            });
            assertEquals(0, allocated, "100,000 calls allocate nothing");
            assertTrue(sum[0] > 0);
        }
    }
}
