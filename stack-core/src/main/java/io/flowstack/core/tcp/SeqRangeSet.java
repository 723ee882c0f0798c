package io.flowstack.core.tcp;

/**
 * A bounded, sorted set of disjoint sequence-number ranges [left, right), merged on insert:
 * the shared structure of the receiver's out-of-order list and the sender's SACK scoreboard.
 *
 * <p>Owned by: the netisr that owns the connection.
 */
class SeqRangeSet {
    final int[] left;
    final int[] right;
    int count;

    SeqRangeSet(int capacity) {
        left = new int[capacity];
        right = new int[capacity];
    }

    boolean isEmpty() {
        return count == 0;
    }

    void clear() {
        if (count != 0) {
            count = 0; // an empty set is not written (the shared empty instances stay untouched)
        }
    }

    /**
     * Inserts [l, r), merging with overlapping or adjacent ranges.
     *
     * @return the index of the (merged) range, or -1 if a new separate range found no room
     */
    int insert(int l, int r) {
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
        if (removed == 0 && count == left.length) {
            return -1;
        }
        int shift = 1 - removed;
        if (shift != 0) {
            System.arraycopy(left, j, left, j + shift, count - j);
            System.arraycopy(right, j, right, j + shift, count - j);
        }
        left[i] = nl;
        right[i] = nr;
        count += shift;
        return i;
    }

    /** Removes the range at {@code i}. */
    void removeAt(int i) {
        System.arraycopy(left, i + 1, left, i, count - i - 1);
        System.arraycopy(right, i + 1, right, i, count - i - 1);
        count--;
    }
}
