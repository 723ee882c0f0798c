package io.flowstack.core.netisr;

/**
 * Maps a flow hash to a core, like a NIC's RSS redirection table (RETA): core =
 * {@code table[hash & (size - 1)]}. Initially buckets are dealt round-robin.
 *
 * <p>Immutable once built (a later rebalancing swaps in a new table by message).
 */
public final class IndirectionTable {
    public static final int DEFAULT_SIZE = 128;
    private final byte[] buckets;
    private final int mask;
    private final int cores;

    public IndirectionTable(int cores) {
        this(cores, DEFAULT_SIZE);
    }

    public IndirectionTable(int cores, int size) {
        if (cores < 1 || cores > 127) {
            throw new IllegalArgumentException("cores must be 1..127, got " + cores);
        }
        if (Integer.bitCount(size) != 1 || size < cores) {
            throw new IllegalArgumentException("size must be a power of two >= cores");
        }
        this.cores = cores;
        this.buckets = new byte[size];
        this.mask = size - 1;
        for (int i = 0; i < size; i++) {
            buckets[i] = (byte) (i % cores);
        }
    }

    public int core(int hash) {
        return buckets[hash & mask];
    }

    public int cores() {
        return cores;
    }

    public int size() {
        return buckets.length;
    }
}
