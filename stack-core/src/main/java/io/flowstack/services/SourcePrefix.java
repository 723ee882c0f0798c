package io.flowstack.services;

import java.util.regex.Pattern;

/**
 * An IPv4 source prefix a service accepts connections from, written {@code A.B.C.D/LEN} with the
 * network address ({@code 198.18.0.0/24}: no host bit set), or {@code A.B.C.D} for one host
 * ({@code /32}). Immutable.
 *
 * @param network the network address, big-endian ({@code 198.18.0.0} is {@code 0xC6120000})
 * @param length the prefix length, 0..32
 */
public record SourcePrefix(int network, int length) {
    private static final Pattern DOTTED = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");

    /**
     * Checks the length and that no host bit is set.
     *
     * @throws IllegalArgumentException if {@code length} is outside 0..32 or {@code network} has
     *     host bits set
     */
    public SourcePrefix {
        if (length < 0 || length > 32) {
            throw new IllegalArgumentException("a prefix length must be 0..32, got " + length);
        }
        if ((network & ~mask(length)) != 0) {
            throw new IllegalArgumentException(dotted(network) + "/" + length + " has host bits set: write "
                    + dotted(network & mask(length)) + "/" + length);
        }
    }

    /**
     * Parses {@code A.B.C.D/LEN} or {@code A.B.C.D}; the exception's message is one line saying
     * what is wrong and how to write it.
     *
     * @param text the prefix
     * @return the prefix
     * @throws IllegalArgumentException if {@code text} is not such a prefix
     */
    public static SourcePrefix parse(String text) {
        String t = text.strip();
        int slash = t.indexOf('/');
        String a = slash < 0 ? t : t.substring(0, slash);
        if (!DOTTED.matcher(a).matches()) {
            throw new IllegalArgumentException("'" + text + "' is not an IPv4 prefix: write the network address and its"
                    + " length, e.g. 198.18.0.0/24, or one address");
        }
        int address = 0;
        for (String part : a.split("\\.")) {
            int v = Integer.parseInt(part);
            if (v > 255) {
                throw new IllegalArgumentException("'" + text + "' is not an IPv4 prefix: each part must be 0..255");
            }
            address = address << 8 | v;
        }
        if (slash < 0) {
            return new SourcePrefix(address, 32);
        }
        String p = t.substring(slash + 1);
        int length = p.matches("\\d{1,2}") ? Integer.parseInt(p) : -1;
        if (length < 0 || length > 32) {
            throw new IllegalArgumentException("'" + text + "': the prefix length must be 0..32, e.g. 198.18.0.0/24");
        }
        if ((address & ~mask(length)) != 0) {
            throw new IllegalArgumentException("'" + text + "' has host bits set: write " + dotted(address & mask(length))
                    + "/" + length + " for the network, or " + dotted(address) + "/32 for one host");
        }
        return new SourcePrefix(address, length);
    }

    /**
     * Whether {@code address} is inside this prefix.
     *
     * @param address an IPv4 address, big-endian
     * @return true if its first {@link #length} bits are the network's
     */
    public boolean contains(int address) {
        return (address & mask(length)) == network;
    }

    private static int mask(int length) {
        return length == 0 ? 0 : -1 << (32 - length);
    }

    private static String dotted(int a) {
        return (a >>> 24) + "." + (a >>> 16 & 0xFF) + "." + (a >>> 8 & 0xFF) + "." + (a & 0xFF);
    }

    /** {@code A.B.C.D/LEN}, as {@link #parse} reads it. */
    @Override
    public String toString() {
        return dotted(network) + "/" + length;
    }
}
