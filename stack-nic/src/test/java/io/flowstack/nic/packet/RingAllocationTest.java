package io.flowstack.nic.packet;

import static io.flowstack.nativeio.Packet.BLOCK_NUM_PKTS;
import static io.flowstack.nativeio.Packet.BLOCK_OFFSET_TO_FIRST_PKT;
import static io.flowstack.nativeio.Packet.BLOCK_STATUS;
import static io.flowstack.nativeio.Packet.TP3_LEN;
import static io.flowstack.nativeio.Packet.TP3_MAC;
import static io.flowstack.nativeio.Packet.TP3_NEXT_OFFSET;
import static io.flowstack.nativeio.Packet.TP3_SNAPLEN;
import static io.flowstack.nativeio.Packet.TP3_STATUS;
import static io.flowstack.nativeio.Packet.TP_STATUS_AVAILABLE;
import static io.flowstack.nativeio.Packet.TP_STATUS_USER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.nic.FrameBatch;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

/**
 * The ring walks allocate nothing on the Java heap in the steady state (DESIGN.md "Memory"):
 * a million frames through the RX block walk (V3) or slot walk (V2, with whole-frame copies) and
 * the TX slot handshake, with the test playing
 * the kernel, allocate (almost) no bytes.
 */
class RingAllocationTest {
    private static final int BLOCK = 1 << 16;
    private static final int BLOCKS = 8;
    private static final int FRAMES_PER_BLOCK = 32;
    private static final int MAC = 82;

