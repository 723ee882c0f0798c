package io.flowstack.core.socket;

import io.flowstack.core.netisr.Rings;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import org.agrona.concurrent.MessageHandler;
import org.agrona.concurrent.ringbuffer.OneToOneRingBuffer;

/**
 * The receive side the datagram sockets ({@link UdpSocket}, {@link IcmpEchoSocket}) share: one
 * SPSC ring per core (producer: that core's netisr, which commits a message and then calls
 * {@link #wakeReceiver()}; consumer: the one application thread in a receive call), read one
 * message at a time round robin so that no core's ring starves the others; the wait of a
 * receive call ({@link #await}: park until a message, the deadline, {@link #wakeup()} or
 * {@link #close()}), the one-receiver-at-a-time guard and the close that waits for the receiver
 * to leave before it frees the rings.
 *
 * <p>Owned by: the socket's receiving thread (the rings' one consumer; {@link #enter} admits one
 * at a time); {@link #wakeReceiver()} is called by the producing netisrs, {@link #wakeup()} and
 * {@link #close()} by any thread.
 */
final class PerCoreRingReader {
    /** What a message handed to the socket carries: its type, its ring's memory and place. */
    @FunctionalInterface
    interface Handler {
        void onMessage(int type, MemorySegment ring, int index, int length);
    }

    private final String what;
    private final boolean interruptible;
    private final Arena arena = Arena.ofShared();
    private final Rings.Ring<OneToOneRingBuffer>[] rings;
    private final MessageHandler[] handlers;
    private final AtomicBoolean receiving = new AtomicBoolean();
    private volatile Thread waiter;
    private volatile boolean wakeup;
    private volatile boolean closed;
    private int next;

    /**
     * {@code cores} rings of {@code ringBytes} each; {@code handler} handles every message.
     *
     * @param what          the socket, for messages ("UDP socket on port 53")
     * @param interruptible whether {@link #await} returns when the receiving thread is interrupted
     */
    @SuppressWarnings("unchecked")
    PerCoreRingReader(String what, int cores, int ringBytes, boolean interruptible, Handler handler) {
        this.what = what;
        this.interruptible = interruptible;
        this.rings = new Rings.Ring[cores];
        this.handlers = new MessageHandler[cores];
        for (int i = 0; i < cores; i++) {
            rings[i] = Rings.spsc(arena, ringBytes);
            MemorySegment seg = rings[i].segment();
            handlers[i] = (type, buffer, index, length) -> handler.onMessage(type, seg, index, length);
        }
    }

    /** The rings, {@code [core]} fed by core {@code core}'s netisr only. */
    Rings.Ring<OneToOneRingBuffer>[] rings() {
        return rings;
    }

    /** Unparks the receiving thread, if one waits, after a commit (the fence orders the two). */
    void wakeReceiver() {
        VarHandle.fullFence(); // the commit before the read of the waiter (the receiver: the reverse)
        unparkWaiter();
    }

    /** Admits the calling thread as the one receiver; {@link #exit} when its call ends. */
    void enter() {
        if (!receiving.compareAndSet(false, true)) {
            throw new IllegalStateException(what + " is already being received on by another thread");
        }
    }

    /** The receiver's call ended. */
    void exit() {
        receiving.set(false);
    }

    /**
     * Hands the next message to the handler, waiting for one until {@code timeoutNanos} passed.
     *
     * @return true if a message was handled; false at the deadline, after {@link #wakeup()}, or
     *     (if interruptible) when the calling thread is interrupted (its status stays set)
     * @throws StackException if the socket is closed
     */
    boolean await(long timeoutNanos) {
        long deadline = System.nanoTime() + timeoutNanos;
        while (true) {
            if (closed) {
                throw new StackException(what + " is closed");
            }
            if (readOne()) {
                return true;
            }
            long left = deadline - System.nanoTime();
            if (left <= 0 || (interruptible && Thread.currentThread().isInterrupted())) {
                return false;
            }
            if (wakeup) {
                wakeup = false;
                return false;
            }
            waiter = Thread.currentThread();
            VarHandle.fullFence();
            boolean got = readOne();
            if (!got) {
                LockSupport.parkNanos(this, Math.min(left, 100_000_000L));
            }
            waiter = null;
            if (got) {
                return true;
            }
        }
    }

    /** Hands the next message of the next ring that has one to the handler; false if all are empty. */
    private boolean readOne() {
        int n = rings.length;
        for (int i = 0; i < n; i++) {
            int k = (next + i) % n;
            OneToOneRingBuffer r = rings[k].ring();
            // A read that meets the wrap-around padding record consumes it and returns 0
            // messages: read once more from the start of the ring.
            if (r.read(handlers[k], 1) > 0 || (r.size() > 0 && r.read(handlers[k], 1) > 0)) {
                next = (k + 1) % n;
                return true;
            }
        }
        return false;
    }

    /**
     * Makes an {@link #await} that waits (or the next one to wait) return false at once, like
     * {@code Selector.wakeup()}; any thread.
     */
    void wakeup() {
        wakeup = true;
        unparkWaiter();
    }

    private void unparkWaiter() {
        Thread w = waiter;
        if (w != null) {
            LockSupport.unpark(w);
        }
    }

    /**
     * Wakes the receiver (whose {@link #await} then throws), waits until it has left and frees
     * the rings. Call once the producers can no longer deliver (the socket is unbound).
     */
    void close() {
        closed = true;
        unparkWaiter();
        while (receiving.get()) {
            Thread.onSpinWait();
        }
        arena.close();
    }
}
