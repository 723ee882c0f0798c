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
 * a million frames through the RX block walk and the TX slot handshake, with the test playing
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
}
