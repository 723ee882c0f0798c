package io.flowstack.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.stats.Stat;
import io.flowstack.core.testing.Packets;
import io.flowstack.nic.packet.FanoutMode;
import io.flowstack.tests.NamespaceLab.Result;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * AF_PACKET with {@code --fanout toeplitz} steers with the eBPF program whose table is a map
 * ({@code SteeringTable}, {@code PACKET_FANOUT_EBPF}): the kernel's UDP datagrams of one flow
 * reach the core that owns the flow without a hop, and after the stack moves the flow's bucket to
 * the other core, the next ones reach that core, still without a hop (the stack rewrote the
 * table's entry).
 */
@Timeout(120)
class PacketSteeringRebalanceTest {
    static final int SPORT = 43210;
    static final String SEND_PY = """
            import socket, sys
            host, sport, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("", sport))
            s.settimeout(2)
            ok = 0
            for i in range(count):
                s.sendto(b"%d" % i, (host, 7))
                if s.recvfrom(100)[0] == b"%d" % i:
                    ok += 1
            print("echoed", ok)
            """;

    private PacketKernelLab lab;

    @AfterEach
    void tearDown() {
        StackLab.finish(lab);
    }

    private void send(int count) {
        Result r = lab.exec(Duration.ofSeconds(60), null, "python3", "-c", SEND_PY, KernelLab.STACK_IP,
                Integer.toString(SPORT), Integer.toString(count));
        assertEquals(0, r.exit(), r::toString);
        assertEquals("echoed " + count, r.stdout().strip(), r::toString);
    }

    @Test
    void aFlowFollowsItsBucketToTheOtherCoreWithoutHopping() {
        lab = PacketKernelLab.start(2, FanoutMode.TOEPLITZ);
        assertTrue(lab.nic().steering(), () -> "eBPF steering refused: " + lab.nic().steeringProblem());
        int bucket = lab.stack().table().bucket(lab.stack().table().hash().hash4(Packets.ip(KernelLab.STACK_IP),
                Packets.ip(KernelLab.KERNEL_IP), 7, SPORT));
        int from = lab.stack().table().owner(bucket);
        int to = 1 - from;
        long hops = lab.total(Stat.HOP_OUT);
        long inFrom = lab.stack().counters(from).get(Stat.UDP_IN);
        send(50);
        assertEquals(inFrom + 50, lab.stack().counters(from).get(Stat.UDP_IN), lab::report);
        assertEquals(hops, lab.total(Stat.HOP_OUT), lab::report);

        lab.stack().moveBucket(bucket, to);
        long inTo = lab.stack().counters(to).get(Stat.UDP_IN);
        send(50);
        assertEquals(inTo + 50, lab.stack().counters(to).get(Stat.UDP_IN), () -> "the new owner got them\n" + lab.report());
        assertEquals(hops, lab.total(Stat.HOP_OUT), () -> "the kernel steered them there: no hop\n" + lab.report());
        lab.assertHealthy();
    }
}
