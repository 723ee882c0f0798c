package io.flowstack.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.nic.packet.FanoutMode;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code stack endpoint --packet IFNAME [--fanout MODE]}: parsing and refusals, without root. */
class EndpointPacketOptionsTest {

    private record Run(int code, String out, String err) {
    }

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.commandLine(new PrintWriter(out, true), new PrintWriter(err, true)).execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    private static EndpointCommand parse(String... args) {
        CommandLine cl = Main.commandLine(new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()));
        return (EndpointCommand) cl.parseArgs(args).subcommand().commandSpec().userObject();
    }

    /** Exit 2, one error line naming the command and the --help hint. */
    private static String usageError(Run r) {
        assertEquals(Main.USAGE, r.code(), r.err());
        String[] lines = r.err().split("\\R");
        assertEquals(2, lines.length, r.err());
        assertTrue(lines[0].startsWith("stack endpoint: "), lines[0]);
        return lines[0];
    }

    @Test
    void packetAndFanoutAreParsed() {
        EndpointCommand e = parse("endpoint", "--packet", "veth0", "--addr", "198.18.0.2/24", "--cores", "2",
                "--fanout", "CPU");
        assertEquals("veth0", e.packet);
        assertNull(e.tap);
        assertEquals(FanoutMode.CPU, e.fanout);
        assertEquals("packet", e.deviceKind());
        assertEquals("flowstack endpoint: packet veth0 198.18.0.2/24 mac 02:00:c6:12:00:02 cores 2, fanout cpu, "
                + "tcp cc cubic, answering ARP and ping (Ctrl-C to stop)", e.banner("veth0", e.config()));
        EndpointCommand d = parse("endpoint", "--packet", "veth0", "--addr", "198.18.0.2/24", "--cores", "1");
        assertEquals("flowstack endpoint: packet veth0 198.18.0.2/24 mac 02:00:c6:12:00:02 cores 1, fanout toeplitz, "
                + "tcp cc cubic, answering ARP and ping (Ctrl-C to stop)", d.banner("veth0", d.config()));
    }

    @Test
    void exactlyOneDevice() {
        String none = usageError(run("endpoint", "--addr", "198.18.0.2/24"));
        assertTrue(none.contains("--tap") && none.contains("--packet"), none);
        String both = usageError(run("endpoint", "--tap", "fs0", "--packet", "veth0", "--addr", "198.18.0.2/24"));
        assertTrue(both.contains("exclude"), both);
    }

    @Test
    void fanoutNeedsPacketAndAKnownMode() {
        String tap = usageError(run("endpoint", "--tap", "fs0", "--fanout", "cpu", "--addr", "198.18.0.2/24"));
        assertTrue(tap.contains("--fanout applies only to --packet"), tap);
        String bad = usageError(run("endpoint", "--packet", "veth0", "--fanout", "magic", "--addr", "198.18.0.2/24"));
        assertTrue(bad.contains("toeplitz, cpu, hash"), bad);
    }

    @Test
    void aMissingInterfaceIsOneLine() {
        Run r = run("endpoint", "--packet", "fsnone0", "--addr", "198.18.0.2/24", "--cores", "1");
        assertEquals(Main.USAGE, r.code(), r.err());
        assertEquals("stack endpoint: no interface fsnone0 in this network namespace (see ip link)", r.err().strip());
    }
}
