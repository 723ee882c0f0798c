package io.flowstack.core.netisr;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import io.flowstack.core.FlowStack;
import io.flowstack.core.config.StackConfig;
import io.flowstack.core.testing.TestNic;
import io.flowstack.core.wire.Ipv4;
import io.flowstack.nativeio.Affinity;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * A netisr pins its thread to CPU {@code core % CPUs}, also when one thread runs the netisrs of
 * core i of two stacks (the composite agent of {@code stack scale}): the second must not count
 * the CPUs from the already pinned thread's mask (one CPU) and land on CPU 0. That bug put both
 * of scale's core threads on CPU 0.
 */
class NetisrPinningTest {
    private static FlowStack stack(String addr) {
        return FlowStack.create(StackConfig.builder().cores(2).address(Ipv4.parse(addr)).prefixLength(24)
                .mac(0x02_00_00_00_00_10L + (Ipv4.parse(addr) & 0xFF)).pinThreads(true).build(), new TestNic(2, 1500));
    }

    @Test
    void aThreadRunningCoreOneOfTwoStacksStaysOnItsCpu() throws Exception {
        FlowStack a = stack("198.18.0.1");
        FlowStack b = stack("198.18.0.2");
        try {
            int cpus = Runtime.getRuntime().availableProcessors();
            AtomicReference<int[]> after = new AtomicReference<>();
            Thread t = Thread.ofPlatform().start(() -> {
                a.netisr(1).onStart();
                b.netisr(1).onStart();
                after.set(Affinity.currentThreadCpus());
            });
            t.join(10_000);
            assertArrayEquals(new int[] {1 % cpus}, after.get(), "core 1's thread, both netisrs started");
        } finally {
            a.close();
            b.close();
        }
    }
}
