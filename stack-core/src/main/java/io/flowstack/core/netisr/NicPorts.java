package io.flowstack.core.netisr;

import io.flowstack.core.stats.Stat;
import io.flowstack.core.percore.Counters;
import io.flowstack.nativeio.Poller;
import io.flowstack.nic.FrameBatch;
import io.flowstack.nic.NicQueue;
import io.flowstack.nic.TxFrame;
import java.lang.foreign.MemorySegment;

/**
 * One core's queue of every interface ({@code queues[i]} belongs to interface {@code i}): reads
 * them in turn into the netisr's batch, transmits on the one a frame leaves by, and puts their
 * descriptors in the netisr's poll set. A stack with one interface has one.
 *
 * <p>Owned by: its netisr thread (each queue has this netisr as its one consumer and producer).
 */
final class NicPorts {
    private final NicQueue[] queues;
    private final Counters counters;
    private final int commonOffloads;
    private final boolean inMemory;
    /** [interface]: the stack coalesces its TCP segments ({@link NicQueue#softGro()}). */
    private final boolean[] softGro;
    /** Per interface: frames and bytes read and sent, frames the queue refused (this netisr's; read on it). */
    private final long[] rxFrames;
    private final long[] rxBytes;
    private final long[] txFrames;
    private final long[] txBytes;
    private final long[] txDrops;
    /** [poll slot - first slot]: the interface whose descriptor is in that slot of the poll set. */
    private final int[] polled;
    private int polledCount;

    NicPorts(NicQueue[] queues, Counters counters) {
        this.queues = queues.clone();
        this.counters = counters;
        int common = -1;
        boolean mem = true;
        for (NicQueue q : queues) {
            common &= q.txOffloads();
            mem &= q.receiveInMemory();
        }
        this.commonOffloads = common;
        this.inMemory = mem;
        this.softGro = new boolean[queues.length];
        for (int i = 0; i < queues.length; i++) {
            softGro[i] = queues[i].softGro();
        }
        this.polled = new int[queues.length];
        this.rxFrames = new long[queues.length];
        this.rxBytes = new long[queues.length];
        this.txFrames = new long[queues.length];
        this.txBytes = new long[queues.length];
        this.txDrops = new long[queues.length];
    }

    /**
     * Interface {@code i}'s counters: frames and bytes read, frames and bytes sent, frames refused.
     *
     * @return a new array of five
     */
    long[] counters(int i) {
        return new long[] {rxFrames[i], rxBytes[i], txFrames[i], txBytes[i], txDrops[i]};
    }

    /** How many interfaces. */
    int count() {
        return queues.length;
    }

    /** The transmit offloads every queue has. */
    int txOffloads() {
        return commonOffloads;
    }

    /** Interface {@code i}'s transmit offloads. */
    int txOffloads(int i) {
        return queues[i].txOffloads();
    }

    /** The longest frame any queue may deliver (a super-frame), 0 if none says. */
    int maxReceiveFrame() {
        int m = 0;
        for (NicQueue q : queues) {
            m = Math.max(m, q.maxReceiveFrame());
        }
        return m;
    }

    /** Whether some queue's TCP segments are coalesced by the stack ({@link NicQueue#softGro()}); control path. */
    boolean anySoftGro() {
        for (boolean g : softGro) {
            if (g) {
                return true;
            }
        }
        return false;
    }

    /** Whether interface {@code i}'s TCP segments are coalesced by the stack ({@link NicQueue#softGro()}). */
    boolean softGro(int i) {
        return softGro[i];
    }

    /** Whether an empty receive is a memory read on every queue (else a system call on some). */
    boolean receiveInMemory() {
        return inMemory;
    }

    /**
     * Arms every queue's arrival signal ({@link NicQueue#armRxSignal}), for an idle spin.
     *
     * @return true if every queue can signal (none is read in memory), so the owner may read
     *     only when {@link #rxSignalled()} says so; false: it reads on its timer
     */
    boolean armRxSignals() {
        if (inMemory) {
            return false;
        }
        boolean all = true;
        for (NicQueue q : queues) {
            all &= q.armRxSignal(); // false for a queue read in memory (the default)
        }
        return all;
    }

