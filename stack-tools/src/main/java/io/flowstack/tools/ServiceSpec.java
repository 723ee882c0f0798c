package io.flowstack.tools;

import io.flowstack.core.FlowStack;
import io.flowstack.services.HttpService;
import io.flowstack.services.MetricsLimits;
import io.flowstack.services.MetricsService;
import io.flowstack.services.SourcePrefix;
import io.flowstack.services.TcpChargenService;
import io.flowstack.services.TcpDiscardService;
import io.flowstack.services.TcpEchoService;
import io.flowstack.services.UdpEchoService;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.StringJoiner;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * One {@code --serve KIND:PORT[,OPTION...]} of the endpoint: a TCP service ({@code echo},
 * {@code discard}, {@code chargen}, {@code http}, {@code metrics}) or a UDP one
 * ({@code udp-echo}). Only {@code metrics} takes options, comma-separated {@code key=value}
 * items after the port: {@code allow=PREFIX} (repeatable), {@code max-connections=N} (per core),
 * {@code timeout=DURATION} (the request deadline), {@code cache=DURATION} (the snapshot
 * interval); durations as {@code 5s} or {@code 500ms}.
 *
 * @param kind the service
 * @param port its port
 * @param limits the metrics service's limits ({@link MetricsLimits#DEFAULTS} for the other kinds)
 */
public record ServiceSpec(Kind kind, int port, MetricsLimits limits) {
    /** Checks that there are limits. */
    public ServiceSpec {
        java.util.Objects.requireNonNull(limits, "limits");
    }

    /** The options {@code metrics} takes, for messages. */
    static final String METRICS_OPTIONS = "allow=PREFIX (repeatable), max-connections=N (per core), "
            + "timeout=DURATION, cache=DURATION (e.g. 5s, 500ms)";

    /**
     * A service with the default limits.
     *
     * @param kind the service
     * @param port its port
     */
    public ServiceSpec(Kind kind, int port) {
        this(kind, port, MetricsLimits.DEFAULTS);
    }

    /** The services the endpoint can run. */
    public enum Kind {
        /** RFC 862 echo over TCP ({@link io.flowstack.services.TcpEchoService}). */
        ECHO("echo", true),
        /** RFC 863 discard over TCP ({@link io.flowstack.services.TcpDiscardService}). */
        DISCARD("discard", true),
        /** RFC 864 character generator over TCP ({@link io.flowstack.services.TcpChargenService}). */
        CHARGEN("chargen", true),
        /** HTTP/1.1 ({@link io.flowstack.services.HttpService}). */
        HTTP("http", true),
        /** Prometheus text format of the counters over HTTP ({@link io.flowstack.services.MetricsService}). */
        METRICS("metrics", true),
        /** RFC 862 echo over UDP ({@link io.flowstack.services.UdpEchoService}). */
        UDP_ECHO("udp-echo", false);

        private final String label;
        private final boolean tcp;

        Kind(String label, boolean tcp) {
            this.label = label;
            this.tcp = tcp;
        }

        public String label() {
            return label;
        }

        /** TCP or UDP: ports are given twice only within one protocol. */
        public boolean tcp() {
            return tcp;
        }
    }

    /** "echo:PORT, discard:PORT, ..." for messages. */
    static String accepted() {
        StringJoiner j = new StringJoiner(", ");
        for (Kind k : Kind.values()) {
            j.add(k.label + ":PORT");
        }
        return j.toString();
    }

    /** The protocol of the port, for messages: "TCP" or "UDP". */
    public String protocol() {
        return kind.tcp ? "TCP" : "UDP";
    }

