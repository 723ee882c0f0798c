package io.flowstack.nic.packet;

import static io.flowstack.nativeio.Packet.TP3_LEN;
import static io.flowstack.nativeio.Packet.TP3_NEXT_OFFSET;
import static io.flowstack.nativeio.Packet.TP3_STATUS;
import static io.flowstack.nativeio.Packet.TP_STATUS_AVAILABLE;
import static io.flowstack.nativeio.Packet.TP_STATUS_SENDING;
import static io.flowstack.nativeio.Packet.TP_STATUS_SEND_REQUEST;
import static io.flowstack.nativeio.Packet.TP_STATUS_WRONG_FORMAT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The TPACKET_V3 TX slot handshake over a synthetic ring; the test plays the kernel's part. */
class TxRingTest {
    /** 3 slots of 2048 per 8 KiB block (the last 2 KiB of each block unused), 2 blocks. */
    private static final int BLOCK = 8192;
    private static final int FRAME = 2048;

    private Arena arena;
    private MemorySegment ring;
    private TxRing tx;

    @BeforeEach
    void setUp() {
        arena = Arena.ofConfined();
        ring = arena.allocate(2L * BLOCK, 4096);
        tx = new TxRing(ring, BLOCK, 2, FRAME);
    }

    @AfterEach
    void tearDown() {
        arena.close();
    }

    private static MemorySegment frame(Arena a, int len, int seed) {
        MemorySegment f = a.allocate(len + 16);
        for (int i = 0; i < len + 16; i++) {
            f.set(ValueLayout.JAVA_BYTE, i, (byte) (seed + i));
        }
        return f;
    }

    private void kernelSets(int slot, int status) {
        ring.set(ValueLayout.JAVA_INT, tx.slotOffset(slot) + TP3_STATUS, status);
    }

    @Test
    void slotsNeverStraddleBlocks() {
        assertEquals(8, tx.frameCount());
        assertEquals(0, tx.slotOffset(0));
        assertEquals(3 * FRAME, tx.slotOffset(3));
        assertEquals(BLOCK, tx.slotOffset(4));
        assertEquals(BLOCK + 3L * FRAME, tx.slotOffset(7));
        assertEquals(FRAME - 48, tx.maxFrame());
    }

    @Test
    void putCopiesTheFrameAfterTheHeaderAndMarksTheSlotSendRequest() {
        MemorySegment f = frame(arena, 100, 7);
        assertTrue(tx.headFree());
        tx.put(f, 8, 100);
        assertEquals(1, tx.head());
        long slot = tx.slotOffset(0);
        assertEquals(TP_STATUS_SEND_REQUEST, tx.status(0));
        assertEquals(100, ring.get(ValueLayout.JAVA_INT, slot + TP3_LEN));
        assertEquals(0, ring.get(ValueLayout.JAVA_INT, slot + TP3_NEXT_OFFSET));
        assertArrayEquals(f.asSlice(8, 100).toArray(ValueLayout.JAVA_BYTE),
                ring.asSlice(slot + 48, 100).toArray(ValueLayout.JAVA_BYTE),
                "data at TPACKET_ALIGN(sizeof(tpacket3_hdr)) = 48");
    }

    @Test
    void aFullRingWaitsForTheKernelToReturnSlots() {
        MemorySegment f = frame(arena, 60, 1);
        for (int i = 0; i < tx.frameCount(); i++) {
            assertTrue(tx.headFree(), "slot " + i);
            tx.put(f, 0, 60);
        }
        assertEquals(0, tx.head(), "wrapped");
        assertFalse(tx.headFree(), "slot 0 still waits to be sent");
        kernelSets(0, TP_STATUS_SENDING);
        assertFalse(tx.headFree(), "slot 0 is in flight");
        kernelSets(0, TP_STATUS_AVAILABLE | (1 << 29)); // destructed skb, with a timestamp bit
        assertTrue(tx.headFree());
        tx.put(f, 0, 60);
        assertFalse(tx.headFree(), "slot 1 is next and still marked");
        kernelSets(1, TP_STATUS_WRONG_FORMAT); // without PACKET_LOSS the kernel leaves it to us
        assertTrue(tx.headFree());
    }

    @Test
    void geometryIsChecked() {
        assertThrows(IllegalArgumentException.class, () -> new TxRing(ring, BLOCK, 3, FRAME));
        assertThrows(IllegalArgumentException.class, () -> new TxRing(ring, BLOCK, 2, 40));
        assertThrows(IllegalArgumentException.class, () -> new TxRing(ring, BLOCK, 2, 2047));
    }

