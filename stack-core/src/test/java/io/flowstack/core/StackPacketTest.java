package io.flowstack.core;

import static io.flowstack.core.testing.StackHarness.PEER;
import static io.flowstack.core.testing.StackHarness.PEER_MAC;
import static io.flowstack.core.testing.StackHarness.US;
import static io.flowstack.core.testing.StackHarness.US_MAC;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.percore.Ownership;
import io.flowstack.core.stats.Stat;
import io.flowstack.core.socket.UdpPeer;
import io.flowstack.core.socket.UdpSocket;
import io.flowstack.core.testing.Packets;
import io.flowstack.core.testing.Packets.Frame;
import io.flowstack.core.testing.StackHarness;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Packet-level tests of Ethernet, ARP, IPv4, ICMP and UDP on a fake clock (no threads, no sleeps). */
class StackPacketTest {
    private StackHarness h;
    private final SplittableRandom rnd = new SplittableRandom(42);

    @AfterEach
    void close() {
        if (h != null) {
            assertEquals(0, h.total(Stat.INTERNAL_ERROR));
            h.close();
        }
    }

    private byte[] random(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) rnd.nextInt();
        }
        return b;
    }

    private static List<Frame> ofType(List<Frame> frames, int type) {
        return frames.stream().filter(f -> f.type() == type).toList();
    }

    // ------------------------------------------------------------------ ARP

    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void arpRequestForUsGetsAReplyAndEveryCoreLearnsTheSender(int cores) {
        h = new StackHarness(cores);
        List<Frame> out = h.arpFromPeer(cores - 1);
        assertEquals(1, out.size());
        Frame reply = out.get(0);
        assertEquals(Packets.ETH_ARP, reply.type());
        assertEquals(PEER_MAC, reply.dst());
        assertEquals(2, reply.arpOp());
        assertEquals(US, reply.arpSpa());
        assertEquals(PEER, reply.arpTpa());
        for (int c = 0; c < cores; c++) {
            assertEquals(PEER_MAC, (long) h.stack.call(c, n -> n.arp(0).lookup(PEER)), "core " + c);
        }
        assertEquals(cores - 1, h.total(Stat.ARP_UPDATE_IN));
    }

    @Test
    void arpRequestForAnotherAddressIsIgnored() {
        h = new StackHarness(1);
        h.inject(0, Packets.ethernet(Packets.BROADCAST, PEER_MAC, Packets.ETH_ARP,
                Packets.arp(1, PEER_MAC, PEER, 0, Packets.ip("198.18.0.77"))));
        assertTrue(h.run().isEmpty());
        assertEquals(1, h.total(Stat.ARP_NOT_FOR_US));
        assertEquals(-1, (long) h.stack.call(0, n -> n.arp(0).lookup(PEER)));
    }

    @Test
    void gratuitousArpOnStart() {
        h = new StackHarness(1);
        h.stack.netisr(0).onStart();
        List<Frame> out = h.run();
        assertEquals(1, out.size());
        assertEquals(Packets.BROADCAST, out.get(0).dst());
        assertEquals(US, out.get(0).arpSpa());
        assertEquals(US, out.get(0).arpTpa());
    }

    @Test
    void unknownNeighbourIsResolvedThenQueuedReplyIsSent() {
        h = new StackHarness(1);
        byte[] data = random(56);
        h.inject(0, h.ipFrame(Packets.ipv4(PEER, US, 1, 1, 0, Packets.icmpEcho(8, 7, 1, data))));
        List<Frame> out = h.run();
        assertEquals(1, out.size(), "only an ARP request until resolved");
        assertEquals(Packets.ETH_ARP, out.get(0).type());
        assertEquals(1, out.get(0).arpOp());
        assertEquals(PEER, out.get(0).arpTpa());
        h.inject(0, Packets.ethernet(US_MAC, PEER_MAC, Packets.ETH_ARP, Packets.arp(2, PEER_MAC, PEER, US_MAC, US)));
        out = h.run();
        assertEquals(1, out.size());
        assertEquals(Packets.ETH_IPV4, out.get(0).type());
        assertEquals(PEER_MAC, out.get(0).dst());
        assertArrayEquals(data, Arrays.copyOfRange(out.get(0).l4(), 8, 64));
    }

    @Test
    void unresolvedNeighbourRetriesThenDropsTheQueue() {
        h = new StackHarness(1);
        h.inject(0, h.ipFrame(Packets.ipv4(PEER, US, 1, 1, 0, Packets.icmpEcho(8, 7, 1, random(8)))));
        h.inject(0, h.ipFrame(Packets.ipv4(PEER, US, 1, 2, 0, Packets.icmpEcho(8, 7, 2, random(8)))));
        int requests = h.run().size();
        for (int i = 0; i < 5; i++) {
            requests += h.advance(1_000_000_000L).size();
        }
        assertEquals(3, requests, "RFC 1122 2.3.2.1: bounded retries");
        assertEquals(2, h.total(Stat.ARP_UNRESOLVED));
        assertEquals(-1, (long) h.stack.call(0, n -> n.arp(0).lookup(PEER)));
    }

    @Test
    void arpEntryExpiresAfterRefreshGoesUnanswered() {
        h = new StackHarness(1, b -> b.arpTimeoutNanos(10_000_000_000L));
        h.arpFromPeer(0);
        List<Frame> refresh = h.advance(6_000_000_000L);
        assertEquals(1, refresh.size(), "unicast refresh before expiry");
        assertEquals(PEER_MAC, refresh.get(0).dst());
        h.advance(5_000_000_000L);
        assertEquals(-1, (long) h.stack.call(0, n -> n.arp(0).lookup(PEER)));
    }

    @Test
    void arpQueueIsBounded() {
        h = new StackHarness(1, b -> b.arpQueuePerNeighbour(4));
        for (int i = 0; i < 10; i++) {
            h.inject(0, h.ipFrame(Packets.ipv4(PEER, US, 1, i, 0, Packets.icmpEcho(8, 7, i, random(8)))));
        }
        h.run();
        assertEquals(6, h.total(Stat.ARP_QUEUE_FULL));
        h.inject(0, Packets.ethernet(US_MAC, PEER_MAC, Packets.ETH_ARP, Packets.arp(2, PEER_MAC, PEER, US_MAC, US)));
        assertEquals(4, ofType(h.run(), Packets.ETH_IPV4).size());
    }

    // ------------------------------------------------------------------ ICMP echo

    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void echoReplyCarriesIdenticalPayload(int cores) {
        h = new StackHarness(cores);
        h.arpFromPeer(0);
        for (int seq = 0; seq < 20; seq++) {
            byte[] data = random(56);
            h.inject(seq % cores, h.ipFrame(Packets.ipv4(PEER, US, 1, 100 + seq, 0, Packets.icmpEcho(8, 0x1234, seq, data))));
            List<Frame> out = h.run();
            assertEquals(1, out.size());
            Frame f = out.get(0);
            assertTrue(f.ipChecksumOk());
            assertEquals(US, f.ipSrc());
            assertEquals(PEER, f.ipDst());
            byte[] icmp = f.l4();
            assertEquals(0, icmp[0], "echo reply");
            assertEquals(0, Packets.checksum(icmp, 0, icmp.length, 0));
            assertEquals(0x1234, ByteBuffer.wrap(icmp).getShort(4) & 0xFFFF);
            assertEquals(seq, ByteBuffer.wrap(icmp).getShort(6) & 0xFFFF);
            assertArrayEquals(data, Arrays.copyOfRange(icmp, 8, icmp.length));
        }
    }

    /**
     * Issue 2 point 6, "options skipped": datagrams whose header carries options (Router Alert,
     * RFC 2113, then NOPs and End of Option List, RFC 791 3.1) are taken with the options
     * stepped over: the ICMP echo is answered with its payload unchanged, and a UDP datagram
     * reaches its socket, also on two cores (the flow hash finds the ports after the options).
     */
    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void datagramsWithIpOptionsAreTakenWithTheOptionsSkipped(int cores) {
        h = new StackHarness(cores);
        h.arpFromPeer(0);
        byte[] options = {(byte) 148, 4, 0, 0, 1, 1, 1, 0}; // Router Alert, NOP, NOP, NOP, EOL
        byte[] data = random(56);
        h.inject(0, h.ipFrame(Packets.ipv4WithOptions(PEER, US, 1, 300, options, Packets.icmpEcho(8, 0x77, 1, data))));
        List<Frame> out = h.run();
        assertEquals(1, out.size(), h.stack::countersReport);
        byte[] icmp = out.get(0).l4();
        assertEquals(0, icmp[0], "echo reply");
        assertEquals(0, Packets.checksum(icmp, 0, icmp.length, 0));
        assertArrayEquals(data, Arrays.copyOfRange(icmp, 8, icmp.length));

        UdpSocket s = h.stack.udpBind(7);
        byte[] buf = new byte[2048];
        UdpPeer from = new UdpPeer();
        for (int port = 40001; port < 40009; port++) { // flows of both cores
            byte[] payload = random(100);
            h.inject(0, h.ipFrame(Packets.ipv4WithOptions(PEER, US, 17, port, options,
                    Packets.udp(PEER, US, port, 7, payload))));
            h.run();
            int n = s.receive(buf, 0, buf.length, from, 0, TimeUnit.MILLISECONDS);
            assertEquals(100, n, h.stack::countersReport);
            assertEquals(port, from.port);
            assertArrayEquals(payload, Arrays.copyOf(buf, n));
        }
        s.close();
        assertEquals(0, h.stack.snapshot().drops(0) + (cores > 1 ? h.stack.snapshot().drops(1) : 0),
                h.stack::countersReport);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void fragmentedEchoIsReassembledAndTheReplyFragmented(int cores) {
        h = new StackHarness(cores);
        h.arpFromPeer(0);
        byte[] data = random(4000);
        byte[] req = Packets.ipv4(PEER, US, 1, 999, 0, Packets.icmpEcho(8, 1, 1, data));
        List<byte[]> frags = Packets.fragment(req, 1500);
        assertEquals(3, frags.size());
        for (int i = frags.size() - 1; i >= 0; i--) { // out of order, spread over queues
            h.inject(i % cores, h.ipFrame(frags.get(i)));
        }
        List<Frame> out = h.run();
        assertEquals(3, out.size());
        List<byte[]> replyFrags = new ArrayList<>();
        for (Frame f : out) {
            assertTrue(f.bytes().length <= 1514);
            assertTrue(f.isFragment());
            assertTrue(f.ipChecksumOk());
            replyFrags.add(f.datagram());
        }
        byte[] reply = Packets.reassemble(replyFrags);
        byte[] icmp = Arrays.copyOfRange(reply, 20, reply.length);
        assertEquals(0, icmp[0]);
        assertEquals(0, Packets.checksum(icmp, 0, icmp.length, 0));
        assertArrayEquals(data, Arrays.copyOfRange(icmp, 8, icmp.length));
        assertEquals(1, h.total(Stat.FRAG_REASSEMBLED));
        assertEquals(3, h.total(Stat.IP_FRAGMENTS_OUT));
    }

    @Test
    void echoToBroadcastIsIgnored() {
        h = new StackHarness(1);
        h.arpFromPeer(0);
        h.inject(0, Packets.ethernet(Packets.BROADCAST, PEER_MAC, Packets.ETH_IPV4,
                Packets.ipv4(PEER, Packets.ip("198.18.0.255"), 1, 1, 0, Packets.icmpEcho(8, 1, 1, random(8)))));
        assertTrue(h.run().isEmpty());
        assertEquals(1, h.total(Stat.ICMP_ECHO_BROADCAST));
    }

    // ------------------------------------------------------------------ UDP

    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void closedUdpPortGetsPortUnreachableQuotingTheDatagram(int cores) {
        h = new StackHarness(cores);
        h.arpFromPeer(0);
        byte[] dgram = Packets.ipv4(PEER, US, 17, 4242, 0, Packets.udp(PEER, US, 40000, 9999, random(100)));
        h.inject(0, h.ipFrame(dgram));
        List<Frame> out = h.run();
        assertEquals(1, out.size());
        byte[] icmp = out.get(0).l4();
        assertEquals(3, icmp[0]);
        assertEquals(3, icmp[1]);
        assertEquals(0, Packets.checksum(icmp, 0, icmp.length, 0));
        assertArrayEquals(dgram, Arrays.copyOfRange(icmp, 8, icmp.length), "quotes the whole (short) datagram");
        assertEquals(1, h.total(Stat.UDP_NO_PORT));
        assertEquals(1, h.total(Stat.ICMP_OUT_UNREACH));
    }

    @Test
    void icmpErrorsAreRateLimited() {
        h = new StackHarness(1, b -> b.icmpErrorsPerSecond(100).icmpErrorBurst(10));
        h.arpFromPeer(0);
        for (int i = 0; i < 50; i++) {
            h.inject(0, h.ipFrame(Packets.ipv4(PEER, US, 17, i, 0, Packets.udp(PEER, US, 40000, 9999, random(4)))));
        }
        assertEquals(10, h.run().size());
        assertEquals(40, h.total(Stat.ICMP_RATE_LIMITED));
        h.inject(0, h.ipFrame(Packets.ipv4(PEER, US, 17, 77, 0, Packets.udp(PEER, US, 40000, 9999, random(4)))));
        assertEquals(1, h.advance(20_000_000L).size(), "tokens refill at 100/s");
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void udpSocketReceivesAndSendsThroughTheApi(int cores) {
        h = new StackHarness(cores);
        h.arpFromPeer(0);
        UdpSocket s = h.stack.udpBind(7);
        byte[] buf = new byte[65536];
        UdpPeer from = new UdpPeer();
        for (int size : new int[] {1, 1472, 8000}) {
            byte[] data = random(size);
            byte[] dgram = Packets.ipv4(PEER, US, 17, size, 0, Packets.udp(PEER, US, 40001, 7, data));
            for (byte[] f : Packets.fragment(dgram, 1500)) {
                h.inject(0, h.ipFrame(f));
            }
            h.run();
            int n = s.receive(buf, 0, buf.length, from, 0, TimeUnit.MILLISECONDS);
            assertEquals(size, n);
            assertEquals(PEER, from.address);
            assertEquals(40001, from.port);
            assertArrayEquals(data, Arrays.copyOf(buf, n));
            assertTrue(s.send(buf, 0, n, from.address, from.port));
            List<Frame> out = h.run();
            List<byte[]> parts = out.stream().map(Frame::datagram).toList();
            byte[] back = parts.size() == 1 ? parts.get(0) : Packets.reassemble(parts);
            byte[] udp = Arrays.copyOfRange(back, 20, back.length);
            assertEquals(7, ByteBuffer.wrap(udp).getShort(0) & 0xFFFF);
            assertEquals(40001, ByteBuffer.wrap(udp).getShort(2) & 0xFFFF);
            long pseudo = (US >>> 16) + (US & 0xFFFF) + (PEER >>> 16) + (PEER & 0xFFFF) + 17 + udp.length;
            assertEquals(0, Packets.checksum(udp, 0, udp.length, pseudo), "UDP checksum verifies");
            assertArrayEquals(data, Arrays.copyOfRange(udp, 8, udp.length));
        }
        assertEquals(-1, s.receive(buf, 0, buf.length, from, 0, TimeUnit.MILLISECONDS));
        s.close();
        h.inject(0, h.ipFrame(Packets.ipv4(PEER, US, 17, 1, 0, Packets.udp(PEER, US, 40001, 7, random(4)))));
        h.run();
        assertEquals(1, h.total(Stat.UDP_NO_PORT), "closed socket unbinds on every core");
    }

    /** RFC 1122 4.1.3.3: UDP passes ICMP errors to the socket that sent the datagram, in order. */
    @Test
    void icmpPortUnreachableReachesTheSendingSocketInOrderWithItsDatagrams() {
        h = new StackHarness(1);
        h.arpFromPeer(0);
        try (UdpSocket s = h.stack.udpBind(5001)) {
            assertTrue(s.send(new byte[] {1, 2, 3}, 0, 3, PEER, 9));
            Packets.Frame sent = h.run().stream().filter(f -> f.type() == Packets.ETH_IPV4 && f.ipProto() == 17)
                    .findFirst().orElseThrow();
            // a datagram from the peer first, then the error about ours
            h.inject(0, h.ipFrame(Packets.ipv4(PEER, US, 17, 11, 0, Packets.udp(PEER, US, 7, 5001, new byte[] {9}))));
            h.inject(0, h.ipFrame(Packets.ipv4(PEER, US, 1, 12, 0, Packets.icmpError(3, 3, 0, sent.bytes()))));
            h.run();
            byte[] buf = new byte[100];
            assertEquals(1, s.receive(buf, 0, buf.length, null, 0, TimeUnit.MILLISECONDS));
            var e = assertThrows(io.flowstack.core.socket.UdpIcmpError.class,
                    () -> s.receive(buf, 0, buf.length, null, 0, TimeUnit.MILLISECONDS));
            assertEquals(PEER, e.destination());
            assertEquals(9, e.destinationPort());
            assertEquals(3, e.code());
            assertEquals("ICMP port unreachable for the datagram from port 5001 to 198.18.0.1:9", e.getMessage());
            assertEquals(-1, s.receive(buf, 0, buf.length, null, 0, TimeUnit.MILLISECONDS));
            assertEquals(1, h.total(Stat.UDP_ICMP_ERRORS));
        }
    }

    @Test
    void bindingAPortTwiceIsRefused() {
        h = new StackHarness(1);
        try (UdpSocket s = h.stack.udpBind(5000)) {
            var e = assertThrows(io.flowstack.core.socket.StackException.class, () -> h.stack.udpBind(5000));
            assertTrue(e.getMessage().contains("already bound"), e.getMessage());
            UdpSocket eph = h.stack.udpBind(0);
            assertTrue(eph.port() >= 49152, "RFC 6056 ephemeral range");
            eph.close();
        }
    }

    @Test
    void udpReceiveBufferOverflowIsCountedNotFatal() {
        h = new StackHarness(1, b -> b.udpReceiveBufferBytes(1 << 16));
        h.arpFromPeer(0);
        UdpSocket s = h.stack.udpBind(7);
        for (int i = 0; i < 100; i++) {
            h.inject(0, h.ipFrame(Packets.ipv4(PEER, US, 17, i, 0, Packets.udp(PEER, US, 40001, 7, random(1400)))));
        }
        h.run();
        assertTrue(h.total(Stat.UDP_RCVBUF_FULL) > 0);
        assertEquals(100, h.total(Stat.UDP_RCVBUF_FULL) + countReceived(s));
    }

    private static int countReceived(UdpSocket s) {
        byte[] buf = new byte[2000];
        int n = 0;
        while (s.receive(buf, 0, buf.length, null, 0, TimeUnit.MILLISECONDS) >= 0) {
            n++;
        }
        return n;
    }

    // ------------------------------------------------------------------ cores and ownership

    @Test
    void aFrameReadByTheWrongCoreHopsToItsOwner() {
        h = new StackHarness(2);
        h.arpFromPeer(0);
        // find a source port whose flow is owned by core 1, inject it on core 0's queue
        int sport = 40000;
        while (h.stack.coreFor(US, PEER, 9999, sport) != 1) {
            sport++;
        }
        h.inject(0, h.ipFrame(Packets.ipv4(PEER, US, 17, 1, 0, Packets.udp(PEER, US, sport, 9999, random(8)))));
        List<Frame> out = h.run();
        assertEquals(1, out.size());
        assertEquals(1, h.stack.counters(0).get(Stat.HOP_OUT));
        assertEquals(1, h.stack.counters(1).get(Stat.HOP_IN) - h.stack.counters(1).get(Stat.ARP_UPDATE_IN));
        assertEquals(1, h.stack.counters(1).get(Stat.UDP_NO_PORT));
        assertEquals(1, h.stack.counters(1).get(Stat.TX_FRAMES), "the owner answers on its own TX queue");
    }

    @Test
    void aForeignThreadTouchingCoreStateIsCaught() throws Exception {
        assertTrue(Ownership.ENABLED, "tests run with -Dflowstack.ownership.check=true");
        h = new StackHarness(1);
        long before = Ownership.violations();
        CompletableFuture<Throwable> f = CompletableFuture.supplyAsync(() -> {
            try {
                h.stack.netisr(0).arp(0).lookup(PEER);
                return null;
            } catch (Throwable t) {
                return t;
            }
        });
        Throwable t = f.get(5, TimeUnit.SECONDS);
        assertTrue(t instanceof Ownership.OwnershipViolation, String.valueOf(t));
        assertEquals(before + 1, Ownership.violations());
    }

    // ------------------------------------------------------------------ bad input

    @Test
    void malformedFramesAreDroppedUnderNamedReasons() {
        h = new StackHarness(1);
        h.arpFromPeer(0);
        byte[] good = Packets.ipv4(PEER, US, 1, 1, 0, Packets.icmpEcho(8, 1, 1, random(16)));
        check(Stat.ETH_TRUNCATED, Arrays.copyOf(h.ipFrame(good), 10));
        check(Stat.ETH_NOT_FOR_US, Packets.ethernet(0x02_00_00_00_00_99L, PEER_MAC, Packets.ETH_IPV4, good));
        check(Stat.ETH_UNKNOWN_TYPE, Packets.ethernet(US_MAC, PEER_MAC, 0x86DD, good));
        check(Stat.ARP_TRUNCATED, Packets.ethernet(US_MAC, PEER_MAC, Packets.ETH_ARP, new byte[20]));
        byte[] badArp = Packets.arp(1, PEER_MAC, PEER, 0, US);
        badArp[1] = 6; // hardware type 6 (IEEE 802)
        check(Stat.ARP_BAD_FORMAT, Packets.ethernet(Packets.BROADCAST, PEER_MAC, Packets.ETH_ARP, badArp));
        byte[] badOp = Packets.arp(9, PEER_MAC, PEER, 0, US);
        check(Stat.ARP_BAD_OPCODE, Packets.ethernet(Packets.BROADCAST, PEER_MAC, Packets.ETH_ARP, badOp));
        check(Stat.IP_TRUNCATED, h.ipFrame(Arrays.copyOf(good, 19)));
        byte[] v6 = good.clone();
        v6[0] = 0x65;
        check(Stat.IP_BAD_VERSION, h.ipFrame(v6));
        byte[] ihl = good.clone();
        ihl[0] = 0x44;
        check(Stat.IP_BAD_IHL, h.ipFrame(ihl));
        byte[] bigIhl = good.clone();
        bigIhl[0] = 0x4F; // 60 bytes of header in a 44-byte datagram
        check(Stat.IP_BAD_IHL, h.ipFrame(Arrays.copyOf(bigIhl, 44)));
        byte[] longTotal = good.clone();
        longTotal[2] = 0x10; // total length 4096+ in a short frame
        check(Stat.IP_BAD_LENGTH, h.ipFrame(fixIpChecksum(longTotal)));
        byte[] shortTotal = good.clone();
        shortTotal[2] = 0;
        shortTotal[3] = 10;
        check(Stat.IP_BAD_LENGTH, h.ipFrame(fixIpChecksum(shortTotal)));
        byte[] badSum = good.clone();
        badSum[10] ^= 0x55;
        check(Stat.IP_BAD_CHECKSUM, h.ipFrame(badSum));
        check(Stat.IP_BAD_SOURCE, h.ipFrame(Packets.ipv4(Packets.ip("224.0.0.1"), US, 1, 1, 0, Packets.icmpEcho(8, 1, 1, random(4)))));
        check(Stat.IP_NOT_FOR_US, h.ipFrame(Packets.ipv4(PEER, Packets.ip("198.18.0.9"), 1, 1, 0, Packets.icmpEcho(8, 1, 1, random(4)))));
        check(Stat.ICMP_TRUNCATED, h.ipFrame(Packets.ipv4(PEER, US, 1, 1, 0, new byte[] {8, 0, 0, 0})));
        byte[] icmpBad = Packets.icmpEcho(8, 1, 1, random(16));
        icmpBad[9] ^= 1;
        check(Stat.ICMP_BAD_CHECKSUM, h.ipFrame(Packets.ipv4(PEER, US, 1, 1, 0, icmpBad)));
        check(Stat.UDP_TRUNCATED, h.ipFrame(Packets.ipv4(PEER, US, 17, 1, 0, new byte[6])));
        byte[] udpLong = Packets.udp(PEER, US, 1, 7, random(10));
        udpLong[5] = 100; // length 100 > 18 bytes carried
        check(Stat.UDP_BAD_LENGTH, h.ipFrame(Packets.ipv4(PEER, US, 17, 1, 0, udpLong)));
        byte[] udpBad = Packets.udp(PEER, US, 1, 7, random(10));
        udpBad[12] ^= 1;
        check(Stat.UDP_BAD_CHECKSUM, h.ipFrame(Packets.ipv4(PEER, US, 17, 1, 0, udpBad)));
        byte[] sctp = Packets.ipv4(PEER, US, 132, 1, 0, new byte[20]);
        h.inject(0, h.ipFrame(sctp));
        List<Frame> out = h.run();
        assertEquals(1, h.total(Stat.IP_UNKNOWN_PROTOCOL));
        assertEquals(1, out.size(), "protocol unreachable");
        assertEquals(2, out.get(0).l4()[1]);
        // still answering normally
        h.inject(0, h.ipFrame(good));
        assertEquals(1, h.run().size());
    }

    private void check(Stat expected, byte[] frame) {
        long before = h.total(expected);
        long dropsBefore = h.stack.counters(0).drops();
        h.inject(0, frame);
        List<Frame> out = h.run();
        assertEquals(before + 1, h.total(expected), expected.key());
        assertEquals(dropsBefore + 1, h.stack.counters(0).drops(), "exactly one drop for " + expected.key());
        assertTrue(out.isEmpty(), "no reply to a dropped frame (" + expected.key() + ")");
    }

    private static byte[] fixIpChecksum(byte[] d) {
        d[10] = 0;
        d[11] = 0;
        int c = Packets.checksum(d, 0, 20, 0);
        d[10] = (byte) (c >>> 8);
        d[11] = (byte) c;
        return d;
    }

    // ------------------------------------------------------------------ reassembly

    @Test
    void overlappingFragmentsDropTheWholeDatagram() {
        h = new StackHarness(1);
        h.arpFromPeer(0);
        byte[] req = Packets.ipv4(PEER, US, 1, 5, 0, Packets.icmpEcho(8, 1, 1, random(3000)));
        List<byte[]> frags = Packets.fragment(req, 1500);
        byte[] overlap = Packets.ipv4(PEER, US, 1, 5, 0x2000 | 10, random(160)); // bytes 80..240
        h.inject(0, h.ipFrame(frags.get(0)));
        h.inject(0, h.ipFrame(overlap));
        h.inject(0, h.ipFrame(frags.get(1)));
        h.inject(0, h.ipFrame(frags.get(2)));
        List<Frame> out = h.run();
        assertEquals(1, h.total(Stat.FRAG_OVERLAP));
        assertEquals(0, h.total(Stat.FRAG_REASSEMBLED) - 0, "the attacked datagram is never delivered whole");
        assertTrue(out.isEmpty());
    }

    @Test
    void exactDuplicateFragmentIsIgnored() {
        h = new StackHarness(1);
        h.arpFromPeer(0);
        byte[] req = Packets.ipv4(PEER, US, 1, 6, 0, Packets.icmpEcho(8, 1, 1, random(2000)));
        List<byte[]> frags = Packets.fragment(req, 1500);
        h.inject(0, h.ipFrame(frags.get(0)));
        h.inject(0, h.ipFrame(frags.get(0)));
        h.inject(0, h.ipFrame(frags.get(1)));
        assertEquals(2, h.run().size());
        assertEquals(1, h.total(Stat.FRAG_DUPLICATE));
        assertEquals(1, h.total(Stat.FRAG_REASSEMBLED));
    }

    @Test
    void pingOfDeathIsDropped() {
        h = new StackHarness(1);
        h.arpFromPeer(0);
        byte[] last = Packets.ipv4(PEER, US, 1, 9, 8189, random(100)); // offset 65512 + 100 > 65535
        h.inject(0, h.ipFrame(last));
        h.run();
        assertEquals(1, h.total(Stat.FRAG_TOO_BIG));
    }

    /**
     * Issue 13 point 4: the rebuilt datagram carries the first fragment's header. A 60-byte
     * first header and a last fragment ending at 65,515 (65,535 with its own 20-byte header)
     * would wrap the total length; counted as too big, in either order, and nothing delivered.
     */
    @Test
    void aLongFirstHeaderCountsInTheReassembledLength() {
        for (boolean firstFirst : new boolean[] {true, false}) {
            h = new StackHarness(1);
            h.arpFromPeer(0);
            byte[] options = new byte[40];
            java.util.Arrays.fill(options, (byte) 1); // NOPs: a 60-byte header
            byte[] first = Packets.ipv4WithOptions(PEER, US, 1, 11, options, random(8));
            first[6] = 0x20; // MF, offset 0
            first[10] = 0;
            first[11] = 0;
            int c = Packets.checksum(first, 0, 60, 0);
            first[10] = (byte) (c >>> 8);
            first[11] = (byte) c;
            byte[] last = Packets.ipv4(PEER, US, 1, 11, 8189, random(3)); // 65,512 + 3 = 65,515
            h.inject(0, h.ipFrame(firstFirst ? first : last));
            h.inject(0, h.ipFrame(firstFirst ? last : first));
            assertTrue(h.run().isEmpty(), "nothing answered");
            assertEquals(1, h.total(Stat.FRAG_TOO_BIG), "first fragment first: " + firstFirst);
            assertEquals(0, (int) h.stack.call(0, n -> n.ip().reassembly().inProgress()), "the slot freed");
            h.close();
        }
        h = null;
    }

    @Test
    void incompleteDatagramTimesOutWithTimeExceeded() {
        h = new StackHarness(1);
        h.arpFromPeer(0);
        byte[] req = Packets.ipv4(PEER, US, 1, 8, 0, Packets.icmpEcho(8, 1, 1, random(3000)));
        h.inject(0, h.ipFrame(Packets.fragment(req, 1500).get(0)));
        assertTrue(h.run().isEmpty());
        assertEquals(1, (int) h.stack.call(0, n -> n.ip().reassembly().inProgress()));
        assertTrue(h.advance(29_000_000_000L).isEmpty());
        List<Frame> out = h.advance(2_000_000_000L);
        assertEquals(1, h.total(Stat.FRAG_TIMEOUT));
        assertEquals(1, out.size());
        assertEquals(11, out.get(0).l4()[0], "time exceeded");
        assertEquals(1, out.get(0).l4()[1], "fragment reassembly time exceeded");
        assertEquals(0, (int) h.stack.call(0, n -> n.ip().reassembly().inProgress()));
        assertEquals(0L, (long) h.stack.call(0, n -> n.ip().reassembly().memoryUsed()));
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void fragmentBombStaysWithinTheMemoryBudget(int cores) {
        long budget = 1 << 20;
        h = new StackHarness(cores, b -> b.reassemblyMemoryBytes(budget));
        h.arpFromPeer(0);
        for (int i = 0; i < 5000; i++) {
            int src = Packets.ip("198.18.0.10") + (i % 50);
            byte[] first = Packets.ipv4(src, US, 17, i, 0x2000, random(1480));
            h.inject(i % cores, Packets.ethernet(US_MAC, PEER_MAC, Packets.ETH_IPV4, first));
            if (i % 100 == 0) {
                h.run();
            }
        }
        h.run();
        for (int c = 0; c < cores; c++) {
            long used = h.stack.call(c, n -> n.ip().reassembly().memoryUsed());
            assertTrue(used <= budget, "core " + c + " holds " + used);
        }
        assertTrue(h.total(Stat.FRAG_NO_MEMORY) + h.total(Stat.FRAG_FLOW_LIMIT) > 0);
        // a legitimate fragmented ping still works during the attack
        byte[] data = random(4000);
        for (byte[] f : Packets.fragment(Packets.ipv4(PEER, US, 1, 31337, 0, Packets.icmpEcho(8, 1, 1, data)), 1500)) {
            h.inject(0, h.ipFrame(f));
        }
        List<byte[]> reply = h.run().stream().filter(f -> f.ipDst() == PEER).map(Frame::datagram).toList();
        assertEquals(3, reply.size());
        byte[] r = Packets.reassemble(reply);
        assertArrayEquals(data, Arrays.copyOfRange(r, 28, r.length));
        assertFalse(h.total(Stat.INTERNAL_ERROR) > 0);
    }
}
