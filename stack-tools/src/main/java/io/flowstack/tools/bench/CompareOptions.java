package io.flowstack.tools.bench;

import io.flowstack.tools.OffloadOption;
import io.flowstack.tools.StackOptions;
import io.flowstack.tools.ThreadOptions;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * The options of {@code bench --compare} (a mixin of {@link BenchCommand}), their checks and
 * the start of the run; {@code -t}, {@code -O}, {@code --port}, {@code --json},
 * {@code --blocking} and the stack's options ({@code --cores}, {@code --cc}, ...) are the bench
 * command's own, handed in.
 *
 * <p>Owned by: the thread that parses the command line and runs the command.
 */
public final class CompareOptions {
    /** Seconds per client run without {@code -t}. */
    public static final int DEFAULT_SECONDS = 3;

    /** Seconds of each warm-up run without {@code --warmup}. */
    public static final int DEFAULT_WARMUP = 1;

    /** The bench options that {@code --compare} sets itself, and so refuses. */
    static final String[] NOT_WITH_COMPARE = {"--server", "--client", "--kernel", "--tap", "--addr", "--bind",
        "--rr", "--crr", "--reverse", "--parallel", "--bytes", "--transactions", "--connections", "--length",
        "--interval", "--json-file", "--gateway", "--mtu"};

    /** The options that only {@code --compare} takes. */
    static final String[] ONLY_WITH_COMPARE = {"--packet", "--modes", "--markdown", "--warmup"};

    @Option(names = "--compare",
            description = "As root: build both topologies (the stack on a TAP; two kernel namespaces over a veth), run "
                    + "the same kernel client modes against each and print a table of figures and stack/kernel "
                    + "ratios. Removes everything it made on every exit.")
    boolean compare;

    @Option(names = "--packet",
            description = "--compare: run the stack on AF_PACKET over a veth instead of a TAP.")
    boolean packet;

    @Option(names = "--modes", paramLabel = "LIST",
            description = "--compare: the runs, comma-separated, from: stream-1, stream-4, reverse-1, reverse-4, "
                    + "rr-1, rr-64-16k, crr (default: all).")
    String modes;

    @Option(names = "--warmup", paramLabel = "S",
            description = "--compare: before the measured runs, warm the stack up (its JIT) with a stream each way, "
                    + "an rr run and a run of every other mode measured, S seconds each, not counted (default: "
                    + "${DEFAULT-VALUE}; 0: none).")
    int warmup = DEFAULT_WARMUP;

    @Option(names = "--markdown", paramLabel = "FILE",
            description = "--compare: also write the table as a Markdown section for docs/BENCHMARKS.md (machine, "
                    + "date, command) to FILE (replaced if it exists).")
    Path markdown;

    /** The chosen modes, in the table's order; IllegalArgumentException for an unknown one. */
    List<CompareMode> modes() {
        return modes == null ? List.of(CompareMode.values()) : CompareMode.parse(modes);
    }

    /**
     * Checks the options against {@code --compare}: without it, refuses the options that only it
     * takes and returns false (the bench command checks the rest); with it, refuses the bench
     * options it sets itself, checks the others and returns true. ParameterException: exit 2.
     */
    boolean validate(CommandLine cl, StackOptions stack, ThreadOptions threads, int port, Duration duration, int omit) {
        CommandLine.ParseResult parsed = cl.getParseResult();
        if (!compare) {
            for (String o : ONLY_WITH_COMPARE) {
                if (parsed != null && parsed.hasMatchedOption(o)) {
                    throw new ParameterException(cl, o + " is for --compare");
                }
            }
            return false;
        }
        for (String o : NOT_WITH_COMPARE) {
            if (parsed != null && parsed.hasMatchedOption(o)) {
                throw new ParameterException(cl, o + " is not for --compare: it builds both topologies and runs every "
                        + "mode itself");
            }
        }
        stack.validate(cl, CompareRunner.stackAddress());
        threads.validate(cl);
        if (port < 1 || port > 65535) {
            throw new ParameterException(cl, "--port must be 1..65535, got " + port);
        }
        if (omit < 0 || duration != null && omit >= duration.toSeconds()) {
            throw new ParameterException(cl, "--omit must be >= 0 and shorter than --duration");
        }
        if (duration == null && omit >= DEFAULT_SECONDS) {
            throw new ParameterException(cl, "--omit must be shorter than the " + DEFAULT_SECONDS + " s of a run: give -t too");
        }
        if (warmup < 0 || warmup > 60) {
            throw new ParameterException(cl, "--warmup must be 0..60 seconds, got " + warmup);
        }
        try {
            modes();
        } catch (IllegalArgumentException e) {
            throw new ParameterException(cl, e.getMessage());
        }
        return true;
    }

    /** Runs the comparison with the bench command's options; its exit code. */
    int run(CommandLine cl, StackOptions stack, ThreadOptions threads, OffloadOption offload, boolean blocking, int port,
            Duration duration, int omit, boolean json) {
        List<String> args = cl.getParseResult().originalArgs();
        String command = "./stack " + (args.isEmpty() || !args.get(0).equals("bench") ? "bench " : "")
                + String.join(" ", args);
        return new CompareRunner(new CompareRunner.Settings(modes(), packet, stack.cores,
                stack.config(CompareRunner.stackAddress(), threads), blocking,
                duration != null ? duration : Duration.ofSeconds(DEFAULT_SECONDS), omit, Duration.ofSeconds(warmup),
                port, json, markdown, command, offload.tapOptions()), cl.getOut(), cl.getErr()).run();
    }
}
