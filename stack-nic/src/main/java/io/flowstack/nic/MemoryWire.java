package io.flowstack.nic;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.security.SecureRandom;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Two in-process NICs, {@link #a()} and {@link #b()}, joined by a cable of off-heap
 * single-producer/single-consumer frame rings: a frame transmitted on queue {@code i} of one side
 * is received on queue {@code i} of the other. For deterministic tests and CPU-only benchmarks.
 *
 * <p>Delivering queue {@code i} to queue {@code i} is the wire's receive steering: it puts a
 * flow's frames on its owner's queue only if both stacks hash flows alike, so both sides report
 * one RSS key ({@link #rssKey()}), chosen at random when the wire is made; a topology of several
 * wires (a router between two hosts) gives them one key ({@link #steeredBy}).
 *
 * <p>Each direction of each queue pair is one ring of {@code ringBytes} bytes (rounded up to a
 * power of two). A frame occupies an 8-byte header plus its length rounded up to 8; a frame
 * larger than half the ring is refused ({@link CountingQueue#txErrors()}). A full ring makes
 * {@link NicQueue#transmit} return {@code false} and count {@link NicQueue#txDrops()}.
 *
 * <p>Queues have no {@link NicQueue#pollFd()} ({@code -1}). A transmit that finds the peer's ring
 * empty (the peer has consumed every earlier frame) runs the peer queue's
 * {@link NicQueue#readyNotifier} on the transmitting thread after publishing the frame. A
 * consumer that wants to sleep must therefore: call {@code receive}; if it returned 0, arm its
 * wakeup (e.g. drain its eventfd) and call {@code receive} once more before it blocks. The ring
 * guarantees that either that second {@code receive} sees the frame or the notifier runs after
 * it (a full fence on each side orders the index publication against the other side's index
 * read).
 *
 * <p>Owned by: the creating thread ({@link #create}, {@link #close()}); queue {@code i} of each
 * side is owned by one thread, which is the only producer of its outgoing ring and the only
 * consumer of its incoming ring. Nothing is allocated per frame and no lock is taken.
 */
public final class MemoryWire implements AutoCloseable {
    /** Default layer-3 MTU. */
    public static final int DEFAULT_MTU = 1500;
    /** Smallest accepted ring size. */
    public static final int MIN_RING_BYTES = 4096;

    /** A record's header: {@code int length}, then {@code int meta} = gso size << 8 | frame flags. */
    private static final int HEADER = 8;
    private static final int META = 4;
    /** Offset of the producer index (tail) in a ring's control block. */
    private static final long TAIL = 0;
    /** Offset of the consumer index (head), a separate 128-byte line pair away from the tail. */
    private static final long HEAD = 128;
    private static final long CONTROL_BYTES = 256;
    private static final VarHandle INDEX = ValueLayout.JAVA_LONG.varHandle();

    private final Arena arena;
    private final Side a;
    private final Side b;
    private final AtomicInteger openSides = new AtomicInteger(2);
    private Toeplitz rssKey = Toeplitz.random(new SecureRandom());

    private MemoryWire(int queues, int ringBytes, int mtu, boolean offloads) {
        this(queues, ringBytes, mtu, offloads, false);
    }

    private MemoryWire(int queues, int ringBytes, int mtu, boolean offloads, boolean softGro) {
        if (queues < 1) {
            throw new IllegalArgumentException("queues must be >= 1: " + queues);
        }
        if (ringBytes < MIN_RING_BYTES || ringBytes > (1 << 30)) {
            throw new IllegalArgumentException("ringBytes must be in [" + MIN_RING_BYTES + ", 2^30]: "
                    + ringBytes);
        }
        if (mtu < 68) {
            throw new IllegalArgumentException("mtu must be >= 68: " + mtu);
        }
        int capacity = Integer.highestOneBit(ringBytes - 1) << 1;
        this.arena = Arena.ofShared();
        Queue[] qa = new Queue[queues];
        Queue[] qb = new Queue[queues];
        for (int i = 0; i < queues; i++) {
            Ring ab = new Ring(arena, capacity);
            Ring ba = new Ring(arena, capacity);
            qa[i] = new Queue("memwire-a", i, ab, ba, offloads, softGro);
            qb[i] = new Queue("memwire-b", i, ba, ab, offloads, softGro);
            qa[i].peer = qb[i];
            qb[i].peer = qa[i];
        }
        this.a = new Side("memwire-a", qa, mtu);
        this.b = new Side("memwire-b", qb, mtu);
    }

    /**
     * A wire with {@code queues} queue pairs, rings of {@code ringBytes}, MTU 1500.
     *
     * @param queues the number of queue pairs on each side, at least 1
     * @param ringBytes bytes of each ring, rounded up to a power of two; {@value #MIN_RING_BYTES}
     *     to 2^30
     * @return the wire; close it to free the rings
     * @throws IllegalArgumentException if an argument is out of range
     */
    public static MemoryWire create(int queues, int ringBytes) {
        return new MemoryWire(queues, ringBytes, DEFAULT_MTU, false);
    }

    /**
     * A wire with {@code queues} queue pairs, rings of {@code ringBytes}, and the given MTU.
     *
     * @param queues the number of queue pairs on each side, at least 1
     * @param ringBytes bytes of each ring, rounded up to a power of two; {@value #MIN_RING_BYTES}
     *     to 2^30
     * @param mtu the layer-3 MTU both ends report, at least 68
     * @return the wire; close it to free the rings
     * @throws IllegalArgumentException if an argument is out of range
     */
    public static MemoryWire create(int queues, int ringBytes, int mtu) {
        return new MemoryWire(queues, ringBytes, mtu, false);
    }

    /**
     * A wire whose queues have offloads, as two TAPs with vnet headers joined by a program, or a
     * veth: {@link NicQueue#transmit(TxFrame)} takes gathered frames and super-frames and the other
     * side receives each as one frame, flagged {@link FrameBatch#RX_CSUM_VALID} and
     * {@link FrameBatch#RX_CSUM_PARTIAL} when its checksum was left partial and with its
     * {@link FrameBatch#gsoSize}, never cut (the receiver takes a
     * super-frame as one segment). Rings must hold a 64 KiB frame: at least 256 KiB.
     *
     * @param queues the number of queue pairs on each side, at least 1
     * @param ringBytes bytes of each ring, rounded up to a power of two; 2^18 to 2^30
     * @param mtu the layer-3 MTU both ends report, at least 68
     * @return the wire; close it to free the rings
     * @throws IllegalArgumentException if an argument is out of range
     */
    public static MemoryWire createWithOffloads(int queues, int ringBytes, int mtu) {
        if (ringBytes < (1 << 18)) {
            throw new IllegalArgumentException("a wire with offloads needs rings of at least 256 KiB: " + ringBytes);
        }
        return new MemoryWire(queues, ringBytes, mtu, true);
    }

    /**
     * A wire without offloads (frames of at most the MTU, as a veth read through AF_XDP) whose
     * queues ask their owner to coalesce TCP segments itself ({@link NicQueue#softGro()}).
     *
     * @param queues the number of queue pairs on each side, at least 1
     * @param ringBytes bytes of each ring, rounded up to a power of two
     * @param mtu the layer-3 MTU both ends report, at least 68
     * @return the wire; close it to free the rings
     * @throws IllegalArgumentException if an argument is out of range
     */
    public static MemoryWire createWithSoftGro(int queues, int ringBytes, int mtu) {
        return new MemoryWire(queues, ringBytes, mtu, false, true);
    }

    /**
     * One end of the wire; its queues are {@link Queue}s.
     *
     * @return side A
     */
    public Nic a() {
        return a;
    }

    /**
     * The other end of the wire.
     *
     * @return side B, whose queues are {@link Queue}s too
     */
    public Nic b() {
        return b;
    }

    /**
     * Closes both ends and frees the rings; idempotent. Call after the queue owners have stopped:
     * a later {@code receive}/{@code transmit} throws {@link IllegalStateException}.
     */
    @Override
    public void close() {
        a.close();
        b.close();
    }

    private void sideClosed() {
        if (openSides.decrementAndGet() == 0) {
            arena.close();
        }
    }

    /** One direction: data plus a control block holding the tail and head indexes. */
    private static final class Ring {
        final MemorySegment data;
        final MemorySegment control;
        final int capacity;
        final int mask;

        Ring(Arena arena, int capacity) {
            this.capacity = capacity;
            this.mask = capacity - 1;
            this.data = arena.allocate(capacity, 64);
            this.control = arena.allocate(CONTROL_BYTES, 128);
        }

        int maxFrame() {
            return capacity / 2 - HEADER;
        }
    }

    /**
     * Gives both sides the RSS key {@code key} (before a stack is built on either), so that
     * several wires of one topology steer alike.
     *
     * @param key the symmetric RSS key
     * @return this wire
     */
    public MemoryWire steeredBy(Toeplitz key) {
        this.rssKey = key;
        return this;
    }

    /**
     * The RSS key both sides report ({@link Nic#rssKey()}): the stacks on the two sides take it.
     *
     * @return the wire's key
     */
    public Toeplitz rssKey() {
        return rssKey;
    }

    private final class Side extends AbstractNic<Queue> {
        Side(String name, Queue[] queues, int mtu) {
            super(name, queues, mtu);
        }

        @Override
        public Toeplitz rssKey() {
            return MemoryWire.this.rssKey;
        }

        @Override
        protected void release() {
            sideClosed();
        }

        @Override
        public String toString() {
            return "MemoryWire." + name() + "[queues=" + queues.length + " mtu=" + mtu() + "]";
        }
    }

    /**
     * Queue {@code index} of one side: producer of {@code tx}, consumer of {@code rx}.
     *
     * <p>Owned by: one thread; the index caches below are that thread's only.
     */
    public static final class Queue extends CountingQueue {
        private final String name;
        private final int index;
        private final Ring tx;
        private final Ring rx;
        private final boolean offloads;
        private final boolean softGro;
        Queue peer;
        private volatile Runnable notifier;
        /** Producer: our tail of {@code tx} (the published value, kept in a plain field). */
        private long txTail;
        /** Producer: the last head of {@code tx} we read. */
        private long txHeadCache;
        /** Consumer: our head of {@code rx}. */
        private long rxHead;
        /** Consumer: the last tail of {@code rx} we read. */
        private long rxTailCache;
        /** Producer: the tail after the record {@link #claim} made. */
        private long claimedNext;

        Queue(String name, int index, Ring tx, Ring rx, boolean offloads, boolean softGro) {
            this.name = name;
            this.index = index;
            this.tx = tx;
            this.rx = rx;
            this.offloads = offloads;
            this.softGro = softGro;
        }

        /** As the wire was made: {@link MemoryWire#createWithSoftGro}. */
        @Override
        public boolean softGro() {
            return softGro;
        }

        /** With offloads: gathered frames, partial checksums, super-frames; else 0. */
        @Override
        public int txOffloads() {
            return offloads ? TX_GATHER | TX_CSUM | TX_TSO4 : 0;
        }

        /** With offloads, super-frames of 65,535 bytes of IPv4 arrive whole. */
        @Override
        public int maxReceiveFrame() {
            return offloads ? MAX_SUPER_FRAME_IP + 14 : 0;
        }

        @Override
        public boolean rxReady() {
            return rxHead != (long) INDEX.getAcquire(rx.control, TAIL);
        }

        /** True: the ring is in memory, an empty receive reads one index. */
        @Override
        public boolean receiveInMemory() {
            return true;
        }

        @Override
        public int receive(FrameBatch batch) {
            final Ring ring = rx;
            long head = rxHead;
            long tail = rxTailCache;
            if (head == tail) {
                tail = (long) INDEX.getAcquire(ring.control, TAIL);
                if (head == tail) {
                    // order our earlier head store before this emptiness check (see class doc)
                    VarHandle.fullFence();
                    tail = (long) INDEX.getAcquire(ring.control, TAIL);
                    if (head == tail) {
                        batch.count(0);
                        return 0;
                    }
                }
                rxTailCache = tail;
            }
            final int capacity = batch.capacity();
            final int slotSize = batch.slotSize();
            final MemorySegment data = ring.data;
            int n = 0;
            int truncated = 0;
            long bytes = 0;
            while (head != tail && n < capacity) {
                int idx = (int) (head & ring.mask);
                int len = data.get(ValueLayout.JAVA_INT, idx);
                if (len < 0) { // padding up to the end of the ring
                    head += ring.capacity - idx;
                    continue;
                }
                if (len > slotSize) {
                    truncated++;
                } else {
                    MemorySegment.copy(data, idx + HEADER, batch.slot(n), 0, len);
                    int meta = data.get(ValueLayout.JAVA_INT, idx + META);
                    batch.frame(n, len, meta & 0xFF, meta >>> 8);
                    bytes += len;
                    n++;
                }
                head += align(HEADER + len);
            }
            rxHead = head;
            INDEX.setRelease(ring.control, HEAD, head);
            batch.count(n);
            if (n > 0) {
                countRx(n, bytes);
            }
            if (truncated > 0) {
                countRxTruncated(truncated);
            }
            return n;
        }

        @Override
        public boolean transmit(MemorySegment frame, long offset, int length) {
            int idx = claim(length, 0);
            if (idx < 0) {
                return false;
            }
            MemorySegment.copy(frame, offset, tx.data, idx + HEADER, length);
            return publish(length);
        }

        /**
         * Copies the headers and slices into the ring as one frame; a partial checksum becomes the
         * receiver's {@link FrameBatch#RX_CSUM_VALID} (it never crossed a wire), a super-frame's
         * segment size its {@link FrameBatch#gsoSize}.
         */
        @Override
        public boolean transmit(TxFrame frame) {
            if (!offloads) {
                throw new UnsupportedOperationException(name + " has no offloads");
            }
            int length = frame.length();
            int gso = frame.gsoType() == TxFrame.GSO_NONE ? 0 : frame.gsoSize();
            int idx = claim(length, (gso << 8) | (frame.csumStart() >= 0 ? FrameBatch.RX_CSUM_VALID | FrameBatch.RX_CSUM_PARTIAL : 0));
            if (idx < 0) {
                return false;
            }
            long at = idx + HEADER;
            MemorySegment.copy(frame.head(), frame.headOffset(), tx.data, at, frame.headLength());
            at += frame.headLength();
            for (int i = 0; i < frame.slices(); i++) {
                MemorySegment.copy(frame.slice(i), frame.sliceOffset(i), tx.data, at, frame.sliceLength(i));
                at += frame.sliceLength(i);
            }
            return publish(length);
        }

        /** Room for a record of {@code length}: its data offset, header written, or -1 (counted). */
        private int claim(int length, int meta) {
            final Ring ring = tx;
            if (length <= 0 || length > ring.maxFrame()) {
                countTxError();
                return -1;
            }
            final int record = align(HEADER + length);
            final long tail = txTail;
            int idx = (int) (tail & ring.mask);
            final int pad = idx + record > ring.capacity ? ring.capacity - idx : 0;
            final long next = tail + pad + record;
            if (next - txHeadCache > ring.capacity) {
                txHeadCache = (long) INDEX.getAcquire(ring.control, HEAD);
                if (next - txHeadCache > ring.capacity) {
                    countTxDrop();
                    return -1;
                }
            }
            final MemorySegment data = ring.data;
            if (pad > 0) {
                data.set(ValueLayout.JAVA_INT, idx, -pad);
                idx = 0;
            }
            data.set(ValueLayout.JAVA_INT, idx, length);
            data.set(ValueLayout.JAVA_INT, idx + META, meta);
            claimedNext = next;
            return idx;
        }

        /** Publishes the record {@link #claim} made. */
        private boolean publish(int length) {
            final Ring ring = tx;
            final long tail = txTail;
            final long next = claimedNext;
            txTail = next;
            INDEX.setRelease(ring.control, TAIL, next);
            countTx(length);
            Runnable wake = peer.notifier;
            if (wake != null) {
                // order the tail store before the head load (see class doc)
                VarHandle.fullFence();
                long head = (long) INDEX.getAcquire(ring.control, HEAD);
                txHeadCache = head;
                if (head >= tail) { // the peer had consumed everything before this frame
                    wake.run();
                }
            }
            return true;
        }

        private static int align(int n) {
            return (n + 7) & ~7;
        }

        /** Always {@code -1}: this queue signals through its {@link #readyNotifier}. */
        @Override
        public int pollFd() {
            return -1;
        }

        /**
         * Sets the callback the peer's transmitting thread runs when it makes this queue's
         * incoming ring non-empty. Set it before traffic starts; it must be cheap and must not
         * throw (e.g. {@code EventFd::signal} or {@code LockSupport.unpark}).
         */
        @Override
        public void readyNotifier(Runnable notifier) {
            this.notifier = notifier;
        }

        /**
         * The largest frame this queue can transmit.
         *
         * @return the length in bytes: half the ring less the frame header
         */
        public int maxFrame() {
            return tx.maxFrame();
        }

        @Override
        public String toString() {
            return "MemoryWire.Queue[" + name + "#" + index + "]";
        }
    }
}
