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
 * </ul>
 */
public final class TcpStream {
    /** What a callback-API channel calls to ask the owning netisr for output (at its rollup). */
    public interface Kick {
        void kick(TcpStream stream);
    }

    public final ByteRing send;
    public final ByteRing recv;
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
    private volatile Thread waiter;

    /** Netisr only: the rings went back to the pool (after both sides were done with them). */
    public boolean ringsReturned;

    public TcpStream(StreamOwner owner, int id, ByteRing send, ByteRing recv) {
        this.owner = owner;
        this.id = id;
        this.send = send;
        this.recv = recv;
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
        if (doorbell) {
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
        return true;
    }

    /** Parks the calling application thread until signalled or {@code nanos} pass. */
    public void await(long nanos) {
        waiter = Thread.currentThread();
        VarHandle.fullFence();
        LockSupport.parkNanos(this, nanos);
        waiter = null;
    }

    /** Registers the caller as waiter before it re-checks its condition (then {@link #park}). */
    public void arm() {
        waiter = Thread.currentThread();
        VarHandle.fullFence();
    }

    public void park(long nanos) {
        LockSupport.parkNanos(this, nanos);
        waiter = null;
    }

    public void disarm() {
        waiter = null;
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

    /** Netisr: wakes the application thread waiting on this stream, if any. */
    public void signal() {
        VarHandle.fullFence();
        Thread w = waiter;
        if (w != null) {
            LockSupport.unpark(w);
        }
    }
}
