package io.flowstack.core.route;

import java.util.Arrays;

/**
 * The rules of a route table: (prefix, length) to a next-hop index, in an open-addressing hash
 * table of primitive arrays (linear probing, backward-shift deletion), 12 bytes a slot at a load
 * of at most one half. The lookup structure ({@link RouteTable}) is derived from these; they are
 * what {@code stack route show} lists and what a removal consults to find the covering rule
 * whose answer comes back (RFC 1812 5.2.4.3: the longest matching prefix wins).
 *
 * <p>Owned by: the thread that owns its {@link RouteTable} (a core's netisr). Not thread safe.
 */
final class RouteRules {
    private static final long EMPTY = -1L;
    private long[] keys;
    private int[] values;
    private int size;

    RouteRules() {
        keys = new long[16];
        Arrays.fill(keys, EMPTY);
        values = new int[16];
    }

    /** The key of a prefix (network bits only) and its length 0..32. */
    static long key(int prefix, int length) {
        return (prefix & 0xFFFFFFFFL) << 6 | length;
    }

    static int prefixOf(long key) {
        return (int) (key >>> 6);
    }

    static int lengthOf(long key) {
        return (int) (key & 63);
    }

    int size() {
        return size;
    }

    /** The next hop of the rule, or -1 if there is none. */
    int get(int prefix, int length) {
        long k = key(prefix, length);
        int mask = keys.length - 1;
        for (int i = slot(k, mask); ; i = (i + 1) & mask) {
            long at = keys[i];
            if (at == k) {
                return values[i];
            }
            if (at == EMPTY) {
                return -1;
            }
        }
    }

    /** Sets the rule's next hop; returns the one it replaced or -1 if the rule is new. */
    int put(int prefix, int length, int nextHop) {
        if ((size + 1) * 2 > keys.length) {
            grow();
        }
        long k = key(prefix, length);
        int mask = keys.length - 1;
        int i = slot(k, mask);
        while (keys[i] != EMPTY) {
            if (keys[i] == k) {
                int old = values[i];
                values[i] = nextHop;
                return old;
            }
            i = (i + 1) & mask;
        }
        keys[i] = k;
        values[i] = nextHop;
        size++;
        return -1;
    }

    /** Removes the rule; returns its next hop or -1 if there was none. */
    int remove(int prefix, int length) {
        long k = key(prefix, length);
        int mask = keys.length - 1;
        int i = slot(k, mask);
        while (keys[i] != k) {
            if (keys[i] == EMPTY) {
                return -1;
            }
            i = (i + 1) & mask;
        }
        int old = values[i];
        // backward-shift deletion (Knuth 6.4 algorithm R): move later entries of the probe run into
        // the hole when their home slot does not lie cyclically in (hole, their slot]
        int hole = i;
        for (int j = (i + 1) & mask; keys[j] != EMPTY; j = (j + 1) & mask) {
            int home = slot(keys[j], mask);
            boolean stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
            if (!stays) {
                keys[hole] = keys[j];
                values[hole] = values[j];
                hole = j;
            }
        }
        keys[hole] = EMPTY;
        size--;
        return old;
    }

    /** Every key, in no order (for listing; allocates). */
    long[] keys() {
        long[] out = new long[size];
        int n = 0;
        for (long k : keys) {
            if (k != EMPTY) {
                out[n++] = k;
            }
        }
        return out;
    }

    /** Bytes of the arrays (the table's memory, headers aside). */
    long bytes() {
        return keys.length * 12L;
    }

    private void grow() {
        long[] oldKeys = keys;
        int[] oldValues = values;
        keys = new long[oldKeys.length * 2];
        Arrays.fill(keys, EMPTY);
        values = new int[oldKeys.length * 2];
        int mask = keys.length - 1;
        for (int j = 0; j < oldKeys.length; j++) {
            if (oldKeys[j] != EMPTY) {
                int i = slot(oldKeys[j], mask);
                while (keys[i] != EMPTY) {
                    i = (i + 1) & mask;
                }
                keys[i] = oldKeys[j];
                values[i] = oldValues[j];
            }
        }
    }

    private static int slot(long key, int mask) {
        long h = key * 0x9E3779B97F4A7C15L;
        return (int) (h >>> 32) & mask;
    }
}
