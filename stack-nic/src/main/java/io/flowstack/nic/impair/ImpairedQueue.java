package io.flowstack.nic.impair;

import io.flowstack.nic.FrameBatch;
import io.flowstack.nic.NicQueue;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.SplittableRandom;
import java.util.function.LongSupplier;

/**
 * One queue pair of an {@link ImpairedNic}: drops, duplicates, corrupts and delays the frames of
 * the wrapped queue as its {@link ImpairmentSpec} says, in the direction(s) it names.
 *
 * <h2>Per frame (the order of netem's {@code netem_enqueue})</h2>
 * <ol>
 *   <li>Duplication adds a copy with probability {@code dup}, then loss removes one with
 *       probability {@code loss}: no copy left is a drop ({@link #rxDropped()},
 *       {@link #txDropped()}), two copies a duplicate ({@link #rxDuplicated()},
 *       {@link #txDuplicated()}); a frame hit by both is delivered once, as in netem.</li>
 *   <li>Each copy is then, independently (netem re-enqueues the clone through the qdisc):
 *       corrupted with probability {@code corrupt} by flipping one random bit of one random byte
 *       at offset &ge; {@value #CORRUPT_FROM}, past the Ethernet header, so that the frame still
 *       reaches IP, whose checksums must catch it (netem may hit any byte; a frame of
 *       {@value #CORRUPT_FROM} bytes or less is left intact and not counted); and</li>
 *   <li>sent at once with probability {@code reorder} (netem's {@code reorder} with {@code gap 1}),
 *       otherwise held back for {@code delay}, or with a jitter for a time drawn uniformly from
 *       {@code [delay - jitter, delay + jitter]} and clamped at 0 (netem's {@code tabledist} without
 *       a table). Held frames leave in release-time order, ties in arrival order (netem's
 *       {@code tfifo}), so <b>a jitter reorders frames</b> whenever two draws differ by more than
 *       the gap between the frames, exactly as netem without a rate limit does; a frame whose draw
 *       is 0 goes at once.</li>
 * </ol>
 *
 * <h2>Directions</h2>
 * RX: {@link #receive} first copies the held frames that are due into the caller's batch, then
 * reads at most as many frames from the wrapped queue as the batch has room for (into an internal
 * off-heap batch) and impairs them; a duplicate that finds the batch full is held until the next
 * call. TX: {@link #transmit} impairs the frame before the wrapped queue's transmit; a corrupted
 * copy sent at once is corrupted in an internal buffer, never in the caller's memory. A lost TX
 * frame returns {@code true}, like a frame lost on the wire (netem reports success too); a frame
 * that finds the holding area full returns {@code false} (the device queue is full) and counts in
 * {@link #txDrops()}. Due TX frames are sent at the start of every {@link #receive} and
 * {@link #transmit} call, so an owner that only polls still sends them; a wrapped queue that
 * refuses one (back-pressure) counts it in its own {@code txDrops}, which this queue's
 * {@link #txDrops()} includes.
 *
 * <h2>Holding area</h2>
 * Per impaired direction, a fixed off-heap slab of {@link #heldCapacity()} slots of
 * {@link #heldSlotSize()} bytes (the MTU plus Ethernet and VLAN headers, rounded up to 64) and a
 * binary heap ordered by release time ({@link HoldingArea}). The capacity is the spec's
 * {@code limit} but at most {@value #MAX_HELD_BYTES} bytes of slots. A frame that does not fit (the
 * area is full, or the frame is longer than a slot) is dropped and counted in
 * {@link #heldOverflow()}; nothing throws. {@link #wakeDeadline()} is the earliest release time.
 *
 * <h2>Determinism</h2>
 * Decisions come from a {@link SplittableRandom} seeded with {@code seed + queueIndex} for RX and
 * one split from it at construction for TX, so each direction's decisions depend only on its own
 * frame sequence: the same seed, frames, call sequence and clock readings give the same output.
 * The clock is read once per {@code receive}/{@code transmit}/{@code rxReady} call.
 *
 * <p>Owned by: the thread that owns the wrapped queue; only it calls {@link #receive},
 * {@link #transmit}, {@link #rxReady()}, {@link #wakeDeadline()} and the {@code held*} methods. No
 * lock, no atomic read-modify-write, and no heap allocation per frame once the internal receive
 * batches exist (after the first receive calls). The counter getters may be called from any
 * thread: the owner writes the counters with opaque stores (as {@code CountingQueue} does).
 */
