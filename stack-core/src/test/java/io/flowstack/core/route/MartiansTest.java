package io.flowstack.core.route;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.flowstack.core.wire.Ipv4;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The static martian checks of RFC 1812 5.3.7, at the edges of every range. */
class MartiansTest {
    static int src(String s) {
        return Martians.invalidSource(Ipv4.parse(s));
    }

    static int dst(String s) {
        return Martians.invalidDestination(Ipv4.parse(s));
    }

    @Test
    void invalidSources() {
        assertEquals(Martians.SRC_THIS_NETWORK, src("0.0.0.0"));
        assertEquals(Martians.SRC_THIS_NETWORK, src("0.255.255.255"));
        assertEquals(Martians.OK, src("1.0.0.0"));
        assertEquals(Martians.OK, src("126.255.255.255"));
        assertEquals(Martians.SRC_LOOPBACK, src("127.0.0.1"));
        assertEquals(Martians.SRC_LOOPBACK, src("127.255.255.255"));
        assertEquals(Martians.OK, src("128.0.0.0"));
        assertEquals(Martians.OK, src("198.18.0.1"));
        assertEquals(Martians.OK, src("223.255.255.255"));
        assertEquals(Martians.SRC_MULTICAST, src("224.0.0.0"));
        assertEquals(Martians.SRC_MULTICAST, src("239.255.255.255"));
        assertEquals(Martians.SRC_CLASS_E, src("240.0.0.0"));
        assertEquals(Martians.SRC_CLASS_E, src("255.255.255.254"));
        assertEquals(Martians.SRC_LIMITED_BROADCAST, src("255.255.255.255"));
    }

    @Test
    void invalidDestinations() {
        assertEquals(Martians.DST_THIS_NETWORK, dst("0.0.0.0"));
        assertEquals(Martians.DST_THIS_NETWORK, dst("0.1.2.3"));
        assertEquals(Martians.OK, dst("1.0.0.0"));
        assertEquals(Martians.DST_LOOPBACK, dst("127.0.0.1"));
        assertEquals(Martians.OK, dst("128.0.0.0"));
        assertEquals(Martians.OK, dst("223.255.255.255"));
        assertEquals(Martians.DST_MULTICAST, dst("224.0.0.1"));
        assertEquals(Martians.DST_MULTICAST, dst("239.255.255.255"));
        assertEquals(Martians.DST_CLASS_E, dst("240.0.0.0"));
        assertEquals(Martians.DST_CLASS_E, dst("255.255.255.254"));
        assertEquals(Martians.DST_LIMITED_BROADCAST, dst("255.255.255.255"));
    }

    @Test
    void everyFirstOctetGetsTheReasonOfItsRange() {
        for (int octet = 0; octet < 256; octet++) {
            int a = octet << 24 | 0x010203;
            int expectedSrc = octet == 0 ? Martians.SRC_THIS_NETWORK : octet == 127 ? Martians.SRC_LOOPBACK
                    : octet >= 240 ? Martians.SRC_CLASS_E : octet >= 224 ? Martians.SRC_MULTICAST : Martians.OK;
            int expectedDst = octet == 0 ? Martians.DST_THIS_NETWORK : octet == 127 ? Martians.DST_LOOPBACK
                    : octet >= 240 ? Martians.DST_CLASS_E : octet >= 224 ? Martians.DST_MULTICAST : Martians.OK;
            assertEquals(expectedSrc, Martians.invalidSource(a), "source octet " + octet);
            assertEquals(expectedDst, Martians.invalidDestination(a), "destination octet " + octet);
        }
    }

    @Test
    void everyReasonHasItsOwnDescription() {
        Set<String> seen = new HashSet<>();
        for (int code = 0; code < Martians.REASONS; code++) {
            assertEquals(true, seen.add(Martians.describe(code)), "code " + code);
        }
        assertEquals("fine", Martians.describe(Martians.OK));
        assertEquals("limited broadcast destination (255.255.255.255)",
                Martians.describe(Martians.DST_LIMITED_BROADCAST));
        assertEquals("unknown reason 99", Martians.describe(99));
        assertEquals("unknown reason -1", Martians.describe(-1));
    }
}
