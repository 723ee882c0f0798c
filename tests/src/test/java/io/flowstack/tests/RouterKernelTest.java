package io.flowstack.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@code stack router} between two kernel hosts (issue 12 point 4, {@link RouterLab}), with 2
 * cores and the ownership check on: ping both ways and to both router addresses, traceroute
 * naming the router's hop, 200 MB each way with matching SHA-256, TTL expiry, an unreachable
 * network, martians dropped and counted, an MTU step (1500 to 1280) with DF clear (fragments
 * reassembled) and with DF set (path MTU discovery), routes changed at run time, and no frame
 * handed between the router's cores. B's link is a TAP, then a veth read with AF_PACKET.
 */
class RouterKernelTest {
    /** Sends (or receives) {@code MB} MiB of seeded data over TCP and prints "BYTES SHA256". */
    static final String BULK_PY = String.join("\n",
            "import hashlib, random, socket, sys",
            "mode, host, port, mb = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])",
            "h = hashlib.sha256(); n = 0",
            "if mode == 'send':",
            "    block = random.Random(port).randbytes(1 << 20)",
            "    s = socket.create_connection((host, port), timeout=60)",
            "    for i in range(mb):",
            "        chunk = bytes([i & 0xFF]) + block[1:]",
            "        s.sendall(chunk); h.update(chunk); n += len(chunk)",
            "    s.shutdown(socket.SHUT_WR); s.recv(1)",
            "else:",
            "    l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)",
            "    l.bind((host, port)); l.listen(1); l.settimeout(60)",
            "    print('listening', flush=True)",
            "    c, _ = l.accept(); c.settimeout(60)",
            "    while True:",
            "        d = c.recv(1 << 20)",
            "        if not d: break",
            "        h.update(d); n += len(d)",
            "    c.close()",
            "print(n, h.hexdigest(), flush=True)");

    @Test
    void tapToTapWithTwoCores() throws Exception {
        try (RouterLab lab = RouterLab.start(2, RouterLab.Link.TAP, 1500)) {
            pings(lab);
            traceroute(lab);
            bulkBothWays(lab, 200);
            ttlAndUnreachable(lab);
            martians(lab);
            routesAtRunTime(lab);
            String stats = lab.stats();
            assertTrue(stats.contains("Interfaces:") && stats.contains(lab.devA) && stats.contains(lab.devB), stats);
            assertEquals(0, RouterLab.counter(stats, "hop_out"), "forwarded flows never hop:\n" + stats);
            assertEquals(0, RouterLab.counter(stats, "internal_error"), stats);
            assertTrue(RouterLab.counter(stats, "fwd_super_frames") > 0, "TAP to TAP: super-frames forwarded whole\n" + stats);
            NamespaceLab.Result stopped = lab.stopRouter();
            assertTrue(stopped.stdout().contains("fwd_out"), "counters printed at the stop: " + stopped);
            assertTrue(!stopped.stderr().contains("ownership"), "no ownership violation: " + stopped.stderr());
        }
    }

    @Test
    void tapToPacketVethWithTwoCores() throws Exception {
        try (RouterLab lab = RouterLab.start(2, RouterLab.Link.PACKET, 1500)) {
            pings(lab);
            bulkBothWays(lab, 200);
            String stats = lab.stats();
            assertEquals(0, RouterLab.counter(stats, "hop_out"), stats);
            assertEquals(0, RouterLab.counter(stats, "internal_error"), stats);
        }
    }

    @Test
    void mtuStepFragmentsWithDfClearAndDiscoversThePathWithDfSet() throws Exception {
        try (RouterLab lab = RouterLab.start(2, RouterLab.Link.TAP, 1280)) {
            // DF clear: 1,400 bytes of echo data, cut by the router for B's 1,280 link, reassembled by B
            NamespaceLab.Result p = lab.inNs(lab.nsA, Duration.ofSeconds(20), "ping", "-c", "3", "-W", "2", "-M", "dont",
                    "-s", "1400", RouterLab.B);
            assertEquals(0, p.exit(), () -> p + "\n" + lab.report());
            // DF set: B advertises an MSS of 1,460 for A although its link carries 1,280, so A's
            // full-sized segments need the router's fragmentation-needed (RFC 1191) to get through
            lab.in(lab.nsB, "ip", "route", "replace", "198.18.1.0/24", "via", RouterLab.R_B, "advmss", "1460");
            lab.in(lab.nsA, "ip", "route", "flush", "cache");
            bulk(lab, lab.nsB, RouterLab.B, lab.nsA, 20, 5003);
            String stats = lab.stats();
            assertTrue(RouterLab.counter(stats, "fwd_fragmented") >= 3, stats);
            assertTrue(RouterLab.counter(stats, "fwd_frag_needed") >= 1, "path MTU discovery used the router's ICMP\n" + stats);
            NamespaceLab.Result pmtu = lab.inNs(lab.nsA, Duration.ofSeconds(10), "ip", "route", "get", RouterLab.B);
            assertTrue(pmtu.stdout().contains("mtu 1280"), "A learnt the path MTU: " + pmtu);
        }
    }

    static void pings(RouterLab lab) {
        for (String[] p : new String[][] {{lab.nsA, RouterLab.B}, {lab.nsB, RouterLab.A}, {lab.nsA, RouterLab.R_A},
                {lab.nsA, RouterLab.R_B}, {lab.nsB, RouterLab.R_A}}) {
            NamespaceLab.Result r = lab.inNs(p[0], Duration.ofSeconds(20), "ping", "-c", "3", "-i", "0.2", "-W", "2", p[1]);
            assertEquals(0, r.exit(), () -> "ping " + p[1] + " from " + p[0] + ": " + r + "\n" + lab.report());
            assertTrue(r.stdout().contains("ttl=" + (p[1].equals(RouterLab.A) || p[1].equals(RouterLab.B) ? 63 : 64)),
                    () -> "one hop through the router, none to it: " + r.stdout());
        }
    }

