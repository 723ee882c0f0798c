package io.flowstack.tools;

import io.flowstack.core.wire.Ipv4;
import io.flowstack.tools.stats.RouteControl;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The run-time routes of a {@code stack router} as the control socket sees them
 * ({@code stack route add|del|show}): the control plane's copy of the table (the connected
 * routes of the interfaces and the static ones), which checks a change against the interfaces
 * as {@code --route} is checked ({@link RouterSpec#checkRoute}) and against the table, hands it
 * to the {@link Replicas} (every core's own table, changed by message) and records it once
 * they applied it.
 *
 * <p>Owned by: the control socket's client threads, one change at a time (this object's
 * monitor: the control plane, never on a core's path); the cores' tables are reached only
 * through {@link Replicas}.
 */
final class RouterRoutes implements RouteControl {

    /**
     * Every core's replica of the route table: each call changes all of them (by message to
     * each core) and returns once they applied it, or throws if a core did not answer.
     */
    interface Replicas {
        /** Routes {@code prefix} via {@code gateway} out of interface {@code iface} (an index of the spec's interfaces). */
        void add(RoutePrefix prefix, int gateway, int iface);

        /** Removes the static route of {@code prefix}. */
        void remove(RoutePrefix prefix);
    }

    private final List<RouterSpec.Interface> interfaces;
    private final Replicas replicas;
    /** The static routes by prefix, in the order added. */
    private final Map<RoutePrefix, RouterSpec.Route> statics = new LinkedHashMap<>();

    /**
     * The routes of a router on {@code interfaces} whose replicas already hold {@code initial}
     * (the {@code --route} options, installed when the router started).
     */
    RouterRoutes(List<RouterSpec.Interface> interfaces, List<RouterSpec.Route> initial, Replicas replicas) {
        this.interfaces = List.copyOf(interfaces);
        this.replicas = replicas;
        for (RouterSpec.Route r : initial) {
            statics.put(r.prefix(), r);
        }
    }

    @Override
    public synchronized String add(int prefix, int length, int gateway) {
        RouterSpec.Route route = new RouterSpec.Route(new RoutePrefix(prefix, length), gateway);
        RouterSpec.checkRoute(interfaces, route);
        RouterSpec.Route before = statics.get(route.prefix());
        if (before != null) {
            throw new IllegalArgumentException(before.prefix() + " is already routed via " + Ipv4.toString(before.gateway())
                    + ": del it first");
        }
        int iface = RouterSpec.interfaceOf(interfaces, gateway);
        replicas.add(route.prefix(), gateway, iface);
        statics.put(route.prefix(), route);
        return "added " + route + " on " + interfaces.get(iface).device();
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
        RouterSpec.Route route = statics.get(p);
        if (route == null) {
            throw new IllegalArgumentException("no static route " + p + " (see stack route show)");
        }
        replicas.remove(p);
        statics.remove(p);
        return "deleted " + route;
    }

    @Override
    public synchronized String show() {
        return RouteControl.table(rows());
    }

    /** The table's rows: the connected routes in the order of the interfaces, then the static ones by prefix, default last. */
    synchronized List<Row> rows() {
        List<Row> rows = new ArrayList<>();
        for (RouterSpec.Interface i : interfaces) {
            rows.add(new Row(i.subnet().network(), i.subnet().length(), 0, i.device(), "connected"));
        }
        List<RouterSpec.Route> sorted = new ArrayList<>(statics.values());
        sorted.sort(Comparator.comparing((RouterSpec.Route r) -> r.prefix().isDefault())
                .thenComparing(r -> r.prefix().network() ^ Integer.MIN_VALUE) // unsigned order of addresses
                .thenComparing(r -> r.prefix().length()));
        for (RouterSpec.Route r : sorted) {
            String device = interfaces.get(RouterSpec.interfaceOf(interfaces, r.gateway())).device();
            rows.add(new Row(r.prefix().network(), r.prefix().length(), r.gateway(), device, "static"));
        }
        return rows;
    }
}
