package io.flowstack.core.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link RingPool}: reuse, and the memory held (lent or idle) within the budget. */
class RingPoolTest {
    private static final int MIB = 1 << 20;
    private static final int KIB_256 = 256 << 10;

    @Test
    void aReturnedRingServesTheNextTakeOfItsSize() {
        RingPool pool = new RingPool(4 * MIB);
        ByteRing r = pool.take(MIB);
        pool.give(r);
        assertSame(r, pool.take(MIB));
        assertEquals(MIB, pool.allocated());
        assertEquals(MIB, pool.lent());
        assertThrows(IllegalStateException.class, () -> {
            pool.give(r);
            pool.give(r);
        });
    }

    /**
     * Connections that switch from 1 MiB rings to 256 KiB rings: without dropping idle rings of
     * the old size, the pool would hold 3 MiB idle plus 3 MiB lent under a 3 MiB budget.
     */
    @Test
    void idleRingsOfAnotherSizeMakeRoomInsteadOfGrowingPastTheBudget() {
        long budget = 3L * MIB;
        RingPool pool = new RingPool(budget);
        List<ByteRing> big = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            assertTrue(pool.canLend(MIB));
            big.add(pool.take(MIB));
        }
        assertTrue(!pool.canLend(KIB_256), "the budget is fully lent");
        big.forEach(pool::give);
        List<ByteRing> small = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            assertTrue(pool.canLend(KIB_256));
            ByteRing r = pool.take(KIB_256);
            assertNotNull(r, "ring " + i);
            small.add(r);
            assertTrue(pool.allocated() <= budget, "allocated " + pool.allocated() + " after ring " + i);
        }
        assertEquals(budget, pool.lent());
        assertEquals(budget, pool.allocated());
        // nothing idle is left to drop: a ring beyond the budget is refused, not allocated
        assertNull(pool.take(KIB_256));
        assertEquals(budget, pool.allocated());
    }
}
