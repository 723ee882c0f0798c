package io.flowstack.nic.packet;

import static io.flowstack.nativeio.Packet.SLL_PKTTYPE;
import static io.flowstack.nativeio.Packet.TP2_LEN;
import static io.flowstack.nativeio.Packet.TP2_MAC;
import static io.flowstack.nativeio.Packet.TP2_SNAPLEN;
import static io.flowstack.nativeio.Packet.TP2_STATUS;
import static io.flowstack.nativeio.Packet.TP2_VLAN_TCI;
import static io.flowstack.nativeio.Packet.TPACKET2_SLL;
import static io.flowstack.nativeio.Packet.TP_STATUS_COPY;
import static io.flowstack.nativeio.Packet.TP_STATUS_CSUMNOTREADY;
import static io.flowstack.nativeio.Packet.TP_STATUS_CSUM_VALID;
import static io.flowstack.nativeio.Packet.TP_STATUS_KERNEL;
import static io.flowstack.nativeio.Packet.TP_STATUS_LOSING;
import static io.flowstack.nativeio.Packet.TP_STATUS_USER;
import static io.flowstack.nativeio.Packet.TP_STATUS_VLAN_VALID;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.nativeio.Errno;
import io.flowstack.nativeio.Packet;
import io.flowstack.nic.FrameBatch;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayDeque;
import java.util.Deque;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The TPACKET_V2 slot walk over a synthetic ring laid out as {@code tpacket_rcv} lays it out
 * (slots of {@code tp_frame_size} that never straddle a block, the frame at {@code hdr + tp_mac},
 * a status per slot); the test plays the kernel, including the socket's receive queue that holds
 * the whole frames of {@code TP_STATUS_COPY} slots.
 */
class FrameRxRingTest {
    /** 4 KiB blocks of two 1,600-byte slots (896 bytes of each block unused, as the kernel does). */
    private static final int BLOCK = 4096;
    private static final int BLOCKS = 4;
    private static final int FRAME = 1600;
    private static final int SLOTS = BLOCKS * 2;
    /** tpacket_rcv's macoff for a 14-byte MAC header in V2: TPACKET_ALIGN(52 + 16) - 14. */
    private static final int MAC = 66;

    private Arena arena;
    private MemorySegment ring;
    /** The socket's receive queue: whole frames of COPY slots, in order. */
    private Deque<byte[]> queued;
    private FrameRxRing rx;

    @BeforeEach
    void setUp() {
        arena = Arena.ofConfined();
        ring = arena.allocate((long) BLOCK * BLOCKS, 4096);
        queued = new ArrayDeque<>();
        rx = new FrameRxRing(ring, BLOCK, BLOCKS, FRAME, this::readQueued);
    }

    @AfterEach
    void tearDown() {
        arena.close();
    }

    private int readQueued(MemorySegment slot, int capacity) {
        byte[] f = queued.poll();
        if (f == null) {
            return -Errno.EAGAIN;
        }
        int n = Math.min(f.length, capacity); // read() cuts a datagram to the buffer
        MemorySegment.copy(f, 0, slot, ValueLayout.JAVA_BYTE, 0, n);
        return n;
    }

    private static byte[] bytes(int size, int seed) {
        byte[] d = new byte[size];
        for (int i = 0; i < size; i++) {
            d[i] = (byte) (seed * 31 + i);
        }
        return d;
    }

    private long offset(int slot) {
        return (long) (slot / 2) * BLOCK + (long) (slot % 2) * FRAME;
    }

