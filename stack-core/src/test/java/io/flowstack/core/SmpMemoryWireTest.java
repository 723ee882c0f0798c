package io.flowstack.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.percore.Ownership;
import io.flowstack.core.stats.Stat;
import io.flowstack.core.socket.TcpConnection;
import io.flowstack.core.socket.TcpListener;
import io.flowstack.core.socket.UdpPeer;
import io.flowstack.core.socket.UdpSocket;
import io.flowstack.core.wire.Ipv4;
import io.flowstack.core.testing.TwoStacks;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.IntPredicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Two threaded stacks of two cores joined by a {@code MemoryWire} (queue i of one side is queue
 * i of the other), with the ownership check on: the per-core placement rules hold on real netisr
 * threads, and per-core counters add up (every connection opened on a core ends on that core,
 * every hop sent is received, the two stacks agree core by core).
 */
class SmpMemoryWireTest {
    static final int CLIENT = Ipv4.parse("198.18.0.1");
    static final int SERVER = Ipv4.parse("198.18.0.2");
    static final int CORES = 2;

    private TwoStacks stacks;
    private FlowStack server;
    private FlowStack client;
    private long violations;

    @BeforeEach
    void start() {
        violations = Ownership.violations();
        stacks = new TwoStacks(CORES, 4 << 20, b -> b.tcpTimeWaitNanos(TimeUnit.MILLISECONDS.toNanos(200)));
        server = stacks.server;
        client = stacks.client;
    }

    @AfterEach
    void stop() {
        if (stacks != null) {
            stacks.close();
        }
        assertEquals(violations, Ownership.violations(), "ownership violations");
    }

    private String report() {
        return stacks.counters();
    }

