package io.flowstack.nic;

import io.flowstack.nativeio.Errno;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Base of the NIC queues in this module: per-queue frame and byte counters.
 *
 * <p>Owned by: the queue's netisr thread, the only writer of the counters. The counters are plain
 * fields written with opaque stores, so the getters (opaque loads) may be called from any thread
 * (stats, tests) and see a recent, untorn value without any lock or fence on the hot path.
 */
public abstract class CountingQueue implements NicQueue {
    private static final VarHandle RX_FRAMES;
    private static final VarHandle RX_BYTES;
    private static final VarHandle RX_TRUNCATED;
    private static final VarHandle RX_ERRORS;
    private static final VarHandle TX_FRAMES;
    private static final VarHandle TX_BYTES;
    private static final VarHandle TX_DROPS;
    private static final VarHandle TX_ERRORS;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            RX_FRAMES = l.findVarHandle(CountingQueue.class, "rxFrames", long.class);
            RX_BYTES = l.findVarHandle(CountingQueue.class, "rxBytes", long.class);
            RX_TRUNCATED = l.findVarHandle(CountingQueue.class, "rxTruncated", long.class);
            RX_ERRORS = l.findVarHandle(CountingQueue.class, "rxErrors", long.class);
            TX_FRAMES = l.findVarHandle(CountingQueue.class, "txFrames", long.class);
            TX_BYTES = l.findVarHandle(CountingQueue.class, "txBytes", long.class);
            TX_DROPS = l.findVarHandle(CountingQueue.class, "txDrops", long.class);
            TX_ERRORS = l.findVarHandle(CountingQueue.class, "txErrors", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** For subclasses: every counter starts at 0. */
    protected CountingQueue() {}

    private long rxFrames;
    private long rxBytes;
    private long rxTruncated;
    private long rxErrors;
    private long txFrames;
    private long txBytes;
    private long txDrops;
    private long txErrors;

    /**
     * Frames delivered by {@link #receive}.
     *
     * @return the frame count since the queue opened
     */
    public final long rxFrames() {
        return (long) RX_FRAMES.getOpaque(this);
    }

    /**
     * Bytes of the frames delivered by {@link #receive}.
     *
     * @return the byte count since the queue opened
     */
    public final long rxBytes() {
        return (long) RX_BYTES.getOpaque(this);
    }

    /**
     * Received frames dropped because they were longer than the batch's slot.
     *
     * @return the frame count since the queue opened
     */
    public final long rxTruncated() {
        return (long) RX_TRUNCATED.getOpaque(this);
    }

    /**
     * Receive calls that stopped on an error other than "no frame waiting".
     *
     * @return the number of failed calls since the queue opened
     */
    public final long rxErrors() {
        return (long) RX_ERRORS.getOpaque(this);
    }

    /**
     * Frames handed to the device by {@link #transmit}.
     *
     * @return the frame count since the queue opened
     */
    public final long txFrames() {
        return (long) TX_FRAMES.getOpaque(this);
    }

    /**
     * Bytes of the frames handed to the device by {@link #transmit}.
     *
     * @return the byte count since the queue opened
     */
    public final long txBytes() {
        return (long) TX_BYTES.getOpaque(this);
    }

    /**
     * Frames dropped on transmit because the device queue was full (back-pressure).
     *
     * @return the frame count since the queue opened
     */
    @Override
    public final long txDrops() {
        return (long) TX_DROPS.getOpaque(this);
    }

    /**
     * Frames not transmitted because of an error (device down, frame too large, ...).
     *
     * @return the frame count since the queue opened
     */
    public final long txErrors() {
        return (long) TX_ERRORS.getOpaque(this);
    }

    /**
     * Owner only: counts {@code frames} received frames of {@code bytes} bytes in total.
     *
     * @param frames the number of frames
     * @param bytes their total length in bytes
     */
    protected final void countRx(int frames, long bytes) {
        RX_FRAMES.setOpaque(this, rxFrames + frames);
        RX_BYTES.setOpaque(this, rxBytes + bytes);
    }

    /**
     * Owner only: counts {@code frames} received frames dropped as longer than their slot.
     *
     * @param frames the number of frames
     */
    protected final void countRxTruncated(int frames) {
        RX_TRUNCATED.setOpaque(this, rxTruncated + frames);
    }

    /** Owner only: counts one failed receive call. */
    protected final void countRxError() {
        RX_ERRORS.setOpaque(this, rxErrors + 1);
    }

    /**
     * Owner only: counts one transmitted frame of {@code bytes} bytes.
     *
     * @param bytes the frame's length
     */
    protected final void countTx(int bytes) {
        TX_FRAMES.setOpaque(this, txFrames + 1);
        TX_BYTES.setOpaque(this, txBytes + bytes);
    }

    /** Owner only: counts one frame dropped for back-pressure. */
    protected final void countTxDrop() {
        TX_DROPS.setOpaque(this, txDrops + 1);
    }

    /** Owner only: counts one frame not transmitted because of an error. */
    protected final void countTxError() {
        TX_ERRORS.setOpaque(this, txErrors + 1);
    }

    /**
     * Owner only: counts the result of the system call that wrote one frame: bytes written (any
     * non-negative value) count as {@link #countTx}; {@code -EAGAIN} and {@code -ENOBUFS} (the
     * device or socket queue is full) as a {@link #countTxDrop}; any other {@code -errno} (e.g.
     * {@code EIO} while the interface is down, {@code EMSGSIZE} for an oversized frame) as a
     * {@link #countTxError}.
     *
     * @param result the call's result, bytes or {@code -errno}
     * @param length the frame's length, counted in {@link #txBytes()} when it was sent
     * @return true if the frame was sent
     */
    protected final boolean countWrite(int result, int length) {
        if (result >= 0) {
            countTx(length);
            return true;
        }
        if (result == -Errno.EAGAIN || result == -Errno.ENOBUFS) {
            countTxDrop();
        } else {
            countTxError();
        }
        return false;
    }
}
