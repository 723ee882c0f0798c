package io.flowstack.tools;

import io.flowstack.core.wire.Ipv4;
import java.util.regex.Pattern;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * An interface address with its prefix length, written {@code A.B.C.D/P} (e.g.
 * {@code 198.18.0.2/24}). Only unicast host addresses are accepted: not 0.0.0.0, loopback,
 * multicast or class E, nor the network or broadcast address of a subnet of /30 or wider.
 */
public record Ipv4Prefix(int address, int prefixLength) {
    private static final Pattern DOTTED = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");

    /** Parses {@code A.B.C.D/P}; the message of the exception says what is wrong and how to write it. */
    public static Ipv4Prefix parse(String text) {
        String t = text.strip();
        int slash = t.indexOf('/');
        if (slash < 0) {
            if (DOTTED.matcher(t).matches()) {
                throw new IllegalArgumentException("'" + text + "' has no prefix length: write it as "
                        + t + "/24 (or the prefix of your subnet)");
            }
            throw new IllegalArgumentException("'" + text + "' is not an IPv4 address with prefix length, "
                    + "e.g. 198.18.0.2/24");
        }
        int address = parseAddress(t.substring(0, slash), text);
        String p = t.substring(slash + 1);
        int prefix;
        if (!p.matches("\\d{1,2}") || (prefix = Integer.parseInt(p)) < 1 || prefix > 32) {
            throw new IllegalArgumentException("'" + text + "': the prefix length must be 1..32, e.g. 198.18.0.2/24");
        }
        checkHostAddress(address, text);
        if (prefix <= 30) {
            int host = address & ~Ipv4.mask(prefix);
            if (host == 0) {
                throw new IllegalArgumentException("'" + text + "' is the network address of its subnet: "
                        + "give the stack a host address, e.g. " + Ipv4.toString(address | 2) + "/" + prefix);
            }
            if (host == ~Ipv4.mask(prefix)) {
                throw new IllegalArgumentException("'" + text + "' is the broadcast address of its subnet: "
                        + "give the stack a host address");
            }
        }
        return new Ipv4Prefix(address, prefix);
    }

    /** Parses a dotted-quad unicast address (a gateway, a peer). */
    public static int parseHost(String text) {
        int a = parseAddress(text.strip(), text);
        checkHostAddress(a, text);
        return a;
    }

    private static int parseAddress(String dotted, String original) {
        if (!DOTTED.matcher(dotted).matches()) {
            throw new IllegalArgumentException("'" + original + "' is not an IPv4 address (write A.B.C.D, e.g. 198.18.0.1)");
        }
        try {
            return Ipv4.parse(dotted);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("'" + original + "' is not an IPv4 address: each part must be 0..255");
        }
    }

    private static void checkHostAddress(int a, String text) {
        int first = a >>> 24;
        if (a == 0) {
            throw new IllegalArgumentException("'" + text + "': 0.0.0.0 is not a host address");
        }
        if (first == 127) {
            throw new IllegalArgumentException("'" + text + "' is a loopback address, not usable on an interface");
        }
        if (first >= 224) {
            throw new IllegalArgumentException("'" + text + "' is a multicast or reserved address, not a host address");
        }
    }

    /** True if {@code host} is inside this prefix's subnet. */
    public boolean contains(int host) {
        int m = Ipv4.mask(prefixLength);
        return (host & m) == (address & m);
    }

    @Override
    public String toString() {
        return Ipv4.toString(address) + "/" + prefixLength;
    }

    /** picocli converter for {@code --addr}. */
    public static final class Converter implements ITypeConverter<Ipv4Prefix> {
        @Override
        public Ipv4Prefix convert(String value) {
            try {
                return parse(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }

    /** picocli converter for a plain host address ({@code --gateway}); gives the address as an int. */
    public static final class HostConverter implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            try {
                return parseHost(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }
}
