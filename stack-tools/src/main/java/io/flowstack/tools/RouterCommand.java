package io.flowstack.tools;

import io.flowstack.core.FlowStack;
import io.flowstack.core.config.StackConfig;
import io.flowstack.core.wire.Ethernet;
import io.flowstack.nic.Nic;
import io.flowstack.nic.packet.PacketNic;
import io.flowstack.nic.pcap.PcapNic;
import io.flowstack.nic.pcap.PcapSpec;
import io.flowstack.nic.xdp.XdpNic;
import io.flowstack.tools.stats.ControlServer;
import io.flowstack.tools.stats.RouteControl;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Stack;
import java.util.StringJoiner;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.IParameterConsumer;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code stack router}: runs the stack as an IPv4 router between two or more interfaces (TAPs
 * and existing interfaces through AF_PACKET, in any mix) until SIGINT/SIGTERM; then stops
 * everything and prints the per-core counters. The options become a {@link RouterSpec}
 * (checked there), the devices are opened here, and {@link RouterRun} starts the forwarding.
 *
 * <p>Owned by: the main thread (picocli runs it there); the shutdown hook stops it.
 */
@Command(
        name = "router",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        header = "Runs the stack as an IPv4 router between two or more interfaces until Ctrl-C.",
        description = {
            "Forwards IPv4 between the interfaces given with --if (RFC 1812): each one a TAP device "
                    + "(tap:NAME, created if missing, one queue per core) or an existing, up interface through "
                    + "AF_PACKET (packet:IFNAME, one socket per core, as endpoint --packet) or AF_XDP (xdp:IFNAME, "
                    + "an XDP program and one AF_XDP socket per core and receive queue), with the router's "
                    + "address and prefix length on it. Each core forwards the flows that hash to it, from its "
                    + "queue of the incoming interface to its queue of the outgoing one.",
            "",
            "Routes: the subnet of each interface (connected), the --route options, and routes added "
                    + "or removed at run time with 'stack route'. Its own addresses answer ARP and ping, and "
                    + "the --serve services listen on them. Each interface takes the MAC 02:00 followed by "
                    + "its address's four octets. The kernel side of each TAP is yours to configure. "
                    + "Ctrl-C or SIGTERM stops it cleanly and prints its counters. Needs root or "
                    + "CAP_NET_ADMIN (CAP_NET_RAW for packet:, CAP_BPF and CAP_NET_ADMIN for xdp:).",
            ""
        },
        sortOptions = false,
        footerHeading = "%nExamples:%n",
        footer = {
            "  # a router between TAPs r0 and r1, each then moved to a host's namespace:",
            "  sudo ./stack router --if tap:r0=198.18.1.1/24 --if tap:r1=198.18.2.1/24 &",
            "  sudo ip netns add a && sudo ip link set r0 netns a",
            "  sudo ip -n a addr add 198.18.1.2/24 dev r0 && sudo ip -n a link set r0 up",
            "  sudo ip -n a route add default via 198.18.1.1   # the same for r1 in b",
            "",
            "  # a TAP and a veth through AF_PACKET, 2 cores, a static and a default route:",
            "  sudo ./stack router --if tap:r0=198.18.1.1/24 \\",
            "       --if packet:veth0=198.18.2.1/24 --cores 2 \\",
            "       --route 198.18.9.0/24 via 198.18.2.3 \\",
            "       --route default via 198.18.2.254",
            "",
            "  # its routes at run time, and its counters:",
            "  sudo ./stack route add 198.18.10.0/24 via 198.18.2.3 --name r0",
            "  sudo ./stack route show --name r0",
            "  sudo ./stack stats --name r0",
            "",
            "Exit codes: 0 ok, 1 failure, 2 usage or environment error (bad flag, missing",
            "device or privilege, instance name in use); 130 after Ctrl-C (counters printed)."
        })
final class RouterCommand implements Callable<Integer>, ValidatedCommand {

    @Spec
    CommandSpec spec;

