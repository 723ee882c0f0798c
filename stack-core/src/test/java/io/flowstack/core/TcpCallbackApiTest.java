package io.flowstack.core;

import io.flowstack.core.config.StackConfig;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.stats.Stat;
import io.flowstack.core.socket.TcpChannel;
import io.flowstack.core.socket.TcpConnection;
import io.flowstack.core.socket.TcpHandler;
import io.flowstack.core.socket.TcpListener;
import io.flowstack.core.config.TcpSocketOptions;
import io.flowstack.core.wire.Ipv4;
import io.flowstack.nic.MemoryWire;
import java.lang.foreign.MemorySegment;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The non-blocking callback API: handlers run on the owning netisr, with back-pressure. */
class TcpCallbackApiTest {

    private static StackConfig config(int cores, String addr, long mac) {
        return StackConfig.builder().cores(cores).address(Ipv4.parse(addr)).prefixLength(24).mac(mac)
                .pinThreads(false).build();
    }

    /** An echo server written against the callback API, honouring back-pressure. */
    static final class Echo implements TcpHandler {
        final Set<String> threads = ConcurrentHashMap.newKeySet();
        final AtomicLong closed = new AtomicLong();

        @Override
        public int onData(TcpChannel ch, MemorySegment data, long offset, int length) {
            threads.add(Thread.currentThread().getName());
            return ch.write(data, offset, length); // what does not fit is offered again later
        }

        @Override
        public void onPeerClosed(TcpChannel ch) {
            ch.close();
        }

        @Override
        public void onClosed(TcpChannel ch, String error) {
            closed.incrementAndGet();
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void callbackEchoServerWithBackPressure(int cores) throws Exception {
        Echo echo = new Echo();
        try (MemoryWire wire = MemoryWire.create(cores, 4 << 20);
             FlowStack server = FlowStack.start(config(cores, "198.18.0.2", 0x02_00_00_00_00_02L), wire.b());
             FlowStack client = FlowStack.start(config(cores, "198.18.0.1", 0x02_00_00_00_00_01L), wire.a());
             TcpListener l = server.tcpListen(7, 64,
                     TcpSocketOptions.defaults(server.config()).withBuffers(16384, 16384), echo)) {
            var pool = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor();
            for (int round = 0; round < 4; round++) {
                byte[] out = new byte[2 << 20]; // much larger than the server's 16 KiB buffers
                new SplittableRandom(round).nextBytes(out);
                TcpConnection c = client.tcpConnect(Ipv4.parse("198.18.0.2"), 7, 5, TimeUnit.SECONDS);
                c.readTimeout(20, TimeUnit.SECONDS);
                c.writeTimeout(20, TimeUnit.SECONDS);
                CompletableFuture<Void> w = CompletableFuture.runAsync(() -> {
                    c.write(out, 0, out.length);
                    c.shutdownOutput();
                }, pool);
                byte[] back = c.inputStream().readNBytes(out.length);
                w.get(20, TimeUnit.SECONDS);
                assertEquals(-1, c.read(new byte[1], 0, 1), "the handler closes after the peer's FIN");
                c.close();
                assertArrayEquals(out, back);
            }
            for (String t : echo.threads) {
                assertTrue(t.startsWith("netisr-"), "callbacks run on the owning netisr, not " + t);
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (echo.closed.get() < 4 && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            assertEquals(4, echo.closed.get());
            assertEquals(0, server.total(Stat.TCP_HANDLER_ERRORS) + server.total(Stat.INTERNAL_ERROR));
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void nonBlockingConnectOpensOrReportsRefusal(int cores) throws Exception {
        try (MemoryWire wire = MemoryWire.create(cores, 4 << 20);
             FlowStack server = FlowStack.start(config(cores, "198.18.0.2", 0x02_00_00_00_00_02L), wire.b());
             FlowStack client = FlowStack.start(config(cores, "198.18.0.1", 0x02_00_00_00_00_01L), wire.a());
             TcpListener l = server.tcpListen(7, 64, TcpSocketOptions.defaults(server.config()), new Echo())) {
            CompletableFuture<String> reply = new CompletableFuture<>();
            client.tcpConnect(Ipv4.parse("198.18.0.2"), 7, TcpSocketOptions.defaults(client.config()), new TcpHandler() {
                final StringBuilder got = new StringBuilder();

                @Override
                public void onOpen(TcpChannel ch) {
                    ch.write("ping".getBytes(), 0, 4);
                }

                @Override
                public int onData(TcpChannel ch, MemorySegment data, long offset, int length) {
                    for (int i = 0; i < length; i++) {
                        got.append((char) data.get(java.lang.foreign.ValueLayout.JAVA_BYTE, offset + i));
                    }
                    if (got.length() == 4) {
                        reply.complete(got.toString() + "@" + Thread.currentThread().getName());
                        ch.close();
                    }
                    return length;
                }
            });
            String r = reply.get(5, TimeUnit.SECONDS);
            assertTrue(r.startsWith("ping@netisr-"), r);
            CompletableFuture<String> refused = new CompletableFuture<>();
            client.tcpConnect(Ipv4.parse("198.18.0.2"), 8, TcpSocketOptions.defaults(client.config()), new TcpHandler() {
                @Override
                public int onData(TcpChannel ch, MemorySegment data, long offset, int length) {
                    return length;
                }

                @Override
                public void onClosed(TcpChannel ch, String error) {
                    refused.complete(error);
                }
            });
            assertEquals("connection refused", refused.get(5, TimeUnit.SECONDS));
        }
    }
}
