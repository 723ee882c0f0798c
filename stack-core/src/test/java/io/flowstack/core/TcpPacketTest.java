package io.flowstack.core;

import io.flowstack.core.config.StackConfig;
import static io.flowstack.core.testing.Packets.ACK;
import static io.flowstack.core.testing.Packets.FIN;
import static io.flowstack.core.testing.Packets.PSH;
import static io.flowstack.core.testing.Packets.RST;
import static io.flowstack.core.testing.Packets.SYN;
import static io.flowstack.core.testing.StackHarness.PEER;
import static io.flowstack.core.testing.StackHarness.US;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.stats.Stat;
import io.flowstack.core.socket.StackException;
import io.flowstack.core.tcp.TcpLimitException;
import io.flowstack.core.socket.TcpConnection;
import io.flowstack.core.socket.TcpListener;
import io.flowstack.core.testing.Packets;
import io.flowstack.core.testing.Packets.TcpOpts;
import io.flowstack.core.testing.Packets.TcpSeg;
import io.flowstack.core.testing.StackHarness;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * Packet-level TCP tests on a fake clock, grouped by state: a scripted peer sends segments into
 * a threadless stack and checks every segment the stack sends back (RFC 9293 and friends).
 */
class TcpPacketTest {
    static final int PORT = 80;
    static final int PEER_PORT = 40000;
    static final int PEER_ISS = 1_000_000;
    static final long MS = 1_000_000L;

    StackHarness h;
    TcpListener listener;
    TcpConnection conn;
    int iss; // the stack's ISS
    int stackWscale; // the window scale the stack announced in its SYN-ACK
    int peerNxt; // next sequence number the peer sends
    int ipId = 1;
    int tsVal = 5000;
    final SplittableRandom rnd = new SplittableRandom(9);

    @AfterEach
    void close() {
        if (h != null) {
            assertEquals(0, h.total(Stat.INTERNAL_ERROR));
            h.close();
        }
    }

    void start(Consumer<StackConfig.Builder> tweak) {
        start(false, tweak);
    }

    void start(boolean offloads, Consumer<StackConfig.Builder> tweak) {
        h = new StackHarness(1, offloads, tweak);
        h.arpFromPeer(0);
        listener = h.stack.tcpListen(PORT, 16);
    }

    byte[] frame(int flags, int seq, int ack, int window, TcpOpts o, byte[] data) {
        return h.ipFrame(Packets.ipv4(PEER, US, 6, ipId++, 0, Packets.tcp(PEER, US, PEER_PORT, PORT, seq, ack,
                flags, window, o == null ? new byte[0] : o.encode(), data)));
    }

