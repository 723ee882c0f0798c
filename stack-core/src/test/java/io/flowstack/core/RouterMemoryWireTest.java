package io.flowstack.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.config.InterfaceConfig;
import io.flowstack.core.config.RouterConfig;
import io.flowstack.core.config.StackConfig;
import io.flowstack.core.config.StaticRoute;
import io.flowstack.core.percore.Ownership;
import io.flowstack.core.socket.IcmpEchoSocket;
import io.flowstack.core.socket.TcpConnection;
import io.flowstack.core.socket.TcpListener;
import io.flowstack.core.stats.RouteInfo;
import io.flowstack.core.stats.Stat;
import io.flowstack.core.wire.Icmp;
import io.flowstack.core.wire.Ipv4;
import io.flowstack.nic.MemoryWire;
import java.security.MessageDigest;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A flowstack router between two flowstack hosts, each link a MemoryWire (issue 12 points 1-2):
 * host A 198.18.1.2/24 -- router 198.18.1.1/24 | 198.18.2.1/24 -- host B 198.18.2.2/24, the
 * second link with a smaller MTU (1280). TCP both ways through it with matching SHA-256, pings to
 * the far host and to both router addresses, fragmentation for the smaller MTU, network
 * unreachable, routes added and removed at run time, and no frame handed between the router's
 * cores (forwarding keeps no state per flow: it runs on the core that read the frame).
 */
class RouterMemoryWireTest {
    static final int A = Ipv4.parse("198.18.1.2");
    static final int R1 = Ipv4.parse("198.18.1.1");
    static final int R2 = Ipv4.parse("198.18.2.1");
    static final int B = Ipv4.parse("198.18.2.2");
    static final int SMALL_MTU = 1280;

    /** The three stacks and their two wires. */
    record Net(MemoryWire left, MemoryWire right, FlowStack a, FlowStack router, FlowStack b) implements AutoCloseable {
        static Net start(int cores, List<StaticRoute> routes) {
            return start(cores, routes, b -> b);
        }

        /** As {@link #start(int, List)}, with the router's configuration adjusted by {@code tune}. */
        static Net start(int cores, List<StaticRoute> routes,
                         java.util.function.UnaryOperator<StackConfig.Builder> tune) {
            return start(cores, routes, tune, MemoryWire.create(cores, 4 << 20), MemoryWire.create(cores, 4 << 20, SMALL_MTU));
        }

        static Net start(int cores, List<StaticRoute> routes, MemoryWire left, MemoryWire right) {
            return start(cores, routes, b -> b, left, right);
        }

        static Net start(int cores, List<StaticRoute> routes, java.util.function.UnaryOperator<StackConfig.Builder> tune,
                         MemoryWire left, MemoryWire right) {
            right.steeredBy(left.rssKey()); // one key for the topology: queue i to queue i steers alike on both wires
            StackConfig rc = tune.apply(StackConfig.builder().cores(cores).address(R1).prefixLength(24)
                    .mac(0x02_00_00_00_01_01L).pinThreads(false)).build();
            RouterConfig router = new RouterConfig(
                    List.of(new InterfaceConfig(0x02_00_00_00_02_01L, R2, 24)), routes, true);
            FlowStack r = FlowStack.start(rc, List.of(left.b(), right.a()), router);
            FlowStack a = FlowStack.start(host(cores, A, R1, 0x02_00_00_00_01_02L), left.a());
            FlowStack b = FlowStack.start(host(cores, B, R2, 0x02_00_00_00_02_02L), right.b());
            return new Net(left, right, a, r, b);
        }

        private static StackConfig host(int cores, int addr, int gw, long mac) {
            return StackConfig.builder().cores(cores).address(addr).prefixLength(24).gateway(gw).mac(mac)
                    .pinThreads(false).build();
        }

        String report() {
            return "\nA:\n" + a.countersReport() + "\nrouter:\n" + router.countersReport() + "\nB:\n" + b.countersReport();
        }

        @Override
        public void close() {
            a.close();
            b.close();
            router.close();
            left.close();
            right.close();
        }
    }

