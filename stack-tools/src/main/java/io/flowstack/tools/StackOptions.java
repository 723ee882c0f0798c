package io.flowstack.tools;

import io.flowstack.core.FlowStack;
import io.flowstack.core.config.StackConfig;
import io.flowstack.core.wire.Ipv4;
import io.flowstack.nic.Toeplitz;
import java.security.SecureRandom;
import java.util.Locale;
import picocli.CommandLine;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.TypeConversionException;

/**
 * The stack's own settings, declared once for every command that builds a stack on a device
 * ({@code stack endpoint}, {@code stack bench --tap}, {@code stack ping}, {@code stack replay})
 * as a picocli {@code @Mixin}: {@code --gateway}, {@code --cores}, {@code --mac}, {@code --mtu},
 * {@code --cc}, {@code --max-connections} and {@code --rss-key}; their checks ({@link #validate}) and the {@link StackConfig} they describe
 * ({@link #builder}, {@link #config}). How the stack's threads run ({@code --busy-poll},
 * {@code --pin}/{@code --no-pin}) is the second mixin, {@link ThreadOptions}, which only the
 * commands whose stack has threads include (not replay's threadless one). The command declares
 * {@code --addr} (required or not, and described, as the command needs) and chooses the
 * defaults of {@code --cores} and {@code --mtu} ({@link #StackOptions(int, int)}).
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
            description = "Cores of the stack, one device queue each, 1..64 (default: ${DEFAULT-VALUE}).")
    public int cores;

    @Option(names = "--mac", paramLabel = "MAC", converter = Macs.Converter.class,
            description = "The stack's MAC (default: 02:00 and the address's four octets, e.g. 02:00:c6:12:00:02 for "
                    + "198.18.0.2).")
    public Long mac;

    @Option(names = "--mtu", paramLabel = "N",
            description = "IPv4 MTU, 576..65535 (default: the device's MTU, normally 1500).")
    public Integer mtu;

    @Option(names = "--cc", paramLabel = "ALGO", converter = CongestionControlConverter.class,
            description = "TCP congestion control: cubic (RFC 9438, default) or newreno (RFC 6582).")
    public String cc = "cubic";

    @Option(names = "--max-connections", paramLabel = "N",
            description = "TCP connections the stack may hold, split evenly between its cores (default: 1048576). "
                    + "An idle connection of a callback service costs about 700 bytes, buffers are taken while data flows.")
    public Integer maxConnections;

    @Option(names = "--rss-key", paramLabel = "HEX", converter = RssKeyConverter.class,
            description = "The symmetric Toeplitz key the device's steering and the stack's flow hash use: 40 bytes in hex "
                    + "repeating one 16-bit pattern, e.g. 6d5a repeated (default: chosen at random at start).")
    public Toeplitz rssKey;

    /** The MTU without {@code --mtu}: 0 for the device's. */
    private final int defaultMtu;

    /** Options with {@code --cores} defaulting to every CPU (at most 64) and the device's MTU. */
    public StackOptions() {
        this(ALL_CPUS);
    }

    /** Options with {@code --cores} defaulting to {@code defaultCores} and the device's MTU. */
    public StackOptions(int defaultCores) {
        this(defaultCores, 0);
    }

    /**
     * Options with {@code --cores} defaulting to {@code defaultCores} and {@code --mtu} to
     * {@code defaultMtu} (0: the device's MTU), for a command that makes the device itself.
     */
    public StackOptions(int defaultCores, int defaultMtu) {
        this.cores = defaultCores;
        this.defaultMtu = defaultMtu;
    }

    /** The options that belong to the stack, for a command that runs without one to refuse them. */
    public static final String[] NAMES = {"--gateway", "--cores", "--mac", "--mtu", "--cc", "--max-connections",
        "--rss-key"};

    /**
     * The RSS key for the devices this command opens: {@code --rss-key}, or one chosen at random
     * on the first call and the same on every later one (a router's interfaces share it).
     */
    public Toeplitz rssKey() {
        if (rssKey == null) {
            rssKey = Toeplitz.random(new SecureRandom());
        }
        return rssKey;
    }

    /** {@code --mtu}, or the command's default: 0 for the device's MTU. */
    public int mtu() {
        return mtu != null ? mtu : defaultMtu;
    }

    /**
     * Checks the values and their relations to {@code addr} (the stack's address, or null when
     * the command has none yet); throws ParameterException (exit 2) for {@code cmd}.
     */
    public void validate(CommandLine cmd, Ipv4Prefix addr) {
        if (cores < 1 || cores > 64) {
            throw new ParameterException(cmd, "--cores must be 1..64, got " + cores);
        }
        if (mtu != null && (mtu < FlowStack.MIN_MTU || mtu > FlowStack.MAX_MTU)) {
            throw new ParameterException(cmd, "--mtu must be " + FlowStack.MIN_MTU + ".." + FlowStack.MAX_MTU
                    + ", got " + mtu);
        }
        if (maxConnections != null && (maxConnections < cores || maxConnections > 1 << 26)) {
            throw new ParameterException(cmd, "--max-connections must be " + cores + ".." + (1 << 26)
                    + " (at least one per core), got " + maxConnections);
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

    /** The stack's MAC: {@code --mac}, or 02:00 and the four octets of {@code addr}. */
    public long mac(Ipv4Prefix addr) {
        return mac != null ? mac : Macs.fromAddress(addr.address());
    }

    /**
     * The configuration of a stack at {@code addr} these options describe, for the command to
     * add what is its own (a clock, how threads run) and build.
     */
    public StackConfig.Builder builder(Ipv4Prefix addr) {
        StackConfig.Builder b = StackConfig.builder()
                .cores(cores)
                .address(addr.address())
                .prefixLength(addr.prefixLength())
                .mac(mac(addr))
                .tcpCongestionControl(cc);
        if (gateway != null) {
            b.gateway(gateway);
        }
        if (mtu() > 0) {
            b.mtu(mtu());
        }
        if (maxConnections != null) {
            b.tcpMaxConnections(maxConnections);
        }
        return b;
    }

    /** The configuration of a stack at {@code addr}, with threads run as {@code threads} says. */
    public StackConfig config(Ipv4Prefix addr, ThreadOptions threads) {
        return threads.apply(builder(addr), cores).build();
    }

    /** {@code --rss-key}: 40 bytes in hex (colons allowed), one 16-bit pattern repeated; a one-line error otherwise. */
    static final class RssKeyConverter implements ITypeConverter<Toeplitz> {
        @Override
        public Toeplitz convert(String value) {
            try {
                return Toeplitz.parse(value.strip());
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
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
