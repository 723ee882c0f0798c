package io.flowstack.core.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The TIME-WAIT table on its own ({@link TimeWaitTable}): insert, lookup, expiry in insertion
 * order on a fake clock, restarts, the bound and its overflow count, growth up to the bound,
 * compaction, and no allocation once grown; a randomized run against a map as the model.
 */
class TimeWaitTableTest {
    static final long TW = 60_000_000_000L;

    static long key(int i) {
        return Tcb.key(0xC6120000 + (i >>> 10), 1024 + (i & 1023), 80);
    }

    static int insert(TimeWaitTable t, long key, int seq, long now) {
        return t.insert(0, key, seq, seq + 1, 65535 << 3, 3, true, seq * 7, now, now + TW);
    }

    @Test
    void insertLookupAndFields() {
        TimeWaitTable t = new TimeWaitTable(100);
        long k = Tcb.key(0xC6120001, 40000, 80);
        assertEquals(0, t.insert(0, k, 111, 222, 333, 7, true, 444, 5L, 6L));
        int s = t.lookup(0, k);
        assertTrue(s >= 0);
        assertEquals(k, t.key(s));
        assertEquals(0xC6120001, TimeWaitTable.remoteAddr(k));
        assertEquals(40000, TimeWaitTable.remotePort(k));
        assertEquals(80, TimeWaitTable.localPort(k));
        assertEquals(111, t.sndNxt(s));
        assertEquals(222, t.rcvNxt(s));
        assertEquals(333, t.rcvWnd(s));
        assertEquals(7, t.rcvWscale(s));
        assertTrue(t.tsOk(s));
        assertEquals(444, t.tsRecent(s));
        assertEquals(5L, t.tsRecentAt(s));
        assertEquals(6L, t.expiresAt(s));
        assertEquals(-1, t.lookup(0, Tcb.key(0xC6120001, 40001, 80)));
        t.insert(0, k, 1, 2, 3, 0, false, 0, 0, 9L); // same 4-tuple: replaced
        assertEquals(1, t.size());
        assertFalse(t.tsOk(t.lookup(0, k)));
        assertEquals(9L, t.expiresAt(t.lookup(0, k)));
    }

    @Test
    void theLocalAddressIsPartOfTheFourTuple() {
        // the same remote address and ports to two local addresses (a router's interfaces 0 and 1)
        // are two entries, found, restarted and removed apart, surviving growth and compaction
        TimeWaitTable t = new TimeWaitTable(4096);
        long k = Tcb.key(0xC6120001, 40000, 80);
        t.insert(0, k, 100, 200, 0, 0, false, 0, 0, 50L);
        t.insert(1, k, 101, 201, 0, 0, false, 0, 0, 60L);
        t.insert(255, k, 102, 202, 0, 0, false, 0, 0, 70L);
        assertEquals(3, t.size());
        assertEquals(100, t.sndNxt(t.lookup(0, k)));
        assertEquals(101, t.sndNxt(t.lookup(1, k)));
        assertEquals(102, t.sndNxt(t.lookup(255, k)));
        assertEquals(1, t.localIf(t.lookup(1, k)));
        assertEquals(255, t.localIf(t.lookup(255, k)));
        assertEquals(-1, t.lookup(2, k));
        t.restart(t.lookup(1, k), 90L);
        assertEquals(90L, t.expiresAt(t.lookup(1, k)));
        assertEquals(50L, t.expiresAt(t.lookup(0, k)));
        for (int i = 0; i < 2000; i++) { // grows (rebuilds the hash) with entries on both addresses
            t.insert(i & 1, key(i), i, i, 0, 0, false, 0, 0, 100L + i);
        }
        t.remove(t.lookup(0, k));
        assertEquals(-1, t.lookup(0, k));
        assertEquals(101, t.sndNxt(t.lookup(1, k)));
        assertEquals(102, t.sndNxt(t.lookup(255, k)));
        for (int i = 0; i < 2000; i++) {
            assertEquals(i, t.sndNxt(t.lookup(i & 1, key(i))), "entry " + i);
            assertEquals(-1, t.lookup((i & 1) ^ 1, key(i)), "entry " + i + " on the other address");
        }
        assertEquals(2000 + 2, t.expire(10_000L)); // 2000 entries and the two of k left
        assertEquals(0, t.size());
    }

