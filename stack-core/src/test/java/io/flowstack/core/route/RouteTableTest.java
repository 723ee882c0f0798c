package io.flowstack.core.route;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.wire.Ipv4;
import java.lang.management.ManagementFactory;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Hand cases of the DIR-16-8-8 longest-prefix match (RFC 1812 5.2.4.3). */
class RouteTableTest {
    static int ip(String s) {
        return Ipv4.parse(s);
    }

    @Test
    void anEmptyTableHasNoRoute() {
        RouteTable t = new RouteTable();
        assertEquals(RouteTable.NO_ROUTE, t.lookup(ip("198.18.0.1")));
        assertEquals(RouteTable.NO_ROUTE, t.lookup(0));
        assertEquals(RouteTable.NO_ROUTE, t.lookup(-1));
        assertEquals(0, t.size());
        assertEquals(0, t.groupsInUse());
    }

    @Test
    void theLongestOfOverlappingPrefixesWinsAndRemovingOneRestoresTheShorter() {
        RouteTable t = new RouteTable();
        t.add(ip("10.0.0.0"), 8, 1);
        t.add(ip("10.1.0.0"), 16, 2);
        t.add(ip("10.1.2.0"), 24, 3);
        t.add(ip("10.1.2.128"), 25, 4);
        assertEquals(1, t.lookup(ip("10.0.0.1")));
        assertEquals(1, t.lookup(ip("10.255.255.255")));
        assertEquals(2, t.lookup(ip("10.1.0.0")));
        assertEquals(2, t.lookup(ip("10.1.3.0")));
        assertEquals(3, t.lookup(ip("10.1.2.0")));
        assertEquals(3, t.lookup(ip("10.1.2.127")));
        assertEquals(4, t.lookup(ip("10.1.2.128")));
        assertEquals(4, t.lookup(ip("10.1.2.255")));
        assertEquals(RouteTable.NO_ROUTE, t.lookup(ip("11.0.0.0")));
        assertEquals(RouteTable.NO_ROUTE, t.lookup(ip("9.255.255.255")));

        // the /16 goes: its range answers as the /8 again, the /24 and /25 inside keep theirs
        assertTrue(t.remove(ip("10.1.0.0"), 16));
        assertEquals(1, t.lookup(ip("10.1.0.0")));
        assertEquals(1, t.lookup(ip("10.1.3.0")));
        assertEquals(3, t.lookup(ip("10.1.2.5")));
        assertEquals(4, t.lookup(ip("10.1.2.200")));
        // the /24 goes: the /8 answers under it too
        assertTrue(t.remove(ip("10.1.2.0"), 24));
        assertEquals(1, t.lookup(ip("10.1.2.5")));
        assertEquals(4, t.lookup(ip("10.1.2.200")));
        assertTrue(t.remove(ip("10.1.2.128"), 25));
        assertEquals(1, t.lookup(ip("10.1.2.200")));
        assertEquals(0, t.groupsInUse(), "no rule longer than /16 is left");
        assertFalse(t.remove(ip("10.1.0.0"), 16), "already gone");
        assertTrue(t.remove(ip("10.0.0.0"), 8));
        assertEquals(RouteTable.NO_ROUTE, t.lookup(ip("10.1.2.200")));
        assertEquals(0, t.size());
    }

    @Test
    void longerRulesAddedFirstSurviveAShorterOneAddedLater() {
        RouteTable t = new RouteTable();
        t.add(ip("10.1.2.3"), 32, 7);
        t.add(ip("10.1.2.0"), 24, 6);
        t.add(ip("10.0.0.0"), 8, 5);
        t.add(0, 0, 4);
        assertEquals(7, t.lookup(ip("10.1.2.3")));
        assertEquals(6, t.lookup(ip("10.1.2.4")));
        assertEquals(5, t.lookup(ip("10.1.3.4")));
        assertEquals(4, t.lookup(ip("11.1.3.4")));
    }

