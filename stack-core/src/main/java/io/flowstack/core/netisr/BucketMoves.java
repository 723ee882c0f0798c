package io.flowstack.core.netisr;

import io.flowstack.core.flow.IndirectionTable;
import io.flowstack.core.stats.Stat;
import io.flowstack.core.tcp.Tcb;
import io.flowstack.core.wire.msg.HeldFrameRecord;
import io.flowstack.core.wire.msg.MigrateAdoptMsg;
import io.flowstack.core.wire.msg.MigrateMarkFwdMsg;
import io.flowstack.core.wire.msg.MigrateMarkMsg;
import io.flowstack.core.wire.msg.MigrateViewMsg;
import io.flowstack.core.wire.msg.TcpDoorbellFwdMsg;
import io.flowstack.core.wire.msg.TimeWaitMsg;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.List;
import java.util.function.Consumer;
import org.agrona.concurrent.OneToOneConcurrentArrayQueue;
import org.agrona.concurrent.ringbuffer.OneToOneRingBuffer;

/**
 * One core's side of the rebalancing protocol (docs/REBALANCING.md): moving a bucket of the
 * indirection table, with its TCP connections, to another core by message, so that no frame of
 * a moved flow is lost or overtaken by a later one.
 *
 * <p>The protocol, for bucket b moving from core A to core B (other cores C):
 * <ol>
 *   <li>A (a command) points its replica at B, takes b's connections out of its tables, puts
 *       them in the (A, B) migration queue and sends {@code ADOPT(b)} on the A to B ring. Every
 *       frame of b that reaches A from now on is forwarded to B on the same ring, after it.</li>
 *   <li>B, on {@code ADOPT}, points its replica at B, adopts the connections and from then on
 *       holds the frames of b that come from any source but A (its own NIC queue, or a ring
 *       from C) until that source's mark came back through A. It sends {@code MARK(b, B)} to A
 *       and {@code VIEW(b)} to every C.</li>
 *   <li>C, on {@code VIEW}, points its replica at B and sends {@code MARK(b, C)} to A. Every frame
 *       of b that C sent A before the mark is ahead of it on the C to A ring.</li>
 *   <li>A, on {@code MARK(b, s)}, forwards it to B ({@code MARK_FWD}): behind every frame of b
 *       that came from s through A. B, on it, processes what it held from s, in order. When all
 *       marks are in, the move is complete.</li>
 * </ol>
 * Rings are FIFO and each has one producer, so each source's frames of b reach the flow's owner
 * in the order that source read them. A core's replica names it as a bucket's owner exactly while
 * it holds the bucket's connections.
 *
 * <p>Owned by: its netisr (every method runs on that thread).
 */
final class BucketMoves {
    private final Netisr n;
    private final int cores;
    private final byte[] pending; // [bucket * cores + source]: that source's mark is still owed
    private final int[] pendingCount; // per bucket
    private final Migration[] incoming; // per bucket: the move waiting for its marks
    private int settling; // buckets with marks owed
    private final int holdBytes;
    private final int batchBytes; // the most one NIC read can add to the hold buffer
    private final MemorySegment held;
    private final MemorySegment releasing;
    private int heldBytes;
    private boolean wasPaused; // at the last NIC read: counts each wait once
    private final ArrayDeque<int[]>[] deferred; // per target: control messages the ring refused
    private int deferredCount;

    @SuppressWarnings("unchecked")
    BucketMoves(Netisr n, Arena arena, int cores, int buckets, int holdBytes, int rxBatch, int rxSlot) {
        this.n = n;
        this.cores = cores;
        this.pending = new byte[buckets * cores];
        this.pendingCount = new int[buckets];
        this.incoming = new Migration[buckets];
        this.batchBytes = rxBatch * HeldFrameRecord.size(rxSlot);
        // half for the NIC (which waits when it is used up), half for frames from other cores
        this.holdBytes = Math.max(holdBytes, 4 * batchBytes);
        this.held = arena.allocate(this.holdBytes, 64);
        this.releasing = arena.allocate(this.holdBytes, 64);
        this.deferred = new ArrayDeque[cores];
        for (int i = 0; i < cores; i++) {
            deferred[i] = new ArrayDeque<>();
        }
    }

    /** Buckets that moved here and still wait for marks. */
    int settling() {
        return settling;
    }

    // ------------------------------------------------------------------ old owner

