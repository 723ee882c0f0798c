package io.flowstack.tools;

import java.util.Locale;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * One {@code --serve KIND:PORT} of the endpoint. Only UDP services exist so far; the TCP ones of
 * the command line contract ({@code echo}, {@code discard}, {@code chargen}, {@code http}) are
 * refused with a clear message until TCP is implemented.
 */
public record ServiceSpec(Kind kind, int port) {

    /** The services the endpoint can run. */
    public enum Kind {
        /** RFC 862 echo over UDP ({@link io.flowstack.core.service.UdpEchoService}). */
        UDP_ECHO("udp-echo");

        private final String label;

        Kind(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    /** The TCP services of the command line contract that do not exist yet. */
    private static final String[] TCP_KINDS = {"echo", "discard", "chargen", "http"};

    static final String TCP_NOT_YET = "TCP services are not available yet (TCP arrives in a later release)";

    /** Parses {@code KIND:PORT}; the exception message says what is wrong and what is accepted. */
    public static ServiceSpec parse(String text) {
        String t = text.strip().toLowerCase(Locale.ROOT);
        int colon = t.indexOf(':');
        String kind = colon < 0 ? t : t.substring(0, colon);
        for (String tcp : TCP_KINDS) {
            if (tcp.equals(kind)) {
                throw new IllegalArgumentException("'" + text + "': " + TCP_NOT_YET + "; available now: udp-echo:PORT");
            }
        }
        Kind k = null;
        for (Kind candidate : Kind.values()) {
            if (candidate.label.equals(kind)) {
                k = candidate;
            }
        }
        if (k == null) {
            throw new IllegalArgumentException("'" + text + "' is not a known service: use udp-echo:PORT, e.g. udp-echo:7");
        }
        if (colon < 0) {
            throw new IllegalArgumentException("'" + text + "' needs a port: write " + kind + ":PORT, e.g. " + kind + ":7");
        }
        String p = t.substring(colon + 1);
        int port = p.matches("\\d{1,5}") ? Integer.parseInt(p) : -1;
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("'" + text + "': the port must be 1..65535");
        }
        return new ServiceSpec(k, port);
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
