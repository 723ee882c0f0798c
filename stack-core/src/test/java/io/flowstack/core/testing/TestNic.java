package io.flowstack.core.testing;

import io.flowstack.nic.AbstractNic;
import io.flowstack.nic.FrameBatch;
import io.flowstack.nic.NicQueue;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * A scripted NIC for packet-level tests: frames the test injects on queue {@code i} are read by
 * core {@code i}; frames the stack transmits are captured per queue. Owned by: the test thread
 * (use with {@code FlowStack.create} and {@code pollAll}).
 */
public final class TestNic extends AbstractNic<TestNic.TestQueue> {

    public TestNic(int queues, int mtu) {
        TestQueue[] qs = new TestQueue[queues];
        for (int i = 0; i < queues; i++) {
            qs[i] = new TestQueue();
        }
        super("test0", qs, mtu);
    }

    /** Frames injected into and captured from one queue. */
    public static final class TestQueue implements NicQueue {
        public final ArrayDeque<byte[]> inbound = new ArrayDeque<>();
        public final List<byte[]> outbound = new ArrayList<>();
        /** {@link FrameBatch} flags of injected frames (by identity); absent means 0. */
        public final java.util.Map<byte[], Integer> rxFlags = new java.util.IdentityHashMap<>();
        public boolean full;
        private long txDrops;

        @Override
        public int receive(FrameBatch batch) {
            int n = 0;
            while (n < batch.capacity() && !inbound.isEmpty()) {
                byte[] f = inbound.poll();
                MemorySegment.copy(f, 0, batch.slot(n), ValueLayout.JAVA_BYTE, 0, f.length);
                Integer flags = rxFlags.remove(f);
                batch.frame(n, f.length, flags == null ? 0 : flags, 0);
                n++;
            }
            batch.count(n);
            return n;
        }

        @Override
        public boolean transmit(MemorySegment frame, long offset, int length) {
            if (full) {
                txDrops++;
                return false;
            }
            byte[] b = new byte[length];
            MemorySegment.copy(frame, ValueLayout.JAVA_BYTE, offset, b, 0, length);
            outbound.add(b);
            return true;
        }

        @Override
        public int pollFd() {
            return -1;
        }

        @Override
        public void readyNotifier(Runnable notifier) {}

        @Override
        public long txDrops() {
            return txDrops;
        }
    }

    public TestQueue q(int i) {
        return queues[i];
    }

    /** All captured frames from every queue, in queue order, then clears them. */
    public List<byte[]> drain() {
        List<byte[]> all = new ArrayList<>();
        for (TestQueue q : queues) {
            all.addAll(q.outbound);
            q.outbound.clear();
        }
        return all;
    }

    @Override
    protected void release() {}
}
