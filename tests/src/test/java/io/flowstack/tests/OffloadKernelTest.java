package io.flowstack.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.stats.Stat;
import io.flowstack.core.testing.Packets;
import io.flowstack.nic.TapNic;
import io.flowstack.tests.NamespaceLab.Background;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * TAP offloads against the kernel (issue 10 point 1), on both paths: with offloads (the default:
 * a vnet header, partial checksums, TCP super-frames of up to 64 KiB each way) and without
 * ({@link TapNic.Options#NO_OFFLOAD}, one frame of at most the MTU per system call).
 * <ul>
 *   <li>a gigabyte each way at once between the stack and a kernel server, checked by SHA-256,
 *       with super-frames counted on the offload path and none on the other;</li>
 *   <li>the segments the kernel cuts from the stack's super-frames are well formed: the kernel
 *       routes them to a second namespace over a veth whose offloads are off (so it segments and
 *       checksums in software on the way out), and tshark, validating IPv4 and TCP checksums on
 *       the far side, finds no malformed frame and no expert error.</li>
 * </ul>
 */
class OffloadKernelTest {
    static final long GB = 1_000_000_000L;

    static TapNic.Options options(boolean offload) {
        return offload ? TapNic.Options.DEFAULT : TapNic.Options.NO_OFFLOAD;
    }

    /** With {@code offload}, super-frames sent and (if {@code rx}, from a local sender) received; else none. */
    static void assertPath(KernelLab lab, boolean offload, boolean rx) {
        if (offload) {
            assertTrue(lab.total(Stat.TX_SUPER_FRAMES) > 0, () -> "super-frames sent\n" + lab.report());
            assertTrue(!rx || lab.total(Stat.RX_SUPER_FRAMES) > 0, () -> "super-frames received\n" + lab.report());
        } else {
            assertEquals(0, lab.total(Stat.TX_SUPER_FRAMES), lab::report);
            assertEquals(0, lab.total(Stat.RX_SUPER_FRAMES), lab::report);
        }
        assertEquals(0, lab.total(Stat.TCP_BAD_CHECKSUM), lab::report);
        assertEquals(0, lab.total(Stat.ARP_OFFLOAD_DROPPED), lab::report);
    }

    /** A file of {@code bytes} random bytes in the lab's temp files; returns its path and SHA-256. */
    static String[] randomFile(KernelLab lab, long bytes) throws Exception {
        Path f = Files.createTempFile("flowstack-offload-", ".bin");
        lab.deleteOnClose(f);
        NamespaceLab.Result r = lab.shell(Duration.ofSeconds(120),
                "head -c " + bytes + " /dev/urandom > " + f + " && sha256sum " + f);
        assertEquals(0, r.exit(), r::toString);
        return new String[] {f.toString(), r.stdout().strip().split("\\s+")[0]};
    }

    @ParameterizedTest(name = "offload={0}")
    @ValueSource(booleans = {true, false})
    @Timeout(400)
    void aGigabyteEachWayAtOnceArrivesIntact(boolean offload) throws Exception {
        try (KernelLab lab = KernelLab.start(2, options(offload), UnaryOperator.identity())) {
            String[] file = randomFile(lab, GB);
            ShaExchange.Outcome o = ShaExchange.run(lab, NamespaceLab.KERNEL_IP, 5101, Path.of(file[0]), GB, file[1],
                    GB, Duration.ofSeconds(240));
            System.out.printf("offload=%s: 1 GB each way at once in %.2f s%n%s%n", offload, o.seconds(), lab.report());
            assertPath(lab, offload, true);
            lab.assertHealthy();
        }
    }

    /**
     * Kernel UDP sender with {@code UDP_SEGMENT} (RFC 768 datagrams, sent as one super-frame where
     * the TAP takes USO): sends 20 x 8 datagrams of 1000 bytes, each a distinct pattern, to the
     * stack's UDP echo service, a round at a time, and reads every echo back unchanged.
     */
    private static final String USO_PY = String.join("\n",
            "import socket, sys",
            "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)",
            "s.setsockopt(socket.SOL_UDP, 103, 1000)  # UDP_SEGMENT",
            "s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)  # room for a round of echoes",
            "s.settimeout(3)",
            "s.connect((sys.argv[1], 7))",
            "want, got = set(), set()",
            "try:",
            "    for r in range(20):  # a round of 8 datagrams in one send, then its 8 echoes",
            "        parts = [bytes([r, i]) * 500 for i in range(8)]",
            "        want.update(parts)",
            "        s.send(b''.join(parts))",
            "        for i in range(8):",
            "            got.add(s.recv(2048))",
            "except socket.timeout:",
            "    pass",
            "print(len(want), len(got & want), len(got - want))");

    @ParameterizedTest(name = "offload={0}")
    @ValueSource(booleans = {true, false})
    @Timeout(60)
    void udpSegmentationOffloadDatagramsAreEachEchoed(boolean offload) {
        try (KernelLab lab = KernelLab.start(2, options(offload), UnaryOperator.identity())) {
            NamespaceLab.Result r = lab.exec(Duration.ofSeconds(20), null, "python3", "-c", USO_PY, NamespaceLab.STACK_IP);
            assertEquals(0, r.exit(), r::toString);
            assertEquals("160 160 0", r.stdout().strip(), () -> "datagrams sent, echoed unchanged, unexpected\n" + lab.report());
            NamespaceLab.Result shown = lab.exec("ethtool", "-k", lab.tap());
            assertEquals(0, shown.exit(), shown::toString);
            String features = shown.stdout();
            if (offload && features.contains("tx-udp-segmentation: on")) {
                assertEquals(160, lab.total(Stat.RX_UDP_SUPER_DATAGRAMS), () -> "cut by the stack\n" + lab.report());
            } else {
                assertEquals(0, lab.total(Stat.RX_UDP_SUPER_DATAGRAMS), lab::report);
            }
            lab.assertHealthy();
        }
    }

    @ParameterizedTest(name = "offload={0}")
    @ValueSource(booleans = {true, false})
    @Timeout(240)
    void segmentsTheKernelCutsFromOurFramesAreWellFormed(boolean offload) throws Exception {
        String far = "198.18.1.2";
        try (KernelLab lab = KernelLab.start(2, options(offload), b -> b.gateway(Packets.ip(NamespaceLab.KERNEL_IP)))) {
            String b = lab.namespace() + "b";
            String va = "va" + lab.tap().substring(2);
            String vb = "vb" + lab.tap().substring(2);
            try {
                lab.host("ip", "netns", "add", b);
                lab.host("ip", "netns", "exec", b, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
                        "net.ipv6.conf.default.disable_ipv6=1");
                lab.host("ip", "-n", b, "link", "set", "lo", "up");
                lab.host("ip", "-n", lab.namespace(), "link", "add", va, "type", "veth", "peer", "name", vb,
                        "netns", b);
                lab.execOk("ip", "addr", "add", "198.18.1.1/24", "dev", va);
                lab.execOk("ip", "link", "set", va, "up");
                // the kernel between the TAP and the veth forwards, and segments and checksums in
                // software on the veth (no offloads there): what leaves is what it cut from ours
                lab.execOk("ethtool", "-K", va, "tx", "off", "tso", "off", "gso", "off", "sg", "off");
                lab.execOk("sysctl", "-qw", "net.ipv4.ip_forward=1");
                lab.host("ip", "-n", b, "addr", "add", far + "/24", "dev", vb);
                lab.host("ip", "-n", b, "link", "set", vb, "up");
                lab.host("ip", "-n", b, "route", "add", "198.18.0.0/24", "via", "198.18.1.1");
                // nor coalesces on the way in, so the capture shows the segments as they crossed
                lab.host("ip", "netns", "exec", b, "ethtool", "-K", vb, "tx", "off", "tso", "off", "gso", "off", "gro",
                        "off");
                Path pcap = Files.createTempFile("flowstack-offload-", ".pcap");
                lab.deleteOnClose(pcap);
                long bytes = 8_000_000;
                String[] file = randomFile(lab, bytes);
                try (Background dump = lab.spawn(Duration.ofSeconds(120), null, "ip", "netns", "exec", b,
                        "timeout", "110", "tcpdump", "-i", vb, "-s", "0", "-B", "65536", "-U", "-w", pcap.toString(), "tcp")) {
                    lab.await("tcpdump to listen", () -> dump.stderrSoFar().contains("listening on") || !dump.alive(),
                            Duration.ofSeconds(10));
                    ShaExchange.run(lab, far, 5102, Path.of(file[0]), bytes, file[1], bytes, Duration.ofSeconds(90),
                            "ip", "netns", "exec", b);
                    dump.stop();
                }
                List<String> data = Tshark.fields(pcap, "tcp.len > 0", "tcp.len");
                long captured = data.stream().mapToLong(Long::parseLong).sum();
                // (tcpdump may drop a few frames on a loaded machine: what it kept is judged)
                assertTrue(captured >= 2 * bytes * 9 / 10, "the capture holds both transfers: " + captured + " bytes");
                // random payload, not an application protocol (Thrift's heuristic would find errors in it)
                List<String> problems = Tshark.problems(pcap, List.of("-d", "tcp.port==5102,data"));
                assertEquals(List.of(), problems, "tshark validating checksums finds no problem");
                List<String> big = Tshark.fields(pcap, "frame.len > 1514", "frame.number");
                assertEquals(List.of(), big, "every frame after segmentation fits the MTU");
                // what the far host sends arrives as single segments: the kernel forwards them to the TAP uncoalesced
                assertPath(lab, offload, false);
                if (offload) {
                    assertTrue(lab.total(Stat.TX_SUPER_FRAMES) > 10, lab::report);
                }
                lab.assertHealthy();
            } finally {
                NamespaceLab.hostQuiet("ip", "netns", "del", b);
            }
        }
    }
}