    private static void traceroute(RouterLab lab) {
        // one probe at a time (-N 1): B's kernel rate-limits its port unreachables per source (icmp_ratelimit)
        NamespaceLab.Result r = lab.inNs(lab.nsA, Duration.ofSeconds(40), "traceroute", "-n", "-N", "1", "-q", "1",
                "-w", "3", RouterLab.B);
        assertEquals(0, r.exit(), () -> r + "\n" + lab.report());
        String[] lines = r.stdout().strip().split("\n");
        assertTrue(lines.length >= 3, r.stdout());
        assertTrue(lines[1].trim().startsWith("1  " + RouterLab.R_A), "hop 1 is the router: " + r.stdout());
        assertTrue(lines[2].trim().startsWith("2  " + RouterLab.B), "hop 2 is B: " + r.stdout());
    }

    static void bulkBothWays(RouterLab lab, int mb) throws Exception {
        bulk(lab, lab.nsB, RouterLab.B, lab.nsA, mb, 5001);
        bulk(lab, lab.nsA, RouterLab.A, lab.nsB, mb, 5002);
    }

    /** {@code mb} MiB from {@code fromNs} to a server at {@code host} in {@code serverNs}: both ends agree on bytes and SHA-256. */
    private static void bulk(RouterLab lab, String serverNs, String host, String fromNs, int mb, int port)
            throws Exception {
        Duration limit = Duration.ofSeconds(90);
        NamespaceLab.Background server = lab.r.spawn(limit, null, "ip", "netns", "exec", serverNs, "python3", "-c", BULK_PY,
                "recv", host, Integer.toString(port), "0");
        lab.r.await("the server listens", () -> server.stdoutSoFar().contains("listening"), Duration.ofSeconds(20));
        CompletableFuture<NamespaceLab.Result> sent = CompletableFuture.supplyAsync(() -> lab.inNs(fromNs, limit,
                "python3", "-c", BULK_PY, "send", host, Integer.toString(port), Integer.toString(mb)));
        NamespaceLab.Result got = server.await();
        NamespaceLab.Result s = sent.get(limit.toSeconds(), TimeUnit.SECONDS);
        assertEquals(0, s.exit(), () -> s + "\n" + lab.report());
        assertEquals(0, got.exit(), () -> got + "\n" + lab.report());
        String[] g = got.stdout().strip().split("\n");
        assertEquals(s.stdout().strip(), g[g.length - 1], "bytes and SHA-256 at both ends");
        assertTrue(s.stdout().startsWith(Long.toString((long) mb << 20) + " "), s.stdout());
    }

    private static void ttlAndUnreachable(RouterLab lab) {
        NamespaceLab.Result ttl = lab.inNs(lab.nsA, Duration.ofSeconds(10), "ping", "-c", "1", "-W", "2", "-t", "1",
                RouterLab.B);
        assertTrue(ttl.stdout().contains("From " + RouterLab.R_A) && ttl.stdout().contains("Time to live exceeded"),
                () -> ttl + "\n" + lab.report());
        NamespaceLab.Result un = lab.inNs(lab.nsA, Duration.ofSeconds(10), "ping", "-c", "1", "-W", "2", "198.18.9.9");
        assertTrue(un.stdout().contains("From " + RouterLab.R_A) && un.stdout().contains("Destination Net Unreachable"),
                () -> un + "\n" + lab.report());
    }

    private static void martians(RouterLab lab) {
        String before = lab.stats();
        // a loopback source, spoofed by hping3's raw socket; a class E destination
        lab.inNs(lab.nsA, Duration.ofSeconds(10), "hping3", "-c", "3", "-i", "u20000", "-2", "-p", "9", "-a", "127.0.0.1",
                RouterLab.B);
        lab.inNs(lab.nsA, Duration.ofSeconds(10), "ping", "-c", "2", "-i", "0.2", "-W", "1", "240.0.0.1");
        String after = lab.stats();
        assertEquals(RouterLab.counter(before, "fwd_martian_source") + 3, RouterLab.counter(after, "fwd_martian_source"),
                after);
        assertEquals(RouterLab.counter(before, "fwd_martian_dest") + 2, RouterLab.counter(after, "fwd_martian_dest"),
                after);
    }

    private static void routesAtRunTime(RouterLab lab) {
        // 198.18.9.0/24 via B: B gets the echo (as a host not 198.18.9.9 it drops it), so no net unreachable
        NamespaceLab.Result add = lab.route("add", "198.18.9.0/24", "via", RouterLab.B);
        assertEquals(0, add.exit(), add::toString);
        NamespaceLab.Result show = lab.route("show");
        assertTrue(show.stdout().contains("198.18.9.0/24") && show.stdout().contains(RouterLab.B), show.toString());
        NamespaceLab.Result ping = lab.inNs(lab.nsA, Duration.ofSeconds(10), "ping", "-c", "1", "-W", "1", "198.18.9.9");
        assertTrue(!ping.stdout().contains("Unreachable"), ping.toString());
        NamespaceLab.Result del = lab.route("del", "198.18.9.0/24");
        assertEquals(0, del.exit(), del::toString);
        NamespaceLab.Result again = lab.inNs(lab.nsA, Duration.ofSeconds(10), "ping", "-c", "1", "-W", "2", "198.18.9.9");
        assertTrue(again.stdout().contains("Destination Net Unreachable"), again.toString());
    }
}
