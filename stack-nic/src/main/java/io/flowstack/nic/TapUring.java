package io.flowstack.nic;

import io.flowstack.nativeio.Errno;
import io.flowstack.nativeio.IoUring;
import io.flowstack.nativeio.IoUringLayout;
import io.flowstack.nativeio.Libc;
import io.flowstack.nativeio.NativeException;
import io.flowstack.nativeio.Tun;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.ref.Reference;

/**
 * A {@link TapQueue}'s batched I/O: many frames per system call on a descriptor whose
 * {@code read} and {@code write} take one frame each (FRAME-IO §1.2), through one io_uring.
 *
 * <p><b>Receive</b>: one {@code io_uring_enter} submits up to a batch of {@code READV}s with
 * {@code RWF_NOWAIT}, one per slot of the caller's {@link FrameBatch}; each completes inside that
 * call, with a frame or {@code -EAGAIN} ({@link IoUring#prepareReadvNoWait}), so nothing stays
 * in flight. How many reads a call asks for follows the traffic: twice the frames the last call
 * found, at least {@value #MIN_READS}, at most the batch. A frame that came after an earlier read
 * of the same call found the queue empty is moved down to keep the batch dense and in order.
 *
 * <p><b>Transmit</b>: a frame that fits a transmit slot ({@value #TX_SLOT_BYTES} bytes with its
 * vnet header) is copied into one and queued as a {@code WRITE}; the queued writes go to the
 * kernel with one {@code io_uring_enter} when {@value #TX_SLOTS} are queued, at the start of the
 * next receive, or at {@link #flush()}, which the owner calls at the end of every pass
 * ({@link NicQueue#flush()}). A larger frame (a super-frame) first flushes the queued ones, so
 * the order on the wire is the order of the calls, and is then written at once by the queue's own
 * {@code writev}. A queued frame's drop or error is counted when its completion is reaped, in the
 * queue's counters ({@link CountingQueue}); the transmit call itself returned true.
 *
 * <p>Every read and write completes inside the {@code io_uring_enter} that submits it (reads by
 * {@code RWF_NOWAIT}, writes because a TAP's write never waits), so each call waits for all it
 * submitted and reaps them before it returns: the buffers are free again and the completion ring
 * never holds more than one call's entries, and the arrival signal's.
 *
 * <p><b>Arrival signal</b> ({@link #armSignal}, {@link #signalled}): an idle owner that spins
 * would otherwise find a frame only by reading, a system call every few microseconds. Instead it
 * arms a one-shot {@code POLL_ADD} for {@code POLLIN} once per idle spell and watches memory:
 * the ring is set up with {@code COOP_TASKRUN | TASKRUN_FLAG}, so when the kernel queues a frame
 * the poll's completion waits for the owner's next entry and {@code IORING_SQ_TASKRUN} shows in the
 * SQ ring's flags (or the completion itself, if the thread entered the kernel meanwhile). A poll
 * armed while a frame waits completes at once, so a frame that came between the read that found
 * nothing and the arming is not missed. The completion is reaped with the next call's and disarms
 * the signal.
 *
 * <p>Owned by: the queue's netisr, one submitter at a time (the ring is not
 * {@code IORING_SETUP_SINGLE_ISSUER}: a parked core's netisr runs on another thread, handed over
 * by the parking protocol). Allocation-free after construction.
 */
final class TapUring implements AutoCloseable {
    /** Frames queued for one transmit system call at most. */
    static final int TX_SLOTS = 32;
    /** Bytes of a transmit slot: a vnet header (padded to 16) and a frame of up to 2,032 bytes. */
    static final int TX_SLOT_BYTES = 2048;
    /** Where a transmit slot's frame starts (after the vnet header space). */
    private static final int TX_FRAME_OFFSET = 16;
    /** Fewest reads one receive asks for: one frame and the read that finds the queue empty. */
    static final int MIN_READS = 2;
    /** {@code user_data} bit of a read's completion; a write's is its slot. */
    private static final long READ = 1L << 32;
    /** {@code user_data} of the arrival signal's poll. */
    private static final long POLL = 1L << 33;
    /** The ring's setup flags with the arrival signal, and without (a kernel older than 5.19). */
    private static final int SIGNAL_SETUP = IoUringLayout.IORING_SETUP_SUBMIT_ALL
            | IoUringLayout.IORING_SETUP_COOP_TASKRUN | IoUringLayout.IORING_SETUP_TASKRUN_FLAG;
    private static final long OVERFLOW_BYTES = 64;

