package io.flowstack.nic;

import java.util.HexFormat;
import java.util.random.RandomGenerator;

/**
 * The one definition of the flow hash's facts, for the NIC-side steering programs
 * ({@code packet.ToeplitzSteering}, the TAP's and AF_PACKET's eBPF {@link SteeringTable}) and
 * the stack's own flow hash ({@code core.flow.FlowHash}) and indirection table: the symmetric
 * Toeplitz key (Microsoft RSS with a key that repeats one 16-bit pattern, as in Woo and Park,
 * "Scalable TCP Session Monitoring with Symmetric Receive-side Scaling", whose pattern
 * {@code 0x6d5a} is {@link #WOO_PARK}), the number of buckets of the indirection table, the
 * 32-bit key window an input bit selects and the hash itself.
 *
 * <p>With a key whose bit pattern repeats every 16 bits, the 32-bit key window at input bit
 * {@code j} equals the window at {@code j + 16k}; swapping the source and destination address
 * (32 bits apart) and ports (16 bits apart) therefore leaves the hash unchanged, so both
 * directions of a flow land on one core. The hash is computed with a precomputed table of
 * {@code 12 x 256} ints (one lookup per input byte); {@link #hashOfXor} computes the same hash
 * from the XOR of the tuple's 16-bit words, as the BPF programs do.
 *
 * <p>The pattern is chosen at random when the stack starts ({@link #random}) unless one is given
 * ({@code --rss-key}, {@link #parse}), so an off-path host cannot tell which core a flow lands
 * on from its tuple. What that randomness is worth: the pattern has 16 bits, and the hash of a
 * tuple is a linear function of the XOR of its 16-bit words whatever the pattern, so tuples with
 * the same XOR share a bucket under every key (an attacker can still pile flows onto one core
 * by choosing such tuples; the per-core limits and the rebalancer are the answer to that). A
 * pattern is taken only if its {@value #BUCKET_BITS} bucket bits are linearly independent
 * functions of the input, so the buckets stay evenly filled.
 *
 * <p>Owned by: nobody (immutable; the tables are filled once by the constructor).
 */
public final class Toeplitz {
    /** Buckets of the indirection table (the stack's default table and the steering programs'). */
    public static final int BUCKETS = 128;
    /** log2 of {@link #BUCKETS}: the hash bits that choose a bucket. */
    static final int BUCKET_BITS = 7;
    /** Length of the RSS key in bytes. */
    public static final int KEY_LENGTH = 40;
    /** Woo and Park's symmetric key, {@code 0x6d5a} repeated (the tests' fixed key). */
    public static final Toeplitz WOO_PARK = new Toeplitz(0x6d5a);
    /** Input bytes of the longest tuple hashed: (src, dst, sport, dport). */
    private static final int INPUT_BYTES = 12;
    /** The 16-bit pattern the 40-byte key repeats. */
    private final int pattern;
    private final int[][] table = new int[INPUT_BYTES][256];
    private final int[] windows = new int[16];

    private Toeplitz(int pattern) {
        this.pattern = pattern & 0xFFFF;
        for (int j = 0; j < 16; j++) {
            int w = 0;
            for (int i = 0; i < 32; i++) {
                int bit = (j + i) & 15;
                w = (w << 1) | ((this.pattern >>> (15 - bit)) & 1);
            }
            windows[j] = w;
        }
        for (int pos = 0; pos < INPUT_BYTES; pos++) {
            for (int v = 0; v < 256; v++) {
                int h = 0;
                for (int bit = 0; bit < 8; bit++) {
                    if ((v & (0x80 >>> bit)) != 0) {
                        h ^= window(pos * 8 + bit);
                    }
                }
                table[pos][v] = h;
            }
        }
    }

    /**
     * A random symmetric key: a pattern drawn from {@code random} until its bucket bits are
     * independent ({@link #spreadsEvenly}).
     *
     * @param random the source (a {@code SecureRandom} at start)
     * @return the key
     */
    public static Toeplitz random(RandomGenerator random) {
        while (true) {
            int p = random.nextInt(1 << 16);
            if (spreadsEvenly(p)) {
                return new Toeplitz(p);
            }
        }
    }

    /**
     * The key of a pattern, as {@link #parse} would give it for its 40-byte form.
     *
     * @param pattern the 16-bit pattern
     * @return the key
     * @throws IllegalArgumentException if the pattern does not spread flows over every bucket
     */
    public static Toeplitz ofPattern(int pattern) {
        if (pattern < 0 || pattern > 0xFFFF) {
            throw new IllegalArgumentException("an RSS key pattern has 16 bits: " + pattern);
        }
        if (!spreadsEvenly(pattern)) {
            throw new IllegalArgumentException(String.format(
                    "RSS key pattern %04x fills only some of the %d buckets: choose another", pattern, BUCKETS));
        }
        return new Toeplitz(pattern);
    }

