package io.flowstack.tools.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.FlowStack;
import io.flowstack.core.config.StackConfig;
import io.flowstack.core.socket.StackException;
import io.flowstack.core.wire.Ipv4;
import io.flowstack.nic.MemoryWire;
import io.flowstack.tools.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 12 point 2, the control side of {@code stack route add|del|show}: the {@code route}
 * requests of the control protocol reach the {@link RouteControl} set on a
 * {@link ControlServer} (here a fake keeping a table of rows, as a router would), with the
 * prefix, length and gateway parsed; malformed requests and refusals are {@code error:} lines;
 * an instance without a RouteControl (an endpoint) answers {@code not a router}; and the
 * {@code stack route} command line sends the requests and prints the answers.
 */
@Timeout(60)
class RouteControlTest {
    static final int R0 = Ipv4.parse("198.18.1.1");
    static final int R1 = Ipv4.parse("198.18.2.1");

    static MemoryWire wire;
    static FlowStack stack;

    @TempDir
    static Path dir;

    /** A router's routes as plain rows: two connected subnets, gateways checked against them. */
    static final class FakeRoutes implements RouteControl {
        final List<Row> rows = new ArrayList<>(List.of(
                new Row(Ipv4.parse("198.18.1.0"), 24, 0, "r0", "connected"),
                new Row(Ipv4.parse("198.18.2.0"), 24, 0, "r1", "connected")));
        final ConcurrentLinkedQueue<String> calls = new ConcurrentLinkedQueue<>();

        @Override
        public synchronized String add(int prefix, int length, int gateway) {
            calls.add("add " + Integer.toHexString(prefix) + "/" + length + " " + Integer.toHexString(gateway));
            String device = null;
            for (Row r : rows) {
                if (r.kind().equals("connected") && (gateway & Ipv4.mask(r.length())) == r.prefix()) {
                    device = r.device();
                }
                if (r.prefix() == prefix && r.length() == length) {
                    throw new IllegalArgumentException(show(r) + " is already routed: del it first");
                }
            }
            if (device == null) {
                throw new IllegalArgumentException("the gateway " + Ipv4.toString(gateway) + " is on no interface's subnet");
            }
            Row row = new Row(prefix, length, gateway, device, "static");
            rows.add(row);
            return "added " + show(row) + " on " + device;
        }

        @Override
        public synchronized String del(int prefix, int length) {
            calls.add("del " + Integer.toHexString(prefix) + "/" + length);
            for (Row r : rows) {
                if (r.prefix() == prefix && r.length() == length && r.kind().equals("static")) {
                    rows.remove(r);
                    return "deleted " + show(r);
                }
            }
            throw new IllegalArgumentException("no static route " + Ipv4.toString(prefix) + "/" + length);
        }

        @Override
        public synchronized String show() {
            calls.add("show");
            return RouteControl.table(rows);
        }

        private static String show(Row r) {
            return (r.length() == 0 ? "default" : Ipv4.toString(r.prefix()) + "/" + r.length()) + " via "
                    + Ipv4.toString(r.via());
        }
    }

    @BeforeAll
    static void start() {
        wire = MemoryWire.create(1, 1 << 20);
        stack = FlowStack.start(StackConfig.builder().cores(1).address(R0).prefixLength(24)
                .mac(0x02_00_00_00_00_02L).pinThreads(false).build(), wire.b());
    }

    @AfterAll
    static void stop() {
        if (stack != null) {
            stack.close();
        }
        if (wire != null) {
            wire.close();
        }
    }

    private static String error(Path sock, String request) {
        StackException e = assertThrows(StackException.class, () -> ControlClient.request(sock, request));
        String prefix = "the instance at " + sock + " answered: ";
        assertTrue(e.getMessage().startsWith(prefix), e.getMessage());
        return e.getMessage().substring(prefix.length());
    }

    @Test
    void anEndpointIsNotARouter() {
        Path sock = dir.resolve("endpoint.sock");
        try (ControlServer cs = ControlServer.start(stack, sock, "endpoint")) {
            assertEquals("not a router", error(sock, "route show"));
            assertEquals("not a router", error(sock, "route add 198.18.9.0/24 via 198.18.2.3"));
            assertTrue(ControlClient.request(sock, "text").contains("TCP connections:"), "the rest still answers");
        }
    }

    @Test
    void routeRequestsReachTheRouteControlParsed() {
        Path sock = dir.resolve("router.sock");
        FakeRoutes routes = new FakeRoutes();
        try (ControlServer cs = ControlServer.start(stack, sock, "router")) {
            cs.routeControl(routes);
            assertEquals("added 198.18.9.0/24 via 198.18.2.3 on r1\n",
                    ControlClient.request(sock, "route add 198.18.9.0/24 via 198.18.2.3"));
            assertEquals("added default via 198.18.1.254 on r0\n",
                    ControlClient.request(sock, "route add default via 198.18.1.254"));
            assertEquals(List.of("add c6120900/24 c6120203", "add 0/0 c61201fe"), List.copyOf(routes.calls),
                    "big-endian ints, the default route as 0/0");
            assertEquals("""
                    prefix         via           interface  kind
                    198.18.1.0/24  -             r0         connected
                    198.18.2.0/24  -             r1         connected
                    198.18.9.0/24  198.18.2.3    r1         static
                    default        198.18.1.254  r0         static
                    """, ControlClient.request(sock, "route show"));
            assertEquals("deleted 198.18.9.0/24 via 198.18.2.3\n", ControlClient.request(sock, "route del 198.18.9.0/24"));
            assertEquals("deleted default via 198.18.1.254\n", ControlClient.request(sock, "route del 0.0.0.0/0"));
            assertEquals(3, ControlClient.request(sock, "route show").lines().count(), "back to the connected routes");
        }
    }

