package io.flowstack.tools.scale;

import io.flowstack.core.FlowStack;
import io.flowstack.core.config.StackConfig;
import io.flowstack.core.stats.Stat;
import io.flowstack.core.socket.TcpListener;
import io.flowstack.core.config.TcpSocketOptions;
import io.flowstack.core.wire.Ipv4;
import io.flowstack.nic.MemoryWire;
import io.flowstack.tools.Teardown;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.BusySpinIdleStrategy;
import org.agrona.concurrent.CompositeAgent;

/**
 * In-process scaling benchmark: a client stack and a server stack in one JVM joined by a
 * {@link MemoryWire} (queue i of one side is queue i of the other), both with N cores, no kernel.
 *
 * <p>Since the flow hash is symmetric and both stacks use the same indirection table, a
 * connection that the client's core i opens (its local port is chosen so that the 4-tuple
 * hashes to i) is owned by the server's core i too, and its frames travel on queue pair i: the
 * N pairs (client core i, server core i) are independent shards that share nothing but the
 * ARP replicas. Two layouts:
 * <ul>
 *   <li>{@link Layout#SHARED} (default): one thread per core index runs core i of both stacks
 *       (an Agrona {@link CompositeAgent} of the two netisrs, pinned to CPU i), like the
 *       composite NIC+netisr agent of DESIGN.md. N cores use N threads, so on an N-CPU machine
 *       the measurement asks exactly "does the stack scale with cores", with the load
 *       generator (the client stack and its callbacks) inside the same budget.</li>
 *   <li>{@link Layout#SEPARATE}: each stack runs its own N netisr threads ({@link FlowStack#start},
 *       idle netisrs sleep in poll): 2N threads, so on N CPUs the two stacks compete for them and
 *       the ratio says more about the scheduler than about the stack.</li>
 * </ul>
 * The load runs on the client's netisrs through the callback API ({@link ClientShard}); the
 * server answers on its netisrs ({@link ServerHandler}). No application thread is involved.
 *
 * <p>Owned by: the thread that calls {@link #run}.
 */
public final class ScaleBench {
    /** What is measured. */
    public enum Test {
        /** Connection rate: connect, one request, one response, close. */
        CONN,
        /** Request/response rate over persistent connections. */
        RR
    }

    /** Which threads run the cores of the two stacks. */
    public enum Layout {
        SHARED,
        SEPARATE
    }

    /** One measurement's parameters. */
    public record Params(Test test, int cores, Layout layout, double warmupSeconds, double seconds,
                         int rrConnections, int connConcurrency, int messageBytes, boolean pin, boolean busySpin) {}

    /**
     * One measurement's result. {@code cpuSeconds} is the CPU time the threads running the cores
     * got during the measured interval ({@code threads} of them): on a machine shared with other
     * work it shows how much of the wall-clock interval they actually ran.
     */
    public record Result(Params params, long ops, double seconds, long[] perCore, long errors, long clientHops,
                         long serverHops, long retransmits, long internalErrors, double cpuSeconds, int threads,
                         String clientCounters, String serverCounters) {
        /** Operations per wall-clock second. */
        public double rate() {
            return ops / seconds;
        }

        /** Operations per CPU-second of the core threads (the cost of one operation, inverted). */
        public double ratePerCpuSecond() {
            return cpuSeconds > 0 ? ops / cpuSeconds : Double.NaN;
        }

        /** CPU time the core threads got / (wall time x threads): 1.0 means they ran all the time. */
        public double cpuShare() {
            return cpuSeconds / (seconds * threads);
        }
    }

    static final int CLIENT = Ipv4.parse("198.18.0.1");
    static final int SERVER = Ipv4.parse("198.18.0.2");
    static final int PORT = 8080;
    /** Server TIME_WAIT: bounds the table (and the 4-tuples held) at tens of thousands of connections per second. */
    static final long TIME_WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(250);
    static final int BUFFER_BYTES = 64 * 1024;

    private ScaleBench() {}

    private static StackConfig config(int address, long mac, Params p) {
        return StackConfig.builder().cores(p.cores()).address(address).prefixLength(24).mac(mac)
                .pinThreads(p.pin() && p.layout() == Layout.SHARED).busyPoll(false)
                .tcpTimeWaitNanos(TIME_WAIT_NANOS).tcpMaxConnections(1 << 20).tcpSynBacklog(4096).build();
    }

