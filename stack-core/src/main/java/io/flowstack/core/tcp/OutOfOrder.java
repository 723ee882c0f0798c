package io.flowstack.core.tcp;

/**
 * Ranges of sequence space received above RCV.NXT (their bytes already sit in the receive ring
 * at their final position), kept sorted and merged; the source of the SACK blocks we send
 * (RFC 2018 section 4: the first block reports the most recently received segment).
 *
 * <p>Owned by: the netisr that owns the connection.
 */
public final class OutOfOrder {
    static final int MAX = 16;
    final int[] left = new int[MAX];
    final int[] right = new int[MAX];
    int count;
    int lastLeft;
    int lastRight;
    boolean finPending;
    int finSeq;

    boolean isEmpty() {
        return count == 0;
    }

    /**
     * Records [l, r). Returns false if there is no room for another separate range (the caller
     * drops the segment; the sender will retransmit it).
     */
    boolean add(int l, int r) {
        // find the insertion point and merge with overlapping or adjacent ranges
        int i = 0;
        while (i < count && Seq.lt(right[i], l)) {
            i++;
        }
        int j = i;
        int nl = l;
        int nr = r;
        while (j < count && Seq.le(left[j], nr)) {
            nl = Seq.min(nl, left[j]);
            nr = Seq.max(nr, right[j]);
            j++;
        }
        int removed = j - i;
        if (removed == 0 && count == MAX) {
            return false;
        }
        int shift = 1 - removed;
        if (shift != 0) {
            System.arraycopy(left, j, left, j + shift, count - j);
            System.arraycopy(right, j, right, j + shift, count - j);
        }
        left[i] = nl;
        right[i] = nr;
        count += shift;
        lastLeft = nl;
        lastRight = nr;
        return true;
    }

    /** If the first range starts at or below {@code rcvNxt}, removes it and returns its right edge. */
    int takeContiguous(int rcvNxt) {
        if (count > 0 && Seq.le(left[0], rcvNxt)) {
            int r = right[0];
            System.arraycopy(left, 1, left, 0, count - 1);
            System.arraycopy(right, 1, right, 0, count - 1);
            count--;
            return Seq.max(r, rcvNxt);
        }
        return rcvNxt;
    }

    void clear() {
        count = 0;
        finPending = false;
    }
}
