package io.flowstack.nic.pcap;

import io.flowstack.nic.FrameBatch;
import io.flowstack.nic.NicQueue;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.function.LongSupplier;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.OneToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;

/**
 * One queue pair of a {@link PcapNic}: passes every call to the wrapped queue and copies each
 * frame it receives, and each frame the wrapped queue accepts for transmission, into this queue's
 * capture ring, from which the {@link PcapWriter} writes the file.
 *
 * <h2>Ownership and cost on the data path</h2>
 * Owned by: the thread that owns the wrapped queue (a netisr), the only caller of
 * {@link #receive} and {@link #transmit} and therefore the <b>single producer</b> of the capture
 * ring (an Agrona {@link OneToOneRingBuffer} over off-heap memory allocated at construction). The
 * writer thread is its single consumer. Per captured frame the owner reads the clock once per
 * {@code receive} call that returned frames (one timestamp for the batch) or once per
 * {@code transmit}, claims space with {@code tryClaim} (plain stores and one ordered store: no
 * lock, no CAS), copies the frame and commits. It never waits: a frame that finds the ring full is
 * not captured and is counted in {@link #dropped()} (so is a frame longer than an eighth of the
 * ring, Agrona's largest message); the stack's own traffic is never held back.
 * Nothing is allocated on the heap.
 *
 * <h2>Ring record</h2>
 * Message type {@link #RX} or {@link #TX}; payload {@code [timestamp ns since the epoch: long]
 * [original length: int][0: int][frame bytes]} with at most {@link PcapSpec#SNAP_LENGTH} frame
 * bytes (little-endian native order, read only by the writer in this process).
 *
 * <p>The counter getters may be called from any thread (opaque loads of fields written by the
 * owner with opaque stores).
 */
public final class PcapQueue implements NicQueue {
    /** Ring message type of a received frame. */
    public static final int RX = 1;
    /** Ring message type of a transmitted frame. */
    public static final int TX = 2;
    /** Bytes of the record header before the frame. */
    static final int RECORD_HEADER = 16;

    private static final VarHandle CAPTURED;
    private static final VarHandle DROPPED;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            CAPTURED = l.findVarHandle(PcapQueue.class, "captured", long.class);
            DROPPED = l.findVarHandle(PcapQueue.class, "dropped", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final NicQueue inner;
    private final int index;
    private final boolean rx;
    private final boolean tx;
    private final LongSupplier clock;
    private final MemorySegment ringMemory;
    private final OneToOneRingBuffer ring;
    private final int maxRecord;
    private long captured;
    private long dropped;

    PcapQueue(NicQueue inner, int index, PcapSpec spec, LongSupplier epochNanos, Arena arena) {
        this.inner = inner;
        this.index = index;
        this.rx = spec.direction().rx();
        this.tx = spec.direction().tx();
        this.clock = epochNanos;
        int capacity = Integer.highestOneBit(spec.ringBytes() - 1) << 1; // next power of two
        this.ringMemory = arena.allocate(capacity + RingBufferDescriptor.TRAILER_LENGTH, 128);
        this.ring = new OneToOneRingBuffer(new UnsafeBuffer(ringMemory.address(), (int) ringMemory.byteSize()));
        this.maxRecord = ring.maxMsgLength();
    }

    // ------------------------------------------------------------------ NicQueue (owner thread)

    /** The wrapped queue's receive; then every frame it delivered is captured. */
    @Override
    public int receive(FrameBatch batch) {
        int n = inner.receive(batch);
        if (n > 0 && rx) {
            long ts = clock.getAsLong();
            for (int i = 0; i < n; i++) {
                record(RX, ts, batch.slot(i), 0, batch.length(i));
            }
        }
        return n;
    }

    /** The wrapped queue's transmit; the frame is captured if the wrapped queue accepted it. */
    @Override
    public boolean transmit(MemorySegment frame, long offset, int length) {
        boolean sent = inner.transmit(frame, offset, length);
        if (sent && tx) {
            record(TX, clock.getAsLong(), frame, offset, length);
        }
        return sent;
    }

    private void record(int type, long ts, MemorySegment frame, long offset, int length) {
        int caplen = Math.min(length, PcapSpec.SNAP_LENGTH);
        int at = RECORD_HEADER + caplen <= maxRecord ? ring.tryClaim(type, RECORD_HEADER + caplen) : -1;
        if (at < 0) { // full, or longer than the ring takes (1/8 of it): the capture loses it
            DROPPED.setOpaque(this, dropped + 1);
            return;
        }
        MemorySegment m = ringMemory;
        m.set(ValueLayout.JAVA_LONG_UNALIGNED, at, ts);
        m.set(ValueLayout.JAVA_INT_UNALIGNED, at + 8, length);
        m.set(ValueLayout.JAVA_INT_UNALIGNED, at + 12, 0);
        MemorySegment.copy(frame, offset, m, at + RECORD_HEADER, caplen);
        ring.commit(at);
        CAPTURED.setOpaque(this, captured + 1);
    }

    @Override
    public int pollFd() {
        return inner.pollFd();
    }

    @Override
    public void readyNotifier(Runnable notifier) {
        inner.readyNotifier(notifier);
    }

    @Override
    public boolean rxReady() {
        return inner.rxReady();
    }

    @Override
    public boolean receiveInMemory() {
        return inner.receiveInMemory();
    }

    @Override
    public long wakeDeadline() {
        return inner.wakeDeadline();
    }

    @Override
    public long txDrops() {
        return inner.txDrops();
    }

    /** The wrapped queue's flush. */
    @Override
    public void flush() {
        inner.flush();
    }

    // ------------------------------------------------------------------ writer side and counters

    /** The capture ring (consumer: the writer). */
    OneToOneRingBuffer ring() {
        return ring;
    }

    /** The ring's memory (message index = offset). */
    MemorySegment ringMemory() {
        return ringMemory;
    }

    /** Frames put into the capture ring. */
    public long captured() {
        return (long) CAPTURED.getOpaque(this);
    }

    /** Frames not captured because the ring towards the writer was full. */
    public long dropped() {
        return (long) DROPPED.getOpaque(this);
    }

    /** The wrapped queue. */
    public NicQueue inner() {
        return inner;
    }

    /** Queue number in the NIC. */
    public int index() {
        return index;
    }

    @Override
    public String toString() {
        return "PcapQueue[" + index + " " + inner + "]";
    }
}
