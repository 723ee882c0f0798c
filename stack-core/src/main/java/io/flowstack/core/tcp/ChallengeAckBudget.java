package io.flowstack.core.tcp;

import java.util.SplittableRandom;

/**
 * The core's total of challenge ACKs (RFC 5961 7) per second, with a budget drawn at random each
 * second: {@code limit / 2 + random(limit)}, as Linux's tcp_send_challenge_ack has done since
 * CVE-2016-5696. A fixed limit shared by every connection is a side channel: an off-path
 * attacker fills it with its own segments and counts the challenge ACKs it gets back to learn
 * whether a spoofed segment drew one (Cao et al., "Off-Path TCP Exploits", USENIX Security 2016).
 * Each connection's own limit (one per 500 ms) is {@link TcpInput#challengeAck}'s.
 *
 * <p>Owned by: its netisr thread (through {@link TcpInput}); the random source is this core's,
 * seeded at start from the stack's secret ({@link Isn#coreSeed}); time is passed in.
 */
final class ChallengeAckBudget {
    private final int limit;
    private final SplittableRandom random;
    /** The second ({@code now / 1 s}) the budget was drawn for. */
    private long second = Long.MIN_VALUE;
    private int remaining;

    /**
     * @param limit the mean number of challenge ACKs per second (0: none)
     * @param seed this core's secret seed
     */
    ChallengeAckBudget(int limit, long seed) {
        this.limit = Math.max(0, limit);
        this.random = new SplittableRandom(seed);
    }

    /** Takes one challenge ACK from this second's budget at {@code now} (nanoseconds); false if none is left. */
    boolean take(long now) {
        long s = Math.floorDiv(now, 1_000_000_000L);
        if (s != second) {
            second = s;
            remaining = limit == 0 ? 0 : (limit + 1) / 2 + random.nextInt(limit); // Linux: half + prandom_u32_max(limit)
        }
        if (remaining > 0) {
            remaining--;
            return true;
        }
        return false;
    }
}
