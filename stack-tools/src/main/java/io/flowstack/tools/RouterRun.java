package io.flowstack.tools;

import io.flowstack.core.FlowStack;
import io.flowstack.core.config.StackConfig;
import io.flowstack.nic.Nic;
import io.flowstack.tools.stats.RouteControl;
import java.util.List;

/**
 * Where {@code stack router} meets the core: starts one stack forwarding between the interfaces
 * that {@link RouterCommand} opened, with the connected routes of the interfaces' subnets and
 * the static and default routes of the {@link RouterSpec}, and hands back what the command
 * needs to run it (services listen on the stack, {@code stack stats} reads it, {@code stack
 * route} changes its routes through {@link RouteControl}).
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
     * Starts forwarding between {@code nics}, opened in the order of {@code spec.interfaces()}
     * (the same index), with {@code base} the stack settings every interface shares (cores,
     * threads, TCP, MTU; the first interface's address and MAC). The routes for the control
     * socket are a {@link RouterRoutes} over {@code spec}'s interfaces and routes, whose
     * {@link RouterRoutes.Replicas} change every core's table by message.
     *
     * @throws UserError while the core has no multi-interface stack (issue 12): nothing is started
     */
    static Router start(RouterSpec spec, List<Nic> nics, StackConfig.Builder base) {
        if (nics.size() != spec.interfaces().size()) {
            throw new IllegalStateException(nics.size() + " devices for " + spec.interfaces().size() + " interfaces");
        }
        throw new UserError("router forwarding is not built yet: the stack runs on one interface only "
                + "(issue 12); use stack endpoint meanwhile");
    }
}
