package io.flowstack.tests;

import static io.flowstack.tests.CliLab.KERNEL_IP;
import static io.flowstack.tests.CliLab.STACK_IP;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.flow.FlowHash;
import io.flowstack.core.flow.IndirectionTable;
import io.flowstack.core.wire.Ipv4;
import io.flowstack.nic.Toeplitz;
import io.flowstack.tests.NamespaceLab.Result;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue 4 point 6 against the Linux kernel, through the tools: an endpoint process (2 cores,
 * http:80) on a two-queue TAP in a fresh {@link CliLab}; the kernel downloads 150 MB with curl
 * (rate-limited so that it lasts several seconds) from a known local port, so the test knows the
 * flow's bucket. While it runs, {@code stack rebalance --move BUCKET:CORE} (a second process,
 * over the control socket) moves that bucket from core to core several times. The body's SHA-256
 * must be the pattern's, every move must take the connection along, {@code stack rebalance} must
 * show the load per core, and the endpoint must end with no internal error.
 */
@Timeout(300)
class RebalanceKernelTest {
    static final int CURL_PORT = 40321;
    static final long BYTES = 150_000_000L;
    static final int MOVES = 6;

    private CliLab lab;

    @AfterEach
    void cleanUp() {
        if (lab != null) {
            lab.close(); // kills curl, stops the endpoint, removes its socket and the namespace
        }
    }

    @Test
    void aDownloadMovesBetweenCoresWithoutLosingAByte() throws Exception {
        lab = CliLab.start(true);
        // the endpoint's RSS key is random unless given: give one, so this test knows the bucket
        Toeplitz key = Toeplitz.random(new SplittableRandom(CURL_PORT));
        CliLab.Stack ep = lab.endpoint(Duration.ofSeconds(280), "--serve", "http:80", "--rss-key",
                HexFormat.of().formatHex(key.key()));

        int bucket = new IndirectionTable(2, new FlowHash(key)).bucket(
                new FlowHash(key).hash4(Ipv4.parse(STACK_IP), Ipv4.parse(KERNEL_IP), 80, CURL_PORT));
        int core = bucket % 2; // the initial table deals buckets round robin
        Path body = Files.createTempFile("rebalance-sha", ".txt");
        Process curl = lab.background(new ProcessBuilder("ip", "netns", "exec", lab.namespace(), "sh", "-c",
                "curl -sS --max-time 120 --limit-rate 15M --local-port " + CURL_PORT + " http://" + STACK_IP
                        + "/bytes/" + BYTES + " | sha256sum").redirectErrorStream(true)
                .redirectOutput(body.toFile()));

        int moved = 0;
        int withConnection = 0;
        StringBuilder log = new StringBuilder();
        for (int i = 0; i < MOVES && curl.isAlive(); i++) {
            int target = 1 - core;
            Result r = lab.stack(Duration.ofSeconds(60), "rebalance", "--name", lab.tap(),
                    "--move", bucket + ":" + target).await();
            log.append(r.stdout());
            assertEquals(0, r.exit(), r::toString);
            assertTrue(r.stdout().contains(String.format("bucket %3d: core %d -> core %d", bucket, core, target)),
                    r::toString);
            Matcher m = Pattern.compile("1 bucket moved; (\\d+) TCP connection").matcher(r.stdout());
            assertTrue(m.find(), r::toString);
            withConnection += Integer.parseInt(m.group(1)) > 0 ? 1 : 0;
            assertTrue(r.stdout().contains("Load per core"), r::toString);
            core = target;
            moved++;
        }
        assertTrue(curl.waitFor(150, TimeUnit.SECONDS), "curl finished");
        String sha = Files.readString(body).strip();
        Files.deleteIfExists(body);
        System.out.println(log);
        System.out.printf("rebalance against the kernel: %d moves, %d with the download's connection%n", moved,
                withConnection);
        assertEquals(patternSha256(BYTES) + "  -", sha, "the body arrived whole and in order");
        assertTrue(moved >= 3, "moved while curl ran: " + moved);
        assertTrue(withConnection >= 3, "the connection went along with its bucket: " + log);

        Result json = lab.stack(Duration.ofSeconds(60), "stats", "--name", lab.tap(), "--json").await();
        assertEquals(0, json.exit(), json::toString);
        assertTrue(Pattern.compile("\"tcp_migrated_in\":\\{\"total\":([3-9]|\\d\\d+),").matcher(json.stdout()).find(),
                json::toString);
        assertTrue(json.stdout().contains("\"internal_error\":{\"total\":0,"), json::toString);
        assertTrue(json.stdout().contains("\"move_hold_full\":{\"total\":0,"), json::toString);

        Result auto = lab.stack(Duration.ofSeconds(60), "rebalance", "--name", lab.tap(), "--auto", "--window", "200")
                .await();
        assertEquals(0, auto.exit(), auto::toString);
        assertTrue(auto.stdout().contains("frames per core over 200 ms"), auto::toString);

        Result stopped = ep.stop();
        assertEquals(130, stopped.exit(), stopped::toString);
        assertFalse(stopped.stdout().contains("internal_error"), stopped::toString);
    }

    /** SHA-256 (hex) of the first {@code n} bytes of the /bytes pattern, byte i = (byte) (i % 251). */
    static String patternSha256(long n) throws Exception {
        byte[] chunk = new byte[251 * 4096];
        for (int i = 0; i < chunk.length; i++) {
            chunk[i] = (byte) (i % 251);
        }
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        for (long left = n; left > 0; ) {
            int k = (int) Math.min(left, chunk.length);
            sha.update(chunk, 0, k);
            left -= k;
        }
        return HexFormat.of().formatHex(sha.digest());
    }
}
