package io.flowstack.tests;

import static io.flowstack.tests.ImpairedKernelLab.STACK_IP;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.stats.Stat;
import io.flowstack.services.TcpEchoService;
import io.flowstack.tests.NamespaceLab.Background;
import io.flowstack.tests.NamespaceLab.Result;
import java.time.Duration;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * The stack under abuse from the Linux kernel's namespace (issue 3, point 8): bounded SYN floods
 * with hping3 (spoofed from an unanswered address inside 198.18.0.0/24, and from the kernel's
 * own address, which answers the SYN-ACKs with resets), during which a normal connection must
 * still get through within 2 s, the stack must stay within its connection budget and fall back
 * to SYN cookies; then nmap's SYN scan and OS detection. After each, the stack still serves
 * (ping and an echo round trip) with no internal error.
 *
 * <p>The stack runs with a SYN backlog of {@value #SYN_BACKLOG} per core, so that a flood fills
 * it, and {@value #SYN_RETRIES} SYN-ACK retransmissions (1 + 2 + 4 s), so that the half-open
 * connections of spoofed SYNs are gone about 7 s after the flood and the test can check that
 * they are. Echo services listen on port 80 (the flooded port) and 7. One stack per subclass
 * (core count), shared by its test methods; each method waits until the half-open connections
 * are gone, so none depends on another.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class KernelAbuseCases {
    static final int SYN_BACKLOG = 64;
    static final int SYN_RETRIES = 2;
    static final int FLOOD_PORT = 80;
    static final int ECHO_PORT = 7;
    /** SYNs per flood. */
    static final int FLOOD_COUNT = 20000;
    /** An address in the kernel's /24 that nobody answers ARP for: the spoofed SYNs' source. */
    static final String SPOOFED_SOURCE = "198.18.0.66";
    /** Bound of a normal connection (connect, 1000 bytes echoed) during a flood. */
    static final double NORMAL_CONNECTION_BOUND_SECONDS = 2.0;
    /** The connections the stack may hold per core beyond the SYN backlog (the probes, TIME_WAIT). */
    static final int CONNECTION_SLACK = 16;

    private static final String PROBE_PY = EchoProbe.PY;

    private ImpairedKernelLab lab;

    /** Number of netisr cores (and TAP queues). */
    abstract int cores();

    @BeforeAll
    void startLab() {
        lab = ImpairedKernelLab.start(cores(), null, b -> b.tcpSynBacklog(SYN_BACKLOG).tcpSynRetries(SYN_RETRIES));
        lab.service(s -> new TcpEchoService(s, FLOOD_PORT));
        lab.service(s -> new TcpEchoService(s, ECHO_PORT));
        lab.assertPing(1); // the neighbours know each other before the first flood
    }

    @AfterEach
    void stackStaysHealthy() {
        lab.assertHealthy();
    }

    @AfterAll
    void stopLab() {
        if (lab == null) {
            return;
        }
        try {
            System.out.println(lab.report());
            lab.assertHealthy();
        } finally {
            lab.close();
        }
    }

    @Test
    @Timeout(200) // backstop above the commands' own bounds (flood 60 s, probe 12 s, drain 20 s)
    void spoofedSynFloodFallsBackToCookiesAndServes() {
        synFlood("spoofed from " + SPOOFED_SOURCE, true, "-a", SPOOFED_SOURCE);
    }

    @Test
    @Timeout(200)
    void synFloodFromTheKernelAddressServes() {
        // the kernel answers every SYN-ACK with a reset: half-open connections die at once
        synFlood("from the kernel's address", false);
    }

    /**
     * {@code hping3 -S -p 80 -i u100 -c 20000} with source ports 20000..39999 ({@code -s},
     * incremented per SYN), plus {@code extra} options; a normal echo connection during the flood
     * must take less than 2 s; the connections per core stay within the SYN backlog (plus
     * slack); SYN cookies are sent if {@code cookiesExpected}; afterwards the half-open
     * connections time out, and the stack serves. A flood whose hping3 crashed
     * ({@link Hping3#crashed}) is run again once, after its half-open connections are gone.
     */
    private void synFlood(String what, boolean cookiesExpected, String... extra) {
        if (!synFloodOnce(what, cookiesExpected, true, extra)) {
            lab.await("half-open connections timing out", () -> max(lab.connectionsPerCore()) <= 2,
                    Duration.ofSeconds(20));
            synFloodOnce(what, cookiesExpected, false, extra);
        }
    }

    /** One flood of {@link #synFlood}; false when hping3 crashed and {@code mayRepeat}. */
    private boolean synFloodOnce(String what, boolean cookiesExpected, boolean mayRepeat, String... extra) {
        long heapBefore = StackLab.usedHeapAfterGc();
        Map<Stat, Long> before = snapshot();
        long connectionLimit = SYN_BACKLOG + CONNECTION_SLACK;
        String[] cmd = concat(new String[] {"timeout", "60", "hping3", "-q", "-S", "-p", Integer.toString(FLOOD_PORT),
                "-s", "20000", "-i", "u100", "-c", Integer.toString(FLOOD_COUNT)}, extra);
        cmd = concat(cmd, STACK_IP);
        // the normal client is started first and waits for a line: its exchange starts at once
        Background probe = lab.startBackground(true, "python3", "-c", PROBE_PY, STACK_IP,
                Integer.toString(FLOOD_PORT), "1000", Double.toString(NORMAL_CONNECTION_BOUND_SECONDS), "wait");
        Background flood = lab.startBackground(cmd);
        int maxConnections = 0;
        Result probed = null;
        long cookiesDuringProbe = 0;
        boolean floodAliveBefore = false;
        boolean floodAliveAfter = false;
        Throwable failed = null;
        try {
            // the flood is under way: the stack has seen a tenth of it
            lab.await("the flood reaching the stack",
                    () -> lab.total(Stat.TCP_IN) - before.get(Stat.TCP_IN) >= FLOOD_COUNT / 10, Duration.ofSeconds(20));
            if (cookiesExpected) {
                lab.await("SYN cookies (the backlog is full)",
                        () -> lab.total(Stat.TCP_SYN_COOKIES_SENT) > before.get(Stat.TCP_SYN_COOKIES_SENT),
                        Duration.ofSeconds(10));
            }
            maxConnections = Math.max(maxConnections, max(lab.connectionsPerCore()));
            long cookiesAtProbe = lab.total(Stat.TCP_SYN_COOKIES_SENT);
            floodAliveBefore = flood.alive();
            probe.sendLine("go");
            probed = probe.finish(Duration.ofSeconds((long) NORMAL_CONNECTION_BOUND_SECONDS + 10));
            floodAliveAfter = flood.alive();
            cookiesDuringProbe = lab.total(Stat.TCP_SYN_COOKIES_SENT) - cookiesAtProbe;
            maxConnections = Math.max(maxConnections, max(lab.connectionsPerCore()));
        } catch (RuntimeException | Error e) {
            failed = e;
        }
        Result done = flood.finish(Duration.ofSeconds(70));
        System.out.println("SYN flood " + what + ", " + cores() + " core(s):\n" + done);
        if (mayRepeat && Hping3.crashed(done)) {
            probe.finish(Duration.ofSeconds(5));
            System.out.println("hping3 crashed (see Hping3): the flood is repeated" + (failed == null ? ""
                    : "; what failed meanwhile: " + failed));
            return false;
        }
        if (failed instanceof RuntimeException e) {
            throw e;
        } else if (failed instanceof Error e) {
            throw e;
        }
        // hping3 exits 1 when no reply came back (the spoofed flood's replies go elsewhere)
        assertTrue(!done.timedOut() && (done.exit() == 0 || done.exit() == 1),
                () -> "hping3\n" + done + "\n" + lab.report());
        // hping3 stops once it has counted -c replies, so its sent count may end a few short
        Matcher sent = Pattern.compile("(\\d+) packets transmitted").matcher(done.stderr());
        assertTrue(sent.find() && Integer.parseInt(sent.group(1)) >= FLOOD_COUNT - 10, done::toString);
        maxConnections = Math.max(maxConnections, max(lab.connectionsPerCore()));
        String figures = String.format(Locale.ROOT,
                "SYN flood %s, %d core(s): normal connection %s (flood running before %s, after %s); TCP segments in"
                        + " %d; SYN cookies sent %d (%d during the normal connection), connections from a cookie %d;"
                        + " max connections per core %d (limit %d); RST in %d; listen overflow %d; ARP queue full %d",
                what, cores(), probed.stdout().strip(), floodAliveBefore, floodAliveAfter, delta(before, Stat.TCP_IN),
                delta(before, Stat.TCP_SYN_COOKIES_SENT), cookiesDuringProbe, delta(before, Stat.TCP_SYN_COOKIES_OK),
                maxConnections, connectionLimit, delta(before, Stat.TCP_RST_IN), delta(before, Stat.TCP_LISTEN_OVERFLOW),
                delta(before, Stat.ARP_QUEUE_FULL));
        System.out.println(figures);
        String context = "\n" + figures + "\n" + probed + "\n" + lab.report();
        assertTrue(floodAliveBefore && floodAliveAfter, () -> "the normal connection ran during the flood" + context);
        assertEquals(0, probed.exit(), () -> "normal connection during the flood" + context);
        assertTrue(probed.stdout().startsWith("ok "), () -> "normal connection during the flood" + context);
        double seconds = Double.parseDouble(probed.stdout().strip().split(" ")[1]);
        assertTrue(seconds < NORMAL_CONNECTION_BOUND_SECONDS, () -> "normal connection took " + seconds + " s" + context);
        int maxSeen = maxConnections;
        assertTrue(maxSeen <= connectionLimit, () -> "connections per core " + maxSeen + " > " + connectionLimit + context);
        if (cookiesExpected) {
            // the spoofed SYNs never complete: the one connection from a cookie is the normal one,
            // whose SYN found the backlog full
            assertTrue(delta(before, Stat.TCP_SYN_COOKIES_SENT) > 0, () -> "SYN cookies sent" + context);
            assertEquals(1, delta(before, Stat.TCP_SYN_COOKIES_OK), () -> "the normal connection came from a cookie"
                    + context);
        }
        // half-open connections of the flood time out (SYN-ACK at 0, 1, 3 s, dropped at 7 s)
        lab.await("half-open connections timing out", () -> max(lab.connectionsPerCore()) <= 2,
                Duration.ofSeconds(20));
        long heapGrowth = StackLab.usedHeapAfterGc() - heapBefore;
        System.out.println("heap growth after the flood " + (heapGrowth >> 10) + " KiB");
        assertTrue(heapGrowth < 64L << 20, () -> "heap grew by " + (heapGrowth >> 20) + " MiB" + context);
        assertServes();        return true;
    }

    private Map<Stat, Long> snapshot() {
        Map<Stat, Long> m = new EnumMap<>(Stat.class);
        for (Stat s : Stat.values()) {
            m.put(s, lab.total(s));
        }
        return m;
    }

    private long delta(Map<Stat, Long> before, Stat s) {
        return lab.total(s) - before.get(s);
    }

    @Test
    @Timeout(300) // backstop above the commands' own bounds (75 s + 135 s, drain 20 s, pings and probes)
    void nmapSynScanAndOsDetection() {
        long noSocketBefore = lab.total(Stat.TCP_NO_SOCKET);
        Result scan = lab.exec(Duration.ofSeconds(75), null, "nmap", "-sS", "-n", "-p", "1-1000", "--max-retries",
                "2", "--host-timeout", "60s", STACK_IP);
        System.out.println("nmap SYN scan, " + cores() + " core(s):\n" + scan.stdout());
        String context = "\n" + scan + "\n" + lab.report();
        assertEquals(0, scan.exit(), () -> "nmap -sS" + context);
        assertTrue(scan.stdout().contains("1 IP address (1 host up)"), () -> "host up" + context);
        assertTrue(Pattern.compile("(?m)^7/tcp\\s+open\\b").matcher(scan.stdout()).find(), () -> "7 open" + context);
        assertTrue(Pattern.compile("(?m)^80/tcp\\s+open\\b").matcher(scan.stdout()).find(), () -> "80 open" + context);
        // every other port answers SYN with RST: closed, none filtered (RFC 9293 3.10.7.1)
        assertTrue(scan.stdout().contains("Not shown: 998 closed tcp ports (reset)"), () -> "998 closed" + context);
        assertTrue(lab.total(Stat.TCP_NO_SOCKET) - noSocketBefore >= 998, () -> "resets for closed ports" + context);
        assertServes();

        // closed ports answer at most 200 RSTs a second per core (issue 13 point 9): nmap takes the
        // unanswered probes for loss and slows down; 10-25 s here, over 60 s once on a loaded machine
        Result os = lab.exec(Duration.ofSeconds(135), null, "nmap", "-O", "-n", "--max-retries", "2",
                "--host-timeout", "120s", STACK_IP);
        System.out.println("nmap OS detection, " + cores() + " core(s):\n" + os.stdout());
        String osContext = "\n" + os + "\n" + lab.report();
        assertEquals(0, os.exit(), () -> "nmap -O" + osContext);
        assertTrue(os.stdout().contains("1 IP address (1 host up)"), () -> "host up" + osContext);
        assertTrue(!os.stdout().contains("Skipping host") && !os.stdout().contains("timed out"),
                () -> "nmap -O did not finish within its host timeout" + osContext);
        lab.await("connections of the scans gone", () -> max(lab.connectionsPerCore()) <= 2, Duration.ofSeconds(20));
        assertServes();
    }

    /** Ping and an echo round trip of 100 kB on port 7, each answered in time. */
    private void assertServes() {
        lab.assertPing(3);
        Result r = probe(ECHO_PORT, 100_000, 5);
        assertEquals(0, r.exit(), () -> "echo round trip\n" + r + "\n" + lab.report());
        assertTrue(r.stdout().startsWith("ok "), () -> "echo round trip\n" + r + "\n" + lab.report());
        lab.assertHealthy();
    }

    private Result probe(int port, int bytes, double limitSeconds) {
        return lab.exec(Duration.ofSeconds((long) limitSeconds + 10), null, "python3", "-c", PROBE_PY, STACK_IP,
                Integer.toString(port), Integer.toString(bytes), Double.toString(limitSeconds));
    }

    private static int max(int[] values) {
        return Arrays.stream(values).max().orElse(0);
    }

    private static String[] concat(String[] a, String... b) {
        String[] r = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

}
