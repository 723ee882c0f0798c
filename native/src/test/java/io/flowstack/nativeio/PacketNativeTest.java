package io.flowstack.nativeio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/**
 * The AF_PACKET and ethtool bindings on sockets that are never bound (an AF_PACKET socket with
 * protocol 0 receives nothing), so nothing on the machine is disturbed. Needs CAP_NET_RAW (root).
 */
class PacketNativeTest {

    @Test
    void layoutsMatchTheKernelHeaders() {
        assertEquals(48, Packet.TX_DATA_OFFSET_V3, "TPACKET3_HDRLEN - sizeof(sockaddr_ll)");
        assertEquals(48, Packet.align(Packet.TPACKET3_HDR_SIZE));
        assertEquals(80, Packet.align(Packet.TPACKET3_HDRLEN));
        assertEquals(0x0300, Packet.ETH_P_ALL_BE);
    }

    @Test
    void theKernelReportsTheV3HeaderLengthAndTakesARing() {
        int fd = Packet.openSocket();
        try {
            // PACKET_HDRLEN takes the version as input (FRAME-IO §8 pitfall 2)
            assertEquals(Packet.TPACKET3_HDR_SIZE, Packet.getInt(fd, Packet.PACKET_HDRLEN, Packet.TPACKET_V3,
                    "PACKET_HDRLEN"));
            Packet.setInt(fd, Packet.PACKET_VERSION, Packet.TPACKET_V3, "PACKET_VERSION", "test");
            Packet.setRing(fd, Packet.PACKET_RX_RING, 1 << 16, 2, 2048, 1, "test");
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment ring = Libc.mmap(2 << 16, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_SHARED, fd, 0,
                        arena);
                assertEquals(Packet.TP_STATUS_KERNEL, ring.get(java.lang.foreign.ValueLayout.JAVA_INT,
                        Packet.BLOCK_STATUS), "a fresh block is the kernel's");
                assertEquals(0, Packet.fanout(fd), "in no fanout group");
            }
            NativeException busy = assertThrows(NativeException.class,
                    () -> Packet.setInt(fd, Packet.PACKET_VERSION, Packet.TPACKET_V2, "PACKET_VERSION", "test"));
            assertEquals(Errno.EBUSY, busy.errno(), "the version is fixed once a ring exists");
        } finally {
            Libc.close(fd);
        }
    }

    @Test
    void aBadRingNamesTheGeometry() {
        int fd = Packet.openSocket();
        try {
            Packet.setInt(fd, Packet.PACKET_VERSION, Packet.TPACKET_V3, "PACKET_VERSION", "test");
            NativeException e = assertThrows(NativeException.class,
                    () -> Packet.setRing(fd, Packet.PACKET_TX_RING, 4096, 2, 4008, 0, "veth9"));
            assertEquals(Errno.EINVAL, e.errno());
            assertEquals("PACKET_TX_RING veth9 (block_size 4096, block_nr 2, frame_size 4008, frame_nr 2, "
                    + "retire_blk_tov 0 ms): EINVAL (Invalid argument)", e.getMessage());
            NativeException fanout = assertThrows(NativeException.class,
                    () -> Packet.joinFanout(fd, 0, Packet.PACKET_FANOUT_HASH | Packet.PACKET_FANOUT_FLAG_UNIQUEID,
                            "veth9"));
            assertEquals(Errno.EINVAL, fanout.errno(), "an unbound socket cannot join a fanout group");
            assertTrue(fanout.getMessage().startsWith("PACKET_FANOUT veth9 (group 0, type_flags 0x2000)"),
                    fanout.getMessage());
        } finally {
            Libc.close(fd);
        }
    }

    @Test
    void socketErrorReadsWithoutThrowing() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment scratch = arena.allocate(8, 8);
            int fd = Packet.openSocket();
            try {
                assertEquals(0, Libc.socketError(fd, scratch), "no pending error");
            } finally {
                Libc.close(fd);
            }
            assertEquals(-Errno.EBADF, Libc.socketError(fd, scratch));
        }
    }

    @Test
    void ethtoolReadsOffloadsAndNamesAMissingDevice() {
        assertTrue(Ethtool.get("lo", Ethtool.Feature.TX_CSUM), "loopback checksums in software: tx-checksumming on");
        NativeException e = assertThrows(NativeException.class, () -> Ethtool.get("fsnone0", Ethtool.Feature.GRO));
        assertEquals(Errno.ENODEV, e.errno());
        assertEquals("ETHTOOL_GGRO fsnone0: ENODEV (No such device): no such device", e.getMessage());
    }
}
