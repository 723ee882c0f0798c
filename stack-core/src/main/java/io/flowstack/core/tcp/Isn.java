package io.flowstack.core.tcp;

/**
 * Initial sequence numbers (RFC 6528 section 3): ISN = M + F(localip, localport, remoteip,
 * remoteport, secretkey), where M is a 4-microsecond timer and F is SipHash-2-4 under a random
 * per-stack key. Also the keyed hash behind SYN cookies (RFC 4987 section 3.6).
 *
 * <p>Immutable after construction; shared read-only by all cores.
 */
public final class Isn {
    private final long k0;
    private final long k1;

    public Isn(long k0, long k1) {
        this.k0 = k0;
        this.k1 = k1;
    }

    /** RFC 6528: M + F(4-tuple), M ticking every 4 microseconds. */
    public int isn(int localAddr, int localPort, int remoteAddr, int remotePort, long nowNanos) {
        int m = (int) (nowNanos / 4000);
        return m + (int) hash(localAddr, remoteAddr, ((long) localPort << 16) | remotePort, 0);
    }

    /** SipHash-2-4 of three words under the stack's key. */
    public long hash(long a, long b, long c, long d) {
        long v0 = k0 ^ 0x736f6d6570736575L;
        long v1 = k1 ^ 0x646f72616e646f6dL;
        long v2 = k0 ^ 0x6c7967656e657261L;
        long v3 = k1 ^ 0x7465646279746573L;
        long m0 = (a << 32) | (b & 0xFFFFFFFFL);
        long m1 = (c << 32) ^ d;
        long[] v = {v0, v1, v2, v3};
        compress(v, m0);
        compress(v, m1);
        long last = 16L << 56;
        compress(v, last);
        v[2] ^= 0xFF;
        for (int i = 0; i < 4; i++) {
            round(v);
        }
        return v[0] ^ v[1] ^ v[2] ^ v[3];
    }

    private static void compress(long[] v, long m) {
        v[3] ^= m;
        round(v);
        round(v);
        v[0] ^= m;
    }

    private static void round(long[] v) {
        v[0] += v[1];
        v[1] = Long.rotateLeft(v[1], 13);
        v[1] ^= v[0];
        v[0] = Long.rotateLeft(v[0], 32);
        v[2] += v[3];
        v[3] = Long.rotateLeft(v[3], 16);
        v[3] ^= v[2];
        v[0] += v[3];
        v[3] = Long.rotateLeft(v[3], 21);
        v[3] ^= v[0];
        v[2] += v[1];
        v[1] = Long.rotateLeft(v[1], 17);
        v[1] ^= v[2];
        v[2] = Long.rotateLeft(v[2], 32);
    }
}
