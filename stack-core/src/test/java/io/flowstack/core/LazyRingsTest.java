package io.flowstack.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.config.StackConfig;
import io.flowstack.core.config.TcpSocketOptions;
import io.flowstack.core.socket.TcpChannel;
import io.flowstack.core.socket.TcpConnection;
import io.flowstack.core.socket.TcpHandler;
import io.flowstack.core.socket.TcpListener;
import io.flowstack.core.stats.Stat;
import io.flowstack.core.testing.Await;
import io.flowstack.core.testing.ResidentPages;
import io.flowstack.core.wire.Ipv4;
import io.flowstack.nic.MemoryWire;
import java.io.ByteArrayOutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Buffers on demand (issue 11 point 6): a callback-API connection borrows its rings from its
 * core's pool when data is written or arrives and gives them back once drained, so an idle
 * connection holds none; when the TCP memory budget cannot lend one, a write is refused and
 * told {@code onWritable} later, a segment is dropped and counted and comes again, never a
 * crash. The blocking API keeps its rings for the connection's life.
 */
class LazyRingsTest {
    static final int SERVER = Ipv4.parse("198.18.0.2");
    static final int CLIENT = Ipv4.parse("198.18.0.1");

    private static StackConfig.Builder config(int address, long mac) {
        return StackConfig.builder().cores(1).address(address).prefixLength(24).mac(mac).pinThreads(false)
                .busyPoll(false).tcpRtoMinNanos(TimeUnit.MILLISECONDS.toNanos(20))
                .tcpRtoInitialNanos(TimeUnit.MILLISECONDS.toNanos(50));
    }

    private static long lent(FlowStack s) {
        return s.call(0, n -> n.tcp().memoryUsed());
    }

    private static long allocated(FlowStack s) {
        return s.call(0, n -> n.tcp().memoryAllocated());
    }

    /** Echoes what it can (the rest is offered again), closes after the peer. Stateless. */
    static final class Server implements TcpHandler {
        @Override
        public int onData(TcpChannel ch, MemorySegment data, long offset, int length) {
            return ch.write(data, offset, length);
        }

        @Override
        public void onPeerClosed(TcpChannel ch) {
            ch.close();
        }
    }

    /** A client connection that collects what comes back and remembers onWritable. Netisr only. */
    static final class Client implements TcpHandler {
        final ByteArrayOutputStream got = new ByteArrayOutputStream();
        volatile TcpChannel channel;
        volatile int received;
        volatile int writables;

        @Override
        public void onOpen(TcpChannel ch) {
            channel = ch;
        }

        @Override
        public int onData(TcpChannel ch, MemorySegment data, long offset, int length) {
            got.write(data.asSlice(offset, length).toArray(ValueLayout.JAVA_BYTE), 0, length);
            received = got.size();
            return length;
        }

        @Override
        public void onWritable(TcpChannel ch) {
            writables++;
        }
    }

    @Test
    void anIdleCallbackConnectionHoldsNoRingAndABusyOneReusesPooledRings() {
        try (MemoryWire wire = MemoryWire.create(1, 4 << 20);
             FlowStack server = FlowStack.start(config(SERVER, 0x02_00_00_00_00_02L).build(), wire.b());
             FlowStack client = FlowStack.start(config(CLIENT, 0x02_00_00_00_00_01L).build(), wire.a());
             TcpListener l = server.tcpListen(7, 16, TcpSocketOptions.defaults(server.config())
                     .withBuffers(65536, 65536), new Server())) {
            Client c = new Client();
            client.tcpConnect(SERVER, 7, TcpSocketOptions.defaults(client.config()).withBuffers(65536, 65536), c);
            Await.until(() -> c.channel != null && server.total(Stat.TCP_PASSIVE_OPENS) == 1, "open");
            assertEquals(0, lent(client), "an established idle connection holds no ring");
            assertEquals(0, lent(server));
            assertEquals(0, allocated(client) + allocated(server), "no ring was ever needed");
            byte[] msg = new byte[3000];
            for (int i = 0; i < msg.length; i++) {
                msg[i] = (byte) i;
            }
            int rounds = 50;
            for (int r = 1; r <= rounds; r++) {
                int want = r * msg.length;
                AtomicReference<Integer> taken = new AtomicReference<>();
                assertTrue(client.netisr(0).submit(n -> taken.set(c.channel.write(msg, 0, msg.length))));
                Await.until(() -> taken.get() != null, "the write");
                assertEquals(msg.length, taken.get());
                Await.until(() -> c.received == want, "round's echo");
                Await.until(() -> lent(client) == 0 && lent(server) == 0, "the rings given back once drained");
            }
            byte[] all = c.got.toByteArray();
            for (int r = 0; r < rounds; r++) {
                assertArrayEquals(msg, java.util.Arrays.copyOfRange(all, r * msg.length, (r + 1) * msg.length));
            }
            // each side borrowed at most a send and a receive ring at a time, reused from its pool
            // every round (the pool never grew past two), and each round's 3,000 bytes went to
            // the rings' first page: the later pages of their mappings were never touched
            for (FlowStack s : new FlowStack[] {client, server}) {
                long a = allocated(s);
                assertTrue(a >= 65536 && a <= 2 * 65536, "ring bytes allocated " + a);
                int most = s.call(0, n -> {
                    int[] max = {0};
                    n.tcp().forEachIdleRing(ring -> max[0] = Math.max(max[0], ResidentPages.of(ring.segment())));
                    return max[0];
                });
                assertEquals(1, most, "resident pages of the busiest ring");
            }
            assertEquals(0, client.total(Stat.TCP_MEMORY_LIMIT) + server.total(Stat.TCP_MEMORY_LIMIT));
        }
    }

