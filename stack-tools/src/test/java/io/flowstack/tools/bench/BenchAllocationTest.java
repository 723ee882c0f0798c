package io.flowstack.tools.bench;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.FlowStack;
import io.flowstack.core.config.StackConfig;
import io.flowstack.core.wire.Ipv4;
import io.flowstack.nic.MemoryWire;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import io.flowstack.core.stats.Stat;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Timeout;

/**
 * The stack's measurement path allocates nothing per transaction or per write (DESIGN.md
 * "Memory"): with the callback engine on both ends (two stacks on a {@link MemoryWire}), the
 * netisr threads, which run the stack and the bench's handlers, allocate only per connection.
 * One object (16 bytes or more) per transaction or per write would exceed the fixed allowance
 * below in every run; the allowance covers the per-connection objects and what the JIT leaves
 * now and then (measured: 4-180 KB in one run in ten, a few KB otherwise), so each case is
 * measured up to three times and the smallest figure counts.
 */
@Timeout(value = 600, unit = TimeUnit.SECONDS)
class BenchAllocationTest {
    static final String SERVER = "198.18.0.2";

    private static long netisrAllocated() {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long sum = 0;
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().startsWith("netisr-")) {
                sum += mx.getThreadAllocatedBytes(t.threadId());
            }
        }
        return sum;
    }

    private static StackConfig config(String addr, long mac) {
        return StackConfig.builder().cores(1).address(Ipv4.parse(addr)).mac(mac).pinThreads(false).build();
    }

    /** Bytes the netisr threads may allocate in one measured run. */
    static final long ALLOWANCE = 128 * 1024;

    /** Runs {@code warmUp}, then {@code spec}, measuring; returns bytes allocated on netisr threads. */
    private static long measure(BenchSpec warmUp, BenchSpec spec, FlowStack client, StringBuilder report) {
        BenchResult warm = BenchClient.run(warmUp, Net.stack(client), Sink.NONE);
        assertTrue(warm.ok(), warm.summaryLines().toString());
        long least = Long.MAX_VALUE;
        for (int run = 0; run < 3 && least >= ALLOWANCE; run++) {
            long a0 = netisrAllocated();
            BenchResult r = BenchClient.run(spec, Net.stack(client), Sink.NONE);
            long a1 = netisrAllocated();
            assertTrue(r.ok(), r.summaryLines().toString());
            assertTrue(!r.stoppedBy().equals("duration"), r.summaryLines().toString());
            report.append(spec.describe()).append(": ").append(a1 - a0)
                    .append(" bytes allocated on the netisr threads for ").append(r.transactions())
                    .append(" transactions, ").append(r.bytes()).append(" bytes\n");
            least = Math.min(least, a1 - a0);
        }
        return least;
    }

    /**
     * With {@code offloads} the wire carries gathered frames and 64 KiB super-frames both ways
     * (as two TAPs with vnet headers do): the bulk path with super-frames allocates nothing either.
     */
    @ParameterizedTest(name = "offloads={0}")
    @ValueSource(booleans = {false, true})
    void callbackPathAllocatesPerConnectionOnly(boolean offloads) {
        try (MemoryWire wire = offloads ? MemoryWire.createWithOffloads(1, 4 << 20, 1500) : MemoryWire.create(1, 4 << 20);
             FlowStack server = FlowStack.start(config(SERVER, 0x02_00_00_00_00_02L), wire.b());
             FlowStack client = FlowStack.start(config("198.18.0.1", 0x02_00_00_00_00_01L), wire.a());
             BenchServer bench = BenchServer.start(Net.stack(server), 5201)) {
            StringBuilder report = new StringBuilder();
            Duration limit = Duration.ofSeconds(120); // the counts end the runs
            BenchSpec rr = BenchSpec.rr(SERVER, 64).withDuration(limit);
            long tx = 40_000; // 640 KB at one object per transaction
            long rrBytes = measure(rr.withTransactions(20_000), rr.withTransactions(tx), client, report);
            BenchSpec send = BenchSpec.stream(SERVER).withDuration(limit);
            long bytes = 2_000_000_000L; // 15,258 writes of 128 KiB: 244 KB at one object per write
            long sendBytes = measure(send.withBytes(bytes / 4), send.withBytes(bytes), client, report);
            BenchSpec receive = BenchSpec.stream(SERVER).withReverse(true).withDuration(limit);
            long receiveBytes = measure(receive.withBytes(bytes / 4), receive.withBytes(bytes), client, report);
            System.out.print(report);
            assertTrue(tx * 16 > 3 * ALLOWANCE && bytes / BenchSpec.DEFAULT_LENGTH * 16 > ALLOWANCE * 3 / 2);
            assertTrue(rrBytes < ALLOWANCE, "rr allocates per transaction:\n" + report);
            assertTrue(sendBytes < ALLOWANCE, "stream allocates per write:\n" + report);
            assertTrue(receiveBytes < ALLOWANCE, "reverse stream allocates per write:\n" + report);
            if (offloads) {
                for (FlowStack s : new FlowStack[] {server, client}) {
                    assertTrue(s.total(Stat.TX_SUPER_FRAMES) > 1000, "each side sent super-frames: " + s.countersReport());
                    assertTrue(s.total(Stat.RX_SUPER_FRAMES) > 1000, "each side took super-frames whole");
                }
            }
        }
    }
}
