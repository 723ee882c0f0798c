package io.flowstack.core;

import static io.flowstack.core.testing.StackHarness.PEER;
import static io.flowstack.core.testing.StackHarness.US;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.stats.Stat;
import io.flowstack.core.testing.Packets;
import io.flowstack.core.testing.Packets.Frame;
import io.flowstack.core.testing.StackHarness;
import io.flowstack.services.UdpEchoService;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The UDP echo service passes over an ICMP error about one of its echoes (a client that went
 * away: RFC 1122 4.1.3.3 reports it to the socket) and serves the next client. It used to stop
 * for good (seen in the soak test: "udp-echo on port 7 stopped: ICMP port unreachable").
 */
class UdpEchoIcmpTest {
    @Test
    void anIcmpErrorAboutAnEchoDoesNotStopTheService() {
        try (StackHarness h = new StackHarness(1); UdpEchoService echo = new UdpEchoService(h.stack, 7)) {
            h.arpFromPeer(0);
            h.inject(0, h.ipFrame(Packets.ipv4(PEER, US, 17, 1, 0, Packets.udp(PEER, US, 40000, 7, new byte[] {1, 2}))));
            Frame first = awaitEcho(h);
            // the client's port is gone: its kernel says so about the echo
            h.inject(0, h.ipFrame(Packets.ipv4(PEER, US, 1, 2, 0, Packets.icmpError(3, 3, 0, first.bytes()))));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (echo.icmpErrors() == 0 && System.nanoTime() < deadline) {
                h.run();
            }
            assertEquals(1, echo.icmpErrors());
            assertEquals(1, h.total(Stat.UDP_ICMP_ERRORS));
            h.inject(0, h.ipFrame(Packets.ipv4(PEER, US, 17, 3, 0, Packets.udp(PEER, US, 40001, 7, new byte[] {3}))));
            awaitEcho(h);
            assertEquals(2, echo.echoed(), "the next client is served");
        }
    }

    /** Runs the stack until it sends a UDP datagram (the echo), at most 10 s; returns its frame. */
    private static Frame awaitEcho(StackHarness h) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        List<Frame> seen = new ArrayList<>();
        while (System.nanoTime() < deadline) {
            for (Frame f : h.run()) {
                seen.add(f);
                if (f.type() == Packets.ETH_IPV4 && f.ipProto() == 17) {
                    return f;
                }
            }
        }
        assertTrue(false, "no echo within 10 s; frames: " + seen.size());
        return null;
    }
}
