package io.flowstack.core.netisr;

import io.flowstack.core.config.StackConfig;
import io.flowstack.nic.NicQueue;

/**
 * When a netisr reads its NIC queues: on every pass while it works, and while its thread spins
 * idle ({@link #spin}) only where an empty read costs no system call, or when a read is due.
 * Queues whose receive is a system call (a TAP's) are due when their arrival signals show in
 * memory ({@link NicQueue#armRxSignal}, armed as the spin starts, and every
 * {@value #SIGNALLED_CHECK_NANOS} ns anyway), or, if some queue cannot signal, every
 * {@link StackConfig#idleNicCheckNanos}; and after a sleep that found them readable, or when
 * receive opens.
 *
 * <p>Owned by: its netisr's owner thread (the netisr's {@code poll}, {@code idleSpin} and sleep).
 */
final class IdleNicReads {
    /**
     * While spinning with the arrival signals armed: how often the queues are read anyway, should
     * a signal be lost (none is known to be).
     */
    static final long SIGNALLED_CHECK_NANOS = 1_000_000L;

    private final NicPorts nics;
    private final long checkNanos;
    private boolean spinning;
    /** While spinning: every queue's arrival signal is armed. */
    private boolean signals;
    /** The next pass reads (a sleep found a queue readable, or receive opened). */
    private boolean due;
    /** While spinning: when the queues are read at the latest. */
    private long next;

    IdleNicReads(NicPorts nics, long checkNanos) {
        this.nics = nics;
        this.checkNanos = checkNanos;
    }

    /**
     * Whether the pass at {@code now} reads the queues (the caller has checked that receive is
     * open); a read while spinning starts the next interval.
     */
    boolean readNow(long now) {
        // an empty read that is a memory read on every queue costs nothing: read on every pass
        if (spinning && !nics.receiveInMemory() && !due && now - next < 0 && !(signals && nics.rxSignalled())) {
            return false;
        }
        if (spinning) {
            due = false;
            next = now + interval();
        }
        return true;
    }

    /** After a read that found {@code frames}: one that found nothing while signals are armed arms them again. */
    void afterRead(int frames) {
        if (frames == 0 && signals) {
            signals = nics.armRxSignals(); // the signal fired for nothing, or was consumed
        }
    }

    /**
     * The thread starts ({@code true}) or stops spinning at {@code now}; the pass before has just
     * read the queues. Starting arms the arrival signals if receive is open.
     */
    void spin(boolean on, long now, boolean receiveOpen) {
        spinning = on;
        signals = on && receiveOpen && nics.armRxSignals();
        next = now + interval();
    }

    /**
     * At the end of a pass: whether to arm the arrival signals together with the pass's writes.
     * True for a pass that began in an idle spin (it read because a signal fired): such a pass
     * usually answers one exchange and is followed by another idle spell, whose arming would
     * otherwise be a system call of its own; armed with the writes, the two share one
     * ({@code TapUring.armSignal}). A pass under load (its netisr not spinning) arms nothing.
     */
    boolean armWithWrites() {
        return spinning && signals;
    }

    /** The next pass reads the queues (receive opened, or a sleep was cut short). */
    void due() {
        due = true;
    }

    /** After a sleep that ended at {@code now}: whether the next pass reads ({@code readable}). */
    void afterSleep(boolean readable, long now) {
        due = readable;
        next = now + checkNanos;
    }

    private long interval() {
        return signals ? Math.max(SIGNALLED_CHECK_NANOS, checkNanos) : checkNanos;
    }
}