public final class ImpairedQueue implements NicQueue {
    /** Corruption never touches the first bytes: the 14-byte Ethernet header. */
    public static final int CORRUPT_FROM = 14;
    /** Upper bound of the bytes of one holding area (one direction of one queue). */
    public static final long MAX_HELD_BYTES = 8L << 20;
    /** Holding area used only for RX duplicates that found the batch full (no delay set). */
    private static final int DUP_SPILL_CAPACITY = 256;
    /** Size of the TX buffer in which copies sent at once are corrupted. */
    private static final int TX_SCRATCH_BYTES = 65536;

    private static final int RX_DROPPED = 0;
    private static final int RX_DUPLICATED = 1;
    private static final int RX_CORRUPTED = 2;
    private static final int RX_DELAYED = 3;
    private static final int TX_DROPPED = 4;
    private static final int TX_DUPLICATED = 5;
    private static final int TX_CORRUPTED = 6;
    private static final int TX_DELAYED = 7;
    private static final int RX_OVERFLOW = 8;
    private static final int TX_OVERFLOW = 9;
    private static final int COUNTERS = 10;
    private static final VarHandle COUNTER = MethodHandles.arrayElementVarHandle(long[].class);

    private final NicQueue inner;
    private final int index;
    private final ImpairmentSpec spec;
    private final LongSupplier clock;
    private final Arena arena;
    private final int heldSlotSize;
    private final int heldCapacity;
    /** Whether {@link #receive} impairs (the spec applies to RX and changes something). */
    private final boolean rxOn;
    /** Whether {@link #transmit} impairs. */
    private final boolean txOn;
    private final SplittableRandom rxRandom;
    private final SplittableRandom txRandom;
    /** RX frames held back; non-null iff {@link #rxOn}. */
    private final HoldingArea rxHeld;
    /** TX frames held back; non-null iff {@link #txOn} and the spec delays. */
    private final HoldingArea txHeld;
    /** TX copies corrupted and sent at once are corrupted here; non-null iff TX corrupts. */
    private final MemorySegment txScratch;
    /**
     * RX: batches the wrapped queue reads into, {@code rxScratch[k]} with capacity {@code 2^k}, so
     * that no more frames are read than the caller's batch has room for; {@link #rxScratchFull}
     * has the caller's capacity. Created on demand with the caller's slot size.
     */
    private final FrameBatch[] rxScratch = new FrameBatch[31];
    private FrameBatch rxScratchFull;
    private int rxScratchSlotSize = -1;
    /** Counters by the constants above, written by the owner with opaque stores. */
    private final long[] counters = new long[COUNTERS];

    ImpairedQueue(NicQueue inner, int index, ImpairmentSpec spec, LongSupplier clock, Arena arena,
                  int mtu) {
        this.inner = inner;
        this.index = index;
        this.spec = spec;
        this.clock = clock;
        this.arena = arena;
        this.heldSlotSize = (Math.max(mtu + 18, 128) + 63) & ~63;
        this.heldCapacity = (int) Math.max(1, Math.min(spec.limit(), MAX_HELD_BYTES / heldSlotSize));
        this.rxOn = spec.direction().rx() && spec.impairs();
        this.txOn = spec.direction().tx() && spec.impairs();
        this.rxRandom = new SplittableRandom(spec.seed() + index);
        this.txRandom = rxRandom.split();
        this.rxHeld = rxOn
                ? new HoldingArea(arena, spec.delays() ? heldCapacity : Math.min(heldCapacity, DUP_SPILL_CAPACITY),
                        heldSlotSize)
                : null;
        this.txHeld = txOn && spec.delays() ? new HoldingArea(arena, heldCapacity, heldSlotSize) : null;
        this.txScratch = txOn && spec.corrupt() > 0
                ? arena.allocate(Math.max(TX_SCRATCH_BYTES, heldSlotSize), 64)
                : null;
    }

