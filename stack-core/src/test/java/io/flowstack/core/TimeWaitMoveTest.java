package io.flowstack.core;

import static io.flowstack.core.testing.Packets.ACK;
import static io.flowstack.core.testing.Packets.FIN;
import static io.flowstack.core.testing.Packets.SYN;
import static io.flowstack.core.testing.StackHarness.PEER;
import static io.flowstack.core.testing.StackHarness.US;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.socket.TcpConnection;
import io.flowstack.core.socket.TcpListener;
import io.flowstack.core.stats.Stat;
import io.flowstack.core.stats.TcpConnectionInfo;
import io.flowstack.core.testing.Packets;
import io.flowstack.core.testing.Packets.TcpOpts;
import io.flowstack.core.testing.Packets.TcpSeg;
import io.flowstack.core.testing.StackHarness;
import io.flowstack.core.wire.msg.TimeWaitMsg;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * TIME-WAIT entries move with their bucket (issue 11 point 4; docs/REBALANCING.md): on a
 * threadless two-core stack, a bucket holding more entries than one {@link TimeWaitMsg} carries
 * moves from core 0 to core 1; the entries arrive whole (sequence numbers, timestamps, expiry),
 * answer from the new core, expire there on time, and the other buckets' entries stay.
 */
class TimeWaitMoveTest {
    static final int PORT = 80;
    static final int PEER_ISS = 1_000_000;
    static final long MS = 1_000_000L;
    static final int MOVED = TimeWaitMsg.MAX_ENTRIES + 44; // two messages

    StackHarness h;
    TcpListener listener;
    int ipId = 1;
    int tsVal = 5000;
    final List<String> results = new ArrayList<>();

    @AfterEach
    void close() {
        if (h != null) {
            assertEquals(0, h.total(Stat.INTERNAL_ERROR), () -> h.stack.countersReport());
            h.close();
        }
    }

    byte[] frame(int peerPort, int flags, int seq, int ack, boolean withTs) {
        TcpOpts o = new TcpOpts();
        if (withTs) {
            o.ts = true;
            o.tsVal = ++tsVal;
        }
        if ((flags & SYN) != 0) {
            o.mss = 1460;
        }
        return h.ipFrame(Packets.ipv4(PEER, US, 6, ipId++, 0, Packets.tcp(PEER, US, peerPort, PORT, seq, ack, flags,
                1024, o.encode(), new byte[0])));
    }

    List<TcpSeg> send(int queue, byte[] frame) {
        h.inject(queue, frame);
        List<TcpSeg> out = new ArrayList<>();
        for (Packets.Frame f : h.run()) {
            if (f.type() == Packets.ETH_IPV4 && f.ipProto() == 6) {
                out.add(Packets.tcpOf(f));
            }
        }
        return out;
    }

    /** A connection from {@code peerPort} that the stack closes first; returns our FIN's sequence number. */
    int toTimeWait(int queue, int peerPort) {
        TcpSeg synAck = send(queue, frame(peerPort, SYN, PEER_ISS, 0, true)).get(0);
        assertTrue(synAck.has(SYN | ACK));
        send(queue, frame(peerPort, ACK, PEER_ISS + 1, synAck.seq() + 1, true));
        TcpConnection c = listener.accept(0, TimeUnit.MILLISECONDS);
        assertNotNull(c);
        c.close();
        h.run();
        int finSeq = synAck.seq() + 1;
        send(queue, frame(peerPort, FIN | ACK, PEER_ISS + 1, finSeq + 1, true));
        return finSeq;
    }

    int entries(int core) {
        return h.stack.netisr(core).tcp().timeWaitEntries();
    }

    @Test
    void aBucketsTimeWaitEntriesMoveWithItAnswerFromTheNewCoreAndExpireOnTime() {
        h = new StackHarness(2, b -> {});
        h.arpFromPeer(0);
        listener = h.stack.tcpListen(PORT, 64);
        int bucket = -1;
        List<Integer> moved = new ArrayList<>();
        int stays = -1;
        for (int p = 1024; p < 65536 && (moved.size() < MOVED || stays < 0); p++) {
            int hash = h.stack.table().hash().hash4(US, PEER, PORT, p);
            if (h.stack.table().core(hash) != 0) {
                continue;
            }
            int b = h.stack.table().bucket(hash);
            if (bucket < 0) {
                bucket = b;
            }
            if (b == bucket && moved.size() < MOVED) {
                moved.add(p);
            } else if (b != bucket && stays < 0) {
                stays = p;
            }
        }
        assertEquals(MOVED, moved.size());
        int[] finSeqs = new int[MOVED];
        for (int i = 0; i < MOVED; i++) {
            finSeqs[i] = toTimeWait(0, moved.get(i));
        }
        toTimeWait(0, stays);
        assertEquals(MOVED + 1, entries(0));
        long enteredAt = h.now;

        h.now += 10_000 * MS;
        h.stack.moveBucketAsync(bucket, 1, results::add);
        h.run();
        assertEquals(1, results.size());
        assertNull(results.get(0), "the move completed");
        assertEquals(1, entries(0), "the other bucket's entry stays");
        assertEquals(MOVED, entries(1), "every entry of the bucket moved, in " + (MOVED + 255) / 256 + " messages");
        assertEquals(0, h.total(Stat.TCP_TIME_WAIT_OVERFLOW));
        assertEquals(0, h.total(Stat.TCP_MIGRATED_OUT), "entries are not connections");
        List<TcpConnectionInfo> listed = h.stack.snapshot().connections();
        assertEquals(MOVED, listed.stream().filter(c -> c.core() == 1 && c.state().equals("TIME_WAIT")).count());

        // a retransmitted FIN read by core 0's queue goes to core 1, whose entry answers it
        int last = MOVED - 1;
        List<TcpSeg> r = send(0, frame(moved.get(last), FIN | ACK, PEER_ISS + 1, finSeqs[last] + 1, true));
        assertEquals(1, r.size());
        assertEquals(finSeqs[last] + 1, r.get(0).seq(), "SND.NXT moved");
        assertEquals(PEER_ISS + 2, r.get(0).ack(), "RCV.NXT moved");
        assertTrue(r.get(0).ts(), "the timestamp state moved");
        assertTrue(h.nic.q(0).outbound.isEmpty());

        // a newer SYN reopens a moved 4-tuple on core 1 (RFC 6191)
        r = send(1, frame(moved.get(0), SYN, PEER_ISS + 100_000, 0, true));
        assertTrue(r.get(0).has(SYN | ACK));
        assertEquals(1, h.stack.counters(1).get(Stat.TCP_TIME_WAIT_REUSE));
        assertEquals(1, h.stack.netisr(1).tcp().connections());

        // the expiry moved too: 60 s after the entries began (the restarted one 60 s after its FIN)
        h.now = enteredAt + 60_000 * MS + 1;
        h.run();
        assertEquals(1, entries(1), "only the entry whose 2 MSL restarted is left");
        assertEquals(0, entries(0));
        h.now += 20_000 * MS;
        h.run();
        assertEquals(0, entries(1));
    }
}
