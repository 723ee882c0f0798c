package io.flowstack.nic.packet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.nativeio.Packet;
import org.junit.jupiter.api.Test;

/**
 * {@link PacketNic.Geometry} for any MTU, against the kernel's rules ({@code packet_set_ring}:
 * block size a multiple of the page size, frame size a multiple of 16 and at most the block size;
 * {@code tpacket_rcv}: a V3 block clamps frames to block size - 48, a V2 slot holds
 * {@code frame_size - macoff} bytes of frame).
 */
class RingGeometryTest {
    private static final int[] MTUS = {576, 1500, 4000, 9000, 16000, 65535};

    private static void kernelRules(PacketNic.Geometry g) {
        for (int block : new int[] {g.rxBlockSize(), g.txBlockSize()}) {
            assertEquals(0, block % 4096, "block size a multiple of the page: " + g);
        }
        assertEquals(0, g.rxFrameSize() % 16, g::toString);
        assertEquals(0, g.txFrameSize() % 16, g::toString);
        assertTrue(g.rxFrameSize() <= g.rxBlockSize(), g::toString);
        assertTrue(g.txFrameSize() <= g.txBlockSize(), g::toString);
        assertTrue(g.rxBlockCount() >= 2 && g.txBlockCount() >= 1, g::toString);
    }

    @Test
    void v2SlotsHoldAnMtuSizedFrameAndTxSlotsTheMtu() {
        for (int mtu : MTUS) {
            PacketNic.Geometry g = PacketNic.Geometry.of(mtu, PacketNic.Options.DEFAULT);
            kernelRules(g);
            assertEquals(Packet.TPACKET_V2, g.version());
            assertTrue(g.rxFrameSize() - PacketNic.Geometry.V2_MACOFF - g.vnetLen() >= mtu + 18, () -> mtu + ": " + g);
            assertTrue(g.txFrameSize() - Packet.TX_DATA_OFFSET_V2 >= mtu + 18, () -> mtu + ": " + g);
            assertTrue(g.rxBytes() >= 16L << 20, "at least the 16 MiB asked for");
            assertTrue(g.txBytes() <= PacketNic.MAX_TX_RING_BYTES, () -> mtu + ": " + g);
        }
        PacketNic.Geometry plain = PacketNic.Geometry.of(1500, PacketNic.Options.DEFAULT.withOffloads(false));
        assertEquals(1584, plain.rxFrameSize());
        assertEquals(2048, plain.txFrameSize());
        assertEquals(0, plain.vnetLen());
        PacketNic.Geometry vnet = PacketNic.Geometry.of(1500, PacketNic.Options.DEFAULT);
        assertEquals(1600, vnet.rxFrameSize(), "the virtio-net header moves the frame 10 bytes on");
        assertEquals(10, vnet.vnetLen());
        assertTrue(vnet.txFrameSize() - Packet.TX_DATA_OFFSET_V2 - 10 >= PacketNic.MAX_SUPER_FRAME,
                "with offloads a TX slot holds a super-frame");
        assertTrue(vnet.txBytes() <= PacketNic.MAX_TX_RING_BYTES);
    }

    @Test
    void v3BlocksHoldASuperFrameWhateverTheMtu() {
        for (int mtu : MTUS) {
            PacketNic.Geometry g = PacketNic.Geometry.of(mtu,
                    PacketNic.Options.DEFAULT.withRingVersion(Packet.TPACKET_V3));
            kernelRules(g);
            int maxFrameLen = g.rxBlockSize() - Packet.BLOCK_DESC_SIZE; // tpacket_rcv's clamp
            assertTrue(PacketNic.Geometry.V3_MACOFF + g.vnetLen() + PacketNic.MAX_SUPER_FRAME <= maxFrameLen,
                    g::toString);
            assertTrue(PacketNic.Geometry.V3_MACOFF + mtu + 18 <= maxFrameLen, g::toString);
            assertTrue(g.txFrameSize() - Packet.TX_DATA_OFFSET_V3 >= mtu + 18, () -> mtu + ": " + g);
        }
    }
}
