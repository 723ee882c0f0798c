package io.flowstack.tools.bench;

import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * The options of {@code bench --compare} (a mixin of {@link BenchCommand}); {@code -t},
 * {@code -O}, {@code --port}, {@code --json}, {@code --blocking} and the stack's options
 * ({@code --cores}, {@code --cc}, ...) are the bench command's own.
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
            description = "--compare: before the measured runs, warm the stack up (its JIT) with a stream each way "
                    + "and an rr run of S seconds each, not counted (default: ${DEFAULT-VALUE}; 0: none).")
    int warmup = DEFAULT_WARMUP;

    @Option(names = "--markdown", paramLabel = "FILE",
            description = "--compare: also write the table as a Markdown section for docs/BENCHMARKS.md (machine, "
                    + "date, command) to FILE (replaced if it exists).")
    Path markdown;

    /** The chosen modes, in the table's order; IllegalArgumentException for an unknown one. */
    List<CompareMode> modes() {
        return modes == null ? List.of(CompareMode.values()) : CompareMode.parse(modes);
    }
}