    /** Local ports of the client whose flow to the server lands on each core. */
    static int[][] portsPerCore(FlowStack client, int cores) {
        List<List<Integer>> lists = new ArrayList<>();
        for (int c = 0; c < cores; c++) {
            lists.add(new ArrayList<>());
        }
        for (int p = 10_000; p < 65_536; p++) {
            lists.get(client.coreFor(CLIENT, SERVER, p, PORT)).add(p);
        }
        int[][] out = new int[cores][];
        for (int c = 0; c < cores; c++) {
            out[c] = lists.get(c).stream().mapToInt(Integer::intValue).toArray();
        }
        return out;
    }

    /** Runs one measurement: builds both stacks, warms up, measures, tears everything down. */
    public static Result run(Params p) {
        return run(p, new CountDownLatch(1));
    }

    /**
     * {@link #run(Params)} that ends early once {@code stop} is released (Ctrl-C): a measurement
     * under way is cut short and returned for the time it ran; stopped during the warm-up, the
     * run returns null (nothing measured).
     */
    public static Result run(Params p, CountDownLatch stop) {
        if (p.cores() < 1) {
            throw new IllegalArgumentException("--cores must be >= 1, got " + p.cores());
        }
        MemoryWire wire = MemoryWire.create(p.cores(), 4 << 20);
        FlowStack server = null;
        FlowStack client = null;
        List<AgentRunner> runners = new ArrayList<>();
        List<Thread> coreThreads = new ArrayList<>();
        List<ClientShard> shards = new ArrayList<>();
        boolean shared = p.layout() == Layout.SHARED;
        try (Arena arena = Arena.ofShared()) {
            StackConfig sc = config(SERVER, 0x02_00_00_00_00_02L, p);
            StackConfig cc = config(CLIENT, 0x02_00_00_00_00_01L, p);
            server = shared ? FlowStack.create(sc, wire.b()) : FlowStack.start(sc, wire.b());
            client = shared ? FlowStack.create(cc, wire.a()) : FlowStack.start(cc, wire.a());
            MemorySegment message = arena.allocate(p.messageBytes());
            for (int i = 0; i < p.messageBytes(); i++) {
                message.set(ValueLayout.JAVA_BYTE, i, (byte) ('a' + i % 26));
            }
            TcpSocketOptions opts = TcpSocketOptions.defaults(sc).withBuffers(BUFFER_BYTES, BUFFER_BYTES).withNoDelay(true);
            TcpListener listener = server.tcpListen(PORT, 4096, opts, new ServerHandler(p.test(), message));
            int[][] ports = portsPerCore(client, p.cores());
            int total = p.test() == Test.RR ? p.rrConnections() : p.connConcurrency();
            long[] counters = new long[(p.cores() + 2) * ClientShard.STRIDE];
            for (int c = 0; c < p.cores(); c++) {
                int conns = total / p.cores() + (c < total % p.cores() ? 1 : 0);
                shards.add(new ClientShard(p.test(), client, client.netisr(c), ports[c], SERVER, PORT, opts, message, conns,
                        counters, c));
            }
            if (shared) {
                for (int c = 0; c < p.cores(); c++) {
                    AgentRunner r = new AgentRunner(p.busySpin() ? new BusySpinIdleStrategy()
                            : new BackoffIdleStrategy(100, 10, 1_000, 100_000),
                            Throwable::printStackTrace, null, new CompositeAgent(client.netisr(c), server.netisr(c)));
                    runners.add(r);
                    int core = c;
                    AgentRunner.startOnThread(r, task -> {
                        Thread t = new Thread(task, "scale-core-" + core);
                        t.setDaemon(true);
                        coreThreads.add(t);
                        return t;
                    });
                }
            }
            for (int c = 0; c < p.cores(); c++) {
                ClientShard s = shards.get(c);
                if (!client.netisr(c).submit(n -> s.start())) {
                    throw new IllegalStateException("netisr-" + c + " command queue full");
                }
            }
            if (sleep(p.warmupSeconds(), stop)) { // nothing measured: the same orderly stop as below
                for (ClientShard s : shards) {
                    s.stop();
                }
                stopDrivers(runners, client, server);
                listener.close();
                return null;
            }
            if (!shared) {
                coreThreads.addAll(netisrThreads());
            }
            long cpu0 = cpuNanos(coreThreads);
            long[] start = new long[p.cores()];
            long errors0 = 0;
            for (int c = 0; c < p.cores(); c++) {
                start[c] = shards.get(c).completed();
                errors0 += shards.get(c).errors();
            }
            long hops0 = client.total(Stat.HOP_OUT);
            long serverHops0 = server.total(Stat.HOP_OUT);
            long rexmt0 = client.total(Stat.TCP_RETRANSMITS) + server.total(Stat.TCP_RETRANSMITS);
            long t0 = System.nanoTime();
            sleep(p.seconds(), stop);
            long cpu1 = cpuNanos(coreThreads);
            long[] end = new long[p.cores()];
            long errors1 = 0;
            for (int c = 0; c < p.cores(); c++) {
                end[c] = shards.get(c).completed();
                errors1 += shards.get(c).errors();
            }
            double secs = (System.nanoTime() - t0) / 1e9;
            long[] per = new long[p.cores()];
            long ops = 0;
            for (int c = 0; c < p.cores(); c++) {
                per[c] = end[c] - start[c];
                ops += per[c];
            }
            Result r = new Result(p, ops, secs, per, errors1 - errors0, client.total(Stat.HOP_OUT) - hops0,
                    server.total(Stat.HOP_OUT) - serverHops0,
                    client.total(Stat.TCP_RETRANSMITS) + server.total(Stat.TCP_RETRANSMITS) - rexmt0,
                    client.total(Stat.INTERNAL_ERROR) + server.total(Stat.INTERNAL_ERROR), (cpu1 - cpu0) / 1e9,
                    coreThreads.size(), client.countersReport() + wireReport(wire.a()),
                    server.countersReport() + wireReport(wire.b()));
            for (ClientShard s : shards) {
                s.stop();
            }
            stopDrivers(runners, client, server);
            listener.close();
            return r;
        } finally {
            stopDrivers(runners, client, server);
            Teardown.closeAll(wire, server, client);
        }
    }

