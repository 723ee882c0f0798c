package io.flowstack.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.config.StackConfig;
import io.flowstack.core.config.TcpSocketOptions;
import io.flowstack.core.netisr.Netisr;
import io.flowstack.core.socket.TcpChannel;
import io.flowstack.core.socket.TcpHandler;
import io.flowstack.core.socket.TcpListener;
import io.flowstack.core.stats.ConnectionQuery;
import io.flowstack.core.stats.Stat;
import io.flowstack.core.stats.StackSnapshot;
import io.flowstack.core.testing.Await;
import io.flowstack.core.wire.Ipv4;
import io.flowstack.nic.MemoryWire;
import java.lang.foreign.MemorySegment;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.management.ObjectName;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Issue 11 point 6: one server stack with 2 cores holds {@value #N} established idle
 * connections on a {@link MemoryWire}, opened by a client stack (2 cores, the same code) from
 * every local port 1024..65535 to {@value #PORTS} listening ports. Reports the heap, the
 * off-heap memory and the bytes per connection, measured: the server's share is what the heap
 * loses when the server stack (with its connections) is closed and dropped, less what the
 * empty server stack held; its rings are counted by its pools. Asserts at most 2048 bytes per
 * idle connection on the server, that idle connections hold no ring, that a sample still
 * echoes data (and gives its rings back once drained), and that {@code stack stats}' summary
 * counts them by state and core without listing them.
 *
 * <p>Runs in its own surefire execution with a larger heap (stack-core/pom.xml,
 * {@code million-connections}); the default execution excludes the {@code million} tag.
 */
@Tag("million")
class MillionConnectionsTest {
    static final int N = 1_000_000;
    static final int SERVER = Ipv4.parse("198.18.0.2");
    static final int CLIENT = Ipv4.parse("198.18.0.1");
    static final int FIRST_PORT = 5001;
    static final int LOCAL_PORTS = 65536 - 1024;
    static final int PORTS = (N + LOCAL_PORTS - 1) / LOCAL_PORTS;
    /** Connects in flight per client core. */
    static final int WINDOW = 2048;
    /** Connections per client core kept for the echo check after all are open. */
    static final int SAMPLE = 500;
    static final int ECHO_BYTES = 100;
    static final int BUFFER = 64 * 1024;
    static final Object OPEN = new Object(); // TcpChannel.attachment of an opened connection (shared)

    private static StackConfig config(int address, long mac) {
        return StackConfig.builder().cores(2).address(address).prefixLength(24).mac(mac).pinThreads(false)
                .busyPoll(false).tcpMaxConnections(N + N / 4).tcpSynBacklog(8192).build();
    }

    /** The server: echoes, closes after the peer. Stateless, shared by every connection. */
    static final class Echo implements TcpHandler {
        @Override
        public int onData(TcpChannel ch, MemorySegment data, long offset, int length) {
            return ch.write(data, offset, length);
        }

        @Override
        public void onPeerClosed(TcpChannel ch) {
            ch.close();
        }
    }

    /**
     * One client core's connections, opened {@value #WINDOW} at a time from its netisr. Owned by
     * that netisr; the test thread reads the volatile progress counters (single writer).
     */
    static final class Opener implements TcpHandler {
        final FlowStack stack;
        final Netisr netisr;
        final TcpSocketOptions options;
        final int[] tuples; // local port << 16 | server port
        final TcpChannel[] sample = new TcpChannel[SAMPLE];
        int next;
        int inFlight;
        int sampled;
        boolean scheduled;
        volatile long opened;
        volatile long failed;
        volatile long echoed;
        volatile String lastError;

        Opener(FlowStack stack, Netisr netisr, TcpSocketOptions options, int[] tuples) {
            this.stack = stack;
            this.netisr = netisr;
            this.options = options;
            this.tuples = tuples;
        }

        void openMore() {
            scheduled = false;
            while (inFlight < WINDOW && next < tuples.length) {
                int t = tuples[next++];
                if (stack.tcpConnectOnNetisr(netisr.core(), SERVER, t & 0xFFFF, t >>> 16, options, this)) {
                    inFlight++;
                } else {
                    failed = failed + 1;
                    lastError = "connect refused locally for port " + (t >>> 16) + " -> " + (t & 0xFFFF);
                }
            }
        }

        private void later() {
            if (!scheduled && next < tuples.length) {
                scheduled = netisr.submit(n -> openMore()); // never re-enter TCP from its callback
            }
        }

        @Override
        public void onOpen(TcpChannel ch) {
            ch.attachment = OPEN;
            inFlight--;
            opened = opened + 1;
            if (sampled < SAMPLE && next % (tuples.length / SAMPLE) == 0) {
                sample[sampled++] = ch;
            }
            later();
        }

        @Override
        public int onData(TcpChannel ch, MemorySegment data, long offset, int length) {
            echoed = echoed + length;
            return length;
        }

        @Override
        public void onClosed(TcpChannel ch, String error) {
            if (ch == null || ch.attachment != OPEN) {
                inFlight--;
                failed = failed + 1;
                lastError = error;
                later();
            }
        }

        /** Writes {@value #ECHO_BYTES} bytes on every sampled connection (on the netisr). */
        void echoSample(MemorySegment message) {
            for (int i = 0; i < sampled; i++) {
                if (sample[i].write(message, 0, ECHO_BYTES) != ECHO_BYTES) {
                    failed = failed + 1;
                    lastError = "echo write refused";
                }
            }
        }
    }

    @Test
    void aServerWithTwoCoresHoldsAMillionIdleConnectionsInAtMost2KiBEach() throws Exception {
        long t0 = System.nanoTime();
        MemoryWire wire = MemoryWire.create(2, 8 << 20);
        FlowStack client = FlowStack.start(config(CLIENT, 0x02_00_00_00_00_01L), wire.a());
        FlowStack server = null;
        try {
            TcpSocketOptions clientOptions = TcpSocketOptions.defaults(client.config()).withBuffers(BUFFER, BUFFER);
            List<List<Integer>> perCore = List.of(new ArrayList<>(), new ArrayList<>());
            int planned = 0;
            for (int sp = FIRST_PORT; sp < FIRST_PORT + PORTS && planned < N; sp++) {
                for (int lp = 1024; lp < 65536 && planned < N; lp++, planned++) {
                    perCore.get(client.coreFor(CLIENT, SERVER, lp, sp)).add(lp << 16 | sp);
                }
            }
            Opener[] openers = new Opener[2];
            for (int c = 0; c < 2; c++) {
                openers[c] = new Opener(client, client.netisr(c), clientOptions,
                        perCore.get(c).stream().mapToInt(Integer::intValue).toArray());
            }
            perCore = null;
            long heapClient = usedHeapAfterGc();

            server = FlowStack.start(config(SERVER, 0x02_00_00_00_00_02L), wire.b());
            Echo echo = new Echo();
            TcpSocketOptions serverOptions = TcpSocketOptions.defaults(server.config()).withBuffers(BUFFER, BUFFER);
            List<TcpListener> listeners = new ArrayList<>();
            for (int sp = FIRST_PORT; sp < FIRST_PORT + PORTS; sp++) {
                listeners.add(server.tcpListen(sp, 4096, serverOptions, echo));
            }
            long heapEmpty = usedHeapAfterGc();
            Map<String, long[]> histEmpty = histogram();
            long serverBase = heapEmpty - heapClient;
            long direct0 = directMemory();

            long open0 = System.nanoTime();
            for (Opener o : openers) {
                assertTrue(o.netisr.submit(n -> o.openMore()));
            }
            Await.until(() -> {
                long failed = openers[0].failed + openers[1].failed;
                if (failed > 0) {
                    throw new AssertionError(failed + " connects failed, last: " + openers[0].lastError + " / "
                            + openers[1].lastError);
                }
                return openers[0].opened + openers[1].opened == N;
            }, N + " connections open", Duration.ofSeconds(150));
            FlowStack[] srv = {server}; // dropped below: the lambdas must not keep the stack reachable
            Await.until(() -> srv[0].total(Stat.TCP_PASSIVE_OPENS) == N, "the server's " + N + " passive opens",
                    Duration.ofSeconds(30));
            double openSeconds = (System.nanoTime() - open0) / 1e9;

            // stack stats at this size: the summary counts by state and core, lists nothing
            StackSnapshot summary = server.snapshot(ConnectionQuery.NONE);
            assertEquals(N, summary.connectionCount());
            assertEquals(Long.valueOf(N), summary.connectionsByState().get("ESTABLISHED"), summary.connectionsByState()::toString);
            assertTrue(summary.cores().stream().allMatch(c -> c.connections().isEmpty()));
            assertTrue(summary.cores().stream().allMatch(c -> c.connectionCount() > N / 3), "both cores hold connections");
            StackSnapshot one = server.snapshot(new ConnectionQuery("ESTABLISHED", FIRST_PORT, 1024, -1, 10));
            assertEquals(1, one.connections().size(), one.connections()::toString);

            long heapOpen = usedHeapAfterGc();
            Map<String, long[]> histOpen = histogram();
            long directOpen = directMemory();
            long serverLent = ringsLent(server);
            long clientLent = ringsLent(client);
            assertEquals(0, serverLent, "idle server connections hold no ring");
            assertEquals(0, clientLent, "idle client connections hold no ring");

            // a sample still moves data, and gives its rings back once drained
            MemorySegment message = MemorySegment.ofArray(new byte[ECHO_BYTES]);
            long expected = 0;
            for (Opener o : openers) {
                expected += (long) o.sampled * ECHO_BYTES;
                assertTrue(o.sampled > SAMPLE / 2, "sampled " + o.sampled);
                assertTrue(o.netisr.submit(n -> o.echoSample(message)));
            }
            long want = expected;
            Await.until(() -> openers[0].echoed + openers[1].echoed == want, want + " bytes echoed",
                    Duration.ofSeconds(30));
            Await.until(() -> ringsLent(srv[0]) == 0 && ringsLent(client) == 0, "the sample's rings returned",
                    Duration.ofSeconds(10));
            assertEquals(0, openers[0].failed + openers[1].failed, openers[0].lastError);
            long heapEchoed = usedHeapAfterGc();
            long serverRingsAllocated = ringsAllocated(server);

            // the server's share: what the heap loses when the server stack goes, less its empty size
            for (TcpListener l : listeners) {
                l.close();
            }
            listeners = null;
            List<Thread> serverThreads = new ArrayList<>();
            for (int c = 0; c < 2; c++) {
                serverThreads.add(server.call(c, n -> Thread.currentThread()));
            }
            server.close();
            server = null;
            for (Thread t : serverThreads) {
                t.join(10_000); // a netisr thread still ending would keep its stack reachable
                assertTrue(!t.isAlive(), t + " still running");
            }
            serverThreads = null;
            for (int q = 0; q < wire.b().queueCount(); q++) {
                wire.b().queue(q).readyNotifier(null); // the wire's last reference to the closed stack
            }
            srv[0] = null;
            summary = null;
            one = null;
            long heapServerGone = usedHeapAfterGc();
            long serverHeap = heapEchoed - heapServerGone - serverBase;
            double serverPerConn = (double) serverHeap / N;
            double clientPerConn = (double) (heapServerGone - heapClient) / N;
            double totalPerConn = (double) (heapOpen - heapEmpty) / N;
            System.out.printf("MillionConnectionsTest: %d connections opened in %.1f s (%.0f/s)%n", N, openSeconds,
                    N / openSeconds);
            System.out.printf("  heap: client stack %d MiB, + empty server %d MiB, all open %d MiB, after the echo %d MiB,"
                            + " server closed %d MiB%n", heapClient >> 20, heapEmpty >> 20, heapOpen >> 20,
                    heapEchoed >> 20, heapServerGone >> 20);
            System.out.printf("  off-heap (direct): %d MiB before, %d MiB all open; ring bytes lent to idle connections:"
                    + " server %d, client %d; server ring pool after the echo sample %d KiB%n", direct0 >> 20,
                    directOpen >> 20, serverLent, clientLent, serverRingsAllocated >> 10);
            System.out.printf("  bytes per connection: server %.0f (heap; + %.0f off-heap), client %.0f, both sides %.0f%n",
                    serverPerConn, (double) serverLent / N, clientPerConn, totalPerConn);
            System.out.println("  heap by class, both stacks, per connection (instances, bytes):");
            histOpen.entrySet().stream()
                    .map(e -> Map.entry(e.getKey(), new long[] {
                            e.getValue()[0] - histEmpty.getOrDefault(e.getKey(), new long[2])[0],
                            e.getValue()[1] - histEmpty.getOrDefault(e.getKey(), new long[2])[1]}))
                    .filter(e -> e.getValue()[1] >= N / 2)
                    .sorted((a, b) -> Long.compare(b.getValue()[1], a.getValue()[1]))
                    .forEach(e -> System.out.printf("    %-60s %6.2f %7.1f%n", e.getKey(), (double) e.getValue()[0] / N,
                            (double) e.getValue()[1] / N));
            assertTrue(serverPerConn + (double) serverLent / N <= 2048,
                    "an idle server connection costs " + serverPerConn + " bytes");
            assertTrue(serverHeap > 0 && clientPerConn > 0, "measured: " + serverHeap + " / " + clientPerConn);
            System.out.printf("  run time %.1f s%n", (System.nanoTime() - t0) / 1e9);
        } finally {
            if (server != null) {
                server.close();
            }
            client.close();
            wire.close();
        }
    }

    private static long ringsLent(FlowStack s) {
        long sum = 0;
        for (int c = 0; c < s.cores(); c++) {
            sum += s.call(c, n -> n.tcp().memoryUsed());
        }
        return sum;
    }

    private static long ringsAllocated(FlowStack s) {
        long sum = 0;
        for (int c = 0; c < s.cores(); c++) {
            sum += s.call(c, n -> n.tcp().memoryAllocated());
        }
        return sum;
    }

    private static long directMemory() {
        long sum = 0;
        for (BufferPoolMXBean b : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
            sum += b.getMemoryUsed();
        }
        return sum;
    }

    /** The live heap by class (GC.class_histogram): class name to {instances, bytes}. */
    private static Map<String, long[]> histogram() throws Exception {
        String text = (String) ManagementFactory.getPlatformMBeanServer().invoke(
                new ObjectName("com.sun.management:type=DiagnosticCommand"), "gcClassHistogram",
                new Object[] {null}, new String[] {String[].class.getName()});
        Map<String, long[]> m = new HashMap<>();
        for (String line : text.split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length >= 4 && f[0].endsWith(":")) {
                m.put(f[3], new long[] {Long.parseLong(f[1]), Long.parseLong(f[2])});
            }
        }
        return m;
    }

    /** Heap in use after full collections, once two in a row agree within 1 MiB. */
    private static long usedHeapAfterGc() {
        long prev = -1;
        for (int i = 0; i < 6; i++) {
            System.gc();
            long used = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
            if (prev >= 0 && Math.abs(used - prev) < (1 << 20)) {
                return used;
            }
            prev = used;
        }
        return prev;
    }
}
