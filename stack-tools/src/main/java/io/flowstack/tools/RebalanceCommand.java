package io.flowstack.tools;

import io.flowstack.nic.Toeplitz;
import io.flowstack.tools.stats.ControlClient;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code stack rebalance}: shows the load per core of a running endpoint and moves buckets of
 * its indirection table between cores at run time, established connections included
 * (docs/REBALANCING.md), over the endpoint's control socket.
 *
 * <p>Owned by: the main thread (picocli runs it there).
 */
@Command(
        name = "rebalance",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        header = "Shows the load per core of a running endpoint and moves flows between its cores.",
        description = {
            "Every flow hashes (Toeplitz) to one of the " + Toeplitz.BUCKETS + " buckets of the indirection table, and each "
                    + "bucket belongs to one core. Without options this prints, per core, the buckets it owns, "
                    + "the frames it processed in them and its busiest buckets.",
            "--move gives buckets to a core; --auto samples the frames per bucket for --window ms and moves "
                    + "the buckets that best even the cores out. A bucket's established TCP connections move "
                    + "with it, by message, without losing or reordering a byte.",
            ""
        },
        sortOptions = false,
        footerHeading = "%nExamples:%n",
        footer = {
            "  sudo ./stack rebalance                     # load per core",
            "  sudo ./stack rebalance --name fs0 --move 4,16:1   # buckets 4, 16 to core 1",
            "  sudo ./stack rebalance --auto --window 2000   # measure 2 s, then even out",
            "",
            "Exit codes: 0 ok, 1 no instance answers or a move was refused, 2 usage error."
        })
final class RebalanceCommand implements Callable<Integer>, ValidatedCommand {
    @Spec
    CommandSpec spec;

    @ArgGroup(exclusive = true)
    StatsCommand.Target target;

    @Option(names = "--move", paramLabel = "BUCKETS:CORE",
            description = "Give the buckets (comma-separated, 0.." + (Toeplitz.BUCKETS - 1) + ") to core CORE; repeatable.")
    List<String> moves = new ArrayList<>();

    @Option(names = "--auto", description = "Measure the load per bucket, then move buckets to even the cores out.")
    boolean auto;

    @Option(names = "--window", paramLabel = "MS", defaultValue = "1000",
            description = "With --auto: how long to measure, in milliseconds (100..60000, default ${DEFAULT-VALUE}).")
    long window;

    @Override
    public void validate() {
        if (auto && !moves.isEmpty()) {
            throw new ParameterException(spec.commandLine(), "--auto and --move exclude each other: choose one");
        }
        if (window < 100 || window > 60_000) {
            throw new ParameterException(spec.commandLine(), "--window must be 100..60000 ms, got " + window);
        }
        for (String m : moves) {
            int colon = m.lastIndexOf(':');
            if (colon <= 0 || colon == m.length() - 1 || !m.substring(0, colon).matches("\\d+(,\\d+)*")
                    || !m.substring(colon + 1).matches("\\d+")) {
                throw new ParameterException(spec.commandLine(), "--move wants BUCKETS:CORE, e.g. 4,16:1, got '" + m + "'");
            }
        }
    }

    @Override
    public Integer call() {
        validate();
        List<String> requests = new ArrayList<>();
        for (String m : moves) {
            int colon = m.lastIndexOf(':');
            requests.add("move " + m.substring(colon + 1) + " " + m.substring(0, colon));
        }
        if (auto) {
            requests.add("balance " + window);
        }
        var path = StatsCommand.socket(spec, target);
        PrintWriter out = spec.commandLine().getOut();
        boolean refused = false;
        for (String r : requests) {
            String answer = ControlClient.request(path, r);
            out.print(answer);
            refused |= answer.contains("not moved:");
        }
        out.print(ControlClient.request(path, "load"));
        out.flush();
        return refused ? Main.FAILURE : Main.OK;
    }
}