    @Test
    void theDefaultRouteAnswersEverywhereElseAndCanGo() {
        RouteTable t = new RouteTable();
        t.add(0, 0, 9);
        t.add(ip("198.18.0.0"), 15, 1);
        assertEquals(9, t.lookup(0));
        assertEquals(9, t.lookup(-1));
        assertEquals(9, t.lookup(ip("8.8.8.8")));
        assertEquals(1, t.lookup(ip("198.19.255.255")));
        assertEquals(9, t.lookup(ip("198.20.0.0")));
        assertTrue(t.remove(0, 0));
        assertEquals(RouteTable.NO_ROUTE, t.lookup(ip("8.8.8.8")));
        assertEquals(1, t.lookup(ip("198.18.0.0")));
    }

    @Test
    void aHostRouteMatchesOneAddressOnly() {
        RouteTable t = new RouteTable();
        t.add(ip("198.18.7.9"), 32, 3);
        assertEquals(3, t.lookup(ip("198.18.7.9")));
        assertEquals(RouteTable.NO_ROUTE, t.lookup(ip("198.18.7.8")));
        assertEquals(RouteTable.NO_ROUTE, t.lookup(ip("198.18.7.10")));
        assertEquals(2, t.groupsInUse(), "a /32 needs a second- and a third-level group");
        t.add(ip("255.255.255.255"), 32, 4);
        t.add(0, 32, 5);
        assertEquals(4, t.lookup(-1));
        assertEquals(5, t.lookup(0));
        assertEquals(RouteTable.NO_ROUTE, t.lookup(1));
        assertTrue(t.remove(ip("198.18.7.9"), 32));
        assertTrue(t.remove(-1, 32));
        assertTrue(t.remove(0, 32));
        assertEquals(0, t.groupsInUse());
        assertEquals(RouteTable.NO_ROUTE, t.lookup(ip("198.18.7.9")));
    }

    @Test
    void addingTheSamePrefixAndLengthReplacesItsNextHop() {
        RouteTable t = new RouteTable();
        assertEquals(-1, t.add(ip("10.1.2.0"), 24, 1));
        t.add(ip("10.1.2.64"), 26, 2);
        assertEquals(1, t.add(ip("10.1.2.0"), 24, 8), "the old next hop");
        assertEquals(8, t.lookup(ip("10.1.2.1")));
        assertEquals(2, t.lookup(ip("10.1.2.65")), "the longer rule inside is untouched");
        assertEquals(2, t.size());
        assertTrue(t.remove(ip("10.1.2.64"), 26));
        assertEquals(1, t.groupsInUse(), "the /24 still holds its /16's group: a replace counts once");
        assertTrue(t.remove(ip("10.1.2.0"), 24));
        assertEquals(0, t.groupsInUse());
    }

    @Test
    void aSamePrefixOfAnotherLengthIsAnotherRule() {
        RouteTable t = new RouteTable();
        t.add(ip("10.0.0.0"), 8, 1);
        t.add(ip("10.0.0.0"), 16, 2);
        t.add(ip("10.0.0.0"), 24, 3);
        assertEquals(3, t.lookup(ip("10.0.0.9")));
        assertEquals(2, t.lookup(ip("10.0.1.9")));
        assertEquals(1, t.lookup(ip("10.1.0.9")));
        assertTrue(t.remove(ip("10.0.0.0"), 16));
        assertEquals(3, t.lookup(ip("10.0.0.9")));
        assertEquals(1, t.lookup(ip("10.0.1.9")));
        assertEquals(2, t.size());
        assertEquals(-1, t.nextHop(ip("10.0.0.0"), 16), "gone");
        assertEquals(3, t.nextHop(ip("10.0.0.0"), 24));
    }

    @Test
    void shortPrefixesCoverGroupsBeneathThem() {
        RouteTable t = new RouteTable();
        t.add(ip("10.1.2.3"), 32, 1);
        t.add(ip("10.1.5.0"), 24, 2);
        t.add(ip("8.0.0.0"), 6, 3); // 8.0.0.0 .. 11.255.255.255, over both groups
        assertEquals(1, t.lookup(ip("10.1.2.3")));
        assertEquals(3, t.lookup(ip("10.1.2.4")));
        assertEquals(2, t.lookup(ip("10.1.5.4")));
        assertEquals(3, t.lookup(ip("10.1.6.4")));
        assertEquals(3, t.lookup(ip("11.255.255.255")));
        assertTrue(t.remove(ip("8.0.0.0"), 6));
        assertEquals(RouteTable.NO_ROUTE, t.lookup(ip("10.1.2.4")));
        assertEquals(1, t.lookup(ip("10.1.2.3")));
        assertEquals(2, t.lookup(ip("10.1.5.4")));
    }

