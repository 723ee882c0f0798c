package io.flowstack.core.netisr;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.percore.Counters;
import io.flowstack.core.stats.Stat;
import io.flowstack.core.wire.Bytes;
import io.flowstack.core.wire.Checksum;
import io.flowstack.core.wire.Ethernet;
import io.flowstack.core.wire.Ipv4;
import io.flowstack.core.wire.Tcp;
import io.flowstack.nic.FrameBatch;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link SoftGro}: which segments of a batch coalesce, and the super-frame they make.
 *
 * <p>Owned by: the JUnit test thread (it plays the netisr that owns the {@code SoftGro}).
 */
class SoftGroTest {
    private static final int MSS = 1448;
    private static final int SRC = Ipv4.parse("198.18.1.2");
    private static final int DST = Ipv4.parse("198.18.2.2");
    private static final int TCP_AT = Ethernet.HEADER_LEN + Ipv4.MIN_HEADER;
    /** 12 bytes of options: NOP, NOP, timestamps. */
    private static final int THL = Tcp.MIN_HEADER + 12;

    private final Arena arena = Arena.ofConfined();
    private final FrameBatch batch = new FrameBatch(arena, 32, 65_600);
    private final Counters counters = new Counters(0);
    private final SoftGro gro = new SoftGro(32, counters);
    private int count;

    @AfterEach
    void close() {
        arena.close();
    }

    /** A valid segment of the flow: sequence {@code seq}, IP ID {@code id}, DF set, payload bytes seq-derived. */
    private int add(int seq, int id, int payload, Consumer<MemorySegment> edit) {
        int i = count++;
        MemorySegment s = batch.slot(i);
        int ipLen = Ipv4.MIN_HEADER + THL + payload;
        Ethernet.write(s, 0, 0x02_00_00_00_00_02L, 0x02_00_00_00_00_01L, Ethernet.TYPE_IPV4);
        Ipv4.write(s, Ethernet.HEADER_LEN, ipLen, id, Ipv4.FLAG_DF, 64, Ipv4.PROTO_TCP, SRC, DST);
        Tcp.write(s, TCP_AT, 40_000, 5001, seq, 777, THL, Tcp.ACK, 500);
        Bytes.i32(s, TCP_AT + Tcp.OPTIONS, 0x0101_080A);
        Bytes.i32(s, TCP_AT + Tcp.OPTIONS + 4, 1234);
        Bytes.i32(s, TCP_AT + Tcp.OPTIONS + 8, 5678);
        for (int k = 0; k < payload; k++) {
            s.set(ValueLayout.JAVA_BYTE, TCP_AT + THL + k, (byte) (seq + k));
        }
        edit.accept(s);
        Tcp.finishChecksum(s, TCP_AT, THL + payload, Ipv4.src(s, Ethernet.HEADER_LEN), Ipv4.dst(s, Ethernet.HEADER_LEN));
        Ipv4.updateChecksum(s, Ethernet.HEADER_LEN);
        batch.frame(i, Ethernet.HEADER_LEN + ipLen, 0, 0);
        return i;
    }

    private int add(int seq, int id, int payload) {
        return add(seq, id, payload, s -> { });
    }

    private static byte[] payloadOf(int seq, int n) {
        byte[] b = new byte[n];
        for (int k = 0; k < n; k++) {
            b[k] = (byte) (seq + k);
        }
        return b;
    }

    @Test
    void consecutiveSegmentsBecomeOneSuperFrameWithPartialChecksumAndGsoSize() {
        add(1000, 7, MSS);
        add(1000 + MSS, 8, MSS);
        add(1000 + 2 * MSS, 9, 500); // a short last segment ends it
        add(1000 + 2 * MSS + 500, 10, MSS); // so this one starts a new frame
        gro.coalesce(batch, count);

        assertFalse(gro.merged(0));
        assertTrue(gro.merged(1));
        assertTrue(gro.merged(2));
        assertFalse(gro.merged(3));
        MemorySegment s = batch.slot(0);
        int payload = 2 * MSS + 500;
        assertEquals(TCP_AT + THL + payload, batch.length(0));
        assertEquals(MSS, batch.gsoSize(0));
        assertEquals(FrameBatch.RX_CSUM_VALID | FrameBatch.RX_CSUM_PARTIAL, batch.flags(0));
        assertEquals(Ipv4.MIN_HEADER + THL + payload, Ipv4.totalLength(s, Ethernet.HEADER_LEN));
        assertTrue(Checksum.verify(s, Ethernet.HEADER_LEN, Ipv4.MIN_HEADER), "IPv4 header checksum");
        assertEquals(7, Ipv4.id(s, Ethernet.HEADER_LEN), "the first segment's ID");
        assertEquals(1000, Tcp.seq(s, TCP_AT));
        byte[] got = s.asSlice(TCP_AT + THL, payload).toArray(ValueLayout.JAVA_BYTE);
        assertArrayEquals(payloadOf(1000, payload), got, "the payloads in order");
        // the checksum field holds the pseudo-header sum of the whole TCP length (virtio NEEDS_CSUM)
        int pseudo = Checksum.fold(Checksum.pseudoHeader(SRC, DST, Ipv4.PROTO_TCP, THL + payload));
        assertEquals(pseudo, Tcp.checksum(s, TCP_AT));
        // completing it gives a valid checksum over the super-frame
        Tcp.finishChecksum(s, TCP_AT, THL + payload, SRC, DST);
        assertTrue(Tcp.verifyChecksum(s, TCP_AT, THL + payload, SRC, DST));

        assertEquals(0, batch.gsoSize(3), "a lone segment is left as it was");
        assertEquals(1, counters.get(Stat.RX_GRO_SUPER_FRAMES));
        assertEquals(3, counters.get(Stat.RX_GRO_SEGMENTS));
    }

