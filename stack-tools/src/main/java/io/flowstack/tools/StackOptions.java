package io.flowstack.tools;

import io.flowstack.core.config.StackConfig;
import io.flowstack.core.wire.Ipv4;
import java.util.Locale;
import picocli.CommandLine;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.TypeConversionException;

/**
 * The options of a stack on a device, declared once for every command that starts one
 * ({@code stack endpoint}, {@code stack bench --tap}, {@code stack ping}) as a picocli
 * {@code @Mixin}: {@code --gateway}, {@code --cores}, {@code --mac}, {@code --mtu},
 * {@code --busy-poll}, {@code --pin}/{@code --no-pin} and {@code --cc}; their checks
 * ({@link #validate}) and the {@link StackConfig} they describe ({@link #config}). The command
 * declares {@code --addr} (required or not, and described, as the command needs).
 *
 * <p>Owned by: the thread that parses the command line and runs the command (picocli fills
 * the fields, then the command reads them).
 */
public final class StackOptions {
    /** Every CPU, at most 64: the default of a command whose stack is the machine's main job. */
    public static final int ALL_CPUS = Math.min(Runtime.getRuntime().availableProcessors(), 64);

    @Option(names = "--gateway", paramLabel = "A.B.C.D", converter = Ipv4Prefix.HostConverter.class,
            description = "Default gateway, on the --addr subnet (default: none, only the subnet is reachable).")
    public Integer gateway;

    @Option(names = "--cores", paramLabel = "N",
            description = "Netisr threads, one device queue each, 1..64 (default: ${DEFAULT-VALUE}).")
    public int cores;

    @Option(names = "--mac", paramLabel = "MAC", converter = Macs.Converter.class,
            description = "The stack's MAC (default: 02:00 and the address's four octets, e.g. 02:00:c6:12:00:02 for "
                    + "198.18.0.2).")
    public Long mac;

    @Option(names = "--mtu", paramLabel = "N",
            description = "IPv4 MTU, 576..9000 (default: the device's MTU, normally 1500).")
    public Integer mtu;

    @Option(names = "--busy-poll",
            description = "Spin on the queues when idle instead of sleeping in poll(): lowest latency, one busy CPU "
                    + "per core.")
    public boolean busyPoll;

    @Option(names = "--pin", description = "Pin netisr thread i to CPU i (the default when --cores is below the"
            + " number of CPUs).")
    public boolean pin;

    @Option(names = "--no-pin", description = "Let the scheduler place the netisr threads (the default when they"
            + " would take every CPU, so that the application and the kernel run where a netisr is idle).")
    public boolean noPin;

    @Option(names = "--cc", paramLabel = "ALGO", converter = CongestionControlConverter.class,
            description = "TCP congestion control: cubic (RFC 9438, default) or newreno (RFC 6582).")
    public String cc = "cubic";

    /** Options with {@code --cores} defaulting to every CPU (at most 64). */
    public StackOptions() {
        this(ALL_CPUS);
    }

    /** Options with {@code --cores} defaulting to {@code defaultCores}. */
    public StackOptions(int defaultCores) {
        this.cores = defaultCores;
    }

    /** The options that belong to the stack, for a command that runs without one to refuse them. */
    public static final String[] NAMES = {"--gateway", "--cores", "--mac", "--mtu", "--busy-poll", "--pin", "--no-pin",
        "--cc"};

    /**
     * Checks the values and their relations to {@code addr} (the stack's address, or null when
     * the command has none yet); throws ParameterException (exit 2) for {@code cmd}.
     */
    public void validate(CommandLine cmd, Ipv4Prefix addr) {
        if (cores < 1 || cores > 64) {
            throw new ParameterException(cmd, "--cores must be 1..64, got " + cores);
        }
        if (pin && noPin) {
            throw new ParameterException(cmd, "--pin and --no-pin exclude each other: give one (or neither, for the default)");
        }
        if (mtu != null && (mtu < 576 || mtu > 9000)) {
            throw new ParameterException(cmd, "--mtu must be 576..9000, got " + mtu);
        }
        if (gateway != null && addr != null) {
            if (gateway == addr.address()) {
                throw new ParameterException(cmd, "--gateway " + Ipv4.toString(gateway) + " is the stack's own address");
            }
            if (!addr.contains(gateway)) {
                throw new ParameterException(cmd, "--gateway " + Ipv4.toString(gateway) + " is not on the subnet of --addr "
                        + addr + ": a gateway must be directly reachable");
            }
        }
    }

    /** Whether the netisr threads are pinned: {@code --pin}, {@code --no-pin} or the default for {@code --cores}. */
    public boolean pinThreads() {
        return pin || (!noPin && StackConfig.pinnedByDefault(cores));
    }

    /** The configuration of a stack at {@code addr} the options describe. */
    public StackConfig config(Ipv4Prefix addr) {
        StackConfig.Builder b = StackConfig.builder()
                .cores(cores)
                .address(addr.address())
                .prefixLength(addr.prefixLength())
                .mac(mac != null ? mac : Macs.fromAddress(addr.address()))
                .pinThreads(pinThreads())
                .busyPoll(busyPoll)
                .tcpCongestionControl(cc);
        if (gateway != null) {
            b.gateway(gateway);
        }
        if (mtu != null) {
            b.mtu(mtu);
        }
        return b.build();
    }

    /** {@code --cc}: cubic or newreno, any case. */
    static final class CongestionControlConverter implements ITypeConverter<String> {
        @Override
        public String convert(String value) {
            String v = value.strip().toLowerCase(Locale.ROOT);
            if (!v.equals("cubic") && !v.equals("newreno")) {
                throw new TypeConversionException("'" + value + "' is not a congestion control: use cubic or newreno");
            }
            return v;
        }
    }
}