    @Option(names = "--if", paramLabel = "KIND:NAME=A.B.C.D/LEN", converter = RouterSpec.InterfaceConverter.class,
            description = "An interface and the router's address on it; two or more. tap:NAME: a TAP device, created "
                    + "if missing (1-15 characters); packet:IFNAME: an existing, up interface through AF_PACKET; "
                    + "xdp:IFNAME: one through AF_XDP (driver mode if the driver has it, else generic). "
                    + "The subnets must not overlap.")
    List<RouterSpec.Interface> interfaces = new ArrayList<>();

    @Option(names = "--route", paramLabel = "PREFIX via GW", parameterConsumer = RouteConsumer.class,
            description = "A static route, repeatable: PREFIX is the network and its length (198.18.9.0/24) or "
                    + "'default'; GW, the next router, on one of the interfaces' subnets.")
    List<RouterSpec.Route> routes = new ArrayList<>();

    @Mixin
    ControlOptions controlOptions = new ControlOptions();

    @Mixin
    StackOptions stackOptions = new StackOptions();

    @Mixin
    ThreadOptions threadOptions = new ThreadOptions();

    @Mixin
    OffloadOption offloadOption = new OffloadOption();

    @Mixin
    XdpModeOption xdpMode = new XdpModeOption();

    @Option(names = "--serve", paramLabel = "SPEC", converter = ServiceSpec.Converter.class,
            description = "A service listening on the router's addresses; repeatable, as for endpoint: echo:PORT, "
                    + "discard:PORT, chargen:PORT, http:PORT, metrics:PORT[,allow=PREFIX]...[,max-connections=N][,timeout=5s]"
                    + "[,cache=1s], udp-echo:PORT.")
    List<ServiceSpec> serve = new ArrayList<>();

    @Option(names = "--pcap", paramLabel = "FILE",
            description = "Write every frame of each interface, received and sent, in pcap format to FILE with the "
                    + "device's name before the extension (cap.pcap: cap-r0.pcap, cap-r1.pcap). Implies "
                    + "--no-offload (frames as the stack makes them).")
    Path pcap;

    @Option(names = "--name", paramLabel = "NAME",
            description = "Instance name for 'stack stats' and 'stack route': the control socket is "
                    + "/run/flowstack/NAME.sock ($FLOWSTACK_RUN_DIR/NAME.sock if set). Default: the first "
                    + "interface's device name.")
    String name;

    private volatile FlowStack stack;
    private final List<String> packetReports = new ArrayList<>();
    /** The AF_XDP interfaces, for their counters in {@code stack stats}. */
    private final List<XdpNic> xdpNics = new ArrayList<>();

    /** The options of the shared {@link StackOptions} that belong to an endpoint, not to a router. */
    static final List<String> ENDPOINT_ONLY = List.of("--gateway", "--mac");

    /**
     * Hides {@link #ENDPOINT_ONLY} from the router's help: they still parse, so that
     * {@link #routerSpec} can say what to use instead, instead of picocli's "unknown option".
     * {@link Main#commandLine} calls it once on the {@code router} command line.
     */
    static void hideEndpointOptions(CommandLine router) {
        CommandSpec spec = router.getCommandSpec();
        for (String name : ENDPOINT_ONLY) {
            OptionSpec shown = spec.findOption(name);
            spec.remove(shown);
            spec.addOption(OptionSpec.builder(shown).hidden(true).build());
        }
    }

