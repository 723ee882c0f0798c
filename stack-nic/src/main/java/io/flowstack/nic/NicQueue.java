package io.flowstack.nic;

import java.lang.foreign.MemorySegment;

/**
 * One RX/TX queue pair of a {@link Nic}.
 *
 * <p>Owned by: one netisr thread. {@link #receive} and {@link #transmit} are called only by the
 * owner; they never block. {@link #readyNotifier} is set once before the owner starts.
 */
public interface NicQueue {
    /** {@link #txOffloads()} bit: {@link #transmit(TxFrame)} takes payload slices (one gathering write). */
    int TX_GATHER = 1;
    /** {@link #txOffloads()} bit: the device completes a layer-4 checksum ({@link TxFrame#checksum}). */
    int TX_CSUM = 2;
    /**
     * {@link #txOffloads()} bit: the device segments TCP/IPv4 super-frames ({@link TxFrame#gso})
     * and completes the partial checksum that comes with them ({@link TxFrame#checksum}). A queue
     * may have it without {@link #TX_CSUM} (an XDP queue with its companion AF_PACKET socket): it
     * then takes super-frames whole, which the router forwards (it asks for
     * {@code TX_TSO4 | TX_GATHER}), but the stack's own TCP output, which gathers and builds
     * super-frames only with {@code TX_CSUM} too, sends finished MSS-sized segments to it.
     */
    int TX_TSO4 = 4;
    /** The largest IPv4 datagram a super-frame may carry (its total-length field is 16 bits). */
    int MAX_SUPER_FRAME_IP = 65535;

    /**
     * Reads up to {@code batch.capacity()} frames into the batch's off-heap slots without
     * blocking, starting at slot 0, and sets {@code batch.count()}.
     *
     * @param batch the batch to fill; its previous frames are overwritten
     * @return the number of frames read (0 when the queue is empty)
     */
    int receive(FrameBatch batch);

    /**
     * Transmits one Ethernet frame {@code frame[offset, offset + length)} (no FCS). The caller
     * keeps ownership of the memory; the queue has copied or sent it when this returns.
     *
     * @param frame memory holding the frame
     * @param offset offset of the frame's first byte in {@code frame}
     * @param length the frame's length in bytes, Ethernet header included
     * @return {@code true} if the frame was handed to the device, {@code false} if it was dropped
     *     because the device queue is full (back-pressure is a return value, not an exception); a
     *     queue that holds the frame for {@link #flush()} returns {@code true} and counts a later
     *     refusal in its own counters
     */
    boolean transmit(MemorySegment frame, long offset, int length);

    /**
     * Hands the device the frames this queue accepted and still holds: a queue may keep
     * transmitted frames (copied: the caller's memory is free when {@code transmit} returns) to
     * send several with one system call. The owner calls it at the end of every pass, so nothing
     * waits past the pass that sent it. The default holds nothing and does nothing.
     */
    default void flush() {
    }

    /**
     * What {@link #transmit(TxFrame)} can do, as a set of {@link #TX_GATHER}, {@link #TX_CSUM} and
     * {@link #TX_TSO4} bits. Fixed once the queue is open.
     *
     * @return the offload bits; 0 (the default) when only {@link #transmit(MemorySegment, long, int)}
     *     is supported
     */
    default int txOffloads() {
        return 0;
    }

