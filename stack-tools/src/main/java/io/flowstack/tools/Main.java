package io.flowstack.tools;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * The {@code stack} command line. Run through the {@code ./stack} launcher, which finds a JDK,
 * builds on demand and passes the JVM flags FFM and Agrona need.
 *
 * <p>Exit codes: {@value #OK} success, {@value #FAILURE} a step or the stack failed,
 * {@value #USAGE} a usage or environment error (bad flag or value, missing privilege or tool,
 * a device the kernel refused). Errors are one line, {@code stack <command>: <message>}.
 */
@Command(
        name = "stack",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        header = "flowstack: a per-core userspace TCP/IP stack for the JVM.",
        synopsisSubcommandLabel = "COMMAND",
        subcommands = {EndpointCommand.class, RouterCommand.class, DemoCommand.class,
                io.flowstack.tools.bench.BenchCommand.class, PingCommand.class, ReplayCommand.class,
                StatsCommand.class, RouteCommand.class, RebalanceCommand.class,
                io.flowstack.tools.scale.ScaleCommand.class},
        footerHeading = "%nMore:%n",
        footer = {
            "  test       Runs every test (mvn verify); handled by the ./stack launcher.",
            "",
            "Every command has --help with examples. Exit codes: 0 ok, 1 failure, 2 usage",
            "or environment error (bad flag, missing device, address in use, missing root",
            "or CAP_NET_ADMIN, missing tool); 130 after Ctrl-C (ping: 0 or 1, as ping).",
            "Errors are one line: stack COMMAND: what is wrong and what to do.",
            "",
            "Examples:",
            "  sudo ./stack demo",
            "  sudo ./stack endpoint --tap fs0 --addr 198.18.0.2/24 --serve http:80",
            "  sudo ./stack router --if tap:r0=198.18.1.1/24 --if tap:r1=198.18.2.1/24",
            "  sudo ./stack ping --tap fs0 --addr 198.18.0.2/24 -c 5 198.18.0.1",
            "  ./stack replay fs0.pcap --addr 198.18.0.2/24",
            "  ./stack test"
        })
public final class Main implements Callable<Integer> {
    public static final int OK = 0;
    public static final int FAILURE = 1;
    public static final int USAGE = 2;

    @Spec
    CommandSpec spec;

    /** Without a command: print the usage to stderr and fail with {@value #USAGE}. */
    @Override
    public Integer call() {
        CommandLine cl = spec.commandLine();
        cl.getErr().println("stack: a command is required");
        cl.getErr().print(cl.getUsageMessage(cl.getColorScheme()));
        cl.getErr().flush();
        return USAGE;
    }

    public static void main(String[] args) {
        int code = commandLine(
                new PrintWriter(System.out, true, StandardCharsets.UTF_8),
                new PrintWriter(System.err, true, StandardCharsets.UTF_8))
                .execute(args);
        System.exit(code);
    }

    /** The configured command line (used by {@link #main} and by tests with their own writers). */
    public static CommandLine commandLine(PrintWriter out, PrintWriter err) {
        CommandLine cl = new CommandLine(new Main());
        cl.setOut(out);
        cl.setErr(err);
        cl.setUsageHelpAutoWidth(true);
        cl.setParameterExceptionHandler(Main::onParameterError);
        cl.setExecutionExceptionHandler(Main::onExecutionError);
        RouterCommand.hideEndpointOptions(cl.getSubcommands().get("router"));
        return cl;
    }

    /**
     * A bad flag or value: one line saying what is wrong (with picocli's "did you mean" when it
     * has one), one line pointing to {@code --help}. Not the whole usage.
     */
    static int onParameterError(ParameterException e, String[] args) {
        CommandLine cl = e.getCommandLine();
        PrintWriter err = cl.getErr();
        String name = cl.getCommandSpec().qualifiedName();
        // picocli reports a missing required option before an unknown one; the unknown one
        // (often a typo of the missing one) is the more useful message
        if (!(e instanceof UnmatchedArgumentException) && cl.getParseResult() != null
                && !cl.getParseResult().unmatched().isEmpty()) {
            e = new UnmatchedArgumentException(cl, cl.getParseResult().unmatched());
        }
        String message = e instanceof UnmatchedArgumentException u ? unmatched(u) : oneLine(e.getMessage());
        err.println(name + ": " + message);
        err.println("Try '" + name + " --help' for more information.");
        err.flush();
        return USAGE;
    }

    /**
     * An unknown option, an unknown command or an argument too many, and picocli's suggestions.
     */
    private static String unmatched(UnmatchedArgumentException u) {
        CommandSpec spec = u.getCommandLine().getCommandSpec();
        List<String> args = u.getUnmatched();
        String first = args.isEmpty() ? "" : args.get(0);
        String message;
        if (first.isEmpty() || first.startsWith("-")) {
            message = oneLine(u.getMessage());
        } else if (!spec.subcommands().isEmpty()) {
            message = "'" + first + "' is not a command: use one of " + String.join(", ", spec.subcommands().keySet());
        } else {
            List<String> labels = spec.positionalParameters().stream().map(p -> p.paramLabel()).toList();
            message = "unexpected argument '" + first + "': " + spec.qualifiedName() + " takes "
                    + (labels.isEmpty() ? "only options" : "options and " + String.join(" ", labels));
        }
        List<String> suggestions = u.getSuggestions();
        if (!suggestions.isEmpty()) {
            message += " (did you mean " + String.join(" or ", suggestions) + "?)";
        }
        return message;
    }

    /**
     * An exception from a command: usage, environment and stack errors become one line (see
     * {@link ErrorText}: what is wrong and what to do) and their exit code; anything else is a
     * bug, reported with its stack trace and {@value #FAILURE}.
     */
    static int onExecutionError(Exception e, CommandLine cl, CommandLine.ParseResult parsed) {
        PrintWriter err = cl.getErr();
        String name = cl.getCommandSpec().qualifiedName();
        ErrorText.Problem p = ErrorText.of(e);
        if (p != null) {
            err.println(name + ": " + p.line());
            err.flush();
            return p.exitCode();
        }
        err.println(name + ": internal error (a bug, please report it with this trace): " + e);
        e.printStackTrace(err);
        err.flush();
        return FAILURE;
    }

    static String oneLine(String s) {
        return ErrorText.oneLine(s);
    }

    /** The project version, from the Maven metadata inside the flowstack-core jar. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = null;
            try (InputStream in = Main.class.getResourceAsStream("/META-INF/maven/io.flowstack/flowstack-core/pom.properties")) {
                if (in != null) {
                    Properties p = new Properties();
                    p.load(in);
                    v = p.getProperty("version");
                }
            } catch (IOException e) {
                // fall through: unknown
            }
            return new String[] {"flowstack " + (v != null ? v : "(version unknown)")
                    + ", Java " + Runtime.version() + " (" + System.getProperty("java.vm.vendor") + ")"};
        }
    }
}
