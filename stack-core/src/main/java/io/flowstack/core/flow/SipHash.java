package io.flowstack.core.flow;

/**
 * SipHash-2-4 (Aumasson and Bernstein) of two 64-bit words under a 128-bit secret key: the keyed
 * hash behind the stack's secrets (RFC 6528 ISNs, SYN cookies, RFC 7323 7.1 timestamp offsets,
 * RFC 7739 IPv4 identification buckets). Allocates nothing.
 *
 * <p>Immutable; shared read-only by all cores.
 */
public final class SipHash {
    private final long k0;
    private final long k1;

    /**
     * A hash under the key {@code (k0, k1)}.
     *
     * @param k0 the key's first half
     * @param k1 the key's second half
     */
    public SipHash(long k0, long k1) {
        this.k0 = k0;
        this.k1 = k1;
    }

    /**
     * A key derived from this one for another use ({@code domain} tells the uses apart), so one
     * stack secret gives independent keys.
     *
     * @param domain any constant naming the use
     * @return the derived key
     */
    public SipHash derive(long domain) {
        return new SipHash(hash(domain, 1), hash(domain, 2));
    }

    /**
     * SipHash-2-4 of {@code (a, b, c, d)}: {@code a} and {@code b} as 32-bit words, {@code c}
     * shifted up 32 bits and XORed with {@code d}.
     *
     * @return the 64-bit hash
     */
    public long hash(long a, long b, long c, long d) {
        return hash((a << 32) | (b & 0xFFFFFFFFL), (c << 32) ^ d);
    }

    /**
     * SipHash-2-4 of the 16 bytes {@code m0, m1}.
     *
     * @return the 64-bit hash
     */
    public long hash(long m0, long m1) {
        long v0 = k0 ^ 0x736f6d6570736575L;
        long v1 = k1 ^ 0x646f72616e646f6dL;
        long v2 = k0 ^ 0x6c7967656e657261L;
        long v3 = k1 ^ 0x7465646279746573L;
        long last = 16L << 56;
        for (int w = 0; w < 3; w++) {
            long m = w == 0 ? m0 : w == 1 ? m1 : last;
            v3 ^= m;
            for (int r = 0; r < 2; r++) { // SipRound x 2 (the "2" of 2-4)
                v0 += v1; v1 = Long.rotateLeft(v1, 13); v1 ^= v0; v0 = Long.rotateLeft(v0, 32);
                v2 += v3; v3 = Long.rotateLeft(v3, 16); v3 ^= v2;
                v0 += v3; v3 = Long.rotateLeft(v3, 21); v3 ^= v0;
                v2 += v1; v1 = Long.rotateLeft(v1, 17); v1 ^= v2; v2 = Long.rotateLeft(v2, 32);
            }
            v0 ^= m;
        }
        v2 ^= 0xFF;
        for (int r = 0; r < 4; r++) { // finalisation x 4
            v0 += v1; v1 = Long.rotateLeft(v1, 13); v1 ^= v0; v0 = Long.rotateLeft(v0, 32);
            v2 += v3; v3 = Long.rotateLeft(v3, 16); v3 ^= v2;
            v0 += v3; v3 = Long.rotateLeft(v3, 21); v3 ^= v0;
            v2 += v1; v1 = Long.rotateLeft(v1, 17); v1 ^= v2; v2 = Long.rotateLeft(v2, 32);
        }
        return v0 ^ v1 ^ v2 ^ v3;
    }
}
