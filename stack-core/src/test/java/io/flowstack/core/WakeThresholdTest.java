package io.flowstack.core;

import static io.flowstack.core.testing.Packets.ACK;
import static io.flowstack.core.testing.Packets.SYN;
import static io.flowstack.core.testing.StackHarness.PEER;
import static io.flowstack.core.testing.StackHarness.US;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.socket.TcpConnection;
import io.flowstack.core.socket.TcpListener;
import io.flowstack.core.stats.Stat;
import io.flowstack.core.tcp.TcpStream;
import io.flowstack.core.testing.Packets;
import io.flowstack.core.testing.Packets.TcpOpts;
import io.flowstack.core.testing.Packets.TcpSeg;
import io.flowstack.core.testing.StackHarness;
import io.flowstack.core.testing.TwoStacks;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Blocking-API threads are woken at thresholds, once per netisr pass (issue 11, "cheap
 * wake-ups"), on a threadless stack and a fake clock, counting the unparks of each waiter slot
 * ({@link TcpStream#signals}): a waiting reader once for a pass that delivered twenty segments,
 * a waiting writer only once a third of its send buffer is free (Linux's
 * {@code sk_stream_write_space}), not at every ACK. The test thread holds the slot (armed, never
 * parked), so every signal the netisr sends is counted.
 */
@org.junit.jupiter.api.Timeout(120) // a lost wake-up must fail, not hang the build
class WakeThresholdTest {
    static final int PORT = 80;
    static final int PEER_PORT = 40000;
    static final int PEER_ISS = 1_000_000;
    static final int SEND_BUFFER = 32 << 10;

    StackHarness h;
    TcpConnection conn;
    int iss;
    int peerNxt;
    int ipId = 1;
    int tsVal = 5000;

    @AfterEach
    void close() {
        if (h != null) {
            assertEquals(0, h.total(Stat.INTERNAL_ERROR));
            h.close();
        }
    }

    @Test
    void aWaitingReaderIsSignalledOncePerPassNotPerSegment() {
        establish();
        TcpStream st = conn.stream();
        st.arm(false);
        int before = st.signals(false);
        for (int i = 0; i < 20; i++) {
            h.inject(0, frame(ACK, peerNxt, iss + 1, 512, ts(), new byte[1000]));
            peerNxt += 1000;
        }
        h.run(); // one pass reads the twenty frames (rxBatch 64)
        assertEquals(20_000, st.recv.size());
        assertEquals(1, st.signals(false) - before, "one signal for the pass, not one per segment");
        for (int i = 0; i < 20; i++) {
            h.inject(0, frame(ACK, peerNxt, iss + 1, 512, ts(), new byte[1000]));
            peerNxt += 1000;
        }
        h.run();
        assertEquals(2, st.signals(false) - before);
        st.disarm(false);
    }

    @Test
    void aWaitingWriterIsSignalledWhenAThirdOfItsBufferIsFreeNotAtEveryAck() {
        establish();
        TcpStream st = conn.stream();
        conn.write(new byte[SEND_BUFFER], 0, SEND_BUFFER); // the send buffer is full
        List<TcpSeg> sent = tcp(h.run());
        assertTrue(!sent.isEmpty(), "the stack sends what the windows allow");
        assertEquals(SEND_BUFFER, st.send.size());
        st.arm(true);
        int before = st.signals(true);
        int threshold = st.writeWakeSpace();
        assertEquals(SEND_BUFFER / 3, threshold);
        int acked = 0;
        int acks = 0;
        while (acked + 1000 < threshold) { // ACKs that free less than the threshold in all: no signal
            acked += 1000;
            acks++;
            h.inject(0, frame(ACK, peerNxt, iss + 1 + acked, 512, ts(), new byte[0]));
            h.run();
            assertEquals(SEND_BUFFER - acked, st.send.size());
            assertEquals(0, st.signals(true) - before, acks + " ACKs freed " + acked + " bytes, below " + threshold);
        }
        acked += 1000; // this one reaches the threshold
        h.inject(0, frame(ACK, peerNxt, iss + 1 + acked, 512, ts(), new byte[0]));
        h.run();
        assertTrue(SEND_BUFFER - st.send.size() >= threshold);
        assertEquals(1, st.signals(true) - before, "one signal at the threshold after " + (acks + 1) + " ACKs");
        st.disarm(true);
    }

    /**
     * End to end on two threaded stacks: 4 MiB written through a 64 KiB send buffer wake the
     * writer at most once per third of the buffer (plus the last wait), where a wake-up per
     * ACK was one per one or two segments; and no wake-up is lost.
     */
    @Test
    void aBulkWriteThroughASmallSendBufferWakesItsWriterOncePerThirdOfTheBuffer() throws Exception {
        int buffer = 64 << 10;
        int total = 4 << 20;
        try (TwoStacks s = new TwoStacks(1, 4 << 20, b -> b.tcpSendBufferBytes(buffer));
             TcpListener l = s.server.tcpListen(91, 8)) {
            TcpConnection c = s.connect(91);
            TcpConnection server = l.accept(5, TimeUnit.SECONDS);
            Thread reader = Thread.ofPlatform().start(() -> {
                byte[] b = new byte[16 << 10];
                for (long got = 0; got < total; ) {
                    got += server.read(b, 0, b.length);
                }
            });
            byte[] chunk = new byte[256 << 10];
            for (int sent = 0; sent < total; sent += chunk.length) {
                c.write(chunk, 0, chunk.length);
            }
            reader.join(60_000);
            assertTrue(!reader.isAlive(), "the reader got every byte");
            int wakes = c.stream().signals(true);
            int bound = total / (buffer / 3) + 2;
            assertTrue(wakes <= bound, wakes + " writer wake-ups for " + total + " bytes, at most " + bound);
            assertEquals(0, s.client.total(Stat.TCP_APP_WAKEUP_LATE) + s.server.total(Stat.TCP_APP_WAKEUP_LATE)
                    + s.client.total(Stat.WAKEUP_LATE) + s.server.total(Stat.WAKEUP_LATE)
                    + s.client.total(Stat.TCP_DOORBELL_LATE) + s.server.total(Stat.TCP_DOORBELL_LATE), s.counters());
            c.close();
            server.close();
        }
    }

    // ------------------------------------------------------------------ the peer

    void establish() {
        h = new StackHarness(1, b -> b.rxBatch(64).tcpSendBufferBytes(SEND_BUFFER));
        h.arpFromPeer(0);
        TcpListener listener = h.stack.tcpListen(PORT, 16);
        TcpOpts o = ts();
        o.mss = 1460;
        o.wscale = 7;
        o.sackPermitted = true;
        h.inject(0, frame(SYN, PEER_ISS, 0, 65535, o, new byte[0]));
        List<TcpSeg> r = tcp(h.run());
        assertEquals(1, r.size());
        iss = r.get(0).seq();
        peerNxt = PEER_ISS + 1;
        h.inject(0, frame(ACK, peerNxt, iss + 1, 512, ts(), new byte[0])); // 512 << 7: a 64 KiB window
        h.run();
        conn = listener.accept(0, TimeUnit.MILLISECONDS);
        assertNotNull(conn, "established connection is in the accept queue");
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

    static List<TcpSeg> tcp(List<Packets.Frame> frames) {
        List<TcpSeg> out = new ArrayList<>();
        for (Packets.Frame f : frames) {
            if (f.type() == Packets.ETH_IPV4 && f.ipProto() == 6) {
                out.add(Packets.tcpOf(f));
            }
        }
        return out;
    }
}