    void moveOut(int bucket, int target, Consumer<String> done) {
        IndirectionTable t = n.table();
        if (bucket < 0 || bucket >= t.size()) {
            done.accept("bucket " + bucket + " does not exist (0.." + (t.size() - 1) + ")");
            return;
        }
        if (target < 0 || target >= cores) {
            done.accept("core " + target + " does not exist (0.." + (cores - 1) + ")");
            return;
        }
        if (t.owner(bucket) != n.core()) {
            done.accept("bucket " + bucket + " is not on core " + n.core() + " (core " + t.owner(bucket)
                    + " has it): read the table again and retry");
            return;
        }
        if (target == n.core()) {
            done.accept(null);
            return;
        }
        if (pendingCount[bucket] > 0) {
            done.accept("bucket " + bucket + " is still settling from its last move: retry");
            return;
        }
        OneToOneConcurrentArrayQueue<Migration> q = n.migrationOut(target);
        Rings.Ring<OneToOneRingBuffer> r = n.outbox(target);
        if (q.remainingCapacity() == 0) {
            done.accept("core " + target + " has not taken the previous moves yet: retry");
            return;
        }
        int index = r.ring().tryClaim(MigrateAdoptMsg.TYPE, MigrateAdoptMsg.LENGTH); // claimed first: the move cannot fail half-way
        if (index < 0) {
            done.accept("the ring to core " + target + " is full: retry");
            return;
        }
        IndirectionTable next = t.withBucket(bucket, target);
        n.installTable(next);
        List<Tcb> connections = n.tcp().emigrate(bucket, next, target);
        q.offer(new Migration(bucket, n.core(), target, connections, done));
        MigrateAdoptMsg.write(r.segment(), index, bucket, n.core());
        n.wakeLater(target); // before the commit (Netisr.wakeOwed)
        r.ring().commit(index);
        sendTimeWait(r, n.tcp().emigrateTimeWait(bucket, next));
        n.counters().inc(Stat.BUCKETS_OUT);
    }

    /**
     * The bucket's TIME-WAIT entries ({@link TimeWaitMsg} entries in {@code entries}) follow its
     * ADOPT on the same ring, so the new owner has them before it processes any frame of the
     * bucket (those from this core come later on this ring; the others wait for marks that do
     * too). Entries that find no room on the ring are dropped, counted as TIME-WAIT overflow:
     * the 4-tuple merely leaves TIME-WAIT early (as when the table is full).
     */
    private void sendTimeWait(Rings.Ring<OneToOneRingBuffer> r, MemorySegment entries) {
        int total = (int) (entries.byteSize() / TimeWaitMsg.ENTRY);
        for (int sent = 0; sent < total; ) {
            int k = Math.min(TimeWaitMsg.MAX_ENTRIES, total - sent);
            int index = r.ring().tryClaim(TimeWaitMsg.TYPE, TimeWaitMsg.length(k));
            if (index < 0) {
                n.counters().add(Stat.TCP_TIME_WAIT_OVERFLOW, total - sent);
                return;
            }
            TimeWaitMsg.writeHeader(r.segment(), index, k);
            MemorySegment.copy(entries, (long) sent * TimeWaitMsg.ENTRY, r.segment(), TimeWaitMsg.entry(index, 0),
                    (long) k * TimeWaitMsg.ENTRY);
            r.ring().commit(index);
            sent += k;
        }
    }

    /** A core that learnt of the move sends no more frames of the bucket here: tell the new owner. */
    void mark(int bucket, int source, int newOwner) {
        send(newOwner, MigrateMarkFwdMsg.TYPE, bucket, source, 0);
    }

    // ------------------------------------------------------------------ new owner

    void adopt(int bucket, int from, Migration m) {
        if (m == null || m.bucket() != bucket) {
            throw new IllegalStateException("ADOPT of bucket " + bucket + " from core " + from
                    + " without its migration (" + m + ")");
        }
        n.installTable(n.table().withBucket(bucket, n.core()));
        n.tcp().immigrate(m.connections(), from);
        for (int s = 0; s < cores; s++) {
            if (s != from) {
                pending[bucket * cores + s] = 1;
            }
        }
        pendingCount[bucket] = cores - 1;
        incoming[bucket] = m;
        settling++;
        n.counters().inc(Stat.BUCKETS_IN);
        send(from, MigrateMarkMsg.TYPE, bucket, n.core(), n.core());
        for (int c = 0; c < cores; c++) {
            if (c != from && c != n.core()) {
                send(c, MigrateViewMsg.TYPE, bucket, n.core(), from);
            }
        }
    }

    /** Whether frames of {@code bucket} from {@code source} must wait for that source's mark. */
    boolean holds(int bucket, int source) {
        return settling > 0 && pending[bucket * cores + source] != 0;
    }

    /**
     * Whether this core may read a batch from its NIC queue now. While buckets settle, the NIC
     * waits (its frames stay queued in the NIC) when one more batch could take the hold buffer
     * past half: the other half is for frames from other cores' rings, which cannot wait, since
     * a ring also carries the marks that empty the buffer. The NIC's frames are never dropped
     * for want of hold space, and the wait lasts until the old owners' marks come back.
     */
    boolean mayReadNic() {
        boolean pause = rxPaused();
        if (pause && !wasPaused) {
            n.counters().inc(Stat.MOVE_RX_PAUSED);
        }
        wasPaused = pause;
        return !pause;
    }

    /** Whether the NIC queue must wait now: one more batch could fill the NIC's half of the buffer. */
    boolean rxPaused() {
        return heldBytes > 0 && heldBytes + batchBytes > holdBytes / 2;
    }