    private void await(String what, BooleanSupplier cond) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("timed out waiting for " + what + report());
            }
            LockSupport.parkNanos(5_000_000L);
        }
    }

    private static long at(FlowStack s, int core, Stat st) {
        return s.counters(core).get(st);
    }

    private void assertOnlyOn(FlowStack s, int core, Stat st, long expected) {
        for (int c = 0; c < CORES; c++) {
            assertEquals(c == core ? expected : 0, at(s, c, st), st.key() + " on core " + c + report());
        }
    }

    /** Every inter-core message sent was received (HOP_IN also counts ARP updates). */
    private void assertHopsBalance(FlowStack s) {
        await("inter-core rings drained", () -> s.total(Stat.HOP_IN) == s.total(Stat.HOP_OUT) + s.total(Stat.ARP_UPDATE_OUT));
        assertEquals(s.total(Stat.ARP_UPDATE_OUT), s.total(Stat.ARP_UPDATE_IN), this::report);
        assertEquals(0, s.total(Stat.HOP_RING_FULL), this::report);
    }

    private void assertHealthy() {
        assertEquals(0, server.total(Stat.INTERNAL_ERROR) + client.total(Stat.INTERNAL_ERROR), this::report);
        assertEquals(violations, Ownership.violations(), "ownership violations");
    }

    /** A client port whose flow to {@code SERVER:serverPort} lands on a core accepted by {@code want}. */
    private int clientPortWhere(int serverPort, IntPredicate want) {
        for (int p = 20000; p < 65536; p++) {
            if (want.test(client.coreFor(CLIENT, SERVER, p, serverPort))) {
                return p;
            }
        }
        throw new AssertionError("no port");
    }

    private int addressCore() {
        return client.netisr(0).table().core(client.table().hash().hash2(CLIENT, SERVER));
    }

    @Test
    @Timeout(30)
    void fragmentedDatagramsReachTheSocketOnTheFlowOwnerBothWays() {
        int x = addressCore();
        int cport = clientPortWhere(7, c -> c != x);
        int y = client.coreFor(CLIENT, SERVER, cport, 7);
        assertEquals(y, server.coreFor(SERVER, CLIENT, 7, cport), "symmetric hash, same table on both stacks");
        try (UdpSocket srv = server.udpBind(7); UdpSocket cli = client.udpBind(cport)) {
            byte[] data = new byte[4000];
            new SplittableRandom(4).nextBytes(data);
            assertTrue(cli.send(data, 0, data.length, SERVER, 7));
            byte[] buf = new byte[65536];
            UdpPeer from = new UdpPeer();
            int n = srv.receive(buf, 0, buf.length, from, 5, TimeUnit.SECONDS);
            assertEquals(data.length, n, this::report);
            assertArrayEquals(data, Arrays.copyOf(buf, n));
            assertEquals(cport, from.port);
            assertTrue(srv.send(buf, 0, n, from.address, from.port));
            byte[] back = new byte[65536];
            int m = cli.receive(back, 0, back.length, null, 5, TimeUnit.SECONDS);
            assertEquals(data.length, m, this::report);
            assertArrayEquals(data, Arrays.copyOf(back, m));
            for (FlowStack s : List.of(server, client)) {
                // fragments left on queue y (the sender's owner core), were reassembled on x and
                // the datagram went back to y, where the socket's ring for core y received it
                assertOnlyOn(s, x, Stat.FRAG_IN, 3);
                assertOnlyOn(s, x, Stat.FRAG_REASSEMBLED, 1);
                assertOnlyOn(s, y, Stat.UDP_IN, 1);
                assertOnlyOn(s, y, Stat.UDP_OUT, 1);
                assertOnlyOn(s, y, Stat.IP_FRAGMENTS_OUT, 3);
                assertEquals(3, at(s, y, Stat.HOP_OUT), "fragments read on y hop to x" + report());
                assertEquals(1, at(s, x, Stat.HOP_OUT), "the reassembled datagram hops back to y" + report());
                assertHopsBalance(s);
            }
        }
        assertHealthy();
    }

    @Test
    @Timeout(30)
    void portUnreachableForAClientFlowIsHandledByItsOwnerCore() {
        int x = addressCore();
        int cport = clientPortWhere(9, c -> c != x);
        int y = client.coreFor(CLIENT, SERVER, cport, 9);
        try (UdpSocket cli = client.udpBind(cport)) {
            assertTrue(cli.send(new byte[] {42}, 0, 1, SERVER, 9)); // no socket on the server's port 9
            await("the port unreachable", () -> client.total(Stat.ICMP_IN_ERROR) == 1);
            // RFC 1122 4.1.3.3: passed to the socket, from the ring of the core that owns the flow
            var e = org.junit.jupiter.api.Assertions.assertThrows(io.flowstack.core.socket.UdpIcmpError.class,
                    () -> cli.receive(new byte[16], 0, 16, null, 5, TimeUnit.SECONDS));
            assertEquals(9, e.destinationPort());
            // the server counts its error once it is sent: the client may have it first
            await("the server's count of the error", () -> server.total(Stat.ICMP_OUT_UNREACH) == 1);
            assertOnlyOn(client, y, Stat.UDP_ICMP_ERRORS, 1);
            assertOnlyOn(server, y, Stat.UDP_NO_PORT, 1);
            assertOnlyOn(server, y, Stat.ICMP_OUT_UNREACH, 1);
            assertOnlyOn(client, y, Stat.ICMP_IN_ERROR, 1);
            assertNotEquals(x, y, "a (src, dst) hash of the error would have chosen the other core");
        }
        assertHopsBalance(client);
        assertHealthy();
    }

    /**
     * The callback API's channel belongs to the connection's netisr (it is the send ring's only
     * producer there): an application thread that kept a channel and writes to it is caught.
     */
    @Test
    @Timeout(30)
    void aChannelUsedOffItsNetisrIsCaught() throws Exception {
        CompletableFuture<io.flowstack.core.socket.TcpChannel> opened = new CompletableFuture<>();
        io.flowstack.core.socket.TcpHandler keep = new io.flowstack.core.socket.TcpHandler() {
            @Override
            public void onOpen(io.flowstack.core.socket.TcpChannel ch) {
                opened.complete(ch);
            }

            @Override
            public int onData(io.flowstack.core.socket.TcpChannel ch, java.lang.foreign.MemorySegment d, long o, int n) {
                return n;
            }
        };
        try (TcpListener l = server.tcpListen(9002, 16,
                io.flowstack.core.config.TcpSocketOptions.defaults(server.config()), keep);
             TcpConnection c = client.tcpConnect(SERVER, 9002, 5, TimeUnit.SECONDS)) {
            io.flowstack.core.socket.TcpChannel ch = opened.get(5, TimeUnit.SECONDS);
            long before = Ownership.violations();
            Ownership.OwnershipViolation e = org.junit.jupiter.api.Assertions.assertThrows(
                    Ownership.OwnershipViolation.class, () -> ch.write(new byte[] {1}, 0, 1));
            assertTrue(e.getMessage().contains("netisr-" + ch.core()), e.getMessage());
            assertEquals(before + 1, Ownership.violations());
            violations++; // expected: the @AfterEach check counts from here
            c.abort();
        }
        assertHealthy();
    }

    /**
     * Connections in both directions at once: each is born and dies on the core its 4-tuple
     * hashes to, on both stacks; per core, opens equal the connections that came and went, and
     * the control-block tables and ring budgets are empty again at the end.
     */
    @Test
    @Timeout(60)
    void everyConnectionLivesAndEndsOnItsOwnCore() throws Exception {
        int perSide = 200;
        ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor();
        try (TcpListener sl = server.tcpListen(9000, 256); TcpListener cl = client.tcpListen(9001, 256)) {
            List<CompletableFuture<int[]>> done = java.util.Collections.synchronizedList(new ArrayList<>());
            // acceptors (one thread per listener: accept() has one consumer), each connection
            // served on its own virtual thread: echo 100 bytes, close, record (its core, the core
            // its 4-tuple hashes to)
            List<CompletableFuture<Void>> acceptors = new ArrayList<>();
            for (Object[] side : new Object[][] {{server, sl}, {client, cl}}) {
                FlowStack s = (FlowStack) side[0];
                TcpListener l = (TcpListener) side[1];
                int local = s.config().address;
                List<CompletableFuture<int[]>> served = new ArrayList<>();
                acceptors.add(CompletableFuture.runAsync(() -> {
                    for (int i = 0; i < perSide; i++) {
                        TcpConnection c = l.accept(20, TimeUnit.SECONDS);
                        assertNotNull(c, "accept timed out after " + i);
                        served.add(CompletableFuture.supplyAsync(() -> {
                            try (c) {
                                c.readTimeout(10, TimeUnit.SECONDS);
                                byte[] req = c.inputStream().readNBytes(100);
                                c.write(req, 0, req.length);
                                return new int[] {c.core(),
                                        s.coreFor(local, c.remoteAddress(), c.localPort(), c.remotePort())};
                            } catch (Exception e) {
                                throw new RuntimeException(e);
                            }
                        }, pool));
                    }
                }, pool).thenRun(() -> done.addAll(served)));
            }
            // connectors: client -> server:9000 and server -> client:9001, 8 threads per side
            // (each connect is a command to the owning netisr; 400 at once only measure the queue)
            int threads = 8;
            for (Object[] side : new Object[][] {{client, SERVER, 9000}, {server, CLIENT, 9001}}) {
                FlowStack s = (FlowStack) side[0];
                int remote = (Integer) side[1];
                int port = (Integer) side[2];
                for (int w = 0; w < threads; w++) {
                    int share = perSide / threads + (w < perSide % threads ? 1 : 0);
                    CompletableFuture<List<int[]>> worker = CompletableFuture.supplyAsync(() -> {
                        List<int[]> seen = new ArrayList<>();
                        for (int i = 0; i < share; i++) {
                            TcpConnection c = s.tcpConnect(remote, port, 10, TimeUnit.SECONDS);
                            try (c) {
                                c.readTimeout(10, TimeUnit.SECONDS);
                                byte[] req = new byte[100];
                                c.write(req, 0, req.length);
                                byte[] resp = c.inputStream().readNBytes(100);
                                assertEquals(100, resp.length);
                                assertEquals(-1, c.read(new byte[1], 0, 1), "the acceptor closes after its echo");
                                seen.add(new int[] {c.core(), s.coreFor(s.config().address, remote, c.localPort(), port)});
                            } catch (java.io.IOException e) {
                                throw new java.io.UncheckedIOException(e);
                            }
                        }
                        return seen;
                    }, pool);
                    for (int i = 0; i < share; i++) {
                        int k = i;
                        done.add(worker.thenApply(list -> list.get(k)));
                    }
                }
            }
            for (CompletableFuture<Void> a : acceptors) {
                a.get(60, TimeUnit.SECONDS);
            }
            int[][] perCore = new int[2][CORES]; // [0] = stack-side tally of connections per core
            for (CompletableFuture<int[]> f : List.copyOf(done)) {
                int[] r = f.get(60, TimeUnit.SECONDS);
                assertEquals(r[1], r[0], "the connection lives on the core its 4-tuple hashes to");
                perCore[0][r[0]]++;
            }
            for (FlowStack s : List.of(server, client)) {
                for (int c = 0; c < CORES; c++) {
                    int core = c;
                    await("core " + c + "'s connection table to empty (TIME_WAIT is 200 ms here)",
                            () -> s.call(core, n -> n.tcp().connections()) == 0);
                    assertEquals(0L, (long) s.call(core, n -> n.tcp().memoryUsed()),
                            "every ring lent by core " + c + " came back to core " + c + "'s pool");
                }
            }
            for (int c = 0; c < CORES; c++) {
                // by symmetry, an active open on the client's core c is a passive open on the server's core c
                assertEquals(at(client, c, Stat.TCP_ACTIVE_OPENS), at(server, c, Stat.TCP_PASSIVE_OPENS), report());
                assertEquals(at(server, c, Stat.TCP_ACTIVE_OPENS), at(client, c, Stat.TCP_PASSIVE_OPENS), report());
                long opens = 0;
                for (FlowStack s : List.of(server, client)) {
                    opens += at(s, c, Stat.TCP_ACTIVE_OPENS) + at(s, c, Stat.TCP_PASSIVE_OPENS);
                }
                assertEquals(perCore[0][c], opens, "connections the applications saw on core " + c + report());
                assertTrue(opens > 0, "core " + c + " got no connection" + report());
            }
            assertEquals(perSide, client.total(Stat.TCP_ACTIVE_OPENS));
            assertEquals(perSide, server.total(Stat.TCP_ACTIVE_OPENS));
            for (FlowStack s : List.of(server, client)) {
                assertEquals(0, s.total(Stat.HOP_OUT), "queue i meets queue i and the hash is symmetric: no hop"
                        + report());
                assertEquals(0, s.total(Stat.TCP_ESTABLISHED_RESETS) + s.total(Stat.TCP_TIMEOUTS), report());
                assertHopsBalance(s);
            }
        } finally {
            pool.shutdownNow();
        }
        assertHealthy();
    }
}
