package io.flowstack.tests;

import static io.flowstack.tests.KernelLab.STACK_IP;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.stats.Stat;
import io.flowstack.nic.packet.FanoutMode;
import io.flowstack.services.TcpEchoService;
import io.flowstack.tests.NamespaceLab.Result;
import java.nio.file.Path;
import java.time.Duration;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Jumbo MTUs on AF_PACKET (issue 10 point 3): both veth ends at the MTU, the kernel's offloads off
 * so that its frames really are that long (not super-frames), one core. The stack takes the
 * device's MTU; the ring slots are sized from it ({@code PacketNic.Geometry}). A ping of the
 * largest unfragmented size (don't-fragment set) each way and a 4 MB TCP echo must pass with
 * nothing truncated, no fragment reassembled and no checksum failure.
 */
class PacketKernelJumboTest {
    @ParameterizedTest(name = "MTU {0}")
    @ValueSource(ints = {9000, 65535})
    @Timeout(120)
    void jumboFramesBothWays(int mtu) throws Exception {
        PacketKernelLab lab = PacketKernelLab.startWireLike(1, FanoutMode.TOEPLITZ, mtu);
        try (TcpEchoService echo = new TcpEchoService(lab.stack(), PacketKernelCases.TCP_ECHO_PORT)) {
            assertEquals(mtu, lab.nic().mtu(), lab::report);
            long reassembled = lab.total(Stat.FRAG_REASSEMBLED);
            int payload = mtu - 28; // IPv4 and ICMP headers
            Result ping = lab.exec(Duration.ofSeconds(30), null, "ping", "-n", "-c", "3", "-i", "0.1", "-M", "do",
                    "-s", Integer.toString(payload), "-W", "2", "-w", "20", STACK_IP);
            KernelLab.assertAllAnswered(ping, 3, lab::report);
            assertFalse(ping.stdout().contains("wrong data"), ping::toString);
            assertEquals(reassembled, lab.total(Stat.FRAG_REASSEMBLED), () -> "fragmented\n" + lab.report());

            byte[] data = new byte[4_000_000];
            new SplittableRandom(mtu).nextBytes(data);
            Path in = lab.tempFile(data);
            Result r = lab.exec(Duration.ofSeconds(60), in, "socat", "-t", "30", "-T", "30", "-",
                    "TCP:" + STACK_IP + ":" + PacketKernelCases.TCP_ECHO_PORT);
            assertEquals(0, r.exit(), () -> "socat: " + r + "\n" + lab.report());
            assertEquals(PacketKernelCases.sha256(data), PacketKernelCases.sha256(r.stdoutBytes()),
                    () -> "echoed stream differs\n" + lab.report());
            long bigFrames = lab.sumQueues(q -> q.rxBytes()) / Math.max(1, lab.sumQueues(q -> q.rxFrames()));
            assertTrue(bigFrames > 1514, () -> "average received frame " + bigFrames + " B: no jumbo frames\n"
                    + lab.report());
            lab.assertHealthy();
        } finally {
            PacketKernelLab.finish(lab);
        }
    }
}
