package io.flowstack.tests;

import static io.flowstack.tests.KernelLab.STACK_IP;
import static io.flowstack.tests.KernelLab.pingReceived;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.stats.Stat;
import io.flowstack.services.HttpService;
import io.flowstack.services.TcpEchoService;
import io.flowstack.nativeio.Packet;
import io.flowstack.nic.packet.FanoutMode;
import io.flowstack.nic.packet.PacketNic;
import io.flowstack.tests.NamespaceLab.Result;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.SplittableRandom;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The stack on its AF_PACKET back-end ({@link io.flowstack.nic.packet.PacketNic}) against the
 * Linux kernel on the far side of a veth pair ({@link PacketKernelLab}): ARP, ping without loss,
 * UDP echo through socat, a 10 MB HTTP download by curl checked by SHA-256, TCP echo of 4 MB
 * both ways at once (SHA-256), and wrk keep-alive. The kernel's veth end keeps its default
 * offloads unless {@link #peerOffloads()} says otherwise, so its TCP sends partial checksums and
 * GSO super-frames. One stack per subclass (cores, fanout mode), shared by the methods; each
 * method measures counter deltas. After each method the stack must be healthy (INTERNAL_ERROR 0,
 * no ownership violation) and the rings clean (no truncated frame, unfinished checksum, corrupt
 * block, looped-back frame or TX error); with {@link FanoutMode#TOEPLITZ} no frame may hop
 * between cores, because the kernel already delivers each to the core that owns its flow (only
 * a reassembled datagram may move once, from the core of its fragments' (src, dst) hash to the
 * owner of its 4-tuple).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class PacketKernelCases {
    static final int HTTP_PORT = 80;
    static final int TCP_ECHO_PORT = 7;
    static final int MB10 = 10_000_000;

    private PacketKernelLab lab;
    private HttpService http;
    private TcpEchoService tcpEcho;
    private long hopsBefore;

    /** Number of netisr cores (and AF_PACKET sockets). */
    abstract int cores();

    /** How the kernel spreads frames over the sockets. */
    abstract FanoutMode fanout();

    /**
     * Whether the kernel's veth end keeps its default offloads (true: partial checksums and GSO
     * super-frames reach the stack) or has tx-checksumming and TSO off (false: wire-like frames).
     */
    boolean peerOffloads() {
        return true;
    }

    @BeforeAll
    void startLab() {
        lab = peerOffloads() ? PacketKernelLab.start(cores(), fanout())
                : PacketKernelLab.startWireLike(cores(), fanout());
        http = new HttpService(lab.stack(), HTTP_PORT);
        tcpEcho = new TcpEchoService(lab.stack(), TCP_ECHO_PORT);
    }

    @AfterEach
    void stackStaysHealthy() {
        lab.assertHealthy();
        if (fanout() == FanoutMode.TOEPLITZ) {
            // fragments are steered by (src, dst) and reassembled there; the whole datagram then
            // moves to the owner of its 4-tuple (DESIGN.md), which counts as a hop: nothing else may
            long hops = lab.total(Stat.HOP_OUT);
            long reassembled = lab.total(Stat.FRAG_REASSEMBLED);
            assertTrue(hops <= reassembled, () -> hops + " hops for " + reassembled + " reassembled datagrams: "
                    + "frames hopped between cores although the kernel steers by the stack's hash\n" + lab.report());
        }
    }

    @AfterAll
    void stopLab() {
        try {
            for (AutoCloseable c : new AutoCloseable[] {http, tcpEcho}) {
                if (c != null) {
                    c.close();
                }
            }
        } catch (Exception e) {
            throw new IllegalStateException("closing the services failed", e);
        } finally {
            PacketKernelLab.finish(lab);
            lab = null;
            http = null;
            tcpEcho = null;
        }
    }

    private static final Pattern NEIGH_STATE = Pattern.compile("\\b(REACHABLE|STALE|DELAY)\\b");

    /**
     * A single queue joins no fanout group (the group's hook and steering program would run for
     * every frame to pick the only member); two or more all join the NIC's one group, whose id
     * the kernel reports for every socket ({@code getsockopt PACKET_FANOUT}).
     */
    @Test
    void socketsJoinAFanoutGroupOnlyWhenThereAreSeveral() {
        PacketNic nic = lab.nic();
        int group = nic.fanoutGroup();
        for (int i = 0; i < nic.queueCount(); i++) {
            int joined = Packet.fanout(nic.queue(i).fd());
            if (cores() == 1) {
                assertEquals(0, joined, "queue " + i + " of a one-queue NIC is in fanout group " + joined);
            } else {
                assertEquals(group, joined & 0xffff, "queue " + i + "'s fanout group");
            }
        }
        if (cores() == 1) {
            assertEquals(0, group);
            assertFalse(nic.steering(), "a single queue has no steering table");
        } else {
            assertTrue(group != 0, "the kernel assigned a group id");
        }
    }

    @Test
    void kernelResolvesTheStackMacByArp() {
        lab.execOk("ip", "neigh", "flush", "dev", lab.kernelEnd());
        long replies = lab.total(Stat.ARP_OUT_REPLY);
        Result ping = lab.exec(Duration.ofSeconds(20), null, "ping", "-n", "-c", "1", "-W", "2", "-w", "10", STACK_IP);
        assertEquals(1, pingReceived(ping), () -> ping + "\n" + lab.report());
        lab.await("an ARP reply", () -> lab.total(Stat.ARP_OUT_REPLY) > replies, Duration.ofSeconds(5));
        Result neigh = lab.execOk("ip", "neigh", "show", STACK_IP, "dev", lab.kernelEnd());
        assertTrue(neigh.stdout().contains("lladdr " + KernelLab.STACK_MAC_TEXT), () -> "neighbour entry: " + neigh);
        assertTrue(NEIGH_STATE.matcher(neigh.stdout()).find(), () -> "neighbour state: " + neigh);
    }

    @Test
    void pingTwentyWithoutLoss() {
        String pattern = KernelLab.hex(8);
        long replies = lab.total(Stat.ICMP_OUT_ECHO_REPLY);
        Result r = lab.exec(Duration.ofSeconds(30), null, "ping", "-n", "-c", "20", "-i", "0.05", "-p", pattern,
                "-W", "2", "-w", "20", STACK_IP);
        System.out.println("ping over AF_PACKET, " + cores() + " core(s), fanout " + fanout().cliName() + ":\n"
                + r.stdout());
        KernelLab.assertAllAnswered(r, 20, lab::report);
        assertTrue(r.stdout().contains(" 0% packet loss"), r::toString);
        assertFalse(r.stdout().contains("wrong data"), () -> "echoed payload differs: " + r);
        assertFalse(r.stdout().contains("DUP!"), () -> "duplicate replies: " + r);
        assertEquals(0, r.exit(), r::toString);
        assertTrue(lab.total(Stat.ICMP_OUT_ECHO_REPLY) - replies >= 20, lab::report);
    }

    @Test
    void pingFragmentedBothWays() {
        long reassembled = lab.total(Stat.FRAG_REASSEMBLED);
        Result r = lab.exec(Duration.ofSeconds(30), null, "ping", "-n", "-c", "5", "-s", "4000", "-i", "0.05",
                "-W", "2", "-w", "20", STACK_IP);
        KernelLab.assertAllAnswered(r, 5, lab::report);
        assertFalse(r.stdout().contains("wrong data"), () -> "echoed payload differs: " + r);
        assertEquals(0, r.exit(), r::toString);
        assertTrue(lab.total(Stat.FRAG_REASSEMBLED) - reassembled >= 5, lab::report);
    }

    @ParameterizedTest(name = "{0} bytes")
    @ValueSource(ints = {1, 1472, 8000})
    void udpEchoThroughSocat(int size) {
        byte[] payload = new byte[size];
        ThreadLocalRandom.current().nextBytes(payload);
        long echoed = lab.echo().echoed();
        byte[] back = lab.udpExchange(STACK_IP, 7, payload);
        assertEquals(sha256(payload) + " (" + size + " bytes)", sha256(back) + " (" + back.length + " bytes)",
                () -> "echoed datagram differs\n" + lab.report());
        assertArrayEquals(payload, back);
        assertTrue(lab.echo().echoed() > echoed, "the echo service counted the datagram");
    }

    @Test
    @Timeout(90)
    void curlDownloadsTenMegabytesIntact() {
        String expected = KernelTcpCases.patternSha256(MB10);
        String url = "http://" + STACK_IP + ":" + HTTP_PORT + "/bytes/" + MB10;
        Result r = lab.shell(Duration.ofSeconds(60), "curl -sS --max-time 50 -o - -w '%{stderr}%{http_code} "
                + "%{size_download} %{speed_download}\\n' " + url + " | sha256sum");
        assertEquals(0, r.exit(), () -> r + "\n" + lab.report());
        String[] lines = r.stderr().strip().split("\n");
        String[] stats = lines[lines.length - 1].split(" ");
        assertEquals(3, stats.length, () -> "curl statistics: " + r);
        assertEquals("200", stats[0], () -> "HTTP status: " + r);
        assertEquals(Integer.toString(MB10), stats[1], () -> "bytes downloaded: " + r + "\n" + lab.report());
        assertEquals(expected, r.stdout().strip().split("\\s+")[0], () -> "SHA-256 of the body\n" + r);
        System.out.printf("curl 10 MB over AF_PACKET, %d core(s), fanout %s: %.1f MB/s%n", cores(),
                fanout().cliName(), Double.parseDouble(stats[2]) / 1e6);
    }

    @Test
    @Timeout(90)
    void tcpEchoOfFourMegabytesBothWaysAtOnce() {
        byte[] data = new byte[4_000_000];
        new SplittableRandom(cores() * 31L + fanout().ordinal()).nextBytes(data);
        Path in = lab.tempFile(data);
        long partial = lab.sumQueues(q -> q.rxRing().csumNotReady());
        long superFrames = lab.sumQueues(q -> q.rxRing().copied());
        long sentSuper = lab.total(Stat.TX_SUPER_FRAMES);
        // socat sends the file and half-closes; the echo service returns every byte, then closes
        Result r = lab.exec(Duration.ofSeconds(60), in, "socat", "-t", "30", "-T", "30", "-",
                "TCP:" + STACK_IP + ":" + TCP_ECHO_PORT);
        assertEquals(0, r.exit(), () -> "socat: exit " + r.exit() + " " + r.stderr() + "\n" + lab.report());
        assertEquals(sha256(data) + " (" + data.length + " bytes)",
                sha256(r.stdoutBytes()) + " (" + r.stdoutBytes().length + " bytes)",
                () -> "echoed stream differs\n" + lab.report());
        if (peerOffloads()) {
            // the kernel's default offloads were really in play: its segments came with partial
            // checksums, and TSO/GSO handed the stack super-frames (read whole, TP_STATUS_COPY)
            assertTrue(lab.sumQueues(q -> q.rxRing().csumNotReady()) > partial, lab::report);
            assertTrue(lab.sumQueues(q -> q.rxRing().copied()) > superFrames, lab::report);
            // and the stack's echo left as super-frames that the kernel segmented (PACKET_VNET_HDR)
            assertTrue(lab.total(Stat.TX_SUPER_FRAMES) > sentSuper, lab::report);
        } else {
            assertEquals(sentSuper, lab.total(Stat.TX_SUPER_FRAMES), lab::report);
        }
    }

    /**
     * wrk against the HTTP service for 2 s on one connection: every request answered, no socket
     * error (with the peer's default offloads its requests carry partial checksums).
     */
    @Test
    @Timeout(60)
    void wrkKeepAliveWithoutErrors() {
        Result r = lab.exec(Duration.ofSeconds(30), null, "wrk", "-t1", "-c1", "-d2", "--latency",
                "http://" + STACK_IP + ":" + HTTP_PORT + "/");
        assertEquals(0, r.exit(), () -> "wrk: " + r + "\n" + lab.report());
        assertFalse(r.stdout().contains("Socket errors"), () -> "wrk: " + r + "\n" + lab.report());
        assertFalse(r.stdout().contains("Non-2xx"), () -> "wrk: " + r);
        System.out.println("wrk -t1 -c1 over AF_PACKET, " + cores() + " core(s), fanout " + fanout().cliName()
                + ", peer offloads " + (peerOffloads() ? "default" : "off") + ":\n" + r.stdout());
    }

    /**
     * The interface going down and up again: the sockets get ENETDOWN as a pending error, which
     * makes poll() return at once until it is read; the netisrs must still sleep (not spin)
     * while the link is down, and traffic must flow again once it is up, still steered to the
     * right cores (the fanout group re-links its members in socket order).
     */
    @Test
    @Timeout(60)
    void linkDownAndUpAgain() {
        Result before = lab.exec(Duration.ofSeconds(20), null, "ping", "-n", "-c", "2", "-i", "0.2", "-w", "10",
                STACK_IP);
        KernelLab.assertAllAnswered(before, 2, lab::report);
        long errors = lab.sumQueues(q -> q.socketErrors());
        try {
            lab.host("ip", "link", "set", lab.stackEnd(), "down");
            LockSupport.parkNanos(300_000_000L); // the netisrs notice and go to sleep
            long cpu = netisrCpuNanos();
            long wall = System.nanoTime();
            LockSupport.parkNanos(1_500_000_000L);
            double busy = (double) (netisrCpuNanos() - cpu) / (System.nanoTime() - wall);
            assertTrue(busy < 0.3, () -> String.format("netisrs busy %.0f %% of a CPU while the link is down%n%s",
                    busy * 100, lab.report()));
        } finally {
            lab.host("ip", "link", "set", lab.stackEnd(), "up");
        }
        assertTrue(lab.sumQueues(q -> q.socketErrors()) > errors, "ENETDOWN was read from the sockets");
        Result after = lab.exec(Duration.ofSeconds(30), null, "ping", "-n", "-c", "3", "-i", "0.2", "-W", "2", "-w",
                "20", STACK_IP);
        KernelLab.assertAllAnswered(after, 3, lab::report);
        curlDownloadsTenMegabytesIntact();
    }

    /** CPU time of this JVM's netisr threads. */
    private static long netisrCpuNanos() {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        long t = 0;
        int found = 0;
        for (Thread th : Thread.getAllStackTraces().keySet()) {
            if (th.getName().startsWith("netisr-")) {
                t += Math.max(0, mx.getThreadCpuTime(th.threadId()));
                found++;
            }
        }
        assertTrue(found > 0, "no netisr thread found by name");
        return t;
    }

    static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