    // ------------------------------------------------------------------ NicQueue

    @Override
    public int receive(FrameBatch batch) {
        final long now = clock.getAsLong();
        if (txHeld != null) {
            releaseTx(now);
        }
        if (!rxOn) {
            return inner.receive(batch);
        }
        final HoldingArea held = rxHeld;
        final int capacity = batch.capacity();
        final int slotSize = batch.slotSize();
        int n = 0;
        while (n < capacity && held.hasDue(now)) {
            int slot = held.pop();
            int len = held.length(slot);
            if (len <= slotSize) {
                MemorySegment.copy(held.slab(), held.offset(slot), batch.slot(n), 0, len);
                batch.length(n, len);
                n++;
            } else { // the caller's slots shrank since the frame was held
                count(RX_OVERFLOW);
            }
            held.free(slot);
        }
        final int room = capacity - n;
        if (room > 0) {
            FrameBatch in = rxScratch(room, capacity, slotSize);
            int got = inner.receive(in);
            for (int i = 0; i < got; i++) {
                n = impairRx(in.slot(i), in.length(i), batch, n, now);
            }
        }
        batch.count(n);
        return n;
    }

    @Override
    public boolean transmit(MemorySegment frame, long offset, int length) {
        final long now = clock.getAsLong();
        if (txHeld != null) {
            releaseTx(now); // frames due earlier leave before this one
        }
        if (!txOn) {
            return inner.transmit(frame, offset, length);
        }
        final SplittableRandom random = txRandom;
        int copies = copies(random);
        if (copies == 0) {
            count(TX_DROPPED);
            return true; // lost on the wire: the sender cannot tell
        }
        if (copies == 2) {
            count(TX_DUPLICATED);
        }
        boolean accepted = false;
        for (int c = 0; c < copies; c++) {
            boolean corrupt = roll(random, spec.corrupt());
            long delay = delay(random);
            if (delay == 0) {
                if (corrupt && length > CORRUPT_FROM && length <= txScratch.byteSize()) {
                    MemorySegment.copy(frame, offset, txScratch, 0, length);
                    flipBit(txScratch, 0, length, random);
                    count(TX_CORRUPTED);
                    accepted |= inner.transmit(txScratch, 0, length);
                } else {
                    accepted |= inner.transmit(frame, offset, length);
                }
            } else {
                int slot = txHeld.hold(frame, offset, length, now + delay);
                if (slot < 0) {
                    count(TX_OVERFLOW);
                    continue;
                }
                count(TX_DELAYED);
                if (corrupt && length > CORRUPT_FROM) {
                    flipBit(txHeld.slab(), txHeld.offset(slot), length, random);
                    count(TX_CORRUPTED);
                }
                accepted = true;
            }
        }
        return accepted;
    }

    /** The wrapped queue's descriptor: held frames are announced by {@link #wakeDeadline()}. */
    @Override
    public int pollFd() {
        return inner.pollFd();
    }

    /** Passed to the wrapped queue. */
    @Override
    public void readyNotifier(Runnable notifier) {
        inner.readyNotifier(notifier);
    }

    /** As the wrapped queue (held frames are checked in memory). */
    @Override
    public boolean receiveInMemory() {
        return inner.receiveInMemory();
    }

    /** A held RX frame is due, or the wrapped queue has frames waiting. */
    @Override
    public boolean rxReady() {
        return (rxHeld != null && rxHeld.hasDue(clock.getAsLong())) || inner.rxReady();
    }