    /** Puts a frame into slot {@code slot} as the kernel does and publishes it. */
    private void put(int slot, byte[] data, int status, int pkttype, int vlanTci) {
        long hdr = offset(slot);
        int stored = Math.min(data.length, FRAME - MAC);
        if (stored < data.length) {
            status |= TP_STATUS_COPY;
            queued.add(data);
        }
        ring.set(ValueLayout.JAVA_INT, hdr + TP2_LEN, data.length);
        ring.set(ValueLayout.JAVA_INT, hdr + TP2_SNAPLEN, stored);
        ring.set(ValueLayout.JAVA_SHORT, hdr + TP2_MAC, (short) MAC);
        ring.set(ValueLayout.JAVA_SHORT, hdr + TP2_VLAN_TCI, (short) vlanTci);
        ring.set(ValueLayout.JAVA_BYTE, hdr + TPACKET2_SLL + SLL_PKTTYPE, (byte) pkttype);
        MemorySegment.copy(data, 0, ring, ValueLayout.JAVA_BYTE, hdr + MAC, stored);
        ring.set(ValueLayout.JAVA_INT, hdr + TP2_STATUS, status);
    }

    private void put(int slot, byte[] data) {
        put(slot, data, TP_STATUS_USER, Packet.PACKET_HOST, 0);
    }

    private int status(int slot) {
        return ring.get(ValueLayout.JAVA_INT, offset(slot) + TP2_STATUS);
    }

    private static byte[] slot(FrameBatch b, int i) {
        return b.slot(i).asSlice(0, b.length(i)).toArray(ValueLayout.JAVA_BYTE);
    }

    @Test
    void nothingWhileTheKernelOwnsTheSlot() {
        FrameBatch batch = new FrameBatch(arena, 8, 2048);
        assertFalse(rx.ready());
        assertEquals(0, rx.drain(batch));
        assertEquals(0, batch.count());
        assertEquals(SLOTS, rx.frameCount());
        assertEquals(Packet.TPACKET_V2, rx.version());
    }

    @Test
    void eachFrameIsTakenAsSoonAsItsSlotIsPublishedAndReturned() {
        byte[] a = bytes(60, 1);
        put(0, a);
        assertTrue(rx.ready());
        FrameBatch batch = new FrameBatch(arena, 8, 2048);
        assertEquals(1, rx.drain(batch));
        assertArrayEquals(a, slot(batch, 0));
        assertEquals(TP_STATUS_KERNEL, status(0));
        assertFalse(rx.ready());
        byte[] b = bytes(1514, 2);
        put(1, b);
        assertEquals(1, rx.drain(batch));
        assertArrayEquals(b, slot(batch, 0));
        assertEquals(1514, rx.lastBytes());
        assertEquals(2, rx.head());
        assertEquals(offset(2), rx.slotOffset(2), "slot 2 starts the second block, not at 2 x 1600");
    }

    @Test
    void slotsAreTakenInRingOrderAcrossBlocksAndWrap() {
        FrameBatch batch = new FrameBatch(arena, 3, 2048);
        int seed = 0;
        for (int round = 0; round < 3; round++) {
            byte[][] frames = new byte[SLOTS][];
            for (int i = 0; i < SLOTS; i++) {
                frames[i] = bytes(64 + i, seed++);
                put(i, frames[i]);
            }
            int taken = 0;
            while (taken < SLOTS) {
                int n = rx.drain(batch);
                assertTrue(n > 0 && n <= 3);
                for (int j = 0; j < n; j++) {
                    assertArrayEquals(frames[taken + j], slot(batch, j), "round " + round + " frame " + (taken + j));
                }
                taken += n;
            }
            for (int i = 0; i < SLOTS; i++) {
                assertEquals(TP_STATUS_KERNEL, status(i));
            }
        }
        assertEquals(0, rx.head());
    }

    @Test
    void stopsAtTheFirstSlotTheKernelStillOwns() {
        put(0, bytes(70, 1));
        put(2, bytes(80, 3)); // slot 1 not yet published
        FrameBatch batch = new FrameBatch(arena, 8, 2048);
        assertEquals(1, rx.drain(batch));
        assertEquals(0, rx.drain(batch));
        put(1, bytes(75, 2));
        assertEquals(2, rx.drain(batch));
        assertEquals(3, rx.head());
    }

