package io.flowstack.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.stats.Stat;
import io.flowstack.services.TcpEchoService;
import io.flowstack.core.testing.Packets;
import io.flowstack.nic.TapNic;
import io.flowstack.tests.NamespaceLab.Result;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The multi-queue TAP's steering program ({@code SteeringTable}) against the kernel: with two
 * cores, 300 connections the kernel opens to the stack are each handled from their SYN on by the
 * core that owns them, without one frame handed between cores (without steering, the TAP puts
 * half of the SYNs on the other core's queue); and after the stack moves a bucket to the other
 * core, the kernel's next connection in that bucket arrives on the new owner's queue directly
 * (the stack updated the steering table).
 */
@Timeout(120)
class TapSteeringKernelTest {
    static final String CLIENT_PY = """
            import socket, sys
            host, port, count, first = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
            for i in range(count):
                s = socket.socket()
                s.settimeout(5)
                if first > 0:
                    s.bind(("", first + i))
                s.connect((host, port))
                s.sendall(b"x" * 100)
                got = b""
                while len(got) < 100:
                    d = s.recv(100 - len(got))
                    if not d:
                        break
                    got += d
                assert got == b"x" * 100, got
                s.close()
            print("ok", count)
            """;

    private KernelLab lab;

    @AfterEach
    void tearDown() {
        KernelLab.finish(lab);
    }

    private void connect(int count, int firstPort) {
        Result r = lab.exec(Duration.ofSeconds(60), null, "python3", "-c", CLIENT_PY, KernelLab.STACK_IP, "7",
                Integer.toString(count), Integer.toString(firstPort));
        assertEquals(0, r.exit(), r::toString);
        assertEquals("ok " + count, r.stdout().strip(), r::toString);
    }

    @Test
    void kernelConnectionsLandOnTheirOwnersQueueFromTheFirstSegmentAndFollowAMovedBucket() {
        lab = KernelLab.start(2);
        TapNic nic = (TapNic) lab.stack().nic();
        assertTrue(nic.steering(), () -> "steering refused: " + nic.steeringProblem());
        try (TcpEchoService echo = new TcpEchoService(lab.stack(), 7)) {
            long hops = lab.total(Stat.HOP_OUT);
            connect(300, 0);
            lab.awaitTotal(Stat.TCP_PASSIVE_OPENS, 300, Duration.ofSeconds(10));
            assertEquals(hops, lab.total(Stat.HOP_OUT), () -> "no frame handed between cores\n" + lab.report());
            for (int c = 0; c < 2; c++) {
                long opens = lab.stack().counters(c).get(Stat.TCP_PASSIVE_OPENS);
                int core = c;
                assertTrue(opens > 60, () -> "core " + core + " took its share: " + opens + "\n" + lab.report());
            }

            int port = 61000; // outside the kernel's ephemeral range: no earlier connection took it (TIME_WAIT)
            int bucket = lab.stack().table().bucket(lab.stack().table().hash().hash4(Packets.ip(KernelLab.STACK_IP),
                    Packets.ip(KernelLab.KERNEL_IP), 7, port));
            int from = lab.stack().table().owner(bucket);
            int to = 1 - from;
            lab.stack().moveBucket(bucket, to);
            long opensTo = lab.stack().counters(to).get(Stat.TCP_PASSIVE_OPENS);
            connect(1, port);
            lab.await("the connection on core " + to,
                    () -> lab.stack().counters(to).get(Stat.TCP_PASSIVE_OPENS) == opensTo + 1, Duration.ofSeconds(10));
            assertEquals(hops, lab.total(Stat.HOP_OUT), () -> "the moved bucket's SYN came on the new owner's queue\n"
                    + lab.report());
        }
        lab.assertHealthy();
    }
}