    @Test
    void aCorruptedSegmentIsNeverMergedNorLaundered() {
        add(1000, 7, MSS);
        int bad = add(1000 + MSS, 8, MSS);
        add(1000 + 2 * MSS, 9, MSS);
        MemorySegment s = batch.slot(bad);
        s.set(ValueLayout.JAVA_BYTE, TCP_AT + THL + 100, (byte) (s.get(ValueLayout.JAVA_BYTE, TCP_AT + THL + 100) ^ 1));
        gro.coalesce(batch, count);

        for (int i = 0; i < count; i++) {
            assertFalse(gro.merged(i), "frame " + i);
            assertEquals(0, batch.gsoSize(i));
        }
        assertFalse(Tcp.verifyChecksum(s, TCP_AT, THL + MSS, SRC, DST), "the bad segment keeps its bad checksum");
        assertEquals(0, counters.get(Stat.RX_GRO_SUPER_FRAMES));
    }

    @Test
    void aBadFirstSegmentStaysAloneAndTheRestMerge() {
        int bad = add(1000, 7, MSS);
        add(1000 + MSS, 8, MSS);
        add(1000 + 2 * MSS, 9, MSS);
        MemorySegment s = batch.slot(bad);
        Bytes.u16(s, TCP_AT + Tcp.CHECKSUM, Tcp.checksum(s, TCP_AT) ^ 0x0100);
        gro.coalesce(batch, count);

        assertFalse(gro.merged(1), "the second starts its own super-frame");
        assertTrue(gro.merged(2));
        assertEquals(0, batch.gsoSize(0));
        assertEquals(MSS, batch.gsoSize(1));
        assertEquals(TCP_AT + THL + 2 * MSS, batch.length(1));
    }

    @Test
    void whatChangesTheFlowsMeaningEndsTheSuperFrame() {
        // each edit of the second segment must keep it out of the first's super-frame
        Consumer<MemorySegment>[] edits = edits();
        for (Consumer<MemorySegment> edit : edits) {
            count = 0;
            add(1000, 7, MSS);
            add(1000 + MSS, 8, MSS, edit);
            gro.coalesce(batch, count);
            assertFalse(gro.merged(1));
            assertEquals(0, batch.gsoSize(0));
        }
        count = 0;
        add(1000, 7, MSS);
        add(1000 + MSS + 1, 8, MSS); // a hole in the sequence space
        gro.coalesce(batch, count);
        assertFalse(gro.merged(1));
        count = 0;
        add(1000, 7, MSS);
        add(1000 + MSS, 9, MSS); // an ID that skips one
        gro.coalesce(batch, count);
        assertFalse(gro.merged(1));
        count = 0;
        add(1000, 7, 1000);
        add(2000, 8, MSS); // larger than the first segment (its MSS)
        gro.coalesce(batch, count);
        assertFalse(gro.merged(1));
    }

