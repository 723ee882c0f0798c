package io.flowstack.nic;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/**
 * {@link VnetGather}: the iovecs point at [a 10-byte {@code virtio_net_hdr}, the headers, each
 * slice] where they are, the header says what the frame asks for (little-endian fields at the
 * {@code struct virtio_net_hdr} offsets), and one {@code writev} into a pipe (no privileges, no
 * network device, {@link TestFifo}) delivers exactly those bytes in that order.
 *
 * <p>Owned by: the JUnit test thread.
 */
class VnetGatherTest {
    private static final ValueLayout.OfShort LE =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG;

    private static MemorySegment pattern(Arena arena, int len, int seed) {
        MemorySegment s = arena.allocate(len);
        for (int i = 0; i < len; i++) {
            s.set(ValueLayout.JAVA_BYTE, i, (byte) (seed + i * 7));
        }
        return s;
    }

    @Test
    void theIovecsPointAtTheHeaderTheHeadersAndTheSlices() {
        try (Arena arena = Arena.ofConfined()) {
            VnetGather g = new VnetGather(arena);
            MemorySegment head = pattern(arena, 100, 1);
            MemorySegment a = pattern(arena, 3000, 2);
            MemorySegment b = pattern(arena, 2000, 3);
            TxFrame f = new TxFrame().headers(head, 10, 54).append(a, 100, 2896).append(b, 0, 1448)
                    .checksum(34, 16).gso(TxFrame.GSO_TCPV4, 1448);
            assertEquals(4, g.prepare(f));
            MemorySegment iov = g.iov();
            assertEquals(g.header().address(), iov.get(LONG, 0));
            assertEquals(10, iov.get(LONG, 8), "struct virtio_net_hdr is 10 bytes");
            assertEquals(head.address() + 10, iov.get(LONG, 16));
            assertEquals(54, iov.get(LONG, 24));
            assertEquals(a.address() + 100, iov.get(LONG, 32));
            assertEquals(2896, iov.get(LONG, 40));
            assertEquals(b.address(), iov.get(LONG, 48));
            assertEquals(1448, iov.get(LONG, 56));
            MemorySegment h = g.header();
            assertEquals(1, h.get(ValueLayout.JAVA_BYTE, 0), "flags: NEEDS_CSUM");
            assertEquals(1, h.get(ValueLayout.JAVA_BYTE, 1), "gso_type: TCPV4");
            assertEquals(54, h.get(LE, 2), "hdr_len");
            assertEquals(1448, h.get(LE, 4), "gso_size");
            assertEquals(34, h.get(LE, 6), "csum_start");
            assertEquals(16, h.get(LE, 8), "csum_offset");

            // the next frame reuses the same memory: no slices, no offloads
            assertEquals(2, g.prepare(new TxFrame().headers(head, 0, 60)));
            assertEquals(head.address(), iov.get(LONG, 16));
            assertEquals(60, iov.get(LONG, 24));
            assertEquals(0, h.get(ValueLayout.JAVA_BYTE, 0), "flags");
            assertEquals(0, h.get(ValueLayout.JAVA_BYTE, 1), "gso_type");
            assertEquals(60, h.get(LE, 2), "hdr_len");
            assertEquals(0, h.get(LE, 4), "gso_size");
            assertEquals(0, h.get(LE, 6), "csum_start");
            assertEquals(0, h.get(LE, 8), "csum_offset");
        }
    }

    @Test
    void oneWritevDeliversHeaderHeadersAndSlicesInOrder() throws Exception {
        try (TestFifo pipe = TestFifo.open(); Arena arena = Arena.ofConfined()) {
            VnetGather g = new VnetGather(arena);
            MemorySegment head = pattern(arena, 54, 9);
            MemorySegment a = pattern(arena, 1000, 4);
            MemorySegment b = pattern(arena, 500, 5);
            TxFrame f = new TxFrame().headers(head, 0, 54).append(a, 0, 1000).append(b, 100, 400)
                    .checksum(34, 16).gso(TxFrame.GSO_TCPV4, 700);
            assertEquals(10 + 54 + 1000 + 400, g.write(pipe.fd(), f));
            byte[] got = pipe.read(10 + 1454, arena);
            MemorySegment want = arena.allocate(10 + 1454);
            f.putVnetHeader(want, 0);
            f.copyTo(want, 10);
            assertArrayEquals(want.toArray(ValueLayout.JAVA_BYTE), got);
        }
    }

    @Test
    void heapMemoryOrASliceOutsideItsSegmentIsACallersBug() {
        try (Arena arena = Arena.ofConfined()) {
            VnetGather g = new VnetGather(arena);
            MemorySegment head = arena.allocate(54);
            assertThrows(IllegalArgumentException.class,
                    () -> g.prepare(new TxFrame().headers(MemorySegment.ofArray(new byte[54]), 0, 54)));
            assertThrows(IndexOutOfBoundsException.class,
                    () -> g.prepare(new TxFrame().headers(head, 0, 54).append(head, 40, 20)));
        }
    }
}
