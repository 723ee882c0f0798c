package io.flowstack.tests;

import static io.flowstack.tests.CliLab.KERNEL_IP;
import static io.flowstack.tests.CliLab.STACK_CIDR;
import static io.flowstack.tests.CliLab.STACK_IP;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.nic.pcap.PcapReader;
import io.flowstack.tests.NamespaceLab.Result;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code stack endpoint --pcap} (issue 5, point 4) against the Linux kernel: the capture of a
 * ping and an HTTP download of 1,000,000 bytes by curl, judged by tshark: no malformed frame, no
 * checksum or other expert error, the TCP handshake in order, and the whole body in the reassembled
 * stream. Then the same through a ring of small files.
 *
 * <p>The endpoint runs as its own process ({@link CliLab}), stopped with SIGINT like a user would.
 * {@link ReplayTest} replays a capture made the same way.
 */
@Timeout(300)
class PcapCaptureTest {
    static final int BODY = 1_000_000;
    private static final Pattern SUMMARY =
            Pattern.compile("capture (\\S+).*: (\\d+) frames written(?: \\((\\d+) files?\\))?, (\\d+) dropped");

    @TempDir
    Path dir;

    private CliLab lab;

    @AfterEach
    void closeLab() {
        if (lab != null) {
            lab.close();
        }
    }

    /** The endpoint's summary line: [frames written, files, dropped]. */
    static long[] summary(Result r) {
        Matcher m = SUMMARY.matcher(r.stdout());
        assertTrue(m.find(), () -> "no capture summary: " + r);
        return new long[] {Long.parseLong(m.group(2)), m.group(3) == null ? 1 : Long.parseLong(m.group(3)),
                Long.parseLong(m.group(4))};
    }