    private static long allocated() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
    }

    @Test
    void receiveAndTransmitAllocateNothing() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment rxMem = arena.allocate((long) BLOCK * BLOCKS, 4096);
            MemorySegment txMem = arena.allocate((long) BLOCK * BLOCKS, 4096);
            RxRing rx = new RxRing(rxMem, BLOCK, BLOCKS);
            TxRing tx = new TxRing(txMem, BLOCK, BLOCKS, 2048);
            FrameBatch batch = new FrameBatch(arena, 32, 2048);
            // lay out every block once; the "kernel" then only flips the status words
            for (int b = 0; b < BLOCKS; b++) {
                long base = (long) b * BLOCK;
                long hdr = base + 48;
                for (int f = 0; f < FRAMES_PER_BLOCK; f++) {
                    rxMem.set(ValueLayout.JAVA_INT, hdr + TP3_NEXT_OFFSET, 1600);
                    rxMem.set(ValueLayout.JAVA_INT, hdr + TP3_SNAPLEN, 1514);
                    rxMem.set(ValueLayout.JAVA_INT, hdr + TP3_LEN, 1514);
                    rxMem.set(ValueLayout.JAVA_INT, hdr + TP3_STATUS, TP_STATUS_USER);
                    rxMem.set(ValueLayout.JAVA_SHORT, hdr + TP3_MAC, (short) MAC);
                    hdr += 1600;
                }
                rxMem.set(ValueLayout.JAVA_INT, base + BLOCK_NUM_PKTS, FRAMES_PER_BLOCK);
                rxMem.set(ValueLayout.JAVA_INT, base + BLOCK_OFFSET_TO_FIRST_PKT, 48);
            }
            long frames = run(rx, tx, batch, rxMem, txMem, 50_000); // warm up: let C2 compile
            long before = allocated();
            frames += run(rx, tx, batch, rxMem, txMem, 1_000_000);
            long bytes = allocated() - before;
            assertTrue(frames > 1_000_000);
            assertTrue(bytes < 4096, "allocated " + bytes + " bytes for a million frames each way");
            assertEquals(0, rx.truncated() + rx.corruptBlocks());
        }
    }

    /** Moves at least {@code n} frames through both rings; returns the frames received. */
    private static long run(RxRing rx, TxRing tx, FrameBatch batch, MemorySegment rxMem, MemorySegment txMem, int n) {
        long got = 0;
        int block = 0;
        while (got < n) {
            // kernel: hand over the next block when the walk waits for it
            if ((rx.blockStatus(block) & TP_STATUS_USER) == 0) {
                rxMem.set(ValueLayout.JAVA_INT, (long) block * BLOCK + BLOCK_STATUS, TP_STATUS_USER);
                block = (block + 1) % BLOCKS;
            }
            int k = rx.drain(batch);
            got += k;
            for (int i = 0; i < k; i++) {
                if (!tx.headFree()) {
                    // kernel: every slot sent
                    for (int s = 0; s < tx.frameCount(); s++) {
                        txMem.set(ValueLayout.JAVA_INT, tx.slotOffset(s) + TP3_STATUS, TP_STATUS_AVAILABLE);
                    }
                }
                tx.put(batch.slot(i), 0, batch.length(i));
            }
        }
        return got;
    }

    /**
     * The V2 slot walk and a V2 TX ring: a million frames each way, every eighth of them a
     * 9,000-byte frame longer than its 2 KiB slot, read whole through the {@link FrameRxRing.CopyReader}
     * (the socket's {@code read} in production), allocate (almost) nothing.
     */
    @Test
    void v2ReceiveWithCopiesAndTransmitAllocateNothing() {
        try (Arena arena = Arena.ofConfined()) {
            int frame = 2048;
            MemorySegment rxMem = arena.allocate((long) BLOCK * BLOCKS, 4096);
            MemorySegment txMem = arena.allocate((long) BLOCK * BLOCKS, 4096);
            MemorySegment big = arena.allocate(9000);
            FrameRxRing rx = new FrameRxRing(rxMem, BLOCK, BLOCKS, frame, (slot, capacity) -> {
                int n = Math.min(9000, capacity);
                MemorySegment.copy(big, 0, slot, 0, n);
                return n;
            });
            TxRing tx = new TxRing(io.flowstack.nativeio.Packet.TPACKET_V2, txMem, BLOCK, BLOCKS, 16384);
            FrameBatch batch = new FrameBatch(arena, 32, 9216);
            for (int s = 0; s < rx.frameCount(); s++) {
                long hdr = rx.slotOffset(s);
                boolean copy = s % 8 == 7;
                rxMem.set(ValueLayout.JAVA_INT, hdr + io.flowstack.nativeio.Packet.TP2_LEN, copy ? 9000 : 1514);
                rxMem.set(ValueLayout.JAVA_INT, hdr + io.flowstack.nativeio.Packet.TP2_SNAPLEN, copy ? frame - 66 : 1514);
                rxMem.set(ValueLayout.JAVA_SHORT, hdr + io.flowstack.nativeio.Packet.TP2_MAC, (short) 66);
            }
            long frames = runV2(rx, tx, rxMem, txMem, batch, 50_000); // warm up: let C2 compile
            long before = allocated();
            frames += runV2(rx, tx, rxMem, txMem, batch, 1_000_000);
            long bytes = allocated() - before;
            assertTrue(frames > 1_000_000);
            assertTrue(bytes < 4096, "allocated " + bytes + " bytes for a million frames each way");
            assertEquals(0, rx.truncated() + rx.corruptBlocks());
            assertTrue(rx.copied() > 100_000, "copied " + rx.copied());
        }
    }

    private static long runV2(FrameRxRing rx, TxRing tx, MemorySegment rxMem, MemorySegment txMem, FrameBatch batch,
                              int n) {
        long got = 0;
        while (got < n) {
            // kernel: publish every slot the walk has returned
            for (int s = 0; s < rx.frameCount(); s++) {
                long at = rx.slotOffset(s) + io.flowstack.nativeio.Packet.TP2_STATUS;
                if (rxMem.get(ValueLayout.JAVA_INT, at) == 0) {
                    rxMem.set(ValueLayout.JAVA_INT, at,
                            TP_STATUS_USER | (s % 8 == 7 ? io.flowstack.nativeio.Packet.TP_STATUS_COPY : 0));
                }
            }
            int k;
            while ((k = rx.drain(batch)) > 0) {
                got += k;
                for (int i = 0; i < k; i++) {
                    if (!tx.headFree()) {
                        for (int s = 0; s < tx.frameCount(); s++) {
                            txMem.set(ValueLayout.JAVA_INT, tx.slotOffset(s), TP_STATUS_AVAILABLE); // V2 status @0
                        }
                    }
                    tx.put(batch.slot(i), 0, batch.length(i));
                }
            }
        }
        return got;
    }
}