    /**
     * The earliest release time of a held frame (RX or TX) or of the wrapped queue, or
     * {@link Long#MAX_VALUE} if nothing is held. It may be in the past: call {@link #receive}.
     */
    @Override
    public long wakeDeadline() {
        long deadline = inner.wakeDeadline();
        if (rxHeld != null && !rxHeld.isEmpty()) {
            deadline = earlier(deadline, rxHeld.earliestDue());
        }
        if (txHeld != null && !txHeld.isEmpty()) {
            deadline = earlier(deadline, txHeld.earliestDue());
        }
        return deadline;
    }

    /**
     * Frames dropped on transmit because the device was full: the wrapped queue's count (which
     * includes held frames it refused on release) plus TX frames that found the holding area full.
     */
    @Override
    public long txDrops() {
        return inner.txDrops() + get(TX_OVERFLOW);
    }

    /** The wrapped queue's flush (frames held back by a delay wait for their time, as before). */
    @Override
    public void flush() {
        inner.flush();
    }

    // ------------------------------------------------------------------ impairment

    /** Impairs one received frame; returns the new count of frames in {@code batch}. */
    private int impairRx(MemorySegment src, int len, FrameBatch batch, int n, long now) {
        final SplittableRandom random = rxRandom;
        int copies = copies(random);
        if (copies == 0) {
            count(RX_DROPPED);
            return n;
        }
        if (copies == 2) {
            count(RX_DUPLICATED);
        }
        for (int c = 0; c < copies; c++) {
            boolean corrupt = roll(random, spec.corrupt());
            long delay = delay(random);
            if (delay == 0 && n < batch.capacity()) {
                MemorySegment dst = batch.slot(n);
                MemorySegment.copy(src, 0, dst, 0, len);
                batch.length(n, len);
                n++;
                if (corrupt && len > CORRUPT_FROM) {
                    flipBit(dst, 0, len, random);
                    count(RX_CORRUPTED);
                }
            } else { // delayed, or a duplicate that found the batch full (due now)
                int slot = rxHeld.hold(src, 0, len, now + delay);
                if (slot < 0) {
                    count(RX_OVERFLOW);
                    continue;
                }
                if (delay > 0) {
                    count(RX_DELAYED);
                }
                if (corrupt && len > CORRUPT_FROM) {
                    flipBit(rxHeld.slab(), rxHeld.offset(slot), len, random);
                    count(RX_CORRUPTED);
                }
            }
        }
        return n;
    }

    /** netem: {@code count = 1; if (dup) ++count; if (loss) --count;}. */
    private int copies(SplittableRandom random) {
        int copies = 1;
        if (roll(random, spec.duplicate())) {
            copies++;
        }
        if (roll(random, spec.loss())) {
            copies--;
        }
        return copies;
    }

    /** Delay of one copy: 0 if reordered (sent at once), else delay ± jitter clamped at 0. */
    private long delay(SplittableRandom random) {
        if (!spec.delays() || roll(random, spec.reorder())) {
            return 0;
        }
        long delay = spec.delayNanos();
        long jitter = spec.jitterNanos();
        if (jitter > 0) {
            delay += random.nextLong(-jitter, jitter + 1);
        }
        return Math.max(0, delay);
    }

    private static boolean roll(SplittableRandom random, double p) {
        return p > 0 && random.nextDouble() < p;
    }

    /** Flips one random bit of one random byte of {@code seg[base + CORRUPT_FROM, base + len)}. */
    private static void flipBit(MemorySegment seg, long base, int len, SplittableRandom random) {
        long at = base + CORRUPT_FROM + random.nextInt(len - CORRUPT_FROM);
        byte b = seg.get(ValueLayout.JAVA_BYTE, at);
        seg.set(ValueLayout.JAVA_BYTE, at, (byte) (b ^ (1 << random.nextInt(8))));
    }

    /** Sends every held TX frame that is due at {@code now}, earliest first. */
    private void releaseTx(long now) {
        final HoldingArea held = txHeld;
        while (held.hasDue(now)) {
            int slot = held.pop();
            inner.transmit(held.slab(), held.offset(slot), held.length(slot)); // refusal: inner txDrops
            held.free(slot);
        }
    }

