package io.flowstack.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.flowstack.core.socket.StackException;
import io.flowstack.nativeio.Errno;
import io.flowstack.nativeio.NativeException;
import io.flowstack.tools.bench.BenchException;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;

/**
 * Issue 5, point 6 without root: every command's {@code --help} has an Examples section whose
 * lines fit 80 columns and whose {@code ./stack ...} lines parse and pass the command's own
 * checks ({@link ValidatedCommand}) without running; every wrong flag or value is one line
 * naming it, the {@code --help} hint and exit 2, never a stack trace. The commands are read from
 * {@link Main}, so a new command is covered without editing this test. (Device, busy-address,
 * privilege and Ctrl-C cases need root: CliErrorsKernelTest in the tests module.)
 */
class HelpAndUsageErrorsTest {
    private static final int WIDTH = 80;

    private record Run(int code, String out, String err) {
        List<String> errLines() {
            return err.isEmpty() ? List.of() : List.of(err.split("\\R"));
        }
    }

    private static CommandLine commandLine(StringWriter out, StringWriter err) {
        CommandLine cl = Main.commandLine(new PrintWriter(out, true), new PrintWriter(err, true));
        cl.setUsageHelpAutoWidth(false); // as on a terminal of 80 columns, or in a pipe
        cl.setUsageHelpWidth(WIDTH);
        return cl;
    }

