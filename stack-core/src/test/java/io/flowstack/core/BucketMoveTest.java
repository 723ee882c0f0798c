package io.flowstack.core;

import io.flowstack.core.config.StackConfig;
import static io.flowstack.core.testing.Packets.ACK;
import static io.flowstack.core.testing.Packets.PSH;
import static io.flowstack.core.testing.Packets.SYN;
import static io.flowstack.core.testing.StackHarness.PEER;
import static io.flowstack.core.testing.StackHarness.US;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.netisr.Netisr;
import io.flowstack.core.stats.Stat;
import io.flowstack.core.socket.TcpConnection;
import io.flowstack.core.socket.TcpListener;
import io.flowstack.core.testing.Packets;
import io.flowstack.core.testing.Packets.TcpSeg;
import io.flowstack.core.testing.StackHarness;
import io.flowstack.core.wire.msg.TcpDoorbellMsg;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Rebalancing, frame by frame on a threadless two-core stack (each core polled by hand on a fake
 * clock): a bucket of the indirection table moves from core 0 to core 1 with its established
 * connection; frames that the new owner read from its own queue while older frames of the flow
 * were still on their way through the old owner are held until the old owner's mark says they
 * have all arrived (docs/REBALANCING.md).
 */
class BucketMoveTest {
    static final int PORT = 80;
    static final int PEER_ISS = 1_000_000;
    static final long MS = 1_000_000L;

    StackHarness h;
    TcpListener listener;
    TcpConnection conn;
    int peerPort;
    int bucket;
    int iss;
    int peerNxt;
    int ipId = 1;
    final SplittableRandom rnd = new SplittableRandom(17);
    final List<String> moveResults = new ArrayList<>();

    @BeforeEach
    void start() {
        open(2);
    }

    /** A stack of {@code cores} cores with one connection from the peer, established on core 0. */
    void open(int cores) {
        open(cores, b -> {});
    }

    void open(int cores, java.util.function.Consumer<StackConfig.Builder> tweak) {
        h = new StackHarness(cores, tweak);
        h.arpFromPeer(0);
        listener = h.stack.tcpListen(PORT, 16);
        for (int p = 40000; ; p++) {
            if (h.stack.coreFor(US, PEER, PORT, p) == 0) {
                peerPort = p;
                break;
            }
        }
        bucket = h.stack.table().bucket(h.stack.table().hash().hash4(US, PEER, PORT, peerPort));
        TcpSeg synAck = tcp(send(0, SYN, PEER_ISS, 0, new byte[0])).get(0);
        assertTrue(synAck.has(SYN | ACK));
        iss = synAck.seq();
        peerNxt = PEER_ISS + 1;
        send(0, ACK, peerNxt, iss + 1, new byte[0]);
        conn = listener.accept(0, TimeUnit.MILLISECONDS);
        assertNotNull(conn);
        assertEquals(0, conn.core());
    }

    @AfterEach
    void close() {
        if (h != null) {
            assertEquals(0, h.total(Stat.INTERNAL_ERROR), () -> h.stack.countersReport());
            h.close();
        }
    }

    byte[] frame(int flags, int seq, int ack, byte[] data) {
        return h.ipFrame(Packets.ipv4(PEER, US, 6, ipId++, 0,
                Packets.tcp(PEER, US, peerPort, PORT, seq, ack, flags, 65535, new byte[0], data)));
    }

