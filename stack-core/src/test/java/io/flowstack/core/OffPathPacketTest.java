package io.flowstack.core;

import static io.flowstack.core.testing.Packets.ACK;
import static io.flowstack.core.testing.Packets.FIN;
import static io.flowstack.core.testing.Packets.PSH;
import static io.flowstack.core.testing.Packets.RST;
import static io.flowstack.core.testing.Packets.SYN;
import static io.flowstack.core.testing.StackHarness.PEER;
import static io.flowstack.core.testing.StackHarness.US;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.config.StackConfig;
import io.flowstack.core.socket.TcpConnection;
import io.flowstack.core.socket.TcpListener;
import io.flowstack.core.socket.UdpSocket;
import io.flowstack.core.stats.Stat;
import io.flowstack.core.testing.Packets;
import io.flowstack.core.testing.Packets.TcpOpts;
import io.flowstack.core.testing.Packets.TcpSeg;
import io.flowstack.core.testing.StackHarness;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Off-path attack resistance on the wire, on a fake clock (issue 13 point 9): challenge ACKs
 * limited per connection and per core with a randomised budget (RFC 5961 7, CVE-2016-5696),
 * RSTs to segments for no connection rate-limited, a random timestamp offset per connection
 * (RFC 7323 7.1) and IPv4 IDs of atomic and fragmented datagrams (RFC 6864, RFC 7739).
 */
class OffPathPacketTest {
    static final int PORT = 80;
    static final int PEER_ISS = 1_000_000;
    static final long MS = 1_000_000L;

    StackHarness h;
    TcpListener listener;
    int ipId = 1;
    int tsVal = 5000;

    @AfterEach
    void close() {
        if (h != null) {
            assertEquals(0, h.total(Stat.INTERNAL_ERROR));
            h.close();
        }
    }

    void start(Consumer<StackConfig.Builder> tweak) {
        h = new StackHarness(1, tweak);
        h.arpFromPeer(0);
        listener = h.stack.tcpListen(PORT, 1024);
    }

    byte[] frame(int peerPort, int flags, int seq, int ack, TcpOpts o, byte[] data) {
        return h.ipFrame(Packets.ipv4(PEER, US, 6, ipId++, 0, Packets.tcp(PEER, US, peerPort, PORT, seq, ack,
                flags, 65535, o == null ? new byte[0] : o.encode(), data)));
    }

    TcpOpts ts(int ecr) {
        TcpOpts o = new TcpOpts();
        o.ts = true;
        o.tsVal = ++tsVal;
        o.tsEcr = ecr;
        return o;
    }

    List<TcpSeg> send(byte[] frame) {
        h.inject(0, frame);
        return tcp(h.run());
    }

    static List<TcpSeg> tcp(List<Packets.Frame> frames) {
        List<TcpSeg> out = new ArrayList<>();
        for (Packets.Frame f : frames) {
            if (f.type() == Packets.ETH_IPV4 && f.ipProto() == 6) {
                out.add(Packets.tcpOf(f));
            }
        }
        return out;
    }

    /** A connection from the peer's {@code peerPort}, with timestamps: the stack's SYN-ACK. */
    TcpSeg establish(int peerPort) {
        TcpOpts o = ts(0);
        o.mss = 1460;
        List<TcpSeg> r = send(frame(peerPort, SYN, PEER_ISS, 0, o, new byte[0]));
        assertEquals(1, r.size());
        TcpSeg synAck = r.get(0);
        assertTrue(send(frame(peerPort, ACK, PEER_ISS + 1, synAck.seq() + 1, ts(synAck.tsVal()), new byte[0])).isEmpty());
        return synAck;
    }

    // ------------------------------------------------------------------ challenge ACKs

