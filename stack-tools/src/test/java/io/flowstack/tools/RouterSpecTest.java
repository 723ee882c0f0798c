package io.flowstack.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.wire.Ipv4;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Issue 12 point 1, the options of {@code stack router} as values: {@link RouterSpec},
 * {@link RouterSpec.Interface}, {@link RouterSpec.Route} and {@link RoutePrefix} accept the
 * forms of the issue and refuse every wrong one with a message that says what is wrong and how
 * to write it.
 */
class RouterSpecTest {
    private static final RouterSpec.Interface R0 = RouterSpec.Interface.parse("tap:r0=198.18.1.1/24");
    private static final RouterSpec.Interface R1 = RouterSpec.Interface.parse("packet:veth0=198.18.2.1/24");

    private static RouterSpec spec(List<RouterSpec.Interface> ifs, String... routes) {
        List<RouterSpec.Route> r = new ArrayList<>();
        for (String route : routes) {
            r.add(RouterSpec.Route.parse(route));
        }
        return new RouterSpec(ifs, r, 2, 0, List.of(), null);
    }

    private static String refused(Runnable r) {
        return assertThrows(IllegalArgumentException.class, r::run).getMessage();
    }

    // ------------------------------------------------------------------ accepted forms

    @Test
    void interfacesOfBothKinds() {
        assertEquals(RouterSpec.Kind.TAP, R0.kind());
        assertEquals("r0", R0.device());
        assertEquals(new Ipv4Prefix(Ipv4.parse("198.18.1.1"), 24), R0.address());
        assertEquals(RouterSpec.Kind.PACKET, R1.kind());
        assertEquals("veth0", R1.device());
        assertEquals("packet:veth0=198.18.2.1/24", R1.toString());
        assertEquals(R1, RouterSpec.Interface.parse(R1.toString()), "toString is the form parse reads");
        assertEquals(RouterSpec.Kind.TAP, RouterSpec.Interface.parse(" TAP:r0=198.18.1.1/24 ").kind(), "any case");
        RouterSpec.Interface x = RouterSpec.Interface.parse("xdp:veth1=198.18.3.1/24");
        assertEquals(RouterSpec.Kind.XDP, x.kind());
        assertEquals("veth1", x.device());
        assertEquals("xdp:veth1=198.18.3.1/24", x.toString());
        assertEquals(new RoutePrefix(Ipv4.parse("198.18.1.0"), 24), R0.subnet());
        assertEquals(0x02_00_c6_12_01_01L, R0.mac(), "02:00 and the address's octets, as the endpoint's");
    }

    @Test
    void routesAndTheDefaultRoute() {
        RouterSpec s = spec(List.of(R0, R1), "198.18.9.0/24 via 198.18.2.3", "default via 198.18.2.254",
                "198.18.1.128/32 via 198.18.1.7");
        assertEquals(3, s.routes().size());
        RouterSpec.Route first = s.routes().get(0);
        assertEquals(new RoutePrefix(Ipv4.parse("198.18.9.0"), 24), first.prefix());
        assertEquals(Ipv4.parse("198.18.2.3"), first.gateway());
        assertEquals("198.18.9.0/24 via 198.18.2.3", first.toString());
        assertEquals(RoutePrefix.DEFAULT, s.defaultRoute().prefix());
        assertEquals(Ipv4.parse("198.18.2.254"), s.defaultRoute().gateway());
        assertEquals("default via 198.18.2.254", s.defaultRoute().toString());
        assertEquals(1, s.interfaceOf(first.gateway()), "the gateway's interface");
        assertEquals(0, s.interfaceOf(Ipv4.parse("198.18.1.7")));
        assertEquals(-1, s.interfaceOf(Ipv4.parse("198.18.3.1")));
        assertEquals(RouterSpec.Route.parse("198.18.9.0/24", "via", "198.18.2.3"), first, "three words or one string");
        assertNull(spec(List.of(R0, R1)).defaultRoute());
        assertEquals(RoutePrefix.DEFAULT, RouterSpec.Route.parse("0.0.0.0/0 via 198.18.2.3").prefix(), "0.0.0.0/0 is default");
    }

    @Test
    void threeInterfacesACaptureAndServices() {
        RouterSpec s = new RouterSpec(List.of(R0, R1, RouterSpec.Interface.parse("tap:r2=198.19.0.1/16")), List.of(),
                1, 1280, List.of(ServiceSpec.parse("echo:7"), ServiceSpec.parse("udp-echo:7")), Path.of("/tmp/cap.pcap"));
        assertEquals(3, s.interfaces().size());
        assertEquals(1280, s.mtu());
        assertEquals(Path.of("/tmp/cap-r0.pcap"), s.pcapFile(0));
        assertEquals(Path.of("/tmp/cap-veth0.pcap"), s.pcapFile(1));
        RouterSpec bare = new RouterSpec(List.of(R0, R1), List.of(), 1, 0, List.of(), Path.of("cap"));
        assertEquals(Path.of("cap-veth0"), bare.pcapFile(1));
        assertNull(spec(List.of(R0, R1)).pcapFile(0));
        List<RouterSpec.Interface> mutable = new ArrayList<>(List.of(R0, R1));
        RouterSpec copy = spec(mutable);
        mutable.clear();
        assertEquals(2, copy.interfaces().size(), "the lists are copied");
    }

