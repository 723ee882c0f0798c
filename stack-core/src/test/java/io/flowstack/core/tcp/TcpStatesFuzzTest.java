package io.flowstack.core.tcp;

import static io.flowstack.core.testing.StackHarness.PEER;
import static io.flowstack.core.testing.StackHarness.US;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.flowstack.core.fuzz.FuzzInput;
import io.flowstack.core.fuzz.FuzzSeeds;
import io.flowstack.core.fuzz.FuzzStack;
import io.flowstack.core.socket.TcpConnection;
import io.flowstack.core.socket.TcpListener;
import io.flowstack.core.testing.Packets;
import io.flowstack.core.testing.Packets.TcpOpts;
import io.flowstack.core.testing.Packets.TcpSeg;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * TCP input in every state (RFC 9293 3.10.7): a scripted peer drives one connection into the
 * state the input names (LISTEN, SYN-SENT, SYN-RECEIVED, ESTABLISHED, FIN-WAIT-1, FIN-WAIT-2,
 * CLOSE-WAIT, CLOSING, LAST-ACK, TIME-WAIT), then sends it fuzzed segments: any control bits,
 * sequence and acknowledgment numbers near the connection's own (or anywhere), any window, raw
 * option bytes, data; between them the clock moves and the application writes, reads or closes.
 *
 * <p>Input: a state byte, a handshake-options byte (MSS, window scale, SACK, timestamps for the
 * peer's SYN), then up to 12 segments of: flags, a control byte (bit 0: a 32-bit sequence delta,
 * bit 1: a 32-bit acknowledgment delta, else 16-bit ones, bit 2: bad checksum, bits 4-5:
 * application action: none, write, read, close), the sequence number as a delta from the
 * peer's next, the acknowledgment as one from the stack's SND.NXT (so that an input means the
 * same whatever the random ISN), the window, the option bytes (at most 40), the data (at most 1,460) and the
 * milliseconds to advance the clock afterwards.
 *
 * <p>Invariants after every step, for every connection: SND.UNA &lt;= SND.NXT &lt;= SND.MAX
 * (RFC 9293 3.3.1), at most the send buffer in flight, RCV.ADV never left of RCV.NXT; every
 * data octet the stack sends lies in [SND.UNA, SND.UNA + SND.WND), or is the one octet of a
 * zero-window probe (RFC 9293 3.8.6.1); no exception, every segment counted. At the end the
 * application closes, the clock runs past TIME-WAIT, and no connection, TIME-WAIT entry or
 * buffer byte is left; a new connection to the listener still completes its handshake. The
 * stack's timers are short ({@link #SHORT_TIMERS}).
 */
class TcpStatesFuzzTest {
    static final int PORT = 80;
    static final int PEER_PORT = 40000;
    static final int REMOTE_PORT = 8080;
    static final int LOCAL_PORT = 45000;
    static final int PEER_ISS = 1_000_000;
    static final long MS = 1_000_000L;
    /**
     * Short timers, so that what takes minutes takes seconds: the timer wheel ticks every
     * millisecond, and an execution that ran 48 simulated minutes ticked 2.9 million times (4
     * executions a second). RTO at most 1 s, 4 retries (SYN: 2), FIN-WAIT-2 and TIME-WAIT 1 s.
     */
    static final java.util.function.Consumer<io.flowstack.core.config.StackConfig.Builder> SHORT_TIMERS = b -> b
            .tcpSynBacklog(4).tcpRtoMaxNanos(1_000 * MS).tcpMaxRetries(4).tcpSynRetries(2).tcpTimeWaitNanos(1_000 * MS);
    static final String[] STATES = {"LISTEN", "SYN_SENT", "SYN_RECEIVED", "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2",
        "CLOSE_WAIT", "CLOSING", "LAST_ACK", "TIME_WAIT"};

    static Stream<Arguments> segments() {
        List<Arguments> seeds = new ArrayList<>();
        for (int state = 0; state < STATES.length; state++) {
            FuzzSeeds s = new FuzzSeeds().u8(state).u8(0x0F);
            // an in-window data segment, a duplicate ACK, a FIN, then an RST
            s.u8(Packets.ACK | Packets.PSH).u8(0x10).u16(0).u16(0).u16(512).chunk(new byte[0]).chunk(new byte[100]).u8(10);
            s.u8(Packets.ACK).u8(0).u16(100).u16(0).u16(512).chunk(new byte[0]).chunk(new byte[0]).u8(0);
            s.u8(Packets.ACK | Packets.FIN).u8(0x30).u16(100).u16(0).u16(512).chunk(new byte[0]).chunk(new byte[0]).u8(200);
            s.u8(Packets.RST).u8(0).u16(101).u16(0).u16(0).chunk(new byte[0]).chunk(new byte[0]).u8(0);
            seeds.add(arguments((Object) s.build()));
        }
        return seeds.stream();
    }