    private final TapQueue queue;
    private final int fd;
    private final boolean vnetHeader;
    private final IoUring ring;
    private final int maxReads;
    /** Per read: [vnet header,] the batch slot, the overflow scratch ({@code 3} iovecs each). */
    private final MemorySegment rxIovs;
    private final int rxIovCount;
    /** Per read: its vnet header (16 bytes each). */
    private final MemorySegment rxHeaders;
    /** Per read of the current call: its result (bytes or {@code -errno}). */
    private final int[] rxResults;
    private final MemorySegment txSlots;
    /** Per queued write: the frame's length without the vnet header (for the counters). */
    private final int[] txLengths;
    private int txQueued;
    private int reads = MIN_READS;
    /** Whether the ring was set up for the arrival signal. */
    private final boolean signals;
    /** The arrival signal's poll is submitted and its completion not yet reaped. */
    private boolean pollArmed;

    /**
     * @param queue the queue whose counters this updates
     * @param fd the TAP descriptor
     * @param vnetHeader whether every frame carries a vnet header
     * @param maxReads the largest batch a receive will be given
     * @param arena where the iovecs, headers and transmit slots live (the queue's)
     * @throws io.flowstack.nativeio.NativeException naming {@code io_uring_setup} if the kernel
     *     refuses a ring ({@code kernel.io_uring_disabled}, no io_uring)
     */
    TapUring(TapQueue queue, int fd, boolean vnetHeader, int maxReads, Arena arena) {
        this.queue = queue;
        this.fd = fd;
        this.vnetHeader = vnetHeader;
        this.maxReads = maxReads;
        // room for a full set of queued writes and a full batch of reads (the kernel rounds up)
        IoUring r;
        boolean withSignals = true;
        try {
            r = IoUring.open(TX_SLOTS + maxReads, SIGNAL_SETUP, 0);
        } catch (NativeException e) {
            if (e.errno() != Errno.EINVAL) {
                throw e;
            }
            r = IoUring.open(TX_SLOTS + maxReads, IoUringLayout.IORING_SETUP_SUBMIT_ALL, 0);
            withSignals = false;
        }
        this.ring = r;
        this.signals = withSignals;
        this.rxIovCount = vnetHeader ? 3 : 2;
        this.rxIovs = arena.allocate((long) maxReads * 3 * Libc.IOVEC_SIZE, 8);
        this.rxHeaders = arena.allocate((long) maxReads * 16, 8);
        MemorySegment overflow = arena.allocate(OVERFLOW_BYTES, 8);
        for (int i = 0; i < maxReads; i++) {
            long iov = (long) i * 3 * Libc.IOVEC_SIZE;
            if (vnetHeader) {
                setIov(iov, rxHeaders.address() + i * 16L, Tun.VNET_HDR_LEN);
                iov += Libc.IOVEC_SIZE;
            }
            setIov(iov + Libc.IOVEC_SIZE, overflow.address(), OVERFLOW_BYTES);
        }
        this.rxResults = new int[maxReads];
        this.txSlots = arena.allocate((long) TX_SLOTS * TX_SLOT_BYTES, 64);
        this.txLengths = new int[TX_SLOTS];
    }

    private void setIov(long at, long address, long length) {
        rxIovs.set(ValueLayout.JAVA_LONG, at + Libc.IOVEC_BASE, address);
        rxIovs.set(ValueLayout.JAVA_LONG, at + Libc.IOVEC_LEN, length);
    }

    /** The {@code io_uring_enter} calls made so far (tests, statistics). */
    long enterCalls() {
        return ring.enterCalls();
    }

    /**
     * Reads up to the batch's capacity (and the adaptive read count) with one system call, after
     * any queued writes in the same call. Fills the batch from slot 0 and sets its count.
     *
     * @return the frames read
     */
    int receive(FrameBatch batch) {
        int want = Math.min(Math.min(reads, batch.capacity()), maxReads);
        int slotSize = batch.slotSize();
        long slotIov = vnetHeader ? Libc.IOVEC_SIZE : 0;
        for (int i = 0; i < want; i++) {
            long iov = (long) i * 3 * Libc.IOVEC_SIZE;
            setIov(iov + slotIov, batch.slot(i).address(), slotSize);
            ring.prepareReadvNoWait(fd, rxIovs.address() + iov, rxIovCount, READ | i);
        }
        submitAndReap(0);
        Reference.reachabilityFence(batch);
        int n = 0;
        int truncated = 0;
        long bytes = 0;
        for (int i = 0; i < want; i++) {
            int r = rxResults[i];
            if (vnetHeader && r >= 0) {
                r = r <= Tun.VNET_HDR_LEN ? -Errno.EAGAIN : r - Tun.VNET_HDR_LEN;
            }
            if (r <= 0) {
                if (r < 0 && r != -Errno.EAGAIN) {
                    queue.countRxError();
                }
                continue;
            }
            if (r > slotSize) {
                truncated++;
                continue;
            }
            if (i != n) { // an earlier read found the queue empty before this frame came
                MemorySegment.copy(batch.slot(i), 0, batch.slot(n), 0, r);
            }
            if (vnetHeader) {
                TapQueue.frameFromHeader(batch, n, r, rxHeaders, i * 16L);
            } else {
                batch.length(n, r);
            }
            bytes += r;
            n++;
        }
        batch.count(n);
        reads = Math.max(MIN_READS, Math.min(maxReads, 2 * n));
        queue.countRxOf(n, bytes, truncated);
        return n;
    }

