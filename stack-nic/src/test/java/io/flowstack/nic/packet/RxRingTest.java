package io.flowstack.nic.packet;

import static io.flowstack.nativeio.Packet.BLOCK_NUM_PKTS;
import static io.flowstack.nativeio.Packet.BLOCK_OFFSET_TO_FIRST_PKT;
import static io.flowstack.nativeio.Packet.BLOCK_STATUS;
import static io.flowstack.nativeio.Packet.TP3_LEN;
import static io.flowstack.nativeio.Packet.TP3_MAC;
import static io.flowstack.nativeio.Packet.TP3_NET;
import static io.flowstack.nativeio.Packet.TP3_NEXT_OFFSET;
import static io.flowstack.nativeio.Packet.TP3_SNAPLEN;
import static io.flowstack.nativeio.Packet.TP3_STATUS;
import static io.flowstack.nativeio.Packet.TP3_VLAN_TCI;
import static io.flowstack.nativeio.Packet.TPACKET3_SLL;
import static io.flowstack.nativeio.Packet.SLL_PKTTYPE;
import static io.flowstack.nativeio.Packet.TP_STATUS_BLK_TMO;
import static io.flowstack.nativeio.Packet.TP_STATUS_CSUMNOTREADY;
import static io.flowstack.nativeio.Packet.TP_STATUS_CSUM_VALID;
import static io.flowstack.nativeio.Packet.TP_STATUS_KERNEL;
import static io.flowstack.nativeio.Packet.TP_STATUS_USER;
import static io.flowstack.nativeio.Packet.TP_STATUS_VLAN_VALID;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.nativeio.Packet;
import io.flowstack.nic.FrameBatch;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The TPACKET_V3 block walk over a synthetic ring laid out as the kernel lays it out
 * ({@code prb_fill_curr_block}: block descriptor, then frames whose headers chain by
 * {@code tp_next_offset}, the frame at {@code hdr + tp_mac}); the test plays the kernel's part of
 * the status handshake.
 */
class RxRingTest {
    private static final int BLOCK = 4096;
    private static final int BLOCKS = 4;
    /** The kernel's macoff for a 14-byte MAC header: TPACKET_ALIGN(68 + 16) - 14. */
    private static final int MAC = 82;

    private Arena arena;
    private MemorySegment ring;
    private RxRing rx;

    @BeforeEach
    void setUp() {
        arena = Arena.ofConfined();
        ring = arena.allocate((long) BLOCK * BLOCKS, 4096);
        rx = new RxRing(ring, BLOCK, BLOCKS);
    }

    @AfterEach
    void tearDown() {
        arena.close();
    }

    /** One frame the "kernel" puts into a block. */
    private record Frame(byte[] data, int wireLen, int status, int pkttype, int vlanTci) {
        static Frame of(int size, int seed) {
            byte[] d = new byte[size];
            for (int i = 0; i < size; i++) {
                d[i] = (byte) (seed * 31 + i);
            }
            return new Frame(d, size, TP_STATUS_USER, Packet.PACKET_HOST, 0);
        }

        Frame withStatus(int s) {
            return new Frame(data, wireLen, s, pkttype, vlanTci);
        }

        Frame withWireLen(int l) {
            return new Frame(data, l, status, pkttype, vlanTci);
        }

        Frame withPkttype(int t) {
            return new Frame(data, wireLen, status, t, vlanTci);
        }

        Frame withVlan(int tci) {
            return new Frame(data, wireLen, status | TP_STATUS_VLAN_VALID, pkttype, tci);
        }
    }

    /**
     * Writes {@code frames} into block {@code index} and hands it to user space (status USER
     * with the timeout bit, as a timer-retired block has). Returns each frame header's offset.
     */
    private List<Long> fill(int index, Frame... frames) {
        long base = (long) index * BLOCK;
        long first = 48;
        long hdr = base + first;
        List<Long> headers = new ArrayList<>();
        for (int i = 0; i < frames.length; i++) {
            Frame f = frames[i];
            int size = Packet.align(MAC + f.data.length);
            headers.add(hdr);
            ring.set(ValueLayout.JAVA_INT, hdr + TP3_NEXT_OFFSET, i + 1 < frames.length ? size : 0);
            ring.set(ValueLayout.JAVA_INT, hdr + TP3_SNAPLEN, f.data.length);
            ring.set(ValueLayout.JAVA_INT, hdr + TP3_LEN, f.wireLen);
            ring.set(ValueLayout.JAVA_INT, hdr + TP3_STATUS, f.status);
            ring.set(ValueLayout.JAVA_SHORT, hdr + TP3_MAC, (short) MAC);
            ring.set(ValueLayout.JAVA_SHORT, hdr + TP3_NET, (short) (MAC + 14));
            ring.set(ValueLayout.JAVA_INT, hdr + TP3_VLAN_TCI, f.vlanTci);
            ring.set(ValueLayout.JAVA_BYTE, hdr + TPACKET3_SLL + SLL_PKTTYPE, (byte) f.pkttype);
            MemorySegment.copy(f.data, 0, ring, ValueLayout.JAVA_BYTE, hdr + MAC, f.data.length);
            hdr += size;
        }
        ring.set(ValueLayout.JAVA_INT, base + BLOCK_NUM_PKTS, frames.length);
        ring.set(ValueLayout.JAVA_INT, base + BLOCK_OFFSET_TO_FIRST_PKT, (int) first);
        ring.set(ValueLayout.JAVA_INT, base + BLOCK_STATUS, TP_STATUS_USER | TP_STATUS_BLK_TMO);
        return headers;
    }

