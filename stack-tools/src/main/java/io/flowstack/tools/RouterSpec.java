package io.flowstack.tools;

import io.flowstack.core.FlowStack;
import io.flowstack.core.wire.Ipv4;
import io.flowstack.nativeio.Ifreq;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.StringJoiner;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * What {@code stack router} runs, parsed and checked, as plain values: its interfaces (each a
 * TAP or an existing interface through AF_PACKET or AF_XDP, with the router's address and prefix length
 * on it), its static routes and default route, cores, MTU, services and capture file. Every
 * {@code RouterSpec} is valid: the constructor throws {@link IllegalArgumentException} with a
 * one-line message (what is wrong and how to write it) for fewer than two interfaces, a device
 * given twice, overlapping interface subnets, a route given twice, a route to a connected
 * subnet, a gateway on no interface's subnet or that is one of the router's own addresses, a
 * service port given twice, or a value out of range.
 *
 * <p>The connected routes (one per interface subnet) are implied by the interfaces and not
 * listed in {@link #routes}.
 *
 * <p>Owned by: nobody (immutable).
 *
 * @param interfaces the interfaces in the order given (the first one names the instance), two or more
 * @param routes     the static routes in the order given, the default route ({@link RoutePrefix#DEFAULT}) included
 * @param cores      netisr threads, one queue per interface each, 1..64
 * @param mtu        the IPv4 MTU of every interface, 576..65535, or 0 for each device's own
 * @param serve      the services listening on the router's addresses
 * @param pcap       the capture file ({@link #pcapFile} names one per interface), or null for none
 */
public record RouterSpec(List<Interface> interfaces, List<Route> routes, int cores, int mtu, List<ServiceSpec> serve,
        Path pcap) {

    /** How an interface reaches its device. */
    public enum Kind {
        /** A TAP device, created if missing, multi-queue with one queue per core. */
        TAP("tap"),
        /** An existing, up interface through AF_PACKET sockets, one per core (as {@code endpoint --packet}). */
        PACKET("packet"),
        /** An existing, up interface through AF_XDP sockets, one per core and receive queue (docs/AF_XDP.md). */
        XDP("xdp");

        private final String label;

        Kind(String label) {
            this.label = label;
        }

        /** {@code tap} or {@code packet}, as written on the command line. */
        public String label() {
            return label;
        }
    }

    /**
     * One {@code --if KIND:NAME=A.B.C.D/LEN}: the device and the router's address on it.
     *
     * @param kind    TAP, AF_PACKET or AF_XDP
     * @param device  the device's name (1-15 characters, as the kernel accepts it)
     * @param address the router's address and prefix length on it
     */
    public record Interface(Kind kind, String device, Ipv4Prefix address) {
        /** The accepted forms, for messages. */
        static final String FORM = "tap:NAME=A.B.C.D/LEN, packet:IFNAME=A.B.C.D/LEN or xdp:IFNAME=A.B.C.D/LEN, "
                + "e.g. tap:r0=198.18.1.1/24";

        /** Parses {@code tap:NAME=A.B.C.D/LEN}, {@code packet:IFNAME=A.B.C.D/LEN} or {@code xdp:IFNAME=A.B.C.D/LEN}. */
        public static Interface parse(String text) {
            String t = text.strip();
            int colon = t.indexOf(':');
            if (colon < 0) {
                throw new IllegalArgumentException("'" + text + "' is not an interface: write " + FORM);
            }
            String k = t.substring(0, colon).toLowerCase(Locale.ROOT);
            Kind kind = k.equals("tap") ? Kind.TAP : k.equals("packet") ? Kind.PACKET : k.equals("xdp") ? Kind.XDP : null;
            if (kind == null) {
                throw new IllegalArgumentException("'" + text + "': the kind must be tap (a TAP device, created if "
                        + "missing), packet (an existing interface through AF_PACKET) or xdp (an existing interface "
                        + "through AF_XDP): write " + FORM);
            }
            String rest = t.substring(colon + 1);
            int eq = rest.indexOf('=');
            if (eq < 0) {
                throw new IllegalArgumentException("'" + text + "' has no address: write " + k + ":"
                        + (rest.isEmpty() ? "NAME" : rest) + "=A.B.C.D/LEN, e.g. " + k + ":"
                        + (rest.isEmpty() ? "r0" : rest) + "=198.18.1.1/24");
            }
            String device = rest.substring(0, eq);
            try {
                Ifreq.checkName(device);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("'" + text + "': " + e.getMessage()
                        + " (an interface name has 1-15 characters, without '/', ':' or spaces): write " + FORM);
            }
            Ipv4Prefix address;
            try {
                address = Ipv4Prefix.parse(rest.substring(eq + 1));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("'" + text + "': " + e.getMessage());
            }
            return new Interface(kind, device, address);
        }

        /** The connected subnet: {@code 198.18.1.1/24} gives {@code 198.18.1.0/24}. */
        public RoutePrefix subnet() {
            return RoutePrefix.subnetOf(address);
        }

        /** The interface's MAC: {@code 02:00} and the four octets of its address ({@link Macs#fromAddress}). */
        public long mac() {
            return Macs.fromAddress(address.address());
        }

        /** {@code KIND:NAME=A.B.C.D/LEN}, as {@link #parse} reads it. */
        @Override
        public String toString() {
            return kind.label + ":" + device + "=" + address;
        }
    }

    /**
     * One {@code --route PREFIX via GW} (or {@code --route default via GW}).
     *
     * @param prefix  the destinations, {@link RoutePrefix#DEFAULT} for the default route
     * @param gateway the next router, big-endian, on one of the interfaces' subnets
     */
    public record Route(RoutePrefix prefix, int gateway) {
        /** The accepted form, for messages. */
        static final String FORM = "PREFIX via GW, e.g. 198.18.9.0/24 via 198.18.2.3 or default via 198.18.2.254";

        /** Parses the three words {@code PREFIX via GW}. */
        public static Route parse(String prefix, String via, String gateway) {
            if (!"via".equals(via) || gateway == null) {
                StringJoiner given = new StringJoiner(" ");
                for (String w : new String[] {prefix, via, gateway}) {
                    if (w != null) {
                        given.add(w);
                    }
                }
                throw new IllegalArgumentException("'" + given + "' is not a route: write " + FORM);
            }
            RoutePrefix p = RoutePrefix.parse(prefix);
            int gw;
            try {
                gw = Ipv4Prefix.parseHost(gateway);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("the gateway of '" + prefix + " via " + gateway + "': " + e.getMessage());
            }
            return new Route(p, gw);
        }

        /** Parses {@code PREFIX via GW} written as one string (words separated by blanks). */
        public static Route parse(String text) {
            String[] w = text.strip().split("\\s+");
            if (w.length != 3) {
                throw new IllegalArgumentException("'" + text.strip() + "' is not a route: write " + FORM);
            }
            return parse(w[0], w[1], w[2]);
        }

        /** {@code PREFIX via GW}, as {@link #parse(String)} reads it. */
        @Override
        public String toString() {
            return prefix + " via " + Ipv4.toString(gateway);
        }
    }

    /** Copies the lists and checks everything; see the class comment for what is refused. */
    public RouterSpec {
        interfaces = List.copyOf(interfaces);
        routes = List.copyOf(routes);
        serve = List.copyOf(serve);
        if (interfaces.size() < 2) {
            throw new IllegalArgumentException("a router needs two or more interfaces, got " + interfaces.size()
                    + ": give --if for each, e.g. --if tap:r0=198.18.1.1/24 --if tap:r1=198.18.2.1/24");
        }
        if (cores < 1 || cores > 64) {
            throw new IllegalArgumentException("--cores must be 1..64, got " + cores);
        }
        if (mtu != 0 && (mtu < FlowStack.MIN_MTU || mtu > FlowStack.MAX_MTU)) {
            throw new IllegalArgumentException("--mtu must be " + FlowStack.MIN_MTU + ".." + FlowStack.MAX_MTU + ", got " + mtu);
        }
        checkInterfaces(interfaces);
        checkRoutes(interfaces, routes);
        checkServices(serve);
    }

    private static void checkInterfaces(List<Interface> interfaces) {
        Map<String, Interface> byDevice = new HashMap<>();
        for (Interface i : interfaces) {
            Interface before = byDevice.putIfAbsent(i.device(), i);
            if (before != null) {
                throw new IllegalArgumentException("--if " + before + " and --if " + i + ": the device " + i.device()
                        + " is given twice: each interface is its own device");
            }
        }
        for (int a = 0; a < interfaces.size(); a++) {
            for (int b = a + 1; b < interfaces.size(); b++) {
                Interface x = interfaces.get(a);
                Interface y = interfaces.get(b);
                if (x.subnet().overlaps(y.subnet())) {
                    throw new IllegalArgumentException("--if " + x + " and --if " + y + " have overlapping subnets ("
                            + x.subnet() + " and " + y.subnet() + "): each interface needs a subnet of its own");
                }
            }
        }
    }

    private static void checkRoutes(List<Interface> interfaces, List<Route> routes) {
        Set<RoutePrefix> seen = new HashSet<>();
        for (Route r : routes) {
            if (!seen.add(r.prefix())) {
                throw new IllegalArgumentException("--route " + r.prefix() + " is given twice: one gateway per prefix");
            }
            try {
                checkRoute(interfaces, r);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--route " + e.getMessage(), e);
            }
        }
    }

    /**
     * Checks one route against the interfaces: not a connected subnet, a gateway on exactly one
     * interface's subnet that is a host there and not the router itself. Also used for routes
     * added at run time ({@code stack route add}).
     *
     * @throws IllegalArgumentException saying what is wrong: {@code PREFIX via GW: why}
     */
    public static void checkRoute(List<Interface> interfaces, Route r) {
        String what = r + ": ";
        for (Interface i : interfaces) {
            if (i.subnet().equals(r.prefix())) {
                throw new IllegalArgumentException(what + r.prefix() + " is the subnet of " + i.device()
                        + ", reached directly (a connected route)");
            }
            if (i.address().address() == r.gateway()) {
                throw new IllegalArgumentException(what + "the gateway is the router's own address on " + i.device()
                        + ": give the address of the next router");
            }
        }
        int on = interfaceOf(interfaces, r.gateway());
        if (on < 0) {
            StringJoiner subnets = new StringJoiner(", ");
            for (Interface i : interfaces) {
                subnets.add(i.subnet() + " on " + i.device());
            }
            throw new IllegalArgumentException(what + "the gateway is on no interface's subnet (" + subnets
                    + "): a gateway must be directly reachable");
        }
        Interface i = interfaces.get(on);
        int host = r.gateway() & ~i.subnet().mask();
        if (i.subnet().length() <= 30 && (host == 0 || host == ~i.subnet().mask())) {
            throw new IllegalArgumentException(what + "the gateway is the " + (host == 0 ? "network" : "broadcast")
                    + " address of " + i.subnet() + " on " + i.device() + ": give the address of the next router");
        }
    }

    /** The index of the interface whose subnet holds {@code address}, or -1. */
    public static int interfaceOf(List<Interface> interfaces, int address) {
        for (int k = 0; k < interfaces.size(); k++) {
            if (interfaces.get(k).subnet().contains(address)) {
                return k;
            }
        }
        return -1;
    }

    /** The index of the interface whose subnet holds {@code address}, or -1. */
    public int interfaceOf(int address) {
        return interfaceOf(interfaces, address);
    }

    private static void checkServices(List<ServiceSpec> serve) {
        Set<Integer> tcp = new HashSet<>();
        Set<Integer> udp = new HashSet<>();
        for (ServiceSpec s : serve) {
            if (!(s.kind().tcp() ? tcp : udp).add(s.port())) {
                throw new IllegalArgumentException("--serve " + s + ": " + s.protocol() + " port " + s.port()
                        + " is given twice");
            }
        }
    }

    /** The default route, or null if none was given. */
    public Route defaultRoute() {
        for (Route r : routes) {
            if (r.prefix().isDefault()) {
                return r;
            }
        }
        return null;
    }

    /**
     * The capture file of interface {@code i}: the device's name before the extension of
     * {@link #pcap} ({@code cap.pcap} gives {@code cap-r0.pcap}, {@code cap} gives {@code cap-r0});
     * null without a capture.
     */
    public Path pcapFile(int i) {
        if (pcap == null) {
            return null;
        }
        String file = pcap.getFileName().toString();
        int dot = file.lastIndexOf('.');
        String device = interfaces.get(i).device();
        String name = dot > 0 ? file.substring(0, dot) + "-" + device + file.substring(dot) : file + "-" + device;
        return pcap.resolveSibling(name);
    }

    /** picocli converter for {@code --if}. */
    public static final class InterfaceConverter implements ITypeConverter<Interface> {
        @Override
        public Interface convert(String value) {
            try {
                return Interface.parse(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }
}
