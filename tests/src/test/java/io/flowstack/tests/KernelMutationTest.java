package io.flowstack.tests;

import static io.flowstack.tests.NamespaceLab.STACK_IP;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.stats.Stat;
import io.flowstack.nic.pcap.PcapReader;
import io.flowstack.services.HttpService;
import io.flowstack.services.TcpEchoService;
import io.flowstack.tests.NamespaceLab.Background;
import io.flowstack.tests.NamespaceLab.Result;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * Mutated frames from the kernel's side of the TAP (issue 13 point 11): the frames the kernel
 * sent to a running two-core endpoint during a short session (ARP, pings with and without
 * fragments, UDP echo, an HTTP download, a TCP echo, a SYN to a closed port) are recorded with
 * tcpdump, mutated by {@link FrameMutator} (seeded: {@code -Dflowstack.mutation.seed=N} repeats a
 * run) and written back into the TAP.
 *
 * <ul>
 *   <li><b>One at a time</b> ({@value #AUDITED} mutants): each must move some counter besides
 *       {@code rx_frames}/{@code rx_bytes} (a drop under its reason, a protocol's input count,
 *       a reply): no frame vanishes uncounted. A frame the kernel refuses to send is skipped.</li>
 *   <li><b>In bulk</b> ({@value #BULK} mutants, bounded by count and a 120 s deadline) while curl
 *       downloads {@value #DOWNLOAD} bytes: the download's SHA-256 is right.</li>
 *   <li><b>Afterwards</b> the stack answers ping, serves another download with the right SHA-256,
 *       and is healthy: no internal error, no ownership violation, no lost wake-up.</li>
 * </ul>
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class KernelMutationTest {
    static final int CORES = 2;
    static final int AUDITED = 3_000;
    static final int BULK = 100_000;
    static final int BULK_BATCH = 10_000;
    static final long DOWNLOAD = 20_000_000;
    static final int HTTP_PORT = 80;
    static final int ECHO_PORT = 7;
    static final long SEED = Long.getLong("flowstack.mutation.seed", 0x13_11_5EEDL);
    /** Counters that move before a frame's fate is decided (reception, a hop between cores). */
    private static final Set<Stat> NOT_A_FATE = EnumSet.of(Stat.RX_FRAMES, Stat.RX_BYTES, Stat.HOP_OUT, Stat.HOP_IN,
            Stat.MOVE_HELD);

    /**
     * Sends the hex frame of each stdin line on an AF_PACKET socket bound to the TAP (argv[1]) and
     * prints one line per frame: 0 if the kernel took it, else the errno (ENOBUFS retried 1 s).
     */
    private static final String INJECT_ONE_PY = String.join("\n",
            "import errno, socket, sys, time",
            "s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)",
            "s.bind((sys.argv[1], 0))",
            "for line in sys.stdin:",
            "    b = bytes.fromhex(line.strip())",
            "    err = 0",
            "    for attempt in range(1000):",
            "        try:",
            "            s.send(b)",
            "            err = 0",
            "            break",
            "        except OSError as e:",
            "            err = e.errno",
            "            if e.errno != errno.ENOBUFS:",
            "                break",
            "            time.sleep(0.001)",
            "    print(err, flush=True)");

    private KernelLab lab;

    @BeforeAll
    void startLab() {
        lab = KernelLab.start(CORES);
        lab.service(s -> new HttpService(s, HTTP_PORT));
        lab.service(s -> new TcpEchoService(s, ECHO_PORT));
        lab.assertPing(1);
    }

    @AfterAll
    void stopLab() {
        KernelLab.finish(lab);
    }

    @Test
    @Timeout(400)
    void mutatedFramesAreCountedAndTheStackStillServes() throws Exception {
        List<byte[]> seeds = record();
        FrameMutator mutator = new FrameMutator(seeds, SEED);
        Map<Stat, Long> start = lab.snapshot();

        // one at a time: every frame's fate is counted
        List<String> silent = new ArrayList<>();
        int refused = 0;
        int kernelDropped = 0;
        long txDropped = lab.tapTxDropped();
        Background injector = lab.startBackground(true, "python3", "-u", "-c", INJECT_ONE_PY, lab.tap());
        try {
            for (int i = 0; i < AUDITED; i++) {
                byte[] frame = mutator.next();
                long rx = lab.total(Stat.RX_FRAMES);
                long fates = fates();
                injector.sendLine(HexFormat.of().formatHex(frame));
                int err = awaitReply(injector, i + 1);
                if (err != 0) {
                    refused++;
                    continue;
                }
                long deadline = System.nanoTime() + Duration.ofSeconds(2).toNanos();
                while (lab.total(Stat.RX_FRAMES) == rx && System.nanoTime() - deadline < 0) {
                    LockSupport.parkNanos(50_000);
                }
                if (lab.total(Stat.RX_FRAMES) == rx) {
                    long now = lab.tapTxDropped();
                    assertTrue(now > txDropped, () -> "frame neither received nor dropped by the TAP: "
                            + HexFormat.of().formatHex(frame) + "\n" + lab.report());
                    txDropped = now;
                    kernelDropped++;
                    continue;
                }
                deadline = System.nanoTime() + Duration.ofSeconds(1).toNanos();
                while (fates() == fates && System.nanoTime() - deadline < 0) {
                    LockSupport.parkNanos(50_000);
                }
                if (fates() == fates) {
                    silent.add(HexFormat.of().formatHex(frame));
                }
            }
        } finally {
            Result r = injector.finish(Duration.ofSeconds(10));
            assertTrue(r.stderr().isBlank(), () -> "injector: " + r);
        }
        String auditFigures = String.format(Locale.ROOT, "mutation audit, seed %#x: %d frames from %d recorded, "
                + "%d refused by the kernel, %d dropped by the TAP, %d uncounted", SEED, AUDITED, seeds.size(),
                refused, kernelDropped, silent.size());
        System.out.println(auditFigures);
        assertEquals(List.of(), silent.stream().limit(20).toList(), () -> auditFigures + "\n" + lab.report());
        lab.assertHealthy();

        // in bulk, while a download runs
        Background download = lab.startBackground("sh", "-c", "curl -sS --max-time 150 -o - http://" + STACK_IP
                + "/bytes/" + DOWNLOAD + " | sha256sum");
        long bulkDeadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        long rxBefore = lab.total(Stat.RX_FRAMES);
        long tapDroppedBefore = lab.tapTxDropped();
        int sent = 0;
        while (sent < BULK && System.nanoTime() - bulkDeadline < 0) {
            List<byte[]> batch = new ArrayList<>(BULK_BATCH);
            for (int i = 0; i < BULK_BATCH; i++) {
                batch.add(mutator.next());
            }
            sent += lab.inject(batch);
        }
        int bulkSent = sent;
        long tapDropped = lab.tapTxDropped() - tapDroppedBefore;
        lab.await("the mutated frames received (" + bulkSent + " sent, " + tapDropped + " dropped by the TAP)",
                () -> lab.total(Stat.RX_FRAMES) - rxBefore >= bulkSent - tapDropped, Duration.ofSeconds(30));
        Result downloaded = download.finish(Duration.ofSeconds(160));
        String expected = KernelTcpCases.patternSha256(DOWNLOAD);
        assertEquals(0, downloaded.exit(), () -> "download during the mutation run: " + downloaded + "\n" + lab.report());
        assertEquals(expected, downloaded.stdout().strip().split("\\s+")[0],
                () -> "SHA-256 of the download during the mutation run\n" + downloaded + "\n" + lab.report());

        // afterwards: the stack still serves, and says where the frames went
        lab.assertPing(3);
        Result after = lab.shell(Duration.ofSeconds(60), "curl -sS --max-time 50 -o - http://" + STACK_IP + "/bytes/"
                + DOWNLOAD + " | sha256sum");
        assertEquals(0, after.exit(), () -> after + "\n" + lab.report());
        assertEquals(expected, after.stdout().strip().split("\\s+")[0], () -> "SHA-256 after the run\n" + after);
        lab.assertHealthy();
        Map<Stat, Long> end = lab.snapshot();
        String drops = end.keySet().stream().filter(Stat::isDrop)
                .filter(s -> end.get(s) > start.get(s))
                .sorted(Comparator.comparingLong((Stat s) -> start.get(s) - end.get(s)))
                .map(s -> s.key() + " " + (end.get(s) - start.get(s)))
                .collect(Collectors.joining(", "));
        System.out.printf(Locale.ROOT, "mutation bulk: %d frames sent, %d dropped by the TAP; drops by reason: %s%n",
                bulkSent, tapDropped, drops);
        assertEquals(BULK, bulkSent, "the bulk run sent every frame within its deadline");
    }

    /** The sum of every counter that records a frame's fate. */
    private long fates() {
        long sum = 0;
        for (Stat s : Stat.values()) {
            if (!NOT_A_FATE.contains(s)) {
                sum += lab.total(s);
            }
        }
        return sum;
    }

    private static long mac(byte[] f, int off) {
        long v = 0;
        for (int i = 0; i < 6; i++) {
            v = (v << 8) | (f[off + i] & 0xFF);
        }
        return v;
    }

    /** Waits for the injector's {@code n}th line and returns it as an errno (0: sent). */
    private static int awaitReply(Background injector, int n) {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (true) {
            String out = injector.stdoutSoFar();
            String[] lines = out.split("\n", -1);
            // complete lines only: the last element is what follows the last newline
            if (lines.length - 1 >= n) {
                return Integer.parseInt(lines[n - 1].strip());
            }
            if (!injector.alive() || System.nanoTime() - deadline > 0) {
                throw new AssertionError("injector gave no answer for frame " + n + ": " + injector.stderrSoFar());
            }
            LockSupport.parkNanos(50_000);
        }
    }

    /**
     * Records what the kernel sends to the stack during a short session of every kind of traffic
     * the endpoint serves, and returns those frames (at most 1514 bytes each).
     */
    private List<byte[]> record() throws Exception {
        Path pcap = lab.tempFile(new byte[0]);
        Background dump = lab.spawn(Duration.ofSeconds(60), null, "tcpdump", "-Z", "root", "--immediate-mode", "-i", lab.tap(), "-U",
                "-c", "5000", "-w", pcap.toString());
        lab.await("tcpdump capturing", () -> dump.stderrSoFar().contains("listening on"), Duration.ofSeconds(10));
        lab.execOk("ip", "neigh", "flush", "dev", lab.tap());
        lab.assertPing(2);
        lab.execOk("ping", "-n", "-c", "2", "-i", "0.2", "-s", "3000", STACK_IP);
        byte[] echoed = lab.udpExchange(STACK_IP, ECHO_PORT, "mutation seeds".getBytes(StandardCharsets.US_ASCII));
        assertEquals("mutation seeds", new String(echoed, StandardCharsets.US_ASCII));
        lab.shell(Duration.ofSeconds(30), "curl -sS --max-time 20 -o /dev/null http://" + STACK_IP + "/bytes/200000");
        lab.shell(Duration.ofSeconds(30), "curl -sS --max-time 5 -o /dev/null http://" + STACK_IP + ":81/ || true");
        lab.shell(Duration.ofSeconds(30), "head -c 3000 /dev/urandom | socat -t 2 - TCP:" + STACK_IP + ":" + ECHO_PORT
                + " > /dev/null");
        // --immediate-mode: each packet reaches tcpdump at once (not a ring block later); -U: and the file
        LockSupport.parkNanos(Duration.ofMillis(300).toNanos());
        Result r = dump.stop();
        List<byte[]> frames = new ArrayList<>();
        try (PcapReader in = PcapReader.open(pcap)) {
            while (in.next()) {
                byte[] f = in.frame();
                // what the kernel sent towards the stack: its own source MAC
                if (f.length >= 14 && f.length <= 1514 && mac(f, 6) == lab.kernelMac()) {
                    frames.add(f);
                }
            }
        }
        Files.deleteIfExists(pcap);
        System.out.println("mutation seeds: " + frames.size() + " frames recorded\n" + r.stderr());
        assertTrue(frames.size() >= 20, () -> "recorded " + frames.size() + " frames: " + r);
        return frames;
    }
}