    private int status(int block) {
        return ring.get(ValueLayout.JAVA_INT, (long) block * BLOCK + BLOCK_STATUS);
    }

    private static byte[] slot(FrameBatch b, int i) {
        return b.slot(i).asSlice(0, b.length(i)).toArray(ValueLayout.JAVA_BYTE);
    }

    @Test
    void nothingWhileTheKernelOwnsTheBlock() {
        FrameBatch batch = new FrameBatch(arena, 8, 2048);
        assertFalse(rx.ready());
        assertEquals(0, rx.drain(batch));
        assertEquals(0, batch.count());
        assertEquals(0, rx.currentBlock());
        assertEquals(TP_STATUS_KERNEL, status(0));
    }

    @Test
    void walksTheFramesOfABlockByNextOffsetAndReturnsIt() {
        Frame a = Frame.of(60, 1);
        Frame b = Frame.of(1514, 2);
        Frame c = Frame.of(98, 3);
        fill(0, a, b, c);
        assertTrue(rx.ready());
        FrameBatch batch = new FrameBatch(arena, 8, 2048);
        assertEquals(3, rx.drain(batch));
        assertEquals(3, batch.count());
        assertArrayEquals(a.data, slot(batch, 0));
        assertArrayEquals(b.data, slot(batch, 1));
        assertArrayEquals(c.data, slot(batch, 2));
        assertEquals(60 + 1514 + 98, rx.lastBytes());
        assertEquals(TP_STATUS_KERNEL, status(0), "the block went back to the kernel");
        assertEquals(1, rx.currentBlock());
        assertEquals(1, rx.blocks());
        assertFalse(rx.ready());
        assertEquals(0, rx.drain(batch));
    }

    @Test
    void aBlockLargerThanTheBatchIsTakenOverSeveralCallsAndReturnedAfterItsLastFrame() {
        Frame[] frames = new Frame[5];
        for (int i = 0; i < frames.length; i++) {
            frames[i] = Frame.of(100 + i, i);
        }
        fill(0, frames);
        FrameBatch batch = new FrameBatch(arena, 2, 2048);
        assertEquals(2, rx.drain(batch));
        assertArrayEquals(frames[0].data, slot(batch, 0));
        assertArrayEquals(frames[1].data, slot(batch, 1));
        assertTrue((status(0) & TP_STATUS_USER) != 0, "still ours: frames are left in it");
        assertTrue(rx.ready());
        assertEquals(2, rx.drain(batch));
        assertArrayEquals(frames[2].data, slot(batch, 0));
        assertArrayEquals(frames[3].data, slot(batch, 1));
        assertEquals(1, rx.drain(batch));
        assertArrayEquals(frames[4].data, slot(batch, 0));
        assertEquals(TP_STATUS_KERNEL, status(0));
        assertEquals(1, rx.currentBlock());
    }

    @Test
    void blocksAreTakenInRingOrderAndTheWalkWrapsAround() {
        FrameBatch batch = new FrameBatch(arena, 16, 2048);
        int seed = 0;
        for (int round = 0; round < 3; round++) {
            for (int blk = 0; blk < BLOCKS; blk++) {
                Frame f = Frame.of(64 + blk, seed++);
                fill(blk, f);
                assertEquals(1, rx.drain(batch), "round " + round + " block " + blk);
                assertArrayEquals(f.data, slot(batch, 0));
                assertEquals(TP_STATUS_KERNEL, status(blk));
            }
        }
        assertEquals(0, rx.currentBlock());
        assertEquals(3L * BLOCKS, rx.blocks());
    }

