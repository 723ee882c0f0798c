package io.flowstack.core;

import static io.flowstack.core.testing.Packets.ACK;
import static io.flowstack.core.testing.Packets.FIN;
import static io.flowstack.core.testing.Packets.PSH;
import static io.flowstack.core.testing.Packets.RST;
import static io.flowstack.core.testing.Packets.SYN;
import static io.flowstack.core.testing.StackHarness.PEER;
import static io.flowstack.core.testing.StackHarness.US;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.config.StackConfig;
import io.flowstack.core.config.TcpSocketOptions;
import io.flowstack.core.socket.TcpChannel;
import io.flowstack.core.socket.TcpConnection;
import io.flowstack.core.socket.TcpHandler;
import io.flowstack.core.socket.TcpListener;
import io.flowstack.core.stats.Stat;
import io.flowstack.core.stats.TcpConnectionInfo;
import io.flowstack.core.testing.Packets;
import io.flowstack.core.testing.Packets.TcpOpts;
import io.flowstack.core.testing.Packets.TcpSeg;
import io.flowstack.core.testing.StackHarness;
import io.flowstack.core.tcp.TcpStream;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * TIME-WAIT as a small entry (issue 11 point 4; {@code TcpTimeWait}), segment by segment on a
 * fake clock: the control block and buffers go when a connection enters TIME-WAIT, the entry
 * answers as RFC 9293 3.10.7.4 says (FIN retransmissions, RST, PAWS, RFC 6191 reuse, RFC 5961
 * challenges), ICMP is ignored, the entries are bounded on their own and count against no
 * connection limit, and an active open skips or reuses a TIME-WAIT 4-tuple as Linux's
 * tcp_tw_reuse does.
 */
class TimeWaitPacketTest {
    static final int PORT = 80;
    static final int PEER_ISS = 1_000_000;
    static final long MS = 1_000_000L;