    /**
     * The key written as {@value #KEY_LENGTH} bytes in hex (colons, spaces or dashes between
     * bytes allowed), as {@code ethtool -x} shows one.
     *
     * @param hex the key
     * @return the key
     * @throws IllegalArgumentException with a one-line reason: not hex, not 40 bytes, not one
     *     16-bit pattern repeated (the hash would not be symmetric), or a pattern that fills only
     *     some buckets
     */
    public static Toeplitz parse(String hex) {
        String digits = hex.replaceAll("[:\\s-]", "");
        byte[] key;
        try {
            key = HexFormat.of().parseHex(digits);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("an RSS key is " + KEY_LENGTH + " bytes in hex: " + hex);
        }
        if (key.length != KEY_LENGTH) {
            throw new IllegalArgumentException("an RSS key is " + KEY_LENGTH + " bytes in hex, got " + key.length);
        }
        int pattern = ((key[0] & 0xFF) << 8) | (key[1] & 0xFF);
        for (int i = 2; i < KEY_LENGTH; i += 2) {
            if (key[i] != key[0] || key[i + 1] != key[1]) {
                throw new IllegalArgumentException("an RSS key must repeat its first two bytes (a symmetric key, "
                        + "so both directions of a flow reach one core): byte " + i + " differs");
            }
        }
        return ofPattern(pattern);
    }

    /**
     * Whether the {@value #BUCKET_BITS} low hash bits (the bucket) are linearly independent
     * functions of the 16-bit XOR the hash depends on, so every bucket gets as many inputs.
     */
    static boolean spreadsEvenly(int pattern) {
        Toeplitz t = new Toeplitz(pattern);
        // Gaussian elimination over GF(2) on the bucket bits' 16-bit functionals
        int[] rows = new int[BUCKET_BITS];
        for (int k = 0; k < BUCKET_BITS; k++) {
            int row = 0;
            for (int b = 0; b < 16; b++) {
                row |= ((t.windows[b] >>> k) & 1) << b;
            }
            rows[k] = row;
        }
        int rank = 0;
        for (int bit = 0; bit < 16 && rank < BUCKET_BITS; bit++) {
            int pivot = -1;
            for (int r = rank; r < BUCKET_BITS; r++) {
                if ((rows[r] >>> bit & 1) != 0) {
                    pivot = r;
                    break;
                }
            }
            if (pivot < 0) {
                continue;
            }
            int tmp = rows[pivot];
            rows[pivot] = rows[rank];
            rows[rank] = tmp;
            for (int r = 0; r < BUCKET_BITS; r++) {
                if (r != rank && (rows[r] >>> bit & 1) != 0) {
                    rows[r] ^= rows[rank];
                }
            }
            rank++;
        }
        return rank == BUCKET_BITS;
    }

    /**
     * The 16-bit pattern the key repeats.
     *
     * @return the pattern
     */
    public int pattern() {
        return pattern;
    }

    /**
     * The key: the pattern repeated over {@value #KEY_LENGTH} bytes.
     *
     * @return a fresh copy of the key
     */
    public byte[] key() {
        byte[] key = new byte[KEY_LENGTH];
        for (int i = 0; i < KEY_LENGTH; i += 2) {
            key[i] = (byte) (pattern >>> 8);
            key[i + 1] = (byte) pattern;
        }
        return key;
    }

    /**
     * The 32 key bits starting at key bit {@code j} (Toeplitz: input bit j selects them).
     *
     * @param j the input bit's position, from 0 (the first byte's most significant bit)
     * @return the key window, most significant bit first
     */
    public int window(int j) {
        return windows[j & 15];
    }

    /**
     * Toeplitz hash of (src, dst), as an RSS NIC computes it for an IPv4 packet without ports.
     *
     * @param src the source address, as a big-endian int
     * @param dst the destination address, as a big-endian int
     * @return the 32-bit hash (symmetric: equal for (dst, src))
     */
    public int hash2(int src, int dst) {
        int[][] t = table;
        return t[0][src >>> 24] ^ t[1][(src >>> 16) & 0xFF] ^ t[2][(src >>> 8) & 0xFF] ^ t[3][src & 0xFF]
                ^ t[4][dst >>> 24] ^ t[5][(dst >>> 16) & 0xFF] ^ t[6][(dst >>> 8) & 0xFF]
                ^ t[7][dst & 0xFF];
    }

    /**
     * Toeplitz hash of (src, dst, sport, dport), as an RSS NIC computes it for TCP or UDP.
     *
     * @param src the source address, as a big-endian int
     * @param dst the destination address, as a big-endian int
     * @param sport the source port
     * @param dport the destination port
     * @return the 32-bit hash (symmetric: equal for the reverse direction)
     */
    public int hash4(int src, int dst, int sport, int dport) {
        int[][] t = table;
        return hash2(src, dst) ^ t[8][(sport >>> 8) & 0xFF] ^ t[9][sport & 0xFF]
                ^ t[10][(dport >>> 8) & 0xFF] ^ t[11][dport & 0xFF];
    }

    /**
     * The hash of a tuple given as the XOR of its 16-bit words: because the key repeats every
     * 16 bits the window an input bit selects depends only on its position in its 16-bit word,
     * and the hash is linear in its input bits. Equal to {@link #hash4}/{@link #hash2} of the
     * tuple.
     *
     * @param x the XOR of the tuple's 16-bit words (addresses' halves and ports)
     * @return the 32-bit hash
     */
    public int hashOfXor(int x) {
        int h = 0;
        for (int b = 0; b < 16; b++) {
            if ((x & (0x8000 >>> b)) != 0) {
                h ^= windows[b];
            }
        }
        return h;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Toeplitz t && t.pattern == pattern;
    }

    @Override
    public int hashCode() {
        return pattern;
    }
}