    @Test
    void stopsAtTheFirstBlockTheKernelStillOwnsEvenIfALaterOneIsReady() {
        Frame a = Frame.of(70, 1);
        Frame c = Frame.of(80, 3);
        fill(0, a);
        fill(2, c); // block 1 is still the kernel's: order is what the kernel filled in
        FrameBatch batch = new FrameBatch(arena, 16, 2048);
        assertEquals(1, rx.drain(batch));
        assertArrayEquals(a.data, slot(batch, 0));
        assertEquals(1, rx.currentBlock());
        assertEquals(0, rx.drain(batch));
        Frame b = Frame.of(75, 2);
        fill(1, b);
        assertEquals(2, rx.drain(batch));
        assertArrayEquals(b.data, slot(batch, 0));
        assertArrayEquals(c.data, slot(batch, 1));
        assertEquals(3, rx.currentBlock());
    }

    @Test
    void truncatedFramesAreCountedAndSkipped() {
        Frame cut = Frame.of(200, 1).withWireLen(9000); // tp_snaplen < tp_len: cut to the block
        Frame big = Frame.of(1600, 2);                   // longer than the batch's slot
        Frame ok = Frame.of(60, 3);
        fill(0, cut, big, ok);
        FrameBatch batch = new FrameBatch(arena, 8, 1536);
        assertEquals(1, rx.drain(batch));
        assertArrayEquals(ok.data, slot(batch, 0));
        assertEquals(2, rx.truncated());
        assertEquals(TP_STATUS_KERNEL, status(0));
    }

    @Test
    void outgoingAndVlanTaggedFramesAreDroppedChecksumNotReadyIsDeliveredAndCounted() {
        Frame out = Frame.of(60, 1).withPkttype(Packet.PACKET_OUTGOING);
        Frame tagged = Frame.of(60, 2).withVlan(100);
        Frame priority = Frame.of(61, 3).withVlan(0x6000); // priority tag, VLAN id 0: ours
        Frame partial = Frame.of(62, 4).withStatus(TP_STATUS_USER | TP_STATUS_CSUMNOTREADY);
        Frame other = Frame.of(63, 5).withPkttype(Packet.PACKET_OTHERHOST); // promiscuous: the stack decides
        fill(0, out, tagged, priority, partial, other);
        FrameBatch batch = new FrameBatch(arena, 8, 2048);
        assertEquals(3, rx.drain(batch));
        assertArrayEquals(priority.data, slot(batch, 0));
        assertArrayEquals(partial.data, slot(batch, 1));
        assertArrayEquals(other.data, slot(batch, 2));
        assertEquals(1, rx.outgoing());
        assertEquals(1, rx.vlanTagged());
        assertEquals(1, rx.csumNotReady());
        assertEquals(0, rx.truncated());
    }

    @Test
    void checksumStatusBecomesTheFrameFlag() {
        // CHECKSUM_PARTIAL (a local sender) and CHECKSUM_UNNECESSARY (verified) need no verification
        Frame partial = Frame.of(62, 1).withStatus(TP_STATUS_USER | TP_STATUS_CSUMNOTREADY);
        Frame verified = Frame.of(63, 2).withStatus(TP_STATUS_USER | TP_STATUS_CSUM_VALID);
        Frame plain = Frame.of(64, 3);
        Frame both = Frame.of(65, 4).withStatus(TP_STATUS_USER | TP_STATUS_CSUM_VALID | TP_STATUS_CSUMNOTREADY);
        fill(0, partial, verified, plain, both);
        FrameBatch batch = new FrameBatch(arena, 8, 2048);
        // a flag left over from an earlier frame in the same slot must not survive
        batch.frame(2, 1, FrameBatch.RX_CSUM_VALID, 1448);
        assertEquals(4, rx.drain(batch));
        assertEquals(FrameBatch.RX_CSUM_VALID | FrameBatch.RX_CSUM_PARTIAL, batch.flags(0));
        assertEquals(FrameBatch.RX_CSUM_VALID, batch.flags(1));
        assertEquals(0, batch.flags(2));
        assertEquals(0, batch.gsoSize(2));
        assertEquals(FrameBatch.RX_CSUM_VALID | FrameBatch.RX_CSUM_PARTIAL, batch.flags(3));
        assertArrayEquals(verified.data, slot(batch, 1));
        assertEquals(2, rx.csumNotReady());
        assertEquals(1, rx.csumValid());
    }