    @Test
    void aV2RingPutsTheFrameAt32AndTheHeaderFieldsWhereTpacket2HdrHasThem() {
        TxRing v2 = new TxRing(io.flowstack.nativeio.Packet.TPACKET_V2, ring, BLOCK, 2, FRAME);
        assertEquals(FRAME - 32, v2.maxFrame());
        MemorySegment f = frame(arena, 100, 9);
        assertTrue(v2.headFree());
        v2.put(f, 16, 100);
        long slot = v2.slotOffset(0);
        assertEquals(TP_STATUS_SEND_REQUEST, ring.get(ValueLayout.JAVA_INT, slot + io.flowstack.nativeio.Packet.TP2_STATUS));
        assertEquals(100, ring.get(ValueLayout.JAVA_INT, slot + io.flowstack.nativeio.Packet.TP2_LEN));
        assertEquals(100, ring.get(ValueLayout.JAVA_INT, slot + io.flowstack.nativeio.Packet.TP2_SNAPLEN));
        assertArrayEquals(f.asSlice(16, 100).toArray(ValueLayout.JAVA_BYTE),
                ring.asSlice(slot + 32, 100).toArray(ValueLayout.JAVA_BYTE));
        assertFalse(v2.headFree() && v2.head() == 0);
        assertEquals(TP_STATUS_SEND_REQUEST, v2.status(0));
        ring.set(ValueLayout.JAVA_INT, slot, TP_STATUS_AVAILABLE); // the kernel sent it
        assertEquals(TP_STATUS_AVAILABLE, v2.status(0));
        assertThrows(IllegalArgumentException.class,
                () -> new TxRing(io.flowstack.nativeio.Packet.TPACKET_V1, ring, BLOCK, 2, FRAME));
    }

    @Test
    void withAVnetHeaderEverySlotStartsWithTheChecksumAndSegmentationRequests() {
        io.flowstack.nic.TxFrame f = new io.flowstack.nic.TxFrame();
        MemorySegment headers = frame(arena, 54, 3);
        MemorySegment payload = frame(arena, 1000, 7);
        TxRing v2 = new TxRing(io.flowstack.nativeio.Packet.TPACKET_V2, ring, BLOCK, 2, FRAME, 10);
        assertEquals(FRAME - 32 - 10, v2.maxFrame());
        f.headers(headers, 0, 54).append(payload, 16, 600).append(payload, 616, 300).checksum(34, 16)
                .gso(io.flowstack.nic.TxFrame.GSO_TCPV4, 448);
        v2.put(f);
        long slot = v2.slotOffset(0);
        long h = slot + 32;
        java.nio.ByteOrder le = java.nio.ByteOrder.LITTLE_ENDIAN;
        ValueLayout.OfShort s16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(le);
        assertEquals(1, ring.get(ValueLayout.JAVA_BYTE, h), "VIRTIO_NET_HDR_F_NEEDS_CSUM");
        assertEquals(1, ring.get(ValueLayout.JAVA_BYTE, h + 1), "VIRTIO_NET_HDR_GSO_TCPV4");
        assertEquals(54, ring.get(s16, h + 2), "hdr_len");
        assertEquals(448, ring.get(s16, h + 4), "gso_size");
        assertEquals(34, ring.get(s16, h + 6), "csum_start");
        assertEquals(16, ring.get(s16, h + 8), "csum_offset");
        assertArrayEquals(headers.asSlice(0, 54).toArray(ValueLayout.JAVA_BYTE),
                ring.asSlice(h + 10, 54).toArray(ValueLayout.JAVA_BYTE));
        assertArrayEquals(payload.asSlice(16, 900).toArray(ValueLayout.JAVA_BYTE),
                ring.asSlice(h + 10 + 54, 900).toArray(ValueLayout.JAVA_BYTE), "both slices, in order");
        assertEquals(10 + 954, ring.get(ValueLayout.JAVA_INT, slot + io.flowstack.nativeio.Packet.TP2_LEN),
                "tp_len counts the vnet header (tpacket_snd takes it off)");
        assertEquals(TP_STATUS_SEND_REQUEST, v2.status(0));

        // a plain frame: no request, and hdr_len its whole length, so that tpacket_snd copies it
        // into the skb's linear area instead of attaching the ring's pages
        ring.asSlice(v2.slotOffset(1), FRAME).fill((byte) 0x55);
        MemorySegment plain = frame(arena, 60, 1);
        v2.put(plain, 16, 60);
        long s1 = v2.slotOffset(1) + 32;
        for (int i = 0; i < 10; i++) {
            if (i != 2 && i != 3) {
                assertEquals(0, ring.get(ValueLayout.JAVA_BYTE, s1 + i), "header byte " + i);
            }
        }
        assertEquals(60, ring.get(s16, s1 + 2), "hdr_len of a plain frame");
        assertArrayEquals(plain.asSlice(16, 60).toArray(ValueLayout.JAVA_BYTE),
                ring.asSlice(s1 + 10, 60).toArray(ValueLayout.JAVA_BYTE));
        assertEquals(70, ring.get(ValueLayout.JAVA_INT, v2.slotOffset(1) + io.flowstack.nativeio.Packet.TP2_LEN));

        // a checksummed frame that is not a super-frame: linear too, its request kept
        v2.put(new io.flowstack.nic.TxFrame().headers(headers, 0, 54).append(payload, 0, 100).checksum(34, 16));
        long s2 = v2.slotOffset(2) + 32;
        assertEquals(1, ring.get(ValueLayout.JAVA_BYTE, s2), "VIRTIO_NET_HDR_F_NEEDS_CSUM");
        assertEquals(0, ring.get(ValueLayout.JAVA_BYTE, s2 + 1), "VIRTIO_NET_HDR_GSO_NONE");
        assertEquals(154, ring.get(s16, s2 + 2), "hdr_len of a frame without segmentation");
        assertEquals(0, ring.get(s16, s2 + 4), "gso_size");
        assertEquals(34, ring.get(s16, s2 + 6), "csum_start");
        TxRing none = new TxRing(io.flowstack.nativeio.Packet.TPACKET_V2, ring, BLOCK, 2, FRAME);
        assertThrows(IllegalStateException.class, () -> none.put(f));
    }
}