    @Test
    void rulesAreListedByPrefixThenLength() {
        RouteTable t = new RouteTable();
        t.add(ip("198.18.1.0"), 24, 3);
        t.add(0, 0, 0);
        t.add(ip("198.18.0.0"), 16, 2);
        t.add(ip("198.18.0.0"), 15, 1);
        t.add(ip("200.0.0.0"), 8, 4);
        assertEquals(List.of(new RouteTable.Rule(0, 0, 0),
                new RouteTable.Rule(ip("198.18.0.0"), 15, 1),
                new RouteTable.Rule(ip("198.18.0.0"), 16, 2),
                new RouteTable.Rule(ip("198.18.1.0"), 24, 3),
                new RouteTable.Rule(ip("200.0.0.0"), 8, 4)), t.rules());
        assertEquals("198.18.0.0/15 -> 1", t.rules().get(1).toString());
    }

    @Test
    void badRulesAreRefusedWithAClearError() {
        RouteTable t = new RouteTable();
        var e = assertThrows(IllegalArgumentException.class, () -> t.add(ip("10.1.2.3"), 24, 1));
        assertEquals("invalid prefix 10.1.2.3/24: host bits set (the network is 10.1.2.0/24)", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> t.add(0, 33, 1));
        assertThrows(IllegalArgumentException.class, () -> t.add(0, -1, 1));
        assertThrows(IllegalArgumentException.class, () -> t.add(0, 0, -1));
        assertThrows(IllegalArgumentException.class, () -> t.add(0, 0, RouteTable.MAX_NEXT_HOP + 1));
        assertThrows(IllegalArgumentException.class, () -> t.remove(ip("10.1.2.3"), 8));
        assertEquals(0, t.size());
        t.add(0, 0, RouteTable.MAX_NEXT_HOP);
        assertEquals(RouteTable.MAX_NEXT_HOP, t.lookup(ip("1.2.3.4")));
    }

    @Test
    void theLookupTableIsAQuarterMegabyteAndAKilobytePerGroup() {
        RouteTable t = new RouteTable(0);
        long empty = t.bytes();
        assertTrue(empty >= 256 * 1024 && empty < 257 * 1024, () -> "empty: " + empty);
        t.add(ip("10.1.2.0"), 24, 1);
        assertEquals(1, t.groupsInUse());
        assertEquals(16, t.groupCapacity(), "the first growth makes room for 16 groups");
        // 16 KiB of entries plus 8 bytes of bookkeeping a group
        assertEquals(16 * (1024 + 8), t.bytes() - empty, () -> "16 groups: " + t.bytes());
        for (int i = 0; i < 16; i++) {
            t.add(ip("10.2.0.0") + (i << 16), 17, 1);
        }
        assertEquals(17, t.groupsInUse());
        assertEquals(32, t.groupCapacity(), "then a quarter more, at least 16");
        RouteTable sized = new RouteTable(1000);
        assertEquals(1000, sized.groupCapacity());
        assertThrows(IllegalArgumentException.class, () -> new RouteTable(-1));
    }

    @Test
    void aLookupAllocatesNothing() {
        RouteTable t = new RouteTable();
        var r = new java.util.SplittableRandom(12);
        for (int i = 0; i < 1000; i++) {
            int len = 16 + r.nextInt(17);
            t.add(r.nextInt() & Ipv4.mask(len), len, r.nextInt(64));
        }
        int[] dst = new int[4096];
        for (int i = 0; i < dst.length; i++) {
            dst[i] = r.nextInt();
        }
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long tid = Thread.currentThread().threadId();
        long min = Long.MAX_VALUE;
        long sink = 0;
        for (int round = 0; round < 20 && min > 0; round++) {
            long before = mx.getThreadAllocatedBytes(tid);
            for (int n = 0; n < 200; n++) {
                for (int d : dst) {
                    sink += t.lookup(d);
                }
            }
            min = Math.min(min, mx.getThreadAllocatedBytes(tid) - before);
        }
        assertEquals(0, min, "bytes allocated by 819,200 lookups (sink " + sink + ")");
    }
}