    /**
     * Queues {@code frame[offset, offset + length)} if it fits a transmit slot.
     *
     * @return false if it does not fit (the caller writes it itself after {@link #flush()})
     */
    boolean queue(MemorySegment frame, long offset, int length) {
        if (length > TX_SLOT_BYTES - TX_FRAME_OFFSET) {
            return false;
        }
        long slot = nextSlot();
        if (vnetHeader) {
            long h = slot + TX_FRAME_OFFSET - Tun.VNET_HDR_LEN; // no offload asked: all ten bytes zero
            txSlots.set(ValueLayout.JAVA_LONG_UNALIGNED, h, 0L);
            txSlots.set(ValueLayout.JAVA_SHORT_UNALIGNED, h + 8, (short) 0);
        }
        MemorySegment.copy(frame, offset, txSlots, slot + TX_FRAME_OFFSET, length);
        enqueue(slot, length);
        return true;
    }

    /**
     * Queues a gathered frame (headers, payload slices, offload requests in its vnet header) if it
     * fits a transmit slot; a vnet header is required.
     *
     * @return false if it does not fit (the caller writes it itself after {@link #flush()})
     */
    boolean queue(TxFrame frame) {
        int length = frame.length();
        if (length > TX_SLOT_BYTES - TX_FRAME_OFFSET) {
            return false;
        }
        long slot = nextSlot();
        frame.putVnetHeader(txSlots, slot + TX_FRAME_OFFSET - Tun.VNET_HDR_LEN);
        enqueue(slot, frame.copyTo(txSlots, slot + TX_FRAME_OFFSET));
        return true;
    }

    /** The offset of the next free transmit slot, after a flush if all are queued. */
    private long nextSlot() {
        if (txQueued == TX_SLOTS) {
            flush();
        }
        return (long) txQueued * TX_SLOT_BYTES;
    }

    private void enqueue(long slot, int length) {
        int header = vnetHeader ? Tun.VNET_HDR_LEN : 0;
        ring.prepareWrite(fd, txSlots.address() + slot + TX_FRAME_OFFSET - header, length + header, txQueued);
        txLengths[txQueued++] = length;
    }

    /**
     * Arms the arrival signal if it is not armed: a one-shot poll for input, submitted with any
     * queued writes in one call; it completes inside that call if a frame is waiting.
     *
     * @return false if this ring cannot signal (set up without it); the owner reads on a timer
     */
    boolean armSignal() {
        if (!signals) {
            return false;
        }
        if (!pollArmed) {
            if (!ring.preparePollIn(fd, POLL)) {
                return false; // not expected: the ring has room for every queued write and more
            }
            pollArmed = true;
            submitAndReap(1);
        }
        return true;
    }

    /**
     * Whether the armed signal says a frame may be waiting: its completion is in the ring, or the
     * kernel holds it until the next entry ({@code IORING_SQ_TASKRUN}). Memory reads only; true
     * also when the signal is not armed (the owner then reads, which is always correct).
     */
    boolean signalled() {
        return !pollArmed || ring.ready() > 0 || ring.taskRunPending();
    }

    /** Writes the queued frames with one system call, if there are any. */
    void flush() {
        if (ring.pending() > 0) {
            submitAndReap(0);
        }
    }

    /**
     * Submits every prepared operation, waiting for all of them (they complete inside the call),
     * and reaps their completions: reads' results into {@link #rxResults}, writes counted, the
     * arrival signal's poll disarmed if it fired.
     *
     * @param polls how many of the prepared operations are polls, which are not waited for
     */
    private void submitAndReap(int polls) {
        int expected = ring.pending() - polls;
        int reaped = 0;
        int tries = 0;
        do {
            int r = ring.submit(expected - reaped);
            if (r < 0 && tries++ > 3) { // the kernel keeps refusing (-EAGAIN, -EBUSY): nothing moved
                throw new IllegalStateException("io_uring_enter on " + queue + ": errno " + -r);
            }
            int ready = ring.ready();
            for (int c = 0; c < ready; c++) {
                long ud = ring.userData(c);
                int res = ring.result(c);
                if (ud == POLL) {
                    pollArmed = false; // fired (or failed): the next idle spell arms it again
                    continue;
                }
                if ((ud & READ) != 0) {
                    rxResults[(int) ud] = res;
                } else {
                    queue.countWrite(res, txLengths[(int) ud]);
                }
                reaped++;
            }
            ring.advance(ready);
        } while (reaped < expected);
        txQueued = 0;
    }

    /** Closes the io_uring; once, by the queue's own close. */
    @Override
    public void close() {
        ring.close();
    }
}
