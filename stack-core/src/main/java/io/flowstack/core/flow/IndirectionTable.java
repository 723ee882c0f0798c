package io.flowstack.core.flow;

import io.flowstack.nic.Toeplitz;
import java.util.Arrays;

/**
 * Maps a flow hash to a core, like a NIC's RSS redirection table (RETA): bucket =
 * {@code hash & (size - 1)}, core = {@code table[bucket]}. Initially buckets are dealt
 * round-robin. It carries the stack's {@link FlowHash} (its RSS key), as a NIC's RSS
 * configuration is its key and its table.
 *
 * <p>Immutable: a rebalancing builds a new table ({@link #withBucket}) and each core installs
 * it in its own replica when the migration protocol tells it to (docs/REBALANCING.md).
 */
public final class IndirectionTable {
    /** The buckets of a default table: as many as the NIC's steering programs use. */
    public static final int DEFAULT_SIZE = Toeplitz.BUCKETS;
    private final byte[] buckets;
    private final int mask;
    private final int cores;
    private final FlowHash hash;

    /** The default table of {@code cores} cores, for flows hashed by {@code hash}. */
    public IndirectionTable(int cores, FlowHash hash) {
        this(cores, DEFAULT_SIZE, hash);
    }

    /** A table of {@code size} buckets dealt over {@code cores} cores, for flows hashed by {@code hash}. */
    public IndirectionTable(int cores, int size, FlowHash hash) {
        if (cores < 1 || cores > 127) {
            throw new IllegalArgumentException("cores must be 1..127, got " + cores);
        }
        if (Integer.bitCount(size) != 1 || size < cores) {
            throw new IllegalArgumentException("size must be a power of two >= cores");
        }
        this.cores = cores;
        this.hash = hash;
        this.buckets = new byte[size];
        this.mask = size - 1;
        for (int i = 0; i < size; i++) {
            buckets[i] = (byte) (i % cores);
        }
    }

    private IndirectionTable(int cores, byte[] buckets, FlowHash hash) {
        this.cores = cores;
        this.hash = hash;
        this.buckets = buckets;
        this.mask = buckets.length - 1;
    }

    /** The stack's flow hash, whose values this table maps. */
    public FlowHash hash() {
        return hash;
    }

    /** The core that owns flows of hash {@code hash}. */
    public int core(int hash) {
        return buckets[hash & mask];
    }

    /** The bucket of hash {@code hash}. */
    public int bucket(int hash) {
        return hash & mask;
    }

    /** The core that owns bucket {@code bucket}. */
    public int owner(int bucket) {
        return buckets[bucket];
    }

    /** A copy of this table with bucket {@code bucket} given to {@code core}. */
    public IndirectionTable withBucket(int bucket, int core) {
        if (bucket < 0 || bucket > mask) {
            throw new IllegalArgumentException("bucket must be 0.." + mask + ", got " + bucket);
        }
        if (core < 0 || core >= cores) {
            throw new IllegalArgumentException("core must be 0.." + (cores - 1) + ", got " + core);
        }
        byte[] b = buckets.clone();
        b[bucket] = (byte) core;
        return new IndirectionTable(cores, b, hash);
    }

    /** Buckets per core: {@code result[c]} is how many buckets core {@code c} owns. */
    public int[] bucketsPerCore() {
        int[] r = new int[cores];
        for (byte b : buckets) {
            r[b]++;
        }
        return r;
    }

    /** The owner of every bucket, {@code result[bucket] = core}. */
    public int[] owners() {
        int[] r = new int[buckets.length];
        for (int i = 0; i < r.length; i++) {
            r[i] = buckets[i];
        }
        return r;
    }

    public int cores() {
        return cores;
    }

    public int size() {
        return buckets.length;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof IndirectionTable t && t.cores == cores && Arrays.equals(t.buckets, buckets);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(buckets) * 31 + cores;
    }
}