    @Test
    void entriesExpireOldestFirstOnTheFakeClock() {
        TimeWaitTable t = new TimeWaitTable(1000);
        for (int i = 0; i < 10; i++) {
            insert(t, key(i), i, i * 1_000_000_000L);
        }
        assertEquals(0, t.expire(TW - 1));
        assertEquals(1, t.expire(TW));
        assertEquals(-1, t.lookup(0, key(0)));
        assertTrue(t.lookup(0, key(1)) >= 0);
        assertEquals(4, t.expire(TW + 4_000_000_000L));
        assertEquals(5, t.size());
        assertEquals(5, t.expire(Long.MAX_VALUE / 2));
        assertEquals(0, t.size());
        assertEquals(-1, t.lookup(0, key(9)));
    }

    @Test
    void aRestartMovesTheEntryToTheTailWithItsNewExpiry() {
        TimeWaitTable t = new TimeWaitTable(1000);
        insert(t, key(0), 0, 0);
        insert(t, key(1), 1, 1);
        t.lastOowAckAt(t.lookup(0, key(0)), 77L);
        t.restart(t.lookup(0, key(0)), 10 + TW);
        assertEquals(77L, t.lastOowAckAt(t.lookup(0, key(0))), "the entry keeps its fields");
        assertEquals(0, t.sndNxt(t.lookup(0, key(0))));
        assertEquals(1, t.expire(1 + TW), "key 1 expires; key 0 restarted later");
        assertTrue(t.lookup(0, key(0)) >= 0);
        assertEquals(1, t.expire(10 + TW));
        assertEquals(0, t.size());
    }

    @Test
    void theBoundDropsTheOldestAndSaysHowMany() {
        TimeWaitTable t = new TimeWaitTable(5);
        int dropped = 0;
        for (int i = 0; i < 12; i++) {
            dropped += insert(t, key(i), i, i);
        }
        assertEquals(5, t.size());
        assertEquals(7, dropped);
        for (int i = 0; i < 12; i++) {
            assertEquals(i >= 7, t.lookup(0, key(i)) >= 0, "entry " + i);
        }
        assertEquals(8, t.capacity(), "the first power of two at or above the bound");
    }

    @Test
    void removalsLeaveHolesThatCompactionReclaimsWithoutDroppingLiveEntries() {
        TimeWaitTable t = new TimeWaitTable(64);
        for (int i = 0; i < 64; i++) {
            insert(t, key(i), i, i);
        }
        for (int i = 1; i < 64; i += 2) {
            t.remove(t.lookup(0, key(i))); // holes in the middle of the ring
        }
        assertEquals(32, t.size());
        int dropped = 0;
        for (int i = 100; i < 132; i++) {
            dropped += insert(t, key(i), i, i);
        }
        assertEquals(0, dropped, "the ring was compacted, no live entry dropped");
        assertEquals(64, t.size());
        for (int i = 0; i < 64; i += 2) {
            assertTrue(t.lookup(0, key(i)) >= 0);
            assertEquals(i, t.sndNxt(t.lookup(0, key(i))));
        }
        assertEquals(32, t.expire(63 + TW), "still oldest first after compaction");
        assertTrue(t.lookup(0, key(100)) >= 0);
    }