    @Test
    void prefixesContainAndOverlap() {
        RoutePrefix p = RoutePrefix.parse("198.18.0.0/16");
        assertTrue(p.contains(Ipv4.parse("198.18.200.1")));
        assertFalse(p.contains(Ipv4.parse("198.19.0.1")));
        assertTrue(p.overlaps(RoutePrefix.parse("198.18.5.0/24")));
        assertTrue(RoutePrefix.parse("198.18.5.0/24").overlaps(p));
        assertFalse(p.overlaps(RoutePrefix.parse("198.19.0.0/16")));
        assertTrue(RoutePrefix.DEFAULT.contains(Ipv4.parse("198.19.0.1")));
        assertEquals("default", RoutePrefix.parse("default").toString());
        assertEquals("198.18.5.7/32", RoutePrefix.parse("198.18.5.7/32").toString());
        assertEquals(p, RoutePrefix.parse(p.toString()));
    }

    // ------------------------------------------------------------------ malformed specs

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "r0=198.18.1.1/24              | is not an interface: write tap:NAME=A.B.C.D/LEN, packet:IFNAME=A.B.C.D/LEN or xdp:IFNAME=A.B.C.D/LEN",
        "veth:r0=198.18.1.1/24         | the kind must be tap (a TAP device, created if missing), packet",
        "tap:r0                        | has no address: write tap:r0=A.B.C.D/LEN, e.g. tap:r0=198.18.1.1/24",
        "packet:                       | has no address: write packet:NAME=A.B.C.D/LEN",
        "tap:=198.18.1.1/24            | (an interface name has 1-15 characters",
        "tap:a-name-much-too-long=198.18.1.1/24 | longer than 15 characters",
        "tap:r0=198.18.1.1             | has no prefix length",
        "tap:r0=198.18.1.0/24          | is the network address of its subnet",
        "tap:r0=300.18.1.1/24          | each part must be 0..255",
    })
    void malformedInterfacesSayTheRightForm(String text, String says) {
        String m = refused(() -> RouterSpec.Interface.parse(text));
        assertTrue(m.startsWith("'" + text + "'"), m);
        assertTrue(m.contains(says), m);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "198.18.5.1/24 via 198.18.2.3  | '198.18.5.1/24' has host bits set: the route's prefix is the network address, 198.18.5.0/24",
        "198.18.5.0 via 198.18.2.3     | '198.18.5.0' has no prefix length: write 198.18.5.0/32 for one host",
        "198.18.5.0/33 via 198.18.2.3  | the prefix length must be 0..32",
        "198.18.5/24 via 198.18.2.3    | is not a route prefix: write the network address and its length",
        "127.0.0.0/8 via 198.18.2.3    | '127.0.0.0/8' is a loopback prefix: a router does not forward to it (RFC 1812 5.3.7)",
        "224.0.0.0/4 via 198.18.2.3    | is a multicast prefix",
        "240.0.0.0/4 via 198.18.2.3    | is in the reserved class E",
        "0.0.0.0/8 via 198.18.2.3      | is in 0.0.0.0/8 (this network)",
        "198.18.5.0/24 to 198.18.2.3   | '198.18.5.0/24 to 198.18.2.3' is not a route: write PREFIX via GW, e.g.",
        "198.18.5.0/24 via             | '198.18.5.0/24 via' is not a route: write PREFIX via GW",
        "198.18.5.0/24 via 198.18.2    | the gateway of '198.18.5.0/24 via 198.18.2'",
        "default via 127.0.0.1         | is a loopback address",
    })
    void malformedRoutesSayTheRightForm(String text, String says) {
        String m = refused(() -> RouterSpec.Route.parse(text));
        assertTrue(m.contains(says), m);
    }

    @Test
    void aPrefixWithHostBitsCannotBeMadeEither() {
        assertEquals("198.18.5.1/24 has host bits set: the route's prefix is the network address, 198.18.5.0/24",
                refused(() -> new RoutePrefix(Ipv4.parse("198.18.5.1"), 24)));
        refused(() -> new RoutePrefix(0, 33));
    }

    // ------------------------------------------------------------------ relations

    @Test
    void fewerThanTwoInterfaces() {
        assertEquals("a router needs two or more interfaces, got 1: give --if for each, e.g. --if tap:r0=198.18.1.1/24 "
                + "--if tap:r1=198.18.2.1/24", refused(() -> spec(List.of(R0))));
        assertTrue(refused(() -> spec(List.of())).contains("got 0"));
    }

    @Test
    void aDeviceGivenTwice() {
        RouterSpec.Interface again = RouterSpec.Interface.parse("packet:r0=198.18.3.1/24");
        assertEquals("--if tap:r0=198.18.1.1/24 and --if packet:r0=198.18.3.1/24: the device r0 is given twice: "
                + "each interface is its own device", refused(() -> spec(List.of(R0, R1, again))));
    }

    @Test
    void overlappingInterfacePrefixes() {
        RouterSpec.Interface wide = RouterSpec.Interface.parse("tap:r2=198.18.0.1/16");
        assertEquals("--if tap:r0=198.18.1.1/24 and --if tap:r2=198.18.0.1/16 have overlapping subnets (198.18.1.0/24 "
                + "and 198.18.0.0/16): each interface needs a subnet of its own", refused(() -> spec(List.of(R0, wide))));
        RouterSpec.Interface same = RouterSpec.Interface.parse("tap:r2=198.18.1.2/24");
        assertTrue(refused(() -> spec(List.of(R0, R1, same))).contains("overlapping subnets (198.18.1.0/24 and 198.18.1.0/24)"));
        // adjacent subnets do not overlap
        spec(List.of(RouterSpec.Interface.parse("tap:a=198.18.0.1/25"), RouterSpec.Interface.parse("tap:b=198.18.0.129/25")));
    }

    @Test
    void aGatewayOnNoInterface() {
        assertEquals("--route 198.18.9.0/24 via 198.18.7.3: the gateway is on no interface's subnet (198.18.1.0/24 on r0, "
                + "198.18.2.0/24 on veth0): a gateway must be directly reachable",
                refused(() -> spec(List.of(R0, R1), "198.18.9.0/24 via 198.18.7.3")));
        assertTrue(refused(() -> spec(List.of(R0, R1), "default via 198.19.0.1")).startsWith("--route default via 198.19.0.1: "
                + "the gateway is on no interface's subnet"));
    }

    @Test
    void aGatewayThatIsTheRouterItself() {
        assertEquals("--route 198.18.9.0/24 via 198.18.2.1: the gateway is the router's own address on veth0: give the "
                + "address of the next router", refused(() -> spec(List.of(R0, R1), "198.18.9.0/24 via 198.18.2.1")));
    }

    @Test
    void aGatewayThatIsNoHostOfItsSubnet() {
        assertEquals("--route 198.18.9.0/24 via 198.18.2.255: the gateway is the broadcast address of 198.18.2.0/24 on "
                + "veth0: give the address of the next router",
                refused(() -> spec(List.of(R0, R1), "198.18.9.0/24 via 198.18.2.255")));
        assertTrue(refused(() -> spec(List.of(R0, R1), "default via 198.18.1.0")).contains("the network address of "
                + "198.18.1.0/24 on r0"));
    }

    @Test
    void aRouteGivenTwice() {
        assertEquals("--route 198.18.9.0/24 is given twice: one gateway per prefix",
                refused(() -> spec(List.of(R0, R1), "198.18.9.0/24 via 198.18.2.3", "198.18.9.0/24 via 198.18.1.3")));
        assertEquals("--route default is given twice: one gateway per prefix",
                refused(() -> spec(List.of(R0, R1), "default via 198.18.2.3", "0.0.0.0/0 via 198.18.2.3")));
        // the same network with another length is another route
        spec(List.of(R0, R1), "198.18.9.0/24 via 198.18.2.3", "198.18.9.0/25 via 198.18.1.3");
    }

    @Test
    void aRouteToAConnectedSubnet() {
        assertEquals("--route 198.18.2.0/24 via 198.18.1.3: 198.18.2.0/24 is the subnet of veth0, reached directly "
                + "(a connected route)", refused(() -> spec(List.of(R0, R1), "198.18.2.0/24 via 198.18.1.3")));
    }

    @Test
    void aServicePortTwiceOrAValueOutOfRange() {
        assertEquals("--serve http:80: TCP port 80 is given twice", refused(() -> new RouterSpec(List.of(R0, R1), List.of(),
                1, 0, List.of(ServiceSpec.parse("echo:80"), ServiceSpec.parse("http:80")), null)));
        assertEquals("--cores must be 1..64, got 0", refused(() -> new RouterSpec(List.of(R0, R1), List.of(), 0, 0,
                List.of(), null)));
        assertEquals("--mtu must be 576..65535, got 100", refused(() -> new RouterSpec(List.of(R0, R1), List.of(), 1, 100,
                List.of(), null)));
    }

    @Test
    void checkRouteSaysWhyWithoutTheOptionForRunTimeChanges() {
        String m = refused(() -> RouterSpec.checkRoute(List.of(R0, R1), RouterSpec.Route.parse("198.18.9.0/24 via 198.18.7.3")));
        assertTrue(m.startsWith("198.18.9.0/24 via 198.18.7.3: the gateway is on no interface's subnet"), m);
        RouterSpec.checkRoute(List.of(R0, R1), RouterSpec.Route.parse("198.18.9.0/24 via 198.18.2.3"));
    }
}
