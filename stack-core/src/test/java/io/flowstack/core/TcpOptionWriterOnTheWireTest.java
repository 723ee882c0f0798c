package io.flowstack.core;

import static io.flowstack.core.testing.Packets.ACK;
import static io.flowstack.core.testing.Packets.SYN;
import static io.flowstack.core.testing.StackHarness.PEER;
import static io.flowstack.core.testing.StackHarness.US;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.stats.Stat;
import io.flowstack.core.testing.Packets;
import io.flowstack.core.testing.Packets.TcpOpts;
import io.flowstack.core.testing.StackHarness;
import io.flowstack.core.wire.Tcp;
import io.flowstack.core.wire.TcpOptionWriter;
import io.flowstack.core.wire.TcpOptions;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The option bytes TcpLayer puts on its segments today, taken off the wire of a threadless
 * stack, are exactly what {@link TcpOptionWriter} writes for the same options (so TcpLayer can
 * switch to the writer without changing a byte).
 */
class TcpOptionWriterOnTheWireTest {
    private static final int PORT = 80;

    private StackHarness h;
    private int ipId = 1;
    private final Arena arena = Arena.ofConfined();
    private final MemorySegment seg = arena.allocate(64);
    private final TcpOptions parsed = new TcpOptions();

    @BeforeEach
    void start() {
        h = new StackHarness(1);
        h.arpFromPeer(0);
        h.stack.tcpListen(PORT, 16);
    }

    @AfterEach
    void close() {
        assertEquals(0, h.total(Stat.INTERNAL_ERROR));
        h.close();
        arena.close();
    }

    private List<byte[]> send(int peerPort, int flags, int seq, int ack, TcpOpts o, byte[] data) {
        h.inject(0, h.ipFrame(Packets.ipv4(PEER, US, 6, ipId++, 0, Packets.tcp(PEER, US, peerPort, PORT, seq, ack,
                flags, 65535, o == null ? new byte[0] : o.encode(), data))));
        List<byte[]> out = new ArrayList<>();
        for (Packets.Frame f : h.run()) {
            if (f.type() == Packets.ETH_IPV4 && f.ipProto() == 6) {
                out.add(f.l4());
            }
        }
        return out;
    }

    /** The option bytes of a TCP segment (after the 20-byte header, up to the data offset). */
    private static byte[] options(byte[] tcp) {
        return Arrays.copyOfRange(tcp, Tcp.MIN_HEADER, ((tcp[12] & 0xFF) >>> 4) * 4);
    }

    private TcpOptions parse(byte[] opts) {
        MemorySegment.copy(opts, 0, seg, ValueLayout.JAVA_BYTE, Tcp.MIN_HEADER, opts.length);
        parsed.parse(seg, 0, Tcp.MIN_HEADER + opts.length);
        return parsed;
    }

    private byte[] written(long end) {
        return seg.asSlice(Tcp.MIN_HEADER, end - Tcp.MIN_HEADER).toArray(ValueLayout.JAVA_BYTE);
    }

    @Test
    void synAckForEveryOffer() {
        for (int mask = 0; mask < 8; mask++) {
            boolean sack = (mask & 1) != 0;
            boolean ts = (mask & 2) != 0;
            boolean ws = (mask & 4) != 0;
            TcpOpts o = new TcpOpts();
            o.mss = 1460;
            o.sackPermitted = sack;
            o.ts = ts;
            o.tsVal = 4242 + mask;
            o.wscale = ws ? 7 : -1;
            List<byte[]> out = send(41000 + mask, SYN, 1_000_000, 0, o, new byte[0]);
            assertEquals(1, out.size(), "offer " + mask);
            byte[] got = options(out.get(0));
            TcpOptions p = parse(got);
            assertEquals(sack, p.sackPermitted, "offer " + mask);
            assertEquals(ts, p.hasTimestamp, "offer " + mask);
            assertEquals(ws, p.wscale >= 0, "offer " + mask);
            long end = TcpOptionWriter.syn(seg, Tcp.MIN_HEADER, p.mss, sack, ts, p.tsVal, o.tsVal, ws,
                    Math.max(0, p.wscale));
            assertArrayEquals(got, written(end), "SYN-ACK options for offer " + mask);
            assertEquals(got.length, TcpOptionWriter.synLength(sack, ts, ws));
        }
    }

    @Test
    void activeOpenSyn() {
        h.stack.call(0, n -> n.tcp().connect(PEER, 8080, 45000, false, null));
        byte[] got = null;
        for (Packets.Frame f : h.run()) {
            if (f.type() == Packets.ETH_IPV4 && f.ipProto() == 6) {
                got = options(f.l4());
            }
        }
        assertTrue(got != null, "a SYN");
        TcpOptions p = parse(got);
        long end = TcpOptionWriter.syn(seg, Tcp.MIN_HEADER, p.mss, true, true, p.tsVal, 0, true, p.wscale);
        assertArrayEquals(got, written(end));
    }

    @Test
    void ackWithTimestampsAndSackBlocks() {
        int peerPort = 42000;
        TcpOpts o = new TcpOpts();
        o.mss = 1460;
        o.sackPermitted = true;
        o.ts = true;
        o.tsVal = 100;
        o.wscale = 7;
        byte[] synAck = send(peerPort, SYN, 1_000_000, 0, o, new byte[0]).get(0);
        int iss = java.nio.ByteBuffer.wrap(synAck).getInt(4);
        int nxt = 1_000_001;
        TcpOpts a = new TcpOpts();
        a.ts = true;
        a.tsVal = 101;
        assertTrue(send(peerPort, ACK, nxt, iss + 1, a, new byte[0]).isEmpty());
        // two holes: segments above rcv.nxt make the stack answer with SACK blocks (RFC 2018 4)
        for (int k = 0; k < 3; k++) {
            TcpOpts d = new TcpOpts();
            d.ts = true;
            d.tsVal = 102 + k;
            List<byte[]> out = send(peerPort, ACK, nxt + 100 + 200 * k, iss + 1, d, new byte[50]);
            assertEquals(1, out.size(), "a duplicate ACK");
            byte[] got = options(out.get(0));
            TcpOptions p = parse(got);
            assertTrue(p.hasTimestamp);
            assertEquals(k + 1, p.sackCount);
            long end = TcpOptionWriter.timestamps(seg, Tcp.MIN_HEADER, p.tsVal, p.tsEcr);
            end = TcpOptionWriter.sack(seg, end, p.sackLeft.clone(), p.sackRight.clone(), p.sackCount);
            assertArrayEquals(got, written(end), "ACK with " + (k + 1) + " SACK blocks");
            assertEquals(got.length, TcpOptionWriter.dataLength(true, p.sackCount));
            assertEquals(nxt + 100 + 200 * k, p.sackLeft[0], "the most recent block first");
        }
    }
}
