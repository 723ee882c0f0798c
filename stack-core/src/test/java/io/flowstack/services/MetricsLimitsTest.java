package io.flowstack.services;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The metrics service's limits and source prefixes: parsing, ranges, one-line errors, matching. */
class MetricsLimitsTest {

    @Test
    void prefixesParseAndMatch() {
        SourcePrefix p = SourcePrefix.parse(" 198.18.0.0/24 ");
        assertEquals(new SourcePrefix(0xC6120000, 24), p);
        assertEquals("198.18.0.0/24", p.toString());
        assertTrue(p.contains(0xC61200FE));
        assertFalse(p.contains(0xC6120100));
        assertEquals(new SourcePrefix(0xC6120001, 32), SourcePrefix.parse("198.18.0.1"), "one address is a /32");
        SourcePrefix any = SourcePrefix.parse("0.0.0.0/0");
        assertTrue(any.contains(0) && any.contains(-1));
        assertTrue(SourcePrefix.parse("255.255.255.255/32").contains(-1));
    }

    @Test
    void badPrefixesAreOneLineErrors() {
        String[][] cases = {
            {"198.18.0.1/24", "has host bits set: write 198.18.0.0/24 for the network, or 198.18.0.1/32 for one host"},
            {"198.18.0.0/33", "the prefix length must be 0..32"},
            {"198.18.0.0/", "the prefix length must be 0..32"},
            {"198.18.0.0/x", "the prefix length must be 0..32"},
            {"198.18.0.256/32", "each part must be 0..255"},
            {"198.18.0/24", "is not an IPv4 prefix"},
            {"example.org/24", "is not an IPv4 prefix"},
            {"", "is not an IPv4 prefix"},
            {"::1/128", "is not an IPv4 prefix"},
        };
        for (String[] c : cases) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SourcePrefix.parse(c[0]),
                    c[0]);
            assertTrue(e.getMessage().contains(c[1]), e.getMessage());
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> new SourcePrefix(0xC6120001, 24));
        assertThrows(IllegalArgumentException.class, () -> new SourcePrefix(0, 33));
    }

    @Test
    void limitsCheckTheirRangesAndMatchSources() {
        MetricsLimits d = MetricsLimits.DEFAULTS;
        assertEquals(32, d.maxConnections());
        assertEquals(Duration.ofSeconds(5), d.requestTimeout());
        assertEquals(Duration.ofSeconds(1), d.cacheInterval());
        assertTrue(d.allows(0x0A000001), "no prefix: any source");
        MetricsLimits two = d.withAllow(List.of(SourcePrefix.parse("198.18.0.0/24"), SourcePrefix.parse("10.1.2.3")));
        assertTrue(two.allows(0xC6120007));
        assertTrue(two.allows(0x0A010203));
        assertFalse(two.allows(0x0A010204));
        assertFalse(two.allows(0xC6130007));
        assertEquals(8, d.withMaxConnections(8).maxConnections());
        assertThrows(IllegalArgumentException.class, () -> d.withMaxConnections(0));
        assertThrows(IllegalArgumentException.class, () -> d.withMaxConnections(65536));
        assertThrows(IllegalArgumentException.class, () -> d.withRequestTimeout(Duration.ofMillis(9)));
        assertThrows(IllegalArgumentException.class, () -> d.withRequestTimeout(Duration.ofSeconds(61)));
        assertThrows(IllegalArgumentException.class, () -> d.withCacheInterval(Duration.ZERO));
        assertThrows(IllegalArgumentException.class, () -> d.withCacheInterval(null));
        assertEquals("cache must be 10ms..60s, got 0s", assertThrows(IllegalArgumentException.class,
                () -> d.withCacheInterval(Duration.ZERO)).getMessage());
        assertEquals("5s", MetricsLimits.text(Duration.ofSeconds(5)));
        assertEquals("1500ms", MetricsLimits.text(Duration.ofMillis(1500)));
    }
}
