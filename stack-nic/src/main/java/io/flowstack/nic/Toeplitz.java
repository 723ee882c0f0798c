package io.flowstack.nic;

/**
 * The one definition of the flow hash's facts, for the NIC-side steering programs
 * ({@code packet.ToeplitzSteering}, the TAP's and AF_PACKET's eBPF {@link SteeringTable}) and
 * the stack's own flow hash ({@code core.flow.FlowHash}) and indirection table: the symmetric
 * Toeplitz key (Microsoft RSS; the {@code 0x6d5a} key of Woo and Park, "Scalable TCP Session
 * Monitoring with Symmetric Receive-side Scaling"), the number of buckets of the indirection
 * table, the 32-bit key window an input bit selects and the hash itself.
 *
 * <p>With a key whose bit pattern repeats every 16 bits, the 32-bit key window at input bit
 * {@code j} equals the window at {@code j + 16k}; swapping the source and destination address
 * (32 bits apart) and ports (16 bits apart) therefore leaves the hash unchanged, so both
 * directions of a flow land on one core. The hash is computed with a precomputed table of
 * {@code 12 x 256} ints (one lookup per input byte); {@link #hashOfXor} computes the same hash
 * from the XOR of the tuple's 16-bit words, as the BPF programs do.
 *
 * <p>Owned by: nobody (stateless; the tables are filled once by the class initializer).
 */
public final class Toeplitz {
    /** Buckets of the indirection table (the stack's default table and the steering programs'). */
    public static final int BUCKETS = 128;
    /** The 16-bit pattern the 40-byte key repeats. */
    private static final int PATTERN = 0x6d5a;
    /** Length of the RSS key in bytes. */
    public static final int KEY_LENGTH = 40;
    /** Input bytes of the longest tuple hashed: (src, dst, sport, dport). */
    private static final int INPUT_BYTES = 12;
    private static final int[][] TABLE = new int[INPUT_BYTES][256];

    static {
        for (int pos = 0; pos < INPUT_BYTES; pos++) {
            for (int v = 0; v < 256; v++) {
                int h = 0;
                for (int bit = 0; bit < 8; bit++) {
                    if ((v & (0x80 >>> bit)) != 0) {
                        h ^= window(pos * 8 + bit);
                    }
                }
                TABLE[pos][v] = h;
            }
        }
    }

    private Toeplitz() {
    }

    /**
     * The symmetric RSS key: {@code 0x6d5a} repeated over {@value #KEY_LENGTH} bytes.
     *
     * @return a fresh copy of the key
     */
    public static byte[] key() {
        byte[] key = new byte[KEY_LENGTH];
        for (int i = 0; i < KEY_LENGTH; i += 2) {
            key[i] = (byte) (PATTERN >>> 8);
            key[i + 1] = (byte) PATTERN;
        }
        return key;
    }

    /**
     * The 32 key bits starting at key bit {@code j} (Toeplitz: input bit j selects them).
     *
     * @param j the input bit's position, from 0 (the first byte's most significant bit)
     * @return the key window, most significant bit first
     */
    public static int window(int j) {
        int w = 0;
        for (int i = 0; i < 32; i++) {
            int bit = (j + i) & 15;
            w = (w << 1) | ((PATTERN >>> (15 - bit)) & 1);
        }
        return w;
    }

    /**
     * Toeplitz hash of (src, dst), as an RSS NIC computes it for an IPv4 packet without ports.
     *
     * @param src the source address, as a big-endian int
     * @param dst the destination address, as a big-endian int
     * @return the 32-bit hash (symmetric: equal for (dst, src))
     */
    public static int hash2(int src, int dst) {
        int[][] t = TABLE;
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
    public static int hash4(int src, int dst, int sport, int dport) {
        int[][] t = TABLE;
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
    public static int hashOfXor(int x) {
        int h = 0;
        for (int b = 0; b < 16; b++) {
            if ((x & (0x8000 >>> b)) != 0) {
                h ^= window(b);
            }
        }
        return h;
    }
}
