package io.flowstack.core.tcp;

import io.flowstack.core.flow.SipHash;

/**
 * The stack's TCP secrets: initial sequence numbers (RFC 6528 section 3: ISN = M + F(localip,
 * localport, remoteip, remoteport, secretkey), where M is a 4-microsecond timer and F is
 * SipHash-2-4 under a random per-stack key), the keyed hash behind SYN cookies (RFC 4987
 * section 3.6), the per-connection timestamp offsets (RFC 7323 7.1) and the seeds of each core's
 * random source (the challenge ACK budget, RFC 5961 7).
 *
 * <p>Immutable after construction; shared read-only by all cores.
 */
public final class Isn {
    /** Domain of {@link #tsOffset}: an F of its own, so an offset tells nothing of an ISN. */
    private static final long TS_OFFSET_DOMAIN = 0x7473_6f66_6673_6574L; // "tsoffset"
    /** Domain of {@link #ipIdKey}. */
    private static final long IP_ID_DOMAIN = 0x6970_6964_656e_7473L; // "ipidents"
    /** The use number of the IPv4 Identification counters' seed ({@link #coreSeed}). */
    public static final int IP_ID_SEED = 2;
    /** Domain of {@link #coreSeed}. */
    private static final long CORE_SEED_DOMAIN = 0x636f_7265_7365_6564L; // "coreseed"
    private final SipHash key;

    /** The generator under the secret key {@code (k0, k1)}. */
    public Isn(long k0, long k1) {
        this.key = new SipHash(k0, k1);
    }

    /** RFC 6528: M + F(4-tuple), M ticking every 4 microseconds. */
    public int isn(int localAddr, int localPort, int remoteAddr, int remotePort, long nowNanos) {
        int m = (int) (nowNanos / 4000);
        return m + (int) hash(localAddr, remoteAddr, ((long) localPort << 16) | remotePort, 0);
    }

    /**
     * RFC 7323 7.1 (and 5.4): the connection's offset added to our timestamp clock, a keyed hash
     * of its 4-tuple, so TSvals tell nothing of the host's uptime and two connections' TSvals are
     * unrelated; a 4-tuple always gets the same offset, so a new incarnation's TSvals still rise
     * over the last one's (the peer's TIME-WAIT, RFC 7323 5.8 / 6). Linux: secure_tcp_ts_off.
     */
    public int tsOffset(int localAddr, int localPort, int remoteAddr, int remotePort) {
        return (int) hash(localAddr, remoteAddr, ((long) localPort << 16) | remotePort, TS_OFFSET_DOMAIN);
    }

    /** The seed of core {@code core}'s random source for use {@code use}: secret, and different per core. */
    public long coreSeed(int core, int use) {
        return hash(core, use, 0, CORE_SEED_DOMAIN);
    }

    /** The key that picks an IPv4 Identification counter (RFC 7739; Linux's ip_id_key), derived from the stack's secret. */
    public SipHash ipIdKey() {
        return key.derive(IP_ID_DOMAIN);
    }

    /** SipHash-2-4 of three words under the stack's key. */
    public long hash(long a, long b, long c, long d) {
        return key.hash(a, b, c, d);
    }
}