    @Test
    void refusalsAndMalformedRequestsAreErrorLines() {
        Path sock = dir.resolve("errors.sock");
        FakeRoutes routes = new FakeRoutes();
        try (ControlServer cs = ControlServer.start(stack, sock, "errors")) {
            cs.routeControl(routes);
            assertEquals("the gateway 198.18.7.3 is on no interface's subnet",
                    error(sock, "route add 198.18.9.0/24 via 198.18.7.3"), "the router's refusal, as it says it");
            assertEquals("no static route 198.18.9.0/24", error(sock, "route del 198.18.9.0/24"));
            assertEquals("'198.18.9.1/24' has host bits set: the route's prefix is the network address, 198.18.9.0/24",
                    error(sock, "route add 198.18.9.1/24 via 198.18.2.3"));
            assertTrue(error(sock, "route add 198.18.9.0/24 via 300.1.1.1").contains("each part must be 0..255"));
            assertTrue(error(sock, "route add 198.18.9.0/24 via 224.0.0.1").contains("multicast"));
            assertEquals("route add wants PREFIX via GW, e.g. route add 198.18.9.0/24 via 198.18.2.3",
                    error(sock, "route add 198.18.9.0/24 198.18.2.3"));
            assertEquals("route del wants PREFIX, e.g. route del 198.18.9.0/24", error(sock, "route del"));
            assertEquals("route show takes no arguments", error(sock, "route show all"));
            assertEquals("unknown route request 'route flush': send route add PREFIX via GW, route del PREFIX or route show",
                    error(sock, "route flush"));
            assertTrue(error(sock, "route").startsWith("unknown route request 'route'"));
            assertEquals(List.of("add c6120900/24 c6120703", "del c6120900/24"), List.copyOf(routes.calls),
                    "malformed requests never reach the router");
            assertTrue(error(sock, "routes").startsWith("unknown request 'routes': send text, json, prometheus, load, "),
                    "not a route request");
        }
    }

    @Test
    void theTableAlignsItsColumns() {
        assertEquals("prefix  via  interface  kind\n", RouteControl.table(List.of()));
        assertEquals("""
                prefix           via  interface        kind
                198.18.128.0/17  -    a-long-device-0  connected
                198.18.0.128/32  -    r1               connected
                """, RouteControl.table(List.of(
                new RouteControl.Row(Ipv4.parse("198.18.128.0"), 17, 0, "a-long-device-0", "connected"),
                new RouteControl.Row(Ipv4.parse("198.18.0.128"), 32, 0, "r1", "connected"))));
    }

    // ------------------------------------------------------------------ command line

    private record Run(int code, String out, String err) {
    }

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.commandLine(new PrintWriter(out, true), new PrintWriter(err, true)).execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void theRouteCommandSendsTheRequestsAndPrintsTheAnswers() {
        Path sock = dir.resolve("cli.sock");
        FakeRoutes routes = new FakeRoutes();
        try (ControlServer cs = ControlServer.start(stack, sock, "cli")) {
            cs.routeControl(routes);
            Run add = run("route", "add", "198.18.9.0/24", "via", "198.18.2.3", "--socket", sock.toString());
            assertEquals(new Run(Main.OK, "added 198.18.9.0/24 via 198.18.2.3 on r1\n", ""), add);
            Run def = run("route", "add", "--socket", sock.toString(), "default", "via", "198.18.2.254");
            assertEquals(Main.OK, def.code, def.err);
            Run show = run("route", "show", "--socket", sock.toString());
            assertEquals(Main.OK, show.code, show.err);
            assertTrue(show.out.startsWith("prefix ") && show.out.contains("\n198.18.9.0/24  198.18.2.3 ")
                    && show.out.contains("\ndefault        198.18.2.254  r1 "), show.out);
            Run refused = run("route", "add", "198.18.10.0/24", "via", "198.18.7.3", "--socket", sock.toString());
            assertEquals(new Run(Main.FAILURE, "", "stack route add: the instance at " + sock
                    + " answered: the gateway 198.18.7.3 is on no interface's subnet\n"), refused);
            Run del = run("route", "del", "198.18.9.0/24", "--socket", sock.toString());
            assertEquals(new Run(Main.OK, "deleted 198.18.9.0/24 via 198.18.2.3\n", ""), del);
            Run gone = run("route", "del", "198.18.9.0/24", "--socket", sock.toString());
            assertEquals(Main.FAILURE, gone.code);
            assertTrue(gone.err.endsWith("answered: no static route 198.18.9.0/24\n"), gone.err);
        }
        Run none = run("route", "show", "--socket", sock.toString());
        assertEquals(Main.FAILURE, none.code);
        assertTrue(none.err.startsWith("stack route show: no running instance: control socket " + sock + " does not exist"),
                none.err);
    }
}
