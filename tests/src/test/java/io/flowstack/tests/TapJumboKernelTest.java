package io.flowstack.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.flowstack.core.stats.Stat;
import io.flowstack.nic.TapNic;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Any MTU a TAP takes (issue 10 point 3): 9000 and the TAP's largest, 65,521, with and without
 * offloads. The kernel's side of the TAP gets the MTU, the stack is configured with it; a ping
 * of the largest size with DF set is answered unfragmented, and 4 MB each way over TCP (its MSS
 * from the MTU) arrive intact, with no fragment either way and nothing truncated.
 */
class TapJumboKernelTest {

    @ParameterizedTest(name = "mtu={0} offload={1}")
    @CsvSource({"9000,true", "9000,false", "65521,true", "65521,false"})
    @Timeout(120)
    void theLargestFramesCrossTheTapWhole(int mtu, boolean offload) throws Exception {
        TapNic.Options options = offload ? TapNic.Options.DEFAULT : TapNic.Options.NO_OFFLOAD;
        try (KernelLab lab = KernelLab.start(2, options, b -> b.mtu(mtu))) {
            lab.execOk("ip", "link", "set", lab.tap(), "mtu", Integer.toString(mtu));
            NamespaceLab.Result ping = lab.exec(Duration.ofSeconds(20), null, "ping", "-n", "-c", "3", "-i", "0.2",
                    "-W", "2", "-M", "do", "-s", Integer.toString(mtu - 28), NamespaceLab.STACK_IP);
            StackLab.assertAllAnswered(ping, 3, lab::report);

            long bytes = 4_000_000;
            Path f = Files.createTempFile("flowstack-jumbo-", ".bin");
            lab.deleteOnClose(f);
            NamespaceLab.Result made = lab.shell(Duration.ofSeconds(30),
                    "head -c " + bytes + " /dev/urandom > " + f + " && sha256sum " + f);
            assertEquals(0, made.exit(), made::toString);
            ShaExchange.run(lab, NamespaceLab.KERNEL_IP, 5103, f, bytes, made.stdout().strip().split("\\s+")[0], bytes,
                    Duration.ofSeconds(60));

            assertEquals(mtu, lab.stack().snapshot().mtu(), "the stack runs with the MTU");
            for (Stat s : new Stat[] {Stat.FRAG_IN, Stat.IP_FRAGMENTS_OUT, Stat.TCP_BAD_CHECKSUM, Stat.IP_CANT_FRAGMENT}) {
                assertEquals(0, lab.total(s), () -> s + "\n" + lab.report());
            }
            TapNic nic = (TapNic) lab.stack().nic();
            for (int q = 0; q < nic.queueCount(); q++) {
                assertEquals(0, nic.queue(q).rxTruncated(), "queue " + q + " cut no frame");
            }
            lab.assertHealthy();
        }
    }
}
