package io.flowstack.core;

import io.flowstack.core.config.StackConfig;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.percore.Ownership;
import io.flowstack.core.stats.Stat;
import io.flowstack.services.UdpEchoService;
import io.flowstack.core.socket.UdpPeer;
import io.flowstack.core.socket.UdpSocket;
import io.flowstack.core.wire.Ipv4;
import io.flowstack.nic.MemoryWire;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Two threaded stacks in one JVM joined by a {@link MemoryWire}: ARP between them, UDP echo of
 * small, MTU-sized and fragmented datagrams, with every netisr on its own thread (real wake-ups,
 * real hops between cores).
 */
class MemoryWireStackTest {

    private static StackConfig config(int cores, String addr, long mac) {
        return StackConfig.builder().cores(cores).address(Ipv4.parse(addr)).prefixLength(24).mac(mac)
                .pinThreads(false).build();
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void udpEchoBetweenTwoStacks(int cores) {
        long violationsBefore = Ownership.violations();
        try (MemoryWire wire = MemoryWire.create(cores, 1 << 20);
             FlowStack server = FlowStack.start(config(cores, "198.18.0.2", 0x02_00_00_00_00_02L), wire.b());
             FlowStack client = FlowStack.start(config(cores, "198.18.0.1", 0x02_00_00_00_00_01L), wire.a());
             UdpEchoService echo = new UdpEchoService(server, 7);
             UdpSocket sock = client.udpBind(0)) {
            SplittableRandom r = new SplittableRandom(7);
            byte[] in = new byte[65536];
            UdpPeer from = new UdpPeer();
            int[] sizes = {1, 100, 1472, 1473, 8000, 30000};
            for (int i = 0; i < 300; i++) {
                byte[] out = new byte[sizes[i % sizes.length]];
                for (int k = 0; k < out.length; k++) {
                    out[k] = (byte) r.nextInt();
                }
                assertTrue(sock.send(out, 0, out.length, Ipv4.parse("198.18.0.2"), 7));
                int n = sock.receive(in, 0, in.length, from, 5, TimeUnit.SECONDS);
                assertEquals(out.length, n, "datagram " + i + "\nclient:\n" + client.countersReport()
                        + "server:\n" + server.countersReport());
                assertArrayEquals(out, Arrays.copyOf(in, n));
                assertEquals(Ipv4.parse("198.18.0.2"), from.address);
                assertEquals(7, from.port);
            }
            assertEquals(0, server.total(Stat.INTERNAL_ERROR) + client.total(Stat.INTERNAL_ERROR));
            assertEquals(300, echo.echoed());
            if (cores > 1) {
                assertTrue(server.total(Stat.FRAG_REASSEMBLED) >= 100);
            }
        }
        assertEquals(violationsBefore, Ownership.violations());
    }
}
