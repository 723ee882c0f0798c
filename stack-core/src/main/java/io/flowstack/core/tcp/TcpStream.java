package io.flowstack.core.tcp;

import java.lang.invoke.VarHandle;
import java.util.concurrent.locks.LockSupport;

/**
 * The part of a TCP connection shared between its application thread and its netisr: two
 * SPSC byte rings and a few published flags. Everything else (the control block) belongs to the
 * netisr alone.
 *
 * <p>Sharing protocol (no locks, no CAS):
 * <ul>
 *   <li>{@link #send}: producer = application (tail), consumer = netisr (head = SND.UNA).</li>
 *   <li>{@link #recv}: producer = netisr (tail = RCV.NXT), consumer = application (head).</li>
 *   <li>Flags written by the netisr: {@link #established}, {@link #eof}, {@link #error},
 *       {@link #finished}. Flags written by the application: {@link #shutdownOutput},
 *       {@link #abort}, {@link #closed}. All volatile.</li>
 *   <li>The application rings the netisr's doorbell (one message on the core's application
 *       ring, coalesced by {@link #doorbell}) after writing data, reading data (window
 *       update), or changing a flag; the netisr unparks waiting application threads after
 *       changing what they wait for.</li>
 *   <li>Both hand-offs are Dekker pairs, each side a full fence between its store and its
 *       load: the application publishes, fences, reads {@link #doorbell} ({@link #ring}); the
 *       netisr clears it, fences, reads the rings ({@link #doorbellTaken}). The netisr
 *       publishes, fences, reads the waiters ({@link #signal}); the application registers in
 *       its slot (reader or writer), fences, re-checks ({@link #arm}). A wake-up lost anyway is counted
 *       ({@code tcp_doorbell_late} by the netisr's timers, {@code tcp_app_wakeup_late} by
 *       {@link #park}), and the tests assert both stay 0.</li>
 * </ul>
 *
 * <p>Owned by: the connection's owning netisr for the netisr side (and {@link #ringsReturned},
 * {@link #lateWakeupsSeen}); its application threads (one reader and one writer at a time) for
 * the application side.
 */
public final class TcpStream {
    /** What a callback-API channel calls on its owning netisr: output at the rollup, a send ring. */
    public interface Kick {
        /** Asks for output of {@code stream}'s connection at the end of the netisr's batch. */
        void kick(TcpStream stream);

        /**
         * The stream's send ring, lent from the core's pool if it has none (callback API: its
         * rings are taken when data is written or arrives, and returned once drained).
         *
         * @return the ring, or null if the TCP memory budget cannot lend one now (counted; the
         *     channel is told {@code onWritable} once rings come back)
         */
        ByteRing sendRing(TcpStream stream);
    }

    /**
     * The send ring. Blocking API: lent when the connection opens and kept to the end (its
     * application thread is the producer, concurrently with the netisr). Callback API (netisr
     * only): null until data is written, given back to the pool once everything in it is
     * acknowledged ({@code TcpConnections}), so an idle connection holds no buffer.
     */
    public ByteRing send;
    /**
     * The receive ring; as {@link #send}: for the callback API null until data arrives, and
     * returned once the handler has consumed everything and nothing waits out of order.
     */
    public ByteRing recv;
    /** The send buffer's size in bytes (the send ring's capacity when it has one). */
    public final int sendBufferBytes;
    /** The receive buffer's size in bytes (the receive ring's capacity when it has one). */
    public final int receiveBufferBytes;
    private volatile StreamOwner owner;
    private final int id;

    public volatile boolean established;
    public volatile boolean eof;
    public volatile String error;
    /** The netisr has released the connection (closed, reset or timed out). */
    public volatile boolean finished;

    public volatile boolean shutdownOutput;
    public volatile boolean abort;
    public volatile boolean closed;