    @SuppressWarnings("unchecked")
    private static Consumer<MemorySegment>[] edits() {
        return new Consumer[] {
            (Consumer<MemorySegment>) s -> Tcp.flags(s, TCP_AT, Tcp.ACK | Tcp.FIN),
            (Consumer<MemorySegment>) s -> Tcp.flags(s, TCP_AT, Tcp.ACK | Tcp.CWR),
            (Consumer<MemorySegment>) s -> Tcp.flags(s, TCP_AT, Tcp.ACK | Tcp.URG),
            (Consumer<MemorySegment>) s -> Bytes.i32(s, TCP_AT + Tcp.ACK_NUMBER, 778),
            (Consumer<MemorySegment>) s -> Bytes.u16(s, TCP_AT + Tcp.WINDOW, 501),
            (Consumer<MemorySegment>) s -> Bytes.i32(s, TCP_AT + Tcp.OPTIONS + 4, 1235), // another TSval
            (Consumer<MemorySegment>) s -> Bytes.u16(s, TCP_AT + Tcp.SRC_PORT, 40_001),
            (Consumer<MemorySegment>) s -> Ipv4.ttl(s, Ethernet.HEADER_LEN, 63),
            (Consumer<MemorySegment>) s -> Ipv4.src(s, Ethernet.HEADER_LEN, Ipv4.parse("198.18.1.3")),
            (Consumer<MemorySegment>) s -> Ipv4.fragWord(s, Ethernet.HEADER_LEN, 0), // DF cleared
            (Consumer<MemorySegment>) s -> Bytes.u8(s, Ethernet.HEADER_LEN + Ipv4.TOS, 0x10),
            (Consumer<MemorySegment>) s -> Bytes.u8(s, Ethernet.SRC + 5, 9), // another source MAC
        };
    }

    @Test
    void pshIsTakenThenEndsTheSuperFrame() {
        add(1000, 7, MSS);
        add(1000 + MSS, 8, MSS, s -> Tcp.flags(s, TCP_AT, Tcp.ACK | Tcp.PSH));
        add(1000 + 2 * MSS, 9, MSS);
        gro.coalesce(batch, count);
        assertTrue(gro.merged(1));
        assertFalse(gro.merged(2));
        assertEquals(Tcp.ACK | Tcp.PSH, Tcp.flags(batch.slot(0), TCP_AT));
    }

    @Test
    void withDfAFixedIdIsAcceptedAndNeverAFragmentOrPureAck() {
        add(1000, 7, MSS);
        add(1000 + MSS, 7, MSS); // RFC 6864: an atomic datagram's ID may stay the same
        add(1000 + 2 * MSS, 7, MSS);
        gro.coalesce(batch, count);
        assertTrue(gro.merged(1));
        assertTrue(gro.merged(2));

        count = 0;
        add(1000, 7, MSS, s -> Ipv4.fragWord(s, Ethernet.HEADER_LEN, Ipv4.FLAG_MF));
        add(1000 + MSS, 8, MSS, s -> Ipv4.fragWord(s, Ethernet.HEADER_LEN, Ipv4.FLAG_MF));
        gro.coalesce(batch, count);
        assertFalse(gro.merged(1), "fragments are reassembled, not coalesced");

        count = 0;
        add(1000, 7, 0); // pure ACKs carry no payload
        add(1000, 8, 0);
        gro.coalesce(batch, count);
        assertFalse(gro.merged(1));
    }

    @Test
    void aSuperFrameStopsAtTheLargestDatagram() {
        for (int k = 0; k < 32; k++) {
            add(1000 + k * MSS, 7 + k, MSS);
        }
        gro.coalesce(batch, count);
        int perFrame = (Ipv4.MAX_DATAGRAM - Ipv4.MIN_HEADER - THL) / MSS; // 45 segments of 1,448 fit; 32 here
        assertTrue(perFrame >= 32);
        assertEquals(TCP_AT + THL + 32 * MSS, batch.length(0));

        FrameBatch small = new FrameBatch(arena, 32, 4096); // a slot of 4 KiB holds two segments
        for (int k = 0; k < 4; k++) { // four segments with the first one's headers
            MemorySegment s = small.slot(k);
            MemorySegment.copy(batch.slot(0), 0, s, 0, TCP_AT + THL);
            Ipv4.totalLength(s, Ethernet.HEADER_LEN, Ipv4.MIN_HEADER + THL + MSS);
            Ipv4.id(s, Ethernet.HEADER_LEN, 7 + k);
            Ipv4.updateChecksum(s, Ethernet.HEADER_LEN);
            Tcp.seq(s, TCP_AT, 1000 + k * MSS);
            Tcp.flags(s, TCP_AT, Tcp.ACK);
            Tcp.finishChecksum(s, TCP_AT, THL + MSS, SRC, DST);
            small.frame(k, TCP_AT + THL + MSS, 0, 0);
        }
        SoftGro g = new SoftGro(32, counters);
        g.coalesce(small, 4);
        assertTrue(g.merged(1));
        assertFalse(g.merged(2), "a third segment would not fit the slot");
        assertTrue(g.merged(3));
        assertTrue(small.length(0) <= 4096 && small.length(2) <= 4096);
    }
}
