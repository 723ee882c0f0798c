package io.flowstack.tools;

import io.flowstack.core.FlowStack;
import io.flowstack.core.config.StackConfig;
import io.flowstack.core.wire.Ethernet;
import io.flowstack.core.wire.Ipv4;
import io.flowstack.nic.Nic;
import io.flowstack.nic.TapNic;
import io.flowstack.nic.impair.ImpairedNic;
import io.flowstack.nic.impair.ImpairmentSpec;
import io.flowstack.nic.packet.FanoutMode;
import io.flowstack.nic.packet.PacketNic;
import io.flowstack.nic.xdp.XdpNic;
import io.flowstack.nic.pcap.PcapNic;
import io.flowstack.nic.pcap.PcapSpec;
import io.flowstack.tools.stats.ControlServer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

/**
 * {@code stack endpoint}: runs one stack on a TAP device (or, with {@code --packet} or
 * {@code --xdp}, on an interface through AF_PACKET or AF_XDP) with the services asked for, until
 * SIGINT/SIGTERM; then stops everything and prints the per-core counters.
 */
@Command(
        name = "endpoint",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        header = "Runs the stack as an endpoint on a TAP device (or AF_PACKET) until Ctrl-C.",
        description = {
            "Attaches to the TAP device NAME (one queue per core; created if it does not exist), "
                    + "answers ARP and ping, reassembles and fragments IPv4, speaks TCP and runs the --serve "
                    + "services, with one netisr thread per core. With --packet IFNAME it uses the existing "
                    + "interface IFNAME instead: one AF_PACKET socket per core (TPACKET_V2 rings, fanout), "
                    + "promiscuous unless --mac is the interface's own MAC. With --xdp IFNAME, through AF_XDP: "
                    + "an XDP program and one AF_XDP socket per core and receive queue.",
            "",
            "The kernel side of the TAP (addresses, link up, network namespace) is yours to configure. "
                    + "Ctrl-C or SIGTERM stops the stack cleanly and prints its per-core counters. "
                    + "Needs root or CAP_NET_ADMIN.",
            ""
        },
        sortOptions = false,
        footerHeading = "%nExamples:%n",
        footer = {
            "  # a stack on tap fs0 serving HTTP and echo, then configure the kernel side:",
            "  sudo ./stack endpoint --tap fs0 --addr 198.18.0.2/24 \\",
            "       --serve http:80 --serve echo:7",
            "  sudo ip addr add 198.18.0.1/24 dev fs0 && sudo ip link set fs0 up",
            "  curl -o /dev/null http://198.18.0.2/bytes/100000000",
            "",
            "  # every service, NewReno, 1%% loss and 2 ms delay on the frames received:",
            "  sudo ./stack endpoint --tap fs0 --addr 198.18.0.2/24 --serve echo:7 \\",
            "       --serve discard:9 --serve chargen:19 --serve http:80 \\",
            "       --serve udp-echo:7 --cc newreno --impair loss=1%%,delay=2ms,dir=rx",
            "",
            "  # 2 cores on an existing interface through AF_PACKET (a veth, or a NIC",
            "  # with gro and lro off):",
            "  sudo ./stack endpoint --packet veth0 --addr 198.18.0.2/24 --cores 2 \\",
            "       --serve http:80",
            "",
            "  # every frame in and out to a ring of 5 files of 100 MB, fs0.pcap0..4,",
            "  # then read it with tshark:",
            "  sudo ./stack endpoint --tap fs0 --addr 198.18.0.2/24 --serve http:80 \\",
            "       --pcap fs0.pcap --pcap-size 100 --pcap-files 5",
            "  tshark -r fs0.pcap0",
            "",
            "  # one core, a default gateway and a fixed MAC:",
            "  sudo ./stack endpoint --tap fs1 --addr 198.19.0.2/24 --gateway 198.19.0.1 \\",
            "       --cores 1 --mac 02:00:00:00:01:02",
            "",
            "http:PORT answers GET / (a short page) and GET /bytes/N: N bytes,",
            "byte i = i %% 251.",
            "Exit codes: 0 ok, 1 failure, 2 usage or environment error (bad flag, missing",
            "device or privilege, instance name in use); 130 after Ctrl-C (counters printed)."
        })
final class EndpointCommand implements Callable<Integer>, ValidatedCommand {

