package io.flowstack.tools;

import io.flowstack.core.wire.Ipv4;
import java.util.regex.Pattern;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * The destination of a route: a network prefix written {@code A.B.C.D/LEN} with the network
 * address ({@code 198.18.5.0/24}, no host bits set), or {@code default} ({@code 0.0.0.0/0}).
 * Used by {@code stack router --route} and {@code stack route add|del}, and by the control
 * socket's {@code route} requests.
 *
 * <p>Prefixes a router never forwards to are refused (RFC 1812 5.3.7: 0.0.0.0/8 other than the
 * default route, 127.0.0.0/8 loopback, 224.0.0.0/4 multicast, 240.0.0.0/4 class E).
 *
 * @param network the network address, big-endian ({@code 198.18.5.0} is {@code 0xC6120500})
 * @param length  the prefix length, 0..32 (0 only for the default route)
 */
public record RoutePrefix(int network, int length) {
    /** The default route, {@code 0.0.0.0/0}. */
    public static final RoutePrefix DEFAULT = new RoutePrefix(0, 0);

    private static final Pattern DOTTED = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");

    /** Checks the length (0..32) and that no host bit is set. */
    public RoutePrefix {
        if (length < 0 || length > 32) {
            throw new IllegalArgumentException("a prefix length must be 0..32, got " + length);
        }
        if ((network & ~Ipv4.mask(length)) != 0) {
            throw new IllegalArgumentException(Ipv4.toString(network) + "/" + length + " has host bits set: the route's "
                    + "prefix is the network address, " + Ipv4.toString(network & Ipv4.mask(length)) + "/" + length);
        }
    }

    /**
     * Parses {@code A.B.C.D/LEN} or {@code default}; the exception's message says what is wrong
     * and how to write it.
     */
    public static RoutePrefix parse(String text) {
        String t = text.strip();
        if (t.equals("default")) {
            return DEFAULT;
        }
        int slash = t.indexOf('/');
        String dotted = slash < 0 ? t : t.substring(0, slash);
        if (!DOTTED.matcher(dotted).matches()) {
            throw new IllegalArgumentException("'" + text + "' is not a route prefix: write the network address and "
                    + "its length, e.g. 198.18.5.0/24, or default");
        }
        int address;
        try {
            address = Ipv4.parse(dotted);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("'" + text + "' is not an IPv4 prefix: each part must be 0..255");
        }
        if (slash < 0) {
            throw new IllegalArgumentException("'" + text + "' has no prefix length: write " + dotted
                    + "/32 for one host, or the network and its length, e.g. 198.18.5.0/24");
        }
        String p = t.substring(slash + 1);
        int length = p.matches("\\d{1,2}") ? Integer.parseInt(p) : -1;
        if (length < 0 || length > 32) {
            throw new IllegalArgumentException("'" + text + "': the prefix length must be 0..32, e.g. 198.18.5.0/24");
        }
        int network = address & Ipv4.mask(length);
        if (network != address) {
            throw new IllegalArgumentException("'" + text + "' has host bits set: the route's prefix is the network "
                    + "address, " + Ipv4.toString(network) + "/" + length);
        }
        if (length == 0) {
            return DEFAULT;
        }
        int first = network >>> 24;
        if (first == 0 || first == 127 || first >= 224) {
            throw new IllegalArgumentException("'" + text + "' is " + (first == 0 ? "in 0.0.0.0/8 (this network)"
                    : first == 127 ? "a loopback prefix" : first >= 240 ? "in the reserved class E" : "a multicast prefix")
                    + ": a router does not forward to it (RFC 1812 5.3.7)");
        }
        return new RoutePrefix(network, length);
    }

    /** Whether this is the default route, {@code 0.0.0.0/0}. */
    public boolean isDefault() {
        return length == 0;
    }

    /** The netmask of {@link #length}, big-endian. */
    public int mask() {
        return Ipv4.mask(length);
    }

    /** Whether {@code address} is inside this prefix. */
    public boolean contains(int address) {
        return (address & mask()) == network;
    }

    /** Whether this prefix and {@code other} share an address (one contains the other). */
    public boolean overlaps(RoutePrefix other) {
        int m = Ipv4.mask(Math.min(length, other.length));
        return (network & m) == (other.network & m);
    }

    /** The subnet of an interface address: {@code 198.18.1.1/24} gives {@code 198.18.1.0/24}. */
    public static RoutePrefix subnetOf(Ipv4Prefix address) {
        return new RoutePrefix(address.address() & Ipv4.mask(address.prefixLength()), address.prefixLength());
    }

    /** {@code default} or {@code A.B.C.D/LEN}, as {@link #parse} reads it. */
    @Override
    public String toString() {
        return isDefault() ? "default" : Ipv4.toString(network) + "/" + length;
    }

    /** picocli converter for a route's prefix. */
    public static final class Converter implements ITypeConverter<RoutePrefix> {
        @Override
        public RoutePrefix convert(String value) {
            try {
                return parse(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }
}