    /** Parses {@code KIND:PORT[,OPTION...]}; the exception message says what is wrong and what is accepted. */
    public static ServiceSpec parse(String text) {
        String all = text.strip().toLowerCase(Locale.ROOT);
        int comma = all.indexOf(',');
        String t = comma < 0 ? all : all.substring(0, comma);
        int colon = t.indexOf(':');
        String kind = colon < 0 ? t : t.substring(0, colon);
        Kind k = null;
        for (Kind candidate : Kind.values()) {
            if (candidate.label.equals(kind)) {
                k = candidate;
            }
        }
        if (k == null) {
            throw new IllegalArgumentException("'" + text + "' is not a known service: use " + accepted()
                    + ", e.g. http:80");
        }
        if (colon < 0) {
            throw new IllegalArgumentException("'" + text + "' needs a port: write " + kind + ":PORT, e.g. " + kind
                    + ":" + defaultPort(k));
        }
        String p = t.substring(colon + 1);
        int port = p.matches("\\d{1,5}") ? Integer.parseInt(p) : -1;
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("'" + text + "': the port must be 1..65535");
        }
        if (comma < 0) {
            return new ServiceSpec(k, port);
        }
        if (k != Kind.METRICS) {
            throw new IllegalArgumentException("'" + text + "': " + k.label + " takes no options (only metrics does: "
                    + METRICS_OPTIONS + ")");
        }
        return new ServiceSpec(k, port, metricsOptions(text, all.substring(comma + 1)));
    }

    /** The limits {@code options} ({@code key=value} items separated by commas) give. */
    private static MetricsLimits metricsOptions(String text, String options) {
        MetricsLimits l = MetricsLimits.DEFAULTS;
        List<SourcePrefix> allow = new ArrayList<>();
        List<String> given = new ArrayList<>();
        for (String item : options.split(",", -1)) {
            int eq = item.indexOf('=');
            String key = eq < 0 ? item.strip() : item.substring(0, eq).strip();
            String value = eq < 0 ? "" : item.substring(eq + 1).strip();
            if (value.isEmpty()) {
                throw new IllegalArgumentException("'" + text + "': '" + item + "' needs a value: metrics takes "
                        + METRICS_OPTIONS);
            }
            if (!key.equals("allow") && given.contains(key)) {
                throw new IllegalArgumentException("'" + text + "': " + key + " is given twice");
            }
            given.add(key);
            try {
                switch (key) {
                    case "allow" -> allow.add(SourcePrefix.parse(value));
                    case "max-connections" -> l = l.withMaxConnections(count(key, value));
                    case "timeout" -> l = l.withRequestTimeout(duration(key, value));
                    case "cache" -> l = l.withCacheInterval(duration(key, value));
                    default -> throw new IllegalArgumentException("unknown option '" + key + "': metrics takes "
                            + METRICS_OPTIONS);
                }
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("'" + text + "': " + e.getMessage(), e);
            }
        }
        return l.withAllow(allow);
    }

    /** A whole number. */
    private static int count(String key, String value) {
        if (!value.matches("\\d{1,9}")) {
            throw new IllegalArgumentException(key + "=" + value + " is not a number: write e.g. " + key + "=32");
        }
        return Integer.parseInt(value);
    }

    /** {@code 5s} or {@code 500ms}. */
    private static Duration duration(String key, String value) {
        if (value.matches("\\d{1,6}ms")) {
            return Duration.ofMillis(Long.parseLong(value.substring(0, value.length() - 2)));
        }
        if (value.matches("\\d{1,5}s")) {
            return Duration.ofSeconds(Long.parseLong(value.substring(0, value.length() - 1)));
        }
        throw new IllegalArgumentException(key + "=" + value + " is not a duration: write e.g. 5s or 500ms");
    }

    /** The well-known port of a kind, for examples in messages. */
    static int defaultPort(Kind k) {
        return switch (k) {
            case ECHO, UDP_ECHO -> 7;
            case DISCARD -> 9;
            case CHARGEN -> 19;
            case HTTP -> 80;
            case METRICS -> 9100;
        };
    }

    /**
     * Loads, links and initializes the class of every service {@link #start} can create and
     * their nested classes, and returns them. {@link Warmup} calls it before it runs: C2 compiles
     * a call to a method that no linked subclass overrides as a direct call, and a type that no
     * linked class extends as exact (class hierarchy analysis), and linking such a subclass later
     * discards that code (the JVM checks a class's dependants when it links it, not when it loads
     * it). The control socket links {@link MetricsService} after the warm-up: its overriding
     * {@code AbstractHttpService.busy} and its connection class (a subclass of the HTTP service's)
     * threw away the warm-up's HTTP path, and the endpoint's first keep-alive second ran
     * interpreted (docs/BENCHMARKS.md, "The warm-up's code kept"). Their static initializers only
     * build constants.
     */
    static List<Class<?>> loadServiceClasses() {
        List<Class<?>> loaded = new ArrayList<>();
        for (Kind k : Kind.values()) {
            withNested(serviceClass(k), loaded);
        }
        return loaded;
    }

    /** The class {@link #start} creates for {@code kind} (a switch over every kind, as there). */
    private static Class<?> serviceClass(Kind kind) {
        return switch (kind) {
            case ECHO -> TcpEchoService.class;
            case DISCARD -> TcpDiscardService.class;
            case CHARGEN -> TcpChargenService.class;
            case HTTP -> HttpService.class;
            case METRICS -> MetricsService.class;
            case UDP_ECHO -> UdpEchoService.class;
        };
    }

    private static void withNested(Class<?> c, List<Class<?>> into) {
        try {
            into.add(Class.forName(c.getName(), true, c.getClassLoader())); // linked and initialized
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException("a class of this build is missing: " + c.getName(), e);
        }
        for (Class<?> nested : c.getDeclaredClasses()) {
            withNested(nested, into);
        }
    }

    /** Starts this service on {@code stack}; closing the result stops it. */
    public AutoCloseable start(FlowStack stack) {
        return switch (kind) {
            case ECHO -> new TcpEchoService(stack, port);
            case DISCARD -> new TcpDiscardService(stack, port);
            case CHARGEN -> new TcpChargenService(stack, port);
            case HTTP -> new HttpService(stack, port);
            case METRICS -> new MetricsService(stack, port, limits);
            case UDP_ECHO -> new UdpEchoService(stack, port);
        };
    }

    /** {@code KIND:PORT} and the options that differ from the defaults, as {@link #parse} reads them. */
    @Override
    public String toString() {
        StringBuilder b = new StringBuilder(kind.label).append(':').append(port);
        MetricsLimits d = MetricsLimits.DEFAULTS;
        for (SourcePrefix p : limits.allow()) {
            b.append(",allow=").append(p);
        }
        if (limits.maxConnections() != d.maxConnections()) {
            b.append(",max-connections=").append(limits.maxConnections());
        }
        if (!limits.requestTimeout().equals(d.requestTimeout())) {
            b.append(",timeout=").append(MetricsLimits.text(limits.requestTimeout()));
        }
        if (!limits.cacheInterval().equals(d.cacheInterval())) {
            b.append(",cache=").append(MetricsLimits.text(limits.cacheInterval()));
        }
        return b.toString();
    }

    /** picocli converter for {@code --serve}. */
    public static final class Converter implements ITypeConverter<ServiceSpec> {
        @Override
        public ServiceSpec convert(String value) {
            try {
                return parse(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }
}
