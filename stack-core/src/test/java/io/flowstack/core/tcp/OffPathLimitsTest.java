package io.flowstack.core.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The core's challenge ACK budget (RFC 5961 7) and RST token bucket, on a fake clock. */
class OffPathLimitsTest {
    static final long S = 1_000_000_000L;

    static List<Integer> budgets(ChallengeAckBudget b, int seconds) {
        List<Integer> out = new ArrayList<>();
        for (int s = 1; s <= seconds; s++) {
            int n = 0;
            while (b.take(s * S + n)) {
                n++;
            }
            out.add(n);
        }
        return out;
    }

    @Test
    void theChallengeBudgetIsHalfTheLimitPlusARandomShareEachSecond() {
        List<Integer> got = budgets(new ChallengeAckBudget(1000, 42), 50);
        for (int n : got) {
            assertTrue(n >= 500 && n < 1500, "Linux: limit / 2 + prandom_u32_max(limit), got " + n);
        }
        assertTrue(new HashSet<>(got).size() > 40, "drawn again each second: " + got);
        assertNotEquals(got, budgets(new ChallengeAckBudget(1000, 43), 50), "each core's seed its own");
    }

    @Test
    void aZeroLimitSendsNone() {
        ChallengeAckBudget b = new ChallengeAckBudget(0, 1);
        assertFalse(b.take(S));
        assertFalse(b.take(5 * S));
    }

    @Test
    void resetsAreATokenBucketOfBurstAndRate() {
        ResetLimit r = new ResetLimit(200, 50);
        long now = 7 * S;
        int sent = 0;
        for (int i = 0; i < 100; i++) {
            sent += r.take(now) ? 1 : 0;
        }
        assertEquals(50, sent, "the burst");
        assertFalse(r.take(now + 4_999_999), "one token per 5 ms");
        assertTrue(r.take(now + 5_000_000));
        sent = 0;
        for (long t = now + 6_000_000; t <= now + S + 5_000_000; t += 1_000_000) {
            sent += r.take(t) ? 1 : 0;
        }
        assertEquals(200, sent, "200 per second under a steady flood");
        sent = 0;
        long later = now + 3_600 * S;
        for (int i = 0; i < 100; i++) {
            sent += r.take(later) ? 1 : 0;
        }
        assertEquals(50, sent, "a long quiet spell refills the burst only");
    }
}
