package io.flowstack.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.FlowStack;
import io.flowstack.core.config.StackConfig;
import io.flowstack.core.socket.IcmpEchoSocket;
import io.flowstack.core.stats.Stat;
import io.flowstack.core.wire.Icmp;
import io.flowstack.core.wire.Ipv4;
import io.flowstack.nic.MemoryWire;
import io.flowstack.nic.Nic;
import io.flowstack.tools.stats.ControlServer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Issue 12 points 1-2 without root: what {@code stack router --if tap:ra=198.18.1.1/24 --if
 * tap:rb=198.18.2.1/24 --cores 2 --route 198.18.9.0/24 via 198.18.2.2} starts, through the
 * command's own parsing and {@link RouterRun}, on two {@link MemoryWire}s instead of TAPs, with
 * a flowstack host on each (A 198.18.1.2, B 198.18.2.2): A pings B through it (one hop) and
 * both router addresses; the {@code --route} is in the cores' table; and {@code stack route}
 * over the control socket lists, removes and adds routes on it, every core (an echo to
 * 198.18.9.9 is net unreachable from either core once its route is removed).
 */
@Timeout(120)
class RouterRunTest {
    static final int A = Ipv4.parse("198.18.1.2");
    static final int R1 = Ipv4.parse("198.18.1.1");
    static final int R2 = Ipv4.parse("198.18.2.1");
    static final int B = Ipv4.parse("198.18.2.2");
    static final int FAR = Ipv4.parse("198.18.9.9");

    @TempDir
    Path dir;

    private record Run(int code, String out, String err) {
    }

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.commandLine(new PrintWriter(out, true), new PrintWriter(err, true)).execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    private static FlowStack host(int addr, int gateway, Nic nic) {
        return FlowStack.start(StackConfig.builder().cores(2).address(addr).prefixLength(24).gateway(gateway)
                .mac(Macs.fromAddress(addr)).pinThreads(false).build(), nic);
    }

    @Test
    void theRouterTheCommandDescribesForwardsAndTakesRouteChanges() throws Exception {
        CommandLine cl = Main.commandLine(new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()));
        RouterCommand cmd = (RouterCommand) cl.parseArgs("router", "--if", "tap:ra=198.18.1.1/24", "--if",
                "tap:rb=198.18.2.1/24", "--cores", "2", "--no-pin", "--route", "198.18.9.0/24", "via", "198.18.2.2")
                .subcommand().commandSpec().userObject();
        cmd.validate();
        RouterSpec spec = cmd.routerSpec();
        StackConfig.Builder base = cmd.stackOptions.builder(spec.interfaces().get(0).address());
        cmd.threadOptions.apply(base, spec.cores());
        MemoryWire left = MemoryWire.create(2, 4 << 20);
        MemoryWire right = MemoryWire.create(2, 4 << 20).steeredBy(left.rssKey()); // one key for the topology
        RouterRun.Router router = RouterRun.start(spec, List.<Nic>of(left.b(), right.a()), base);
        router.stack().openReceive();
        FlowStack r = router.stack();
        Path sock = dir.resolve("ra.sock");
        try (FlowStack a = host(A, R1, left.a()); FlowStack b = host(B, R2, right.b());
             ControlServer control = ControlServer.start(r, sock, "ra"); IcmpEchoSocket ping = a.icmpEchoOpen()) {
            control.routeControl(router.routes());
            String report = "\nrouter:\n" + r.countersReport();
            IcmpEchoSocket.Reply reply = new IcmpEchoSocket.Reply();
            int seq = 0;
            for (int dst : new int[] {R1, R2, B}) {
                assertTrue(ping.send(dst, ++seq, 56));
                assertTrue(ping.receive(reply, 5, TimeUnit.SECONDS), () -> "no reply from " + Ipv4.toString(dst) + report);
                assertTrue(reply.isReply);
                assertEquals(dst, reply.from);
                assertEquals(dst == B ? 63 : 64, reply.ttl, "one router hop on the way back from B");
            }
            assertTrue(r.total(Stat.FWD_OUT) >= 2, r::countersReport);

            // the --route is in the cores' table (core 0's listed)
            Run show = run("route", "show", "--socket", sock.toString());
            assertEquals(new Run(Main.OK, """
                    prefix         via         interface  kind
                    198.18.1.0/24  -           ra         connected
                    198.18.2.0/24  -           rb         connected
                    198.18.9.0/24  198.18.2.2  rb         static
                    """, ""), show, "the interfaces named by their devices, the --route static");
            Run again = run("route", "add", "198.18.9.0/24", "via", "198.18.1.2", "--socket", sock.toString());
            assertEquals(Main.FAILURE, again.code);
            assertTrue(again.err.endsWith("answered: 198.18.9.0/24 is already routed via 198.18.2.2: del it first\n"),
                    again.err);
            assertEquals(new Run(Main.OK, "deleted 198.18.9.0/24 via 198.18.2.2\n", ""),
                    run("route", "del", "198.18.9.0/24", "--socket", sock.toString()));

            // unrouted on every core: two echoes with different ids may hash to either
            for (int i = 0; i < 2; i++) {
                try (IcmpEchoSocket p = a.icmpEchoOpen()) {
                    assertTrue(p.send(FAR, 1, 8));
                    assertTrue(p.receive(reply, 5, TimeUnit.SECONDS), r::countersReport);
                    assertFalse(reply.isReply);
                    assertEquals(Icmp.DEST_UNREACHABLE, reply.type);
                    assertEquals(Icmp.CODE_NET_UNREACHABLE, reply.code);
                }
            }
            assertEquals(new Run(Main.OK, "added default via 198.18.1.2 on ra\n", ""),
                    run("route", "add", "default", "via", "198.18.1.2", "--socket", sock.toString()));
            assertTrue(run("route", "show", "--socket", sock.toString()).out.endsWith(
                    "\ndefault        198.18.1.2  ra         static\n"));
            assertEquals(0, r.total(Stat.HOP_OUT), "forwarding hands no frame between the router's cores");
        } finally {
            r.close();
            left.close();
            right.close();
        }
    }
}
