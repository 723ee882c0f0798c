package io.flowstack.core.route;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The rules' open-addressing table against a HashMap, through growth and backward-shift deletions. */
class RouteRulesTest {
    @Test
    void behavesLikeAMapThroughRandomPutsAndRemoves() {
        SplittableRandom r = new SplittableRandom(7);
        RouteRules rules = new RouteRules();
        Map<Long, Integer> ref = new HashMap<>();
        for (int op = 0; op < 200_000; op++) {
            int len = r.nextInt(33);
            // few distinct prefixes so that puts replace and removes hit
            int prefix = (r.nextInt(3000) * 0x9E3779B1) & io.flowstack.core.wire.Ipv4.mask(len);
            long key = RouteRules.key(prefix, len);
            if (r.nextBoolean()) {
                int v = r.nextInt(1 << 20);
                Integer old = ref.put(key, v);
                assertEquals(old == null ? -1 : old, rules.put(prefix, len, v));
            } else {
                Integer old = ref.remove(key);
                assertEquals(old == null ? -1 : old, rules.remove(prefix, len));
            }
            if (op % 1000 == 0) {
                assertEquals(ref.size(), rules.size());
                for (var e : ref.entrySet()) {
                    assertEquals(e.getValue(), rules.get(RouteRules.prefixOf(e.getKey()), RouteRules.lengthOf(e.getKey())));
                }
                assertEquals(ref.size(), rules.keys().length);
            }
        }
    }

    @Test
    void aKeyKeepsTheWholePrefixAndLength() {
        long k = RouteRules.key(0xFFFFFFFF, 32);
        assertEquals(0xFFFFFFFF, RouteRules.prefixOf(k));
        assertEquals(32, RouteRules.lengthOf(k));
        assertEquals(0, RouteRules.prefixOf(RouteRules.key(0, 0)));
        assertEquals(0, RouteRules.lengthOf(RouteRules.key(0, 0)));
    }
}