    /**
     * Runs an endpoint with {@code --serve http:80} and {@code pcapArgs} on a fresh lab; the kernel
     * pings it 3 times and downloads {@code /bytes/1000000}, whose body is checked; then SIGINT.
     */
    static Result captureSession(CliLab lab, int cores, Path bodyFile, String... pcapArgs) {
        List<String> args = new java.util.ArrayList<>(List.of("endpoint", "--tap", lab.tap(), "--addr", STACK_CIDR,
                "--cores", Integer.toString(cores), "--no-pin", "--serve", "http:80"));
        args.addAll(List.of(pcapArgs));
        CliLab.Stack ep = lab.stack(Duration.ofSeconds(180), args.toArray(String[]::new));
        ep.awaitOutput("(Ctrl-C to stop)", Duration.ofSeconds(90));
        Result ping = lab.exec(Duration.ofSeconds(30), "ping", "-n", "-c", "3", "-i", "0.2", "-W", "2", STACK_IP);
        Result curl = lab.exec(Duration.ofSeconds(90), "curl", "-sS", "--max-time", "60", "-o", bodyFile.toString(),
                "-w", "%{http_code} %{size_download}", "http://" + STACK_IP + "/bytes/" + BODY);
        Result r = ep.stop();
        Supplier<String> all = () -> ping + "\n" + curl + "\n" + r;
        assertEquals(0, ping.exit(), all);
        assertEquals(0, curl.exit(), all);
        assertEquals("200 " + BODY, curl.stdout().strip(), all);
        assertEquals(130, r.exit(), () -> "exit status after SIGINT\n" + all.get());
        assertTrue(r.stdout().contains("per-core counters"), all);
        assertTrue(!r.stdout().contains("internal_error"), all);
        try {
            assertPattern(Files.readAllBytes(bodyFile), 0);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return r;
    }

    /** {@code body} is the HttpService pattern: byte i is (byte) (i % 251). */
    static void assertPattern(byte[] body, int from) {
        assertEquals(BODY, body.length - from, "body length");
        for (int i = 0; i < BODY; i++) {
            if (body[from + i] != (byte) (i % 251)) {
                throw new AssertionError("body byte " + i + " is " + body[from + i] + ", expected " + (i % 251));
            }
        }
    }

    @Test
    void anHttpDownloadCapturedOnTwoCoresIsCleanAndComplete() throws Exception {
        lab = CliLab.start(true);
        Path file = dir.resolve("http.pcap");
        Result r = captureSession(lab, 2, dir.resolve("body"), "--pcap", file.toString());
        long[] s = summary(r);
        assertEquals(0, s[2], () -> "frames dropped from the capture\n" + r);
        assertEquals(s[0], Tshark.frames(file), "frames in the file");

        // no malformed frame, no bad checksum (validation on), no other expert error
        List<String> problems = Tshark.problems(file);
        assertEquals(List.of(), problems, () -> "tshark found problems in the capture\n" + r);

        // the ping: 3 requests from the kernel, 3 replies
        assertEquals(3, Tshark.fields(file, "icmp.type == 8 && ip.src == " + KERNEL_IP, "frame.number").size());
        assertEquals(3, Tshark.fields(file, "icmp.type == 0 && ip.src == " + STACK_IP, "frame.number").size());

        // the handshake, in order: SYN from the kernel, SYN-ACK from the stack, ACK from the kernel
        List<String> tcp = Tshark.fields(file, "tcp.port == 80", "ip.src", "tcp.flags", "tcp.len");
        assertTrue(tcp.size() > 3, () -> String.join("\n", tcp));
        assertEquals(KERNEL_IP + "\t0x0002\t0", tcp.get(0), "SYN");
        assertEquals(STACK_IP + "\t0x0012\t0", tcp.get(1), "SYN-ACK");
        // The kernel's next frame completes the handshake: its pure ACK, or (2 queues, 2 capture
        // rings merged by the netisrs' timestamps) the request that follows it on another queue.
        String[] third = tcp.get(2).split("\t");
        assertEquals(KERNEL_IP, third[0], () -> String.join("\n", tcp));
        int flags = Integer.decode(third[1]);
        assertEquals(0x10, flags & 0x12, () -> "ACK without SYN: " + tcp.get(2));
        assertTrue(tcp.stream().skip(2).anyMatch(l -> l.equals(KERNEL_IP + "\t0x0010\t0")),
                () -> "the kernel's pure ACK of the SYN-ACK\n" + String.join("\n", tcp));

        // tshark's reassembly of the stream: the request, and the response with the whole body
        byte[][] stream = Tshark.follow(file, 0);
        String request = new String(stream[0], StandardCharsets.ISO_8859_1);
        assertTrue(request.startsWith("GET /bytes/" + BODY + " HTTP/1.1\r\n"), request);
        String response = new String(stream[1], StandardCharsets.ISO_8859_1);
        int headerEnd = response.indexOf("\r\n\r\n");
        assertTrue(response.startsWith("HTTP/1.1 200 OK\r\n") && headerEnd > 0, () -> response.substring(0, 200));
        assertTrue(response.substring(0, headerEnd).contains("Content-Length: " + BODY), response.substring(0, headerEnd));
        assertPattern(stream[1], headerEnd + 4);

        // the judge can see a bad frame: one flipped payload byte is one checksum error
        Path bad = dir.resolve("bad.pcap");
        boolean[] done = {false};
        Tshark.copy(file, bad, f -> {
            if (!done[0] && f.length == 1514) { // the first full-size TCP segment
                f[1000] ^= 0x20;
                done[0] = true;
            }
            return f;
        });
        assertTrue(done[0]);
        List<String> badProblems = Tshark.problems(bad);
        assertEquals(1, badProblems.size(), () -> String.join("\n", badProblems));
        assertTrue(badProblems.get(0).toLowerCase().contains("checksum"), badProblems.get(0));
    }

    @Test
    void aRingOfSmallFilesKeepsTheNewestFramesWithinItsSize() throws Exception {
        lab = CliLab.start(false);
        Path base = dir.resolve("ring.pcap");
        // 1 MB of body in files of 200,000 bytes: about 6 files, of which the ring keeps 3
        Result r = captureSession(lab, 1, dir.resolve("body"), "--pcap", base.toString(), "--pcap-size", "0.2",
                "--pcap-files", "3");
        long[] s = summary(r);
        assertEquals(0, s[2], () -> "frames dropped from the capture\n" + r);
        assertTrue(s[1] >= 6, () -> "files opened: " + s[1] + "\n" + r);
        try (var names = Files.list(dir)) {
            assertEquals(List.of("ring.pcap0", "ring.pcap1", "ring.pcap2"), names.map(p -> p.getFileName().toString())
                    .filter(n -> n.startsWith("ring")).sorted().toList());
        }
        long newest = -1;
        Path newestFile = null;
        int frames = 0;
        for (int i = 0; i < 3; i++) {
            Path p = dir.resolve("ring.pcap" + i);
            assertTrue(Files.size(p) <= 200_000, () -> p + " has " + p.toFile().length() + " bytes");
            assertEquals(List.of(), Tshark.problems(p), p::toString);
            try (PcapReader reader = PcapReader.open(p)) {
                while (reader.next()) {
                    frames++;
                    if (reader.timestampNanos() > newest) {
                        newest = reader.timestampNanos();
                        newestFile = p;
                    }
                }
            }
        }
        long written = s[0];
        int kept = frames;
        assertTrue(kept < written, () -> "the ring dropped the oldest files: kept " + kept + " of " + written);
        // the last file opened, (files - 1) mod 3, holds the newest frame: the kernel's final ACK
        assertEquals(dir.resolve("ring.pcap" + ((s[1] - 1) % 3)), newestFile);
    }
}
