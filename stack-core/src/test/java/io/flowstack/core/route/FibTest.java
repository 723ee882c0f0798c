package io.flowstack.core.route;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.wire.Ipv4;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Routes with their next hops: deduplicated, reference-counted, listed for {@code route show}. */
class FibTest {
    static int ip(String s) {
        return Ipv4.parse(s);
    }

    @Test
    void aLookupAnswersTheInterfaceAndTheNeighbourToResolve() {
        Fib fib = new Fib();
        fib.add(ip("198.18.0.0"), 24, 0, 0, RouteKind.CONNECTED);
        fib.add(ip("198.19.0.0"), 24, 1, 0, RouteKind.CONNECTED);
        fib.add(0, 0, 1, ip("198.19.0.254"), RouteKind.STATIC);
        NextHops hops = fib.nextHops();

        int onLink = fib.lookup(ip("198.18.0.7"));
        assertEquals(0, hops.ifIndex(onLink));
        assertEquals(0, hops.gateway(onLink));
        assertEquals(ip("198.18.0.7"), hops.neighbour(onLink, ip("198.18.0.7")), "on-link: ARP for the destination");
        assertEquals(RouteKind.CONNECTED, hops.kind(onLink));

        int viaGateway = fib.lookup(ip("8.8.8.8"));
        assertEquals(1, hops.ifIndex(viaGateway));
        assertEquals(ip("198.19.0.254"), hops.neighbour(viaGateway, ip("8.8.8.8")), "ARP for the gateway");
        assertEquals(RouteKind.STATIC, hops.kind(viaGateway));
    }

    @Test
    void routesThroughTheSameGatewayShareOneNextHopThatGoesWithTheLastOfThem() {
        Fib fib = new Fib();
        int gw = ip("198.18.0.1");
        for (int i = 0; i < 100; i++) {
            fib.add(ip("10.0.0.0") + (i << 16), 16, 2, gw, RouteKind.STATIC);
        }
        NextHops hops = fib.nextHops();
        assertEquals(1, hops.size());
        int nh = fib.lookup(ip("10.5.0.1"));
        assertEquals(100, hops.refs(nh));
        assertEquals(fib.lookup(ip("10.99.0.1")), nh);
        // replacing a route by one with another gateway moves one reference
        assertTrue(fib.add(ip("10.0.0.0"), 16, 2, ip("198.18.0.2"), RouteKind.STATIC));
        assertEquals(2, hops.size());
        assertEquals(99, hops.refs(nh));
        for (int i = 1; i < 100; i++) {
            assertTrue(fib.remove(ip("10.0.0.0") + (i << 16), 16));
        }
        assertEquals(0, hops.refs(nh));
        assertEquals(1, hops.size());
        // the freed index is reused: the index space stays as small as the distinct next hops
        fib.add(ip("172.16.0.0"), 12, 3, 0, RouteKind.STATIC);
        assertEquals(nh, fib.lookup(ip("172.16.0.1")));
        assertEquals(2, hops.indexLimit());
    }

    @Test
    void replacingARouteWithTheSameNextHopKeepsOneReference() {
        Fib fib = new Fib();
        assertFalse(fib.add(ip("10.0.0.0"), 8, 1, ip("198.18.0.1"), RouteKind.STATIC));
        assertTrue(fib.add(ip("10.0.0.0"), 8, 1, ip("198.18.0.1"), RouteKind.STATIC));
        int nh = fib.lookup(ip("10.1.1.1"));
        assertEquals(1, fib.nextHops().refs(nh));
        assertTrue(fib.remove(ip("10.0.0.0"), 8));
        assertFalse(fib.remove(ip("10.0.0.0"), 8));
        assertEquals(0, fib.nextHops().size());
        assertEquals(RouteTable.NO_ROUTE, fib.lookup(ip("10.1.1.1")));
    }

    @Test
    void routesAreListedByPrefixThenLengthWithTheirNextHops() {
        Fib fib = new Fib();
        fib.add(ip("198.19.0.0"), 24, 1, 0, RouteKind.CONNECTED);
        fib.add(0, 0, 1, ip("198.19.0.254"), RouteKind.STATIC);
        fib.add(ip("198.18.0.0"), 24, 0, 0, RouteKind.CONNECTED);
        List<Route> routes = fib.routes();
        assertEquals(List.of(new Route(0, 0, 1, ip("198.19.0.254"), RouteKind.STATIC),
                new Route(ip("198.18.0.0"), 24, 0, 0, RouteKind.CONNECTED),
                new Route(ip("198.19.0.0"), 24, 1, 0, RouteKind.CONNECTED)), routes);
        assertEquals("0.0.0.0/0 via 198.19.0.254 dev 1 static", routes.get(0).toString());
        assertEquals("198.18.0.0/24 dev 0 connected", routes.get(1).toString());
        assertEquals(new Route(ip("198.18.0.0"), 24, 0, 0, RouteKind.CONNECTED), fib.route(ip("198.18.0.0"), 24));
        assertNull(fib.route(ip("198.18.0.0"), 23));
        assertEquals(3, fib.size());
    }

    @Test
    void removingAnInterfaceRemovesEveryRouteOutOfIt() {
        Fib fib = new Fib();
        fib.add(ip("198.18.0.0"), 24, 0, 0, RouteKind.CONNECTED);
        fib.add(ip("198.19.0.0"), 24, 1, 0, RouteKind.CONNECTED);
        fib.add(ip("10.0.0.0"), 8, 1, ip("198.19.0.1"), RouteKind.STATIC);
        assertEquals(2, fib.removeInterface(1));
        assertEquals(List.of(new Route(ip("198.18.0.0"), 24, 0, 0, RouteKind.CONNECTED)), fib.routes());
        assertEquals(1, fib.nextHops().size());
        assertEquals(RouteTable.NO_ROUTE, fib.lookup(ip("10.1.1.1")));
    }

    @Test
    void badRoutesAreRefusedAndChangeNothing() {
        Fib fib = new Fib();
        assertThrows(IllegalArgumentException.class, () -> fib.add(ip("10.0.0.1"), 8, 0, 0, RouteKind.STATIC));
        assertThrows(IllegalArgumentException.class,
                () -> fib.add(ip("10.0.0.0"), 8, 0, ip("198.18.0.1"), RouteKind.CONNECTED));
        assertThrows(IllegalArgumentException.class, () -> fib.add(ip("10.0.0.0"), 8, -1, 0, RouteKind.STATIC));
        assertThrows(IllegalArgumentException.class, () -> fib.nextHops().release(0));
        assertEquals(0, fib.size());
        assertEquals(0, fib.nextHops().size());
    }
}
