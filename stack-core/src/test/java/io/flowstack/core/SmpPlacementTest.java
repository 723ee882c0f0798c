package io.flowstack.core;

import static io.flowstack.core.testing.StackHarness.PEER;
import static io.flowstack.core.testing.StackHarness.PEER_MAC;
import static io.flowstack.core.testing.StackHarness.US;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.stats.Stat;
import io.flowstack.core.socket.TcpChannel;
import io.flowstack.core.socket.TcpHandler;
import io.flowstack.core.config.TcpSocketOptions;
import io.flowstack.core.socket.UdpPeer;
import io.flowstack.core.socket.UdpSocket;
import io.flowstack.core.testing.Packets;
import io.flowstack.core.testing.Packets.Frame;
import io.flowstack.core.testing.StackHarness;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.IntPredicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Where work happens on a multi-core stack (DESIGN.md "Flow hash"), frame by frame on a fake
 * clock: fragments are reassembled on the core their (src, dst) hash to and the datagram is
 * re-dispatched to the core of its 4-tuple; an ICMP error reaches the core that owns the flow it
 * quotes, whichever queue it arrives on; replies leave on the owner's own TX queue. Per-core
 * counters say which core did what.
 *
 * <p>Threadless: the test thread owns every core (the ownership check passes trivially here;
 * {@link SmpMemoryWireTest} runs the same paths on real netisr threads with the check on).
 */
class SmpPlacementTest {
    private StackHarness h;

    @AfterEach
    void close() {
        if (h != null) {
            h.close();
        }
    }

    private long at(int core, Stat s) {
        return h.stack.counters(core).get(s);
    }

    /** Runs every core until idle and returns what each TX queue sent (then clears it). */
    private List<List<Frame>> runPerQueue() {
        for (int i = 0; i < 1000; i++) {
            if (h.stack.pollAll(h.now) == 0 && i > 0) {
                break;
            }
        }
        List<List<Frame>> out = new ArrayList<>();
        for (int q = 0; q < h.stack.cores(); q++) {
            List<Frame> frames = new ArrayList<>();
            for (byte[] f : h.nic.q(q).outbound) {
                frames.add(Packets.parse(f));
            }
            h.nic.q(q).outbound.clear();
            out.add(frames);
        }
        return out;
    }

    /** The core owning (src, dst) traffic that is not a TCP/UDP flow, e.g. fragments. */
    private int addressCore() {
        return h.stack.netisr(0).table().core(h.stack.table().hash().hash2(PEER, US));
    }

