package io.flowstack.core.tcp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.testing.ResidentPages;
import io.flowstack.nativeio.Errno;
import io.flowstack.nativeio.NativeException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link RingPool}: reuse, the memory held (lent or idle) within the budget, and rings that are
 * neither zeroed when made nor walked through by a connection that writes a little at a time.
 */
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

    /**
     * A pooled ring is an anonymous mapping: making it touches no page (an arena's allocation
     * zeroes, so touches, every page: the netisr used to fault in 4 MiB per keep-alive
     * connection at its first response), and writing touches only the pages written.
     */
    @Test
    void aNewRingTouchesNoPageUntilWritten() {
        int fourMib = 4 * MIB;
        RingPool pool = new RingPool(64L * MIB);
        ByteRing r = pool.take(fourMib);
        assertEquals(0, ResidentPages.of(r.segment()), "a new ring is not zeroed by us");
        r.write(0, new byte[100], 0, 100);
        assertEquals(1, ResidentPages.of(r.segment()));
        try (Arena a = Arena.ofConfined()) {
            ByteRing zeroed = new ByteRing(a, fourMib);
            assertTrue(ResidentPages.of(zeroed.segment()) >= fourMib / ResidentPages.PAGE,
                    "what an arena's allocation costs, for contrast");
        }
    }

    /** Emptied at any position, a ring puts that position at its first byte, and wraps from there. */
    @Test
    void aRingLentMidStreamStartsAtItsFirstByte() {
        RingPool pool = new RingPool(4 * MIB);
        ByteRing r = pool.take(KIB_256);
        long pos = 1_000_003L;
        r.resetAt(pos);
        assertEquals(0, r.offset(pos));
        assertEquals(KIB_256 - 1, r.offset(pos - 1));
        byte[] msg = new byte[20];
        for (int i = 0; i < msg.length; i++) {
            msg[i] = (byte) (i + 1);
        }
        long nearEnd = pos + KIB_256 - 10; // wraps after 10 bytes
        r.write(nearEnd, msg, 0, msg.length);
        assertEquals(10, r.contiguous(nearEnd, msg.length));
        assertEquals(1, r.segment().get(ValueLayout.JAVA_BYTE, KIB_256 - 10));
        assertEquals(11, r.segment().get(ValueLayout.JAVA_BYTE, 0));
        byte[] back = new byte[msg.length];
        r.read(nearEnd, back, 0, back.length);
        assertArrayEquals(msg, back);
        MemorySegment seg = MemorySegment.ofArray(new byte[msg.length]);
        r.read(nearEnd, seg, 0, msg.length);
        assertArrayEquals(msg, seg.toArray(ValueLayout.JAVA_BYTE));
        r.reset();
        assertEquals(0, r.offset(0));
    }

    /**
     * A callback connection's send ring is lent for each response and given back once it is
     * acknowledged ({@code TcpConnections.lendSend}, {@code returnIdleRings}). Lent at the
     * stream's position, each response goes to the ring's first bytes: 50 responses of 3,000
     * bytes keep one page resident, where following the stream's position through the ring
     * would touch 37 (150,000 bytes).
     */
    @Test
    void smallResponsesOneAtATimeKeepReusingTheFirstPage() {
        RingPool pool = new RingPool(4 * MIB);
        byte[] response = new byte[3000];
        long streamPos = 12_345;
        ByteRing first = null;
        for (int i = 0; i < 50; i++) {
            ByteRing r = pool.take(KIB_256);
            first = first == null ? r : first;
            assertSame(first, r, "the pool lends the same ring again");
            r.resetAt(streamPos);
            r.write(streamPos, response, 0, response.length);
            r.tail(streamPos + response.length);
            r.head(streamPos + response.length); // acknowledged
            streamPos += response.length;
            pool.give(r);
        }
        assertEquals(1, ResidentPages.of(first.segment()));
    }

    /**
     * A ring the pool drops (to make room for one of another size) gives its pages back at once:
     * its mapping goes only when the GC runs, and with no heap allocation on the netisr that may
     * be never. So does every idle ring when the pool closes.
     */
    @Test
    void aDroppedRingGivesItsPagesBackAtOnce() {
        RingPool pool = new RingPool(MIB);
        ByteRing big = pool.take(MIB);
        big.write(0, new byte[MIB], 0, MIB);
        assertEquals(MIB / ResidentPages.PAGE, ResidentPages.of(big.segment()));
        pool.give(big);
        ByteRing small = pool.take(KIB_256); // over the budget with the idle 1 MiB: that one goes
        assertNotNull(small);
        assertEquals(0, ResidentPages.of(big.segment()), "the dropped ring's pages");
        small.write(0, new byte[KIB_256], 0, KIB_256);
        pool.give(small);
        pool.close();
        assertEquals(0, ResidentPages.of(small.segment()), "an idle ring's pages when the pool closes");
    }

    /** A mapping the kernel refuses is a refused ring (null), with nothing counted as lent or held. */
    @Test
    void aRefusedMappingRefusesTheRingAndHoldsNothing() {
        boolean[] refuse = {true};
        RingPool pool = new RingPool(4 * MIB, null, capacity -> {
            if (refuse[0]) {
                throw new NativeException("mmap", "length " + capacity, Errno.ENOMEM);
            }
            return ByteRing.mapped(capacity);
        });
        assertTrue(pool.canLend(MIB));
        assertNull(pool.take(MIB));
        assertEquals(0, pool.lent());
        assertEquals(0, pool.allocated());
        refuse[0] = false;
        assertNotNull(pool.take(MIB));
        assertEquals(MIB, pool.allocated());
    }
}
