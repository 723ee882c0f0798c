package io.flowstack.tests;

import static io.flowstack.tests.CliLab.KERNEL_IP;
import static io.flowstack.tests.CliLab.STACK_CIDR;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.tests.NamespaceLab.Result;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code stack ping} (issue 5, point 5) against the Linux kernel at {@value CliLab#KERNEL_IP} on
 * the far side of a TAP in a test namespace: ten requests without loss on one core, fragmented
 * requests and replies of 4000 bytes on two cores, an address nobody answers (exit 1), and
 * Ctrl-C in the middle (the statistics so far, exit 0).
 */
@Timeout(180)
class PingKernelTest {
    private static final Pattern REPLY = Pattern.compile(
            "^(\\d+) bytes from " + Pattern.quote(KERNEL_IP) + ": icmp_seq=(\\d+) ttl=64 time=(\\d+(?:\\.\\d+)?) ms$",
            Pattern.MULTILINE);
    private static final Pattern SUMMARY = Pattern.compile(
            "^(\\d+) packets transmitted, (\\d+) received, (\\S+)% packet loss, time \\d+ms$", Pattern.MULTILINE);
    private static final Pattern RTT = Pattern.compile(
            "^rtt min/avg/max/mdev = ([\\d.]+)/([\\d.]+)/([\\d.]+)/([\\d.]+) ms$", Pattern.MULTILINE);

    private CliLab lab;

    @AfterEach
    void closeLab() {
        if (lab != null) {
            lab.close();
        }
    }

    private Result ping(int cores, String... args) {
        List<String> all = new java.util.ArrayList<>(List.of("ping", "--tap", lab.tap(), "--addr", STACK_CIDR,
                "--cores", Integer.toString(cores)));
        all.addAll(List.of(args));
        return lab.stack(Duration.ofSeconds(90), all.toArray(String[]::new)).await();
    }

    /** The reply lines' (bytes, seq) in order; checks the RTT of each is a sane number. */
    private static List<int[]> replies(Result r) {
        List<int[]> out = new java.util.ArrayList<>();
        Matcher m = REPLY.matcher(r.stdout());
        while (m.find()) {
            double ms = Double.parseDouble(m.group(3));
            assertTrue(ms >= 0 && ms < 5000, () -> "rtt " + ms + "\n" + r);
            out.add(new int[] {Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2))});
        }
        return out;
    }

    private static long[] summary(Result r) {
        Matcher m = SUMMARY.matcher(r.stdout());
        assertTrue(m.find(), () -> "no statistics line\n" + r);
        return new long[] {Long.parseLong(m.group(1)), Long.parseLong(m.group(2))};
    }

    private static void assertRttLine(Result r) {
        Matcher m = RTT.matcher(r.stdout());
        assertTrue(m.find(), () -> "no rtt line\n" + r);
        double min = Double.parseDouble(m.group(1));
        double avg = Double.parseDouble(m.group(2));
        double max = Double.parseDouble(m.group(3));
        assertTrue(min <= avg && avg <= max && min > 0, () -> "rtt min/avg/max\n" + r);
    }

    @Test
    void tenRequestsOnOneCoreWithoutLoss() {
        lab = CliLab.start(false);
        Result r = ping(1, "-c", "10", "-i", "0.2", "-W", "3", KERNEL_IP);
        assertEquals(0, r.exit(), r::toString);
        assertTrue(r.stdout().startsWith("PING " + KERNEL_IP + " (" + KERNEL_IP + ") 56(84) bytes of data.\n"), r::toString);
        List<int[]> replies = replies(r);
        assertEquals(10, replies.size(), r::toString);
        for (int i = 0; i < 10; i++) {
            assertEquals(64, replies.get(i)[0]);
            assertEquals(i + 1, replies.get(i)[1], "icmp_seq in order");
        }
        assertEquals(10, summary(r)[0]);
        assertEquals(10, summary(r)[1]);
        assertTrue(r.stdout().contains("--- " + KERNEL_IP + " ping statistics ---"), r::toString);
        assertTrue(r.stdout().contains(" 0% packet loss"), r::toString);
        assertRttLine(r);
        assertFalse(r.stdout().contains("DUP!") || r.stdout().contains("wrong data"), r::toString);
        assertEquals("", r.stderr(), r::toString);
    }

    @Test
    void fragmentedRequestsAndRepliesOf4000BytesOnTwoCores() {
        lab = CliLab.start(true);
        Result r = ping(2, "-c", "10", "-i", "0.1", "-s", "4000", "-W", "3", KERNEL_IP);
        assertEquals(0, r.exit(), r::toString);
        assertTrue(r.stdout().startsWith("PING " + KERNEL_IP + " (" + KERNEL_IP + ") 4000(4028) bytes of data.\n"),
                r::toString);
        List<int[]> replies = replies(r);
        assertEquals(10, replies.size(), r::toString);
        assertTrue(replies.stream().allMatch(x -> x[0] == 4008), r::toString);
        assertEquals(10, summary(r)[1], r::toString);
        assertTrue(r.stdout().contains(" 0% packet loss"), r::toString);
        assertRttLine(r);
        assertFalse(r.stdout().contains("wrong data"), r::toString);
    }

    @Test
    void anAddressNobodyAnswersExitsOne() {
        lab = CliLab.start(false);
        Result r = ping(1, "-c", "2", "-i", "0.2", "-W", "1", "198.18.0.99");
        assertEquals(1, r.exit(), r::toString);
        assertTrue(r.stdout().contains("2 packets transmitted, 0 received, 100% packet loss"), r::toString);
        assertFalse(r.stdout().contains("rtt min"), r::toString);
    }

    @Test
    void ctrlCPrintsTheStatisticsSoFar() {
        lab = CliLab.start(false);
        CliLab.Stack p = lab.stack(Duration.ofSeconds(90), "ping", "--tap", lab.tap(), "--addr", STACK_CIDR,
                "-i", "0.1", KERNEL_IP);
        p.awaitOutput("icmp_seq=3 ", Duration.ofSeconds(60));
        p.interrupt();
        Result r = p.await();
        assertEquals(0, r.exit(), () -> "exit after Ctrl-C with replies\n" + r);
        long[] s = summary(r);
        assertTrue(s[1] >= 3, r::toString);
        assertTrue(s[0] - s[1] <= 1, () -> "at most the request in flight is unanswered\n" + r);
        assertEquals(s[1], replies(r).size(), r::toString);
        assertRttLine(r);
    }
}