    @Test
    void aFrameLongerThanTheSlotIsReadWholeFromTheSocket() {
        byte[] small = bytes(100, 1);
        byte[] superFrame = bytes(PacketNic.MAX_SUPER_FRAME, 2); // a 64 KiB GSO frame, COPY
        byte[] after = bytes(200, 3);
        put(0, small);
        put(1, superFrame, TP_STATUS_USER | TP_STATUS_CSUMNOTREADY, Packet.PACKET_HOST, 0);
        put(2, after);
        FrameBatch batch = new FrameBatch(arena, 8, PacketNic.MAX_SUPER_FRAME);
        assertEquals(3, rx.drain(batch));
        assertArrayEquals(small, slot(batch, 0));
        assertArrayEquals(superFrame, slot(batch, 1));
        assertEquals(FrameBatch.RX_CSUM_VALID | FrameBatch.RX_CSUM_PARTIAL, batch.flags(1));
        assertArrayEquals(after, slot(batch, 2));
        assertEquals(1, rx.copied());
        assertEquals(0, rx.truncated());
        assertTrue(queued.isEmpty());
        assertEquals(100 + PacketNic.MAX_SUPER_FRAME + 200, rx.lastBytes());
    }

    @Test
    void aCopiedFrameLongerThanTheBatchSlotIsConsumedAndCountedAsTruncated() {
        put(0, bytes(5000, 1));
        byte[] next = bytes(60, 2);
        put(1, next);
        put(2, bytes(3000, 3));
        FrameBatch batch = new FrameBatch(arena, 8, 2048);
        assertEquals(1, rx.drain(batch));
        assertArrayEquals(next, slot(batch, 0));
        assertEquals(2, rx.truncated());
        assertEquals(2, rx.copied());
        assertTrue(queued.isEmpty(), "both whole frames were taken off the socket: the queue stays in step");
    }

    @Test
    void aCopySlotWithoutAQueuedFrameIsCountedAndSkipped() {
        put(0, bytes(60, 1), TP_STATUS_USER | TP_STATUS_COPY, Packet.PACKET_HOST, 0);
        FrameBatch batch = new FrameBatch(arena, 8, 2048);
        assertEquals(0, rx.drain(batch));
        assertEquals(1, rx.truncated());
        assertEquals(TP_STATUS_KERNEL, status(0));
    }

    @Test
    void checksumStatusOutgoingVlanAndLosingAsInTheBlockRing() {
        put(0, bytes(60, 1), TP_STATUS_USER | TP_STATUS_CSUMNOTREADY, Packet.PACKET_HOST, 0);
        put(1, bytes(61, 2), TP_STATUS_USER | TP_STATUS_CSUM_VALID | TP_STATUS_LOSING, Packet.PACKET_HOST, 0);
        put(2, bytes(62, 3), TP_STATUS_USER, Packet.PACKET_OUTGOING, 0);
        put(3, bytes(63, 4), TP_STATUS_USER | TP_STATUS_VLAN_VALID, Packet.PACKET_HOST, 100);
        put(4, bytes(64, 5), TP_STATUS_USER | TP_STATUS_VLAN_VALID, Packet.PACKET_HOST, 0x6000);
        put(5, bytes(65, 6), TP_STATUS_USER, Packet.PACKET_OTHERHOST, 0);
        FrameBatch batch = new FrameBatch(arena, 8, 2048);
        for (int i = 0; i < 8; i++) {
            batch.frame(i, 1, FrameBatch.RX_CSUM_VALID, 0); // stale flags must not survive
        }
        assertEquals(4, rx.drain(batch));
        assertEquals(FrameBatch.RX_CSUM_VALID | FrameBatch.RX_CSUM_PARTIAL, batch.flags(0));
        assertEquals(FrameBatch.RX_CSUM_VALID, batch.flags(1));
        assertEquals(0, batch.flags(2));
        assertEquals(64, batch.length(2));
        assertEquals(0, batch.flags(3));
        assertEquals(1, rx.csumNotReady());
        assertEquals(1, rx.csumValid());
        assertEquals(1, rx.outgoing());
        assertEquals(1, rx.vlanTagged());
        for (int i = 0; i < 6; i++) {
            assertEquals(TP_STATUS_KERNEL, status(i));
        }
    }

