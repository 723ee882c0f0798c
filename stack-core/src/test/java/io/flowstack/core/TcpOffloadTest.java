package io.flowstack.core;

import static io.flowstack.core.testing.Packets.ACK;
import static io.flowstack.core.testing.Packets.PSH;
import static io.flowstack.core.testing.Packets.SYN;
import static io.flowstack.core.testing.StackHarness.PEER;
import static io.flowstack.core.testing.StackHarness.US;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.socket.TcpConnection;
import io.flowstack.core.socket.TcpListener;
import io.flowstack.core.stats.Stat;
import io.flowstack.core.testing.Packets;
import io.flowstack.core.testing.Packets.TcpOpts;
import io.flowstack.core.testing.Packets.TcpSeg;
import io.flowstack.core.testing.StackHarness;
import io.flowstack.core.testing.TestNic;
import io.flowstack.nic.FrameBatch;
import io.flowstack.nic.TxFrame;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * TCP over a NIC with offloads (a TAP with a vnet header): segments leave from the send ring as
 * gathered super-frames that the device checksums and cuts (the test NIC does what the kernel
 * does, {@code Tso}); a received super-frame is one segment with one ACK; in-order ACKs are
 * coalesced per receive batch (RFC 5681 4.2 still: at least every second segment is acknowledged).
 */
class TcpOffloadTest {
    static final int PORT = 80;
    static final int PEER_PORT = 40000;
    static final int PEER_ISS = 1_000_000;

    StackHarness h;
    TcpListener listener;
    TcpConnection conn;
    int iss;
    int peerNxt;
    int ipId = 1;
    int tsVal = 100;
    final SplittableRandom rnd = new SplittableRandom(10);

    @AfterEach
    void close() {
        if (h != null) {
            assertEquals(0, h.total(Stat.INTERNAL_ERROR));
            h.close();
        }
    }

    byte[] frame(int flags, int seq, int ack, int window, byte[] data) {
        TcpOpts o = new TcpOpts();
        o.ts = true;
        o.tsVal = ++tsVal;
        return h.ipFrame(Packets.ipv4(PEER, US, 6, ipId++, 0, Packets.tcp(PEER, US, PEER_PORT, PORT, seq, ack,
                flags, window, o.encode(), data)));
    }

    List<TcpSeg> tcp(List<Packets.Frame> frames) {
        List<TcpSeg> out = new ArrayList<>();
        for (Packets.Frame f : frames) {
            if (f.type() == Packets.ETH_IPV4 && f.ipProto() == 6) {
                TcpSeg s = Packets.tcpOf(f);
                assertTrue(s.checksumOk(), "the checksum the device completed verifies");
                assertTrue(f.ipTotalLength() <= 1500, "every segment on the wire fits the MTU");
                out.add(s);
            }
        }
        return out;
    }

    void establish(boolean offloads, int sendBuffer) {
        establish(offloads, sendBuffer, 1 << 20);
    }

    void establish(boolean offloads, int sendBuffer, int receiveBuffer) {
        h = new StackHarness(1, offloads, b -> b.tcpSendBufferBytes(sendBuffer).tcpReceiveBufferBytes(receiveBuffer));
        h.arpFromPeer(0);
        listener = h.stack.tcpListen(PORT, 16);
        TcpOpts o = new TcpOpts();
        o.mss = 1460;
        o.wscale = 7;
        o.sackPermitted = true;
        o.ts = true;
        o.tsVal = ++tsVal;
        h.inject(0, h.ipFrame(Packets.ipv4(PEER, US, 6, ipId++, 0, Packets.tcp(PEER, US, PEER_PORT, PORT, PEER_ISS, 0,
                SYN, 65535, o.encode(), new byte[0]))));
        List<TcpSeg> r = tcp(h.run());
        assertEquals(1, r.size());
        iss = r.get(0).seq();
        peerNxt = PEER_ISS + 1;
        h.inject(0, frame(ACK, peerNxt, iss + 1, 4096, new byte[0])); // window 4096 << 7 = 512 KiB
        assertTrue(h.run().isEmpty());
        conn = listener.accept(0, TimeUnit.MILLISECONDS);
        assertNotNull(conn);
    }

    TestNic.TestQueue q() {
        return h.nic.q(0);
    }

