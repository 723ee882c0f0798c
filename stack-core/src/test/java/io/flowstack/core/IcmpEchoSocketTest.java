package io.flowstack.core;

import static io.flowstack.core.testing.StackHarness.PEER;
import static io.flowstack.core.testing.StackHarness.PEER_MAC;
import static io.flowstack.core.testing.StackHarness.US;
import static io.flowstack.core.testing.StackHarness.US_MAC;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.percore.Ownership;
import io.flowstack.core.stats.Stat;
import io.flowstack.core.socket.IcmpEchoSocket;
import io.flowstack.core.socket.IcmpEchoSocket.Reply;
import io.flowstack.core.socket.StackException;
import io.flowstack.core.testing.Packets;
import io.flowstack.core.testing.Packets.Frame;
import io.flowstack.core.testing.StackHarness;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The ICMP echo client ({@link IcmpEchoSocket}, RFC 792) at packet level on a fake clock: the
 * request on the wire, replies (plain, fragmented, arriving on another core's queue, duplicated,
 * damaged, for another identifier), errors quoting a request, ARP first, a full ring, and no
 * allocation on the netisr when replies arrive.
 */
class IcmpEchoSocketTest {
    private static final int ROUTER = Packets.ip("198.18.0.254");
    private StackHarness h;
    private IcmpEchoSocket sock;
    private final Reply r = new Reply();

    @AfterEach
    void close() {
        if (h != null) {
            assertEquals(0, h.total(Stat.INTERNAL_ERROR));
            assertEquals(0, Ownership.violations());
            h.close();
        }
    }

    private void open(int cores) {
        h = new StackHarness(cores);
        h.arpFromPeer(0); // every core learns the peer's MAC
        sock = h.stack.icmpEchoOpen();
    }

    /** The echo requests the stack sent (whole datagrams; fragments reassembled). */
    private static List<byte[]> requests(List<Frame> out) {
        List<byte[]> whole = new ArrayList<>();
        List<byte[]> frags = new ArrayList<>();
        for (Frame f : out) {
            assertEquals(Packets.ETH_IPV4, f.type());
            assertTrue(f.ipChecksumOk());
            if (f.isFragment()) {
                frags.add(f.datagram());
                if ((f.fragWord() & 0x2000) == 0) {
                    whole.add(Packets.reassemble(frags));
                    frags.clear();
                }
            } else {
                whole.add(f.datagram());
            }
        }
        return whole;
    }

    /** What the peer answers to a request datagram (RFC 792: same id, seq and data, type 0). */
    private static byte[] answer(byte[] request) {
        byte[] icmp = Arrays.copyOfRange(request, 20, request.length);
        ByteBuffer b = ByteBuffer.wrap(icmp);
        return Packets.ipv4(PEER, US, 1, 4242, 0,
                Packets.icmpEcho(0, b.getShort(4) & 0xFFFF, b.getShort(6) & 0xFFFF, Arrays.copyOfRange(icmp, 8, icmp.length)));
    }

