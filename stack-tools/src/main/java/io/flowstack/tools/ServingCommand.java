package io.flowstack.tools;

import io.flowstack.core.FlowStack;
import io.flowstack.tools.stats.ControlServer;
import io.flowstack.tools.stats.RouteControl;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.function.Supplier;

/**
 * What {@code stack endpoint} and {@code stack router} share while they run a stack until
 * Ctrl-C: the teardown that says "stopping" and prints the counters on a signal, and the control
 * socket that {@code stack stats} (and, for a router, {@code stack route}) asks.
 *
 * <p>Stateless; called by the command's thread.
 */
final class ServingCommand {
    private ServingCommand() {
    }

    /**
     * The command's teardown: on SIGINT/SIGTERM it prints "flowstack COMMAND: stopping", undoes
     * every step, then runs {@code printCounters}.
     *
     * @param command {@code endpoint} or {@code router}
     */
    static Teardown teardown(String command, PrintWriter out, PrintWriter err, Runnable printCounters) {
        return new Teardown(command, err,
                () -> {
                    out.println();
                    out.println("flowstack " + command + ": stopping");
                    out.flush();
                },
                printCounters);
    }

    /**
     * Starts the control socket RUNDIR/INSTANCE.sock for {@code s} (with {@code routes} for a
     * router, null for an endpoint) and registers its removal. Another running instance on it is
     * an error ({@code inUse}); any other failure to create it is a warning on {@code err}, not a
     * reason to stop.
     *
     * @return the running server, or null if it could not be created (the warning was given)
     */
    static ControlServer startControl(String command, FlowStack s, RouteControl routes, String instance,
                                      ControlOptions access, Teardown teardown, PrintWriter err,
                                      Supplier<UserError> inUse) {
        Path path = ControlServer.socketFor(instance);
        try {
            ControlServer control = ControlServer.start(s, path, instance, access.access());
            if (routes != null) {
                control.routeControl(routes);
            }
            teardown.add("remove the control socket " + control.path(), control::close);
            return control;
        } catch (ControlServer.InUseException e) {
            throw inUse.get();
        } catch (RuntimeException e) {
            err.println("stack " + command + ": warning: no control socket, 'stack stats'"
                    + (routes != null ? " and 'stack route' will" : " will") + " not reach this instance: "
                    + Main.oneLine(e.getMessage()));
            err.flush();
            return null;
        }
    }
}