    private static byte[] sha(byte[] b) throws Exception {
        return MessageDigest.getInstance("SHA-256").digest(b);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void tcpBothWaysThroughTheRouterOnTheCoreThatReadIt(int cores) throws Exception {
        long violations = Ownership.violations();
        try (Net net = Net.start(cores, List.of()); TcpListener l = net.b().tcpListen(9000, 64);
             var pool = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            byte[] up = new byte[4 << 20];
            new SplittableRandom(7).nextBytes(up);
            CompletableFuture<byte[]> echoed = CompletableFuture.supplyAsync(() -> {
                try (TcpConnection c = l.accept(10, TimeUnit.SECONDS)) {
                    c.readTimeout(20, TimeUnit.SECONDS);
                    c.writeTimeout(20, TimeUnit.SECONDS);
                    byte[] got = c.inputStream().readNBytes(up.length);
                    c.write(got, 0, got.length);
                    c.shutdownOutput();
                    return got;
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            }, pool);
            TcpConnection c = net.a().tcpConnect(B, 9000, 10, TimeUnit.SECONDS);
            c.readTimeout(20, TimeUnit.SECONDS);
            c.writeTimeout(20, TimeUnit.SECONDS);
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> c.write(up, 0, up.length), pool);
            byte[] back;
            try {
                back = c.inputStream().readNBytes(up.length);
                writer.get(20, TimeUnit.SECONDS);
                assertArrayEquals(sha(up), sha(echoed.get(20, TimeUnit.SECONDS)), "A -> B");
            } catch (Exception e) {
                throw new AssertionError(e + net.report(), e);
            }
            assertArrayEquals(sha(up), sha(back), "B -> A");
            c.close();
            // 4 MiB each way in segments of at most 1240 bytes (B's MSS for its 1280 MTU): > 6,700 datagrams
            assertTrue(net.router().total(Stat.FWD_OUT) > 6_700, net.report());
            assertEquals(0, net.router().total(Stat.HOP_OUT), "a router hands no frame to another core");
            assertEquals(0, net.router().total(Stat.FWD_FRAGMENTED), "TCP's MSS fits the smaller MTU");
            assertEquals(0, net.router().total(Stat.INTERNAL_ERROR) + net.a().total(Stat.INTERNAL_ERROR)
                    + net.b().total(Stat.INTERNAL_ERROR));
            // stack stats' view: both interfaces with their own counters, the connected routes, ARP per interface
            var snap = net.router().snapshot();
            assertEquals(2, snap.interfaces().size());
            for (var i : snap.interfaces()) {
                assertTrue(i.rxFrames() > 3_000 && i.txFrames() > 3_000, i.toString());
            }
            assertEquals(SMALL_MTU, snap.interfaces().get(1).mtu());
            assertEquals(2, snap.routes().size(), snap.routes().toString());
            assertTrue(snap.cores().stream().flatMap(k -> k.arp().stream())
                    .anyMatch(e -> e.address() == B && e.iface().equals(snap.interfaces().get(1).name())));
        }
        assertEquals(violations, Ownership.violations(), "every layer ran on its owner");
    }

    /**
     * Issue 12 point 3: A's link carries super-frames (A's TCP hands its device 64 KiB at a time,
     * as a kernel does to a TAP). An egress that segments gets them whole; one that cannot gets
     * them cut in software, each segment with its own checksums: the bytes arrive intact either way.
     */
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void superFramesGoOutWholeWhereTheEgressSegmentsAndAreCutWhereItCannot(boolean egressOffloads) throws Exception {
        MemoryWire left = MemoryWire.createWithOffloads(1, 8 << 20, 1500);
        MemoryWire right = egressOffloads ? MemoryWire.createWithOffloads(1, 8 << 20, SMALL_MTU)
                : MemoryWire.create(1, 8 << 20, SMALL_MTU);
        try (Net net = Net.start(1, List.of(), left, right)) {
            uploadAToB(net, 8);
            assertTrue(net.router().total(Stat.RX_SUPER_FRAMES) > 0, net.report());
            if (egressOffloads) {
                assertTrue(net.router().total(Stat.FWD_SUPER_FRAMES) > 0, net.report());
                assertEquals(0, net.router().total(Stat.FWD_SOFT_SEGMENTS), net.report());
            } else {
                assertEquals(0, net.router().total(Stat.FWD_SUPER_FRAMES), net.report());
                assertTrue(net.router().total(Stat.FWD_SOFT_SEGMENTS) > net.router().total(Stat.RX_SUPER_FRAMES),
                        "several segments per super-frame" + net.report());
            }
            assertEquals(0, net.b().total(Stat.TCP_BAD_CHECKSUM), "every segment's checksum right" + net.report());
            assertEquals(0, net.router().total(Stat.FWD_BAD_SUPER_FRAME), net.report());
        }
    }

    /** A writes 8 MiB of random bytes (seeded {@code seed}) to B's listener; B reads them intact. */
    private static void uploadAToB(Net net, long seed) throws Exception {
        try (TcpListener l = net.b().tcpListen(9000, 64);
             var pool = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            byte[] up = new byte[8 << 20];
            new SplittableRandom(seed).nextBytes(up);
            CompletableFuture<byte[]> got = CompletableFuture.supplyAsync(() -> {
                try (TcpConnection c = l.accept(10, TimeUnit.SECONDS)) {
                    c.readTimeout(20, TimeUnit.SECONDS);
                    return c.inputStream().readNBytes(up.length);
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            }, pool);
            try (TcpConnection c = net.a().tcpConnect(B, 9000, 10, TimeUnit.SECONDS)) {
                c.writeTimeout(20, TimeUnit.SECONDS);
                c.write(up, 0, up.length);
                assertArrayEquals(sha(up), sha(got.get(30, TimeUnit.SECONDS)), "A -> B" + net.report());
            }
        }
    }

    /**
     * A's link carries wire-sized segments only, and its queues ask the stack for software GRO
     * (as an AF_XDP queue does): the router coalesces them into super-frames ({@code SoftGro}) and
     * forwards those whole to B's link, whose egress segments; the bytes arrive intact, every
     * segment B gets has a right checksum, and B's ACKs, pure, are never coalesced.
     */
    @Test
    void softGroCoalescesWireSizedSegmentsAndTheRouterForwardsThemWhole() throws Exception {
        MemoryWire left = MemoryWire.createWithSoftGro(1, 8 << 20, 1500);
        MemoryWire right = MemoryWire.createWithOffloads(1, 8 << 20, 1500);
        try (Net net = Net.start(1, List.of(), left, right)) {
            uploadAToB(net, 9);
            long built = net.router().total(Stat.RX_GRO_SUPER_FRAMES);
            long segments = net.router().total(Stat.RX_GRO_SEGMENTS);
            assertTrue(built > 0 && segments >= 2 * built, "GRO built super-frames of 2+ segments" + net.report());
            assertTrue(net.router().total(Stat.FWD_SUPER_FRAMES) >= built, "forwarded whole" + net.report());
            assertEquals(0, net.router().total(Stat.FWD_SOFT_SEGMENTS), net.report());
            assertEquals(0, net.b().total(Stat.TCP_BAD_CHECKSUM), "every segment's checksum right" + net.report());
            assertEquals(0, net.router().total(Stat.FWD_BAD_SUPER_FRAME), net.report());
            assertEquals(0, net.a().total(Stat.RX_GRO_SUPER_FRAMES), "A receives pure ACKs only" + net.report());
        }
    }

    /**
     * The other way: the router cuts B's super-frames for A's link, which has no offloads, and A's
     * own stack coalesces what it receives before TCP input takes it (a super-frame with a
     * partial checksum, as from a TAP): the bytes arrive intact.
     */
    @Test
    void anEndpointTakesTheSuperFramesItsSoftGroBuilds() throws Exception {
        MemoryWire left = MemoryWire.createWithSoftGro(1, 8 << 20, 1500);
        MemoryWire right = MemoryWire.createWithOffloads(1, 8 << 20, 1500);
        try (Net net = Net.start(1, List.of(), left, right); TcpListener l = net.b().tcpListen(9000, 64);
             var pool = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            byte[] down = new byte[8 << 20];
            new SplittableRandom(10).nextBytes(down);
            CompletableFuture<Void> sent = CompletableFuture.runAsync(() -> {
                try (TcpConnection c = l.accept(10, TimeUnit.SECONDS)) {
                    c.writeTimeout(20, TimeUnit.SECONDS);
                    c.write(down, 0, down.length);
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            }, pool);
            try (TcpConnection c = net.a().tcpConnect(B, 9000, 10, TimeUnit.SECONDS)) {
                c.readTimeout(20, TimeUnit.SECONDS);
                assertArrayEquals(sha(down), sha(c.inputStream().readNBytes(down.length)), "B -> A" + net.report());
            }
            sent.get(30, TimeUnit.SECONDS);
            assertTrue(net.router().total(Stat.FWD_SOFT_SEGMENTS) > 0, "cut for A's link" + net.report());
            assertTrue(net.a().total(Stat.RX_GRO_SUPER_FRAMES) > 0, "A coalesced them again" + net.report());
            assertEquals(0, net.a().total(Stat.TCP_BAD_CHECKSUM), net.report());
        }
    }

    @Test
    void pingsTheFarHostAndBothRouterAddressesAndFragmentsForTheSmallerMtu() throws Exception {
        try (Net net = Net.start(2, List.of()); IcmpEchoSocket ping = net.a().icmpEchoOpen()) {
            IcmpEchoSocket.Reply r = new IcmpEchoSocket.Reply();
            int seq = 0;
            for (int dst : new int[] {R1, R2, B}) {
                assertTrue(ping.send(dst, ++seq, 56));
                assertTrue(ping.receive(r, 5, TimeUnit.SECONDS), "echo reply from " + Ipv4.toString(dst) + net.report());
                assertTrue(r.isReply);
                assertEquals(dst, r.from, "answered from the address pinged");
                assertEquals(dst == B ? 63 : 64, r.ttl, "one router hop on the way back from B");
            }
            // 1,400 bytes of data: the router fragments for B's 1,280-byte link (DF clear), B
            // reassembles and answers in fragments of its own, which the router forwards as they are
            assertTrue(ping.send(B, ++seq, 1400));
            assertTrue(ping.receive(r, 5, TimeUnit.SECONDS), net.report());
            assertTrue(r.isReply);
            assertEquals(1400, r.dataLen);
            assertEquals(-1, r.badByte, "the data came back intact");
            assertEquals(1, net.router().total(Stat.FWD_FRAGMENTED));
            assertTrue(net.b().total(Stat.FRAG_REASSEMBLED) >= 1);
            assertEquals(0, net.router().total(Stat.HOP_OUT));
        }
    }

    @Test
    void noRouteIsNetworkUnreachableFromTheRouterAndRoutesChangeAtRunTime() throws Exception {
        int far = Ipv4.parse("198.18.9.9");
        try (Net net = Net.start(2, List.of()); IcmpEchoSocket ping = net.a().icmpEchoOpen()) {
            IcmpEchoSocket.Reply r = new IcmpEchoSocket.Reply();
            assertTrue(ping.send(far, 1, 8));
            assertTrue(ping.receive(r, 5, TimeUnit.SECONDS), net.report());
            assertFalse(r.isReply);
            assertEquals(Icmp.DEST_UNREACHABLE, r.type);
            assertEquals(Icmp.CODE_NET_UNREACHABLE, r.code);
            assertEquals(R1, r.from, "the error comes from the interface towards the sender (RFC 1812 4.3.2.4)");
            assertEquals(1, net.router().total(Stat.FWD_NO_ROUTE));

            // B answers for 198.18.9.0/24 once the router routes it there (B's own address is the target's
            // gateway: the datagram reaches B, which is not 198.18.9.9 and drops it as not for it)
            StackRoutes routes = net.router().routes();
            assertFalse(routes.add(Ipv4.parse("198.18.9.0"), 24, B));
            List<RouteInfo> table = routes.list();
            assertEquals(3, table.size(), table.toString());
            assertTrue(table.stream().anyMatch(x -> x.prefixLength() == 24 && x.gateway() == B && x.kind().equals("static")));
            long before = net.b().total(Stat.IP_NOT_FOR_US);
            assertTrue(ping.send(far, 2, 8));
            io.flowstack.core.testing.Await.until(() -> net.b().total(Stat.IP_NOT_FOR_US) > before,
                    "the echo forwarded to B", java.time.Duration.ofSeconds(5));
            assertEquals(1, net.router().total(Stat.FWD_NO_ROUTE), "routed now");
            assertTrue(routes.remove(Ipv4.parse("198.18.9.0"), 24));
            assertFalse(routes.remove(Ipv4.parse("198.18.9.0"), 24));
            assertTrue(ping.send(far, 3, 8));
            assertTrue(ping.receive(r, 5, TimeUnit.SECONDS), net.report());
            assertEquals(Icmp.DEST_UNREACHABLE, r.type);
            assertEquals(2, net.router().total(Stat.FWD_NO_ROUTE), "unrouted again on every core");
            // one line errors for routes that cannot be
            assertThrows(IllegalArgumentException.class, () -> routes.add(Ipv4.parse("198.18.9.0"), 24, Ipv4.parse("198.18.7.1")));
            assertThrows(IllegalArgumentException.class, () -> routes.add(Ipv4.parse("198.18.9.1"), 24, B));
            assertThrows(IllegalArgumentException.class, () -> routes.remove(Ipv4.parse("198.18.2.0"), 24));
        }
    }
}