    @Test
    void bulkDataLeavesAsOneSuperFrameThatTheDeviceCutsIntoMssSegments() {
        establish(true, 1 << 20);
        byte[] d = new byte[10 * 1448];
        rnd.nextBytes(d);
        conn.write(d, 0, d.length);
        List<TcpSeg> segs = tcp(h.run());
        assertEquals(1, q().superFrames.size(), "the initial window (RFC 6928: 10 segments) in one write");
        TestNic.Gathered g = q().superFrames.get(0);
        assertEquals(TxFrame.GSO_TCPV4, g.gsoType());
        assertEquals(1448, g.gsoSize(), "MSS 1460 less 12 bytes of timestamps");
        assertEquals(14 + 20, g.csumStart(), "the device completes the TCP checksum");
        assertEquals(16, g.csumOffset());
        assertEquals(1, g.slices(), "the payload was not copied: one slice of the send ring");
        assertEquals(14 + 20 + 32 + d.length, g.length());
        assertEquals(10, segs.size());
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        for (int i = 0; i < segs.size(); i++) {
            assertEquals(1448, segs.get(i).data().length);
            assertEquals(iss + 1 + i * 1448, segs.get(i).seq());
            assertEquals(i == segs.size() - 1, segs.get(i).has(PSH), "PSH on the last segment only");
            got.writeBytes(segs.get(i).data());
        }
        assertArrayEquals(d, got.toByteArray());
        assertEquals(1, h.total(Stat.TX_SUPER_FRAMES));
    }

    @Test
    void aSendRingThatWrapsGoesOutAsTwoSlicesAndTheBytesArriveInOrder() {
        establish(true, 64 * 1024);
        ByteArrayOutputStream sent = new ByteArrayOutputStream();
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        int acked = iss + 1;
        boolean wrapped = false;
        for (int round = 0; round < 12; round++) {
            byte[] d = new byte[20_000 + round * 777];
            rnd.nextBytes(d);
            conn.write(d, 0, d.length); // fits: every earlier byte was acknowledged, the ring is empty
            sent.write(d, 0, d.length);
            for (int spin = 0; spin < 20 && got.size() < sent.size(); spin++) {
                for (TcpSeg s : tcp(h.run())) {
                    assertEquals(acked + (got.size() - (acked - iss - 1)), s.seq(), "in order, no gap");
                    got.writeBytes(s.data());
                }
                acked = iss + 1 + got.size();
                h.inject(0, frame(ACK, peerNxt, acked, 4096, new byte[0]));
            }
            wrapped |= q().superFrames.stream().anyMatch(g -> g.slices() == 2);
        }
        h.run();
        assertTrue(wrapped, "some frame gathered the ring's end and its start");
        assertArrayEquals(sent.toByteArray(), got.toByteArray());
        assertEquals(0, h.total(Stat.TCP_RETRANSMITS));
    }

    @Test
    void aReceivedSuperFrameIsOneSegmentWithOneAck() {
        establish(true, 1 << 20);
        byte[] d = new byte[40 * 1448]; // 57,920 bytes: an IPv4 datagram far above the MTU
        rnd.nextBytes(d);
        byte[] f = frame(ACK | PSH, peerNxt, iss + 1, 4096, d);
        h.inject(0, f, FrameBatch.RX_CSUM_VALID);
        List<TcpSeg> acks = tcp(h.run());
        assertEquals(1, acks.size(), "one ACK for the super-frame");
        assertEquals(peerNxt + d.length, acks.get(0).ack());
        assertArrayEquals(d, StackHarness.readNow(conn, d.length));
        assertEquals(0, h.total(Stat.TCP_BAD_CHECKSUM));
    }

    @Test
    void inOrderSegmentsOfOneBatchShareOneAck() {
        establish(false, 1 << 20);
        byte[] d = new byte[6 * 1448];
        rnd.nextBytes(d);
        for (int i = 0; i < 6; i++) {
            h.inject(0, frame(ACK, peerNxt + i * 1448, iss + 1, 4096, java.util.Arrays.copyOfRange(d, i * 1448, (i + 1) * 1448)));
        }
        List<TcpSeg> acks = tcp(h.run());
        assertEquals(1, acks.size(), "six segments read in one batch, one ACK (was one per two segments)");
        assertEquals(peerNxt + d.length, acks.get(0).ack());
        assertArrayEquals(d, StackHarness.readNow(conn, d.length));
    }

    @Test
    void aQuarterOfTheReceiveBufferUnacknowledgedIsAcknowledgedWithoutWaitingForTheBatchEnd() {
        establish(false, 1 << 20, 64 * 1024); // a quarter: 16 KiB, about 11 segments
        int segs = 30; // one batch (32 frames)
        byte[] d = new byte[segs * 1448];
        rnd.nextBytes(d);
        for (int i = 0; i < segs; i++) {
            h.inject(0, frame(ACK, peerNxt + i * 1448, iss + 1, 4096, java.util.Arrays.copyOfRange(d, i * 1448, (i + 1) * 1448)));
        }
        List<TcpSeg> acks = tcp(h.run());
        assertEquals(3, acks.size(), "at 16 KiB, at 32 KiB, and the batch's end");
        assertEquals(peerNxt + d.length, acks.get(acks.size() - 1).ack());
        for (int i = 1; i < acks.size(); i++) {
            assertTrue(acks.get(i).ack() - acks.get(i - 1).ack() <= 16 * 1024 + 1448, "never more than a quarter between ACKs");
        }
        assertArrayEquals(d, StackHarness.readNow(conn, d.length));
    }
}
