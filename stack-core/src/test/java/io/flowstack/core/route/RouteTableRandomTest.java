package io.flowstack.core.route;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.flowstack.core.wire.Ipv4;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The table against a brute-force reference (a scan of every rule for the longest match, RFC 1812
 * 5.2.4.3): 2,000 random prefixes of every length, clustered so that they nest, added, replaced
 * and removed at random in ten rounds; after each round 20,000 random destinations plus the first
 * and last address of every rule and their neighbours outside it, so 200,000 and more lookups
 * in all, and the groups in use against those the rules need. Fixed seed.
 */
class RouteTableRandomTest {
    /** A reference rule: the key is prefix << 6 | length, as in RouteRules. */
    private final TreeMap<Long, Integer> reference = new TreeMap<>();

    @Test
    void matchesABruteForceReferenceThroughRandomAddsAndRemoves() {
        SplittableRandom r = new SplittableRandom(0x5EED_1812L);
        int[] bases = new int[24];
        for (int i = 0; i < bases.length; i++) {
            bases[i] = r.nextInt();
        }
        List<long[]> pool = new ArrayList<>(); // {prefix, length}
        Set<Long> seen = new HashSet<>();
        while (pool.size() < 2000) {
            int len = r.nextInt(8) == 0 ? r.nextInt(16) : 16 + r.nextInt(17);
            // near a base address, so that prefixes nest: vary only the bits below a random depth
            int vary = r.nextInt(33);
            int a = bases[r.nextInt(bases.length)] ^ (vary == 0 ? 0 : r.nextInt() >>> (32 - vary));
            int prefix = a & Ipv4.mask(len);
            if (seen.add(RouteRules.key(prefix, len))) {
                pool.add(new long[] {prefix, len});
            }
        }
        RouteTable t = new RouteTable();
        long lookups = 0;
        for (int round = 0; round < 10; round++) {
            for (int op = 0; op < 600; op++) {
                long[] p = pool.get(r.nextInt(pool.size()));
                int prefix = (int) p[0];
                int len = (int) p[1];
                long key = RouteRules.key(prefix, len);
                if (r.nextInt(3) > 0 || round < 3) {
                    int nh = r.nextInt(1000);
                    Integer before = reference.put(key, nh);
                    assertEquals(before == null ? -1 : before, t.add(prefix, len, nh));
                } else {
                    boolean had = reference.remove(key) != null;
                    assertEquals(had, t.remove(prefix, len));
                }
            }
            lookups += checkAgainstReference(t, r, bases);
        }
        // remove everything: no group stays behind and nothing answers
        for (long key : new ArrayList<>(reference.keySet())) {
            assertEquals(true, t.remove(RouteRules.prefixOf(key), RouteRules.lengthOf(key)));
            reference.remove(key);
        }
        assertEquals(0, t.size());
        assertEquals(0, t.groupsInUse());
        for (int i = 0; i < 10_000; i++) {
            assertEquals(RouteTable.NO_ROUTE, t.lookup(r.nextInt()));
        }
        assertEquals(true, lookups >= 200_000, "lookups checked: " + lookups);
    }

    private long checkAgainstReference(RouteTable t, SplittableRandom r, int[] bases) {
        int n = reference.size();
        int[] prefixes = new int[n];
        int[] lengths = new int[n];
        int[] hops = new int[n];
        int i = 0;
        List<RouteTable.Rule> expectedRules = new ArrayList<>(n);
        for (var e : reference.entrySet()) {
            prefixes[i] = RouteRules.prefixOf(e.getKey());
            lengths[i] = RouteRules.lengthOf(e.getKey());
            hops[i] = e.getValue();
            expectedRules.add(new RouteTable.Rule(prefixes[i], lengths[i], hops[i]));
            i++;
        }
        assertEquals(expectedRules, t.rules(), "rules, by prefix then length");
        assertEquals(n, t.size());
        long checked = 0;
        for (int k = 0; k < 20_000; k++) {
            // half anywhere, half near a base address (where the rules are)
            int dst = k % 2 == 0 ? r.nextInt() : bases[r.nextInt(bases.length)] ^ (r.nextInt() >>> r.nextInt(32));
            check(t, dst, prefixes, lengths, hops);
            checked++;
        }
        for (int j = 0; j < n; j++) {
            int first = prefixes[j];
            int last = first | ~Ipv4.mask(lengths[j]);
            check(t, first, prefixes, lengths, hops);
            check(t, last, prefixes, lengths, hops);
            check(t, first - 1, prefixes, lengths, hops);
            check(t, last + 1, prefixes, lengths, hops);
            checked += 4;
        }
        // groups: one per /16 holding a rule longer than /16, one per /24 holding one longer than /24
        Set<Integer> g16 = new HashSet<>();
        Set<Integer> g24 = new HashSet<>();
        for (int j = 0; j < n; j++) {
            if (lengths[j] > 16) {
                g16.add(prefixes[j] >>> 16);
            }
            if (lengths[j] > 24) {
                g24.add(prefixes[j] >>> 8);
            }
        }
        assertEquals(g16.size() + g24.size(), t.groupsInUse(), "groups in use");
        return checked;
    }

    private static void check(RouteTable t, int dst, int[] prefixes, int[] lengths, int[] hops) {
        int best = -1;
        int bestLen = -1;
        for (int j = 0; j < prefixes.length; j++) {
            if ((dst & Ipv4.mask(lengths[j])) == prefixes[j] && lengths[j] > bestLen) {
                best = hops[j];
                bestLen = lengths[j];
            }
        }
        int got = t.lookup(dst);
        if (got != best) {
            assertEquals(best, got, "lookup of " + Ipv4.toString(dst) + " (longest match /" + bestLen + ")");
        }
    }
}
