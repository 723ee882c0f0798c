package io.flowstack.tools;

import io.flowstack.core.FlowStack;
import io.flowstack.core.StackRoutes;
import io.flowstack.core.stats.RouteInfo;
import io.flowstack.core.wire.Ipv4;
import io.flowstack.tools.stats.RouteControl;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The run-time routes of a {@code stack router} as the control socket sees them
 * ({@code stack route add|del|show}): a change is checked against the interfaces as
 * {@code --route} is ({@link RouterSpec#checkRoute}) and against the table (a prefix already
 * routed is refused, not replaced: {@code del} it first), then handed to the {@link Replicas},
 * every core's own table, which the cores change themselves, by message. The table listed is
 * theirs, never a copy of ours.
 *
 * <p>Owned by: the control socket's client threads, one change at a time (this object's monitor,
 * so that two clients cannot both find a prefix free and both add it; control plane only, never
 * on a core's path); the cores' tables are reached only through {@link Replicas}.
 */
final class RouterRoutes implements RouteControl {

    /**
     * Every core's replica of the route table: each change reaches all of them (by message to
     * each core) and returns once they applied it, or throws if a core did not answer.
     */
    interface Replicas {
        /** Routes {@code prefix} via {@code gateway} (replacing a route of the same prefix). */
        void add(RoutePrefix prefix, int gateway);

        /** Removes the static route of {@code prefix}; returns whether there was one. */
        boolean remove(RoutePrefix prefix);

        /** The routes, connected and static, as the cores have them. */
        List<Row> list();

        /**
         * The replicas of a running router: its {@link StackRoutes}, each interface named by
         * its device in {@code interfaces} (the core names it by its NIC, interface i the NIC i).
         */
        static Replicas of(FlowStack stack, List<RouterSpec.Interface> interfaces) {
            StackRoutes routes = stack.routes();
            Map<String, String> devices = new HashMap<>();
            for (int i = 0; i < interfaces.size(); i++) {
                devices.put(stack.interfaces().name(i), interfaces.get(i).device());
            }
            return new Replicas() {
                @Override
                public void add(RoutePrefix prefix, int gateway) {
                    routes.add(prefix.network(), prefix.length(), gateway);
                }

                @Override
                public boolean remove(RoutePrefix prefix) {
                    return routes.remove(prefix.network(), prefix.length());
                }

                @Override
                public List<Row> list() {
                    List<Row> rows = new ArrayList<>();
                    for (RouteInfo r : routes.list()) {
                        rows.add(new Row(r.prefix(), r.prefixLength(), r.gateway(),
                                devices.getOrDefault(r.iface(), r.iface()), r.kind()));
                    }
                    return rows;
                }
            };
        }
    }

    private final List<RouterSpec.Interface> interfaces;
    private final Replicas replicas;

    /** The routes of a router on {@code interfaces}, held by {@code replicas}. */
    RouterRoutes(List<RouterSpec.Interface> interfaces, Replicas replicas) {
        this.interfaces = List.copyOf(interfaces);
        this.replicas = replicas;
    }

    @Override
    public synchronized String add(int prefix, int length, int gateway) {
        RouterSpec.Route route = new RouterSpec.Route(new RoutePrefix(prefix, length), gateway);
        RouterSpec.checkRoute(interfaces, route);
        Row before = find(route.prefix());
        if (before != null) {
            throw new IllegalArgumentException(route.prefix() + " is already routed via " + Ipv4.toString(before.via())
                    + ": del it first");
        }
        replicas.add(route.prefix(), gateway);
        return "added " + route + " on " + interfaces.get(RouterSpec.interfaceOf(interfaces, gateway)).device();
    }

    @Override
    public synchronized String del(int prefix, int length) {
        RoutePrefix p = new RoutePrefix(prefix, length);
        for (RouterSpec.Interface i : interfaces) {
            if (i.subnet().equals(p)) {
                throw new IllegalArgumentException(p + " is the connected route of " + i.device()
                        + ": it goes only with its interface");
            }
        }
        Row route = find(p);
        if (route == null || !replicas.remove(p)) {
            throw new IllegalArgumentException("no static route " + p + " (see stack route show)");
        }
        return "deleted " + p + " via " + Ipv4.toString(route.via());
    }

    @Override
    public synchronized String show() {
        return RouteControl.table(rows());
    }

    /** The static route of {@code p} in the cores' table, or null. */
    private Row find(RoutePrefix p) {
        for (Row r : replicas.list()) {
            if (r.prefix() == p.network() && r.length() == p.length() && !r.kind().equals("connected")) {
                return r;
            }
        }
        return null;
    }

    /**
     * The table's rows: the connected routes in the order of the interfaces, then the others by
     * address (unsigned) and length, the default route last.
     */
    synchronized List<Row> rows() {
        List<Row> rows = new ArrayList<>(replicas.list());
        List<String> devices = interfaces.stream().map(RouterSpec.Interface::device).toList();
        rows.sort(Comparator.comparing((Row r) -> !r.kind().equals("connected"))
                .thenComparing(r -> r.kind().equals("connected") ? devices.indexOf(r.device()) : 0)
                .thenComparing(r -> r.length() == 0)
                .thenComparing(r -> r.prefix() ^ Integer.MIN_VALUE) // unsigned order of addresses
                .thenComparing(Row::length));
        return rows;
    }
}