    /** The router the options describe; throws ParameterException (exit 2) for the first problem. */
    RouterSpec routerSpec() {
        if (stackOptions.gateway != null) {
            throw new ParameterException(spec.commandLine(), "--gateway is the endpoint's: a router's default route "
                    + "is --route default via GW");
        }
        if (stackOptions.mac != null) {
            throw new ParameterException(spec.commandLine(), "--mac is the endpoint's: each interface of a router "
                    + "takes 02:00 and its address's four octets");
        }
        try {
            return new RouterSpec(interfaces, routes, stackOptions.cores, stackOptions.mtu(), serve, pcap);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
    }

    /** Checks what picocli cannot: relations between options. Throws ParameterException (exit 2). */
    @Override
    public void validate() {
        routerSpec();
        stackOptions.validate(spec.commandLine(), null);
        threadOptions.validate(spec.commandLine());
        if (name != null) {
            try {
                ControlServer.socketFor(name);
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), "--name " + e.getMessage());
            }
        }
    }

    /** The instance name for 'stack stats' and 'stack route': --name, else the first interface's device. */
    String instanceName() {
        return name != null ? name : interfaces.get(0).device();
    }

    @Override
    public Integer call() throws InterruptedException {
        validate();
        RouterSpec router = routerSpec();
        Path control = ControlServer.socketFor(instanceName());
        if (ControlServer.answers(control)) { // before the devices: nothing to undo
            throw controlInUse(control);
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Teardown teardown = ServingCommand.teardown("router", out, err, () -> printCounters(out));
        try {
            List<Nic> nics = new ArrayList<>();
            for (int i = 0; i < router.interfaces().size(); i++) {
                nics.add(open(router, i, teardown, out, err));
            }
            StackConfig.Builder base = stackOptions.builder(router.interfaces().get(0).address());
            threadOptions.apply(base, router.cores());
            RouterRun.Router running = RouterRun.start(router, nics, base);
            FlowStack s = running.stack();
            stack = s;
            teardown.add("stop the router", s::close);
            for (ServiceSpec svc : router.serve()) {
                AutoCloseable service = svc.start(s);
                teardown.add("stop " + svc, service::close);
            }
            s.openReceive(); // only now: a SYN never finds a core without its listener (issue 13 point 3)
            startControl(s, running.routes(), teardown, err);
            out.println(banner(router));
            out.flush();
        } catch (RuntimeException e) {
            teardown.parkIfSignalled(); // a signal during setup: the hook cleans up and reports
            teardown.close();
            throw e;
        }
        new CountDownLatch(1).await(); // until SIGINT/SIGTERM: the shutdown hook stops everything
        return Main.OK;
    }

    /**
     * Opens interface {@code i} (with its capture if asked) and registers its closing; an
     * AF_PACKET interface also reports the kernel's counters once the router stopped.
     */
    private Nic open(RouterSpec router, int i, Teardown teardown, PrintWriter out, PrintWriter err) {
        RouterSpec.Interface iface = router.interfaces().get(i);
        boolean offloads = !offloadOption.noOffload && router.pcap() == null;
        Nic device = switch (iface.kind()) {
            case TAP -> Devices.openTap("router", iface.device(), router.cores(),
                    offloadOption.tapOptions(offloads), stackOptions.rssKey(), err);
            case PACKET -> Devices.openPacket("router", iface.device(), router.cores(), iface.mac(), null, offloads,
                    stackOptions.mtu, stackOptions.rssKey(), err);
            case XDP -> Devices.openXdp("router", iface.device(), router.cores(), iface.mac(), xdpMode.mode(),
                    offloads, stackOptions.mtu, err);
        };
        Nic nic = device;
        Path file = router.pcapFile(i);
        if (file != null) {
            PcapNic pcapNic;
            try {
                pcapNic = PcapNic.wrap(device, PcapSpec.of(file), PcapNic.wallClock());
            } catch (RuntimeException e) {
                device.close();
                throw e;
            }
            nic = pcapNic;
            teardown.add("report the capture of " + iface.device(), () -> {
                out.println("flowstack router: " + iface.device() + ": " + pcapNic.summary());
                out.flush();
            });
        }
        teardown.add("close " + iface.kind().label() + " " + iface.device(), nic::close);
        if (device instanceof PacketNic p) {
            // runs after the router stopped and before the sockets close: the kernel's counters
            teardown.add("read the AF_PACKET counters of " + iface.device(), () -> {
                synchronized (packetReports) {
                    packetReports.add("AF_PACKET queues of " + iface.device() + ":\n" + p.countersReport());
                }
            });
        }
        if (device instanceof XdpNic x) {
            xdpNics.add(x);
            teardown.add("read the AF_XDP counters of " + iface.device(), () -> {
                synchronized (packetReports) {
                    packetReports.add("AF_XDP queues of " + iface.device() + ", " + x.countersReport());
                }
            });
        }
        return nic;
    }

    /**
     * The control socket that {@code stack stats} and {@code stack route} ask, with the routes;
     * another running instance on it is an error, any other failure a warning.
     */
    private void startControl(FlowStack s, RouteControl routes, Teardown teardown, PrintWriter err) {
        String instance = instanceName();
        ControlServer control = ServingCommand.startControl("router", s, routes, instance, controlOptions, teardown,
                err, () -> controlInUse(ControlServer.socketFor(instance)));
        if (control != null && !xdpNics.isEmpty()) {
            List<XdpNic> xdp = List.copyOf(xdpNics);
            control.devices(() -> Devices.xdpCounters(xdp));
        }
    }

    private UserError controlInUse(Path control) {
        return new UserError("another running instance answers on " + control + (name != null
                ? ": stop it or give this one another --name" : " (the --name of a router defaults to its first "
                + "interface's device): stop it or give this one a --name"));
    }

    /** The line printed once the router runs. */
    String banner(RouterSpec router) {
        StringJoiner ifs = new StringJoiner(", ");
        for (RouterSpec.Interface i : router.interfaces()) {
            ifs.add(i.kind().label() + " " + i.device() + " " + i.address() + " mac " + Ethernet.macToString(i.mac()));
        }
        StringBuilder b = new StringBuilder("flowstack router: ").append(ifs);
        if (!router.routes().isEmpty()) {
            b.append(", routes ").append(router.routes().stream().map(RouterSpec.Route::toString)
                    .collect(Collectors.joining(", ")));
        }
        b.append(", cores ").append(router.cores());
        if (router.pcap() != null) {
            StringJoiner files = new StringJoiner(", ");
            for (int i = 0; i < router.interfaces().size(); i++) {
                files.add(router.pcapFile(i).toString());
            }
            b.append(", capturing to ").append(files);
        }
        if (!router.serve().isEmpty()) {
            b.append(", serving ").append(router.serve().stream().map(ServiceSpec::toString)
                    .collect(Collectors.joining(" ")));
        }
        return b.append(" (Ctrl-C to stop)").toString();
    }

    private void printCounters(PrintWriter out) {
        FlowStack s = stack;
        if (s != null) {
            out.println("flowstack router: stopped; per-core counters:");
            out.print(s.countersReport());
        }
        synchronized (packetReports) {
            for (String r : packetReports) {
                out.print(r);
            }
        }
        out.flush();
    }

    /**
     * {@code --route PREFIX via GW}: takes the three words (or one quoted word holding them) and
     * adds the route; anything else is a usage error saying how to write it.
     */
    static final class RouteConsumer implements IParameterConsumer {
        @Override
        public void consumeParameters(Stack<String> args, ArgSpec argSpec, CommandSpec commandSpec) {
            if (args.isEmpty()) {
                throw new ParameterException(commandSpec.commandLine(), "--route wants " + RouterSpec.Route.FORM);
            }
            String prefix = args.pop();
            RouterSpec.Route route;
            try {
                if (prefix.strip().contains(" ")) {
                    route = RouterSpec.Route.parse(prefix);
                } else {
                    String via = !args.isEmpty() && args.peek().equals("via") ? args.pop() : null;
                    String gateway = via != null && !args.isEmpty() ? args.pop() : null;
                    route = RouterSpec.Route.parse(prefix, via, gateway);
                }
            } catch (IllegalArgumentException e) {
                throw new ParameterException(commandSpec.commandLine(), "--route " + e.getMessage());
            }
            List<RouterSpec.Route> list = argSpec.getValue();
            if (list == null) {
                list = new ArrayList<>();
                argSpec.setValue(list);
            }
            list.add(route);
        }
    }
}
