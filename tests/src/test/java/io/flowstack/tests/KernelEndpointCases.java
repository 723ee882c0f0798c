package io.flowstack.tests;

import static io.flowstack.tests.KernelLab.STACK_IP;
import static io.flowstack.tests.KernelLab.pingReceived;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.stats.Stat;
import io.flowstack.tests.NamespaceLab.Result;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The stack as an endpoint for the Linux kernel on the far side of a TAP (issue 2, point 9):
 * ARP, ping (plain, fragmented both ways, flood), UDP echo through socat and ICMP port
 * unreachable. One stack per subclass (core count), shared by its test methods; every method
 * measures counter deltas, so none depends on another or on the order.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class KernelEndpointCases {
    private KernelLab lab;

    /** Number of netisr cores (and TAP queues). */
    abstract int cores();

    @BeforeAll
    void startLab() {
        lab = KernelLab.start(cores());
    }

    @AfterEach
    void stackStaysHealthy() {
        lab.assertHealthy();
    }

    @AfterAll
    void stopLab() {
        KernelLab.finish(lab);
    }

    private static String pattern() {
        return KernelLab.hex(8); // 16 hex digits: ping's maximum pad pattern
    }

    private static final Pattern NEIGH_STATE = Pattern.compile("\\b(REACHABLE|STALE|DELAY)\\b");

    @Test
    void kernelResolvesTheStackMacByArp() {
        lab.execOk("ip", "neigh", "flush", "dev", lab.tap());
        long replies = lab.total(Stat.ARP_OUT_REPLY);
        Result ping = lab.exec(Duration.ofSeconds(20), null, "ping", "-n", "-c", "1", "-W", "2", "-w", "10", STACK_IP);
        assertEquals(1, pingReceived(ping), () -> ping + "\n" + lab.report());
        lab.awaitTotal(Stat.ARP_OUT_REPLY, replies + 1, Duration.ofSeconds(5));
        Result neigh = lab.execOk("ip", "neigh", "show", STACK_IP, "dev", lab.tap());
        assertTrue(neigh.stdout().contains("lladdr " + KernelLab.STACK_MAC_TEXT), () -> "neighbour entry: " + neigh);
        assertTrue(NEIGH_STATE.matcher(neigh.stdout()).find(), () -> "neighbour state: " + neigh);
    }

    @Test
    void pingTwentyWithPattern() {
        String pattern = pattern();
        long replies = lab.total(Stat.ICMP_OUT_ECHO_REPLY);
        Result r = lab.exec(Duration.ofSeconds(30), null, "ping", "-n", "-c", "20", "-i", "0.01", "-p", pattern,
                "-W", "2", "-w", "20", STACK_IP);
        KernelLab.assertAllAnswered(r, 20, lab::report);
        assertTrue(r.stdout().contains("PATTERN: 0x" + pattern), () -> "ping did not take the pattern: " + r);
        assertFalse(r.stdout().contains("wrong data"), () -> "echoed payload differs: " + r);
        assertFalse(r.stdout().contains("DUP!"), () -> "duplicate replies: " + r);
        assertEquals(0, r.exit(), r::toString);
        assertTrue(lab.total(Stat.ICMP_OUT_ECHO_REPLY) - replies >= 20, lab::report);
    }

    @Test
    void pingFragmentedBothWays() {
        String pattern = pattern();
        long reassembled = lab.total(Stat.FRAG_REASSEMBLED);
        long fragmentsOut = lab.total(Stat.IP_FRAGMENTS_OUT);
        Result r = lab.exec(Duration.ofSeconds(30), null, "ping", "-n", "-c", "5", "-s", "4000", "-i", "0.05",
                "-p", pattern, "-W", "2", "-w", "20", STACK_IP);
        KernelLab.assertAllAnswered(r, 5, lab::report);
        assertFalse(r.stdout().contains("wrong data"), () -> "echoed payload differs: " + r);
        assertFalse(r.stdout().contains("DUP!"), () -> "duplicate replies: " + r);
        assertEquals(0, r.exit(), r::toString);
        // 4008-byte ICMP message: 3 fragments each way at MTU 1500
        assertTrue(lab.total(Stat.FRAG_REASSEMBLED) - reassembled >= 5, lab::report);
        assertTrue(lab.total(Stat.IP_FRAGMENTS_OUT) - fragmentsOut >= 15, lab::report);
    }

    @Test
    void pingFloodBounded() {
        Result r = lab.exec(Duration.ofSeconds(90), null, "ping", "-n", "-q", "-f", "-c", "20000", "-w", "60", STACK_IP);
        System.out.println("ping flood, " + cores() + " core(s):\n" + r.stdout());
        KernelLab.assertAllAnswered(r, 20000, lab::report);
        assertTrue(r.stdout().contains(" 0% packet loss"), r::toString);
        assertFalse(r.stdout().contains("duplicates"), r::toString);
        assertFalse(r.stdout().contains("wrong data"), r::toString);
        assertEquals(0, r.exit(), r::toString);
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
    void closedUdpPortAnswersPortUnreachable() {
        long unreach = lab.total(Stat.ICMP_OUT_UNREACH);
        long noPort = lab.total(Stat.UDP_NO_PORT);
        String script = String.join("\n",
                "import socket",
                "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)",
                "s.settimeout(3)",
                "s.connect(('" + STACK_IP + "', 9999))",
                "s.send(b'flowstack')",
                "try:",
                "    s.recv(100)",
                "    print('DATA')",
                "except ConnectionRefusedError:",
                "    print('REFUSED')",
                "except socket.timeout:",
                "    print('TIMEOUT')");
        Result r = lab.exec(Duration.ofSeconds(20), null, "python3", "-c", script);
        assertEquals("REFUSED", r.stdout().strip(), () -> r + "\n" + lab.report());
        lab.awaitTotal(Stat.ICMP_OUT_UNREACH, unreach + 1, Duration.ofSeconds(5));
        assertTrue(lab.total(Stat.UDP_NO_PORT) > noPort, lab::report);
    }

    private static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