    @Test
    void aSuperFrameInABlockLargeEnoughIsDelivered() {
        // what PacketNic's V3 geometry guarantees: a 128 KiB block holds a 65,549-byte frame
        try (Arena big = Arena.ofConfined()) {
            int block = 128 << 10;
            MemorySegment r = big.allocate(2L * block, 4096);
            RxRing ring2 = new RxRing(r, block, 2);
            byte[] data = new byte[PacketNic.MAX_SUPER_FRAME];
            for (int i = 0; i < data.length; i++) {
                data[i] = (byte) (i * 7);
            }
            long hdr = 48;
            r.set(ValueLayout.JAVA_INT, hdr + TP3_NEXT_OFFSET, 0);
            r.set(ValueLayout.JAVA_INT, hdr + TP3_SNAPLEN, data.length);
            r.set(ValueLayout.JAVA_INT, hdr + TP3_LEN, data.length);
            r.set(ValueLayout.JAVA_INT, hdr + TP3_STATUS, TP_STATUS_USER | TP_STATUS_CSUMNOTREADY);
            r.set(ValueLayout.JAVA_SHORT, hdr + TP3_MAC, (short) MAC);
            MemorySegment.copy(data, 0, r, ValueLayout.JAVA_BYTE, hdr + MAC, data.length);
            r.set(ValueLayout.JAVA_INT, BLOCK_NUM_PKTS, 1);
            r.set(ValueLayout.JAVA_INT, BLOCK_OFFSET_TO_FIRST_PKT, 48);
            r.set(ValueLayout.JAVA_INT, BLOCK_STATUS, TP_STATUS_USER);
            FrameBatch batch = new FrameBatch(big, 2, PacketNic.MAX_SUPER_FRAME);
            assertEquals(1, ring2.drain(batch));
            assertArrayEquals(data, slot(batch, 0));
            assertEquals(FrameBatch.RX_CSUM_VALID | FrameBatch.RX_CSUM_PARTIAL, batch.flags(0));
            assertEquals(0, ring2.truncated());
        }
    }

    @Test
    void anOffsetOutsideTheBlockEndsTheBlockAndIsCounted() {
        Frame a = Frame.of(60, 1);
        Frame b = Frame.of(60, 2);
        List<Long> headers = fill(0, a, b);
        ring.set(ValueLayout.JAVA_INT, headers.get(0) + TP3_NEXT_OFFSET, BLOCK * 2); // points past the block
        Frame c = Frame.of(90, 3);
        fill(1, c);
        FrameBatch batch = new FrameBatch(arena, 8, 2048);
        assertEquals(2, rx.drain(batch), "the first frame, then the next block");
        assertArrayEquals(a.data, slot(batch, 0));
        assertArrayEquals(c.data, slot(batch, 1));
        assertEquals(1, rx.corruptBlocks());
        assertEquals(TP_STATUS_KERNEL, status(0));
        assertEquals(TP_STATUS_KERNEL, status(1));

        List<Long> h2 = fill(2, Frame.of(60, 4));
        ring.set(ValueLayout.JAVA_SHORT, h2.get(0) + TP3_MAC, (short) (BLOCK - 10)); // frame past the block end
        assertEquals(0, rx.drain(batch));
        assertEquals(2, rx.corruptBlocks());
        assertEquals(TP_STATUS_KERNEL, status(2));
        assertEquals(3, rx.currentBlock());
    }

    @Test
    void anEmptyBlockIsHandedBack() {
        fill(0);
        FrameBatch batch = new FrameBatch(arena, 8, 2048);
        Frame b = Frame.of(60, 1);
        fill(1, b);
        assertEquals(1, rx.drain(batch));
        assertArrayEquals(b.data, slot(batch, 0));
        assertEquals(TP_STATUS_KERNEL, status(0));
    }

    @Test
    void aBlockWhoseFirstFrameOffsetIsBadIsHandedBackAndCounted() {
        fill(0, Frame.of(60, 1));
        ring.set(ValueLayout.JAVA_INT, BLOCK_OFFSET_TO_FIRST_PKT, 8); // inside the block descriptor
        Frame b = Frame.of(66, 2);
        fill(1, b);
        FrameBatch batch = new FrameBatch(arena, 8, 2048);
        assertEquals(1, rx.drain(batch));
        assertArrayEquals(b.data, slot(batch, 0));
        assertEquals(1, rx.corruptBlocks());
        assertEquals(TP_STATUS_KERNEL, status(0));
        assertEquals(2, rx.currentBlock());
    }

    @Test
    void geometryIsChecked() {
        assertThrows(IllegalArgumentException.class, () -> new RxRing(ring, BLOCK, BLOCKS + 1));
        assertThrows(IllegalArgumentException.class, () -> new RxRing(ring, 64, BLOCKS));
        assertThrows(IllegalArgumentException.class, () -> new RxRing(ring.asSlice(2), BLOCK, 1));
    }
}