    private byte[] frame(byte[] datagram) {
        return Packets.ethernet(US_MAC, PEER_MAC, Packets.ETH_IPV4, datagram);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void anEchoRoundTripOnTheFakeClock(int cores) {
        open(cores);
        long t0 = h.now;
        assertTrue(sock.send(PEER, 1, 56));
        List<Frame> out = h.run();
        assertEquals(1, out.size());
        Frame f = out.get(0);
        assertEquals(PEER_MAC, f.dst());
        assertEquals(US, f.ipSrc());
        assertEquals(PEER, f.ipDst());
        assertEquals(1, f.ipProto());
        byte[] icmp = f.l4();
        assertEquals(64, icmp.length, "8 + 56");
        assertEquals(0, Packets.checksum(icmp, 0, icmp.length, 0), "RFC 1071 checksum");
        ByteBuffer b = ByteBuffer.wrap(icmp);
        assertEquals(8, icmp[0], "echo request");
        assertEquals(0, icmp[1]);
        assertEquals(sock.id(), b.getShort(4) & 0xFFFF);
        assertEquals(1, b.getShort(6) & 0xFFFF);
        assertEquals(t0, b.getLong(8), "the netisr's time of sending");
        for (int i = 8; i < 56; i++) {
            assertEquals((byte) IcmpEchoSocket.expectedByte(i), icmp[8 + i], "data byte " + i);
        }

        assertFalse(sock.receive(r, 0, TimeUnit.SECONDS));
        h.now += 1_500_000;
        // the reply lands on the last queue: on two cores one of them must hop to the owner
        h.inject(cores - 1, frame(answer(f.datagram())));
        h.run();
        assertTrue(sock.receive(r, 0, TimeUnit.SECONDS));
        assertTrue(r.isReply);
        assertEquals(PEER, r.from);
        assertEquals(1, r.seq);
        assertEquals(64, r.ttl);
        assertEquals(56, r.dataLen);
        assertEquals(-1, r.badByte);
        assertTrue(r.hasRtt());
        assertEquals(1_500_000, r.rttNanos());
        assertFalse(sock.receive(r, 0, TimeUnit.SECONDS));
        assertEquals(1, h.total(Stat.ICMP_IN_ECHO_REPLY));
        assertEquals(0, sock.ringFull());
    }

    @Test
    void repliesForAnotherIdentifierAreNotDeliveredButDuplicatesAndDamageAreReported() {
        open(1);
        sock.send(PEER, 7, 32);
        byte[] request = requests(h.run()).get(0);
        byte[] reply = answer(request);
        try (IcmpEchoSocket other = h.stack.icmpEchoOpen()) {
            assertNotEquals(sock.id(), other.id());
            h.inject(0, frame(reply));
            h.run();
            assertFalse(other.receive(r, 0, TimeUnit.SECONDS), "not its identifier");
        }
        assertTrue(sock.receive(r, 0, TimeUnit.SECONDS));
        h.inject(0, frame(reply));
        h.run();
        assertTrue(sock.receive(r, 0, TimeUnit.SECONDS), "a duplicate is delivered (ping says DUP!)");
        assertEquals(7, r.seq);

        byte[] icmp = Arrays.copyOfRange(reply, 20, reply.length);
        icmp[8 + 20] ^= 0x40; // data byte 20, checksum recomputed: damage that only the data check sees
        byte[] damaged = Packets.icmpEcho(0, sock.id(), 7, Arrays.copyOfRange(icmp, 8, icmp.length));
        h.inject(0, frame(Packets.ipv4(PEER, US, 1, 1, 0, damaged)));
        h.run();
        assertTrue(sock.receive(r, 0, TimeUnit.SECONDS));
        assertEquals(20, r.badByte);
        assertEquals(20 ^ 0x40, r.badValue);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void aFragmentedEchoOf4000Bytes(int cores) {
        open(cores);
        assertTrue(sock.send(PEER, 3, 4000));
        List<Frame> out = h.run();
        assertEquals(3, out.size(), "4028 bytes over a 1500-byte MTU");
        assertTrue(out.stream().allMatch(Frame::isFragment));
        byte[] request = requests(out).get(0);
        assertEquals(20 + 8 + 4000, request.length);
        List<byte[]> frags = Packets.fragment(answer(request), 1500);
        for (int i = 0; i < frags.size(); i++) {
            h.inject(i % cores, frame(frags.get(i)));
        }
        h.advance(2_000_000);
        assertTrue(sock.receive(r, 0, TimeUnit.SECONDS));
        assertEquals(4000, r.dataLen);
        assertEquals(-1, r.badByte);
        assertEquals(2_000_000, r.rttNanos());
        assertEquals(1, h.total(Stat.FRAG_REASSEMBLED));
    }

    @Test
    void anErrorQuotingOurRequestReachesTheClient() {
        int far = Packets.ip("198.19.7.7");
        h = new StackHarness(2, b -> b.gateway(ROUTER));
        h.inject(0, Packets.ethernet(Packets.BROADCAST, PEER_MAC, Packets.ETH_ARP, Packets.arp(1, PEER_MAC, ROUTER, 0, US)));
        h.run();
        sock = h.stack.icmpEchoOpen();
        sock.send(far, 9, 56);
        byte[] request = requests(h.run()).get(0);
        assertEquals(far, ByteBuffer.wrap(request).getInt(16));
        // RFC 792 destination unreachable (host unreachable): the router quotes the IP header + 8 bytes
        byte[] quote = Arrays.copyOf(request, 28);
        byte[] err = new byte[8 + quote.length];
        err[0] = 3;
        err[1] = 1;
        System.arraycopy(quote, 0, err, 8, quote.length);
        int c = Packets.checksum(err, 0, err.length, 0);
        err[2] = (byte) (c >>> 8);
        err[3] = (byte) c;
        h.inject(1, frame(Packets.ipv4(ROUTER, US, 1, 77, 0, err)));
        h.run();
        assertTrue(sock.receive(r, 0, TimeUnit.SECONDS));
        assertFalse(r.isReply);
        assertEquals(ROUTER, r.from);
        assertEquals(3, r.type);
        assertEquals(1, r.code);
        assertEquals(9, r.seq);
        assertEquals(far, r.errorDst);
        // one quoting another identifier's request is only counted
        ByteBuffer.wrap(err).putShort(8 + 20 + 4, (short) (sock.id() ^ 1)).putShort(2, (short) 0);
        c = Packets.checksum(err, 0, err.length, 0);
        err[2] = (byte) (c >>> 8);
        err[3] = (byte) c;
        h.inject(0, frame(Packets.ipv4(ROUTER, US, 1, 78, 0, err)));
        h.run();
        assertFalse(sock.receive(r, 0, TimeUnit.SECONDS));
        assertEquals(2, h.total(Stat.ICMP_IN_ERROR));
    }

    @ParameterizedTest
    @ValueSource(ints = {56, 4000})
    void theFirstRequestWaitsForArpAndLeavesIntact(int size) {
        h = new StackHarness(1);
        sock = h.stack.icmpEchoOpen();
        long t0 = h.now;
        sock.send(PEER, 1, size);
        List<Frame> out = h.run();
        assertEquals(1, out.size());
        assertEquals(Packets.ETH_ARP, out.get(0).type(), "who-has the peer first");
        h.inject(0, Packets.ethernet(US_MAC, PEER_MAC, Packets.ETH_ARP, Packets.arp(2, PEER_MAC, PEER, US_MAC, US)));
        out = h.run();
        List<byte[]> reqs = requests(out);
        assertEquals(1, reqs.size(), "then the queued request (all its fragments)");
        // every fragment was queued whole: the ARP request sent meanwhile did not overwrite the datagram
        byte[] icmp = Arrays.copyOfRange(reqs.get(0), 20, reqs.get(0).length);
        assertEquals(8 + size, icmp.length);
        assertEquals(0, Packets.checksum(icmp, 0, icmp.length, 0), "RFC 1071 checksum of the reassembled request");
        ByteBuffer b = ByteBuffer.wrap(icmp);
        assertEquals(sock.id(), b.getShort(4) & 0xFFFF);
        assertEquals(t0, b.getLong(8));
        for (int i = 8; i < size; i++) {
            assertEquals((byte) IcmpEchoSocket.expectedByte(i), icmp[8 + i], "data byte " + i);
        }
    }

    @Test
    void aFullRingDropsAndCountsTheRepliesAndTheStackGoesOn() {
        open(1);
        int n = 24; // of 65507 data bytes: a 1 MiB ring holds 15
        byte[] reply = null;
        for (int i = 0; i < n; i++) {
            sock.send(PEER, i, IcmpEchoSocket.MAX_DATA);
            byte[] request = requests(h.run()).get(0);
            reply = answer(request);
            for (byte[] frag : Packets.fragment(reply, 1500)) {
                h.inject(0, frame(frag));
            }
            h.run();
        }
        int received = 0;
        while (sock.receive(r, 0, TimeUnit.SECONDS)) {
            assertEquals(IcmpEchoSocket.MAX_DATA, r.dataLen);
            assertEquals(-1, r.badByte);
            received++;
        }
        assertTrue(sock.ringFull() > 0, "ring full counted");
        assertEquals(n, received + sock.ringFull());
        assertEquals(n, h.total(Stat.FRAG_REASSEMBLED));
    }

    @Test
    void theNetisrDeliversRepliesWithoutAllocating() {
        open(1);
        sock.send(PEER, 1, 56);
        byte[] reply = frame(answer(requests(h.run()).get(0)));
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long min = Long.MAX_VALUE;
        for (int round = 0; round < 8; round++) {
            for (int i = 0; i < 500; i++) {
                h.inject(0, reply);
            }
            long before = mx.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < 100 && h.stack.pollAll(h.now) > 0; i++) {
                // the netisr reads 32 frames per pass and delivers each into the socket's ring
            }
            long allocated = mx.getCurrentThreadAllocatedBytes() - before;
            int got = 0;
            while (sock.receive(r, 0, TimeUnit.SECONDS)) {
                got++;
            }
            assertEquals(500, got);
            if (round >= 3) { // after warm-up
                min = Math.min(min, allocated);
            }
        }
        assertEquals(0, min, "bytes allocated by the netisr for 500 replies");
    }

    @Test
    void afterCloseRepliesAreOnlyCountedAndTheSocketRefusesWork() {
        open(2);
        sock.send(PEER, 1, 8);
        byte[] reply = frame(answer(requests(h.run()).get(0)));
        sock.close();
        sock.close(); // idempotent
        h.inject(0, reply);
        h.run();
        assertEquals(1, h.total(Stat.ICMP_IN_ECHO_REPLY));
        assertThrows(StackException.class, () -> sock.send(PEER, 2, 8));
        assertThrows(IllegalArgumentException.class, () -> h.stack.icmpEchoOpen().send(PEER, 1, IcmpEchoSocket.MAX_DATA + 1));
    }
}
