package io.flowstack.core.netisr;

import io.flowstack.core.stats.Stat;
import io.flowstack.nic.FrameBatch;
import java.lang.foreign.MemorySegment;

/**
 * The frames of one NIC read into the netisr's input: a UDP super-frame is cut into its
 * datagrams ({@link UdpSuperFrames}), every other frame (a TCP super-frame is one segment) goes
 * to {@link Netisr#inputFrame} with its interface and per-frame flags. One bad frame never costs
 * the rest of the batch: an exception is counted as an internal error and the next frame goes on.
 *
 * <p>Owned by: its netisr thread. Allocation-free.
 */
final class RxBatchInput {
    private final Netisr n;
    private final UdpSuperFrames udpSuperFrames;

    RxBatchInput(Netisr n, UdpSuperFrames udpSuperFrames) {
        this.n = n;
        this.udpSuperFrames = udpSuperFrames;
    }

    /** Feeds frames {@code 0..count-1} of {@code batch}, read from interface {@code ifIndex}, to input. */
    void input(int ifIndex, FrameBatch batch, int count) {
        for (int i = 0; i < count; i++) {
            try {
                MemorySegment f = batch.slot(i);
                int len = batch.length(i);
                int gso = batch.gsoSize(i);
                if (gso != 0) {
                    n.counters().inc(Stat.RX_SUPER_FRAMES);
                    if (UdpSuperFrames.isUdpSuperFrame(f, 0, len, gso)) {
                        udpSuperFrames.split(ifIndex, f, 0, len, gso, batch.flags(i));
                        continue;
                    }
                }
                n.inputFrame(ifIndex, f, 0, len, batch.flags(i), gso);
            } catch (Throwable t) {
                n.internalError(t); // one bad frame must not cost the rest of the batch
            }
        }
    }
}
