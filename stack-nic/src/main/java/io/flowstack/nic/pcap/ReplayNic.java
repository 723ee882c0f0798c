package io.flowstack.nic.pcap;

import io.flowstack.nic.AbstractNic;
import io.flowstack.nic.FrameBatch;
import io.flowstack.nic.NicQueue;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayDeque;

/**
 * A NIC without a wire for offline replay: each queue delivers the frames {@link #offer}ed to it,
 * in order, and accepts every frame the stack transmits (counting it; wrap this NIC in a
 * {@link PcapNic} to keep them). For threadless stacks ({@code FlowStack.create} +
 * {@code pollAll}) driven by {@code stack replay}.
 *
 * <p>Owned by: the one thread that offers frames and drives the stack (not thread safe).
 */
public final class ReplayNic extends AbstractNic<ReplayNic.ReplayQueue> {

    /** One queue: frames offered, not yet received; counts of what was transmitted. */
    public static final class ReplayQueue implements NicQueue {
        private final ArrayDeque<byte[]> inbound = new ArrayDeque<>();
        private long txFrames;
        private long txBytes;
        private long rxTruncated;

        @Override
        public int receive(FrameBatch batch) {
            int n = 0;
            while (n < batch.capacity() && !inbound.isEmpty()) {
                byte[] f = inbound.poll();
                if (f.length > batch.slotSize()) {
                    rxTruncated++; // a real queue drops such a frame too
                    continue;
                }
                MemorySegment.copy(f, 0, batch.slot(n), ValueLayout.JAVA_BYTE, 0, f.length);
                batch.length(n, f.length);
                n++;
            }
            batch.count(n);
            return n;
        }

        @Override
        public boolean transmit(MemorySegment frame, long offset, int length) {
            txFrames++;
            txBytes += length;
            return true;
        }

        @Override
        public int pollFd() {
            return -1;
        }

        @Override
        public void readyNotifier(Runnable notifier) {
            // threadless: the driver polls after each offer
        }

        @Override
        public boolean rxReady() {
            return !inbound.isEmpty();
        }

        @Override
        public long txDrops() {
            return 0;
        }

        public long txFrames() {
            return txFrames;
        }

        public long txBytes() {
            return txBytes;
        }

        /** Offered frames longer than the stack's receive slots, dropped. */
        public long rxTruncated() {
            return rxTruncated;
        }

        /** Frames offered and not yet received. */
        public int pending() {
            return inbound.size();
        }
    }

    public ReplayNic(String name, int queues, int mtu) {
        if (queues < 1) {
            throw new IllegalArgumentException("queues must be >= 1: " + queues);
        }
        ReplayQueue[] qs = new ReplayQueue[queues];
        for (int i = 0; i < queues; i++) {
            qs[i] = new ReplayQueue();
        }
        super(name, qs, mtu);
    }

    /** Queues {@code frame} for reception on queue {@code queue}. */
    public void offer(int queue, byte[] frame) {
        queues[queue].inbound.add(frame);
    }

    /** Frames transmitted on every queue. */
    public long txFrames() {
        long sum = 0;
        for (ReplayQueue q : queues) {
            sum += q.txFrames;
        }
        return sum;
    }

    /** Offered frames dropped as longer than the stack's receive slots. */
    public long rxTruncated() {
        long sum = 0;
        for (ReplayQueue q : queues) {
            sum += q.rxTruncated;
        }
        return sum;
    }

    /** Drops the frames offered and not yet received. */
    @Override
    protected void release() {
        for (ReplayQueue q : queues) {
            q.inbound.clear();
        }
    }
}
