package io.flowstack.core.tcp;

import static io.flowstack.core.testing.Packets.ACK;
import static io.flowstack.core.testing.Packets.SYN;
import static io.flowstack.core.testing.StackHarness.PEER;
import static io.flowstack.core.testing.StackHarness.US;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.config.StackConfig;
import io.flowstack.core.socket.TcpConnection;
import io.flowstack.core.socket.TcpListener;
import io.flowstack.core.stats.Stat;
import io.flowstack.core.testing.Packets;
import io.flowstack.core.testing.Packets.TcpSeg;
import io.flowstack.core.testing.StackHarness;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Malformed and extreme TCP options (issue 13 point 10), each with what the stack does about
 * it: an option length of 0 or 1 or one that runs past the header ends the option list (RFC
 * 9293 3.2: "must be prepared to handle an illegal option length ... without crashing"; Linux's
 * tcp_parse_options returns at {@code opsize < 2} and {@code opsize > length}), the options
 * before it still count; a window scale above 14 is used as 14 and counted (RFC 7323 2.3); an
 * MSS of 0 is no MSS (the default 536, RFC 9293 3.7.1; Linux ignores a zero MSS too) and an MSS
 * of 1 is raised to the stack's floor of 64 (Linux raises it to tcp_min_snd_mss, 48), so no
 * segment is empty and nothing divides by zero; SACK blocks below SND.UNA, beyond SND.MAX or
 * empty are ignored and counted (RFC 2018, RFC 6675, as Linux's tcp_is_sackblock_valid).
 * Also the zero-window probe timeout the fuzzer found (TcpStatesFuzzTest).
 */
class TcpMalformedOptionsTest {
    static final int PORT = 80;
    static final int PEER_PORT = 40000;
    static final int PEER_ISS = 1_000_000;
    static final long MS = 1_000_000L;

    StackHarness h;
    TcpListener listener;
    TcpConnection conn;
    int iss;
    int peerNxt = PEER_ISS + 1;
    int ipId = 1;

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
        listener = h.stack.tcpListen(PORT, 16);
    }

    byte[] frame(int flags, int seq, int ack, int window, byte[] options, byte[] data) {
        return h.ipFrame(Packets.ipv4(PEER, US, 6, ipId++, 0,
                Packets.tcp(PEER, US, PEER_PORT, PORT, seq, ack, flags, window, options, data)));
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

    /** A SYN with {@code options} (padded to 4 bytes); returns the SYN-ACK. */
    TcpSeg syn(byte[] options) {
        byte[] o = new byte[(options.length + 3) & ~3];
        System.arraycopy(options, 0, o, 0, options.length);
        List<TcpSeg> r = send(frame(SYN, PEER_ISS, 0, 65535, o, new byte[0]));
        assertEquals(1, r.size(), "the SYN is answered");
        assertTrue(r.get(0).has(SYN | ACK));
        iss = r.get(0).seq();
        return r.get(0);
    }

    /** Completes the handshake (window {@code window}, unscaled field) and accepts. */
    void establish(int window, byte[] options) {
        send(frame(ACK, peerNxt, iss + 1, window, options, new byte[0]));
        conn = listener.accept(0, TimeUnit.MILLISECONDS);
        assertNotNull(conn, "established");
    }

    Tcb tcb() {
        List<Tcb> all = new ArrayList<>();
        h.stack.call(0, n -> {
            n.tcp().forEach(all::add);
            return null;
        });
        assertEquals(1, all.size());
        return all.get(0);
    }

    /** Writes {@code n} bytes and returns the data segments sent at once. */
    List<TcpSeg> write(int n) {
        conn.write(new byte[n], 0, n);
        List<TcpSeg> r = new ArrayList<>();
        for (TcpSeg s : tcp(h.run())) {
            if (s.data().length > 0) {
                r.add(s);
            }
        }
        return r;
    }

    @Test
    void anOptionLengthOfZeroEndsTheOptionList() {
        start(b -> {});
        // MSS 1000, then a window scale option claiming length 0, then SACK-permitted
        TcpSeg synAck = syn(new byte[] {2, 4, 0x03, (byte) 0xE8, 3, 0, 7, 4, 2});
        assertEquals(-1, synAck.wscale(), "no window scale: the option list ended at the bad length");
        assertFalse(synAck.sackPermitted(), "nor SACK-permitted after it");
        establish(65535, new byte[0]);
        assertEquals(1000, tcb().mss, "the MSS before the bad option counts");
        for (TcpSeg s : write(5000)) {
            assertTrue(s.data().length > 0 && s.data().length <= 1000, "segments of the MSS: " + s.data().length);
        }
    }

    @Test
    void anOptionLengthOfOneEndsTheOptionList() {
        start(b -> {});
        TcpSeg synAck = syn(new byte[] {3, 1, 7, 2, 4, 0x03, (byte) 0xE8});
        assertEquals(-1, synAck.wscale());
        establish(65535, new byte[0]);
        assertEquals(TcpOpen.DEFAULT_MSS, tcb().mss, "the MSS after the bad option is not read: the default");
    }

    @Test
    void anOptionRunningPastTheHeaderEndsTheOptionList() {
        start(b -> {});
        // MSS 1200, SACK-permitted, then a timestamps option whose length (10) runs past the 8-byte options
        TcpSeg synAck = syn(new byte[] {2, 4, 0x04, (byte) 0xB0, 4, 2, 8, 10});
        assertTrue(synAck.sackPermitted(), "the options before it count");
        assertFalse(synAck.ts(), "the cut option is not taken");
        establish(65535, new byte[0]);
        assertEquals(1200, tcb().mss);
        assertFalse(tcb().tsOk);
    }

    @Test
    void aWindowScaleAbove14IsUsedAs14AndCounted() {
        for (int shift : new int[] {15, 255}) {
            start(b -> {});
            TcpSeg synAck = syn(new byte[] {3, 3, (byte) shift});
            assertTrue(synAck.wscale() >= 0, "window scaling agreed");
            establish(2, new byte[0]);
            assertEquals(14, tcb().sndWscale, "RFC 7323 2.3: MUST use 14");
            assertEquals(2 << 14, tcb().sndWnd, "the peer's window field scaled by 14");
            assertEquals(1, h.total(Stat.TCP_WSCALE_CLAMPED), "SHOULD log: counted");
            h.close();
            h = null;
        }
        start(b -> {});
        syn(new byte[] {3, 3, 14});
        establish(2, new byte[0]);
        assertEquals(0, h.total(Stat.TCP_WSCALE_CLAMPED), "14 is no error");
    }

    @Test
    void anMssOfZeroIsNoMss() {
        start(b -> {});
        syn(new byte[] {2, 4, 0, 0});
        establish(65535, new byte[0]);
        assertEquals(TcpOpen.DEFAULT_MSS, tcb().mss, "RFC 9293 3.7.1: the default 536");
        List<TcpSeg> segs = write(3000);
        assertFalse(segs.isEmpty());
        for (TcpSeg s : segs) {
            assertTrue(s.data().length > 0 && s.data().length <= TcpOpen.DEFAULT_MSS, "no empty segment: " + s.data().length);
        }
    }

    @Test
    void anMssOfOneIsRaisedToTheFloorAndEverySegmentCarriesData() {
        start(b -> {});
        // MSS 1 and timestamps: 12 option bytes per segment must still leave room for data
        syn(new byte[] {2, 4, 0, 1, 1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0});
        Packets.TcpOpts ts = new Packets.TcpOpts();
        ts.ts = true;
        ts.tsVal = 2;
        establish(65535, ts.encode());
        assertEquals(64, tcb().mss, "raised to the floor (Linux: tcp_min_snd_mss, 48)");
        int got = 0;
        int acked = iss + 1;
        for (int round = 0; round < 100 && got < 1000; round++) {
            List<TcpSeg> segs = round == 0 ? write(1000) : new ArrayList<>();
            if (round > 0) {
                ts.tsVal++;
                for (TcpSeg s : send(frame(ACK, peerNxt, acked, 65535, ts.encode(), new byte[0]))) {
                    if (s.data().length > 0) {
                        segs.add(s);
                    }
                }
            }
            for (TcpSeg s : segs) {
                assertTrue(s.data().length > 0 && s.data().length <= 64 - 12, "data in every segment: " + s.data().length);
                got += s.data().length;
                acked = Math.max(acked, s.seq() + s.data().length);
            }
        }
        assertEquals(1000, got, "all the data went, 52 bytes at a time");
    }

    @Test
    void sackBlocksOutsideTheWindowAreIgnoredAndCounted() {
        start(b -> {});
        syn(new byte[] {2, 4, 0x05, (byte) 0xB4, 4, 2});
        establish(65535, new byte[0]);
        List<TcpSeg> segs = write(4000);
        assertTrue(segs.size() >= 3);
        int una = iss + 1;
        int max = iss + 1 + 4000;
        // an old block (below the ACK), one beyond SND.MAX, an inverted one and an empty one
        byte[] sack = sackOption(new int[] {una - 2000, una - 1000, max, max + 1460, una + 2920, una + 1460,
            una + 1460, una + 1460});
        long retransmits = h.total(Stat.TCP_RETRANSMITS);
        send(frame(ACK, peerNxt, una, 65535, sack, new byte[0])); // a duplicate ACK carrying only those blocks
        assertEquals(4, h.total(Stat.TCP_SACK_IGNORED), "the 4 blocks ignored and counted");
        assertTrue(tcb().sb.isEmpty(), "nothing recorded on the scoreboard");
        assertFalse(tcb().inRecovery, "no recovery from ignored blocks");
        assertEquals(retransmits, h.total(Stat.TCP_RETRANSMITS), "nothing retransmitted for them");
        // a valid block is recorded and not counted
        send(frame(ACK, peerNxt, una, 65535, sackOption(new int[] {una + 1460, una + 2920}), new byte[0]));
        assertEquals(4, h.total(Stat.TCP_SACK_IGNORED));
        assertEquals(una + 2920, tcb().sb.highest(una), "the valid block is on the scoreboard");
    }

    static byte[] sackOption(int[] edges) {
        byte[] o = new byte[2 + 2 + 4 * edges.length];
        o[0] = 1;
        o[1] = 1;
        o[2] = 5;
        o[3] = (byte) (2 + 4 * edges.length);
        for (int i = 0; i < edges.length; i++) {
            int v = edges[i];
            o[4 + 4 * i] = (byte) (v >>> 24);
            o[5 + 4 * i] = (byte) (v >>> 16);
            o[6 + 4 * i] = (byte) (v >>> 8);
            o[7 + 4 * i] = (byte) v;
        }
        return o;
    }

    /**
     * Found by TcpStatesFuzzTest: a peer that closes its window and then never answers the
     * zero-window probes held the connection (and its buffers) for ever. Now, as Linux's
     * tcp_probe_timer, {@code tcpMaxRetries} unanswered probes give the connection up (RFC 1122
     * 4.2.3.5 R2); while the peer answers them it stays open (RFC 9293 3.8.6.1), which
     * TcpPacketTest's zeroWindowProbesBackOffWhileThePeerAcksThem checks.
     */
    @Test
    void unansweredZeroWindowProbesTimeTheConnectionOut() {
        start(b -> b.tcpMaxRetries(5).tcpRtoMaxNanos(2_000 * MS));
        syn(new byte[0]);
        establish(0, new byte[0]); // the window is closed from the start
        assertTrue(write(100).isEmpty(), "nothing sent into a zero window");
        int probes = 0;
        boolean reset = false;
        for (int step = 0; step < 2000 && !reset; step++) {
            for (TcpSeg s : tcp(h.advance(10 * MS))) {
                if (s.has(Packets.RST)) {
                    reset = true;
                } else {
                    assertEquals(1, s.data().length, "a probe");
                    probes++;
                }
            }
        }
        assertTrue(reset, "the connection is given up with a reset");
        assertEquals(5, probes, "after tcpMaxRetries unanswered probes");
        assertEquals(1, h.total(Stat.TCP_TIMEOUTS));
        assertTrue(conn.finished(), "the application learns it");
        assertEquals(0, (int) h.stack.call(0, n -> n.tcp().connections()));
    }
}
