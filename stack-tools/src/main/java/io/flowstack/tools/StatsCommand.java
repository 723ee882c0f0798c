package io.flowstack.tools;

import io.flowstack.core.socket.StackException;
import io.flowstack.core.stats.ConnectionQuery;
import io.flowstack.tools.stats.ControlClient;
import io.flowstack.tools.stats.ControlServer;
import java.io.Console;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code stack stats}: asks a running {@code stack endpoint} for its state over the endpoint's
 * control socket ({@link ControlServer}) and prints it: per-core counters, the TCP connection
 * table, the ARP and route tables; or one JSON object with {@code --json}; repeatedly with
 * {@code --watch}.
 *
 * <p>Owned by: the main thread (picocli runs it there).
 */
@Command(
        name = "stats",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        header = "Shows the counters, connections, ARP and route tables of a running endpoint.",
        description = {
            "Connects to the control socket of a running 'stack endpoint' (an AF_UNIX socket, "
                    + "RUNDIR/NAME.sock, where RUNDIR is /run/flowstack or $FLOWSTACK_RUN_DIR and NAME the "
                    + "endpoint's --name, by default its TAP or interface name) and prints:",
            "  - every non-zero counter per core and in total, like netstat -s (segments, retransmits, "
                    + "drops by reason, frames handed between cores, ...),",
            "  - the TCP connections counted by state and core, and the listening ports; with --connections "
                    + "(or a filter: --state, --sport, --dport, --port) the connections themselves like ss -tni: state, "
                    + "local and peer address, owning core, rtt/rttvar, rto, mss, cwnd, ssthresh, window, bytes and "
                    + "retransmits, at most --limit of them (1000 by default),",
            "  - the ARP table (the cores' replicas merged) and the routes (connected subnet, default gateway).",
            "",
            "The endpoint reads each core on that core's own thread, by message; nothing is locked.",
            "Without --name or --socket, the only instance in RUNDIR is used.",
            ""
        },
        sortOptions = false,
        footerHeading = "%nExamples:%n",
        footer = {
            "  sudo ./stack endpoint --tap fs0 --addr 198.18.0.2/24 --serve http:80 &",
            "  sudo ./stack stats                       # the only running instance",
            "  sudo ./stack stats --name fs0            # the instance on TAP fs0",
            "  sudo ./stack stats --connections         # and the first 1000 connections",
            "  sudo ./stack stats --state established --sport 80 --limit 50",
            "  sudo ./stack stats --state time-wait --json | jq .connections_summary",
            "  sudo ./stack stats --watch               # refresh every 2 s until Ctrl-C",
            "  sudo ./stack stats --watch 0.5 --count 20",
            "  sudo ./stack stats --json | jq '.counters.tcp_retransmits.total'",
            "  sudo ./stack stats --socket /run/flowstack/fs0.sock --prometheus",
            "",
            "Exit codes: 0 ok, 1 no instance answers (socket missing, connection",
            "refused) or it stopped during --watch, 2 usage error, 130 after Ctrl-C."
        })
final class StatsCommand implements Callable<Integer>, ValidatedCommand {

    @Spec
    CommandSpec spec;

    @ArgGroup(exclusive = true)
    Target target;

    /** Which instance: by name or by socket path. */
    static final class Target {
        @Option(names = "--name", paramLabel = "NAME",
                description = "The instance name (its --name; by default an endpoint's TAP or interface, a router's "
                        + "first interface).")
        String name;

        @Option(names = "--socket", paramLabel = "PATH", description = "The control socket's path.")
        Path socket;
    }

    @ArgGroup(exclusive = true)
    Format format;

    /** Output format other than text. */
    static final class Format {
        @Option(names = "--json", description = "One JSON object (one line) per report, every counter included.")
        boolean json;

        @Option(names = "--prometheus", description = "The counters in the Prometheus text format (as --serve metrics:PORT).")
        boolean prometheus;
    }

    @Option(names = {"-c", "--connections"},
            description = "List the TCP connections like ss -tni (at most --limit). Without it, and without a filter, "
                    + "the report only counts them by state and core: cheap with a million connections.")
    boolean connections;

    @Option(names = "--state", paramLabel = "STATE",
            description = "Only connections in STATE, as ss names them: established, syn-sent, syn-recv, fin-wait-1, "
                    + "fin-wait-2, close-wait, closing, last-ack, time-wait, closed. Lists them.")
    String state;

    @Option(names = "--sport", paramLabel = "PORT", description = "Only connections whose local port is PORT (ss's sport). Lists them.")
    Integer sport;

    @Option(names = "--dport", paramLabel = "PORT", description = "Only connections whose peer's port is PORT (ss's dport). Lists them.")
    Integer dport;

    @Option(names = "--port", paramLabel = "PORT", description = "Only connections with PORT at either end. Lists them.")
    Integer port;