    @Test
    void aConnectionGetsAtMostOneChallengeAckPer500Ms() {
        start(b -> {});
        establish(40000);
        assertEquals(1, send(frame(40000, RST, PEER_ISS + 1 + 100, 0, null, new byte[0])).size(),
                "RFC 5961 3.2: the first in-window RST is challenged");
        for (int i = 0; i < 5; i++) {
            assertTrue(send(frame(40000, RST, PEER_ISS + 1 + 200 + i, 0, null, new byte[0])).isEmpty(), "RST " + i);
            assertTrue(send(frame(40000, SYN, PEER_ISS + 1 + 300 + i, 0, null, new byte[0])).isEmpty(), "SYN " + i);
        }
        assertEquals(1, h.total(Stat.TCP_CHALLENGE_ACKS));
        assertEquals(10, h.total(Stat.TCP_CHALLENGE_ACK_CONN_LIMITED));
        assertEquals(0, h.total(Stat.TCP_CHALLENGE_ACK_LIMITED), "the core's budget was not what stopped them");
        h.advance(500 * MS);
        assertEquals(1, send(frame(40000, RST, PEER_ISS + 1 + 100, 0, null, new byte[0])).size(),
                "after 500 ms (Linux's tcp_invalid_ratelimit) one more");
    }

    @Test
    void theCoresTotalIsABudgetDrawnAtRandomEachSecond() {
        int limit = 10;
        int conns = 40;
        start(b -> b.tcpChallengeAcksPerSecond(limit));
        for (int i = 0; i < conns; i++) {
            establish(41000 + i);
        }
        Set<Integer> budgets = new HashSet<>();
        long expectedLimited = 0;
        for (int second = 0; second < 12; second++) {
            h.now = (h.now / 1_000_000_000L + 1) * 1_000_000_000L; // the start of the next second
            int sent = 0;
            for (int i = 0; i < conns; i++) {
                sent += send(frame(41000 + i, RST, PEER_ISS + 1 + 100, 0, null, new byte[0])).size();
            }
            assertTrue(sent >= limit / 2 && sent < limit / 2 + limit,
                    "Linux: limit / 2 + random(limit) in a second, got " + sent);
            budgets.add(sent);
            expectedLimited += conns - sent;
        }
        assertTrue(budgets.size() > 1, "the budget is drawn again each second, not fixed: " + budgets);
        assertEquals(expectedLimited, h.total(Stat.TCP_CHALLENGE_ACK_LIMITED));
        assertEquals(0, h.total(Stat.TCP_CHALLENGE_ACK_CONN_LIMITED), "each connection had one a second");
    }

    // ------------------------------------------------------------------ RSTs for no connection

    @Test
    void rstsToClosedPortsAreRateLimitedPerCore() {
        start(b -> {});
        int rsts = 0;
        for (int i = 0; i < 300; i++) {
            byte[] syn = h.ipFrame(Packets.ipv4(PEER, US, 6, ipId++, 0, Packets.tcp(PEER, US, 50000 + i, 9,
                    7, 0, SYN, 65535, new byte[0], new byte[0])));
            rsts += send(syn).size();
        }
        assertEquals(50, rsts, "a burst of 50, then nothing until the bucket refills");
        assertEquals(250, h.total(Stat.TCP_RST_LIMITED));
        assertEquals(50, h.total(Stat.TCP_RST_OUT));
        h.advance(100 * MS);
        rsts = 0;
        for (int i = 0; i < 100; i++) {
            rsts += send(frame(50400 + i, ACK, 7, 9, null, new byte[0])).size(); // a bare ACK to the listener
        }
        assertEquals(20, rsts, "200 per second: 20 in 100 ms, bare ACKs to a listener included");
        assertEquals(330, h.total(Stat.TCP_RST_LIMITED));
    }

    // ------------------------------------------------------------------ timestamps

    @Test
    void twoConnectionsTsvalsAreUnrelatedAndNotTheClock() {
        start(b -> {});
        TcpSeg a = establish(42000);
        TcpSeg b = establish(42001);
        TcpSeg a2 = establish(42002);
        long clockMs = h.now / MS;
        assertTrue(a.ts() && b.ts());
        assertNotEquals(a.tsVal(), b.tsVal(), "RFC 7323 7.1: one clock, a random offset per connection");
        assertNotEquals(a.tsVal(), a2.tsVal());
        assertTrue(Math.abs((long) a.tsVal() - clockMs) > 1000 || Math.abs((long) b.tsVal() - clockMs) > 1000,
                "TSvals do not give the stack's clock away");
    }

