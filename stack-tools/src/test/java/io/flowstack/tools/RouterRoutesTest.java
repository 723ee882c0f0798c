package io.flowstack.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.flowstack.core.wire.Ipv4;
import io.flowstack.tools.stats.RouteControl.Row;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Issue 12 point 2, the router's side of {@code stack route}: {@link RouterRoutes} checks a
 * change against the interfaces and the table, hands only accepted ones to the cores' replicas
 * (here a fake table that records what reached it), and lists the replicas' table with the
 * connected routes first, then the others by address, default last. (Against a running router:
 * RouterRunTest.)
 */
class RouterRoutesTest {
    private static final List<RouterSpec.Interface> IFS = List.of(RouterSpec.Interface.parse("tap:r0=198.18.1.1/24"),
            RouterSpec.Interface.parse("packet:veth0=198.18.2.1/24"));

    /** A table as the cores would hold it: the connected routes, then what was added; fails changes if told to. */
    private static final class FakeReplicas implements RouterRoutes.Replicas {
        final List<Row> rows = new ArrayList<>(List.of(
                new Row(ip("198.18.2.0"), 24, 0, "veth0", "connected"),
                new Row(ip("198.18.1.0"), 24, 0, "r0", "connected")));
        final List<String> applied = new ArrayList<>();
        boolean fail;

        @Override
        public void add(RoutePrefix prefix, int gateway) {
            check();
            applied.add("add " + prefix + " " + Ipv4.toString(gateway));
            String device = IFS.get(RouterSpec.interfaceOf(IFS, gateway)).device();
            rows.add(new Row(prefix.network(), prefix.length(), gateway, device, "static"));
        }

        @Override
        public boolean remove(RoutePrefix prefix) {
            check();
            applied.add("remove " + prefix);
            return rows.removeIf(r -> r.prefix() == prefix.network() && r.length() == prefix.length()
                    && r.kind().equals("static"));
        }

        @Override
        public List<Row> list() {
            return List.copyOf(rows);
        }

        private void check() {
            if (fail) {
                throw new IllegalStateException("core 1 did not answer within 5 s");
            }
        }
    }

    private static int ip(String dotted) {
        return Ipv4.parse(dotted);
    }

    private static String refused(Runnable r) {
        return assertThrows(IllegalArgumentException.class, r::run).getMessage();
    }

    @Test
    void addDelAndShow() {
        FakeReplicas rep = new FakeReplicas();
        RouterRoutes routes = new RouterRoutes(IFS, rep);
        assertEquals("added default via 198.18.2.254 on veth0", routes.add(0, 0, ip("198.18.2.254")));
        assertEquals("added 198.18.9.0/24 via 198.18.2.3 on veth0", routes.add(ip("198.18.9.0"), 24, ip("198.18.2.3")));
        assertEquals("added 10.0.0.0/8 via 198.18.1.7 on r0", routes.add(ip("10.0.0.0"), 8, ip("198.18.1.7")));
        assertEquals("added 203.0.113.0/24 via 198.18.1.7 on r0", routes.add(ip("203.0.113.0"), 24, ip("198.18.1.7")));
        assertEquals("added 198.18.9.0/25 via 198.18.2.4 on veth0", routes.add(ip("198.18.9.0"), 25, ip("198.18.2.4")));
        assertEquals(List.of("add default 198.18.2.254", "add 198.18.9.0/24 198.18.2.3", "add 10.0.0.0/8 198.18.1.7",
                "add 203.0.113.0/24 198.18.1.7", "add 198.18.9.0/25 198.18.2.4"), rep.applied);
        assertEquals("""
                prefix          via           interface  kind
                198.18.1.0/24   -             r0         connected
                198.18.2.0/24   -             veth0      connected
                10.0.0.0/8      198.18.1.7    r0         static
                198.18.9.0/24   198.18.2.3    veth0      static
                198.18.9.0/25   198.18.2.4    veth0      static
                203.0.113.0/24  198.18.1.7    r0         static
                default         198.18.2.254  veth0      static
                """, routes.show(), "connected in the interfaces' order, then by address (unsigned) and length, default last");
        assertEquals("deleted 198.18.9.0/24 via 198.18.2.3", routes.del(ip("198.18.9.0"), 24));
        assertEquals("deleted default via 198.18.2.254", routes.del(0, 0));
        assertEquals(List.of("remove 198.18.9.0/24", "remove default"), rep.applied.subList(5, 7));
        assertEquals(5, routes.rows().size());
    }

    @Test
    void refusalsNeverReachTheReplicas() {
        FakeReplicas rep = new FakeReplicas();
        RouterRoutes routes = new RouterRoutes(IFS, rep);
        routes.add(ip("198.18.9.0"), 24, ip("198.18.2.3"));
        rep.applied.clear();
        assertEquals("198.18.9.0/24 is already routed via 198.18.2.3: del it first",
                refused(() -> routes.add(ip("198.18.9.0"), 24, ip("198.18.1.3"))));
        assertEquals("198.18.10.0/24 via 198.18.7.3: the gateway is on no interface's subnet (198.18.1.0/24 on r0, "
                + "198.18.2.0/24 on veth0): a gateway must be directly reachable",
                refused(() -> routes.add(ip("198.18.10.0"), 24, ip("198.18.7.3"))));
        assertEquals("198.18.10.0/24 via 198.18.1.1: the gateway is the router's own address on r0: give the address of "
                + "the next router", refused(() -> routes.add(ip("198.18.10.0"), 24, ip("198.18.1.1"))));
        assertEquals("198.18.2.0/24 via 198.18.1.3: 198.18.2.0/24 is the subnet of veth0, reached directly (a connected "
                + "route)", refused(() -> routes.add(ip("198.18.2.0"), 24, ip("198.18.1.3"))));
        assertEquals("198.18.10.1/24 has host bits set: the route's prefix is the network address, 198.18.10.0/24",
                refused(() -> routes.add(ip("198.18.10.1"), 24, ip("198.18.1.3"))));
        assertEquals("no static route 198.18.10.0/24 (see stack route show)", refused(() -> routes.del(ip("198.18.10.0"), 24)));
        assertEquals("198.18.1.0/24 is the connected route of r0: it goes only with its interface",
                refused(() -> routes.del(ip("198.18.1.0"), 24)));
        assertEquals(List.of(), rep.applied);
    }

    @Test
    void aCoreThatDoesNotAnswerFailsTheChange() {
        FakeReplicas rep = new FakeReplicas();
        RouterRoutes routes = new RouterRoutes(IFS, rep);
        routes.add(ip("198.18.9.0"), 24, ip("198.18.2.3"));
        rep.fail = true;
        assertThrows(IllegalStateException.class, () -> routes.add(ip("198.18.10.0"), 24, ip("198.18.2.3")));
        assertThrows(IllegalStateException.class, () -> routes.del(ip("198.18.9.0"), 24));
        rep.fail = false;
        assertEquals(3, routes.rows().size(), "the table is the replicas': 198.18.10.0/24 not there, 198.18.9.0/24 still");
        assertEquals("deleted 198.18.9.0/24 via 198.18.2.3", routes.del(ip("198.18.9.0"), 24));
    }
}
