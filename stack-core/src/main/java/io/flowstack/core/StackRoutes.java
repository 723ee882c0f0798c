package io.flowstack.core;

import io.flowstack.core.config.Interfaces;
import io.flowstack.core.config.RouterConfig;
import io.flowstack.core.config.StackConfig;
import io.flowstack.core.route.Route;
import io.flowstack.core.socket.StackException;
import io.flowstack.core.stats.RouteInfo;
import io.flowstack.core.wire.Ipv4;
import io.flowstack.nic.Nic;
import java.util.ArrayList;
import java.util.List;

/**
 * A stack's interfaces and route table seen from outside the cores: every core has its own
 * replica of the table (RFC 1812 5.2.4.3 lookups on the data path touch nothing shared), so a
 * route added or removed at run time reaches each replica as a command that the core applies
 * itself, and {@link #add} returns once all have.
 *
 * <p>Owned by: the stack; any thread may call it (each call runs on the cores by message).
 */
public final class StackRoutes {
    private final FlowStack stack;

    StackRoutes(FlowStack stack) {
        this.stack = stack;
    }

    /**
     * The interface table of a stack over {@code nics}: each NIC has one queue per core and an MTU
     * the stack can run (RFC 791: 576..65,535; a device with more is used up to 65,535).
     *
     * @throws IllegalArgumentException if the NICs and interfaces disagree, a queue count differs
     *     from the cores, an MTU is out of range, or two subnets overlap
     */
    static Interfaces interfaces(StackConfig config, List<? extends Nic> nics, RouterConfig router) {
        if (nics.size() != 1 + router.interfaces().size()) {
            throw new IllegalArgumentException((1 + router.interfaces().size()) + " interfaces configured but "
                    + nics.size() + " NICs given");
        }
        int[] mtus = new int[nics.size()];
        List<String> names = new ArrayList<>();
        for (int i = 0; i < mtus.length; i++) {
            Nic c = nics.get(i);
            if (c.queueCount() != config.cores) {
                throw new IllegalArgumentException("NIC " + c.name() + " has " + c.queueCount()
                        + " queues but the stack runs " + config.cores + " cores: open one queue per core");
            }
            int mtu = config.mtu > 0 ? config.mtu : Math.min(c.mtu(), FlowStack.MAX_MTU);
            if (mtu < FlowStack.MIN_MTU || mtu > FlowStack.MAX_MTU) {
                throw new IllegalArgumentException("MTU must be " + FlowStack.MIN_MTU + ".." + FlowStack.MAX_MTU
                        + ", got " + mtu + (nics.size() > 1 ? " on " + c.name() : ""));
            }
            mtus[i] = mtu;
            names.add(c.name());
        }
        return new Interfaces(config, router, names, mtus);
    }

    /**
     * Adds the static route {@code prefix/length} via {@code gateway} on every core, or replaces
     * the one of that prefix and length (RFC 1812 5.2.4: the gateway is on a connected network).
     *
     * @param prefix the destination network (big-endian int, host bits zero)
     * @param length its prefix length, 0..32 (0: the default route)
     * @param gateway the next hop, on one of the interfaces' subnets
     * @return whether it replaced a route
     * @throws IllegalArgumentException if the prefix has host bits set, the length is not 0..32,
     *     the gateway is on no interface's subnet or is one of ours, or the prefix is a connected
     *     network's (those go with their interface)
     * @throws StackException if a core did not take it (closed, queue full, timed out)
     */
    public boolean add(int prefix, int length, int gateway) {
        check(prefix, length);
        Interfaces ifs = stack.interfaces();
        if (ifs.connected(gateway) < 0 || ifs.localIndex(gateway) >= 0) {
            throw new IllegalArgumentException("gateway " + Ipv4.toString(gateway)
                    + (ifs.connected(gateway) < 0 ? " is on no interface's subnet" : " is one of our own addresses"));
        }
        boolean replaced = false;
        for (int c = 0; c < stack.cores(); c++) {
            replaced |= stack.call(c, n -> n.ip().addRoute(prefix, length, gateway));
        }
        return replaced;
    }

    /**
     * Removes the static route {@code prefix/length} from every core.
     *
     * @param prefix the destination network
     * @param length its prefix length
     * @return whether there was one
     * @throws IllegalArgumentException for a bad prefix or length, or a connected network's route
     * @throws StackException if a core did not answer
     */
    public boolean remove(int prefix, int length) {
        check(prefix, length);
        boolean had = false;
        for (int c = 0; c < stack.cores(); c++) {
            had |= stack.call(c, n -> n.ip().fib().remove(prefix, length));
        }
        return had;
    }

    /**
     * The routes, sorted by prefix then length, as core 0's replica has them (every replica has
     * the same once {@link #add} or {@link #remove} returned).
     *
     * @return a copy
     */
    public List<RouteInfo> list() {
        Interfaces ifs = stack.interfaces();
        List<Route> routes = stack.call(0, n -> n.ip().fib().routes());
        List<RouteInfo> out = new ArrayList<>(routes.size());
        for (Route r : routes) {
            out.add(new RouteInfo(r.prefix(), r.length(), r.gateway(), ifs.name(r.ifIndex()), r.kind().toString()));
        }
        return out;
    }

    private void check(int prefix, int length) {
        if (length < 0 || length > 32) {
            throw new IllegalArgumentException("prefix length must be 0..32, got " + length);
        }
        if ((prefix & ~Ipv4.mask(length)) != 0) {
            throw new IllegalArgumentException(Ipv4.toString(prefix) + "/" + length + " has host bits set: "
                    + Ipv4.toString(prefix & Ipv4.mask(length)) + "/" + length + " is the network");
        }
        Interfaces ifs = stack.interfaces();
        for (int i = 0; i < ifs.count(); i++) {
            if (length == ifs.prefixLength(i) && prefix == (ifs.address(i) & ifs.netmask(i))) {
                throw new IllegalArgumentException(Ipv4.toString(prefix) + "/" + length
                        + " is the connected network of " + ifs.name(i) + ": it goes with its interface");
            }
        }
    }
}
