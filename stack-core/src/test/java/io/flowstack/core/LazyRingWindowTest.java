package io.flowstack.core;

import static io.flowstack.core.testing.Packets.ACK;
import static io.flowstack.core.testing.Packets.PSH;
import static io.flowstack.core.testing.Packets.SYN;
import static io.flowstack.core.testing.StackHarness.PEER;
import static io.flowstack.core.testing.StackHarness.US;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.config.TcpSocketOptions;
import io.flowstack.core.socket.TcpChannel;
import io.flowstack.core.socket.TcpHandler;
import io.flowstack.core.stats.Stat;
import io.flowstack.core.testing.Packets;
import io.flowstack.core.testing.Packets.TcpOpts;
import io.flowstack.core.testing.Packets.TcpSeg;
import io.flowstack.core.testing.StackHarness;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The receive window of a callback connection whose receive ring is lent on demand (issue 11
 * point 6), on the wire, with a scripted peer and a threadless stack: with no ring the window
 * offered is the whole buffer (RFC 9293 3.8.6: from the buffer space that will be available), it
 * closes by what the handler leaves unread, and its right edge never moves left (3.8.6.2.2) when
 * the ring goes back; a segment that finds no memory for a ring is dropped and counted, ACKed at
 * RCV.NXT with the window it had, and taken when it comes again.
 */
class LazyRingWindowTest {
    static final int PORT = 80;
    static final int PEER_PORT = 40000;
    static final int PEER_ISS = 1_000_000;
    static final int BUFFER = 65536;

    StackHarness h;
    int peerPort = PEER_PORT;
    int iss;
    int wscale;
    int peerNxt;
    int ipId = 1;

    /** Consumes what {@link #take} allows (all by default) and remembers how much it got. */
    static final class Reader implements TcpHandler {
        int take = Integer.MAX_VALUE;
        int got;
        /** Bytes to write back on the next data, once. */
        int reply;
        /** Close the connection on the next data. */
        boolean closeOnData;

        @Override
        public int onData(TcpChannel ch, MemorySegment data, long offset, int length) {
            int n = Math.min(take, length);
            got += n;
            if (reply > 0) {
                ch.write(new byte[reply], 0, reply);
                reply = 0;
            }
            if (closeOnData) {
                ch.close();
            }
            return n;
        }
    }

    final Reader reader = new Reader();

    @AfterEach
    void close() {
        if (h != null) {
            assertEquals(0, h.total(Stat.INTERNAL_ERROR));
            h.close();
        }
    }

    void start(long tcpMemoryBytes) {
        h = new StackHarness(1, b -> b.tcpMemoryBytes(tcpMemoryBytes));
        h.arpFromPeer(0);
        h.stack.tcpListen(PORT, 16, TcpSocketOptions.defaults(h.stack.config()).withBuffers(BUFFER, BUFFER), reader);
    }

    byte[] frame(int flags, int seq, int ack, int window, TcpOpts o, byte[] data) {
        return h.ipFrame(Packets.ipv4(PEER, US, 6, ipId++, 0, Packets.tcp(PEER, US, peerPort, PORT, seq, ack,
                flags, window, o == null ? new byte[0] : o.encode(), data)));
    }

    List<TcpSeg> send(byte[] frame) {
        h.inject(0, frame);
        List<TcpSeg> out = new ArrayList<>();
        for (Packets.Frame f : h.run()) {
            if (f.type() == Packets.ETH_IPV4 && f.ipProto() == 6) {
                out.add(Packets.tcpOf(f));
            }
        }
        return out;
    }

    void establish() {
        TcpOpts o = new TcpOpts();
        o.mss = 1460;
        o.wscale = 7;
        List<TcpSeg> r = send(frame(SYN, PEER_ISS, 0, 65535, o, new byte[0]));
        TcpSeg synAck = r.get(0);
        iss = synAck.seq();
        wscale = Math.max(0, synAck.wscale());
        peerNxt = PEER_ISS + 1;
        send(frame(ACK, peerNxt, iss + 1, 512, null, new byte[0]));
    }

    long lent() {
        return h.stack.netisr(0).tcp().memoryUsed();
    }

    /** Sends {@code n} bytes, returns the last segment the stack answered with (its ACK). */
    TcpSeg data(int n) {
        List<TcpSeg> r = send(frame(ACK | PSH, peerNxt, iss + 1, 512, null, new byte[n]));
        r.addAll(toSegs(h.advance(500_000_000L))); // a delayed ACK, if the stack delayed it
        assertTrue(!r.isEmpty(), "an ACK");
        return r.get(r.size() - 1);
    }

    static List<TcpSeg> toSegs(List<Packets.Frame> frames) {
        List<TcpSeg> out = new ArrayList<>();
        for (Packets.Frame f : frames) {
            if (f.type() == Packets.ETH_IPV4 && f.ipProto() == 6) {
                out.add(Packets.tcpOf(f));
            }
        }
        return out;
    }

