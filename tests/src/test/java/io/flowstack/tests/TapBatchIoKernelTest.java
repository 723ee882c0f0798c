package io.flowstack.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.nic.TapNic;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The TAP's batched I/O ({@code --tap-io batch}: reads and small writes through an io_uring per
 * queue) against the kernel, with offloads and without, on two cores: pings answered, and 200 MB
 * each way at once between the stack and a kernel peer arriving intact (SHA-256), with
 * super-frames on the offload path (they bypass the transmit slots) and MTU frames without (all
 * of them through the slots).
 */
class TapBatchIoKernelTest {
    private static final long BYTES = 200_000_000L;

    @ParameterizedTest(name = "offload={0}")
    @ValueSource(booleans = {true, false})
    @Timeout(300)
    void pingsAndTwoHundredMegabytesEachWayThroughTheBatchedTap(boolean offload) throws Exception {
        try (KernelLab lab = KernelLab.start(2, OffloadKernelTest.options(offload).withBatchIo(true),
                UnaryOperator.identity())) {
            TapNic tap = (TapNic) lab.nic();
            assertTrue(tap.batchIo(), "io_uring refused: " + tap.batchIoProblem());
            NamespaceLab.Result ping = lab.exec(Duration.ofSeconds(20), null, "ping", "-c", "20", "-i", "0.01", "-W",
                    "5", NamespaceLab.STACK_IP);
            assertEquals(0, ping.exit(), ping::toString);
            assertTrue(ping.stdout().contains("20 received"), ping::toString);
            String[] file = OffloadKernelTest.randomFile(lab, BYTES);
            ShaExchange.Outcome o = ShaExchange.run(lab, NamespaceLab.KERNEL_IP, 5103, Path.of(file[0]), BYTES, file[1],
                    BYTES, Duration.ofSeconds(200));
            System.out.printf("batched TAP, offload=%s: 200 MB each way at once in %.2f s%n%s%n", offload,
                    o.seconds(), lab.report());
            OffloadKernelTest.assertPath(lab, offload, true);
            for (int q = 0; q < tap.queueCount(); q++) {
                assertEquals(0, tap.queue(q).txErrors() + tap.queue(q).rxErrors(), "queue " + q);
            }
            lab.assertHealthy();
        }
    }
}
