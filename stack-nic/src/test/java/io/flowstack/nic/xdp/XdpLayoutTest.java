package io.flowstack.nic.xdp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/**
 * The AF_XDP byte layouts (linux/if_xdp.h, x86_64), byte by byte: what the writers put where, what
 * the readers take from where, and the constants (checked against the uapi header with
 * offsetof/sizeof; docs/AF_XDP.md).
 */
class XdpLayoutTest {
    @Test
    void constants() {
        assertEquals(44, XdpLayout.AF_XDP);
        assertEquals(283, XdpLayout.SOL_XDP);
        assertEquals(1, XdpLayout.XDP_MMAP_OFFSETS);
        assertEquals(2, XdpLayout.XDP_RX_RING);
        assertEquals(3, XdpLayout.XDP_TX_RING);
        assertEquals(4, XdpLayout.XDP_UMEM_REG);
        assertEquals(5, XdpLayout.XDP_UMEM_FILL_RING);
        assertEquals(6, XdpLayout.XDP_UMEM_COMPLETION_RING);
        assertEquals(7, XdpLayout.XDP_STATISTICS);
        assertEquals(8, XdpLayout.XDP_OPTIONS);
        assertEquals(2, XdpLayout.XDP_COPY);
        assertEquals(4, XdpLayout.XDP_ZEROCOPY);
        assertEquals(8, XdpLayout.XDP_USE_NEED_WAKEUP);
        assertEquals(0x80000000L, XdpLayout.XDP_PGOFF_TX_RING);
        assertEquals(0x100000000L, XdpLayout.XDP_UMEM_PGOFF_FILL_RING);
        assertEquals(0x180000000L, XdpLayout.XDP_UMEM_PGOFF_COMPLETION_RING);
        assertEquals(16, XdpLayout.SOCKADDR_XDP_SIZE);
        assertEquals(32, XdpLayout.UMEM_REG_SIZE);
        assertEquals(128, XdpLayout.MMAP_OFFSETS_SIZE);
        assertEquals(16, XdpLayout.DESC_SIZE);
        assertEquals(48, XdpLayout.STATISTICS_SIZE);
    }

    @Test
    void sockaddrXdpBytes() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = XdpLayout.sockaddrXdp(arena.allocate(16), XdpLayout.XDP_COPY | XdpLayout.XDP_USE_NEED_WAKEUP,
                    0x0102_0304, 5);
            byte[] b = s.toArray(ValueLayout.JAVA_BYTE);
            assertEquals("2c000a0004030201" + "05000000" + "00000000", hex(b));
        }
    }

    @Test
    void umemRegBytes() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment umem = arena.allocate(8192, 4096);
            MemorySegment s = XdpLayout.umemReg(arena.allocate(32), umem, 2048);
            assertEquals(umem.address(), s.get(ValueLayout.JAVA_LONG, 0));
            assertEquals(8192L, s.get(ValueLayout.JAVA_LONG, 8));
            assertEquals(2048, s.get(ValueLayout.JAVA_INT, 16));
            assertEquals(0, s.get(ValueLayout.JAVA_INT, 20), "headroom");
            assertEquals(0, s.get(ValueLayout.JAVA_INT, 24), "flags: aligned chunks");
            assertEquals(0, s.get(ValueLayout.JAVA_INT, 28), "tx_metadata_len");
        }
    }

    @Test
    void mmapOffsetsAndStatisticsAreRead() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment o = arena.allocate(128);
            for (int i = 0; i < 16; i++) {
                o.set(ValueLayout.JAVA_LONG, 8L * i, 100 + i);
            }
            assertEquals(new XdpLayout.RingOffsets(100, 101, 102, 103), XdpLayout.RingOffsets.read(o, XdpLayout.OFF_RX));
            assertEquals(new XdpLayout.RingOffsets(104, 105, 106, 107), XdpLayout.RingOffsets.read(o, XdpLayout.OFF_TX));
            assertEquals(new XdpLayout.RingOffsets(108, 109, 110, 111), XdpLayout.RingOffsets.read(o, XdpLayout.OFF_FILL));
            assertEquals(new XdpLayout.RingOffsets(112, 113, 114, 115),
                    XdpLayout.RingOffsets.read(o, XdpLayout.OFF_COMPLETION));
            assertEquals(114 + 64 * 8L, XdpLayout.RingOffsets.read(o, XdpLayout.OFF_COMPLETION).mapLength(64, 8));
            MemorySegment st = arena.allocate(48);
            for (int i = 0; i < 6; i++) {
                st.set(ValueLayout.JAVA_LONG, 8L * i, 10 * (i + 1));
            }
            XdpLayout.Statistics s = XdpLayout.Statistics.read(st);
            assertEquals(new XdpLayout.Statistics(10, 20, 30, 40, 50, 60), s);
            assertEquals(new XdpLayout.Statistics(20, 40, 60, 80, 100, 120), s.plus(s));
        }
    }

    @Test
    void chunkSizeFollowsTheMtu() {
        assertEquals(2048, XdpNic.chunkSize(1500));
        assertEquals(2048, XdpNic.chunkSize(2048 - 256 - 18));
        assertEquals(4096, XdpNic.chunkSize(2048 - 256 - 17));
        assertEquals(4096, XdpNic.chunkSize(3822));
        assertThrows(IllegalArgumentException.class, () -> XdpNic.chunkSize(3823));
    }

    private static String hex(byte[] b) {
        StringBuilder s = new StringBuilder();
        for (byte x : b) {
            s.append(String.format("%02x", x & 0xff));
        }
        return s.toString();
    }

    static {
        assert ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;
    }
}