    @Test
    void rttFromEchoedTimestampsIsRightWithTheOffset() {
        start(b -> {});
        TcpSeg synAck = establish(43000);
        TcpConnection c = listener.accept(0, TimeUnit.MILLISECONDS);
        assertNotNull(c);
        byte[] d = new byte[100];
        c.write(d, 0, d.length);
        List<TcpSeg> out = tcp(h.run());
        assertEquals(1, out.size());
        TcpSeg seg = out.get(0);
        assertTrue(seg.tsVal() - synAck.tsVal() >= 0 && seg.tsVal() - synAck.tsVal() < 10, "one clock per connection");
        long before = h.stack.snapshot().connections().get(0).srttNanos(); // the handshake's sample
        assertTrue(before < 2 * MS, "the handshake took no time on the fake clock: " + before);
        h.now += 30 * MS;
        send(frame(43000, ACK, PEER_ISS + 1, seg.seq() + 100, ts(seg.tsVal()), new byte[0]));
        long srtt = h.stack.snapshot().connections().get(0).srttNanos();
        long expected = before + (30 * MS - before) / 8; // RFC 6298 2.3: SRTT += (R' - SRTT) / 8
        assertTrue(Math.abs(srtt - expected) < MS / 4,
                "RFC 7323 4.1: the echo (offset removed) measures 30 ms: SRTT " + srtt + ", expected " + expected);
    }

    @Test
    void timeWaitAcksKeepTheConnectionsOffset() {
        start(b -> {});
        TcpSeg synAck = establish(44000);
        TcpConnection c = listener.accept(0, TimeUnit.MILLISECONDS);
        c.close();
        List<TcpSeg> fin = tcp(h.run());
        assertEquals(1, fin.size());
        assertTrue(fin.get(0).has(FIN));
        int ourFin = fin.get(0).seq();
        // the peer ACKs our FIN and sends its own: we enter TIME-WAIT
        h.now += 5 * MS;
        List<TcpSeg> ack = send(frame(44000, ACK | FIN, PEER_ISS + 1, ourFin + 1, ts(fin.get(0).tsVal()), new byte[0]));
        assertEquals(1, ack.size());
        assertEquals(1, (int) h.stack.call(0, n -> n.tcp().timeWaitEntries()));
        h.now += 20 * MS;
        // a retransmitted FIN: the TIME-WAIT entry answers, with the connection's TSval clock
        List<TcpSeg> again = send(frame(44000, ACK | FIN | PSH, PEER_ISS + 1, ourFin + 1, ts(fin.get(0).tsVal()), new byte[0]));
        assertEquals(1, again.size());
        int elapsed = again.get(0).tsVal() - synAck.tsVal();
        assertTrue(elapsed >= 25 && elapsed <= 26, "RFC 7323 7.1: the offset holds in TIME-WAIT, elapsed " + elapsed);
    }

    // ------------------------------------------------------------------ IPv4 ID

    @Test
    void atomicDatagramsCarryIdZeroAndFragmentsOfOneDatagramShareOne() {
        start(b -> {});
        TcpSeg synAck = establish(45000);
        assertNotNull(synAck);
        UdpSocket u = h.stack.udpBind(7000);
        List<Integer> ids = new ArrayList<>();
        for (int k = 0; k < 3; k++) {
            byte[] big = new byte[3000];
            assertTrue(u.send(big, 0, big.length, PEER, 9000));
            List<Packets.Frame> frags = h.run();
            assertEquals(3, frags.size(), "RFC 791: 3000 bytes over a 1500 MTU");
            for (Packets.Frame f : frags) {
                assertTrue(f.isFragment());
                assertEquals(frags.get(0).ipId(), f.ipId(), "RFC 791: one ID for every fragment of a datagram");
            }
            ids.add(frags.get(0).ipId());
        }
        assertEquals(3, new HashSet<>(ids).size(), "RFC 6864 4.2: no ID repeats to one destination: " + ids);
        TcpConnection c = listener.accept(0, TimeUnit.MILLISECONDS);
        c.write(new byte[10], 0, 10);
        List<Packets.Frame> data = h.run();
        assertEquals(1, data.size());
        assertEquals(0, data.get(0).ipId(), "RFC 6864 4.1: a DF datagram's ID is 0, no counter revealed");
    }
}
