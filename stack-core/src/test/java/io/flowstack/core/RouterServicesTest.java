package io.flowstack.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.RouterMemoryWireTest.Net;
import io.flowstack.core.config.TcpSocketOptions;
import io.flowstack.core.percore.Ownership;
import io.flowstack.core.socket.TcpConnection;
import io.flowstack.core.socket.TcpListener;
import io.flowstack.core.socket.UdpPeer;
import io.flowstack.core.socket.UdpSocket;
import io.flowstack.core.stats.Stat;
import io.flowstack.core.stats.TcpConnectionInfo;
import io.flowstack.core.tcp.TcpStream;
import io.flowstack.core.testing.Await;
import io.flowstack.core.wire.Ipv4;
import io.flowstack.services.UdpEchoService;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A router's own services on every one of its addresses (issue 12 point 1: {@code --serve} on a
 * router): host A 198.18.1.2 behind interface 0 (198.18.1.1) and host B 198.18.2.2 behind
 * interface 1 (198.18.2.1), on MemoryWires ({@link RouterMemoryWireTest.Net}), 1 and 2 cores.
 * One TCP listener and one UDP socket take traffic to both router addresses (a wildcard bind);
 * each connection lives on the address its SYN was sent to (checksums, ISN, TIME-WAIT, stats,
 * {@code localSocketAddress}), the router's own connects leave from the address of the
 * route's interface, the local address is part of the 4-tuple (the same remote address and
 * ports to two local addresses are two connections, two TIME-WAIT entries), and UDP replies come
 * from the address asked.
 */
class RouterServicesTest {
    static final int A = RouterMemoryWireTest.A;
    static final int R1 = RouterMemoryWireTest.R1;
    static final int R2 = RouterMemoryWireTest.R2;
    static final int B = RouterMemoryWireTest.B;
    static final int PORT = 7000;

    private static void checkClean(Net net, long violations) {
        assertEquals(0, net.router().total(Stat.INTERNAL_ERROR) + net.a().total(Stat.INTERNAL_ERROR)
                + net.b().total(Stat.INTERNAL_ERROR), net.report());
        assertEquals(0, net.router().total(Stat.TCP_BAD_CHECKSUM) + net.a().total(Stat.TCP_BAD_CHECKSUM)
                + net.b().total(Stat.TCP_BAD_CHECKSUM), "every segment's checksum covers its own addresses");
        assertEquals(violations, Ownership.violations(), "every layer ran on its owner");
    }

