package io.flowstack.core.netisr;

import io.flowstack.core.stats.Stat;
import io.flowstack.nic.FrameBatch;
import java.lang.foreign.MemorySegment;

/**
 * The frames of one NIC read into the netisr's input: for a queue that asks for it, consecutive
 * TCP segments are first coalesced into super-frames ({@link SoftGro}); a UDP super-frame is cut
 * into its datagrams ({@link UdpSuperFrames}), every other frame (a TCP super-frame is one segment) goes
 * to {@link Netisr#inputFrame} with its interface and per-frame flags. One bad frame never costs
 * the rest of the batch: an exception is counted as an internal error and the next frame goes on.
 *
 * <p>Owned by: its netisr thread. Allocation-free.
 */
final class RxBatchInput {
    private final Netisr n;
    private final UdpSuperFrames udpSuperFrames;
    /** Software GRO for the interfaces that want it, or null if none does. */
    private final SoftGro gro;
    private final NicPorts nics;

    RxBatchInput(Netisr n, UdpSuperFrames udpSuperFrames, SoftGro gro, NicPorts nics) {
        this.n = n;
        this.udpSuperFrames = udpSuperFrames;
        this.gro = gro;
        this.nics = nics;
    }

    /** Feeds frames {@code 0..count-1} of {@code batch}, read from interface {@code ifIndex}, to input. */
    void input(int ifIndex, FrameBatch batch, int count) {
        boolean coalesced = gro != null && count > 1 && nics.softGro(ifIndex);
        if (coalesced) {
            gro.coalesce(batch, count);
        }
        for (int i = 0; i < count; i++) {
            if (coalesced && gro.merged(i)) {
                continue; // its payload is in an earlier frame's super-frame
            }
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
