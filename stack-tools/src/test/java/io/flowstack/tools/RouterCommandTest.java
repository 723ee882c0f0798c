package io.flowstack.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.config.StackConfig;
import io.flowstack.core.wire.Ipv4;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * Issue 12 point 1 without root: {@code stack router}'s options become the {@link RouterSpec}
 * they say (the three words of {@code --route PREFIX via GW}, or one quoted string), the shared
 * stack and thread options apply, the endpoint's {@code --gateway} and {@code --mac} are hidden
 * from its help, and the instance is named after the first interface unless {@code --name}.
 * (Wrong values: HelpAndUsageErrorsTest and RouterSpecTest.)
 */
class RouterCommandTest {

    private static RouterCommand parse(String... args) {
        CommandLine cl = Main.commandLine(new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()));
        CommandLine.ParseResult parsed = cl.parseArgs(args);
        RouterCommand r = (RouterCommand) parsed.subcommand().commandSpec().userObject();
        r.validate();
        return r;
    }

    @Test
    void theOptionsBecomeTheRouterSpec() {
        RouterCommand r = parse("router", "--if", "tap:r0=198.18.1.1/24", "--if", "packet:veth0=198.18.2.1/24",
                "--route", "198.18.9.0/24", "via", "198.18.2.3", "--cores", "2", "--route", "default via 198.18.1.254",
                "--route=198.18.10.0/23", "via", "198.18.2.4", "--serve", "http:80", "--mtu", "1400", "--pcap", "cap.pcap");
        RouterSpec s = r.routerSpec();
        assertEquals(List.of(RouterSpec.Interface.parse("tap:r0=198.18.1.1/24"),
                RouterSpec.Interface.parse("packet:veth0=198.18.2.1/24")), s.interfaces());
        assertEquals(List.of(RouterSpec.Route.parse("198.18.9.0/24 via 198.18.2.3"),
                RouterSpec.Route.parse("default via 198.18.1.254"),
                RouterSpec.Route.parse("198.18.10.0/23 via 198.18.2.4")), s.routes());
        assertEquals(2, s.cores());
        assertEquals(1400, s.mtu());
        assertEquals(List.of(ServiceSpec.parse("http:80")), s.serve());
        assertEquals(Path.of("cap.pcap"), s.pcap());
        assertEquals("r0", r.instanceName(), "named after the first interface");
        assertEquals("flowstack router: tap r0 198.18.1.1/24 mac 02:00:c6:12:01:01, packet veth0 198.18.2.1/24 mac "
                + "02:00:c6:12:02:01, routes 198.18.9.0/24 via 198.18.2.3, default via 198.18.1.254, 198.18.10.0/23 via "
                + "198.18.2.4, cores 2, capturing to cap-r0.pcap, cap-veth0.pcap, serving http:80 (Ctrl-C to stop)", r.banner(s));
    }

    @Test
    void theSharedStackAndThreadOptionsApply() {
        RouterCommand r = parse("router", "--if", "tap:a=198.18.1.1/24", "--if", "tap:b=198.18.2.1/24", "--cores", "1",
                "--cc", "newreno", "--busy-poll", "--no-pin", "--no-offload", "--name", "edge");
        assertEquals("edge", r.instanceName());
        assertTrue(r.offloadOption.noOffload);
        StackConfig.Builder b = r.stackOptions.builder(r.routerSpec().interfaces().get(0).address());
        StackConfig c = r.threadOptions.apply(b, 1).build();
        assertEquals(1, c.cores);
        assertEquals("newreno", c.tcpCongestionControl);
        assertTrue(c.busyPoll);
        assertFalse(c.pinThreads);
        assertEquals(Ipv4.parse("198.18.1.1"), c.address);
        assertEquals(0x02_00_c6_12_01_01L, c.mac, "the first interface's MAC");
    }

    @Test
    void theEndpointsGatewayAndMacAreHiddenButExplained() {
        StringWriter out = new StringWriter();
        int code = Main.commandLine(new PrintWriter(out, true), new PrintWriter(new StringWriter())).execute("router", "--help");
        assertEquals(Main.OK, code);
        assertFalse(out.toString().contains("--gateway") || out.toString().contains("--mac"), out.toString());
        assertTrue(out.toString().contains("--route=PREFIX via GW"), out.toString());
        StringWriter err = new StringWriter();
        code = Main.commandLine(new PrintWriter(new StringWriter()), new PrintWriter(err, true)).execute("router", "--if",
                "tap:a=198.18.1.1/24", "--if", "tap:b=198.18.2.1/24", "--mac", "02:00:00:00:00:09");
        assertEquals(Main.USAGE, code);
        assertTrue(err.toString().startsWith("stack router: --mac is the endpoint's: each interface of a router takes "
                + "02:00 and its address's four octets\n"), err.toString());
    }
}