    List<Packets.Frame> send(int queue, int flags, int seq, int ack, byte[] data) {
        h.inject(queue, frame(flags, seq, ack, data));
        return h.run();
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

    void poll(int core) {
        h.stack.netisr(core).poll(h.now);
    }

    /** Runs every core a few passes, leaving what they sent on their queues. */
    void pollKeep() {
        for (int i = 0; i < 5; i++) {
            h.stack.pollAll(h.now);
        }
    }

    byte[] random(int n) {
        byte[] b = new byte[n];
        rnd.nextBytes(b);
        return b;
    }

    byte[] read(int n) {
        return StackHarness.readNow(conn, n);
    }

    @Test
    void framesReadByTheNewOwnerBeforeTheOldOnesArrivedWaitAndKeepTheirOrder() {
        byte[] d1 = random(100);
        byte[] d2 = random(100);
        byte[] d3 = random(100);
        send(0, ACK | PSH, peerNxt, iss + 1, d1);
        peerNxt += 100;

        h.stack.moveBucketAsync(bucket, 1, moveResults::add);
        poll(0); // the command: core 0 lets the bucket go, ADOPT is on the ring to core 1
        assertEquals(1, h.stack.counters(0).get(Stat.TCP_MIGRATED_OUT));
        assertEquals(0, h.stack.netisr(0).tcp().connections());

        // d2 reaches core 1's queue before core 1 has read the ADOPT: its replica still says core 0
        h.inject(1, frame(ACK | PSH, peerNxt, iss + 1, d2));
        poll(1); // d2 hops to core 0, then ADOPT: core 1 owns the connection, MARK(bucket, 1) to core 0
        assertEquals(1, h.stack.counters(1).get(Stat.TCP_MIGRATED_IN));
        assertEquals(1, conn.core(), "the stream names its new owner");

        // d3 arrives on core 1's queue after the ADOPT: it must wait for d2, which is still on core 0's side
        h.inject(1, frame(ACK | PSH, peerNxt + 100, iss + 1, d3));
        poll(1);
        assertEquals(1, h.stack.counters(1).get(Stat.MOVE_HELD), h.stack::countersReport);
        assertTrue(moveResults.isEmpty(), "not complete before core 1's mark came back");

        poll(0); // d2 forwarded to core 1, then the mark behind it
        poll(1); // d2, then the mark releases d3
        assertEquals(List.of("done"), moveResults.stream().map(e -> e == null ? "done" : e).toList());
        assertEquals(0, h.total(Stat.TCP_OOO_SEGMENTS), "no segment arrived out of order" + h.stack.countersReport());
        assertEquals(0, h.total(Stat.MOVE_HOLD_FULL));
        assertArrayEquals(d1, read(100));
        assertArrayEquals(d2, read(100));
        assertArrayEquals(d3, read(100));
        assertEquals(1, h.stack.table().owner(bucket), "the stack's table says core 1");
        assertEquals(1, h.stack.netisr(1).tcp().connections());
        assertEquals(0, h.stack.netisr(0).tcp().connections());
        assertEquals(0, h.stack.netisr(1).bucketsSettling());
    }

    @Test
    void theConnectionLivesOnOnItsNewCoreWithItsTimersAndRingsAndComesBack() {
        byte[] out = random(3000);
        conn.write(out, 0, out.length);
        List<TcpSeg> sent = tcp(h.run());
        int sentBytes = sent.stream().mapToInt(s -> s.data().length).sum();
        assertEquals(3000, sentBytes, "the stack sent the data (unacknowledged)");
        long memoryBefore = h.stack.netisr(0).tcp().memoryUsed();
        assertTrue(memoryBefore > 0, "the connection's rings are lent by core 0");

        h.stack.moveBucketAsync(bucket, 1, moveResults::add);
        h.run();
        assertEquals(1, moveResults.size());
        assertNull(moveResults.get(0));
        assertEquals(0, h.stack.netisr(0).tcp().memoryUsed(), "the rings are no longer counted on core 0");
        assertEquals(memoryBefore, h.stack.netisr(1).tcp().memoryUsed(), "core 1 counts them");

        // the retransmission timer moved with the connection: it fires on core 1 and goes out on queue 1
        h.now += 3_000 * MS;
        pollKeep();
        assertTrue(h.nic.q(0).outbound.isEmpty(), "nothing from core 0");
        List<TcpSeg> rexmt = tcp(parse(h.nic.q(1).outbound));
        h.nic.q(1).outbound.clear();
        assertTrue(!rexmt.isEmpty() && rexmt.get(0).seq() == iss + 1, "retransmission of the first segment on queue 1");
        assertEquals(1, h.stack.counters(1).get(Stat.TCP_RTO));

        // the peer acknowledges everything on core 0's queue: forwarded to core 1
        send(0, ACK, peerNxt, iss + 1 + 3000, new byte[0]);
        h.now += 3_000 * MS;
        h.run();
        assertEquals(1, h.total(Stat.TCP_RTO), "acknowledged: no more timeouts");

        // a doorbell that still reaches core 0 after the move is forwarded, not lost
        Netisr old = h.stack.netisr(0);
        int index = old.appRing().tryClaim(TcpDoorbellMsg.TYPE, TcpDoorbellMsg.LENGTH);
        TcpDoorbellMsg.write(old.appRingSegment(), index, conn.stream().id());
        old.appRing().commit(index);
        h.run();
        assertEquals(1, h.stack.counters(0).get(Stat.TCP_DOORBELLS_FORWARDED));

        // back to core 0; the application keeps using the same connection object
        h.stack.moveBucketAsync(bucket, 0, moveResults::add);
        h.run();
        assertEquals(2, moveResults.size());
        assertNull(moveResults.get(1));
        assertEquals(0, conn.core());
        byte[] more = random(500);
        conn.write(more, 0, more.length);
        pollKeep();
        List<TcpSeg> later = tcp(parse(h.nic.q(0).outbound));
        assertTrue(h.nic.q(1).outbound.isEmpty(), "core 1 sends nothing any more");
        assertEquals(iss + 1 + 3000, later.get(later.size() - 1).seq());
        assertArrayEquals(more, later.get(later.size() - 1).data());
        byte[] in = random(200);
        send(1, ACK | PSH, peerNxt, iss + 1 + 3500, in); // arrives on core 1's queue: hops to core 0
        assertArrayEquals(in, read(200));
        assertEquals(2, h.total(Stat.BUCKETS_OUT));
        assertEquals(2, h.total(Stat.BUCKETS_IN));
        assertEquals(2, h.total(Stat.TCP_MIGRATED_IN));
    }

    /**
     * With a third core C: frames C read before it learnt of the move go through the old owner;
     * the first one C sends the new owner directly waits until C's mark has come back through
     * the old owner, behind them.
     */
    @Test
    void aThirdCoresFramesKeepTheirOrderAcrossItsViewChange() {
        h.close();
        open(3);
        byte[][] d = new byte[4][];
        for (int i = 0; i < d.length; i++) {
            d[i] = random(100);
        }
        send(0, ACK | PSH, peerNxt, iss + 1, d[0]);

        h.stack.moveBucketAsync(bucket, 1, moveResults::add);
        poll(0); // core 0 lets the bucket go
        h.inject(2, frame(ACK | PSH, peerNxt + 100, iss + 1, d[1]));
        poll(2); // core 2 still thinks core 0 owns it: d1 to core 0
        poll(1); // ADOPT: MARK to core 0, VIEW to core 2
        h.inject(2, frame(ACK | PSH, peerNxt + 200, iss + 1, d[2]));
        poll(2); // d2 read before the VIEW: to core 0; then the VIEW: core 2 marks towards core 0
        h.inject(2, frame(ACK | PSH, peerNxt + 300, iss + 1, d[3]));
        poll(2); // d3 straight to core 1
        poll(1); // d3 waits: core 2's mark is not back
        assertEquals(1, h.stack.counters(1).get(Stat.MOVE_HELD), h.stack::countersReport);
        assertTrue(moveResults.isEmpty());
        poll(0); // d1, d2 forwarded to core 1, then both marks
        poll(1); // d1, d2, then core 2's mark releases d3
        assertEquals(1, moveResults.size());
        assertNull(moveResults.get(0));
        assertEquals(0, h.total(Stat.TCP_OOO_SEGMENTS), h.stack::countersReport);
        for (byte[] x : d) {
            assertArrayEquals(x, read(100));
        }
        for (int c = 0; c < 3; c++) {
            assertEquals(1, h.stack.netisr(c).table().owner(bucket), "core " + c + "'s replica");
        }
    }

    /**
     * The old owner is slow to send its mark back (on a busy machine it may not run for
     * milliseconds) while the flow keeps arriving on the new owner's queue: the new owner stops
     * reading its queue when the hold buffer is half used, instead of dropping what it read, and
     * reads on once the mark has come; every byte arrives, in order.
     */
    @Test
    void theNewOwnersQueueWaitsInsteadOfDroppingWhenTheHoldBufferFills() {
        h.close();
        open(2, b -> b.moveHoldBytes(1 << 18).tcpReceiveBufferBytes(1 << 20));
        final int frames = 400;
        final int size = 1000; // 400 kB: more than the 256 KiB hold buffer
        h.stack.moveBucketAsync(bucket, 1, moveResults::add);
        poll(0); // core 0 lets the bucket go
        poll(1); // ADOPT: core 1 holds its own queue's frames of the bucket until its mark is back
        byte[][] d = new byte[frames][];
        for (int i = 0; i < frames; i++) {
            d[i] = random(size);
            h.inject(1, frame(ACK | PSH, peerNxt + i * size, iss + 1, d[i]));
        }
        for (int i = 0; i < 50; i++) {
            poll(1); // core 0 is not polled: no mark comes back
        }
        long held = h.stack.counters(1).get(Stat.MOVE_HELD);
        assertTrue(held > 0 && held < frames, "some frames held, not all read: " + held);
        assertEquals(0, h.total(Stat.MOVE_HOLD_FULL), "nothing dropped" + h.stack.countersReport());
        assertTrue(h.nic.q(1).inbound.size() > 0, "the rest waits in the NIC queue");
        assertEquals(1, h.stack.counters(1).get(Stat.MOVE_RX_PAUSED), "one wait, counted once");
        assertTrue(moveResults.isEmpty());

        h.run(); // core 0 sends the mark back: the held frames go, then core 1 reads its queue again
        assertEquals(1, moveResults.size());
        assertNull(moveResults.get(0));
        assertTrue(h.nic.q(1).inbound.isEmpty());
        assertEquals(0, h.total(Stat.MOVE_HOLD_FULL));
        assertEquals(0, h.total(Stat.TCP_OOO_SEGMENTS), h.stack::countersReport);
        for (byte[] x : d) {
            assertArrayEquals(x, read(size));
        }
    }

    @Test
    void aMoveOfABucketTheCoreDoesNotHaveIsRefusedWithAReason() {
        int other = -1;
        for (int b = 0; b < h.stack.table().size(); b++) {
            if (h.stack.table().owner(b) == 1) {
                other = b;
                break;
            }
        }
        int b = other;
        h.stack.netisr(0).moveBucket(b, 1, moveResults::add);
        assertEquals(1, moveResults.size());
        assertTrue(moveResults.get(0).contains("is not on core 0"), moveResults.get(0));
        assertEquals(0, h.total(Stat.BUCKETS_OUT));
    }

    static List<Packets.Frame> parse(List<byte[]> frames) {
        List<Packets.Frame> out = new ArrayList<>();
        for (byte[] f : frames) {
            out.add(Packets.parse(f));
        }
        return out;
    }
}