    /** The connection under test and what the scripted peer knows of it. Owned by: the fuzzing thread. */
    static final class Script {
        final FuzzStack s;
        final TcpListener listener;
        TcpConnection conn;
        TcpStream active;
        int peerPort = PEER_PORT;
        int localPort = PORT;
        int iss; // the stack's ISS
        int peerNxt = PEER_ISS + 1;
        int ourNxt; // what the peer believes is the stack's SND.NXT
        int tsVal = 5000;
        int peerWscale; // the shift the peer announced (its windows are scaled by it)
        int ipId = 1;

        Script(FuzzStack s) {
            this.s = s;
            this.listener = s.h.stack.tcpListen(PORT, 16);
        }

        byte[] frame(int flags, int seq, int ack, int window, byte[] options, byte[] data, boolean badChecksum) {
            byte[] t = Packets.tcp(PEER, US, peerPort, localPort, seq, ack, flags, window, options, data);
            if (badChecksum) {
                t[16] ^= 0x5A;
            }
            return s.ipFrame(Packets.ipv4(PEER, US, 6, ipId++, 0, t));
        }

        List<TcpSeg> send(byte[] frame) {
            List<TcpSeg> out = new ArrayList<>();
            for (Packets.Frame f : s.frame(frame, 0)) {
                collect(f, out);
            }
            return out;
        }

        static void collect(Packets.Frame f, List<TcpSeg> out) {
            if (f.type() == Packets.ETH_IPV4 && f.ipProto() == 6) {
                TcpSeg seg = Packets.tcpOf(f);
                assertTrue(seg.checksumOk(), "the stack's TCP checksum verifies");
                out.add(seg);
            }
        }

        TcpOpts opts(int which) {
            TcpOpts o = new TcpOpts();
            o.mss = (which & 1) != 0 ? 1460 : 0;
            o.wscale = (which & 2) != 0 ? 7 : -1;
            o.sackPermitted = (which & 4) != 0;
            o.ts = (which & 8) != 0;
            o.tsVal = ++tsVal;
            peerWscale = Math.max(0, o.wscale);
            return o;
        }

        /** Drives the connection into {@code state}; fails if it does not get there. */
        void open(int state, int handshake) {
            if (state == 0) {
                return; // LISTEN: segments go to the listener
            }
            if (state == 1) { // SYN-SENT: an active open from LOCAL_PORT
                peerPort = REMOTE_PORT;
                localPort = LOCAL_PORT;
                active = s.h.stack.call(0, n -> n.tcp().connect(PEER, REMOTE_PORT, LOCAL_PORT, false, null));
                List<TcpSeg> r = new ArrayList<>();
                for (Packets.Frame f : s.h.run()) {
                    collect(f, r);
                }
                assertEquals(1, r.size(), "one SYN");
                iss = r.get(0).seq();
                ourNxt = iss + 1;
                peerNxt = 9000;
                conn = new TcpConnection(active, US, LOCAL_PORT, PEER, REMOTE_PORT);
                expect("SYN_SENT");
                return;
            }
            byte[] o = opts(handshake).encode();
            List<TcpSeg> r = send(frame(Packets.SYN, PEER_ISS, 0, 65535, o, new byte[0], false));
            assertEquals(1, r.size(), "one SYN-ACK");
            iss = r.get(0).seq();
            ourNxt = iss + 1;
            if (state == 2) {
                expect("SYN_RECEIVED");
                return;
            }
            send(frame(Packets.ACK, peerNxt, ourNxt, 512, tsOpt(handshake), new byte[0], false));
            conn = listener.accept(0, TimeUnit.MILLISECONDS);
            assertNotNull(conn, "established");
            switch (STATES[state]) {
                case "ESTABLISHED" -> expect("ESTABLISHED");
                case "FIN_WAIT_1" -> {
                    closeApp();
                    expect("FIN_WAIT_1");
                }
                case "FIN_WAIT_2" -> {
                    closeApp();
                    send(frame(Packets.ACK, peerNxt, ourNxt, 512, tsOpt(handshake), new byte[0], false));
                    expect("FIN_WAIT_2");
                }
                case "CLOSE_WAIT" -> {
                    send(frame(Packets.ACK | Packets.FIN, peerNxt++, ourNxt, 512, tsOpt(handshake), new byte[0], false));
                    expect("CLOSE_WAIT");
                }
                case "CLOSING" -> {
                    closeApp();
                    send(frame(Packets.ACK | Packets.FIN, peerNxt++, ourNxt - 1, 512, tsOpt(handshake), new byte[0], false));
                    expect("CLOSING");
                }
                case "LAST_ACK" -> {
                    send(frame(Packets.ACK | Packets.FIN, peerNxt++, ourNxt, 512, tsOpt(handshake), new byte[0], false));
                    closeApp();
                    expect("LAST_ACK");
                }
                case "TIME_WAIT" -> {
                    closeApp();
                    send(frame(Packets.ACK | Packets.FIN, peerNxt++, ourNxt, 512, tsOpt(handshake), new byte[0], false));
                    assertEquals(1, (int) s.h.stack.call(0, n -> n.tcp().timeWaitEntries()), "in TIME-WAIT");
                }
                default -> throw new AssertionError(STATES[state]);
            }
        }