    private volatile boolean doorbell;
    /**
     * Application: the send ring's tail as it was when a doorbell last covered it ({@link #ring}
     * found one outstanding or posted one). The netisr's lost-doorbell check counts only bytes
     * behind it: bytes published by a writer not yet at its ring (preempted between the two) are
     * not lost, their doorbell is still coming.
     */
    private volatile long announcedSendTail;
    /** The thread waiting to read (or for the handshake), if any. */
    private volatile Thread readWaiter;
    /** The thread waiting for send space, if any: a second slot, so that a reader and a writer
     * waiting at once on one connection (full duplex, as chargen's two threads) are both woken. */
    private volatile Thread writeWaiter;
    /**
     * Netisr: unparks of the reader's and the writer's slot so far (one writer each: the netisr;
     * a park tells a lost one by them).
     */
    private volatile int readSignals;
    private volatile int writeSignals;
    /** Application: waits that timed out with their condition true ({@link #reportIfLate}). */
    private volatile int lateWakeups;
    /** Netisr: {@link #lateWakeups} already counted (TcpUser). */
    public int lateWakeupsSeen;

    /** How long {@link #reportIfLate} waits for a signal still on its way. */
    private static final long LATE_GRACE_NANOS = 5_000_000L;
    private static final VarHandle READ_SIGNALS;
    private static final VarHandle WRITE_SIGNALS;
    private static final VarHandle LATE;
    private static final VarHandle WAKE_QUEUED;

