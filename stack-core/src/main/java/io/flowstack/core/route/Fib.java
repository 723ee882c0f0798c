package io.flowstack.core.route;

import java.util.ArrayList;
import java.util.List;

/**
 * One core's forwarding table: the {@link RouteTable} of its routes and the {@link NextHops}
 * their answers index, kept consistent (a next hop lives exactly as long as a route uses it).
 * The forwarding path calls {@link #lookup} and reads the answer's interface and gateway from
 * {@link #nextHops()}; the control path adds and removes routes.
 *
 * <p>Owned by: one thread, a core's netisr. Every core has its own replica; a route change
 * reaches each core as a message that the core applies to its replica itself
 * (docs/ROUTER.md, "Route lookup"), so nothing here is shared or locked. {@link #lookup}
 * allocates nothing; {@link #add} and {@link #remove} may (control path).
 */
public final class Fib {
    private final RouteTable table;
    private final NextHops nextHops = new NextHops();

    /** An empty table. */
    public Fib() {
        this(16);
    }

    /**
     * An empty table with room for {@code groups} groups of its lookup structure
     * ({@link RouteTable#RouteTable(int)}): about one per /16 holding a longer route, plus one per
     * /24 holding a route longer than /24.
     */
    public Fib(int groups) {
        table = new RouteTable(groups);
    }

    /**
     * The next-hop index for {@code dst} (longest prefix match, RFC 1812 5.2.4.3), or
     * {@link RouteTable#NO_ROUTE}. No allocation.
     */
    public int lookup(int dst) {
        return table.lookup(dst);
    }

    /** The next hops that {@link #lookup} indexes. */
    public NextHops nextHops() {
        return nextHops;
    }

    /**
     * Adds the route {@code prefix/length} through {@code gateway} (0: on-link) on interface
     * {@code ifIndex}, replacing a route of the same prefix and length.
     *
     * @return whether it replaced one
     * @throws IllegalArgumentException for a bad prefix or length ({@link RouteTable#add}) or next
     *     hop ({@link NextHops#acquire})
     */
    public boolean add(int prefix, int length, int ifIndex, int gateway, RouteKind kind) {
        RouteTable.checkRule(prefix, length);
        int nh = nextHops.acquire(ifIndex, gateway, kind);
        int old = table.add(prefix, length, nh);
        if (old >= 0) {
            nextHops.release(old);
        }
        return old >= 0;
    }

    /**
     * Removes the route {@code prefix/length}.
     *
     * @return whether there was one
     * @throws IllegalArgumentException for a bad prefix or length
     */
    public boolean remove(int prefix, int length) {
        int nh = table.nextHop(prefix, length);
        if (nh < 0) {
            return false;
        }
        table.remove(prefix, length);
        nextHops.release(nh);
        return true;
    }

    /**
     * Removes every route out of interface {@code ifIndex} (the interface went away).
     *
     * @return how many
     */
    public int removeInterface(int ifIndex) {
        int n = 0;
        for (RouteTable.Rule r : table.rules()) {
            if (nextHops.ifIndex(r.nextHop()) == ifIndex) {
                remove(r.prefix(), r.length());
                n++;
            }
        }
        return n;
    }

    /** The route {@code prefix/length}, or null if there is none. */
    public Route route(int prefix, int length) {
        int nh = table.nextHop(prefix, length);
        return nh < 0 ? null : route(prefix, length, nh);
    }

    /** The routes, sorted by prefix then length (for {@code stack route show}). Allocates. */
    public List<Route> routes() {
        List<RouteTable.Rule> rules = table.rules();
        List<Route> out = new ArrayList<>(rules.size());
        for (RouteTable.Rule r : rules) {
            out.add(route(r.prefix(), r.length(), r.nextHop()));
        }
        return out;
    }

    /** The number of routes. */
    public int size() {
        return table.size();
    }

    /** Bytes of this replica's arrays (lookup structure, rules, next hops), headers aside. */
    public long bytes() {
        return table.bytes() + nextHops.bytes();
    }

    /** The lookup structure (for its statistics: groups in use, bytes). */
    public RouteTable table() {
        return table;
    }

    private Route route(int prefix, int length, int nh) {
        return new Route(prefix, length, nextHops.ifIndex(nh), nextHops.gateway(nh), nextHops.kind(nh));
    }
}