        byte[] tsOpt(int handshake) {
            if ((handshake & 8) == 0) {
                return new byte[0];
            }
            TcpOpts o = new TcpOpts();
            o.ts = true;
            o.tsVal = ++tsVal;
            return o.encode();
        }

        void closeApp() {
            conn.close();
            List<TcpSeg> r = new ArrayList<>();
            for (Packets.Frame f : s.h.run()) {
                collect(f, r);
            }
            assertTrue(r.stream().anyMatch(x -> x.has(Packets.FIN)), "the close sends a FIN");
            ourNxt++;
        }

        void expect(String state) {
            List<String> states = new ArrayList<>();
            s.h.stack.call(0, n -> {
                n.tcp().forEach(t -> states.add(t.state.name()));
                return null;
            });
            assertEquals(List.of(state), states, "driven into " + state);
        }
    }

    @MethodSource("segments")
    @FuzzTest
    void segments(byte[] input) {
        FuzzInput in = new FuzzInput(input);
        try (FuzzStack s = new FuzzStack(0, SHORT_TIMERS)) {
            Script sc = new Script(s);
            int state = in.u8() % STATES.length;
            int handshake = in.u8();
            sc.open(state, handshake);
            byte[] chunk = new byte[4096];
            for (int i = 0; i < 12 && in.more(); i++) {
                int flags = in.u8();
                int ctl = in.u8();
                // relative to the connection's numbers, so that an input means the same whatever
                // the ISN (RFC 6528: random per stack) and a finding replays
                int seq = sc.peerNxt + ((ctl & 1) != 0 ? in.i32() : (short) in.u16());
                int ack = sc.ourNxt + ((ctl & 2) != 0 ? in.i32() : (short) in.u16());
                int window = in.u16();
                byte[] options = in.chunk(40);
                byte[] opt = new byte[(options.length + 3) & ~3];
                System.arraycopy(options, 0, opt, 0, options.length);
                byte[] data = in.chunk(1460);
                List<TcpSeg> out = sc.send(sc.frame(flags, seq, ack, window, opt, data, (ctl & 4) != 0));
                check(s, out);
                switch ((ctl >>> 4) & 3) {
                    case 1 -> appWrite(sc, in.u16() % 8192);
                    case 2 -> appRead(sc, chunk);
                    case 3 -> appClose(sc);
                    default -> { }
                }
                List<TcpSeg> later = new ArrayList<>();
                for (Packets.Frame f : s.h.advance(in.u8() * MS)) {
                    Script.collect(f, later);
                }
                check(s, later);
            }
            finish(s, sc);
        }
    }

    static void appWrite(Script sc, int n) {
        if (sc.conn != null && !sc.conn.finished()) {
            sc.conn.writeTimeout(1, TimeUnit.MILLISECONDS);
            try {
                sc.conn.write(new byte[n], 0, n);
            } catch (io.flowstack.core.socket.StackException e) {
                // closed, reset or full: what write documents for a connection that cannot take it
            }
        }
    }