    static {
        try {
            READ_SIGNALS = java.lang.invoke.MethodHandles.lookup().findVarHandle(TcpStream.class, "readSignals", int.class);
            WRITE_SIGNALS = java.lang.invoke.MethodHandles.lookup().findVarHandle(TcpStream.class, "writeSignals", int.class);
            LATE = java.lang.invoke.MethodHandles.lookup().findVarHandle(TcpStream.class, "lateWakeups", int.class);
            WAKE_QUEUED = java.lang.invoke.MethodHandles.lookup().findVarHandle(TcpStream.class, "wakeQueued", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** Netisr only: the rings went back to the pool (after both sides were done with them). */
    public boolean ringsReturned;
    /**
     * On its netisr's list of streams to signal at the end of the pass (TcpUser.wakeLater): set
     * by the netisr before it publishes what the waiter waits for, cleared after the signal; the
     * application reads it ({@link #wakeOwed}). Accessed through {@code WAKE_QUEUED}.
     */
    private boolean wakeQueued;

    /** A stream with both rings lent now (the blocking API). */
    public TcpStream(StreamOwner owner, int id, ByteRing send, ByteRing recv) {
        this(owner, id, send, recv, send.capacity(), recv.capacity());
    }

    /**
     * A stream whose rings may come later ({@code null}): the callback API's, lent on demand.
     *
     * @param sendBufferBytes the send buffer's size (the capacity of every send ring it gets)
     * @param receiveBufferBytes the receive buffer's size (likewise)
     */
    public TcpStream(StreamOwner owner, int id, ByteRing send, ByteRing recv, int sendBufferBytes,
                     int receiveBufferBytes) {
        this.owner = owner;
        this.id = id;
        this.send = send;
        this.recv = recv;
        this.sendBufferBytes = sendBufferBytes;
        this.receiveBufferBytes = receiveBufferBytes;
    }

    public int id() {
        return id;
    }

    /** The netisr that owns the connection now (it changes only when its bucket moves). */
    public StreamOwner owner() {
        return owner;
    }

    /**
     * Stack internal: the connection moves to {@code next} with its bucket (docs/REBALANCING.md).
     * Called by the old owner before it hands the control block over; doorbells that still
     * reach the old owner are forwarded.
     */
    public void moveTo(StreamOwner next) {
        owner.checkOwner();
        this.owner = next;
    }

    // ------------------------------------------------------------------ application side

    /**
     * Asks the owning netisr to look at this connection (new data, freed receive space, or a
     * flag). Coalesced: at most one doorbell is outstanding.
     *
     * @return false if the core's ring was full (the caller retries)
     */
    public boolean ring() {
        // The caller has just published (a ring's tail or head: release stores, or a flag). A
        // release store may still be in this CPU's store buffer when the flag is read (x86-TSO
        // and the JMM both allow store->load reordering), so without this fence the flag could
        // read "outstanding" while the netisr, having just taken that doorbell (doorbellTaken:
        // false, fence, then it reads the rings), still sees the old tail: the bytes then wait
        // for a timer (the 40 ms delayed ACK; issue 11). The fence pairs with doorbellTaken's
        // (Dekker): at least one side sees the other's store.
        VarHandle.fullFence();
        if (doorbell) {
            announce();
            return true;
        }
        doorbell = true;
        // Read once: the connection may move to another core meanwhile (its bucket moved), and
        // a claim must be committed on the ring it was made on. A doorbell that reaches the old
        // owner is forwarded (docs/REBALANCING.md).
        if (!owner.postDoorbell(id)) {
            doorbell = false;
            return false;
        }
        announce();
        return true;
    }

    /**
     * Application: records that a doorbell covers the send ring up to its tail now ({@link #ring}
     * does, once one is outstanding). Tests call it to play a ring whose doorbell was lost.
     */
    public void announce() {
        ByteRing s = send;
        if (s != null) {
            announcedSendTail = s.tail();
        }
    }

    /** Netisr: the send ring's tail as a doorbell last covered it ({@link #announce}). */
    public long announcedSendTail() {
        return announcedSendTail;
    }

    /**
     * Registers the caller as waiter before it re-checks its condition (then {@link #park}).
     *
     * @param writer whether the caller waits for send space (else for data, end of stream, the
     *     handshake or an error)
     * @return the token {@link #park} needs: the netisr's unparks of this slot so far
     */
    public int arm(boolean writer) {
        if (writer) {
            writeWaiter = Thread.currentThread();
        } else {
            readWaiter = Thread.currentThread();
        }
        VarHandle.fullFence();
        return writer ? writeSignals : readSignals;
    }

    /**
     * Parks the armed caller until signalled or {@code nanos} pass. The caller stays armed: it
     * checks its condition (and {@link #reportIfLate}) still registered, so that a signal racing
     * with the timeout is counted as a signal, then {@link #disarm}s.
     *
     * @param writer the slot the caller armed
     * @param nanos the longest park
     * @param token what {@link #arm} returned
     * @return true if the park ran its full time and no unpark came since {@link #arm}: if the
     *     caller's condition is true now, the netisr published without waking it (a lost
     *     wake-up; the caller reports it with {@link #reportIfLate})
     */
    public boolean park(boolean writer, long nanos, int token) {
        long start = System.nanoTime();
        LockSupport.parkNanos(this, nanos);
        return System.nanoTime() - start >= nanos && (writer ? writeSignals : readSignals) == token;
    }

    /** Leaves the caller's slot ({@link #arm}) without parking. */
    public void disarm(boolean writer) {
        if (writer) {
            writeWaiter = null;
        } else {
            readWaiter = null;
        }
    }

    /**
     * Application: a wait that {@link #park} said timed out unsignalled found its condition
     * true. If no signal comes within {@value #LATE_GRACE_NANOS} ns either (a netisr between its
     * publish and its signal sends it within that), the wake-up was lost: counted here and told
     * to the netisr with a doorbell, which adds it to {@code tcp_app_wakeup_late}.
     *
     * @param writer the slot the caller armed
     * @param token what {@link #arm} returned before the park
     */
    public void reportIfLate(boolean writer, int token) {
        long end = System.nanoTime() + LATE_GRACE_NANOS;
        while ((writer ? writeSignals : readSignals) == token && System.nanoTime() - end < 0) {
            LockSupport.parkNanos(50_000L);
        }
        if ((writer ? writeSignals : readSignals) == token && !wakeOwed()) {
            // (a wake-up still owed is on its way: the netisr published this pass and signals at
            // its end, however long a loaded machine makes that pass)
            // No CAS on a flow's path: a reader and a writer thread reporting at the same instant
            // may count one (the counter is for "never", any count fails the tests).
            LATE.setRelease(this, lateWakeups + 1);
            ring();
        }
    }

    /**
     * Whether the netisr has published something for this stream's waiters this pass and not yet
     * signalled (it signals at the end of the pass): a wait that timed out meanwhile lost nothing.
     * Any thread; read after the condition it explains (the netisr sets it before publishing).
     *
     * @return true while a signal is owed
     */
    public boolean wakeOwed() {
        return (boolean) WAKE_QUEUED.getAcquire(this);
    }

    /**
     * Netisr: queues this stream for the end-of-pass signal; false if it already was.
     * Called before the publish it is for.
     */
    boolean queueWake() {
        if (wakeQueued) { // plain: only the netisr writes it
            return false;
        }
        WAKE_QUEUED.setOpaque(this, true); // ordered before the publish by its release store
        return true;
    }

    /** Netisr: the end-of-pass signal: {@link #signalAtThresholds}, then the wake is no longer owed. */
    void flushWake() {
        signalAtThresholds();
        WAKE_QUEUED.setRelease(this, false);
    }

    /** The application's late wake-ups so far ({@link #reportIfLate}; the netisr reads it). */
    public int lateWakeups() {
        return lateWakeups;
    }

    // ------------------------------------------------------------------ netisr side

    /** Whether a doorbell is outstanding (rung and not yet taken by the netisr). */
    public boolean doorbellPending() {
        return doorbell;
    }

    /** Netisr: consumes the doorbell before looking at the connection. */
    public void doorbellTaken() {
        doorbell = false;
        VarHandle.fullFence();
    }

    /**
     * The free send space at which a writer waiting for space is woken: a third of the send
     * buffer, Linux's threshold (net/core/stream.c {@code sk_stream_write_space}: the writer is
     * woken when {@code sk_stream_wspace() >= sk_stream_min_wspace()}, free space at least half
     * of what is queued, that is a third of the buffer), not every freed byte.
     *
     * @return bytes, at least 1
     */
    public int writeWakeSpace() {
        return Math.max(1, send.capacity() / 3);
    }

    /**
     * Whether a waiting writer must have been woken: {@link #writeWakeSpace} bytes free, or the
     * connection failed or finished.
     *
     * @return true if the netisr signals a writer now
     */
    public boolean writerWakeDue() {
        return send.capacity() - (send.tail() - send.head()) >= writeWakeSpace() || error != null || finished;
    }

    /**
     * Netisr, at the end of a pass that changed this stream's rings ({@code TcpUser.flushWakes}):
     * wakes a waiting reader if there is something to read (data, end of stream, an error), a
     * waiting writer if {@link #writerWakeDue}. Once per pass, not per segment or ACK.
     */
    public void signalAtThresholds() {
        VarHandle.fullFence(); // the rings' indices (published this pass) before the waiter slots
        Thread r = readWaiter;
        if (r != null && (recv.tail() > recv.head() || eof || error != null || finished)) {
            READ_SIGNALS.setRelease(this, readSignals + 1); // one writer: this stream's netisr
            LockSupport.unpark(r);
        }
        Thread w = writeWaiter;
        if (w != null && writerWakeDue()) {
            WRITE_SIGNALS.setRelease(this, writeSignals + 1);
            LockSupport.unpark(w);
        }
    }

    /**
     * Unparks of the reader's or the writer's slot so far (tests count wake-ups with it).
     *
     * @param writer the writer's slot (else the reader's)
     * @return the count
     */
    public int signals(boolean writer) {
        return writer ? writeSignals : readSignals;
    }

    /** Netisr: wakes the application threads waiting on this stream (reader and writer), if any. */
    public void signal() {
        VarHandle.fullFence();
        Thread r = readWaiter;
        if (r != null) {
            READ_SIGNALS.setRelease(this, readSignals + 1); // one writer: this stream's netisr
            LockSupport.unpark(r);
        }
        Thread w = writeWaiter;
        if (w != null) {
            WRITE_SIGNALS.setRelease(this, writeSignals + 1);
            LockSupport.unpark(w);
        }
    }
}