    @Test
    void aFrameOffsetOutsideTheSlotIsCountedAndTheSlotReturned() {
        put(0, bytes(60, 1));
        ring.set(ValueLayout.JAVA_SHORT, offset(0) + TP2_MAC, (short) (FRAME - 10));
        byte[] b = bytes(60, 2);
        put(1, b);
        FrameBatch batch = new FrameBatch(arena, 8, 2048);
        assertEquals(1, rx.drain(batch));
        assertArrayEquals(b, slot(batch, 0));
        assertEquals(1, rx.corruptBlocks());
        assertEquals(TP_STATUS_KERNEL, status(0));
    }

    @Test
    void geometryIsChecked() {
        FrameRxRing.CopyReader none = (s, c) -> -Errno.EAGAIN;
        assertThrows(IllegalArgumentException.class, () -> new FrameRxRing(ring, BLOCK, BLOCKS + 1, FRAME, none));
        assertThrows(IllegalArgumentException.class, () -> new FrameRxRing(ring, BLOCK, BLOCKS, 1601, none));
        assertThrows(IllegalArgumentException.class, () -> new FrameRxRing(ring, BLOCK, BLOCKS, 48, none));
        assertThrows(IllegalArgumentException.class, () -> new FrameRxRing(ring, BLOCK, BLOCKS, 8192, none));
        assertThrows(IllegalArgumentException.class, () -> new FrameRxRing(ring.asSlice(2), BLOCK, 1, FRAME, none));
    }

    @Test
    void withAVnetHeaderTheSegmentSizeOfASuperFrameIsTakenFromIt() {
        // tpacket_rcv with PACKET_VNET_HDR: the frame 10 bytes further on, the header just before it
        int mac = MAC + 10;
        FrameRxRing.CopyReader copier = new FrameRxRing.CopyReader() {
            @Override
            public int read(MemorySegment slot, int capacity) {
                return readQueued(slot, capacity);
            }

            @Override
            public int lastGsoSize() {
                return 1448;
            }
        };
        FrameRxRing v = new FrameRxRing(ring, BLOCK, BLOCKS, FRAME, copier, 10);
        byte[] a = bytes(1000, 1);
        long hdr = offset(0);
        ring.set(ValueLayout.JAVA_INT, hdr + TP2_LEN, a.length);
        ring.set(ValueLayout.JAVA_INT, hdr + TP2_SNAPLEN, a.length);
        ring.set(ValueLayout.JAVA_SHORT, hdr + TP2_MAC, (short) mac);
        ring.set(ValueLayout.JAVA_BYTE, hdr + mac - 10 + 1, (byte) 1); // gso_type TCPV4 (a GRO frame)
        ring.set(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), hdr + mac - 10 + 4,
                (short) 500);
        MemorySegment.copy(a, 0, ring, ValueLayout.JAVA_BYTE, hdr + mac, a.length);
        ring.set(ValueLayout.JAVA_INT, hdr + TP2_STATUS, TP_STATUS_USER);
        queued.add(bytes(5000, 2));
        long h1 = offset(1);
        ring.set(ValueLayout.JAVA_INT, h1 + TP2_LEN, 5000);
        ring.set(ValueLayout.JAVA_INT, h1 + TP2_SNAPLEN, FRAME - mac);
        ring.set(ValueLayout.JAVA_SHORT, h1 + TP2_MAC, (short) mac);
        ring.set(ValueLayout.JAVA_INT, h1 + TP2_STATUS, TP_STATUS_USER | TP_STATUS_COPY);
        FrameBatch batch = new FrameBatch(arena, 8, 8192);
        assertEquals(2, v.drain(batch));
        assertArrayEquals(a, slot(batch, 0));
        assertEquals(500, batch.gsoSize(0));
        assertEquals(5000, batch.length(1));
        assertEquals(1448, batch.gsoSize(1), "from the header read with the whole frame");
    }
}