    /** An internal batch of at most {@code room} slots of {@code slotSize} bytes. */
    private FrameBatch rxScratch(int room, int capacity, int slotSize) {
        if (slotSize != rxScratchSlotSize) { // first call, or the caller changed its slot size
            java.util.Arrays.fill(rxScratch, null);
            rxScratchFull = null;
            rxScratchSlotSize = slotSize;
        }
        if (room == capacity) {
            FrameBatch full = rxScratchFull;
            if (full == null || full.capacity() != capacity) {
                full = new FrameBatch(arena, capacity, slotSize);
                rxScratchFull = full;
            }
            return full;
        }
        int k = 31 - Integer.numberOfLeadingZeros(room);
        FrameBatch b = rxScratch[k];
        if (b == null) {
            b = new FrameBatch(arena, 1 << k, slotSize);
            rxScratch[k] = b;
        }
        return b;
    }

    /** The earlier of two {@code nanoTime} deadlines, {@link Long#MAX_VALUE} meaning none. */
    private static long earlier(long a, long b) {
        if (a == Long.MAX_VALUE) {
            return b;
        }
        return b - a < 0 ? b : a;
    }

    private void count(int counter) {
        COUNTER.setOpaque(counters, counter, counters[counter] + 1);
    }

    private long get(int counter) {
        return (long) COUNTER.getOpaque(counters, counter);
    }

    // ------------------------------------------------------------------ counters and state

    /** RX frames dropped by {@code loss}. */
    public long rxDropped() {
        return get(RX_DROPPED);
    }

    /** RX frames delivered twice by {@code dup}. */
    public long rxDuplicated() {
        return get(RX_DUPLICATED);
    }

    /** RX copies with one bit flipped by {@code corrupt}. */
    public long rxCorrupted() {
        return get(RX_CORRUPTED);
    }

    /** RX copies held back by {@code delay}/{@code jitter} (not the reordered ones). */
    public long rxDelayed() {
        return get(RX_DELAYED);
    }

    /** TX frames dropped by {@code loss} (reported as sent). */
    public long txDropped() {
        return get(TX_DROPPED);
    }

    /** TX frames sent twice by {@code dup}. */
    public long txDuplicated() {
        return get(TX_DUPLICATED);
    }

    /** TX copies with one bit flipped by {@code corrupt}. */
    public long txCorrupted() {
        return get(TX_CORRUPTED);
    }

    /** TX copies held back by {@code delay}/{@code jitter} (not the reordered ones). */
    public long txDelayed() {
        return get(TX_DELAYED);
    }

    /** Copies dropped because the holding area was full or a slot too small, both directions. */
    public long heldOverflow() {
        return get(RX_OVERFLOW) + get(TX_OVERFLOW);
    }

    /** Owner only: RX frames held now. */
    public int heldRx() {
        return rxHeld == null ? 0 : rxHeld.size();
    }

    /** Owner only: TX frames held now. */
    public int heldTx() {
        return txHeld == null ? 0 : txHeld.size();
    }

    /**
     * Slots of the holding area of one delaying direction. An RX direction without delay or
     * jitter only holds duplicates that found the batch full, in at most 256 slots.
     */
    public int heldCapacity() {
        return heldCapacity;
    }

    /** Bytes of one holding slot: the longest frame that can be held back. */
    public int heldSlotSize() {
        return heldSlotSize;
    }

    /** The wrapped queue. */
    public NicQueue inner() {
        return inner;
    }

    /** Queue number in the NIC (the random seed is {@code spec().seed() + index()}). */
    public int index() {
        return index;
    }

    /** The impairment profile. */
    public ImpairmentSpec spec() {
        return spec;
    }

    @Override
    public String toString() {
        return "ImpairedQueue[" + inner + " " + spec + "]";
    }
}