    @Spec
    CommandSpec spec;

    @Option(names = "--tap", paramLabel = "NAME", converter = InterfaceName.Converter.class,
            description = "TAP device in the current network namespace, created if missing (1-15 characters). "
                    + "One of --tap, --packet or --xdp is required.")
    String tap;

    @Option(names = "--packet", paramLabel = "IFNAME", converter = InterfaceName.Converter.class,
            description = "Use the existing, up interface IFNAME through AF_PACKET instead of a TAP: one socket "
                    + "per core with TPACKET_V2 rings (a frame is taken as it arrives) and a virtio-net header "
                    + "(partial checksums and super-frames both ways unless --no-offload), in one fanout group "
                    + "(docs/AF_PACKET.md).")
    String packet;

    @Option(names = "--xdp", paramLabel = "IFNAME", converter = InterfaceName.Converter.class,
            description = "Use the existing, up interface IFNAME through AF_XDP: an XDP program (driver mode if the "
                    + "driver has it, else generic) that redirects every frame to one AF_XDP socket per core and "
                    + "receive queue (docs/AF_XDP.md). Needs as many receive queues as cores.")
    String xdp;

    @Option(names = "--fanout", paramLabel = "MODE", converter = FanoutConverter.class,
            description = "With --packet: how the kernel spreads frames over the cores: toeplitz (default: the "
                    + "stack's own flow hash as a BPF program, no frame hops between cores), cpu, hash, lb, rnd "
                    + "or qm (the NIC's RX queue).")
    FanoutMode fanout;