    /** Runs the command line; picocli's own warnings (System.err) must stay empty. */
    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        PrintStream saved = System.err;
        ByteArrayOutputStream warnings = new ByteArrayOutputStream();
        int code;
        try {
            System.setErr(new PrintStream(warnings, true));
            code = commandLine(out, err).execute(args);
        } finally {
            System.setErr(saved);
        }
        assertEquals("", warnings.toString(), "picocli warnings (an unescaped % in a help text?)");
        return new Run(code, out.toString(), err.toString());
    }

    static Stream<String> commands() {
        return Main.commandLine(new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()))
                .getSubcommands().keySet().stream();
    }

    // ------------------------------------------------------------------ help and its examples

    @ParameterizedTest
    @MethodSource("commands")
    void helpHasExamplesThatFitAndParse(String command) {
        Run r = run(command, "--help");
        assertEquals(Main.OK, r.code, r.err);
        assertEquals("", r.err);
        assertTrue(r.out.contains("Usage: stack " + command + " "), r.out);
        List<String> examples = examples(r.out);
        assertTrue(examples.stream().anyMatch(e -> e.startsWith(command + " ") || e.equals(command)),
                () -> "no './stack " + command + "' example:\n" + r.out);
        assertFooterFits(command);
        for (String example : examples) {
            assertExampleParses(example);
        }
    }

    @Test
    void topLevelHelpExamplesFitAndParse() {
        Run r = run("--help");
        assertEquals(Main.OK, r.code, r.err);
        List<String> examples = examples(r.out);
        assertTrue(examples.size() >= 3, r.out);
        assertFooterFits(null);
        for (String example : examples) {
            if (!example.equals("test") && !example.startsWith("test ")) { // the launcher's, not picocli's
                assertExampleParses(example);
            }
        }
    }

    /**
     * Every example line of the footer (indented: commands and their comments), as written, is
     * one line of the help at 80 columns: picocli wraps a longer one, and an example broken in
     * the middle, or a comment whose end lands on a line of its own, cannot be pasted into a shell.
     */
    private static void assertFooterFits(String command) {
        CommandLine cl = commandLine(new StringWriter(), new StringWriter());
        CommandLine c = command == null ? cl : cl.getSubcommands().get(command);
        List<String> rendered = List.of(c.getUsageMessage().split("\\R"));
        for (String raw : c.getCommandSpec().usageMessage().footer()) {
            String line = raw.replace("%%", "%").replace("%n", "").stripTrailing();
            if (!line.startsWith("  ")) {
                continue; // prose: wrapping it changes nothing
            }
            assertTrue(rendered.contains(line), () -> "wrapped at " + WIDTH + " columns (" + line.length()
                    + " characters): '" + line + "'");
        }
    }

    /**
     * The {@code ./stack} command lines of a help's Examples section, without "./stack": a line
     * ending in a backslash continues on the next; a comment, a pipe, {@code &&} or a trailing
     * {@code &} ends the command.
     */
    static List<String> examples(String help) {
        int at = help.indexOf("\nExamples:\n");
        assertTrue(at >= 0, () -> "no Examples section:\n" + help);
        List<String> lines = new ArrayList<>(List.of(help.substring(at + "\nExamples:\n".length()).split("\\R")));
        List<String> out = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            while (line.endsWith("\\") && i + 1 < lines.size()) {
                line = line.substring(0, line.length() - 1).strip() + " " + lines.get(++i).strip();
            }
            int s = line.indexOf("./stack ");
            if (s < 0 || line.startsWith("#")) {
                continue;
            }
            String cmd = line.substring(s + "./stack ".length());
            for (String end : new String[] {" #", " | ", " && ", " ; "}) {
                int e = cmd.indexOf(end);
                if (e >= 0) {
                    cmd = cmd.substring(0, e);
                }
            }
            cmd = cmd.strip();
            if (cmd.endsWith(" &")) {
                cmd = cmd.substring(0, cmd.length() - 2).strip();
            }
            out.add(cmd);
        }
        return out;
    }

    /** Parses an example as the shell would split it (quotes) and runs the command's checks. */
    static void assertExampleParses(String example) {
        String[] args = shellWords(example);
        CommandLine cl = commandLine(new StringWriter(), new StringWriter());
        CommandLine.ParseResult parsed;
        try {
            parsed = cl.parseArgs(args);
        } catch (CommandLine.ParameterException e) {
            fail("example './stack " + example + "' does not parse: " + e.getMessage());
            return;
        }
        CommandLine.ParseResult sub = parsed.subcommand();
        assertNotNull(sub, () -> "example './stack " + example + "' names no command");
        assertFalse(sub.isUsageHelpRequested() || sub.isVersionHelpRequested(), example);
        if (sub.commandSpec().userObject() instanceof ValidatedCommand v) {
            try {
                v.validate();
            } catch (CommandLine.ParameterException e) {
                fail("example './stack " + example + "' is refused: " + e.getMessage());
            }
        }
    }

    /** Splits on blanks outside single or double quotes, as sh does for these examples. */
    static String[] shellWords(String text) {
        List<String> words = new ArrayList<>();
        StringBuilder w = new StringBuilder();
        boolean inWord = false;
        char quote = 0;
        for (char c : text.toCharArray()) {
            if (quote != 0) {
                if (c == quote) {
                    quote = 0;
                } else {
                    w.append(c);
                }
            } else if (c == '\'' || c == '"') {
                quote = c;
                inWord = true;
            } else if (Character.isWhitespace(c)) {
                if (inWord) {
                    words.add(w.toString());
                    w.setLength(0);
                    inWord = false;
                }
            } else {
                w.append(c);
                inWord = true;
            }
        }
        assertEquals(0, quote, () -> "unbalanced quote in '" + text + "'");
        if (inWord) {
            words.add(w.toString());
        }
        return words.toArray(String[]::new);
    }

    @Test
    void exampleExtractionJoinsContinuationsAndCutsShellSyntax() {
        String help = "Usage: x\n\nExamples:\n  # a comment with ./stack in it is no example\n"
                + "  sudo ./stack endpoint --tap fs0 \\\n       --serve http:80   # serves\n"
                + "  sudo ./stack stats --json | jq '.a'\n  sudo ./stack endpoint --tap fs0 &\n"
                + "  sudo ip netns exec lab ./stack ping --tap fs0 198.18.0.1 && echo ok\n";
        assertEquals(List.of("endpoint --tap fs0 --serve http:80", "stats --json",
                "endpoint --tap fs0", "ping --tap fs0 198.18.0.1"), examples(help));
        assertEquals(List.of("a", "b c", "d"), Arrays.asList(shellWords("a 'b c'  \"d\"")));
    }

    // ------------------------------------------------------------------ wrong flags and values

    /**
     * Wrong flags and values of every command not already covered by MainTest, BenchCommandTest,
     * PingReplayPcapCliTest, ScaleCommandTest and StatsTest: exit 2, one line naming the command
     * and the problem, the --help hint, nothing on stdout, no trace.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "endpoint --tap fs0 --addr 198.18.0.2/24 --cores abc           | stack endpoint | --cores",
        "endpoint --tap a-name-much-too-long --addr 198.18.0.2/24       | stack endpoint | longer than 15 characters",
        "endpoint --tap a/b --addr 198.18.0.2/24                        | stack endpoint | invalid character",
        "endpoint --packet eth:0 --addr 198.18.0.2/24                   | stack endpoint | --packet",
        "endpoint --tap fs0 --addr 198.18.0.2/24 --name a/b             | stack endpoint | --name 'a/b'",
        "endpoint --tap fs0 --addr 300.1.1.1/24                         | stack endpoint | each part must be 0..255",
        "endpoint --tap fs0 --addr 198.18.0.2/24 extra                  | stack endpoint | unexpected argument 'extra'",
        "demo --bogus                                                   | stack demo     | Unknown option: '--bogus'",
        "demo extra                                                     | stack demo     | unexpected argument 'extra'",
        "bench -s --kernel --port abc                                   | stack bench    | --port",
        "bench -s --tap a:b --addr 198.18.0.2/24                        | stack bench    | invalid character",
        "bench -c 198.18.0.1 --tap fs0 --addr 300.1.1.1/24              | stack bench    | --addr",
        "bench -s --kernel extra                                        | stack bench    | unexpected argument 'extra'",
        "ping --tap fs0 --addr 198.18.0.2/24 --cores 0 198.18.0.1       | stack ping     | --cores must be 1..64",
        "ping --tap fs0 --addr 300.1.1.1/24 198.18.0.1                  | stack ping     | --addr",
        "ping --tap fs0 --addr 198.18.0.2/24 --mtu 100 198.18.0.1       | stack ping     | --mtu must be 576..65535",
        "ping --tap 0123456789abcdef --addr 198.18.0.2/24 198.18.0.1    | stack ping     | --tap",
        "ping --tap fs0 --addr 198.18.0.2/24 198.18.0.1 198.18.0.3      | stack ping     | unexpected argument '198.18.0.3'",
        "ping --tap fs0 --addr 198.18.0.2/24 --bogus 198.18.0.1         | stack ping     | Unknown option: '--bogus'",
        "replay x.pcap --addr 198.18.0.2/24 --settle soon               | stack replay   | --settle",
        "replay x.pcap --addr 300.1.1.1/24                              | stack replay   | --addr",
        "replay x.pcap y.pcap --addr 198.18.0.2/24                      | stack replay   | unexpected argument 'y.pcap'",
        "replay x.pcap --addr 198.18.0.2/24 --mtu 100                   | stack replay   | --mtu must be 576..65535",
        "replay x.pcap --addr 198.18.0.2/24 --no-offload                | stack replay   | Unknown option: '--no-offload'",
        "bench -c 198.18.0.1 --kernel --no-offload                      | stack bench    | --no-offload",
        "stats --watch soon                                             | stack stats    | --watch",
        "stats --name a/b                                               | stack stats    | --name 'a/b'",
        "stats --json --prometheus                                      | stack stats    | mutually exclusive",
        "stats extra                                                    | stack stats    | unexpected argument 'extra'",
        "scale --duration soon                                          | stack scale    | --duration",
        "scale --repeat 0                                               | stack scale    | --repeat must be 1..100",
        "scale --bogus                                                  | stack scale    | Unknown option: '--bogus'",
        "router --if tap:r0=198.18.1.1/24                               | stack router   | a router needs two or more interfaces, got 1",
        "router --if veth:r0=198.18.1.1/24 --if tap:r1=198.18.2.1/24    | stack router   | the kind must be tap",
        "router --if tap:r0 --if tap:r1=198.18.2.1/24                   | stack router   | has no address: write tap:r0=A.B.C.D/LEN",
        "router --if tap:r0=198.18.1.1/24 --if tap:r1=198.18.1.2/24     | stack router   | have overlapping subnets",
        "router --if tap:r0=198.18.1.1/24 --if packet:r0=198.18.2.1/24  | stack router   | the device r0 is given twice",
        "router --if tap:r0=198.18.1.1/24 --if tap:r1=198.18.2.1/24 --route 198.18.9.0/24 via 198.18.7.3 | stack router   | the gateway is on no interface's subnet",
        "router --if tap:r0=198.18.1.1/24 --if tap:r1=198.18.2.1/24 --route 198.18.9.1/24 via 198.18.2.3 | stack router   | the network address, 198.18.9.0/24",
        "router --if tap:r0=198.18.1.1/24 --if tap:r1=198.18.2.1/24 --route 198.18.9.0/24 198.18.2.3 | stack router   | is not a route: write PREFIX via GW",
        "router --if tap:r0=198.18.1.1/24 --if tap:r1=198.18.2.1/24 --route default via 198.18.2.1 | stack router   | the gateway is the router's own address on r1",
        "router --if tap:r0=198.18.1.1/24 --if tap:r1=198.18.2.1/24 --route default via 198.18.2.3 --route default via 198.18.2.4 | stack router   | --route default is given twice",
        "router --if tap:r0=198.18.1.1/24 --if tap:r1=198.18.2.1/24 --gateway 198.18.1.5 | stack router   | is --route default via GW",
        "router --if tap:r0=198.18.1.1/24 --if tap:r1=198.18.2.1/24 --cores 0 | stack router   | --cores must be 1..64",
        "router --if tap:r0=198.18.1.1/24 --if tap:r1=198.18.2.1/24 --name a/b | stack router   | --name 'a/b'",
        "route                                                          | stack route    | a subcommand is required: add, del or show",
        "route flush                                                    | stack route    | is not a command: use one of add, del, show",
        "route add 198.18.9.0/24 by 198.18.2.3                          | stack route add | where 'via' goes",
        "route add 198.18.9.0/24 via                                    | stack route add | Missing required parameter: 'GW'",
        "route add 198.18.9.0/24 via 300.1.1.1                          | stack route add | each part must be 0..255",
        "route del 198.18.9.1/24                                        | stack route del | has host bits set",
        "route show extra                                               | stack route show | unexpected argument 'extra'",
        "route show --name a/b                                          | stack route show | --name 'a/b'",
        "bnech                                                          | stack          | 'bnech' is not a command",
        "--bogus                                                        | stack          | Unknown option: '--bogus'",
    })
    void wrongFlagOrValueIsOneLineAndExit2(String args, String command, String says) {
        Run r = run(args.strip().split("\\s+"));
        assertEquals(Main.USAGE, r.code, r.err);
        assertEquals("", r.out);
        List<String> lines = r.errLines();
        assertEquals(2, lines.size(), () -> "one error line and the --help hint:\n" + r.err);
        assertTrue(lines.get(0).startsWith(command + ": ") && lines.get(0).contains(says), lines.get(0));
        assertEquals("Try '" + command + " --help' for more information.", lines.get(1));
        assertFalse(r.err.contains("Exception") || r.err.contains("\tat "), r.err);
    }

    @Test
    void anUnknownCommandNamesTheCommandsAndTheClosestOne() {
        Run r = run("bnech");
        assertEquals("stack: 'bnech' is not a command: use one of " + String.join(", ", commands().toList())
                + " (did you mean bench?)", r.errLines().get(0));
    }

    // ------------------------------------------------------------------ what the kernel refused

    @Test
    void errnoFailuresSayWhatToDo() {
        String tun = ErrorText.nativeMessage(new NativeException("open", NativeException.TUN_DEVICE, Errno.EACCES));
        assertEquals("cannot open /dev/net/tun (open: EACCES): TAP devices need root or CAP_NET_ADMIN: run it with sudo",
                tun);
        assertTrue(ErrorText.nativeMessage(new NativeException("open", NativeException.TUN_DEVICE, Errno.ENOENT))
                .contains("modprobe tun"));
        assertEquals("cannot open TAP fs0 (TUNSETIFF: EBUSY): another process has it open (a single-queue TAP takes "
                + "one): stop that process or choose another --tap name",
                ErrorText.nativeMessage(new NativeException("TUNSETIFF", "fs0", Errno.EBUSY)));
        assertTrue(ErrorText.nativeMessage(new NativeException("TUNSETIFF", "fsnone0", Errno.EPERM))
                .endsWith("needs root or CAP_NET_ADMIN: run it with sudo"));
        // lo is never a TAP (sysfs tells so when it shows this namespace; the message is general if not)
        String lo = ErrorText.nativeMessage(new NativeException("TUNSETIFF", "lo", Errno.EINVAL));
        assertTrue(lo.startsWith("cannot open TAP lo (TUNSETIFF: EINVAL): ") && lo.endsWith("choose another --tap name"),
                lo);
        assertEquals("AF_PACKET sockets need root or CAP_NET_RAW (socket: EPERM): run it with sudo",
                ErrorText.nativeMessage(new NativeException("socket", "AF_PACKET", Errno.EPERM)));
        assertEquals(new NativeException("SIOCGIFMTU", "x", Errno.ENODEV).getMessage(),
                ErrorText.nativeMessage(new NativeException("SIOCGIFMTU", "x", Errno.ENODEV)), "no advice: as it was");
    }

    @Test
    void exceptionsMapToOneLineAndTheirExitCode() {
        assertEquals(new ErrorText.Problem(Main.USAGE, "needs root; run it with sudo"),
                ErrorText.of(new UserError("needs root\nrun it with sudo")));
        assertEquals(Main.USAGE, ErrorText.of(new IllegalArgumentException("bad")).exitCode());
        assertEquals(Main.USAGE, ErrorText.of(new NativeException("TUNSETIFF", "x", Errno.EBUSY)).exitCode());
        assertEquals(Main.USAGE, ErrorText.of(new BenchException("port in use", true)).exitCode());
        assertEquals(Main.FAILURE, ErrorText.of(new BenchException("no server", false)).exitCode());
        assertEquals(Main.FAILURE, ErrorText.of(new StackException("no running instance")).exitCode());
        assertNull(ErrorText.of(new IllegalStateException("a bug")), "a bug keeps its stack trace");
        assertNull(ErrorText.of(new NullPointerException()));
    }
}