    /**
     * Transmits a frame described by {@code frame} (headers, payload slices, offload requests).
     * Called only when {@link #txOffloads()} has {@link #TX_GATHER}, and asks only for the
     * offloads that bits say the queue has.
     *
     * @param frame the frame; the caller keeps ownership of its memory, which has been copied or
     *     sent when this returns
     * @return {@code true} if handed to the device, {@code false} if dropped (device queue full)
     * @throws UnsupportedOperationException if the queue has no {@link #TX_GATHER}
     */
    default boolean transmit(TxFrame frame) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " has no gathering transmit");
    }

    /**
     * The longest frame (Ethernet header included) {@link #receive} may deliver, which the batch's
     * slots must hold: a queue that receives GSO super-frames (a TAP with offloads, AF_PACKET on a
     * device whose peer segments late) says 65,535 plus the Ethernet header, whatever the MTU.
     *
     * @return bytes, or 0 (the default) if the frames are bounded by the link MTU
     */
    default int maxReceiveFrame() {
        return 0;
    }

    /**
     * Whether the stack should coalesce this queue's consecutive TCP segments into super-frames
     * itself (software GRO) before it takes them: for a device that delivers only wire-sized
     * frames, which a kernel would have coalesced in its NAPI poll. The default: no.
     *
     * @return true to have the owner coalesce what this queue delivers
     */
    default boolean softGro() {
        return false;
    }

    /**
     * A file descriptor that becomes readable (POLLIN) when frames are waiting, or {@code -1} if
     * this queue has none and signals through the notifier given to {@link #readyNotifier}.
     *
     * @return the descriptor to poll, or -1
     */
    int pollFd();

    /**
     * Sets the callback that a queue without a {@link #pollFd()} runs (from the producing
     * thread) after it makes frames available. Queues with a pollFd may ignore it.
     *
     * @param notifier the callback, typically one that wakes the owner; must be cheap and must not
     *     block
     */
    void readyNotifier(Runnable notifier);

    /**
     * For queues without a {@link #pollFd()}: whether frames are waiting, read with acquire
     * semantics after the caller's full fence (the owner calls it before sleeping, so that a frame
     * published before its "sleeping" flag became visible is not missed). Queues with a pollFd may
     * return false: poll() reports them.
     *
     * @return true if frames are waiting
     */
    default boolean rxReady() {
        return false;
    }

    /**
     * Whether {@link #receive} costs no system call when the queue is empty (its frames are
     * visible in memory: a mapped AF_PACKET ring, an in-process wire), so an idle owner may call
     * it on every spin. A queue whose receive is a system call (a TAP's {@code readv}) says false
     * (the default): its idle owner reads it at most every {@code idleNicCheckNanos} while it
     * spins, and otherwise waits for its {@link #pollFd()}.
     *
     * @return true if an empty receive is a memory read
     */
    default boolean receiveInMemory() {
        return false;
    }

    /**
     * For a queue whose receive is a system call ({@link #receiveInMemory()} false): makes the
     * next frame's arrival visible in memory ({@link #rxSignalled()}), so that an idle owner spins
     * on memory instead of reading the queue every {@code idleNicCheckNanos}. The owner arms it
     * when it starts to spin, after a receive that found nothing, or at the end of a pass that a
     * signal began, before {@link #flush} (a queue may then submit its writes in the same call);
     * a frame that came in between must show at once. One system call at most; the default
     * cannot (false).
     *
     * @return true if {@link #rxSignalled()} now tells when to read
     */
    default boolean armRxSignal() {
        return false;
    }

    /**
     * After {@link #armRxSignal()} returned true: whether a frame may be waiting, from memory,
     * without a system call. It may say true with nothing to read (the owner's read then finds
     * nothing and it arms again), never false with a frame that came after the arming.
     *
     * @return true if the owner should read
     */
    default boolean rxSignalled() {
        return true;
    }

    /**
     * The {@code nanoTime} by which the owner should call {@link #receive} or {@link #transmit}
     * again even if nothing else happens (a queue that holds frames back, such as an impairment
     * wrapper delaying them), or {@link Long#MAX_VALUE} if none. The owner bounds its sleep by it.
     *
     * @return a {@link System#nanoTime()} deadline, or {@link Long#MAX_VALUE}
     */
    default long wakeDeadline() {
        return Long.MAX_VALUE;
    }

    /**
     * Frames dropped by this queue on transmit because the device was full.
     *
     * @return the number of frames dropped since the queue opened; may be read from any thread
     */
    long txDrops();
}