    TcpOpts ts() {
        TcpOpts o = new TcpOpts();
        o.ts = true;
        o.tsVal = ++tsVal;
        o.tsEcr = 0;
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
                TcpSeg s = Packets.tcpOf(f);
                assertTrue(s.checksumOk(), "our TCP checksum verifies");
                out.add(s);
            }
        }
        return out;
    }

    /** Three-way handshake from the peer with MSS 1460, WS 7, SACK and timestamps. */
    void establish() {
        TcpOpts o = ts();
        o.mss = 1460;
        o.wscale = 7;
        o.sackPermitted = true;
        List<TcpSeg> r = send(frame(SYN, PEER_ISS, 0, 65535, o, new byte[0]));
        assertEquals(1, r.size());
        TcpSeg synAck = r.get(0);
        assertTrue(synAck.has(SYN | ACK));
        assertEquals(PEER_ISS + 1, synAck.ack());
        iss = synAck.seq();
        stackWscale = Math.max(0, synAck.wscale());
        peerNxt = PEER_ISS + 1;
        assertTrue(send(frame(ACK, peerNxt, iss + 1, 512, ts(), new byte[0])).isEmpty());
        conn = listener.accept(0, TimeUnit.MILLISECONDS);
        assertNotNull(conn, "established connection is in the accept queue");
    }

    byte[] random(int n) {
        byte[] b = new byte[n];
        rnd.nextBytes(b);
        return b;
    }

    byte[] read(int n) {
        return StackHarness.readNow(conn, n);
    }

    // ================================================================== LISTEN and CLOSED

    /** RFC 1122 4.2.3.9, RFC 5461, RFC 5927, RFC 1191: ICMP errors about our segments. */
    @Nested
    class IcmpErrors {
        byte[] error(int type, int code, int mtu, Packets.Frame about) {
            return h.ipFrame(Packets.ipv4(PEER, US, 1, ipId++, 0, Packets.icmpError(type, code, mtu, about.bytes())));
        }

        Packets.Frame synOf(int localPort) {
            for (Packets.Frame f : h.run()) {
                if (f.type() == Packets.ETH_IPV4 && f.ipProto() == 6 && Packets.tcpOf(f).has(SYN)) {
                    return f;
                }
            }
            throw new AssertionError("no SYN");
        }

        @Test
        void portUnreachableEndsAConnectionAttempt() {
            start(b -> {});
            var stream = h.stack.call(0, n -> n.tcp().connect(PEER, 8080, 45100, false, null));
            Packets.Frame syn = synOf(45100);
            h.inject(0, error(3, 3, 0, syn));
            h.run();
            assertTrue(stream.finished);
            assertTrue(stream.error.startsWith("connection refused (ICMP port unreachable"), stream.error);
            assertEquals(1, h.total(Stat.TCP_ICMP_ABORTS));
            assertEquals(0, h.stack.netisr(0).tcp().connections());
        }

        @Test
        void anErrorThatQuotesNoSequenceNumberInFlightIsIgnored() {
            start(b -> {});
            var stream = h.stack.call(0, n -> n.tcp().connect(PEER, 8080, 45101, false, null));
            Packets.Frame syn = synOf(45101);
            byte[] forged = syn.bytes().clone();
            int tcp = 14 + 20;
            forged[tcp + 4] ^= 0x40; // another sequence number: a blind attacker's guess (RFC 5927 5.1)
            h.inject(0, error(3, 3, 0, Packets.parse(forged)));
            h.run();
            assertFalse(stream.finished, "RFC 5927: not believed");
            assertEquals(1, h.total(Stat.TCP_ICMP_IGNORED));
        }

        @Test
        void softErrorsNeverAbortAndAreNamedWhenTheConnectionTimesOut() {
            start(b -> b.tcpSynRetries(1));
            var stream = h.stack.call(0, n -> n.tcp().connect(PEER, 8080, 45102, false, null));
            h.inject(0, error(3, 1, 0, synOf(45102))); // host unreachable: soft (RFC 1122 4.2.3.9)
            h.run();
            assertFalse(stream.finished, "a soft error MUST NOT abort");
            for (int i = 0; i < 10_000 && !stream.finished; i++) {
                h.advance(5 * MS);
            }
            assertEquals("connection timed out (last ICMP error: host unreachable from the path to 198.18.0.1)",
                    stream.error);
        }

        @Test
        void portUnreachableForAnEstablishedConnectionDoesNotAbortIt() {
            start(b -> {});
            establish();
            byte[] d = random(100);
            conn.write(d, 0, d.length);
            Packets.Frame seg = h.run().stream().filter(f -> f.type() == Packets.ETH_IPV4 && f.ipProto() == 6)
                    .findFirst().orElseThrow();
            h.inject(0, error(3, 3, 0, seg));
            h.run();
            assertFalse(conn.finished(), "RFC 5461 4.1: hard errors do not end established connections");
            assertEquals(1, h.total(Stat.TCP_ICMP_ERRORS));
        }

        @Test
        void fragmentationNeededLowersTheMssAndSendsTheLostDataAgainAtOnce() {
            start(b -> {});
            establish();
            byte[] d = random(10 * 1448);
            conn.write(d, 0, d.length);
            List<Packets.Frame> first = h.run().stream().filter(f -> f.type() == Packets.ETH_IPV4 && f.ipProto() == 6)
                    .toList();
            assertEquals(10, first.size());
            h.inject(0, error(3, 4, 1000, first.get(0))); // a router on the path has an MTU of 1000
            List<TcpSeg> again = tcp(h.run());
            assertFalse(again.isEmpty(), "sent again without waiting for a timeout");
            assertEquals(iss + 1, again.get(0).seq());
            int resent = 0;
            for (TcpSeg s : again) {
                assertEquals(iss + 1 + resent, s.seq());
                assertTrue(s.data().length <= 1000 - 20 - 20 - 12, "1000 - IP - TCP - timestamps: " + s.data().length);
                resent += s.data().length;
            }
            assertEquals(948, again.get(0).data().length);
            assertEquals(10 * 1448, resent, "everything in flight, in segments that fit");
            assertEquals(1, h.total(Stat.TCP_PMTU_UPDATES));
            assertEquals(0, h.total(Stat.TCP_RTO));
            // a larger MTU later is not believed (RFC 1191 6.3: never raise on an ICMP message)
            h.inject(0, error(3, 4, 1400, first.get(1)));
            h.run();
            assertEquals(1, h.total(Stat.TCP_PMTU_UPDATES));
        }
    }

    @Nested
    class Listen {
        @Test
        void synGetsSynAckWithNegotiatedOptions() {
            start(b -> {});
            TcpOpts o = ts();
            o.mss = 1400;
            o.wscale = 7;
            o.sackPermitted = true;
            List<TcpSeg> r = send(frame(SYN, PEER_ISS, 0, 65535, o, new byte[0]));
            assertEquals(1, r.size());
            TcpSeg s = r.get(0);
            assertTrue(s.has(SYN | ACK));
            assertEquals(PEER_ISS + 1, s.ack());
            assertEquals(1460, s.mss(), "RFC 9293 3.7.1: our MSS from the MTU");
            assertTrue(s.wscale() >= 0 && s.wscale() <= 14, "RFC 7323 2.2: window scale offered back");
            assertTrue(s.sackPermitted(), "RFC 2018: SACK-permitted answered");
            assertTrue(s.ts());
            assertEquals(tsVal, s.tsEcr(), "RFC 7323 3.2: TSecr echoes TSval");
        }

        @Test
        void handshakeWithoutOptionsFallsBackToDefaults() {
            start(b -> {});
            List<TcpSeg> r = send(frame(SYN, PEER_ISS, 0, 8192, null, new byte[0]));
            TcpSeg s = r.get(0);
            assertEquals(-1, s.wscale(), "no window scale unless the SYN had one");
            assertFalse(s.sackPermitted());
            assertFalse(s.ts());
            send(frame(ACK, PEER_ISS + 1, s.seq() + 1, 8192, null, new byte[0]));
            conn = listener.accept(0, TimeUnit.MILLISECONDS);
            byte[] data = random(2000);
            conn.write(data, 0, data.length);
            List<TcpSeg> out = tcp(h.run());
            assertEquals(536, out.get(0).data().length, "RFC 9293 3.7.1: default send MSS 536");
        }

        @Test
        void segmentToAClosedPortGetsReset() {
            start(b -> {});
            byte[] f = h.ipFrame(Packets.ipv4(PEER, US, 6, 1, 0,
                    Packets.tcp(PEER, US, PEER_PORT, 81, 777, 0, SYN, 1000, new byte[0], new byte[0])));
            List<TcpSeg> r = send(f);
            assertEquals(1, r.size());
            assertTrue(r.get(0).has(RST | ACK));
            assertEquals(778, r.get(0).ack(), "RFC 9293 3.10.7.1: <SEQ=0><ACK=SEG.SEQ+SEG.LEN>");
            byte[] ackOnly = h.ipFrame(Packets.ipv4(PEER, US, 6, 2, 0,
                    Packets.tcp(PEER, US, PEER_PORT, 81, 777, 4242, ACK, 1000, new byte[0], new byte[0])));
            r = send(ackOnly);
            assertTrue(r.get(0).has(RST));
            assertEquals(4242, r.get(0).seq(), "<SEQ=SEG.ACK><CTL=RST>");
            assertEquals(0, send(h.ipFrame(Packets.ipv4(PEER, US, 6, 3, 0,
                    Packets.tcp(PEER, US, PEER_PORT, 81, 1, 0, RST, 0, new byte[0], new byte[0])))).size(),
                    "never answer a RST");
        }

        @Test
        void fullSynBacklogAnswersWithACookieThatCompletesTheHandshake() {
            start(b -> b.tcpSynBacklog(1));
            // first SYN fills the half-open queue
            send(frame(SYN, PEER_ISS, 0, 65535, null, new byte[0]));
            // second SYN from another port gets a cookie
            byte[] syn2 = h.ipFrame(Packets.ipv4(PEER, US, 6, 9, 0, Packets.tcp(PEER, US, PEER_PORT + 1, PORT, 5000, 0,
                    SYN, 65535, optsMss(1460), new byte[0])));
            List<TcpSeg> r = send(syn2);
            assertEquals(1, r.size());
            assertTrue(r.get(0).has(SYN | ACK));
            assertEquals(1, h.total(Stat.TCP_SYN_COOKIES_SENT));
            int cookie = r.get(0).seq();
            byte[] ack = h.ipFrame(Packets.ipv4(PEER, US, 6, 10, 0, Packets.tcp(PEER, US, PEER_PORT + 1, PORT, 5001,
                    cookie + 1, ACK, 65535, new byte[0], "hi".getBytes())));
            send(ack);
            assertEquals(1, h.total(Stat.TCP_SYN_COOKIES_OK));
            TcpConnection c = listener.accept(0, TimeUnit.MILLISECONDS);
            assertNotNull(c);
            assertEquals(PEER_PORT + 1, c.remotePort());
            byte[] got = new byte[2];
            c.readTimeout(1, TimeUnit.MILLISECONDS);
            assertEquals(2, c.read(got, 0, 2));
            assertArrayEquals("hi".getBytes(), got);
            // a forged cookie is refused
            byte[] forged = h.ipFrame(Packets.ipv4(PEER, US, 6, 11, 0, Packets.tcp(PEER, US, PEER_PORT + 2, PORT, 6001,
                    cookie + 12345, ACK, 65535, new byte[0], new byte[0])));
            List<TcpSeg> rr = send(forged);
            assertTrue(rr.get(0).has(RST));
            assertEquals(1, h.total(Stat.TCP_SYN_COOKIES_BAD));
            // a cookie whose MSS index (bits 24-26, outside the MAC's 24 bits) was changed is refused
            byte[] syn3 = h.ipFrame(Packets.ipv4(PEER, US, 6, 12, 0, Packets.tcp(PEER, US, PEER_PORT + 3, PORT, 7000, 0,
                    SYN, 65535, optsMss(536), new byte[0])));
            int cookie3 = send(syn3).get(0).seq();
            byte[] otherMss = h.ipFrame(Packets.ipv4(PEER, US, 6, 13, 0, Packets.tcp(PEER, US, PEER_PORT + 3, PORT, 7001,
                    (cookie3 ^ (4 << 24)) + 1, ACK, 65535, new byte[0], new byte[0]))); // index 0 (536) -> 4 (8960)
            assertTrue(send(otherMss).get(0).has(RST));
            assertEquals(2, h.total(Stat.TCP_SYN_COOKIES_BAD), "the MSS index is covered by the MAC");
            assertEquals(1, h.total(Stat.TCP_SYN_COOKIES_OK));
            // after the cookies' lifetime without an overflow, an ACK is no longer tried as a cookie
            h.advance(SynCookiesLifetime.NANOS + 1_000_000_000L);
            h.arpFromPeer(0); // the peer's ARP entry expired meanwhile
            assertTrue(send(forged).get(0).has(RST));
            assertEquals(2, h.total(Stat.TCP_SYN_COOKIES_BAD));
            assertEquals(1, h.total(Stat.TCP_SYN_COOKIES_UNSOLICITED));
        }

        /**
         * Issue 13 point 8 (Linux's tcp_synq_no_recent_overflow): a listener whose queue never
         * overflowed tries no ACK as a cookie; it answers with a reset and counts it.
         */
        @Test
        void aListenerThatSentNoCookieTriesNoAckAsOne() {
            start(b -> {});
            byte[] ack = h.ipFrame(Packets.ipv4(PEER, US, 6, 10, 0, Packets.tcp(PEER, US, PEER_PORT, PORT, 5001,
                    0x12345678, ACK, 65535, new byte[0], new byte[0])));
            List<TcpSeg> r = send(ack);
            assertTrue(r.get(0).has(RST));
            assertEquals(0, h.total(Stat.TCP_SYN_COOKIES_BAD), "not tried as a cookie");
            assertEquals(1, h.total(Stat.TCP_SYN_COOKIES_UNSOLICITED));
        }
    }

    /** RFC 4987 3.6 cookies of this stack stay valid for two 64 s counter periods. */
    static final class SynCookiesLifetime {
        static final long NANOS = 128_000_000_000L;
    }

    static byte[] optsMss(int mss) {
        TcpOpts o = new TcpOpts();
        o.mss = mss;
        return o.encode();
    }

    // ================================================================== ESTABLISHED: receiving

    @Nested
    class Receiving {
        @Test
        void inOrderDataIsAckedAtOnceAtFirstThenEverySecondSegmentOrAfterTheDelayedAckTimer() {
            start(b -> {});
            establish();
            java.io.ByteArrayOutputStream sent = new java.io.ByteArrayOutputStream();
            // Linux's quick-ack mode: the first 16 segments of a connection are each ACKed at once
            for (int i = 0; i < 16; i++) {
                byte[] d = random(1000);
                List<TcpSeg> r = send(frame(ACK | PSH, peerNxt, iss + 1, 512, ts(), d));
                peerNxt += 1000;
                sent.writeBytes(d);
                assertEquals(1, r.size(), "quick ACK " + i);
                assertEquals(peerNxt, r.get(0).ack());
            }
            byte[] a = random(1000);
            assertTrue(send(frame(ACK | PSH, peerNxt, iss + 1, 512, ts(), a)).isEmpty(), "then a lone segment: delayed ACK");
            peerNxt += 1000;
            sent.writeBytes(a);
            List<TcpSeg> r = tcp(h.advance(40 * MS));
            assertEquals(1, r.size(), "delayed ACK timer (<= 40 ms class)");
            assertEquals(peerNxt, r.get(0).ack());
            byte[] b1 = random(1000);
            byte[] b2 = random(1000);
            assertTrue(send(frame(ACK, peerNxt, iss + 1, 512, ts(), b1)).isEmpty());
            peerNxt += 1000;
            r = send(frame(ACK, peerNxt, iss + 1, 512, ts(), b2));
            peerNxt += 1000;
            sent.writeBytes(b1);
            sent.writeBytes(b2);
            assertEquals(1, r.size(), "RFC 5681 4.2: ACK at least every second segment");
            assertEquals(peerNxt, r.get(0).ack());
            assertArrayEquals(sent.toByteArray(), read(sent.size()));
        }

        @Test
        void onceTheConnectionAnswersWhatItReceivesItsAcksRideOnTheAnswers() {
            start(b -> {});
            establish();
            List<TcpSeg> r = send(frame(ACK | PSH, peerNxt, iss + 1, 512, ts(), random(100)));
            peerNxt += 100;
            assertEquals(1, r.size(), "a quick ACK for the first request");
            read(100);
            conn.write(new byte[50], 0, 50);
            r = tcp(h.run());
            assertEquals(1, r.size());
            assertEquals(50, r.get(0).data().length, "the answer");
            // interactive now (Linux's pingpong): the next request's ACK waits for the answer
            assertTrue(send(frame(ACK | PSH, peerNxt, iss + 51, 512, ts(), random(100))).isEmpty(), "no pure ACK");
            peerNxt += 100;
            read(100);
            conn.write(new byte[50], 0, 50);
            r = tcp(h.run());
            assertEquals(1, r.size(), "the answer carries the ACK");
            assertEquals(peerNxt, r.get(0).ack());
            assertEquals(50, r.get(0).data().length);
        }

        @Test
        void outOfOrderSegmentGetsDuplicateAckWithSackBlockThenCumulativeAck() {
            start(b -> {});
            establish();
            byte[] first = random(1000);
            byte[] second = random(1000);
            List<TcpSeg> r = send(frame(ACK, peerNxt + 1000, iss + 1, 512, ts(), second));
            assertEquals(1, r.size(), "RFC 5681 4.2: out-of-order data is acknowledged at once");
            assertEquals(peerNxt, r.get(0).ack(), "duplicate ACK");
            assertArrayEquals(new int[] {peerNxt + 1000, peerNxt + 2000}, r.get(0).sack(), "RFC 2018 SACK block");
            r = send(frame(ACK, peerNxt, iss + 1, 512, ts(), first));
            assertEquals(1, r.size(), "filling the hole is acknowledged at once");
            assertEquals(peerNxt + 2000, r.get(0).ack(), "cumulative ACK covers both");
            assertEquals(0, r.get(0).sack().length);
            peerNxt += 2000;
            byte[] all = read(2000);
            assertArrayEquals(first, Arrays.copyOfRange(all, 0, 1000));
            assertArrayEquals(second, Arrays.copyOfRange(all, 1000, 2000));
        }

        @Test
        void oldTimestampIsDroppedByPaws() {
            start(b -> {});
            establish();
            TcpOpts old = ts();
            old.tsVal = 10; // far older than tsRecent
            List<TcpSeg> r = send(frame(ACK, peerNxt, iss + 1, 512, old, random(100)));
            assertEquals(1, h.total(Stat.TCP_PAWS_DROP), "RFC 7323 5.3 R1");
            assertEquals(1, r.size(), "an ACK answers the dropped segment");
            assertEquals(peerNxt, r.get(0).ack(), "the data was not accepted");
        }

        @Test
        void segmentOutsideTheWindowIsAnsweredWithAnAck() {
            start(b -> {});
            establish();
            List<TcpSeg> r = send(frame(ACK, peerNxt + 50_000_000, iss + 1, 512, ts(), random(10)));
            assertEquals(1, r.size());
            assertEquals(peerNxt, r.get(0).ack());
            assertEquals(1, h.total(Stat.TCP_OUT_OF_WINDOW));
        }
    }

    // ================================================================== ESTABLISHED: sending

    @Nested
    class Sending {
        List<TcpSeg> writeAndCollect(int n) {
            byte[] d = random(n);
            conn.write(d, 0, d.length);
            return tcp(h.run());
        }

        /**
         * Issue 13 point 1, RFC 9293 3.8.6 and RFC 7323 2.3: nothing is ever sent past
         * SND.UNA + SND.WND (the window scaled) while the usable window is below one MSS: not the
         * first transmission, not the tail loss probe, not a retransmission after a timeout. The
         * peer's window is 1, 8 and 11 units of 128 bytes (128, 1,024 and 1,408 bytes), and the
         * same without window scaling; nothing is acknowledged for 3 s.
         */
        @Test
        void nothingIsSentPastThePeersWindowEdgeWhenItIsBelowOneMss() {
            for (boolean scaled : new boolean[] {true, false}) {
                for (int units : new int[] {1, 8, 11}) {
                    int window = scaled ? units << 7 : units * 128;
                    start(b -> {});
                    if (scaled) {
                        establish();
                    } else {
                        establishUnscaled();
                    }
                    send(frame(ACK, peerNxt, iss + 1, scaled ? units : window, ts(), new byte[0]));
                    List<TcpSeg> all = new ArrayList<>(writeAndCollect(5000));
                    for (int i = 0; i < 600; i++) {
                        all.addAll(tcp(h.advance(5 * MS)));
                    }
                    String what = (scaled ? "scaled" : "unscaled") + " window of " + window + " bytes";
                    assertFalse(all.isEmpty(), what);
                    int edge = iss + 1 + window;
                    for (TcpSeg seg : all) {
                        assertTrue(seg.seq() + seg.data().length - edge <= 0,
                                what + ": a segment [" + (seg.seq() - iss - 1) + ", +" + seg.data().length + ") past the edge");
                    }
                    assertTrue(all.size() >= 2, what + ": the data went out and was sent again: " + all.size());
                    assertEquals(0, h.total(Stat.INTERNAL_ERROR));
                    h.close();
                    h = null;
                }
            }
        }

        /** The handshake of {@link #establish} without window scaling (RFC 7323 2.2: then neither side scales). */
        void establishUnscaled() {
            TcpOpts o = ts();
            o.mss = 1460;
            o.sackPermitted = true;
            List<TcpSeg> r = send(frame(SYN, PEER_ISS, 0, 65535, o, new byte[0]));
            iss = r.get(0).seq();
            peerNxt = PEER_ISS + 1;
            send(frame(ACK, peerNxt, iss + 1, 65535, ts(), new byte[0]));
            conn = listener.accept(0, TimeUnit.MILLISECONDS);
            assertNotNull(conn);
        }

        @Test
        void dataIsSegmentedByMssMinusOptionsAndWindowScaleIsApplied() {
            start(b -> {});
            establish(); // peer window 512 << 7 = 65536
            List<TcpSeg> r = writeAndCollect(20000);
            assertEquals(10, r.size(), "initial window of 10 segments (RFC 6928)");
            for (TcpSeg s : r) {
                assertEquals(1448, s.data().length, "1460 - 12 bytes of timestamp option");
                assertTrue(s.ts());
            }
        }

        @Test
        void threeDuplicateAcksTriggerFastRetransmit() {
            start(b -> {});
            establish();
            List<TcpSeg> r = writeAndCollect(10 * 1448);
            assertEquals(10, r.size());
            int una = iss + 1;
            // ACK the first segment, then three duplicate ACKs for it
            send(frame(ACK, peerNxt, una + 1448, 512, ts(), new byte[0]));
            assertEquals(0, send(frame(ACK, peerNxt, una + 1448, 512, ts(), new byte[0])).size());
            assertEquals(0, send(frame(ACK, peerNxt, una + 1448, 512, ts(), new byte[0])).size());
            List<TcpSeg> fr = send(frame(ACK, peerNxt, una + 1448, 512, ts(), new byte[0]));
            assertEquals(1, h.total(Stat.TCP_FAST_RETRANSMITS));
            assertFalse(fr.isEmpty());
            assertEquals(una + 1448, fr.get(0).seq(), "RFC 5681 3.2: retransmit the first unacknowledged segment");
        }

        @Test
        void firstTwoDuplicateAcksEachSendOneNewSegment() {
            start(b -> {});
            establish();
            List<TcpSeg> r = writeAndCollect(20 * 1448);
            assertEquals(10, r.size(), "initial window: 10 segments");
            int una = iss + 1;
            // the first segment is acknowledged (slow start opens the window by one segment)
            List<TcpSeg> grown = send(frame(ACK, peerNxt, una + 1448, 512, ts(), new byte[0]));
            int next = una + 10 * 1448 + grown.size() * 1448;
            for (int dup = 1; dup <= 2; dup++) {
                List<TcpSeg> lt = send(frame(ACK, peerNxt, una + 1448, 512, ts(), new byte[0]));
                assertEquals(1, lt.size(), "RFC 3042 2: one new segment on duplicate ACK " + dup);
                assertEquals(next, lt.get(0).seq(), "new data, not a retransmission");
                next += 1448;
            }
            assertEquals(2, h.total(Stat.TCP_LIMITED_TRANSMITS));
            assertEquals(0, h.total(Stat.TCP_FAST_RETRANSMITS));
            List<TcpSeg> fr = send(frame(ACK, peerNxt, una + 1448, 512, ts(), new byte[0]));
            assertEquals(1, h.total(Stat.TCP_FAST_RETRANSMITS), "the third duplicate ACK");
            assertEquals(una + 1448, fr.get(0).seq());
        }

        @Test
        void spuriousFastRetransmitIsUndoneAndReorderingToleratedNextTime() {
            start(b -> {});
            establish();
            List<TcpSeg> first = writeAndCollect(40 * 1448);
            int una = iss + 1;
            int originalTs = first.get(0).tsVal();
            h.advance(5 * MS);
            // segments 2..4 arrive before segment 1 (reordered): three SACKed duplicate ACKs
            List<TcpSeg> fr = List.of();
            for (int k = 2; k <= 4; k++) {
                TcpOpts o = ts();
                o.tsEcr = originalTs;
                o.sack = new int[] {una + 1448, una + k * 1448};
                fr = send(frame(ACK, peerNxt, una, 512, o, new byte[0]));
            }
            assertEquals(1, h.total(Stat.TCP_FAST_RETRANSMITS));
            TcpSeg rxt = fr.stream().filter(x -> x.seq() == una).findFirst().orElseThrow();
            assertTrue(rxt.tsVal() > originalTs, "the retransmission carries a newer TSval");
            // then segment 1 itself arrives: the ACK echoes the original's timestamp
            TcpOpts o = ts();
            o.tsEcr = originalTs;
            send(frame(ACK, peerNxt, una + 10 * 1448, 512, o, new byte[0]));
            assertEquals(1, h.total(Stat.TCP_SPURIOUS_RETRANSMITS), "RFC 3522 Eifel detection");
            // the same degree of reordering again no longer triggers a fast retransmit
            int una2 = una + 10 * 1448;
            h.advance(5 * MS);
            for (int k = 2; k <= 4; k++) {
                TcpOpts d = ts();
                d.tsEcr = originalTs;
                d.sack = new int[] {una2 + 1448, una2 + k * 1448};
                send(frame(ACK, peerNxt, una2, 512, d, new byte[0]));
            }
            assertEquals(1, h.total(Stat.TCP_FAST_RETRANSMITS), "DupThresh was raised by the proven reordering");
        }

        @Test
        void genuineLossIsNotUndone() {
            start(b -> {});
            establish();
            writeAndCollect(40 * 1448);
            int una = iss + 1;
            h.advance(5 * MS);
            List<TcpSeg> fr = List.of();
            for (int k = 2; k <= 4; k++) {
                TcpOpts o = ts();
                o.sack = new int[] {una + 1448, una + k * 1448};
                fr = send(frame(ACK, peerNxt, una, 512, o, new byte[0]));
            }
            TcpSeg rxt = fr.stream().filter(x -> x.seq() == una).findFirst().orElseThrow();
            TcpOpts o = ts();
            o.tsEcr = rxt.tsVal(); // the retransmission filled the hole
            send(frame(ACK, peerNxt, una + 10 * 1448, 512, o, new byte[0]));
            assertEquals(0, h.total(Stat.TCP_SPURIOUS_RETRANSMITS));
        }

        @Test
        void unansweredTailIsProbedBeforeTheRetransmissionTimeout() {
            start(b -> {});
            establish();
            writeAndCollect(20 * 1448); // 10 segments in flight, 10 waiting for the window
            int una = iss + 1;
            long t0 = h.now;
            List<TcpSeg> probe = List.of();
            for (int i = 0; i < 1000 && probe.isEmpty(); i++) {
                probe = tcp(h.advance(MS));
            }
            assertEquals(1, h.total(Stat.TCP_LOSS_PROBES), "RFC 8985 7.3");
            assertEquals(0, h.total(Stat.TCP_RTO), "the probe comes before the RTO");
            assertEquals(1, probe.size());
            assertEquals(una + 10 * 1448, probe.get(0).seq(), "RFC 8985 7.3: new data when the window allows");
            assertTrue(h.now - t0 < 200 * MS, "2 SRTT (at least 10 ms), not the 200 ms RTO floor");
        }

        @Test
        void afterATimeoutALostRetransmissionFoundBySackIsSentAgainBeforeTheNextTimeout() {
            start(b -> {});
            establish();
            writeAndCollect(20 * 1448);
            int una = iss + 1;
            long t0 = h.now;
            List<TcpSeg> rto = List.of();
            for (int i = 0; i < 1000 && h.total(Stat.TCP_RTO) == 0; i++) {
                rto = tcp(h.advance(5 * MS)); // a tail loss probe goes first, unanswered too
            }
            assertEquals(1, h.total(Stat.TCP_LOSS_PROBES));
            assertEquals(1, h.total(Stat.TCP_RTO));
            assertEquals(una, rto.get(0).seq(), "the timeout retransmits SND.UNA");
            long firstRto = h.now - t0;
            // The retransmission is lost; the peer SACKs three segments above it (RFC 6675
            // 5.1: SACK information keeps guiding the recovery after a timeout).
            TcpOpts o = ts();
            o.sack = new int[] {una + 1448, una + 4 * 1448};
            List<TcpSeg> again = new ArrayList<>(send(frame(ACK, peerNxt, una, 512, o, new byte[0])));
            long sackAt = h.now;
            for (int i = 0; i < 100 && again.stream().noneMatch(s -> s.seq() == una); i++) {
                again.addAll(tcp(h.advance(MS)));
            }
            assertTrue(again.stream().anyMatch(s -> s.seq() == una), "RFC 8985 6.2: the hole is sent again");
            assertTrue(h.now - sackAt < firstRto, "well before the doubled timeout");
            assertEquals(1, h.total(Stat.TCP_RTO), "no second timeout");
            assertEquals(1, h.total(Stat.TCP_LOST_RETRANSMITS));
        }

        @Test
        void retransmissionTimeoutDoublesUpToItsBound() {
            start(b -> b.tcpRtoMaxNanos(4_000 * MS).tcpMaxRetries(8));
            establish();
            writeAndCollect(100);
            long[] times = new long[6];
            long start = h.now;
            int seen = 0;
            for (int step = 0; step < 20000 && seen < 6; step++) {
                List<TcpSeg> r = tcp(h.advance(5 * MS));
                if (!r.isEmpty()) {
                    assertEquals(iss + 1, r.get(0).seq(), "retransmits the unacknowledged data");
                    times[seen++] = h.now - start;
                }
            }
            assertEquals(6, seen);
            for (int i = 1; i < 4; i++) {
                long gap = times[i] - times[i - 1];
                long prev = i == 1 ? times[0] : times[i - 1] - times[i - 2];
                assertTrue(Math.abs(gap - 2 * prev) <= 20 * MS, "RFC 6298 5.5: RTO doubles: " + Arrays.toString(times));
            }
            long last = times[5] - times[4];
            assertTrue(last <= 4_000 * MS + 20 * MS, "bounded by the maximum RTO: " + Arrays.toString(times));
            assertTrue(h.total(Stat.TCP_RTO) >= 6);
        }

        @Test
        void connectionTimesOutAfterTooManyRetransmissions() {
            start(b -> b.tcpRtoMaxNanos(1_000 * MS).tcpMaxRetries(3));
            establish();
            writeAndCollect(100);
            List<TcpSeg> last = List.of();
            for (int i = 0; i < 2000 && !conn.finished(); i++) {
                List<TcpSeg> r = tcp(h.advance(5 * MS));
                if (!r.isEmpty()) {
                    last = r;
                }
            }
            assertTrue(conn.finished());
            assertTrue(last.get(last.size() - 1).has(RST), "the peer is told");
            StackException e = assertThrows(StackException.class, () -> conn.read(new byte[1], 0, 1));
            assertTrue(e.getMessage().contains("timed out"), e.getMessage());
            assertEquals(1, h.total(Stat.TCP_TIMEOUTS));
        }

        @Test
        void zeroWindowIsProbedByThePersistTimer() {
            start(b -> {});
            establish();
            send(frame(ACK, peerNxt, iss + 1, 0, ts(), new byte[0])); // window closes
            List<TcpSeg> r = writeAndCollect(5000);
            assertTrue(r.isEmpty(), "nothing sent into a zero window");
            List<TcpSeg> probes = new ArrayList<>();
            for (int i = 0; i < 800 && probes.size() < 2; i++) {
                probes.addAll(tcp(h.advance(5 * MS)));
            }
            assertEquals(2, probes.size());
            assertEquals(1, probes.get(0).data().length, "RFC 9293 3.8.6.1: one-byte probe");
            assertTrue(h.total(Stat.TCP_PERSIST_PROBES) >= 2);
            // window opens: data flows
            r = send(frame(ACK, peerNxt, iss + 1, 512, ts(), new byte[0]));
            assertFalse(r.isEmpty());
        }

        /**
         * Issue 13 point 2, RFC 1122 4.2.2.17 and RFC 9293 3.8.6.1: zero-window probes back off
         * exponentially, bounded, whether the peer ACKs them without taking the byte or takes it
         * (ACKs it) and keeps the window closed; the connection is kept meanwhile, and the first
         * window that opens lets the data flow.
         */
        @Test
        void zeroWindowProbesBackOffWhileThePeerAcksThem() {
            for (boolean takesTheByte : new boolean[] {false, true}) {
                start(b -> b.tcpRtoMaxNanos(4_000 * MS));
                establish();
                send(frame(ACK, peerNxt, iss + 1, 0, ts(), new byte[0])); // window closes
                assertTrue(writeAndCollect(5000).isEmpty(), "nothing sent into a zero window");
                int acked = iss + 1;
                List<Long> times = new ArrayList<>();
                for (int step = 0; step < 6000 && times.size() < 7; step++) {
                    for (TcpSeg probe : tcp(h.advance(5 * MS))) {
                        assertTrue(probe.data().length <= 1, "a probe carries one octet");
                        times.add(h.now);
                        if (takesTheByte && probe.data().length == 1) {
                            acked = probe.seq() + 1;
                        }
                        send(frame(ACK, peerNxt, acked, 0, ts(), new byte[0])); // ACKed, still closed
                    }
                }
                assertEquals(7, times.size(), "probes keep coming");
                for (int i = 2; i < times.size(); i++) {
                    long gap = times.get(i) - times.get(i - 1);
                    long prev = times.get(i - 1) - times.get(i - 2);
                    boolean takes = takesTheByte;
                    assertTrue(gap >= Math.min(2 * prev, 4_000 * MS) - 20 * MS && gap <= 4_000 * MS + 20 * MS,
                            () -> "takes the byte " + takes + ": probe gaps double up to the bound: " + times
                                    + h.stack.countersReport());
                }
                assertFalse(conn.finished(), "the connection is kept while the peer answers");
                List<TcpSeg> r = send(frame(ACK, peerNxt, acked, 512, ts(), new byte[0])); // opens
                assertFalse(r.isEmpty(), "data flows once the window opens");
                h.close();
                h = null;
            }
        }

        @Test
        void nagleHoldsASmallSegmentWhileDataIsUnacknowledged() {
            start(b -> {});
            establish();
            assertEquals(1, writeAndCollect(10).size());
            assertEquals(0, writeAndCollect(10).size(), "RFC 9293 3.7.4: Nagle holds the second small segment");
            List<TcpSeg> r = send(frame(ACK, peerNxt, iss + 1 + 10, 512, ts(), new byte[0]));
            assertEquals(1, r.size(), "sent once the first is acknowledged");
            assertEquals(10, r.get(0).data().length);
        }
    }

    // ================================================================== resets and challenges

    /**
     * RFC 9293 3.10.7.4 "first, check sequence number": which segments' ACKs count when the two
     * ends disagree about the window, and how a disagreement cannot become an ACK loop (two
     * ends answering each other's unacceptable ACKs forever; seen under load with bucket moves
     * in RebalanceUnderLoadTest: 70,000 segments out of window and a connection stuck for 30 s).
     */
    @Nested
    class AckAcceptance {
        /** Unacknowledged bytes of the one connection, as `stack stats` shows them. */
        int unacked() {
            return h.stack.snapshot().connections().get(0).unacked();
        }

        @Test
        void aBareAckOnTheRightEdgeOfOurWindowIsAcceptedAndItsAckProcessed() {
            start(b -> {});
            establish();
            byte[] d = random(1000);
            conn.write(d, 0, d.length);
            List<TcpSeg> out = tcp(h.run());
            assertEquals(1, out.size());
            assertEquals(1000, unacked());
            // the peer filled our window and we lost its last segments: its ACKs now carry the right edge
            int rightEdge = out.get(0).ack() + (out.get(0).window() << stackWscale);
            send(frame(ACK, rightEdge, iss + 1 + 1000, 512, ts(), new byte[0]));
            assertEquals(0, h.total(Stat.TCP_OUT_OF_WINDOW), h.stack::countersReport);
            assertEquals(0, unacked(), "the ACK was processed");
        }

        @Test
        void withAZeroWindowADataSegmentAtRcvNxtHasItsAckProcessedAndItsDataDropped() {
            start(b -> b.tcpReceiveBufferBytes(4096));
            establish();
            byte[] fill = random(4096);
            List<TcpSeg> r = new ArrayList<>();
            for (int off = 0; off < fill.length; off += 1448) {
                int len = Math.min(1448, fill.length - off);
                r.addAll(send(frame(ACK | PSH, peerNxt, iss + 1, 512, ts(), Arrays.copyOfRange(fill, off, off + len))));
                peerNxt += len;
            }
            r.addAll(tcp(h.advance(200 * MS)));
            assertEquals(0, r.get(r.size() - 1).window(), "the application reads nothing: window 0");
            byte[] d = random(1000);
            conn.write(d, 0, d.length);
            assertEquals(1, tcp(h.run()).size());
            assertEquals(1000, unacked());
            // the peer's next segment (a zero-window probe, or data it sent before it saw the 0) acks ours
            List<TcpSeg> answer = send(frame(ACK | PSH, peerNxt, iss + 1 + 1000, 512, ts(), random(100)));
            assertEquals(0, unacked(), "RFC 9293 3.10.7.4: the ACK of a segment into a zero window counts");
            assertEquals(1, answer.size(), "the data is answered with an ACK");
            assertEquals(peerNxt, answer.get(0).ack(), "and not accepted: no room");
            assertArrayEquals(fill, read(4096));
        }

        @Test
        void afterATimeoutBareAcksCarrySndMaxNotTheRetransmissionPoint() {
            start(b -> {});
            establish();
            byte[] d = random(3 * 1448);
            conn.write(d, 0, d.length);
            assertEquals(3, tcp(h.run()).size());
            List<TcpSeg> rto = new ArrayList<>();
            for (int i = 0; i < 50 && h.total(Stat.TCP_RTO) == 0; i++) {
                rto = tcp(h.advance(100 * MS)); // a tail loss probe may come first (RFC 8985)
            }
            assertEquals(1, h.total(Stat.TCP_RTO));
            assertEquals(iss + 1, rto.get(0).seq(), "go-back: the first segment again");
            // out-of-order data from the peer: answered at once with a duplicate ACK
            List<TcpSeg> dup = send(frame(ACK | PSH, peerNxt + 100, iss + 1, 512, ts(), random(100)));
            assertEquals(1, dup.size());
            assertEquals(0, dup.get(0).data().length);
            assertEquals(iss + 1 + 3 * 1448, dup.get(0).seq(),
                    "SND.MAX (BSD tcp_output): the peer has seen up to there; SND.NXT would be below its window");
        }

        @Test
        void repliesToUnacceptableBareAcksAreLimitedSoTwoEndsCannotLoop() {
            start(b -> {});
            establish();
            int below = peerNxt - 1000; // the peer's ACKs sit below our window (it went back)
            assertEquals(1, send(frame(ACK, below, iss + 1, 512, ts(), new byte[0])).size(), "the first is answered");
            for (int i = 0; i < 20; i++) {
                assertTrue(send(frame(ACK, below, iss + 1, 512, ts(), new byte[0])).isEmpty(), "reply " + i);
            }
            assertEquals(21, h.total(Stat.TCP_OUT_OF_WINDOW));
            assertEquals(20, h.total(Stat.TCP_OOW_ACK_LIMITED));
            // old data is always answered: its sender may be retransmitting because our ACK was lost
            assertEquals(1, send(frame(ACK | PSH, below, iss + 1, 512, ts(), random(100))).size());
            h.advance(500 * MS);
            assertEquals(1, send(frame(ACK, below, iss + 1, 512, ts(), new byte[0])).size(),
                    "after 500 ms (Linux tcp_invalid_ratelimit) one more is answered");
        }
    }

    @Nested
    class Resets {
        @Test
        void inWindowResetGetsAChallengeAckAndTheConnectionSurvives() {
            start(b -> {});
            establish();
            List<TcpSeg> r = send(frame(RST, peerNxt + 100, 0, 0, null, new byte[0]));
            assertEquals(1, r.size(), "RFC 5961 3.2: challenge ACK");
            assertTrue(r.get(0).has(ACK));
            assertEquals(peerNxt, r.get(0).ack());
            assertFalse(conn.finished());
            assertEquals(1, h.total(Stat.TCP_CHALLENGE_ACKS));
        }

        @Test
        void exactResetClosesTheConnection() {
            start(b -> {});
            establish();
            assertTrue(send(frame(RST, peerNxt, 0, 0, null, new byte[0])).isEmpty());
            assertTrue(conn.finished());
            StackException e = assertThrows(StackException.class, () -> conn.read(new byte[1], 0, 1));
            assertTrue(e.getMessage().contains("reset by peer"), e.getMessage());
        }

        @Test
        void synInEstablishedGetsAChallengeAck() {
            start(b -> {});
            establish();
            List<TcpSeg> r = send(frame(SYN, peerNxt + 5, 0, 1000, null, new byte[0]));
            assertEquals(1, r.size(), "RFC 5961 4.2");
            assertEquals(peerNxt, r.get(0).ack());
            assertFalse(conn.finished());
        }

        @Test
        void ackForDataNeverSentIsDropped() {
            start(b -> {});
            establish();
            List<TcpSeg> r = send(frame(ACK, peerNxt, iss + 100_000, 512, ts(), new byte[0]));
            assertEquals(1, h.total(Stat.TCP_BAD_ACK));
            assertEquals(1, r.size(), "RFC 9293 3.10.7.4: send an ACK, drop the segment");
        }
    }

    // ================================================================== closing

    @Nested
    class Closing {
        @Test
        void abortFromACallbackSendsResetNotFin() {
            h = new StackHarness(1, b -> {});
            h.arpFromPeer(0);
            h.stack.tcpListen(PORT, 16, io.flowstack.core.config.TcpSocketOptions.defaults(h.stack.config()),
                    new io.flowstack.core.socket.TcpHandler() {
                        @Override
                        public int onData(io.flowstack.core.socket.TcpChannel ch, java.lang.foreign.MemorySegment data,
                                          long offset, int length) {
                            ch.abort(); // RFC 9293 3.10.5 ABORT, from inside the callback
                            return length;
                        }
                    });
            TcpOpts o = ts();
            o.mss = 1460;
            o.wscale = 7;
            o.sackPermitted = true;
            iss = send(frame(SYN, PEER_ISS, 0, 65535, o, new byte[0])).get(0).seq();
            peerNxt = PEER_ISS + 1;
            send(frame(ACK, peerNxt, iss + 1, 512, ts(), new byte[0]));
            // data and FIN together: the FIN makes an ACK due at once, in the same input pass
            List<TcpSeg> r = send(frame(ACK | PSH | FIN, peerNxt, iss + 1, 512, ts(), random(10)));
            assertTrue(r.stream().anyMatch(x -> x.has(RST)), "the abort resets the connection");
            assertTrue(r.stream().noneMatch(x -> x.has(FIN)), "and sends no FIN before the RST: " + r);
        }

        @Test
        void activeCloseThroughFinWait2AndTimeWait() {
            start(b -> {});
            establish();
            conn.close();
            List<TcpSeg> r = tcp(h.run());
            assertEquals(1, r.size());
            assertTrue(r.get(0).has(FIN | ACK));
            int finSeq = r.get(0).seq();
            assertTrue(send(frame(ACK, peerNxt, finSeq + 1, 512, ts(), new byte[0])).isEmpty()); // FIN_WAIT_2
            r = send(frame(FIN | ACK, peerNxt, finSeq + 1, 512, ts(), new byte[0]));
            assertEquals(1, r.size());
            assertEquals(peerNxt + 1, r.get(0).ack(), "peer's FIN acknowledged");
            assertEquals(0, (int) h.stack.call(0, n -> n.tcp().connections()), "TIME_WAIT is no connection");
            assertEquals(1, (int) h.stack.call(0, n -> n.tcp().timeWaitEntries()), "a TIME_WAIT entry keeps the 4-tuple");
            assertTrue(conn.finished(), "the application sees the end at once");
            // a retransmitted FIN in TIME_WAIT is acknowledged again
            r = send(frame(FIN | ACK, peerNxt, finSeq + 1, 512, ts(), new byte[0]));
            assertEquals(1, r.size());
            assertEquals(peerNxt + 1, r.get(0).ack());
            h.advance(61_000 * MS);
            assertEquals(0, (int) h.stack.call(0, n -> n.tcp().timeWaitEntries()), "2*MSL later it is gone");
        }

        @Test
        void passiveCloseThroughCloseWaitAndLastAck() {
            start(b -> {});
            establish();
            List<TcpSeg> r = send(frame(FIN | ACK, peerNxt, iss + 1, 512, ts(), new byte[0]));
            assertEquals(1, r.size());
            assertEquals(peerNxt + 1, r.get(0).ack());
            assertEquals(-1, conn.read(new byte[1], 0, 1), "FIN is end of stream");
            conn.close();
            r = tcp(h.run());
            assertTrue(r.get(0).has(FIN));
            send(frame(ACK, peerNxt + 1, r.get(0).seq() + 1, 512, ts(), new byte[0]));
            assertEquals(0, (int) h.stack.call(0, n -> n.tcp().connections()), "LAST_ACK -> CLOSED");
            assertTrue(conn.finished());
        }

        @Test
        void peerClosesRightAfterTheHandshakeAndTheAppClosesLater() {
            start(b -> {});
            establish();
            List<TcpSeg> r = send(frame(FIN | ACK, peerNxt, iss + 1, 512, ts(), new byte[0]));
            assertEquals(peerNxt + 1, r.get(0).ack());
            h.advance(350 * MS);
            assertEquals(-1, conn.read(new byte[1], 0, 1));
            conn.close();
            r = tcp(h.run());
            assertEquals(1, r.size());
            assertTrue(r.get(0).has(FIN));
            assertEquals(iss + 1, r.get(0).seq());
            assertTrue(send(frame(ACK, peerNxt + 1, iss + 2, 512, ts(), new byte[0])).isEmpty());
            assertEquals(0, (int) h.stack.call(0, n -> n.tcp().connections()), "LAST_ACK -> CLOSED");
            assertTrue(tcp(h.advance(2_000 * MS)).isEmpty(), "no FIN retransmission after it was acknowledged");
        }

        @Test
        void simultaneousCloseGoesThroughClosing() {
            start(b -> {});
            establish();
            conn.close();
            int finSeq = tcp(h.run()).get(0).seq();
            // the peer's FIN crosses ours: it does not acknowledge our FIN
            List<TcpSeg> r = send(frame(FIN | ACK, peerNxt, iss + 1, 512, ts(), new byte[0]));
            assertEquals(peerNxt + 1, r.get(0).ack()); // CLOSING
            send(frame(ACK, peerNxt + 1, finSeq + 1, 512, ts(), new byte[0])); // -> TIME_WAIT
            assertEquals(0, (int) h.stack.call(0, n -> n.tcp().connections()));
            assertEquals(1, (int) h.stack.call(0, n -> n.tcp().timeWaitEntries()));
            h.advance(61_000 * MS);
            assertEquals(0, (int) h.stack.call(0, n -> n.tcp().timeWaitEntries()));
        }

        @Test
        void newSynReusesTimeWait() {
            start(b -> {});
            establish();
            conn.close();
            int finSeq = tcp(h.run()).get(0).seq();
            send(frame(FIN | ACK, peerNxt, finSeq + 1, 512, ts(), new byte[0]));
            peerNxt++;
            // RFC 6191: a SYN with a newer timestamp reopens the 4-tuple
            List<TcpSeg> r = send(frame(SYN, peerNxt + 100_000, 0, 65535, ts(), new byte[0]));
            assertEquals(1, h.total(Stat.TCP_TIME_WAIT_REUSE));
            assertTrue(r.get(0).has(SYN | ACK));
            assertEquals(peerNxt + 100_001, r.get(0).ack());
        }

        @Test
        void dataAfterTheApplicationClosedResets() {
            start(b -> {});
            establish();
            conn.close();
            int finSeq = tcp(h.run()).get(0).seq();
            send(frame(ACK, peerNxt, finSeq + 1, 512, ts(), new byte[0])); // FIN_WAIT_2
            List<TcpSeg> r = send(frame(ACK | PSH, peerNxt, finSeq + 1, 512, ts(), random(100)));
            assertEquals(1, r.size());
            assertTrue(r.get(0).has(RST), "RFC 1122 4.2.2.13");
            assertEquals(1, h.total(Stat.TCP_ABORT_ON_DATA));
        }

        @Test
        void synWithAnEqualTimestampButHigherSequenceReusesTimeWait() {
            start(b -> {});
            establish();
            conn.close();
            int finSeq = tcp(h.run()).get(0).seq();
            TcpOpts last = ts();
            send(frame(FIN | ACK, peerNxt, finSeq + 1, 512, last, new byte[0]));
            peerNxt++;
            TcpOpts same = new TcpOpts();
            same.ts = true;
            same.tsVal = last.tsVal; // Linux reconnecting within the same millisecond
            List<TcpSeg> r = send(frame(SYN, peerNxt + 40_000, 0, 65535, same, new byte[0]));
            assertEquals(1, h.total(Stat.TCP_TIME_WAIT_REUSE), "RFC 6191 2");
            assertTrue(r.get(0).has(SYN | ACK));
        }

        @Test
        void closeWithUnreadDataResets() {
            start(b -> {});
            establish();
            send(frame(ACK | PSH, peerNxt, iss + 1, 512, ts(), random(100)));
            conn.close();
            List<TcpSeg> r = tcp(h.run());
            assertTrue(r.get(r.size() - 1).has(RST), "RFC 1122 4.2.2.13");
        }
    }

    // ================================================================== active open

    @Nested
    class ActiveOpen {
        @Test
        void connectSendsSynAndCompletesOnSynAck() {
            start(b -> {});
            var stream = h.stack.call(0, n -> n.tcp().connect(PEER, 8080, 45000, false, null));
            List<TcpSeg> r = tcp(h.run());
            assertEquals(1, r.size());
            TcpSeg syn = r.get(0);
            assertTrue(syn.has(SYN));
            assertFalse(syn.has(ACK));
            assertEquals(1460, syn.mss());
            assertTrue(syn.sackPermitted() && syn.ts() && syn.wscale() >= 0);
            TcpOpts o = ts();
            o.tsEcr = syn.tsVal();
            o.mss = 1460;
            o.wscale = 2;
            o.sackPermitted = true;
            byte[] synAck = h.ipFrame(Packets.ipv4(PEER, US, 6, 77, 0, Packets.tcp(PEER, US, 8080, 45000, 9000,
                    syn.seq() + 1, SYN | ACK, 1000, o.encode(), new byte[0])));
            r = send(synAck);
            assertEquals(1, r.size());
            assertTrue(r.get(0).has(ACK));
            assertEquals(9001, r.get(0).ack());
            assertTrue(stream.established);
        }

        @Test
        void resetAnswerToSynIsConnectionRefused() {
            start(b -> {});
            var stream = h.stack.call(0, n -> n.tcp().connect(PEER, 8080, 45001, false, null));
            TcpSeg syn = tcp(h.run()).get(0);
            send(h.ipFrame(Packets.ipv4(PEER, US, 6, 78, 0, Packets.tcp(PEER, US, 8080, 45001, 0, syn.seq() + 1,
                    RST | ACK, 0, new byte[0], new byte[0]))));
            assertTrue(stream.finished);
            assertEquals("connection refused", stream.error);
        }

        @Test
        void synIsRetriedWithBackoffThenTimesOut() {
            start(b -> b.tcpSynRetries(2));
            var stream = h.stack.call(0, n -> n.tcp().connect(PEER, 8080, 45002, false, null));
            int syns = tcp(h.run()).size();
            for (int i = 0; i < 10_000 && !stream.finished; i++) {
                syns += tcp(h.advance(5 * MS)).stream().filter(s -> s.has(SYN)).count();
            }
            assertEquals(3, syns, "the SYN and 2 retries (1 s, then 2 s: RFC 6298 5.5)");
            assertEquals("connection timed out", stream.error);
        }

        @Test
        void simultaneousOpen() {
            start(b -> {});
            var stream = h.stack.call(0, n -> n.tcp().connect(PEER, 8080, 45003, false, null));
            TcpSeg syn = tcp(h.run()).get(0);
            // the peer's own SYN crosses ours (RFC 9293 figure 8)
            List<TcpSeg> r = send(h.ipFrame(Packets.ipv4(PEER, US, 6, 79, 0, Packets.tcp(PEER, US, 8080, 45003, 300, 0,
                    SYN, 1000, new byte[0], new byte[0]))));
            assertTrue(r.get(0).has(SYN | ACK), "SYN-RECEIVED answers with SYN-ACK");
            assertEquals(syn.seq(), r.get(0).seq());
            assertEquals(301, r.get(0).ack());
            send(h.ipFrame(Packets.ipv4(PEER, US, 6, 80, 0, Packets.tcp(PEER, US, 8080, 45003, 300, syn.seq() + 1,
                    SYN | ACK, 1000, new byte[0], new byte[0]))));
            assertTrue(stream.established);
        }
    }

    @Nested
    class OptionsAndLimits {
        @Test
        void keepaliveProbesAnIdleConnectionAndDropsItWhenUnanswered() {
            h = new StackHarness(1, b -> b.tcpKeepaliveIdleNanos(10_000 * MS).tcpKeepaliveIntervalNanos(1_000 * MS)
                    .tcpKeepaliveProbes(3));
            h.arpFromPeer(0);
            listener = h.stack.tcpListen(PORT, 16,
                    io.flowstack.core.config.TcpSocketOptions.defaults(h.stack.config()).withKeepAlive(true));
            establish();
            List<TcpSeg> probes = new ArrayList<>();
            for (int i = 0; i < 1100 && probes.isEmpty(); i++) {
                probes.addAll(tcp(h.advance(10 * MS)));
            }
            assertEquals(1, probes.size(), "RFC 1122 4.2.3.6: a probe after the idle time");
            assertEquals(iss, probes.get(0).seq(), "SEG.SEQ = SND.NXT - 1");
            // the peer answers: the connection lives on and the idle clock restarts
            send(frame(ACK, peerNxt, iss + 1, 512, ts(), new byte[0]));
            assertFalse(conn.finished());
            // now the peer is gone: 3 unanswered probes, then the connection is dropped
            List<TcpSeg> later = new ArrayList<>();
            for (int i = 0; i < 2000 && !conn.finished(); i++) {
                later.addAll(tcp(h.advance(10 * MS)));
            }
            assertTrue(conn.finished());
            assertEquals(4, later.size(), "3 probes and a RST");
            assertTrue(later.get(3).has(RST));
            StackException e = assertThrows(StackException.class, () -> conn.read(new byte[1], 0, 1));
            assertTrue(e.getMessage().contains("keepalive"), e.getMessage());
        }

        @Test
        void memoryBudgetRefusesConnectionsCleanly() {
            // room for exactly two connections of 2 x 64 KiB rings
            h = new StackHarness(1, b -> b.tcpSendBufferBytes(65536).tcpReceiveBufferBytes(65536)
                    .tcpMemoryBytes(4 * 65536));
            h.arpFromPeer(0);
            listener = h.stack.tcpListen(PORT, 16);
            for (int i = 0; i < 3; i++) {
                int sport = 41000 + i;
                TcpSeg synAck = tcp(sendRaw(sport, SYN, 100, 0)).get(0);
                List<TcpSeg> r = tcp(sendRaw(sport, ACK, 101, synAck.seq() + 1));
                if (i < 2) {
                    assertTrue(r.isEmpty());
                    assertNotNull(listener.accept(0, TimeUnit.MILLISECONDS));
                } else {
                    assertEquals(1, r.size());
                    assertTrue(r.get(0).has(RST), "over budget: refused with a reset");
                }
            }
            assertEquals(1, h.total(Stat.TCP_MEMORY_LIMIT));
            // TCP refuses with its own exception; the socket API turns it into a StackException
            TcpLimitException t = assertThrows(TcpLimitException.class,
                    () -> h.stack.call(0, n -> n.tcp().connect(PEER, 9, 45555, false, null)));
            assertTrue(t.getMessage().contains("memory budget"), t.getMessage());
            StackException e = assertThrows(StackException.class,
                    () -> h.stack.tcpConnect(PEER, 9, 1, TimeUnit.MILLISECONDS));
            assertTrue(e.getMessage().contains("memory budget"), e.getMessage());
        }

        List<Packets.Frame> sendRaw(int sport, int flags, int seq, int ack) {
            h.inject(0, h.ipFrame(Packets.ipv4(PEER, US, 6, ipId++, 0,
                    Packets.tcp(PEER, US, sport, PORT, seq, ack, flags, 65535, new byte[0], new byte[0]))));
            return h.run();
        }

        @Test
        void congestionControlIsSelectablePerSocket() {
            start(b -> {});
            var cubic = h.stack.call(0, n -> n.tcp().connect(PEER, 8080, 45010, false, "cubic"));
            var reno = h.stack.call(0, n -> n.tcp().connect(PEER, 8080, 45011, false, "newreno"));
            assertEquals("cubic", h.stack.call(0, n -> n.tcp().congestionControlOf(PEER, 8080, 45010)));
            assertEquals("newreno", h.stack.call(0, n -> n.tcp().congestionControlOf(PEER, 8080, 45011)));
            assertNotNull(cubic);
            assertNotNull(reno);
        }
    }

    @Test
    void listenerAcceptTimesOutWithNull() {
        start(b -> {});
        assertNull(listener.accept(0, TimeUnit.MILLISECONDS));
    }
}