    long rightEdge(TcpSeg s) {
        return (s.ack() & 0xFFFF_FFFFL) + ((long) s.window() << wscale);
    }

    @Test
    void theWindowIsTheWholeBufferWithoutARingAndItsEdgeNeverMovesLeft() {
        start(4L << 30);
        establish();
        assertEquals(0, lent(), "established, no data: no ring");
        TcpSeg a = data(1000); // consumed at once: the ring goes back
        assertEquals(peerNxt + 1000, a.ack());
        peerNxt += 1000;
        assertEquals(0, lent(), "drained: the ring is back in the pool");
        assertEquals(BUFFER >> wscale, a.window(), "no ring: the whole buffer is offered");
        long edge = rightEdge(a);

        reader.take = 0; // the handler leaves what comes next unread: the ring stays, the window closes by it
        TcpSeg b = data(1400);
        peerNxt += 1400;
        assertEquals(BUFFER, lent());
        assertEquals((BUFFER - 1400) >> wscale, b.window());
        assertTrue(rightEdge(b) >= edge, "RFC 9293 3.8.6.2.2: the right edge never moves left");
        edge = rightEdge(b);

        reader.take = Integer.MAX_VALUE; // the next data is read, with what waited: the ring goes back
        TcpSeg c = data(500);
        peerNxt += 500;
        assertEquals(1000 + 1400 + 500, reader.got);
        assertEquals(0, lent());
        assertEquals(BUFFER >> wscale, c.window());
        assertTrue(rightEdge(c) >= edge);
    }

    @Test
    void aSegmentThatFindsNoMemoryForARingIsDroppedCountedAndTakenWhenItComesAgain() {
        start(BUFFER); // the budget holds one receive ring
        establish();
        int issA = iss;
        int nxtA = peerNxt;
        reader.take = 0;
        TcpSeg held = data(1400); // A's bytes stay unread: A keeps the only ring
        nxtA += 1400;
        assertEquals(nxtA, held.ack());
        assertEquals(BUFFER, lent());

        peerPort = PEER_PORT + 1; // connection B
        establish();
        int issB = iss;
        int nxtB = peerNxt;
        TcpSeg dropped = data(1000);
        assertEquals(nxtB, dropped.ack(), "dropped: B's RCV.NXT does not move");
        assertEquals(BUFFER >> wscale, dropped.window(), "the window B was offered is not taken back");
        assertEquals(1, h.total(Stat.TCP_MEMORY_LIMIT));
        assertEquals(0, reader.got);

        // A's handler reads again (with A's next segment): A's ring drains and goes back
        peerPort = PEER_PORT;
        iss = issA;
        peerNxt = nxtA;
        reader.take = Integer.MAX_VALUE;
        TcpSeg readA = data(100);
        assertEquals(nxtA + 100, readA.ack());
        assertEquals(1500, reader.got);
        assertEquals(0, lent());

        // B's segment comes again and is taken
        peerPort = PEER_PORT + 1;
        peerNxt = nxtB;
        iss = issB;
        TcpSeg taken = data(1000);
        assertEquals(nxtB + 1000, taken.ack());
        assertEquals(2500, reader.got);
        assertEquals(0, lent());
        assertEquals(1, h.total(Stat.TCP_MEMORY_LIMIT));
    }

    @Test
    void aFinSentAfterTheSendRingWentBackIsRetransmittedWithoutData() {
        start(4L << 30);
        establish();
        reader.reply = 100;
        List<TcpSeg> r = send(frame(ACK | PSH, peerNxt, iss + 1, 512, null, new byte[10]));
        peerNxt += 10;
        assertTrue(r.stream().anyMatch(x -> x.data().length == 100), "the reply leaves");
        send(frame(ACK, peerNxt, iss + 101, 512, null, new byte[0])); // all acknowledged
        assertEquals(0, lent(), "drained and acknowledged: both rings are back");

        reader.closeOnData = true;
        r = send(frame(ACK | PSH, peerNxt, iss + 101, 512, null, new byte[1]));
        peerNxt += 1;
        assertTrue(r.stream().anyMatch(x -> x.has(Packets.FIN) && x.seq() == iss + 101), "the FIN leaves");
        // the FIN is not acknowledged: the retransmission timeout sends it again, from no ring
        List<TcpSeg> again = toSegs(h.advance(3_000_000_000L));
        assertTrue(again.stream().anyMatch(x -> x.has(Packets.FIN) && x.seq() == iss + 101 && x.data().length == 0),
                "the FIN again, with no data: " + again);
        assertEquals(0, h.total(Stat.INTERNAL_ERROR));
    }
}