    @Test
    void growsToTheBoundThenAllocatesNothing() {
        int bound = 1 << 14;
        TimeWaitTable t = new TimeWaitTable(bound);
        assertEquals(TimeWaitTable.INITIAL_CAPACITY, t.capacity(), "starts small");
        long now = 0;
        for (int i = 0; i < bound; i++) {
            insert(t, key(i), i, now++);
        }
        assertEquals(bound, t.capacity());
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long[] counts = new long[2];
        now = churn(t, bound, bound, 10 * bound, now, counts); // warm-up (class loading, compilation)
        long before = mx.getCurrentThreadAllocatedBytes();
        now = churn(t, bound, 10 * bound, 20 * bound, now, counts);
        long allocated = mx.getCurrentThreadAllocatedBytes() - before;
        assertEquals(0, allocated, "insert, lookup, restart, remove and expire allocate nothing once grown");
        int dropped = (int) counts[0];
        long found = counts[1];
        assertTrue(dropped > 0);
        assertTrue(found >= 19L * bound, "every new entry is found at once");
        assertTrue(t.size() <= bound);
    }

    /** Steady-state operations on keys {@code from..to} (counts[0] += dropped, counts[1] += found). */
    private static long churn(TimeWaitTable t, int bound, int from, int to, long now, long[] counts) {
        for (int i = from; i < to; i++) {
            counts[0] += insert(t, key(i), i, now++); // overflow: the oldest goes each time
            counts[1] += t.lookup(0, key(i)) >= 0 ? 1 : 0;
            counts[1] += t.lookup(0, key(i - bound / 2)) >= 0 ? 1 : 0;
            if ((i & 15) == 0) {
                t.restart(t.lookup(0, key(i - 100)), now + TW);
            }
            if ((i & 7) == 0) {
                t.remove(t.lookup(0, key(i - 10)));
            }
            t.expire(now - TW);
        }
        return now;
    }

    @Test
    void randomOperationsAgreeWithAMap() {
        SplittableRandom rnd = new SplittableRandom(11);
        TimeWaitTable t = new TimeWaitTable(300);
        Map<Long, long[]> model = new HashMap<>(); // key -> {seq, expiresAt, insertion order}
        long now = 0;
        long order = 0;
        for (int step = 0; step < 200_000; step++) {
            now += rnd.nextInt(1_000_000_000);
            long k = key(rnd.nextInt(1000));
            int op = rnd.nextInt(10);
            if (op < 5) {
                int seq = rnd.nextInt();
                int dropped = t.insert(0, k, seq, 0, 0, 0, false, 0, now, now + TW);
                model.put(k, new long[] {seq, now + TW, order++});
                for (int d = 0; d < dropped; d++) { // the oldest by insertion went
                    long oldest = model.entrySet().stream().min((a, b) -> Long.compare(a.getValue()[2], b.getValue()[2]))
                            .orElseThrow().getKey();
                    model.remove(oldest);
                }
            } else if (op < 7) {
                int s = t.lookup(0, k);
                if (s >= 0) {
                    t.remove(s);
                    model.remove(k);
                }
            } else if (op < 8) {
                int s = t.lookup(0, k);
                if (s >= 0) {
                    int dropped = t.restart(s, now + TW);
                    long[] v = model.get(k);
                    v[1] = now + TW;
                    v[2] = order++;
                    for (int d = 0; d < dropped; d++) {
                        long oldest = model.entrySet().stream().min((a, b) -> Long.compare(a.getValue()[2], b.getValue()[2]))
                                .orElseThrow().getKey();
                        model.remove(oldest);
                    }
                }
            } else {
                t.expire(now);
                final long at = now;
                model.values().removeIf(v -> v[1] - at <= 0);
            }
            assertEquals(model.size(), t.size(), "step " + step);
            long[] v = model.get(k);
            int s = t.lookup(0, k);
            assertEquals(v != null, s >= 0, "step " + step);
            if (v != null) {
                assertEquals((int) v[0], t.sndNxt(s));
                assertEquals(v[1], t.expiresAt(s));
            }
        }
    }
}