    StackHarness h;
    TcpListener listener;
    int peerPort = 40000;
    int iss;
    int peerNxt;
    int finSeq; // our FIN's sequence number
    int ipId = 1;
    int tsVal = 5000;
    int lastTsVal; // the TSval of the peer's last segment (TS.Recent once in TIME-WAIT)

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
        listener = h.stack.tcpListen(PORT, 64);
    }

    TcpOpts ts() {
        TcpOpts o = new TcpOpts();
        o.ts = true;
        o.tsVal = ++tsVal;
        lastTsVal = o.tsVal;
        return o;
    }

    byte[] frame(int flags, int seq, int ack, TcpOpts o, byte[] data) {
        return frameFrom(PEER, peerPort, flags, seq, ack, o, data);
    }

    byte[] frameFrom(int src, int sport, int flags, int seq, int ack, TcpOpts o, byte[] data) {
        return h.ipFrame(Packets.ipv4(src, US, 6, ipId++, 0, Packets.tcp(src, US, sport, PORT, seq, ack,
                flags, 1024, o == null ? new byte[0] : o.encode(), data)));
    }

    List<TcpSeg> send(byte[] frame) {
        h.inject(0, frame);
        return tcp(h.run());
    }

    static List<TcpSeg> tcp(List<Packets.Frame> frames) {
        List<TcpSeg> out = new ArrayList<>();
        for (Packets.Frame f : frames) {
            if (f.type() == Packets.ETH_IPV4 && f.ipProto() == 6) {
                TcpSeg s = Packets.tcpOf(f);
                assertTrue(s.checksumOk(), "our TCP checksum verifies");
                out.add(s);
            }
        }
        return out;
    }

    /** A connection from the peer (with timestamps if {@code withTs}) that the stack closes first, to TIME-WAIT. */
    TcpConnection toTimeWait(boolean withTs) {
        TcpOpts o = withTs ? ts() : new TcpOpts();
        o.mss = 1460;
        o.wscale = 7;
        o.sackPermitted = true;
        TcpSeg synAck = send(frame(SYN, PEER_ISS, 0, o, new byte[0])).get(0);
        assertTrue(synAck.has(SYN | ACK));
        iss = synAck.seq();
        peerNxt = PEER_ISS + 1;
        send(frame(ACK, peerNxt, iss + 1, withTs ? ts() : null, new byte[0]));
        TcpConnection c = listener.accept(0, TimeUnit.MILLISECONDS);
        assertNotNull(c);
        c.close();
        List<TcpSeg> r = tcp(h.run());
        assertTrue(r.get(0).has(FIN | ACK));
        finSeq = r.get(0).seq();
        r = send(frame(FIN | ACK, peerNxt, finSeq + 1, withTs ? ts() : null, new byte[0]));
        assertEquals(1, r.size(), "the FIN is acknowledged");
        assertEquals(peerNxt + 1, r.get(0).ack());
        peerNxt++;
        assertEquals(1, timeWaitEntries());
        return c;
    }

    int timeWaitEntries() {
        return h.stack.call(0, n -> n.tcp().timeWaitEntries());
    }

    int connections() {
        return h.stack.call(0, n -> n.tcp().connections());
    }

    /** The ACK a TIME-WAIT entry sends: our SND.NXT (after the FIN), RCV.NXT, TSecr = TS.Recent. */
    void assertEntryAck(TcpSeg a, int tsRecent) {
        assertTrue(a.has(ACK) && !a.has(SYN) && !a.has(FIN) && !a.has(RST), a.toString());
        assertEquals(finSeq + 1, a.seq());
        assertEquals(peerNxt, a.ack());
        assertTrue(a.window() > 0);
        assertTrue(a.ts(), "timestamps stay on (RFC 7323 3.2)");
        assertEquals(tsRecent, a.tsEcr());
    }

    @Test
    void enteringTimeWaitFreesTheControlBlockAndBuffersAndListsTheEntry() {
        start(b -> {});
        TcpConnection c = toTimeWait(true);
        assertTrue(c.finished(), "the application sees the end now, not 2 MSL later");
        assertEquals(0, connections());
        assertEquals(0L, (long) h.stack.call(0, n -> n.tcp().memoryUsed()), "no ring is lent any more");
        assertEquals(1, h.total(Stat.TCP_TIME_WAIT_ENTERED));
        assertEquals(1, h.total(Stat.TCP_CLOSED), "the connection counts as ended");
        List<TcpConnectionInfo> listed = h.stack.snapshot().connections();
        assertEquals(1, listed.size());
        assertEquals("TIME_WAIT", listed.get(0).state());
        assertEquals(PORT, listed.get(0).localPort());
        assertEquals(PEER, listed.get(0).remoteAddress());
        assertEquals(peerPort, listed.get(0).remotePort());
        h.advance(59_999 * MS);
        assertEquals(1, timeWaitEntries());
        h.advance(2 * MS);
        assertEquals(0, timeWaitEntries(), "2 MSL (60 s) after it began");
    }

    @Test
    void aRetransmittedFinIsAcknowledgedAndRestartsTheTwoMsl() {
        start(b -> {});
        toTimeWait(true);
        int tsRecent = lastTsVal;
        h.advance(40_000 * MS);
        List<TcpSeg> r = send(frame(FIN | ACK, peerNxt - 1, finSeq + 1, ts(), new byte[0]));
        assertEquals(1, r.size());
        assertEntryAck(r.get(0), tsRecent);
        h.advance(40_000 * MS); // 80 s after entering, 40 s after the restart
        assertEquals(1, timeWaitEntries(), "RFC 9293 3.10.7.4: the 2 MSL restarted");
        h.advance(20_001 * MS);
        assertEquals(0, timeWaitEntries());
    }

    @Test
    void bareAcksAreNotAnsweredOutOfWindowOnesAreRateLimitedAndDataIsAcknowledged() {
        start(b -> {});
        toTimeWait(true);
        assertTrue(send(frame(ACK, peerNxt, finSeq + 1, ts(), new byte[0])).isEmpty(), "an in-window bare ACK");
        int tsRecent = lastTsVal; // RFC 7323 4.3: the acceptable ACK refreshed TS.Recent
        List<TcpSeg> r = send(frame(ACK, peerNxt + 10_000_000, finSeq + 1, ts(), new byte[0]));
        assertEquals(1, r.size(), "an unacceptable segment is answered");
        assertEntryAck(r.get(0), tsRecent);
        assertTrue(send(frame(ACK, peerNxt + 10_000_000, finSeq + 1, ts(), new byte[0])).isEmpty(),
                "at most one per 500 ms for bare ACKs");
        assertEquals(1, h.total(Stat.TCP_OOW_ACK_LIMITED));
        r = send(frame(ACK | PSH, peerNxt, finSeq + 1, ts(), new byte[10]));
        assertEquals(1, r.size(), "data after the peer's FIN: acknowledged, not taken");
        assertEquals(peerNxt, r.get(0).ack());
        assertEquals(1, timeWaitEntries());
    }

    @Test
    void anExactRstEndsTheEntryAnInWindowOneIsChallengedAnOutOfWindowOneIgnored() {
        start(b -> {});
        toTimeWait(true);
        assertTrue(send(frame(RST, peerNxt + 50_000_000, 0, null, new byte[0])).isEmpty(), "outside the window");
        assertEquals(1, timeWaitEntries());
        List<TcpSeg> r = send(frame(RST, peerNxt + 100, 0, null, new byte[0]));
        assertEquals(1, r.size(), "RFC 5961 3.2: a challenge ACK");
        assertEquals(peerNxt, r.get(0).ack());
        assertEquals(1, timeWaitEntries());
        assertTrue(send(frame(RST, peerNxt, 0, null, new byte[0])).isEmpty());
        assertEquals(0, timeWaitEntries(), "RFC 9293 3.10.7.4 second: TIME-WAIT -> CLOSED (Linux: tcp_rfc1337 = 0)");
        assertEquals(1, h.total(Stat.TCP_RST_IN));
        assertEquals(1, h.total(Stat.TCP_TIME_WAIT_RESET), "counted as an entry the peer ended");
    }

    @Test
    void pawsDropsAnOldTimestampAndAcknowledges() {
        start(b -> {});
        toTimeWait(true);
        int tsRecent = lastTsVal;
        TcpOpts old = new TcpOpts();
        old.ts = true;
        old.tsVal = tsRecent - 100;
        List<TcpSeg> r = send(frame(ACK | PSH, peerNxt, finSeq + 1, old, new byte[10]));
        assertEquals(1, h.total(Stat.TCP_PAWS_DROP), "RFC 7323 5.3 R1");
        assertEquals(1, r.size());
        assertEntryAck(r.get(0), tsRecent);
    }

    @Test
    void aSynWithAnOlderTimestampDoesNotReopenAndIsChallenged() {
        start(b -> {});
        toTimeWait(true);
        TcpOpts old = new TcpOpts();
        old.ts = true;
        old.tsVal = lastTsVal - 1;
        old.mss = 1460;
        // PAWS first (RFC 7323 5.3 R1): the old SYN is dropped and answered with an ACK, no SYN-ACK
        List<TcpSeg> r = send(frame(SYN, peerNxt + 100_000, 0, old, new byte[0]));
        assertEquals(1, r.size());
        assertFalse(r.get(0).has(SYN));
        assertEquals(0, h.total(Stat.TCP_TIME_WAIT_REUSE));
        assertEquals(1, timeWaitEntries());
    }

    @Test
    void withoutTimestampsASynBelowRcvNxtIsChallengedAndOneAboveReopens() {
        start(b -> {});
        toTimeWait(false);
        List<TcpSeg> r = send(frame(SYN, peerNxt - 1000, 0, null, new byte[0]));
        assertEquals(1, r.size(), "RFC 5961 4.2 challenge ACK");
        assertFalse(r.get(0).has(SYN));
        assertFalse(r.get(0).ts());
        assertEquals(peerNxt, r.get(0).ack());
        assertEquals(1, timeWaitEntries(), "RFC 1122 4.2.2.13 (2): an old SYN leaves it in TIME-WAIT");
        r = send(frame(SYN, peerNxt + 1000, 0, null, new byte[0]));
        assertTrue(r.get(0).has(SYN | ACK), "RFC 6191 / RFC 1122 4.2.2.13: a new incarnation");
        assertEquals(peerNxt + 1001, r.get(0).ack());
        assertEquals(1, h.total(Stat.TCP_TIME_WAIT_REUSE));
        assertEquals(0, timeWaitEntries());
        assertEquals(1, connections());
    }

    @Test
    void icmpErrorsAboutATimeWaitTupleAreIgnored() {
        start(b -> {});
        toTimeWait(true);
        List<Packets.Frame> out = new ArrayList<>();
        h.inject(0, frame(ACK, peerNxt + 10_000_000, finSeq + 1, ts(), new byte[0]));
        out.addAll(h.run());
        Packets.Frame ack = out.stream().filter(f -> f.type() == Packets.ETH_IPV4 && f.ipProto() == 6).findFirst()
                .orElseThrow();
        long ignored = h.total(Stat.TCP_ICMP_IGNORED);
        h.inject(0, h.ipFrame(Packets.ipv4(PEER, US, 1, ipId++, 0, Packets.icmpError(3, 1, 0, ack.bytes()))));
        h.run();
        assertEquals(ignored + 1, h.total(Stat.TCP_ICMP_IGNORED));
        assertEquals(0, h.total(Stat.TCP_ICMP_ERRORS));
        assertEquals(1, timeWaitEntries());
    }

    @Test
    void entriesCountAgainstNoConnectionLimitAndAreBoundedOnTheirOwn() {
        start(b -> b.tcpMaxConnections(2).tcpMaxTimeWait(3));
        for (int i = 0; i < 5; i++) {
            peerPort = 40000 + i;
            toTimeWaitQuiet();
        }
        assertEquals(3, timeWaitEntries(), "bounded");
        assertEquals(2, h.total(Stat.TCP_TIME_WAIT_OVERFLOW), "the oldest two ended early, counted");
        assertEquals(List.of(40002, 40003, 40004), h.stack.snapshot().connections().stream()
                .map(TcpConnectionInfo::remotePort).sorted().toList(), "the newest are kept");
        assertEquals(0, h.total(Stat.TCP_TOO_MANY_CONNECTIONS));
        assertEquals(0, h.total(Stat.TCP_LISTEN_OVERFLOW));
        peerPort = 41000;
        TcpOpts o = ts();
        o.mss = 1460;
        assertTrue(send(frame(SYN, PEER_ISS, 0, o, new byte[0])).get(0).has(SYN | ACK),
                "5 connections went through TIME-WAIT with a limit of 2 connections");
    }

    private void toTimeWaitQuiet() {
        TcpOpts o = ts();
        o.mss = 1460;
        TcpSeg synAck = send(frame(SYN, PEER_ISS, 0, o, new byte[0])).get(0);
        assertTrue(synAck.has(SYN | ACK), () -> "SYN-ACK expected " + h.stack.countersReport());
        iss = synAck.seq();
        send(frame(ACK, PEER_ISS + 1, iss + 1, ts(), new byte[0]));
        TcpConnection c = listener.accept(0, TimeUnit.MILLISECONDS);
        c.close();
        finSeq = tcp(h.run()).get(0).seq();
        send(frame(FIN | ACK, PEER_ISS + 1, finSeq + 1, ts(), new byte[0]));
    }

    @Test
    void aCallbackServerHearsOnClosedWhenTimeWaitBeginsAndItsRingsGoBack() {
        start(b -> {});
        List<String> events = new ArrayList<>();
        h.stack.tcpListen(81, 16, TcpSocketOptions.defaults(h.stack.config()), new TcpHandler() {
            @Override
            public int onData(TcpChannel ch, MemorySegment data, long offset, int length) {
                ch.close(); // the server closes first
                return length;
            }

            @Override
            public void onClosed(TcpChannel ch, String error) {
                events.add("closed:" + error);
            }
        });
        TcpOpts o = ts();
        o.mss = 1460;
        byte[] syn = h.ipFrame(Packets.ipv4(PEER, US, 6, ipId++, 0, Packets.tcp(PEER, US, 42000, 81, PEER_ISS, 0, SYN,
                1024, o.encode(), new byte[0])));
        int serverIss = send(syn).get(0).seq();
        byte[] req = h.ipFrame(Packets.ipv4(PEER, US, 6, ipId++, 0, Packets.tcp(PEER, US, 42000, 81, PEER_ISS + 1,
                serverIss + 1, ACK | PSH, 1024, ts().encode(), new byte[] {'x'})));
        List<TcpSeg> r = send(req);
        TcpSeg fin = r.stream().filter(s -> s.has(FIN)).findFirst().orElseThrow();
        byte[] finAck = h.ipFrame(Packets.ipv4(PEER, US, 6, ipId++, 0, Packets.tcp(PEER, US, 42000, 81, PEER_ISS + 2,
                fin.seq() + 1, FIN | ACK, 1024, ts().encode(), new byte[0])));
        assertEquals(1, send(finAck).size());
        assertEquals(List.of("closed:null"), events, "onClosed at TIME-WAIT's start, without error");
        assertEquals(1, timeWaitEntries());
        assertEquals(0L, (long) h.stack.call(0, n -> n.tcp().memoryUsed()));
    }

    // ------------------------------------------------------------------ active opens (port choice)

    /** An active open from local port 45000 to the peer's 8080 that the stack closes first, to TIME-WAIT. */
    void clientToTimeWait(boolean withTs) {
        TcpStream s = h.stack.call(0, n -> n.tcp().connect(PEER, 8080, 45000, false, null));
        TcpSeg syn = tcp(h.run()).get(0);
        TcpOpts o = withTs ? ts() : new TcpOpts();
        if (withTs) {
            o.tsEcr = syn.tsVal();
        }
        o.mss = 1460;
        byte[] synAck = h.ipFrame(Packets.ipv4(PEER, US, 6, ipId++, 0, Packets.tcp(PEER, US, 8080, 45000, 9000,
                syn.seq() + 1, SYN | ACK, 1024, o.encode(), new byte[0])));
        send(synAck);
        assertTrue(s.established);
        s.closed = true;
        s.owner().postDoorbell(s.id());
        TcpSeg fin = tcp(h.run()).get(0);
        assertTrue(fin.has(FIN));
        finSeq = fin.seq();
        byte[] peerFin = h.ipFrame(Packets.ipv4(PEER, US, 6, ipId++, 0, Packets.tcp(PEER, US, 8080, 45000, 9001,
                finSeq + 1, FIN | ACK, 1024, withTs ? ts().encode() : new byte[0], new byte[0])));
        assertEquals(1, send(peerFin).size());
        assertEquals(1, timeWaitEntries());
    }

    @Test
    void aConnectSkipsATimeWaitTupleYoungerThanOneSecondAndReusesItAfter() {
        start(b -> {});
        clientToTimeWait(true);
        assertNull(h.stack.call(0, n -> n.tcp().connect(PEER, 8080, 45000, false, null)),
                "an entry younger than 1 s: the port is skipped");
        assertTrue(tcp(h.run()).isEmpty());
        h.advance(1_000 * MS);
        TcpStream again = h.stack.call(0, n -> n.tcp().connect(PEER, 8080, 45000, false, null));
        assertNotNull(again, "tcp_tw_reuse: timestamps on and the entry 1 s old");
        TcpSeg syn = tcp(h.run()).get(0);
        assertTrue(syn.has(SYN));
        assertEquals(finSeq + 1 + 65537, syn.seq(), "the new ISS lies above the old SND.NXT (RFC 1122 4.2.2.13 (1))");
        assertEquals(1, h.total(Stat.TCP_TIME_WAIT_CONNECT_REUSE));
        assertEquals(0, timeWaitEntries());
    }

    @Test
    void aConnectNeverReusesATimeWaitTupleWithoutTimestamps() {
        start(b -> {});
        clientToTimeWait(false);
        h.advance(30_000 * MS);
        assertNull(h.stack.call(0, n -> n.tcp().connect(PEER, 8080, 45000, false, null)),
                "no timestamps: PAWS could not tell old duplicates, the port is skipped");
        assertNotNull(h.stack.call(0, n -> n.tcp().connect(PEER, 8080, 45001, false, null)), "another port is free");
        assertEquals(1, timeWaitEntries());
        assertEquals(0, h.total(Stat.TCP_TIME_WAIT_CONNECT_REUSE));
    }
}