    static void appRead(Script sc, byte[] chunk) {
        if (sc.conn != null) {
            sc.conn.readTimeout(1, TimeUnit.MILLISECONDS);
            try {
                if (sc.conn.inputStream().available() > 0 || sc.conn.finished()) {
                    sc.conn.read(chunk, 0, chunk.length);
                }
            } catch (io.flowstack.core.socket.StackException | java.io.IOException e) {
                // reset: documented
            }
        }
    }

    static void appClose(Script sc) {
        if (sc.conn != null) {
            sc.conn.close();
        }
    }

    /** The invariants over every connection and the segments the stack just sent. */
    static void check(FuzzStack s, List<TcpSeg> sent) {
        s.h.stack.call(0, n -> {
            n.tcp().forEach(t -> {
                String who = TcpLayer.describe(t);
                assertTrue(Seq.le(t.sndUna, t.sndNxt) && Seq.le(t.sndNxt, t.sndMax),
                        "SND.UNA <= SND.NXT <= SND.MAX: " + who);
                if (t.stream != null && t.state != TcpState.SYN_SENT && t.state != TcpState.SYN_RECEIVED) {
                    assertTrue(t.sndMax - t.sndUna <= t.options.sendBufferBytes() + 2,
                            "no more in flight than the send buffer (and SYN, FIN): " + who);
                }
                assertTrue(Seq.ge(t.rcvAdv, t.rcvNxt) || t.state == TcpState.SYN_SENT,
                        "the advertised right edge is never left of RCV.NXT: " + who);
                for (TcpSeg seg : sent) {
                    if (seg.data().length > 0 && seg.dport() == t.remotePort && seg.sport() == t.localPort) {
                        int end = seg.seq() + seg.data().length;
                        int edge = t.sndUna + Math.max(t.sndWnd, 1); // a zero window is probed with one octet
                        assertTrue(Seq.le(end, edge) || Seq.le(end, t.sndUna),
                                "data [" + seg.seq() + ", " + end + ") beyond the peer's window edge " + edge + ": " + who);
                    }
                }
            });
            return null;
        });
    }

    /** The application closes, time runs out every timer: nothing may be left. */
    static void finish(FuzzStack s, Script sc) {
        if (sc.conn != null) {
            sc.conn.close();
        }
        for (TcpConnection c; (c = sc.listener.accept(0, TimeUnit.MILLISECONDS)) != null; ) {
            c.close(); // connections the fuzzed segments opened
        }
        for (int i = 0; i < 12; i++) {
            // 13 s in steps longer than the largest RTO (1 s), so that each step fires a
            // retransmission or zero-window probe: past the 4 allowed, FIN-WAIT-2 and TIME-WAIT
            s.h.advance(1_100 * MS);
        }
        s.checkNoInternalError();
        List<String> left = new ArrayList<>();
        s.h.stack.call(0, n -> {
            n.tcp().forEach(t -> left.add(t.state + " " + TcpLayer.describe(t) + " snd.wnd=" + t.sndWnd + " una="
                    + (t.sndUna - t.iss) + " nxt=" + (t.sndNxt - t.iss) + " max=" + (t.sndMax - t.iss) + " fin="
                    + t.finSent + " rexmtAt=" + t.rexmtAt + " persistAt=" + t.persistAt + " timer=" + t.timerDeadline
                    + " stream=" + (t.stream != null) + " now=" + n.now()));
            return null;
        });
        assertEquals(List.of(), left, "no connection left");
        assertEquals(0, (int) s.h.stack.call(0, n -> n.tcp().timeWaitEntries()), "no TIME-WAIT entry left");
        assertEquals(0L, (long) s.h.stack.call(0, n -> n.tcp().memoryUsed()), "every buffer byte returned");
        // a new connection to the listener still completes its handshake (the peer asks ARP
        // again first: its entry may have expired)
        s.h.arpFromPeer(0);
        sc.peerPort = PEER_PORT + 1;
        sc.localPort = PORT;
        List<TcpSeg> r = sc.send(sc.frame(Packets.SYN, 77, 0, 65535, new byte[0], new byte[0], false));
        assertTrue(r.size() == 1 && r.get(0).has(Packets.SYN | Packets.ACK) && r.get(0).ack() == 78,
                "a SYN after the fuzzed segments gets its SYN-ACK: " + r);
    }
}
