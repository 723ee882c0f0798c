package io.flowstack.tools;

import io.flowstack.core.FlowStack;
import io.flowstack.core.config.InterfaceConfig;
import io.flowstack.core.config.RouterConfig;
import io.flowstack.core.config.StackConfig;
import io.flowstack.core.config.StaticRoute;
import io.flowstack.nic.Nic;
import io.flowstack.tools.stats.RouteControl;
import java.util.ArrayList;
import java.util.List;

/**
 * Where {@code stack router} meets the core: starts one stack forwarding between the interfaces
 * that {@link RouterCommand} opened (RFC 1812), with the connected routes of the interfaces'
 * subnets and the static and default routes of the {@link RouterSpec}, and hands back what the
 * command needs to run it (services listen on the stack, {@code stack stats} reads it,
 * {@code stack route} changes its routes through {@link RouteControl}).
 *
 * <p>Owned by: nobody (stateless; called once by the command's thread).
 */
final class RouterRun {
    private RouterRun() {
    }

    /**
     * A running router.
     *
     * @param stack  the stack (its close stops forwarding and every netisr)
     * @param routes the run-time route table, for the control socket
     */
    record Router(FlowStack stack, RouteControl routes) {
    }

    /**
     * The core's configuration of the interfaces after the first (the first is {@code base}'s)
     * and of the static routes, with forwarding on.
     */
    static RouterConfig routerConfig(RouterSpec spec) {
        List<InterfaceConfig> more = new ArrayList<>();
        for (RouterSpec.Interface i : spec.interfaces().subList(1, spec.interfaces().size())) {
            more.add(new InterfaceConfig(i.mac(), i.address().address(), i.address().prefixLength()));
        }
        List<StaticRoute> routes = new ArrayList<>();
        for (RouterSpec.Route r : spec.routes()) {
            routes.add(new StaticRoute(r.prefix().network(), r.prefix().length(), r.gateway()));
        }
        return new RouterConfig(more, routes, true);
    }

    /**
     * Starts forwarding between {@code nics}, opened in the order of {@code spec.interfaces()}
     * (the same index), with {@code base} the stack settings every interface shares (cores,
     * threads, TCP, MTU) and the first interface's address and MAC. The routes for the control
     * socket are a {@link RouterRoutes} over the stack's {@link FlowStack#routes()}.
     *
     * @throws IllegalArgumentException if the core refuses the interfaces (queues, MTU)
     */
    static Router start(RouterSpec spec, List<Nic> nics, StackConfig.Builder base) {
        if (nics.size() != spec.interfaces().size()) {
            throw new IllegalStateException(nics.size() + " devices for " + spec.interfaces().size() + " interfaces");
        }
        FlowStack stack = FlowStack.startHeld(base.build(), nics, routerConfig(spec)); // the caller opens receive
        return new Router(stack, new RouterRoutes(spec.interfaces(), RouterRoutes.Replicas.of(stack, spec.interfaces())));
    }
}
