package io.flowstack.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The AF_XDP interface kind against the kernel ({@code router --if xdp:}, docs/AF_XDP.md), in a
 * {@link RouterLab} whose B link is a veth pair the router reads through AF_XDP (this run's own
 * namespaces, 198.18.0.0/15 only, IPv6 off, everything deleted also after a failure): ARP and
 * ping to the router's address on the XDP interface and through it, TCP transfers both ways with
 * matching SHA-256 between a host behind a TAP and one behind the XDP veth, the TAP's TCP
 * super-frames forwarded whole out of the XDP veth (through the queue's companion AF_PACKET
 * socket), the XDP mode and the
 * kernel's ring counters in {@code stack stats}, and the program gone from the interface once the
 * router stops, whether it stops cleanly (SIGINT) or is killed (SIGKILL: the link's fd dies with
 * the process). One core on a one-queue veth, two cores on a two-queue veth, and generic (skb)
 * mode when {@code --xdp-mode generic} asks for it. The one-line errors (missing device, too few
 * receive queues) are checked too.
 */
@Timeout(600)
class XdpKernelTest {
    private static final Duration T = Duration.ofSeconds(30);

    @Test
    void tapToXdpVethOneCore() throws Exception {
        try (RouterLab lab = RouterLab.start(1, RouterLab.Link.XDP, 1500)) {
            String link = linkOf(lab);
            assertTrue(link.contains(" xdp ") && link.contains("prog/xdp"), "the program is attached in driver mode: " + link);
            RouterKernelTest.pings(lab);
            RouterKernelTest.bulkBothWays(lab, 100);
            String stats = lab.stats();
            assertTrue(stats.contains("Devices (kernel counters):"), stats);
            assertTrue(stats.contains(lab.devB + " xdp mode driver/copy"), "veth: native XDP, no zero-copy\n" + stats);
            assertTrue(RouterLab.counter(stats, "xdp_tx_kicks") > 0, stats);
            assertEquals(0, RouterLab.counter(stats, "xdp_rx_invalid_descs"), stats);
            assertEquals(0, RouterLab.counter(stats, "xdp_tx_invalid_descs"), stats);
            assertEquals(0, RouterLab.counter(stats, "internal_error"), stats);
            // 100 MiB each way; the super-frames from the TAP leave the veth whole, so count bytes, not frames
            assertTrue(RouterLab.counter(stats, "tx_bytes") > 2 * (100L << 20), "the transfers went through the router\n"
                    + stats);
            assertTrue(RouterLab.counter(stats, "fwd_super_frames") > 0, "super-frames sent whole to the XDP veth\n"
                    + stats);
            long gro = RouterLab.counter(stats, "rx_gro_super_frames");
            assertTrue(gro > 0 && RouterLab.counter(stats, "rx_gro_segments") > 2 * gro,
                    "the kernel's segments from the XDP veth coalesced by software GRO\n" + stats);
            NamespaceLab.Result stopped = lab.stopRouter();
            assertTrue(stopped.stdout().contains("AF_XDP queues of " + lab.devB
                    + ", mode driver/copy, super-frames through AF_PACKET"), stopped::toString);
            String after = linkOf(lab);
            assertFalse(after.contains("xdp"), "no XDP program left after the router stopped: " + after);
        }
    }

    @Test
    void genericModeWhenAsked() throws Exception {
        try (RouterLab lab = RouterLab.start(1, RouterLab.Link.XDP, 1500, "--xdp-mode", "generic")) {
            assertTrue(linkOf(lab).contains(" xdpgeneric ") && linkOf(lab).contains("prog/xdp"),
                    "attached in the skb hook: " + linkOf(lab));
            RouterKernelTest.pings(lab);
            RouterKernelTest.bulkBothWays(lab, 50);
            String stats = lab.stats();
            assertTrue(stats.contains(lab.devB + " xdp mode generic/copy"), stats);
            assertEquals(0, RouterLab.counter(stats, "internal_error"), stats);
            lab.stopRouter();
            assertFalse(linkOf(lab).contains("xdp"), linkOf(lab));
        }
    }

    @Test
    void twoCoresOnATwoQueueVethAndKilled() throws Exception {
        try (RouterLab lab = RouterLab.start(2, RouterLab.Link.XDP, 1500)) {
            RouterKernelTest.pings(lab);
            RouterKernelTest.bulkBothWays(lab, 50);
            String stats = lab.stats();
            assertTrue(stats.contains(lab.devB + " xdp mode driver/copy"), stats);
            assertEquals(0, RouterLab.counter(stats, "internal_error"), stats);
            assertTrue(linkOf(lab).contains("prog/xdp"));
            lab.killRouter();
            lab.r.await("the program is gone with the killed router's link",
                    () -> !linkOf(lab).contains("xdp"), Duration.ofSeconds(20));
        }
    }

    @Test
    void errorsAreOneLine() {
        CliLab lab = CliLab.start(false);
        try {
            String dev = "xq" + lab.namespace().substring(lab.namespace().lastIndexOf('-') + 1);
            lab.execOk("ip", "link", "add", dev, "type", "veth", "peer", "name", dev + "p");
            lab.execOk("ip", "link", "set", dev, "up");
            lab.execOk("ip", "link", "set", dev + "p", "up");
            oneLine(lab.stack(T, "router", "--if", "xdp:nosuch0=198.18.1.1/24", "--if", "tap:" + lab.tap() + "=198.18.2.1/24",
                    "--cores", "1", "--no-pin").await(), "no interface nosuch0");
            oneLine(lab.stack(T, "router", "--if", "xdp:" + dev + "=198.18.1.1/24", "--if", "tap:" + lab.tap() + "=198.18.2.1/24",
                    "--cores", "2", "--no-pin").await(), dev + " has 1 receive queue and AF_XDP needs one per core (2)");
            oneLine(lab.stack(T, "endpoint", "--xdp", dev, "--addr", "198.18.1.1/24", "--cores", "2", "--no-pin").await(),
                    "numrxqueues 2");
            String link = lab.exec(T, "ip", "link", "show", dev).stdout();
            assertFalse(link.contains("xdp"), "nothing attached after a refused start: " + link);
        } finally {
            lab.close();
        }
    }

    private static void oneLine(NamespaceLab.Result r, String says) {
        assertEquals(2, r.exit(), r::toString);
        List<String> lines = r.stderr().lines().filter(l -> !l.isBlank()).toList();
        assertEquals(1, lines.size(), () -> "one line on stderr: " + r);
        assertTrue(lines.get(0).contains(says), r::toString);
        assertFalse(r.stderr().contains("Exception") || r.stderr().contains("\tat "), r::toString);
    }

    private static String linkOf(RouterLab lab) {
        NamespaceLab.Result r = lab.r.exec(T, "ip", "link", "show", lab.devB);
        assertEquals(0, r.exit(), r::toString);
        return r.stdout();
    }
}
