package io.flowstack.core.tcp;

/**
 * Ranges of sequence space received above RCV.NXT (their bytes already sit in the receive ring
 * at their final position), kept sorted and merged; the source of the SACK blocks we send
 * (RFC 2018 section 4: the first block reports the most recently received segment).
 *
 * <p>Owned by: the netisr that owns the connection.
 */
public final class OutOfOrder extends SeqRangeSet {
    static final int MAX = 64;
    /**
     * The empty list every connection starts with, shared and never written (no room: an
     * {@link #add} to it fails; {@link Tcb#oooForUpdate} replaces it before the first one).
     */
    static final OutOfOrder NONE = new OutOfOrder(0);
    int lastLeft;
    int lastRight;
    boolean finPending;
    int finSeq;

    OutOfOrder(int capacity) {
        super(capacity);
    }

    /**
     * Records [l, r). Returns false if there is no room for another separate range (the caller
     * drops the segment; the sender will retransmit it).
     */
    boolean add(int l, int r) {
        int i = insert(l, r);
        if (i < 0) {
            return false;
        }
        lastLeft = left[i];
        lastRight = right[i];
        return true;
    }

    /** If the first range starts at or below {@code rcvNxt}, removes it and returns its right edge. */
    int takeContiguous(int rcvNxt) {
        if (count > 0 && Seq.le(left[0], rcvNxt)) {
            int r = right[0];
            removeAt(0);
            return Seq.max(r, rcvNxt);
        }
        return rcvNxt;
    }

    @Override
    void clear() {
        super.clear();
        if (finPending) {
            finPending = false; // NONE is never written
        }
    }
}