    /** After {@link #armRxSignals()} returned true: whether some queue may have a frame (memory reads). */
    boolean rxSignalled() {
        for (NicQueue q : queues) {
            if (q.rxSignalled()) {
                return true;
            }
        }
        return false;
    }

    /** Has every queue call {@code notifier} when it has frames and no descriptor to poll. */
    void readyNotifier(Runnable notifier) {
        for (NicQueue q : queues) {
            q.readyNotifier(notifier);
        }
    }

    /** Reads one batch from each queue and feeds it to {@code input}; the frames read. */
    int receive(FrameBatch batch, RxBatchInput input) {
        int total = 0;
        for (int i = 0; i < queues.length; i++) {
            int n = queues[i].receive(batch);
            if (n > 0) {
                rxFrames[i] += n;
                for (int k = 0; k < n; k++) {
                    rxBytes[i] += batch.length(k);
                }
            }
            input.input(i, batch, n);
            total += n;
        }
        return total;
    }

    /** Has every queue hand the device the frames it holds ({@link NicQueue#flush}). */
    void flush() {
        for (NicQueue q : queues) {
            q.flush();
        }
    }

    /** Sends a complete frame on interface {@code i}; counted. */
    void transmit(int i, MemorySegment s, long off, int len) {
        if (queues[i].transmit(s, off, len)) {
            counters.inc(Stat.TX_FRAMES);
            counters.add(Stat.TX_BYTES, len);
            txFrames[i]++;
            txBytes[i] += len;
        } else {
            counters.inc(Stat.TX_QUEUE_FULL);
            txDrops[i]++;
        }
    }

    /** Sends a gathered frame on interface {@code i}; counted. */
    void transmit(int i, TxFrame frame) {
        int len = frame.length();
        if (queues[i].transmit(frame)) {
            counters.inc(Stat.TX_FRAMES);
            counters.add(Stat.TX_BYTES, len);
            txFrames[i]++;
            txBytes[i] += len;
            if (frame.gsoType() != TxFrame.GSO_NONE) {
                counters.inc(Stat.TX_SUPER_FRAMES);
            }
        } else {
            counters.inc(Stat.TX_QUEUE_FULL);
            txDrops[i]++;
        }
    }

    /** Whether some queue says frames are ready without a read. */
    boolean rxReady() {
        for (NicQueue q : queues) {
            if (q.rxReady()) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether a queue whose producer must signal the netisr has frames: one with no descriptor and
     * no deadline of its own (its notifier wakes the netisr).
     */
    boolean rxReadySignalled() {
        for (NicQueue q : queues) {
            if (q.pollFd() < 0 && q.wakeDeadline() == Long.MAX_VALUE && q.rxReady()) {
                return true;
            }
        }
        return false;
    }

    /** The earliest time a queue releases frames it holds back, {@link Long#MAX_VALUE} if none. */
    long wakeDeadline() {
        long d = Long.MAX_VALUE;
        for (NicQueue q : queues) {
            d = Math.min(d, q.wakeDeadline());
        }
        return d;
    }

    /** Whether some queue has no descriptor to poll (its notifier signals the wake eventfd instead). */
    boolean anyWithoutFd() {
        for (NicQueue q : queues) {
            if (q.pollFd() < 0) {
                return true;
            }
        }
        return false;
    }

    /** Puts the queues' descriptors in {@code p} from slot {@code first}; the slots used. */
    int addPollFds(Poller p, int first) {
        polledCount = 0;
        for (int i = 0; i < queues.length; i++) {
            int fd = queues[i].pollFd();
            if (fd >= 0) {
                p.set(first + polledCount, fd, Poller.POLLIN);
                polled[polledCount++] = i;
            }
        }
        return polledCount;
    }

    /** After a poll: whether one of the descriptors {@link #addPollFds} set is ready. */
    boolean anyPolledReady(Poller p, int first) {
        for (int k = 0; k < polledCount; k++) {
            if (p.revents(first + k) != 0) {
                return true;
            }
        }
        return false;
    }
}
