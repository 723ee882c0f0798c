package io.flowstack.core.ip;

import io.flowstack.core.flow.SipHash;
import java.util.SplittableRandom;

/**
 * The Identification field of the datagrams a core originates (RFC 791 3.1), as RFC 6864 and
 * RFC 7739 ask and Linux's ip_idents does:
 * <ul>
 *   <li>An atomic datagram (DF set, not a fragment) may carry any ID (RFC 6864 4.1): 0, as Linux
 *       sends when no socket counter applies; no counter is consumed or revealed.</li>
 *   <li>A datagram that may be fragmented needs an ID unique per (source, destination,
 *       protocol) for as long as it may live (RFC 6864 4.2, RFC 791): it takes the next value of
 *       one of {@value #BUCKETS} counters, chosen by a keyed hash (SipHash, a per-stack secret)
 *       of (destination, source, protocol), not of one counter for everything (RFC 7739 5.3:
 *       a global counter tells an off-path observer how much a host sends, and lets it predict
 *       the ID a datagram to a third host will carry, the basis of fragment injection). Each
 *       counter starts at random, and when a bucket has been idle it jumps by a random amount
 *       below the milliseconds it was idle (Linux's ip_idents_reserve perturbation), so an
 *       observer of one destination's IDs cannot count what went to others sharing the bucket.</li>
 * </ul>
 * Cores draw from disjoint residue classes (ID = counter x cores + core, mod 2^16), so two
 * cores sending to one destination never use one ID at once.
 *
 * <p>Owned by: its netisr thread (through {@link Ipv4Layer}); the random source is this core's,
 * seeded at start; time is passed in.
 */
final class IpIdents {
    /** Counters (Linux: IP_IDENTS_SZ, 2048 per host; here per core). */
    static final int BUCKETS = 2048;
    private final SipHash key;
    private final SplittableRandom random;
    private final int core;
    private final int cores;
    private final int[] counters = new int[BUCKETS];
    /** The millisecond each bucket was last used. */
    private final long[] lastUsedMs = new long[BUCKETS];

    /**
     * @param key the per-stack secret the buckets are chosen by
     * @param seed this core's secret seed (counters' starts, perturbations)
     * @param core this core
     * @param cores how many cores the stack runs
     */
    IpIdents(SipHash key, long seed, int core, int cores) {
        this.key = key;
        this.random = new SplittableRandom(seed);
        this.core = core;
        this.cores = Math.max(1, cores);
        for (int i = 0; i < BUCKETS; i++) {
            counters[i] = random.nextInt();
            lastUsedMs[i] = Long.MIN_VALUE;
        }
    }

    /**
     * The ID of a datagram from {@code src} to {@code dst} of {@code protocol} sent at {@code now}
     * (nanoseconds), {@code atomic} if DF is set and it is whole (RFC 6864 4.1).
     */
    int next(int src, int dst, int protocol, boolean atomic, long now) {
        if (atomic) {
            return 0;
        }
        int b = (int) key.hash(dst, src, protocol, 0) & (BUCKETS - 1);
        long ms = now / 1_000_000L;
        long idle = lastUsedMs[b] == Long.MIN_VALUE ? 0 : ms - lastUsedMs[b];
        lastUsedMs[b] = ms;
        int step = 1;
        if (idle > 0) {
            step += random.nextInt((int) Math.min(idle, 1 << 16)); // Linux: prandom_u32_max(now - old)
        }
        counters[b] += step;
        return (counters[b] * cores + core) & 0xFFFF;
    }
}
