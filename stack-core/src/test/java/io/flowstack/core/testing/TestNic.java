package io.flowstack.core.testing;

import io.flowstack.nic.AbstractNic;
import io.flowstack.nic.FrameBatch;
import io.flowstack.nic.NicQueue;
import io.flowstack.nic.Toeplitz;
import io.flowstack.nic.TxFrame;
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
        this(queues, mtu, false);
    }

    /**
     * With {@code offloads}, the queues take gathered frames with checksum and segmentation
     * requests ({@link NicQueue#TX_GATHER}, {@code TX_CSUM}, {@code TX_TSO4}) and do in software
     * what a device would: complete the checksum, cut a super-frame into segments (each captured
     * as a frame); {@link TestQueue#superFrames} records what was asked.
     */
    public TestNic(int queues, int mtu, boolean offloads) {
        TestQueue[] qs = new TestQueue[queues];
        for (int i = 0; i < queues; i++) {
            qs[i] = new TestQueue(offloads);
        }
        super("test0", qs, mtu);
    }

    private Toeplitz rssKey;

    /** This NIC as if its steering hashed with {@code key} ({@link #rssKey()}); returns it. */
    public TestNic steeredBy(Toeplitz key) {
        this.rssKey = key;
        return this;
    }

    @Override
    public Toeplitz rssKey() {
        return rssKey;
    }

    /** What a gathered transmit asked of the device. */
    public record Gathered(int length, int slices, int csumStart, int csumOffset, int gsoType, int gsoSize) {}

    /** Frames injected into and captured from one queue. */
    public static final class TestQueue implements NicQueue {
        public final ArrayDeque<byte[]> inbound = new ArrayDeque<>();
        public final List<byte[]> outbound = new ArrayList<>();
        /** {@link FrameBatch} flags of injected frames (by identity); absent means 0. */
        public final java.util.Map<byte[], Integer> rxFlags = new java.util.IdentityHashMap<>();
        /** GSO sizes of injected super-frames (by identity); absent means an ordinary frame. */
        public final java.util.Map<byte[], Integer> gsoSizes = new java.util.IdentityHashMap<>();
        public boolean full;
        /**
         * If 0..255, the byte every slot holds past the frame it was given (a fuzz test runs an
         * input twice, with 0x00 and 0xFF there: a parser that reads past a frame's length sees
         * the difference); -1 leaves what the slot held before, as a NIC does.
         */
        public int tailFill = -1;
        /** Calls of {@link #receive} so far (an idle netisr's NIC reads). */
        public int receives;
        /** Whether it has an arrival signal ({@link #armRxSignal}), as a TAP with batched I/O. */
        public boolean signals;
        /** Calls of {@link #armRxSignal} that armed the signal (it was not armed). */
        public int arms;
        /** The signal is armed and has not fired. */
        public boolean armed;
        /** Makes the armed signal fire once with nothing to read. */
        public boolean spuriousSignal;
        /** Every gathered frame handed to {@link #transmit(TxFrame)}, in order. */
        public final List<Gathered> superFrames = new ArrayList<>();
        private final boolean offloads;
        private long txDrops;

        TestQueue(boolean offloads) {
            this.offloads = offloads;
        }

        @Override
        public boolean armRxSignal() {
            if (signals && !armed) {
                armed = true;
                arms++;
            }
            return signals;
        }

        @Override
        public boolean rxSignalled() {
            return !armed || spuriousSignal || !inbound.isEmpty();
        }

        @Override
        public int txOffloads() {
            return offloads ? TX_GATHER | TX_CSUM | TX_TSO4 : 0;
        }

        @Override
        public int maxReceiveFrame() {
            return offloads ? MAX_SUPER_FRAME_IP + 14 : 0;
        }

        @Override
        public boolean transmit(TxFrame f) {
            if (!offloads) {
                throw new UnsupportedOperationException("no offloads");
            }
            if (full) {
                txDrops++;
                return false;
            }
            byte[] b = new byte[f.length()];
            MemorySegment.copy(f.head(), ValueLayout.JAVA_BYTE, f.headOffset(), b, 0, f.headLength());
            int at = f.headLength();
            for (int i = 0; i < f.slices(); i++) {
                MemorySegment.copy(f.slice(i), ValueLayout.JAVA_BYTE, f.sliceOffset(i), b, at, f.sliceLength(i));
                at += f.sliceLength(i);
            }
            superFrames.add(new Gathered(b.length, f.slices(), f.csumStart(), f.csumOffset(), f.gsoType(), f.gsoSize()));
            if (f.gsoType() == TxFrame.GSO_NONE) {
                if (f.csumStart() >= 0) {
                    completeChecksum(b, f.csumStart(), f.csumOffset());
                }
                outbound.add(b);
            } else {
                outbound.addAll(Tso.segment(b, f.headLength(), f.gsoSize()));
            }
            return true;
        }

        /** NEEDS_CSUM: the field holds the pseudo-header sum; sum from {@code start} to the end, store the complement. */
        static void completeChecksum(byte[] b, int start, int offset) {
            int partial = ((b[start + offset] & 0xFF) << 8) | (b[start + offset + 1] & 0xFF);
            b[start + offset] = 0;
            b[start + offset + 1] = 0;
            int c = Packets.checksum(b, start, b.length - start, partial);
            b[start + offset] = (byte) (c >>> 8);
            b[start + offset + 1] = (byte) c;
        }

        @Override
        public int receive(FrameBatch batch) {
            receives++;
            if (armed && (spuriousSignal || !inbound.isEmpty())) { // the read reaps the fired signal
                armed = false;
                spuriousSignal = false;
            }
            int n = 0;
            while (n < batch.capacity() && !inbound.isEmpty()) {
                byte[] f = inbound.poll();
                MemorySegment.copy(f, 0, batch.slot(n), ValueLayout.JAVA_BYTE, 0, f.length);
                if (tailFill >= 0) {
                    batch.slot(n).asSlice(f.length).fill((byte) tailFill);
                }
                Integer flags = rxFlags.remove(f);
                Integer gso = gsoSizes.remove(f);
                batch.frame(n, f.length, flags == null ? 0 : flags, gso == null ? 0 : gso);
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
