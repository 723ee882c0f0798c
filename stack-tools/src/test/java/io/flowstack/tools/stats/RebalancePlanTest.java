package io.flowstack.tools.stats;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.nic.Toeplitz;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The greedy plan of {@code stack rebalance --auto}. */
class RebalancePlanTest {
    private static long[] loads(long[] perBucket, int[] owner, int cores) {
        long[] load = new long[cores];
        for (int b = 0; b < owner.length; b++) {
            load[owner[b]] += perBucket[b];
        }
        return load;
    }

    @Test
    void twoHotBucketsOnOneCoreAreSplit() {
        long[] per = {1000, 0, 1000, 0, 10, 0, 0, 0};
        int[] owner = {0, 1, 0, 1, 0, 1, 0, 1};
        long[] load = loads(per, owner, 2);
        List<int[]> plan = Rebalance.plan(per, owner, load);
        assertEquals(1, plan.size());
        assertEquals(0, plan.get(0)[1]);
        assertEquals(1, plan.get(0)[2]);
        assertArrayEquals(new long[] {1010, 1000}, load);
    }

    @Test
    void evenLoadOrOneIndivisibleBucketMovesNothing() {
        long[] per = {500, 500, 0, 0};
        int[] owner = {0, 1, 0, 1};
        assertTrue(Rebalance.plan(per, owner, loads(per, owner, 2)).isEmpty());
        long[] one = {900, 0, 0, 0};
        int[] o2 = {0, 1, 0, 1};
        assertTrue(Rebalance.plan(one, o2, loads(one, o2, 2)).isEmpty(), "moving the only busy bucket only swaps the cores");
    }

    @Test
    void manyBucketsOnFourCoresEndWithinTheLargestBucket() {
        int buckets = Toeplitz.BUCKETS;
        long[] per = new long[buckets];
        int[] owner = new int[buckets];
        for (int b = 0; b < buckets; b++) {
            per[b] = (b * 37) % 101;
            owner[b] = b < 64 ? 0 : b % 4; // core 0 has half the table
        }
        long[] load = loads(per, owner, 4);
        List<int[]> plan = Rebalance.plan(per, owner, load);
        assertTrue(!plan.isEmpty() && plan.size() <= Rebalance.MAX_BALANCE_MOVES);
        long max = 0;
        long min = Long.MAX_VALUE;
        for (long l : load) {
            max = Math.max(max, l);
            min = Math.min(min, l);
        }
        assertTrue(max - min <= 2 * 100, "gap " + (max - min) + " after " + plan.size() + " moves");
        assertArrayEquals(load, loads(per, owner, 4), "owner and load updated together");
    }
}
