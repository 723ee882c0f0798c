package io.flowstack.tools;

import io.flowstack.core.FlowStack;
import io.flowstack.services.HttpService;
import io.flowstack.services.MetricsService;
import io.flowstack.services.TcpChargenService;
import io.flowstack.services.TcpDiscardService;
import io.flowstack.services.TcpEchoService;
import io.flowstack.services.UdpEchoService;
import java.util.Locale;
import java.util.StringJoiner;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * One {@code --serve KIND:PORT} of the endpoint: a TCP service ({@code echo}, {@code discard},
 * {@code chargen}, {@code http}, {@code metrics}) or a UDP one ({@code udp-echo}).
 */
public record ServiceSpec(Kind kind, int port) {

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

    /** Parses {@code KIND:PORT}; the exception message says what is wrong and what is accepted. */
    public static ServiceSpec parse(String text) {
        String t = text.strip().toLowerCase(Locale.ROOT);
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
        return new ServiceSpec(k, port);
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

    /** Starts this service on {@code stack}; closing the result stops it. */
    public AutoCloseable start(FlowStack stack) {
        return switch (kind) {
            case ECHO -> new TcpEchoService(stack, port);
            case DISCARD -> new TcpDiscardService(stack, port);
            case CHARGEN -> new TcpChargenService(stack, port);
            case HTTP -> new HttpService(stack, port);
            case METRICS -> new MetricsService(stack, port);
            case UDP_ECHO -> new UdpEchoService(stack, port);
        };
    }

    @Override
    public String toString() {
        return kind.label + ":" + port;
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
