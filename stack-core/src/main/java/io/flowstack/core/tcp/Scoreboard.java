package io.flowstack.core.tcp;

/**
 * The sender's SACK scoreboard (RFC 6675 section 3): ranges of sent sequence space above
 * SND.UNA that the receiver reported holding, sorted and merged.
 *
 * <p>Owned by: the netisr that owns the connection.
 */
final class Scoreboard extends SeqRangeSet {
    static final int MAX = 64;
    /**
     * The empty board every connection starts with, shared and never written (no room, and
     * {@link #trimBelow} and {@link #clear} leave an empty board untouched);
     * {@link Tcb#sbForUpdate} replaces it before the first SACK block is recorded.
     */
    static final Scoreboard NONE = new Scoreboard(0);

    Scoreboard(int capacity) {
        super(capacity);
    }

    /**
     * Records a SACK block [l, r), unless it lies below {@code una}, ends above {@code max} or is
     * empty (RFC 2018 / RFC 6675: D-SACK and bogus blocks are ignored).
     *
     * @return false if the block was ignored
     */
    boolean add(int l, int r, int una, int max) {
        if (Seq.le(r, una) || Seq.gt(r, max) || Seq.ge(l, r)) {
            return false;
        }
        insert(Seq.max(l, una), r); // when full the block is forgotten: recovery is only less precise
        return true;
    }

    /** Forgets everything below {@code una} (the cumulative ACK moved). */
    void trimBelow(int una) {
        if (count == 0) {
            return; // nothing to forget (and NONE is never written)
        }
        int k = 0;
        for (int i = 0; i < count; i++) {
            if (Seq.gt(right[i], una)) {
                left[k] = Seq.max(left[i], una);
                right[k] = right[i];
                k++;
            }
        }
        count = k;
    }

    /** Highest sequence number SACKed (exclusive right edge), or {@code una} if none. */
    int highest(int una) {
        return count == 0 ? una : right[count - 1];
    }

    /** SACKed bytes in [a, b). */
    int sackedBetween(int a, int b) {
        int sum = 0;
        for (int i = 0; i < count; i++) {
            int l = Seq.max(left[i], a);
            int r = Seq.min(right[i], b);
            if (Seq.lt(l, r)) {
                sum += r - l;
            }
        }
        return sum;
    }

    boolean isSacked(int seq) {
        for (int i = 0; i < count; i++) {
            if (Seq.inWindow(seq, left[i], right[i])) {
                return true;
            }
        }
        return false;
    }

    /**
     * RFC 6675 IsLost: the sequence numbers below the returned point are deemed lost, i.e. more
     * than (DupThresh - 1) * SMSS bytes are SACKed above them. Returns {@code una} if none is.
     */
    int lossPoint(int una, int mss, int dupThresh) {
        long threshold = (long) (dupThresh - 1) * mss;
        long acc = 0;
        for (int i = count - 1; i >= 0; i--) {
            int len = right[i] - left[i];
            if (acc + len > threshold) {
                int p = right[i] - (int) (threshold - acc) - 1; // bytes above p exceed the threshold
                return Seq.max(una, Seq.min(p, right[i]));
            }
            acc += len;
        }
        return una;
    }

    /** First byte >= {@code from} that is not SACKed, below {@code limit}; or {@code limit}. */
    int nextUnsacked(int from, int limit) {
        int s = from;
        for (int i = 0; i < count; i++) {
            if (Seq.le(right[i], s)) {
                continue;
            }
            if (Seq.le(left[i], s)) {
                s = right[i];
                continue;
            }
            break;
        }
        return Seq.lt(s, limit) ? s : limit;
    }

    /** End of the hole starting at the unsacked byte {@code s}: the next SACKed left edge, or {@code limit}. */
    int holeEnd(int s, int limit) {
        for (int i = 0; i < count; i++) {
            if (Seq.gt(left[i], s)) {
                return Seq.min(left[i], limit);
            }
        }
        return limit;
    }
}