    /** A peer port {@code >= from} whose flow to our {@code localPort} lands on a core accepted by {@code want}. */
    private int peerPortWhere(int localPort, int from, IntPredicate want) {
        for (int p = from; p < 65536; p++) {
            if (want.test(h.stack.coreFor(US, PEER, localPort, p))) {
                return p;
            }
        }
        throw new AssertionError("no peer port found");
    }

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new SplittableRandom(seed).nextBytes(b);
        return b;
    }

    /** Sum of a counter over every core must equal its value on {@code core} alone. */
    private void assertOnlyOn(int core, Stat s, long expected) {
        for (int c = 0; c < h.stack.cores(); c++) {
            assertEquals(c == core ? expected : 0, at(c, s), s.key() + " on core " + c + "\n" + h.stack.countersReport());
        }
    }

    /**
     * Every message a core sent another was received; ARP updates are hop messages too
     * (HOP_IN counts them, HOP_OUT does not: they are counted as ARP_UPDATE_OUT).
     */
    private void assertHopsBalance() {
        assertEquals(h.total(Stat.HOP_OUT) + h.total(Stat.ARP_UPDATE_OUT), h.total(Stat.HOP_IN),
                h.stack::countersReport);
        assertEquals(h.total(Stat.ARP_UPDATE_OUT), h.total(Stat.ARP_UPDATE_IN), h.stack::countersReport);
        assertEquals(0, h.total(Stat.HOP_RING_FULL));
    }

    // ------------------------------------------------------------------ fragments

    /**
     * RFC 791 3.2 reassembly happens on the (src, dst) core, wherever the fragments were read;
     * the whole datagram then moves to its 4-tuple's core (one more hop if that is another core),
     * which delivers it to the socket and sends the (fragmented) reply on its own TX queue.
     */
    @ParameterizedTest(name = "{0} cores, flow on the reassembly core: {1}")
    @CsvSource({"2, false", "2, true", "4, false"})
    void fragmentsReassembleOnTheAddressCoreAndTheDatagramMovesToTheFlowCore(int cores, boolean sameCore) {
        h = new StackHarness(cores);
        h.arpFromPeer(0);
        int x = addressCore();
        int sport = peerPortWhere(7, 40000, c -> sameCore == (c == x));
        int y = h.stack.coreFor(US, PEER, 7, sport);
        assertEquals(sameCore, x == y);
        UdpSocket s = h.stack.udpBind(7);
        byte[] data = random(4000, cores);
        byte[] dgram = Packets.ipv4(PEER, US, 17, 0x4242, 0, Packets.udp(PEER, US, sport, 7, data));
        List<byte[]> frags = Packets.fragment(dgram, 1500);
        assertEquals(3, frags.size());
        long hopsBefore = h.total(Stat.HOP_OUT);
        int readElsewhere = 0;
        for (int i = 0; i < frags.size(); i++) {
            int q = (x + 1 + i) % cores; // the first fragment is read on a core that is not x
            readElsewhere += q == x ? 0 : 1;
            h.inject(q, h.ipFrame(frags.get(i)));
        }
        runPerQueue();
        assertOnlyOn(x, Stat.FRAG_IN, 3);
        assertOnlyOn(x, Stat.FRAG_REASSEMBLED, 1);
        assertOnlyOn(y, Stat.UDP_IN, 1);
        // fragments read on another core hop to x; the datagram hops once more if y != x
        assertEquals(readElsewhere + (sameCore ? 0 : 1), h.total(Stat.HOP_OUT) - hopsBefore, h.stack::countersReport);
        assertHopsBalance();

        byte[] buf = new byte[65536];
        UdpPeer from = new UdpPeer();
        int n = s.receive(buf, 0, buf.length, from, 0, TimeUnit.MILLISECONDS);
        assertEquals(data.length, n);
        assertArrayEquals(data, Arrays.copyOf(buf, n));
        assertEquals(sport, from.port);

        // the reply (fragmented: 4000 bytes) is built and sent by the flow's owner, on its queue
        assertTrue(s.send(buf, 0, n, PEER, sport));
        List<List<Frame>> out = runPerQueue();
        for (int q = 0; q < cores; q++) {
            assertEquals(q == y ? 3 : 0, out.get(q).size(), "reply fragments on TX queue " + q);
        }
        assertOnlyOn(y, Stat.UDP_OUT, 1);
        assertOnlyOn(y, Stat.IP_FRAGMENTS_OUT, 3);
        s.close();
    }

    // ------------------------------------------------------------------ ICMP errors

    /** An ICMP destination unreachable from the peer quoting {@code offending} (RFC 792). */
    private static byte[] portUnreachable(byte[] offending) {
        int quote = Math.min(offending.length, 20 + 8); // RFC 792: IP header + 64 bits of data
        byte[] icmp = new byte[8 + quote];
        icmp[0] = 3; // destination unreachable
        icmp[1] = 3; // port unreachable
        System.arraycopy(offending, 0, icmp, 8, quote);
        int c = Packets.checksum(icmp, 0, icmp.length, 0);
        icmp[2] = (byte) (c >>> 8);
        icmp[3] = (byte) c;
        return Packets.ipv4(PEER, US, 1, 0x777, 0, icmp);
    }

    /**
     * A UDP flow this stack started gets a port unreachable back on a queue of another core: the
     * error is hashed by the datagram it quotes (DESIGN.md) and handled by the flow's owner.
     */
    @ParameterizedTest(name = "{0} cores")
    @ValueSource(ints = {2, 4})
    void icmpErrorAboutAStackInitiatedUdpFlowIsHandledByTheFlowOwner(int cores) {
        h = new StackHarness(cores);
        h.arpFromPeer(0);
        int lport = 5353;
        int peerPort = peerPortWhere(lport, 1000, c -> c != addressCore());
        int owner = h.stack.coreFor(US, PEER, lport, peerPort);
        UdpSocket s = h.stack.udpBind(lport);
        assertTrue(s.send(new byte[] {1, 2, 3, 4}, 0, 4, PEER, peerPort));
        List<List<Frame>> out = runPerQueue();
        assertEquals(1, out.get(owner).size(), "the datagram leaves on its owner's TX queue");
        byte[] sent = out.get(owner).get(0).datagram();

        int q = (owner + 1) % cores; // read by a core that does not own the flow
        long hopsBefore = at(q, Stat.HOP_OUT);
        h.inject(q, h.ipFrame(portUnreachable(sent)));
        runPerQueue();
        assertEquals(1, at(q, Stat.HOP_OUT) - hopsBefore, "the reading core hands the error over");
        assertOnlyOn(owner, Stat.ICMP_IN, 1);
        assertOnlyOn(owner, Stat.ICMP_IN_ERROR, 1);
        assertHopsBalance();
        s.close();
    }

    /** The same for a TCP connection this stack opened (the error quotes its SYN). */
    @ParameterizedTest(name = "{0} cores")
    @ValueSource(ints = {2, 4})
    void icmpErrorAboutAStackInitiatedTcpConnectionIsHandledByTheConnectionOwner(int cores) {
        h = new StackHarness(cores);
        h.arpFromPeer(0);
        TcpHandler handler = new TcpHandler() {
            @Override
            public int onData(TcpChannel ch, MemorySegment data, long offset, int length) {
                return length;
            }
        };
        h.stack.tcpConnect(PEER, 80, TcpSocketOptions.defaults(h.stack.config()), handler);
        List<List<Frame>> out = runPerQueue();
        int owner = -1;
        for (int q = 0; q < cores; q++) {
            if (!out.get(q).isEmpty()) {
                assertEquals(-1, owner, "one SYN, on one queue");
                owner = q;
            }
        }
        assertTrue(owner >= 0, "a SYN was sent");
        Frame syn = out.get(owner).get(0);
        Packets.TcpSeg seg = Packets.tcpOf(syn);
        assertTrue(seg.has(Packets.SYN));
        assertEquals(owner, h.stack.coreFor(US, PEER, seg.sport(), 80),
                "connect() chose a local port whose 4-tuple hashes to the core that sent the SYN");
        assertOnlyOn(owner, Stat.TCP_ACTIVE_OPENS, 1);

        int q = (owner + 1) % cores;
        h.inject(q, h.ipFrame(portUnreachable(syn.datagram())));
        runPerQueue();
        assertOnlyOn(owner, Stat.ICMP_IN_ERROR, 1);
        assertEquals(1, at(q, Stat.HOP_OUT), h.stack::countersReport);
        assertHopsBalance();
        assertNotEquals(owner, q);
    }

    // ------------------------------------------------------------------ ARP replicas

    /** An ARP reply read by one core is applied by every core to its own replica (by message). */
    @ParameterizedTest(name = "{0} cores")
    @ValueSource(ints = {2, 4})
    void everyCoreLearnsANeighbourIntoItsOwnReplica(int cores) {
        h = new StackHarness(cores);
        int reader = cores - 1;
        h.arpFromPeer(reader);
        for (int c = 0; c < cores; c++) {
            int core = c;
            assertEquals(PEER_MAC, (long) h.stack.call(core, n -> n.arp(0).lookup(PEER)), "replica of core " + c);
        }
        assertOnlyOn(reader, Stat.ARP_IN_REQUEST, 1);
        assertOnlyOn(reader, Stat.ARP_UPDATE_OUT, cores - 1);
        for (int c = 0; c < cores; c++) {
            assertEquals(c == reader ? 0 : 1, at(c, Stat.ARP_UPDATE_IN), "updates applied by core " + c);
        }
    }
}