    @Option(names = "--limit", paramLabel = "N",
            description = "List at most N connections (default 1000, at most 1000000); "
                    + "the count of all that match is printed above the list.")
    Integer limit;

    @Option(names = "--watch", paramLabel = "SEC", arity = "0..1", fallbackValue = "2",
            description = "Refresh every SEC seconds (default 2, at least 0.1) until Ctrl-C or --count; on a terminal "
                    + "the screen is redrawn, otherwise reports follow each other.")
    Double watch;

    @Option(names = "--count", paramLabel = "N",
            description = "With --watch: stop after N reports.")
    Integer count;

    @Override
    public void validate() {
        if (watch != null && (!(watch >= 0.1) || watch > 86_400)) {
            throw new ParameterException(spec.commandLine(), "--watch must be 0.1..86400 seconds, got " + watch);
        }
        if (count != null && watch == null) {
            throw new ParameterException(spec.commandLine(), "--count needs --watch");
        }
        if (count != null && count < 1) {
            throw new ParameterException(spec.commandLine(), "--count must be at least 1, got " + count);
        }
        if (target != null && target.name != null) {
            socket(); // a usage error for a bad --name
        }
        boolean list = connections || state != null || sport != null || dport != null || port != null || limit != null;
        if (list && format != null && format.prometheus) {
            throw new ParameterException(spec.commandLine(), "--prometheus has no connection list: "
                    + "--connections, --state, --sport, --dport, --port and --limit go with the text or --json report");
        }
        if (state != null) {
            try {
                ConnectionQuery.stateNamed(state);
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), "--state: " + e.getMessage());
            }
        }
        checkPort("--sport", sport);
        checkPort("--dport", dport);
        checkPort("--port", port);
        if (limit != null && (limit < 1 || limit > ControlServer.MAX_LIMIT)) {
            throw new ParameterException(spec.commandLine(), "--limit must be 1.." + ControlServer.MAX_LIMIT + ", got " + limit);
        }
    }

    private void checkPort(String option, Integer p) {
        if (p != null && (p < 0 || p > 65535)) {
            throw new ParameterException(spec.commandLine(), option + " must be 0..65535, got " + p);
        }
    }

    /** The request line: the format, then what to list (ControlServer.query). */
    String request() {
        StringBuilder r = new StringBuilder(format == null ? "text" : format.json ? "json" : format.prometheus ? "prometheus" : "text");
        if (connections) {
            r.append(" connections");
        }
        if (state != null) {
            r.append(" state=").append(ConnectionQuery.stateNamed(state));
        }
        if (sport != null) {
            r.append(" sport=").append(sport);
        }
        if (dport != null) {
            r.append(" dport=").append(dport);
        }
        if (port != null) {
            r.append(" port=").append(port);
        }
        if (limit != null) {
            r.append(" limit=").append(limit);
        }
        return r.toString();
    }

    @Override
    public Integer call() throws InterruptedException {
        validate();
        Path path = socket();
        String request = request();
        String kind = request.split(" ")[0];
        PrintWriter out = spec.commandLine().getOut();
        if (watch == null) {
            out.print(ControlClient.request(path, request));
            out.flush();
            return Main.OK;
        }
        Console console = System.console();
        boolean tty = console != null && console.isTerminal();
        long intervalNanos = Math.round(watch * 1e9);
        long next = System.nanoTime();
        for (int i = 0; count == null || i < count; i++) {
            String report = ControlClient.request(path, request);
            if (tty && kind.equals("text")) {
                out.print("\033[H\033[2J"); // home, clear
                out.printf("every %s s, Ctrl-C to stop%n", watch);
            } else if (i > 0 && !kind.equals("json")) {
                out.println();
            }
            out.print(report);
            out.flush();
            if (count != null && i + 1 == count) {
                break;
            }
            next += intervalNanos;
            long wait = next - System.nanoTime();
            if (wait > 0) {
                Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
            } else {
                next = System.nanoTime(); // the report took longer than the interval: no burst to catch up
            }
        }
        return Main.OK;
    }

    /** The control socket the options name, or the only one in the run directory. */
    Path socket() {
        return socket(spec, target);
    }

    /** The control socket {@code target} names, or the only one in the run directory (also for stack rebalance). */
    static Path socket(CommandSpec spec, Target target) {
        if (target != null && target.socket != null) {
            return target.socket;
        }
        if (target != null && target.name != null) {
            try {
                return ControlServer.socketFor(target.name);
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), "--name " + e.getMessage());
            }
        }
        Path dir = ControlServer.runDir();
        List<String> names = ControlClient.instances(dir);
        if (names.isEmpty()) {
            throw new StackException("no running instance: no control socket in " + dir
                    + " (start one with: stack endpoint --tap NAME ... or stack router --if ...; or give --socket PATH)");
        }
        if (names.size() > 1) {
            throw new StackException("several instances in " + dir + ": " + String.join(", ", names)
                    + "; choose one with --name NAME");
        }
        return ControlServer.socketFor(names.get(0));
    }
}
