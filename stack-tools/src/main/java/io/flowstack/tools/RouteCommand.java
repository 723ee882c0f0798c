package io.flowstack.tools;

import io.flowstack.tools.stats.ControlClient;
import io.flowstack.tools.stats.RouteRequests;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code stack route add|del|show}: changes and lists the routes of a running {@code stack
 * router} over its control socket (the request lines of {@link RouteRequests}); the router
 * updates every core's table by message.
 *
 * <p>Owned by: the main thread (picocli runs it there).
 */
@Command(
        name = "route",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        header = "Adds, removes and lists the routes of a running router.",
        description = {
            "Talks to a running 'stack router' over its control socket (RUNDIR/NAME.sock, as 'stack stats'; "
                    + "NAME is the router's --name, by default its first interface's device). 'add' and 'del' "
                    + "change the route on every core of the router at once; 'show' lists the table: the "
                    + "connected routes of its interfaces, then the static ones (default last).",
            ""
        },
        subcommands = {RouteCommand.Add.class, RouteCommand.Del.class, RouteCommand.Show.class},
        synopsisSubcommandLabel = "(add | del | show)",
        footerHeading = "%nExamples:%n",
        footer = {
            "  sudo ./stack route add 198.18.9.0/24 via 198.18.2.3 --name r0",
            "  sudo ./stack route add default via 198.18.2.254",
            "  sudo ./stack route del 198.18.9.0/24 --name r0",
            "  sudo ./stack route show --name r0",
            "",
            "Without --name or --socket, the only instance in RUNDIR is used.",
            "Exit codes: 0 ok, 1 no router answers or it refused the change (a gateway",
            "on none of its subnets, a prefix already routed, no such route), 2 usage error."
        })
final class RouteCommand implements Callable<Integer>, ValidatedCommand {
    @Spec
    CommandSpec spec;

    /** Without a subcommand: a usage error naming them. */
    @Override
    public Integer call() {
        throw new ParameterException(spec.commandLine(), "a subcommand is required: add, del or show");
    }

    /** Nothing to check without a subcommand (each subcommand checks its own). */
    @Override
    public void validate() {
        // the subcommands parse their arguments with converters
    }

    /** Sends {@code request} to the instance {@code target} names and prints the answer. */
    static int send(CommandSpec spec, StatsCommand.Target target, String request) {
        PrintWriter out = spec.commandLine().getOut();
        out.print(ControlClient.request(StatsCommand.socket(spec, target), request));
        out.flush();
        return Main.OK;
    }

    /** {@code stack route add PREFIX via GW}. */
    @Command(name = "add", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
            header = "Adds a route to a running router: PREFIX via GW.",
            description = "PREFIX is the network and its length (198.18.9.0/24) or 'default'; GW, the next router, "
                    + "must be on one of the router's subnets. A prefix already routed is refused: del it first.")
    static final class Add implements Callable<Integer>, ValidatedCommand {
        @Spec
        CommandSpec spec;

        @ArgGroup(exclusive = true)
        StatsCommand.Target target;

        @Parameters(index = "0", paramLabel = "PREFIX", converter = RoutePrefix.Converter.class,
                description = "The destinations: A.B.C.D/LEN (the network address) or default.")
        RoutePrefix prefix;

        @Parameters(index = "1", paramLabel = "via", description = "The word 'via'.")
        String via;

        @Parameters(index = "2", paramLabel = "GW", converter = Ipv4Prefix.HostConverter.class,
                description = "The gateway, A.B.C.D.")
        Integer gateway;

        /** The middle word must be {@code via}, as in ip route. */
        @Override
        public void validate() {
            if (!via.equals("via")) {
                throw new ParameterException(spec.commandLine(), "write PREFIX via GW, e.g. 198.18.9.0/24 via 198.18.2.3"
                        + ", got '" + via + "' where 'via' goes");
            }
        }

        @Override
        public Integer call() {
            validate();
            return send(spec, target, RouteRequests.add(prefix, gateway));
        }
    }

    /** {@code stack route del PREFIX}. */
    @Command(name = "del", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
            header = "Removes a static route of a running router.")
    static final class Del implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @ArgGroup(exclusive = true)
        StatsCommand.Target target;

        @Parameters(index = "0", paramLabel = "PREFIX", converter = RoutePrefix.Converter.class,
                description = "The route's prefix, as it was added: A.B.C.D/LEN or default.")
        RoutePrefix prefix;

        @Override
        public Integer call() {
            return send(spec, target, RouteRequests.del(prefix));
        }
    }

    /** {@code stack route show}. */
    @Command(name = "show", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
            header = "Lists the routes of a running router: prefix, via, interface, kind.")
    static final class Show implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @ArgGroup(exclusive = true)
        StatsCommand.Target target;

        @Override
        public Integer call() {
            return send(spec, target, RouteRequests.show());
        }
    }
}