    @Option(names = "--addr", required = true, paramLabel = "A.B.C.D/P", converter = Ipv4Prefix.Converter.class,
            description = "The stack's address and prefix length, e.g. 198.18.0.2/24.")
    Ipv4Prefix addr;

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
            description = "A service to run; repeatable. TCP: echo:PORT (RFC 862), discard:PORT (RFC 863), "
                    + "chargen:PORT (RFC 864), http:PORT (HTTP/1.1: GET / and GET /bytes/N), "
                    + "metrics:PORT[,allow=PREFIX]...[,max-connections=N][,timeout=5s][,cache=1s] (the counters in "
                    + "the Prometheus text format at GET /metrics; only from the allowed source prefixes if given, "
                    + "N connections per core (default 32), each request answered within the timeout or reset, "
                    + "the cores read at most once per cache interval); "
                    + "UDP: udp-echo:PORT (RFC 862).")
    List<ServiceSpec> serve = new ArrayList<>();

    @Option(names = "--impair", paramLabel = "SPEC", converter = ImpairmentConverter.class,
            description = "Impair the TAP's frames like tc-netem: comma-separated key=value items, "
                    + "e.g. loss=1%%,delay=5ms,jitter=1ms,reorder=10%%,dup=0.5%%,corrupt=0.1%%,seed=42,dir=rx "
                    + "(dir: rx = frames the stack receives, tx = frames it sends, both = default).")
    ImpairmentSpec impair;

    @Option(names = "--pcap", paramLabel = "FILE",
            description = "Write every frame the stack receives and sends (all queues) to FILE in pcap format "
                    + "(Ethernet, nanosecond timestamps), like tcpdump -w on the TAP but as the stack sees them "
                    + "(inside --impair). Frames that find the capture's buffer full are left out of it and counted; "
                    + "the stack is never slowed down.")
    Path pcap;

    @Option(names = "--pcap-size", paramLabel = "MB",
            description = "With --pcap: start a new file when the current one would exceed MB million bytes "
                    + "(tcpdump -C): FILE, FILE1, FILE2, ... (no limit on their number without --pcap-files).")
    Double pcapSize;

    @Option(names = "--pcap-files", paramLabel = "N",
            description = "With --pcap-size: a ring of N files FILE0..FILE<N-1> (zero-padded), the oldest "
                    + "overwritten, so the capture never takes more than N x MB (tcpdump -W).")
    Integer pcapFiles;

    @Option(names = "--pcap-buffer", paramLabel = "MIB",
            description = "With --pcap: MiB of buffer per queue between the stack and the capture writer, 1..1024 "
                    + "(default: 8). Pcap4J writes some tens of thousands of frames per second; a longer burst than "
                    + "the buffer holds loses frames from the capture (counted), never from the stack.")
    Integer pcapBuffer;

    @Option(names = "--warmup", paramLabel = "SECONDS", defaultValue = "2",
            description = "Before the stack reads its device, run the --serve TCP services against a private client "
                    + "over an in-memory wire for SECONDS (0 to 30; 0: none), so that the JIT compiles their "
                    + "paths before the first real request (keep-alive, Connection: close, bulk responses, "
                    + "echo, discard, chargen). Default: ${DEFAULT-VALUE}.")
    double warmupSeconds;

    @Option(names = "--name", paramLabel = "NAME",
            description = "Instance name for 'stack stats': the control socket is /run/flowstack/NAME.sock "
                    + "($FLOWSTACK_RUN_DIR/NAME.sock if set). Default: the TAP or interface name.")
    String name;

    private volatile FlowStack stack;
    private volatile String packetReport;
    private volatile String xdpReport;

    /** Checks what picocli cannot: relations between options. Throws ParameterException (exit 2). */
    @Override
    public void validate() {
        int devices = (tap != null ? 1 : 0) + (packet != null ? 1 : 0) + (xdp != null ? 1 : 0);
        if (devices != 1) {
            throw new ParameterException(spec.commandLine(), devices == 0
                    ? "Missing required option: --tap=NAME, --packet=IFNAME or --xdp=IFNAME"
                    : "--tap, --packet and --xdp exclude each other: give one device");
        }
        if (fanout != null && packet == null) {
            throw new ParameterException(spec.commandLine(), "--fanout applies only to --packet");
        }
        if (!(warmupSeconds >= 0 && warmupSeconds <= 30)) {
            throw new ParameterException(spec.commandLine(), "--warmup must be 0..30 seconds, got " + warmupSeconds);
        }
        stackOptions.validate(spec.commandLine(), addr);
        threadOptions.validate(spec.commandLine());
        pcapSpec(); // validates the --pcap options
        if (name != null) {
            try {
                ControlServer.socketFor(name);
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), "--name " + e.getMessage());
            }
        }
        Set<Integer> tcpPorts = new HashSet<>();
        Set<Integer> udpPorts = new HashSet<>();
        for (ServiceSpec s : serve) {
            if (!(s.kind().tcp() ? tcpPorts : udpPorts).add(s.port())) {
                throw new ParameterException(spec.commandLine(), "--serve " + s + ": " + s.protocol() + " port "
                        + s.port() + " is given twice");
            }
        }
    }

    /**
     * The capture the {@code --pcap*} options describe, or null without {@code --pcap}. Throws
     * ParameterException (exit 2) for a bad combination or value.
     */
    PcapSpec pcapSpec() {
        if (pcap == null) {
            if (pcapSize != null || pcapFiles != null || pcapBuffer != null) {
                throw new ParameterException(spec.commandLine(), (pcapSize != null ? "--pcap-size"
                        : pcapFiles != null ? "--pcap-files" : "--pcap-buffer") + " needs --pcap FILE");
            }
            return null;
        }
        if (pcapBuffer != null && (pcapBuffer < 1 || pcapBuffer > 1024)) {
            throw new ParameterException(spec.commandLine(), "--pcap-buffer must be 1..1024 MiB, got " + pcapBuffer);
        }
        if (pcapFiles != null && pcapSize == null) {
            throw new ParameterException(spec.commandLine(), "--pcap-files needs --pcap-size MB (the size of each file)");
        }
        long bytes = 0;
        if (pcapSize != null) {
            if (!(pcapSize > 0) || pcapSize.isInfinite()) {
                throw new ParameterException(spec.commandLine(), "--pcap-size must be a positive number of MB (million bytes), got "
                        + pcapSize);
            }
            bytes = Math.round(pcapSize * 1_000_000);
            if (bytes < PcapSpec.MIN_FILE_BYTES) {
                throw new ParameterException(spec.commandLine(), "--pcap-size " + pcapSize + " is too small: a file must hold "
                        + "at least one full frame (" + PcapSpec.MIN_FILE_BYTES + " bytes, 0.0016 MB)");
            }
        }
        if (pcapFiles != null && (pcapFiles < 1 || pcapFiles > 100_000)) {
            throw new ParameterException(spec.commandLine(), "--pcap-files must be 1..100000, got " + pcapFiles);
        }
        PcapSpec capture = PcapSpec.of(pcap).withRotation(bytes, pcapFiles != null ? pcapFiles : 0);
        return pcapBuffer == null ? capture : capture.withRingBytes(pcapBuffer << 20);
    }

    /** The stack configuration the options describe. */
    StackConfig config() {
        return stackOptions.config(addr, threadOptions);
    }

    @Override
    public Integer call() throws InterruptedException {
        validate();
        StackConfig config = config();
        Path control = ControlServer.socketFor(instanceName());
        if (ControlServer.answers(control)) { // before the device: nothing to undo
            throw controlInUse(control);
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Teardown teardown = ServingCommand.teardown("endpoint", out, err, () -> printCounters(out));
        try {
            // --impair and --pcap see frames as the stack makes them: with either, the TAP opens
            // without offloads (one frame of at most the MTU each way; docs/CLI.md)
            TapNic.Options tapOptions = offloadOption.tapOptions(offloads());
            Nic device = packet != null ? openPacket(config, err)
                    : xdp != null ? Devices.openXdp("endpoint", xdp, stackOptions.cores, config.mac, xdpMode.mode(),
                            offloads(), stackOptions.mtu, err)
                    : Devices.openTap("endpoint", tap, stackOptions.cores, tapOptions, stackOptions.rssKey(), err);
            Nic nic = device;
            if (impairs()) {
                try {
                    nic = ImpairedNic.wrap(device, impair, System::nanoTime);
                } catch (RuntimeException e) {
                    device.close();
                    throw e;
                }
            }
            PcapSpec capture = pcapSpec();
            if (capture != null) {
                PcapNic pcapNic;
                try {
                    pcapNic = PcapNic.wrap(nic, capture, PcapNic.wallClock());
                } catch (RuntimeException e) {
                    nic.close();
                    throw e;
                }
                nic = pcapNic;
                teardown.add("report the capture", () -> {
                    out.println("flowstack endpoint: " + pcapNic.summary());
                    out.flush();
                });
            }
            teardown.add("close " + deviceKind() + " " + nic.name(), nic::close); // the wrappers close the device (and the capture)
            if (device instanceof PacketNic p) {
                // runs after the stack stopped and before the sockets close: the kernel's counters
                teardown.add("read the AF_PACKET counters", () -> packetReport = p.countersReport());
            }
            if (device instanceof XdpNic x) {
                teardown.add("read the AF_XDP counters", () -> xdpReport = x.countersReport());
            }
            // after the device opened (a wrong device fails at once, not after the warm-up) and
            // before the stack reads it: frames that come meanwhile wait in the device's queue
            warmUp(config, out, err);
            // receive held until the services listen on every core: an endpoint that answers ARP
            // and ping answers SYNs too (issue 13 point 3: a client that starts at the first ping
            // reply got a RST)
            FlowStack s = FlowStack.startHeld(config, java.util.List.of(nic), io.flowstack.core.config.RouterConfig.ENDPOINT);
            stack = s;
            teardown.add("stop the stack", s::close);
            for (ServiceSpec svc : serve) {
                AutoCloseable service = svc.start(s);
                teardown.add("stop " + svc, service::close);
            }
            s.openReceive();
            ControlServer server = startControl(s, teardown, err);
            if (server != null && device instanceof XdpNic x) {
                server.devices(() -> Devices.xdpCounters(java.util.List.of(x)));
            }
            out.println(banner(nic.name(), config));
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
     * {@link Warmup} of the services for {@code --warmup} seconds, if any TCP service can be
     * exercised (so an endpoint without services, or with only metrics or udp-echo, starts at
     * once); its summary on {@code out}. A warm-up that fails is a warning: the endpoint
     * starts all the same.
     */
    private void warmUp(StackConfig config, PrintWriter out, PrintWriter err) throws InterruptedException {
        long nanos = Math.round(warmupSeconds * 1e9);
        if (nanos <= 0 || !Warmup.exercises(serve)) {
            return;
        }
        try {
            Warmup.Result r = Warmup.run(serve, stackOptions.cores, config.mtu > 0 ? config.mtu : Warmup.DEFAULT_MTU,
                    nanos);
            out.println("flowstack endpoint: " + r);
            out.flush();
        } catch (RuntimeException e) {
            err.println("stack endpoint: warning: the warm-up failed (" + Main.oneLine(e.getMessage())
                    + "); starting without it");
            err.flush();
        }
    }

    /**
     * The control socket that {@code stack stats} asks: RUNDIR/NAME.sock. Another running
     * instance on it is an error (stats would reach that one); any other failure to create it is
     * a warning, not a reason to stop the endpoint.
     */
    private ControlServer startControl(FlowStack s, Teardown teardown, PrintWriter err) {
        String instance = instanceName();
        return ServingCommand.startControl("endpoint", s, null, instance, controlOptions, teardown, err,
                () -> controlInUse(ControlServer.socketFor(instance)));
    }

    /** The instance name for 'stack stats': --name, else the device's name. */
    String instanceName() {
        return name != null ? name : tap != null ? tap : packet != null ? packet : xdp;
    }

    private UserError controlInUse(Path control) {
        return new UserError("another running instance answers on " + control + (name != null
                ? ": stop it or give this one another --name" : " (the --name of an endpoint defaults to its device): "
                + "stop it or give this one a --name"));
    }

    /**
     * The AF_PACKET NIC of --packet: promiscuous unless the stack uses the interface's own MAC
     * (then the host's kernel would take our frames as its own); offload warnings go to stderr.
     */
    private PacketNic openPacket(StackConfig config, PrintWriter err) {
        return Devices.openPacket("endpoint", packet, stackOptions.cores, config.mac, fanout, offloads(), stackOptions.mtu,
                stackOptions.rssKey(), err);
    }

    /** {@code tap}, {@code packet} or {@code xdp}, for messages. */
    String deviceKind() {
        return packet != null ? "packet" : xdp != null ? "xdp" : "tap";
    }

    /**
     * Whether the device gets its offloads: not with {@code --no-offload}, nor under a wrapper that
     * takes frames of at most the MTU ({@code --impair} that impairs, {@code --pcap}).
     */
    private boolean offloads() {
        return !offloadOption.noOffload && !impairs() && pcap == null;
    }

    /** Whether --impair asks for any impairment (an empty spec impairs nothing). */
    boolean impairs() {
        return impair != null && impair.impairs();
    }

    String banner(String device, StackConfig config) {
        StringBuilder b = new StringBuilder("flowstack endpoint: ").append(deviceKind()).append(' ').append(device)
                .append(' ').append(addr)
                .append(" mac ").append(Ethernet.macToString(config.mac));
        if (stackOptions.gateway != null) {
            b.append(" gateway ").append(Ipv4.toString(stackOptions.gateway));
        }
        b.append(" cores ").append(stackOptions.cores);
        if (packet != null) {
            b.append(", fanout ").append((fanout != null ? fanout : PacketNic.Options.DEFAULT.fanout()).cliName());
        }
        b.append(", tcp cc ").append(config.tcpCongestionControl);
        if (impairs()) {
            b.append(", impaired ").append(impair);
        }
        if (pcap != null) {
            b.append(", capturing to ").append(pcapSpec());
        }
        if (serve.isEmpty()) {
            b.append(", answering ARP and ping");
        } else {
            b.append(", serving ").append(serve.stream().map(ServiceSpec::toString).collect(Collectors.joining(" ")));
        }
        return b.append(" (Ctrl-C to stop)").toString();
    }

    /** {@code --fanout}: {@link FanoutMode#parse}, any case. */
    static final class FanoutConverter implements ITypeConverter<FanoutMode> {
        @Override
        public FanoutMode convert(String value) {
            try {
                return FanoutMode.parse(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }

    /** {@code --impair}: {@link ImpairmentSpec#parse}, whose message names the bad item. */
    static final class ImpairmentConverter implements ITypeConverter<ImpairmentSpec> {
        @Override
        public ImpairmentSpec convert(String value) {
            try {
                return ImpairmentSpec.parse(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException("'" + value + "': " + e.getMessage());
            }
        }
    }

    private void printCounters(PrintWriter out) {
        FlowStack s = stack;
        if (s != null) {
            out.println("flowstack endpoint: stopped; per-core counters:");
            out.print(s.countersReport());
        }
        String p = packetReport;
        if (p != null) {
            out.println("AF_PACKET queues of " + packet + ":");
            out.print(p);
        }
        String x = xdpReport;
        if (x != null) {
            out.print("AF_XDP queues of " + xdp + ", " + x);
        }
        out.flush();
    }
}
