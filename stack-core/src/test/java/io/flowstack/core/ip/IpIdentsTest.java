package io.flowstack.core.ip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.flow.SipHash;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** IPv4 Identification per RFC 6864 and RFC 7739 ({@link IpIdents}), on a fake clock. */
class IpIdentsTest {
    static final int SRC = 0xC6120002;
    static final int A = 0xC6120001;
    static final int B = 0xC6120063;
    static final long MS = 1_000_000L;

    @Test
    void twoDestinationsIdsAreNotOneSequence() {
        IpIdents ids = new IpIdents(new SipHash(1, 2), 3, 0, 1);
        long now = 5_000 * MS;
        int[] a = new int[50];
        int[] b = new int[50];
        for (int i = 0; i < 50; i++) { // interleaved: one global counter would give a and b alternate values
            a[i] = ids.next(SRC, A, 17, false, now);
            b[i] = ids.next(SRC, B, 17, false, now);
        }
        for (int i = 1; i < 50; i++) {
            assertEquals((a[i - 1] + 1) & 0xFFFF, a[i], "A's counter steps by one within a millisecond");
            assertEquals((b[i - 1] + 1) & 0xFFFF, b[i]);
        }
        assertNotEquals((a[49] + 1) & 0xFFFF, b[0], "B's IDs do not continue A's");
        assertTrue(Math.abs(a[0] - b[0]) > 100, "two buckets start far apart (random starts): " + a[0] + " " + b[0]);
    }

    @Test
    void idsToOneDestinationDoNotRepeatWithinAWindow() {
        IpIdents ids = new IpIdents(new SipHash(7, 8), 9, 0, 1);
        long now = 1_000 * MS;
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < 30_000; i++) {
            if (i % 100 == 0) {
                now += MS; // the bucket is never idle long: perturbations stay small
            }
            assertTrue(seen.add(ids.next(SRC, A, 17, false, now)), "datagram " + i + " repeated an ID");
        }
    }

    @Test
    void anIdleBucketJumpsByARandomAmount() {
        IpIdents ids = new IpIdents(new SipHash(7, 8), 9, 0, 1);
        long now = 1_000 * MS;
        int first = ids.next(SRC, A, 17, false, now);
        Set<Integer> jumps = new HashSet<>();
        int last = first;
        for (int i = 0; i < 10; i++) {
            now += 1_000 * MS;
            int id = ids.next(SRC, A, 17, false, now);
            int jump = (id - last) & 0xFFFF;
            assertTrue(jump >= 1 && jump <= 1_000, "Linux's ip_idents_reserve: 1 + random(idle ms), got " + jump);
            jumps.add(jump);
            last = id;
        }
        assertTrue(jumps.size() > 5, "the jumps are random: " + jumps);
    }

    @Test
    void atomicDatagramsCarryZeroAndConsumeNothing() {
        IpIdents ids = new IpIdents(new SipHash(1, 2), 3, 0, 1);
        int before = ids.next(SRC, A, 6, false, 0);
        for (int i = 0; i < 10; i++) {
            assertEquals(0, ids.next(SRC, A, 6, true, 0), "RFC 6864 4.1");
        }
        assertEquals((before + 1) & 0xFFFF, ids.next(SRC, A, 6, false, 0), "no counter consumed by DF datagrams");
    }

    @Test
    void coresDrawFromDisjointResidueClassesAndDifferentKeysPickDifferentBuckets() {
        IpIdents core0 = new IpIdents(new SipHash(1, 2), 3, 0, 4);
        IpIdents core3 = new IpIdents(new SipHash(1, 2), 4, 3, 4);
        for (int i = 0; i < 100; i++) {
            assertEquals(0, core0.next(SRC, A, 17, false, 0) % 4);
            assertEquals(3, core3.next(SRC, A, 17, false, 0) % 4);
        }
        IpIdents other = new IpIdents(new SipHash(5, 6), 3, 0, 1);
        IpIdents same = new IpIdents(new SipHash(1, 2), 3, 0, 1);
        int differ = 0;
        for (int d = 1; d <= 64; d++) {
            differ += other.next(SRC, A + d, 17, false, 0) != same.next(SRC, A + d, 17, false, 0) ? 1 : 0;
        }
        assertTrue(differ > 60, "a stack's secret decides the IDs: " + differ);
    }
}
