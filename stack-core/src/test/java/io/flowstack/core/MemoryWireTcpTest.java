package io.flowstack.core;

import io.flowstack.core.config.StackConfig;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.percore.Ownership;
import io.flowstack.core.stats.Stat;
import io.flowstack.core.socket.StackException;
import io.flowstack.core.socket.TcpConnection;
import io.flowstack.core.socket.TcpListener;
import io.flowstack.core.config.TcpSocketOptions;
import io.flowstack.core.wire.Ipv4;
import io.flowstack.nic.MemoryWire;
import java.security.MessageDigest;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Two threaded stacks joined by a MemoryWire: TCP handshakes, bulk transfer both ways, closes. */
class MemoryWireTcpTest {
    static final int SERVER = Ipv4.parse("198.18.0.2");

    private static StackConfig config(int cores, String addr, long mac) {
        return StackConfig.builder().cores(cores).address(Ipv4.parse(addr)).prefixLength(24).mac(mac)
                .pinThreads(false).build();
    }

    private static byte[] sha(byte[] b) throws Exception {
        return MessageDigest.getInstance("SHA-256").digest(b);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void bulkTransferBothWaysAndClose(int cores) throws Exception {
        long violations = Ownership.violations();
        try (MemoryWire wire = MemoryWire.create(cores, 4 << 20);
             FlowStack server = FlowStack.start(config(cores, "198.18.0.2", 0x02_00_00_00_00_02L), wire.b());
             FlowStack client = FlowStack.start(config(cores, "198.18.0.1", 0x02_00_00_00_00_01L), wire.a());
             TcpListener listener = server.tcpListen(9000, 64)) {
            byte[] up = new byte[8 << 20];
            byte[] down = new byte[8 << 20];
            new SplittableRandom(1).nextBytes(up);
            new SplittableRandom(2).nextBytes(down);
            CompletableFuture<byte[]> serverGot = CompletableFuture.supplyAsync(() -> {
                try (TcpConnection c = listener.accept(10, TimeUnit.SECONDS)) {
                    c.readTimeout(10, TimeUnit.SECONDS);
                    c.writeTimeout(10, TimeUnit.SECONDS);
                    byte[] got = c.inputStream().readNBytes(up.length);
                    c.write(down, 0, down.length);
                    c.shutdownOutput();
                    assertEquals(-1, c.read(new byte[1], 0, 1), "client closes after reading");
                    return got;
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            TcpConnection c = client.tcpConnect(SERVER, 9000, 5, TimeUnit.SECONDS);
            c.readTimeout(10, TimeUnit.SECONDS);
            c.writeTimeout(10, TimeUnit.SECONDS);
            byte[] got;
            try {
                c.write(up, 0, up.length);
                got = c.inputStream().readNBytes(down.length);
            } catch (Exception e) {
                throw new AssertionError(e + "\nclient:\n" + client.countersReport() + "\nserver:\n" + server.countersReport(), e);
            }
            assertEquals(-1, c.read(new byte[1], 0, 1), "server's FIN is end of stream");
            c.close();
            assertArrayEquals(sha(up), sha(serverGot.get(30, TimeUnit.SECONDS)), "client -> server");
            assertArrayEquals(sha(down), sha(got), "server -> client");
            assertEquals(0, server.total(Stat.INTERNAL_ERROR) + client.total(Stat.INTERNAL_ERROR));
            assertEquals(1, client.total(Stat.TCP_ACTIVE_OPENS));
            assertEquals(1, server.total(Stat.TCP_PASSIVE_OPENS));
        }
        assertEquals(violations, Ownership.violations());
    }

    @ParameterizedTest
    @ValueSource(strings = {"loss=3%,seed=11", "loss=1%,reorder=25%,delay=2ms,seed=12", "dup=2%,corrupt=1%,seed=13"})
    void bulkTransferThroughFaultsArrivesIntact(String profile) throws Exception {
        long[] clock = {0};
        try (MemoryWire wire = MemoryWire.create(1, 4 << 20);
             FlowStack server = FlowStack.start(config(1, "198.18.0.2", 0x02_00_00_00_00_02L), wire.b());
             FlowStack client = FlowStack.start(config(1, "198.18.0.1", 0x02_00_00_00_00_01L),
                     io.flowstack.nic.impair.ImpairedNic.wrap(wire.a(),
                             io.flowstack.nic.impair.ImpairmentSpec.parse(profile + ",dir=both"), System::nanoTime));
             TcpListener listener = server.tcpListen(9000, 64)) {
            byte[] up = new byte[4 << 20];
            new SplittableRandom(3).nextBytes(up);
            var pool = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor();
            CompletableFuture<byte[]> echoed = CompletableFuture.supplyAsync(() -> {
                try (TcpConnection c = listener.accept(10, TimeUnit.SECONDS)) {
                    c.readTimeout(30, TimeUnit.SECONDS);
                    c.writeTimeout(30, TimeUnit.SECONDS);
                    byte[] got = c.inputStream().readNBytes(up.length);
                    c.write(got, 0, got.length);
                    c.shutdownOutput();
                    c.read(new byte[1], 0, 1);
                    return got;
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            }, pool);
            TcpConnection c = client.tcpConnect(SERVER, 9000, 10, TimeUnit.SECONDS);
            c.readTimeout(30, TimeUnit.SECONDS);
            c.writeTimeout(30, TimeUnit.SECONDS);
            long t0 = System.nanoTime();
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> c.write(up, 0, up.length), pool);
            byte[] back;
            try {
                back = c.inputStream().readNBytes(up.length);
                writer.get(30, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new AssertionError(e + "\nclient:\n" + client.countersReport() + "\nserver:\n" + server.countersReport(), e);
            }
            c.close();
            assertArrayEquals(sha(up), sha(echoed.get(30, TimeUnit.SECONDS)), "client -> server through " + profile);
            assertArrayEquals(sha(up), sha(back), "server -> client through " + profile);
            System.out.printf("%s: 2 x 4 MiB in %.2f s, client retransmits %d (fast %d, rto %d), server retransmits %d (fast %d, rto %d)%n",
                    profile, (System.nanoTime() - t0) / 1e9,
                    client.total(Stat.TCP_RETRANSMITS), client.total(Stat.TCP_FAST_RETRANSMITS), client.total(Stat.TCP_RTO),
                    server.total(Stat.TCP_RETRANSMITS), server.total(Stat.TCP_FAST_RETRANSMITS), server.total(Stat.TCP_RTO));
            assertEquals(0, server.total(Stat.INTERNAL_ERROR) + client.total(Stat.INTERNAL_ERROR));
            if (profile.startsWith("loss")) {
                assertTrue(client.total(Stat.TCP_RETRANSMITS) + server.total(Stat.TCP_RETRANSMITS) > 0);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void manyShortConnectionsAndRefusal(int cores) throws Exception {
        // A budget of 8 connections' rings (2 x 1 MiB each) per stack: 200 connections in a row
        // only work if every closed connection gives its rings back to the pool.
        long budget = 8L * (2 << 20);
        try (MemoryWire wire = MemoryWire.create(cores, 4 << 20);
             FlowStack server = FlowStack.start(StackConfig.builder().cores(cores).address(SERVER).mac(0x02_00_00_00_00_02L)
                     .pinThreads(false).tcpMemoryBytes(budget).build(), wire.b());
             FlowStack client = FlowStack.start(StackConfig.builder().cores(cores).address(Ipv4.parse("198.18.0.1"))
                     .mac(0x02_00_00_00_00_01L).pinThreads(false).tcpMemoryBytes(budget).build(), wire.a());
             TcpListener listener = server.tcpListen(7, 256)) {
            CompletableFuture<Void> echo = CompletableFuture.runAsync(() -> {
                byte[] buf = new byte[4096];
                for (int i = 0; i < 200; i++) {
                    try (TcpConnection c = listener.accept(10, TimeUnit.SECONDS)) {
                        int n;
                        while ((n = c.read(buf, 0, buf.length)) > 0) {
                            c.write(buf, 0, n);
                        }
                    }
                }
            });
            for (int i = 0; i < 200; i++) {
                // each connection's bytes differ: a ring still reachable from an earlier
                // connection would show here
                byte[] msg = ("hello, flowstack #" + i + "\n").getBytes();
                byte[] back = new byte[msg.length];
                try (TcpConnection c = client.tcpConnect(SERVER, 7, 5, TimeUnit.SECONDS)) {
                    c.readTimeout(5, TimeUnit.SECONDS);
                    c.write(msg, 0, msg.length);
                    c.shutdownOutput();
                    int off = 0;
                    while (off < back.length) {
                        int n = c.read(back, off, back.length - off);
                        assertTrue(n > 0);
                        off += n;
                    }
                    assertArrayEquals(msg, back);
                    assertEquals(-1, c.read(back, 0, 1));
                }
            }
            echo.get(30, TimeUnit.SECONDS);
            StackException e = assertThrows(StackException.class,
                    () -> client.tcpConnect(SERVER, 8, 5, TimeUnit.SECONDS));
            assertTrue(e.getMessage().contains("connection refused"), e.getMessage());
            assertEquals(0, server.total(Stat.INTERNAL_ERROR) + client.total(Stat.INTERNAL_ERROR));
            assertEquals(0, server.total(Stat.TCP_MEMORY_LIMIT) + client.total(Stat.TCP_MEMORY_LIMIT));
            for (int core = 0; core < cores; core++) {
                long lent = client.call(core, n -> n.tcp().memoryUsed());
                assertEquals(0, lent, "every ring is back in the pool on client core " + core);
            }
            // Returned rings serve later connections: 200 sequential connections leave each
            // core's pool at the size of the few that overlapped, not 200 connections' worth.
            long perConnection = TcpSocketOptions.defaults(StackConfig.builder().address(SERVER).build()).memoryBytes();
            for (FlowStack s : new FlowStack[] {client, server}) {
                for (int core = 0; core < cores; core++) {
                    long allocated = s.call(core, n -> n.tcp().memoryAllocated());
                    assertTrue(allocated <= 4 * perConnection, "pool of core " + core + " grew to " + allocated);
                }
            }
        }
    }
}