    /**
     * Stops the shared-layout driver threads (joining them) and hands the cores back to the
     * calling thread, which then owns them for the teardown (listener close, stack close).
     */
    private static void stopDrivers(List<AgentRunner> runners, FlowStack client, FlowStack server) {
        if (runners.isEmpty()) {
            return;
        }
        for (AgentRunner runner : runners) {
            runner.close();
        }
        runners.clear();
        for (FlowStack s : new FlowStack[] {client, server}) {
            for (int c = 0; s != null && c < s.cores(); c++) {
                s.netisr(c).ownership().claim();
            }
        }
    }

    /** Per-queue frame counts of one side of the wire (what the NIC saw, below the stack). */
    private static String wireReport(io.flowstack.nic.Nic side) {
        StringBuilder b = new StringBuilder();
        for (int q = 0; q < side.queueCount(); q++) {
            if (side.queue(q) instanceof io.flowstack.nic.CountingQueue c) {
                b.append(String.format("wire queue %d: rx %d (truncated %d), tx %d (ring full %d, errors %d),"
                                + " rx pending %s%n", q, c.rxFrames(), c.rxTruncated(), c.txFrames(), c.txDrops(),
                        c.txErrors(), c.rxReady()));
            }
        }
        return b.toString();
    }

    /** The netisr threads of started stacks (AgentRunner names them after the agent: netisr-N). */
    private static List<Thread> netisrThreads() {
        List<Thread> out = new ArrayList<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.isAlive() && t.getName().startsWith("netisr-")) {
                out.add(t);
            }
        }
        return out;
    }

    /** Summed CPU time of {@code threads} (ThreadMXBean), in nanoseconds. */
    private static long cpuNanos(List<Thread> threads) {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        long sum = 0;
        for (Thread t : threads) {
            long v = mx.getThreadCpuTime(t.threadId());
            sum += Math.max(0, v);
        }
        return sum;
    }

    /** Waits {@code seconds} or until {@code stop} is released; true if it was. */
    private static boolean sleep(double seconds, CountDownLatch stop) {
        long deadline = System.nanoTime() + (long) (seconds * 1e9);
        for (long left; (left = deadline - System.nanoTime()) > 0; ) {
            try {
                if (stop.await(left, TimeUnit.NANOSECONDS)) {
                    return true;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return true;
            }
        }
        return stop.getCount() == 0;
    }
}