    /**
     * Accepts {@code count} connections on {@code l}, echoes each to its end and records its
     * ends ({local, remote}) in accept order.
     */
    private static CompletableFuture<List<InetSocketAddress[]>> echoServer(TcpListener l, int count,
                                                                          ExecutorService pool) {
        return CompletableFuture.supplyAsync(() -> {
            List<InetSocketAddress[]> ends = new ArrayList<>();
            List<CompletableFuture<Void>> echoes = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                TcpConnection c = l.accept(10, TimeUnit.SECONDS);
                assertNotNull(c, "connection " + i + " accepted");
                ends.add(new InetSocketAddress[] {c.localSocketAddress(), c.remoteSocketAddress()});
                echoes.add(CompletableFuture.runAsync(() -> {
                    try (c) {
                        c.readTimeout(10, TimeUnit.SECONDS);
                        byte[] buf = new byte[8192];
                        for (int n; (n = c.read(buf, 0, buf.length)) > 0; ) {
                            c.write(buf, 0, n);
                        }
                    }
                }, pool));
            }
            echoes.forEach(CompletableFuture::join);
            return ends;
        }, pool);
    }

    /** Writes {@code data} on {@code c}, reads the echo back and closes. */
    private static byte[] echoThrough(TcpConnection c, byte[] data, ExecutorService pool) throws Exception {
        c.readTimeout(10, TimeUnit.SECONDS);
        c.writeTimeout(10, TimeUnit.SECONDS);
        CompletableFuture<Void> w = CompletableFuture.runAsync(() -> {
            c.write(data, 0, data.length);
            c.shutdownOutput();
        }, pool);
        byte[] back = c.inputStream().readNBytes(data.length + 1);
        w.get(10, TimeUnit.SECONDS);
        c.close();
        return back;
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void oneListenerAnswersOnBothRouterAddressesFromEitherSide(int cores) throws Exception {
        long violations = Ownership.violations();
        try (Net net = Net.start(cores, List.of()); TcpListener l = net.router().tcpListen(PORT, 64);
             ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            CompletableFuture<List<InetSocketAddress[]>> server = echoServer(l, 8, pool);
            SplittableRandom rnd = new SplittableRandom(12);
            List<InetSocketAddress> dialled = new ArrayList<>();
            for (FlowStack host : new FlowStack[] {net.a(), net.b(), net.a(), net.b()}) {
                for (int to : new int[] {R1, R2}) {
                    byte[] data = new byte[20_000 + rnd.nextInt(50_000)];
                    rnd.nextBytes(data);
                    TcpConnection c = host.tcpConnect(to, PORT, 10, TimeUnit.SECONDS);
                    assertEquals(new InetSocketAddress(Ipv4.toInetAddress(to), PORT), c.remoteSocketAddress());
                    dialled.add(c.remoteSocketAddress());
                    assertArrayEquals(data, echoThrough(c, data, pool),
                            "echo through " + Ipv4.toString(to) + " from " + host.config().address + net.report());
                }
            }
            // each accepted connection names the router address it was dialled on, in dial order
            assertEquals(dialled, server.get(20, TimeUnit.SECONDS).stream().map(e -> e[0]).toList());
            assertEquals(8, net.router().total(Stat.TCP_PASSIVE_OPENS));
            assertEquals(0, net.router().total(Stat.TCP_NO_SOCKET), "no segment missed its connection");
            assertEquals(0, net.a().total(Stat.TCP_RST_IN) + net.b().total(Stat.TCP_RST_IN), net.report());
            checkClean(net, violations);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void synCookiesOnBothRouterAddresses(int cores) throws Exception {
        long violations = Ownership.violations();
        // no SYN queue: every SYN is answered with a cookie (RFC 4987 3.6), whose MAC covers the
        // address the SYN was sent to, and the ACK completes the handshake on that address
        try (Net net = Net.start(cores, List.of(), b -> b.tcpSynBacklog(0));
             TcpListener l = net.router().tcpListen(PORT, 64);
             ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            CompletableFuture<List<InetSocketAddress[]>> server = echoServer(l, 4, pool);
            byte[] data = new byte[40_000];
            new SplittableRandom(5).nextBytes(data);
            List<InetSocketAddress> dialled = new ArrayList<>();
            for (FlowStack host : new FlowStack[] {net.a(), net.b()}) {
                for (int to : new int[] {R1, R2}) {
                    TcpConnection c = host.tcpConnect(to, PORT, 10, TimeUnit.SECONDS);
                    dialled.add(c.remoteSocketAddress());
                    assertArrayEquals(data, echoThrough(c, data, pool), "through " + Ipv4.toString(to) + net.report());
                }
            }
            assertEquals(dialled, server.get(20, TimeUnit.SECONDS).stream().map(e -> e[0]).toList());
            assertEquals(4, net.router().total(Stat.TCP_SYN_COOKIES_SENT), net.report());
            assertEquals(4, net.router().total(Stat.TCP_SYN_COOKIES_OK), net.report());
            assertEquals(0, net.router().total(Stat.TCP_SYN_COOKIES_BAD));
            checkClean(net, violations);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void udpEchoAnswersFromTheAddressAsked(int cores) throws Exception {
        long violations = Ownership.violations();
        try (Net net = Net.start(cores, List.of()); UdpEchoService echo = new UdpEchoService(net.router(), 7)) {
            for (FlowStack host : new FlowStack[] {net.a(), net.b()}) {
                try (UdpSocket s = host.udpBind(0)) {
                    UdpPeer from = new UdpPeer();
                    byte[] buf = new byte[2048];
                    int seq = 0;
                    for (int round = 0; round < 3; round++) {
                        for (int to : new int[] {R1, R2}) {
                            byte[] msg = ("hello " + Ipv4.toString(to) + " #" + ++seq).getBytes();
                            assertTrue(s.send(msg, 0, msg.length, to, 7));
                            int n = s.receive(buf, 0, buf.length, from, 5, TimeUnit.SECONDS);
                            assertEquals(msg.length, n, "echo from " + Ipv4.toString(to) + net.report());
                            assertArrayEquals(msg, java.util.Arrays.copyOf(buf, n));
                            assertEquals(to, from.address, "the reply comes from the address asked (RFC 1122 4.1.3.5)");
                            assertEquals(7, from.port);
                            assertEquals(host.config().address, from.localAddress, "sent to the host's own address");
                        }
                    }
                }
            }
            assertEquals(12, echo.echoed());
            assertThrows(IllegalArgumentException.class,
                    () -> net.a().udpBind(0).send(new byte[1], 0, 1, R1, 7, R2), "not A's address");
            checkClean(net, violations);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void theRoutersOwnConnectsLeaveFromTheRoutesInterface(int cores) throws Exception {
        long violations = Ownership.violations();
        try (Net net = Net.start(cores, List.of()); TcpListener la = net.a().tcpListen(PORT, 8);
             TcpListener lb = net.b().tcpListen(PORT, 8);
             ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            CompletableFuture<List<InetSocketAddress[]>> atA = echoServer(la, 2, pool);
            CompletableFuture<List<InetSocketAddress[]>> atB = echoServer(lb, 2, pool);
            byte[] data = new byte[30_000];
            new SplittableRandom(3).nextBytes(data);
            for (int round = 0; round < 2; round++) {
                TcpConnection toB = net.router().tcpConnect(B, PORT, 10, TimeUnit.SECONDS);
                assertEquals(R2, Ipv4.of(toB.localSocketAddress()), "RFC 1122 3.3.4.3: interface 1's address towards B");
                assertTrue(net.router().snapshot().connections().stream().anyMatch(
                        i -> i.localAddress() == R2 && i.localPort() == toB.localPort() && i.remoteAddress() == B));
                assertArrayEquals(data, echoThrough(toB, data, pool), net.report());
                TcpConnection toA = net.router().tcpConnect(A, PORT, 10, TimeUnit.SECONDS);
                assertEquals(R1, Ipv4.of(toA.localSocketAddress()), "interface 0's address towards A");
                assertArrayEquals(data, echoThrough(toA, data, pool), net.report());
            }
            // the hosts saw the router's connections come from the address on their side
            for (InetSocketAddress[] ends : atB.get(20, TimeUnit.SECONDS)) {
                assertEquals(R2, Ipv4.of(ends[1]));
            }
            for (InetSocketAddress[] ends : atA.get(20, TimeUnit.SECONDS)) {
                assertEquals(R1, Ipv4.of(ends[1]));
            }
            assertEquals(0, net.router().total(Stat.HOP_OUT), "each connection was born on its core");
            checkClean(net, violations);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void theSameRemoteEndToTwoLocalAddressesIsTwoConnectionsAndTwoTimeWaitEntries(int cores) throws Exception {
        long violations = Ownership.violations();
        try (Net net = Net.start(cores, List.of()); TcpListener l = net.router().tcpListen(PORT, 8)) {
            int lport = 45_000;
            // A opens both from the same local port: (A, 45000) to (R1, 7000) and to (R2, 7000)
            TcpConnection c1 = connectFrom(net.a(), A, lport, R1);
            TcpConnection c2 = connectFrom(net.a(), A, lport, R2);
            TcpConnection s1 = l.accept(10, TimeUnit.SECONDS);
            TcpConnection s2 = l.accept(10, TimeUnit.SECONDS);
            assertNotNull(s1);
            assertNotNull(s2);
            List<TcpConnectionInfo> rows = fromA(net.router(), lport, "ESTABLISHED");
            assertEquals(2, rows.size(), rows.toString());
            assertEquals(java.util.Set.of(R1, R2), java.util.Set.of(rows.get(0).localAddress(), rows.get(1).localAddress()));
            // data apart on each: the segments of one never reach the other
            for (TcpConnection[] pair : new TcpConnection[][] {{c1, s1}, {c2, s2}}) {
                byte[] msg = ("to " + pair[0].remoteSocketAddress()).getBytes();
                pair[0].write(msg, 0, msg.length);
                TcpConnection server = Ipv4.of(pair[0].remoteSocketAddress()) == Ipv4.of(s1.localSocketAddress()) ? s1 : s2;
                server.readTimeout(5, TimeUnit.SECONDS);
                assertArrayEquals(msg, server.inputStream().readNBytes(msg.length));
                assertEquals(pair[0].remoteSocketAddress(), server.localSocketAddress());
                assertEquals(pair[0].localSocketAddress(), server.remoteSocketAddress());
            }
            // the router closes first (active close): both 4-tuples go to TIME-WAIT on the router
            s1.close();
            s2.close();
            for (TcpConnection c : new TcpConnection[] {c1, c2}) {
                c.readTimeout(5, TimeUnit.SECONDS);
                assertEquals(-1, c.inputStream().read(), "the router's FIN");
                c.close();
            }
            Await.until(() -> fromA(net.router(), lport, "TIME_WAIT").size() == 2,
                    "two TIME-WAIT entries on the router", Duration.ofSeconds(5));
            List<TcpConnectionInfo> tw = fromA(net.router(), lport, "TIME_WAIT");
            assertEquals(java.util.Set.of(R1, R2), java.util.Set.of(tw.get(0).localAddress(), tw.get(1).localAddress()),
                    tw.toString());
            assertEquals(2, net.router().total(Stat.TCP_TIME_WAIT_ENTERED));
            Await.until(() -> fromA(net.router(), lport, null).size() == 2, "only the entries left", Duration.ofSeconds(5));
            // A closed second (LAST-ACK): its side of both 4-tuples is gone once the router's last ACK arrived
            Await.until(() -> net.a().snapshot().connections().stream().noneMatch(i -> i.localPort() == lport),
                    "A's LAST-ACK ends", Duration.ofSeconds(5));
            // a new SYN to one of them (RFC 6191: a higher ISN reopens it) does not touch the other
            TcpConnection again = connectFrom(net.a(), A, lport, R2);
            TcpConnection s3 = l.accept(10, TimeUnit.SECONDS);
            assertNotNull(s3);
            assertEquals(R2, Ipv4.of(s3.localSocketAddress()));
            List<TcpConnectionInfo> left = fromA(net.router(), lport, "TIME_WAIT");
            assertEquals(1, left.size(), left.toString());
            assertEquals(R1, left.get(0).localAddress(), "the entry of the other address stays");
            again.abort();
            s3.abort();
            checkClean(net, violations);
        }
    }

    @org.junit.jupiter.api.Test
    void aBucketsConnectionAndTimeWaitEntryOnInterface1MoveWithIt() throws Exception {
        long violations = Ownership.violations();
        try (Net net = Net.start(2, List.of()); TcpListener l = net.router().tcpListen(PORT, 8)) {
            FlowStack r = net.router();
            // two 4-tuples on the router's second address in one bucket: one to TIME-WAIT, one live
            int twPort = 45_100;
            int hash = r.table().hash().hash4(R2, A, PORT, twPort);
            int bucket = r.table().bucket(hash);
            int from = r.table().core(hash);
            int livePort = -1;
            for (int p = twPort + 1; p < 65_536 && livePort < 0; p++) {
                if (r.table().bucket(r.table().hash().hash4(R2, A, PORT, p)) == bucket) {
                    livePort = p;
                }
            }
            assertTrue(livePort > 0);
            TcpConnection c1 = connectFrom(net.a(), A, twPort, R2);
            TcpConnection s1 = l.accept(10, TimeUnit.SECONDS);
            s1.close();
            c1.readTimeout(5, TimeUnit.SECONDS);
            assertEquals(-1, c1.inputStream().read());
            c1.close();
            Await.until(() -> fromA(r, twPort, "TIME_WAIT").size() == 1, "TIME-WAIT on the router", Duration.ofSeconds(5));
            int live = livePort;
            TcpConnection c2 = connectFrom(net.a(), A, live, R2);
            TcpConnection s2 = l.accept(10, TimeUnit.SECONDS);
            assertNotNull(s2);
            assertEquals(from, fromA(r, live, "ESTABLISHED").get(0).core());

            CompletableFuture<String> moved = new CompletableFuture<>();
            r.moveBucketAsync(bucket, 1 - from, moved::complete);
            assertEquals(null, moved.get(10, TimeUnit.SECONDS), "the move completed");
            TcpConnectionInfo tw = fromA(r, twPort, "TIME_WAIT").get(0);
            assertEquals(1 - from, tw.core(), "the entry moved with its bucket (hashed on its own local address)");
            assertEquals(R2, tw.localAddress(), "and kept its local address (TimeWaitMsg)");
            TcpConnectionInfo est = fromA(r, live, "ESTABLISHED").get(0);
            assertEquals(1 - from, est.core());
            assertEquals(R2, est.localAddress());
            assertEquals(1, r.total(Stat.TCP_MIGRATED_OUT));
            // the moved connection still talks both ways from R2
            byte[] up = "after the move".getBytes();
            c2.write(up, 0, up.length);
            s2.readTimeout(5, TimeUnit.SECONDS);
            assertArrayEquals(up, s2.inputStream().readNBytes(up.length));
            s2.write(up, 0, up.length);
            c2.readTimeout(5, TimeUnit.SECONDS);
            assertArrayEquals(up, c2.inputStream().readNBytes(up.length));
            c2.close();
            s2.close();
            checkClean(net, violations);
        }
    }

    /** An active open from {@code local:lport} to {@code remote:PORT} on the core that owns it, established. */
    private static TcpConnection connectFrom(FlowStack s, int local, int lport, int remote) {
        int core = s.coreFor(local, remote, lport, PORT);
        TcpStream st = s.call(core, n -> n.tcp().connect(remote, PORT, lport, TcpSocketOptions.defaults(s.config())));
        assertNotNull(st, "the 4-tuple is free on its core");
        TcpConnection c = new TcpConnection(st, local, lport, remote, PORT);
        c.awaitEstablished(TimeUnit.SECONDS.toNanos(10));
        return c;
    }

    /** The router's rows (any state if {@code state} is null) whose peer is A's {@code lport}. */
    private static List<TcpConnectionInfo> fromA(FlowStack router, int lport, String state) {
        return router.snapshot().connections().stream()
                .filter(i -> i.remoteAddress() == A && i.remotePort() == lport && i.localPort() == PORT)
                .filter(i -> state == null || i.state().equals(state)).toList();
    }
}