    @Test
    void whenTheBudgetCannotLendAWriteWaitsForOnWritableAndASegmentIsDroppedAndSentAgain() throws Exception {
        // the client's budget holds one 16 KiB ring; the server's receive buffers are 4 KiB
        try (MemoryWire wire = MemoryWire.create(1, 4 << 20);
             FlowStack server = FlowStack.start(config(SERVER, 0x02_00_00_00_00_02L).build(), wire.b());
             FlowStack client = FlowStack.start(config(CLIENT, 0x02_00_00_00_00_01L).tcpMemoryBytes(16384).build(),
                     wire.a());
             TcpListener slow = server.tcpListen(7001, 16, TcpSocketOptions.defaults(server.config())
                     .withBuffers(4096, 4096));
             TcpListener echo = server.tcpListen(7002, 16, TcpSocketOptions.defaults(server.config())
                     .withBuffers(4096, 4096), new Server())) {
            TcpSocketOptions small = TcpSocketOptions.defaults(client.config()).withBuffers(16384, 16384);
            Client a = new Client();
            Client b = new Client();
            client.tcpConnect(SERVER, 7001, small, a);
            client.tcpConnect(SERVER, 7002, small, b);
            Await.until(() -> a.channel != null && b.channel != null, "both open");
            TcpConnection reader = slow.accept(5, TimeUnit.SECONDS); // reads nothing yet: its 4 KiB fill up
            byte[] bulk = new byte[16384];
            new java.util.SplittableRandom(1).nextBytes(bulk);
            AtomicReference<Integer> bulkTaken = new AtomicReference<>();
            assertTrue(client.netisr(0).submit(n -> bulkTaken.set(a.channel.write(bulk, 0, bulk.length))));
            Await.until(() -> bulkTaken.get() != null, "A's write");
            assertEquals(bulk.length, bulkTaken.get());
            Await.until(() -> client.call(0, n -> n.tcp().memoryUsed()) == 16384
                    && available(reader) == 4096, "the server's window to A closed");
            AtomicReference<Integer> accepted = new AtomicReference<>();
            byte[] msg = "refused until a ring comes back".getBytes();
            assertTrue(client.netisr(0).submit(n -> accepted.set(b.channel.write(msg, 0, msg.length))));
            Await.until(() -> accepted.get() != null, "B's write");
            assertEquals(0, accepted.get(), "no ring to borrow: the write takes nothing");
            assertTrue(client.total(Stat.TCP_MEMORY_LIMIT) >= 1);
            assertEquals(0, b.writables);

            // the server reads A's data: A's ring drains, goes back, and B hears onWritable
            byte[] got = reader.inputStream().readNBytes(bulk.length);
            assertArrayEquals(bulk, got);
            Await.until(() -> b.writables == 1, "onWritable for B once A's ring came back", Duration.ofSeconds(10));
            accepted.set(null);
            assertTrue(client.netisr(0).submit(n -> accepted.set(b.channel.write(msg, 0, msg.length))));
            // B's send ring holds the message until it is acknowledged: the echo may find no ring
            // for B's receive side at first (dropped, counted), and comes again
            Await.until(() -> b.received == msg.length, "B's echo", Duration.ofSeconds(20));
            assertEquals(msg.length, accepted.get());
            assertArrayEquals(msg, b.got.toByteArray());
            reader.close();
            Await.until(() -> lent(client) == 0, "every ring back");
            assertEquals(0, client.total(Stat.INTERNAL_ERROR) + server.total(Stat.INTERNAL_ERROR));
            assertEquals(0, client.total(Stat.TCP_HANDLER_ERRORS) + server.total(Stat.TCP_HANDLER_ERRORS));
        }
    }

    private static int available(TcpConnection c) {
        try {
            return c.inputStream().available();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void aBlockingConnectionKeepsItsRingsForItsLife() throws Exception {
        try (MemoryWire wire = MemoryWire.create(1, 4 << 20);
             FlowStack server = FlowStack.start(config(SERVER, 0x02_00_00_00_00_02L).build(), wire.b());
             FlowStack client = FlowStack.start(config(CLIENT, 0x02_00_00_00_00_01L).build(), wire.a());
             TcpListener l = server.tcpListen(7, 16, TcpSocketOptions.defaults(server.config())
                     .withBuffers(65536, 65536), new Server())) {
            TcpConnection c = client.tcpConnect(SERVER, 7, 5, TimeUnit.SECONDS,
                    TcpSocketOptions.defaults(client.config()).withBuffers(16384, 32768));
            assertEquals(16384 + 32768, lent(client), "lent at open: the application thread owns its side of them");
            c.write(new byte[] {1, 2, 3}, 0, 3);
            byte[] back = c.inputStream().readNBytes(3);
            assertArrayEquals(new byte[] {1, 2, 3}, back);
            assertEquals(16384 + 32768, lent(client));
            c.close();
            Await.until(() -> lent(client) == 0, "given back after close");
        }
    }
}
