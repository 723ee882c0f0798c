package io.flowstack.tests;

import static io.flowstack.tests.ImpairedKernelLab.STACK_IP;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.percore.Ownership;
import io.flowstack.core.stats.Stat;
import io.flowstack.services.TcpEchoService;
import io.flowstack.nic.impair.ImpairmentSpec;
import io.flowstack.tests.ImpairedKernelLab.Impairments;
import io.flowstack.tests.NamespaceLab.Result;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * TCP through a faulty wire (issue 3, point 7): the stack's TAP is wrapped in an
 * {@link io.flowstack.nic.impair.ImpairedNic} with one netem-like profile per test, in both
 * directions, and the Linux kernel streams {@value #BYTES} bytes of seeded random data to the
 * stack's TCP echo service while reading the echo back on another thread. For every profile the
 * test asserts that the data came back intact (SHA-256 of what the kernel sent, what the echo
 * server received and what the kernel got back) within the profile's stated time bound, that the
 * impairment really happened (its counters), and prints the stack's retransmission counters and
 * the impairment counters. Each profile gets a fresh namespace and stack, so its counters are its
 * own.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class KernelFaultCases {
    /** Bytes streamed through the echo service per profile: 50 MB. */
    static final int BYTES = 50_000_000;
    static final int ECHO_PORT = 7;

    /**
     * Streams argv[3] bytes of random.Random(argv[4]) data to argv[1]:argv[2] on one thread and
     * reads the echo on another (the main one) until end of stream; argv[5] is the socket
     * timeout of each operation in seconds. Prints key=value lines: progress every 5 MB received
     * (flushed, so a killed run still shows how far it got), then the SHA-256 of sent and
     * received data, the byte counts and the elapsed time from connect to end of stream.
     */
    private static final String CLIENT_PY = String.join("\n",
            "import hashlib, random, socket, sys, threading, time",
            "host, port, size, seed, optimeout = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])",
            "data = random.Random(seed).randbytes(size)",
            "sent_sha = hashlib.sha256(data).hexdigest()",
            "t0 = time.monotonic()",
            "s = socket.create_connection((host, port), timeout=optimeout)",
            "t_conn = time.monotonic()",
            "errors = []",
            "sent = [0]",
            "def sender():",
            "    try:",
            "        mv = memoryview(data)",
            "        for i in range(0, size, 65536):",
            "            s.sendall(mv[i:i + 65536])",
            "            sent[0] += len(mv[i:i + 65536])",
            "        s.shutdown(socket.SHUT_WR)",
            "    except Exception as e:",
            "        errors.append('send: ' + repr(e))",
            "th = threading.Thread(target=sender)",
            "th.start()",
            "h = hashlib.sha256()",
            "got = 0",
            "try:",
            "    while True:",
            "        b = s.recv(262144)",
            "        if not b:",
            "            break",
            "        h.update(b)",
            "        if (got + len(b)) // 5000000 > got // 5000000:",
            "            print('progress=%d bytes at %.1f s' % (got + len(b), time.monotonic() - t0), flush=True)",
            "        got += len(b)",
            "except Exception as e:",
            "    errors.append('recv: ' + repr(e))",
            "t1 = time.monotonic()",
            "th.join()",
            "s.close()",
            "print('sent_sha=' + sent_sha)",
            "print('recv_sha=' + h.hexdigest())",
            "print('sent=%d' % sent[0])",
            "print('received=%d' % got)",
            "print('connect_s=%.3f' % (t_conn - t0))",
            "print('elapsed_s=%.3f' % (t1 - t0))",
            "print('errors=' + ';'.join(errors))",
            "sys.exit(1 if errors else 0)");

    /**
     * One impairment profile and the time the 50 MB echo (50 MB each way) may take at most. The
     * bounds are what a TCP with SACK-based loss recovery should reach with a wide margin on the
     * sub-millisecond TAP link of a 2-core test machine (for scale: the kernel alone pushes 50 MB
     * to the stack in about 1 s even at 5% loss both ways).
     */
    record Profile(String name, String spec, int boundSeconds) {
        ImpairmentSpec impairment() {
            return ImpairmentSpec.parse(spec);
        }

        @Override
        public String toString() {
            return name + " [" + spec + "] <= " + boundSeconds + " s";
        }
    }

    /*
     * Measured (seconds for the 50 MB echo each way; stack retransmits / fast / RTO), 1 and 2
     * cores, at the commit that added Eifel undo (earlier figures in git history: loss 5% took
     * 72-89 s and 20 +- 10 ms jitter did not finish 30 MB in 120 s before Limited Transmit,
     * SACK-guided recovery after a timeout, tail loss probes and Eifel undo):
     * loss 1% 4.8 / 6.4 (404/313/2); loss 5% 43.7 / 38.9 (2087/1121/102); reorder 25% delay 5 ms
     * 8.0 (78/3/0); duplication 2% 0.7 / 0.9; corruption 1% 6.5 / 7.1 (389/315/3); delay 20 ms
     * jitter 10 ms 34.4 / 20.5 (29/4/0). The bounds leave room for a slower or busier machine:
     * with the 2 CPUs shared by four other builds, loss 5% took 70.5 s on 2 cores (121 RTOs, each
     * at least the 200 ms minimum), hence its 75 s.
     */

    /** Every profile of issue 3 point 7: they run in every build. */
    static final List<Profile> PROFILES = List.of(
            new Profile("loss 1%", "loss=1%,seed=101,dir=both", 30),
            new Profile("loss 5%", "loss=5%,seed=105,dir=both", 75),
            new Profile("reorder 25% delay 5ms", "reorder=25%,delay=5ms,seed=125,dir=both", 60),
            new Profile("duplication 2%", "dup=2%,seed=102,dir=both", 30),
            new Profile("corruption 1%", "corrupt=1%,seed=201,dir=both", 30),
            new Profile("delay 20ms jitter 10ms", "delay=20ms,jitter=10ms,seed=220,dir=both", 120));

    private final List<String> summary = new ArrayList<>();
    /** INTERNAL_ERROR totals of the stacks of this class's profiles. */
    private long internalErrors;

    /** Number of netisr cores (and TAP queues). */
    abstract int cores();

    /** The profiles this subclass runs. */
    abstract List<Profile> profiles();

    /**
     * The profiles to run: {@link #profiles()}, or only those whose name contains one of the
     * comma-separated words of the system property {@code flowstack.fault.profiles} (e.g.
     * {@code -Dflowstack.fault.profiles=loss,jitter}), to rerun one while debugging.
     */
    Stream<Arguments> profileArguments() {
        String only = System.getProperty("flowstack.fault.profiles", "").strip();
        return profiles().stream()
                .filter(p -> only.isEmpty() || Stream.of(only.split(",")).anyMatch(w -> p.name().contains(w.strip())))
                .map(Arguments::of);
    }

    @AfterAll
    void printSummary() {
        System.out.println("fault profiles, " + cores() + " core(s), " + BYTES + " bytes echoed each:");
        summary.forEach(System.out::println);
        assertEquals(0, internalErrors, "internal errors in the stacks of this class");
        assertEquals(0, Ownership.violations(), "ownership violations");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("profileArguments")
    @Timeout(180) // backstop above the longest bound (120 s) plus the client's 20 s grace and set-up
    void fiftyMegabytesEchoIntact(Profile profile) {
        try (ImpairedKernelLab lab = ImpairedKernelLab.start(cores(), profile.impairment(), UnaryOperator.identity())) {
            TcpEchoService echo = lab.service(s -> new TcpEchoService(s, ECHO_PORT));
            long seed = profile.impairment().seed();
            long kernelCsumBefore = lab.kernelCounter("Tcp", "InCsumErrors");
            long kernelIpHdrBefore = lab.kernelCounter("Ip", "InHdrErrors");
            long kernelRetransBefore = lab.kernelCounter("Tcp", "RetransSegs");
            long kernelRtoBefore = lab.kernelCounter("TcpExt", "TCPTimeouts");
            long t0 = System.nanoTime();
            Result r = lab.exec(Duration.ofSeconds(profile.boundSeconds() + 20), null, "python3", "-c", CLIENT_PY,
                    STACK_IP, Integer.toString(ECHO_PORT), Integer.toString(BYTES), Long.toString(seed), "30");
            double wall = (System.nanoTime() - t0) / 1e9;
            Map<String, String> out = parse(r.stdout());
            Impairments imp = lab.impairments();
            long kernelCsum = lab.kernelCounter("Tcp", "InCsumErrors") - kernelCsumBefore;
            long kernelIpHdr = lab.kernelCounter("Ip", "InHdrErrors") - kernelIpHdrBefore;
            long kernelRetrans = lab.kernelCounter("Tcp", "RetransSegs") - kernelRetransBefore;
            long kernelRto = lab.kernelCounter("TcpExt", "TCPTimeouts") - kernelRtoBefore;
            String took = out.containsKey("elapsed_s") ? out.get("elapsed_s") + " s"
                    : "not done (client killed; echoed " + out.getOrDefault("progress", "under 5 MB") + ")";
            String figures = String.format(Locale.ROOT,
                    "  %-24s %d core(s): %s (bound %d s, wall %.1f s); retransmits %d, fast %d, rto %d,"
                            + " dup acks %d, ooo %d; kernel retransmits %d, rto %d;%n"
                            + "  %-24s checksum drops: stack ip %d tcp %d, kernel tcp %d ip hdr %d%n"
                            + "  %-24s impairment: %s",
                    profile.name(), cores(), took, profile.boundSeconds(), wall,
                    lab.total(Stat.TCP_RETRANSMITS), lab.total(Stat.TCP_FAST_RETRANSMITS), lab.total(Stat.TCP_RTO),
                    lab.total(Stat.TCP_DUP_ACKS), lab.total(Stat.TCP_OOO_SEGMENTS), kernelRetrans, kernelRto,
                    "", lab.total(Stat.IP_BAD_CHECKSUM), lab.total(Stat.TCP_BAD_CHECKSUM), kernelCsum, kernelIpHdr,
                    "", imp);
            summary.add(figures);
            System.out.println(figures);
            System.out.println(lab.report());

            internalErrors += lab.total(Stat.INTERNAL_ERROR);
            String context = "\n" + r + "\n" + figures + "\nconnections accepted by the echo service "
                    + echo.accepted() + "\n" + lab.report();
            double elapsed = out.containsKey("elapsed_s") ? Double.parseDouble(out.get("elapsed_s")) : Double.NaN;
            // every group is checked and reported, so a slow run still says whether the data was intact
            assertAll(profile.toString(),
                    () -> {
                        assertTrue(!r.timedOut(), () -> "50 MB not echoed within " + (profile.boundSeconds() + 20)
                                + " s (bound " + profile.boundSeconds() + " s + 20 s grace): client killed" + context);
                        assertEquals(0, r.exit(), () -> "echo client failed" + context);
                        assertEquals(out.get("sent_sha"), out.get("recv_sha"), () -> "echoed data differs" + context);
                        assertEquals(Integer.toString(BYTES), out.get("received"), () -> "bytes echoed" + context);
                        assertEquals(1, echo.accepted(), () -> "one echo connection" + context);
                    },
                    () -> assertTrue(elapsed <= profile.boundSeconds(),
                            () -> "50 MB echo: " + took + ", bound " + profile.boundSeconds() + " s" + context),
                    () -> assertImpaired(profile.impairment(), imp, lab, kernelCsum + kernelIpHdr, context),
                    lab::assertHealthy);
        }
    }

    /** The profile's impairments really happened, and corrupted frames died at a checksum. */
    private static void assertImpaired(ImpairmentSpec spec, Impairments imp, ImpairedKernelLab lab,
                                       long kernelChecksumDrops, String context) {
        if (spec.loss() > 0) {
            assertTrue(imp.rxDropped() > 0 && imp.txDropped() > 0, () -> "frames lost both ways" + context);
            assertTrue(lab.total(Stat.TCP_RETRANSMITS) > 0, () -> "the stack retransmitted" + context);
        }
        if (spec.duplicate() > 0) {
            assertTrue(imp.rxDuplicated() > 0 && imp.txDuplicated() > 0, () -> "frames duplicated" + context);
        }
        if (spec.delays()) {
            assertTrue(imp.rxDelayed() > 0 && imp.txDelayed() > 0, () -> "frames delayed" + context);
        }
        if (spec.corrupt() > 0) {
            assertTrue(imp.rxCorrupted() > 0 && imp.txCorrupted() > 0, () -> "frames corrupted" + context);
            long stackDrops = lab.total(Stat.IP_BAD_CHECKSUM) + lab.total(Stat.TCP_BAD_CHECKSUM)
                    + lab.total(Stat.UDP_BAD_CHECKSUM) + lab.total(Stat.ICMP_BAD_CHECKSUM);
            // a one-bit flip is always caught by the Internet checksum; it may be caught earlier
            // by a header check (version, IHL, length), so the checksum drops are at most the flips
            assertTrue(stackDrops > 0 && stackDrops <= imp.rxCorrupted(),
                    () -> "stack checksum drops " + stackDrops + " for " + imp.rxCorrupted() + " corrupted" + context);
            long headerDrops = lab.total(Stat.IP_BAD_VERSION) + lab.total(Stat.IP_BAD_IHL)
                    + lab.total(Stat.IP_BAD_LENGTH) + lab.total(Stat.TCP_BAD_OFFSET);
            assertTrue(stackDrops + headerDrops >= imp.rxCorrupted() * 9 / 10,
                    () -> "corrupted frames that got past the stack's checks: " + imp.rxCorrupted() + " corrupted, "
                            + stackDrops + " checksum + " + headerDrops + " header drops" + context);
            assertTrue(kernelChecksumDrops > 0, () -> "the kernel's checksums caught the TX flips" + context);
        }
    }

    private static Map<String, String> parse(String stdout) {
        Map<String, String> m = new HashMap<>();
        for (String line : stdout.split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                m.put(line.substring(0, eq).strip(), line.substring(eq + 1).strip());
            }
        }
        return m;
    }
}