    /**
     * Keeps a frame until its source's mark arrives. A frame from another core's ring that finds
     * the buffer full is dropped and counted (TCP retransmits it); the NIC's never do, as
     * {@link #mayReadNic} keeps room for a whole batch.
     */
    void hold(int bucket, int source, int type, MemorySegment s, long off, int len) {
        int need = HeldFrameRecord.size(len);
        if (heldBytes + need > holdBytes) {
            n.counters().inc(Stat.MOVE_HOLD_FULL);
            return;
        }
        HeldFrameRecord.write(held, heldBytes, bucket, source, type, s, off, len);
        heldBytes += need;
        n.counters().inc(Stat.MOVE_HELD);
    }

    /**
     * {@code source}'s mark for {@code bucket}, behind everything of the bucket that source sent
     * through the old owner: what was held from it may go now, in order.
     */
    void markForwarded(int bucket, int source) {
        int i = bucket * cores + source;
        if (pending[i] == 0) {
            throw new IllegalStateException("unexpected mark of core " + source + " for bucket " + bucket);
        }
        pending[i] = 0;
        releaseHeld(bucket, source);
        if (--pendingCount[bucket] == 0) {
            settling--;
            Migration m = incoming[bucket];
            incoming[bucket] = null;
            m.done().accept(null);
        }
    }

    /** Moves the held frames of (bucket, source) aside, compacting the rest, then processes them. */
    private void releaseHeld(int bucket, int source) {
        int w = 0;
        int out = 0;
        for (int r = 0; r < heldBytes; ) {
            int size = HeldFrameRecord.size(HeldFrameRecord.frameLength(held, r));
            if (HeldFrameRecord.bucket(held, r) == bucket && HeldFrameRecord.source(held, r) == source) {
                MemorySegment.copy(held, r, releasing, out, size);
                out += size;
            } else {
                if (w != r) {
                    MemorySegment.copy(held, r, held, w, size);
                }
                w += size;
            }
            r += size;
        }
        heldBytes = w;
        for (int r = 0; r < out; ) {
            int len = HeldFrameRecord.frameLength(releasing, r);
            n.process(bucket, HeldFrameRecord.msgType(releasing, r), releasing, r + HeldFrameRecord.FRAME, len);
            r += HeldFrameRecord.size(len);
        }
    }

    // ------------------------------------------------------------------ third cores

    void view(int bucket, int newOwner, int oldOwner) {
        n.installTable(n.table().withBucket(bucket, newOwner));
        send(oldOwner, MigrateMarkMsg.TYPE, bucket, n.core(), newOwner);
    }

    // ------------------------------------------------------------------ control messages

    /**
     * Sends a control message ({@link MigrateViewMsg}, {@link MigrateMarkMsg},
     * {@link MigrateMarkFwdMsg} or {@link TcpDoorbellFwdMsg}, its fields in {@code a, b, c} in
     * layout order), in order behind any the ring refused earlier.
     */
    void send(int target, int type, int a, int b, int c) {
        ArrayDeque<int[]> q = deferred[target];
        if (q.isEmpty() && trySend(target, type, a, b, c)) {
            return;
        }
        q.addLast(new int[] {type, a, b, c});
        deferredCount++;
    }

    private boolean trySend(int target, int type, int a, int b, int c) {
        int length = switch (type) {
            case MigrateViewMsg.TYPE -> MigrateViewMsg.LENGTH;
            case MigrateMarkMsg.TYPE -> MigrateMarkMsg.LENGTH;
            case MigrateMarkFwdMsg.TYPE -> MigrateMarkFwdMsg.LENGTH;
            case TcpDoorbellFwdMsg.TYPE -> TcpDoorbellFwdMsg.LENGTH;
            default -> throw new IllegalArgumentException("not a control message: " + type);
        };
        Rings.Ring<OneToOneRingBuffer> r = n.outbox(target);
        int index = r.ring().tryClaim(type, length);
        if (index < 0) {
            return false;
        }
        MemorySegment m = r.segment();
        switch (type) {
            case MigrateViewMsg.TYPE -> MigrateViewMsg.write(m, index, a, b, c);
            case MigrateMarkMsg.TYPE -> MigrateMarkMsg.write(m, index, a, b, c);
            case MigrateMarkFwdMsg.TYPE -> MigrateMarkFwdMsg.write(m, index, a, b);
            default -> TcpDoorbellFwdMsg.write(m, index, a);
        }
        n.wakeLater(target); // before the commit (Netisr.wakeOwed)
        r.ring().commit(index);
        return true;
    }

    boolean hasDeferred() {
        return deferredCount > 0;
    }

    /** Retries the control messages a full ring refused (every pass). */
    void flushDeferred() {
        if (deferredCount == 0) {
            return;
        }
        for (int t = 0; t < cores; t++) {
            ArrayDeque<int[]> q = deferred[t];
            while (!q.isEmpty()) {
                int[] m = q.peekFirst();
                if (!trySend(t, m[0], m[1], m[2], m[3])) {
                    break;
                }
                q.pollFirst();
                deferredCount--;
            }
        }
    }
}
