package io.flowstack.core.route;

/**
 * Static checks of the addresses of a datagram being forwarded (RFC 1812 5.3.7, "Martian
 * Address Filtering", with the special addresses of 4.2.2.11 and 4.2.3.1): each answers a reason
 * code, 0 when the address may be forwarded, for the drop counter of that reason
 * ({@link #describe}). Whether the source is one of the router's own addresses or the directed
 * broadcast of a connected subnet depends on the interfaces and is the forwarder's check.
 *
 * <p>Stateless; no allocation.
 */
public final class Martians {
    /** The address may be forwarded. */
    public static final int OK = 0;
    /** Source on network 0 ("this network", 0.0.0.0/8): RFC 1812 5.3.7, 4.2.2.11 (a), (b). */
    public static final int SRC_THIS_NETWORK = 1;
    /** Source on network 127 (loopback): RFC 1812 5.3.7, 4.2.2.11 (e). */
    public static final int SRC_LOOPBACK = 2;
    /** Multicast source (224.0.0.0/4): not a unicast address, RFC 1812 5.3.7; RFC 1112 4. */
    public static final int SRC_MULTICAST = 3;
    /** Class E source (240.0.0.0/4, reserved): not a unicast address, RFC 1812 5.3.7. */
    public static final int SRC_CLASS_E = 4;
    /** Limited broadcast as the source (255.255.255.255): RFC 1812 4.2.2.11 (c), 5.3.7. */
    public static final int SRC_LIMITED_BROADCAST = 5;
    /** Destination on network 0: RFC 1812 5.3.7, 4.2.3.1. */
    public static final int DST_THIS_NETWORK = 6;
    /** Destination on network 127: RFC 1812 5.3.7. */
    public static final int DST_LOOPBACK = 7;
    /**
     * Multicast destination (224.0.0.0/4): a unicast router does not forward it (RFC 1812 5.2.1;
     * multicast forwarding needs a multicast routing protocol, RFC 1812 5.2.2 and RFC 1112).
     */
    public static final int DST_MULTICAST = 8;
    /** Class E destination (240.0.0.0/4 but 255.255.255.255): invalid, RFC 1812 5.3.7. */
    public static final int DST_CLASS_E = 9;
    /** Limited broadcast (255.255.255.255): never forwarded, RFC 1812 5.3.5.1. */
    public static final int DST_LIMITED_BROADCAST = 10;
    /** One more than the largest reason code (size of a counter array indexed by code). */
    public static final int REASONS = 11;

    private static final String[] DESCRIPTIONS = {
        "fine",
        "source on network 0 (0.0.0.0/8)",
        "source on network 127 (loopback)",
        "multicast source (224.0.0.0/4)",
        "class E source (240.0.0.0/4)",
        "limited broadcast source (255.255.255.255)",
        "destination on network 0 (0.0.0.0/8)",
        "destination on network 127 (loopback)",
        "multicast destination (224.0.0.0/4)",
        "class E destination (240.0.0.0/4)",
        "limited broadcast destination (255.255.255.255)",
    };

    private Martians() {
    }

    /** The reason a datagram with source address {@code src} must not be forwarded, or {@link #OK}. */
    public static int invalidSource(int src) {
        return switch (src >>> 24) {
            case 0 -> SRC_THIS_NETWORK;
            case 127 -> SRC_LOOPBACK;
            default -> {
                int top4 = src >>> 28;
                if (src == -1) {
                    yield SRC_LIMITED_BROADCAST;
                }
                yield top4 == 0xE ? SRC_MULTICAST : top4 == 0xF ? SRC_CLASS_E : OK;
            }
        };
    }

    /** The reason a datagram to {@code dst} must not be forwarded, or {@link #OK}. */
    public static int invalidDestination(int dst) {
        return switch (dst >>> 24) {
            case 0 -> DST_THIS_NETWORK;
            case 127 -> DST_LOOPBACK;
            default -> {
                int top4 = dst >>> 28;
                if (dst == -1) {
                    yield DST_LIMITED_BROADCAST;
                }
                yield top4 == 0xE ? DST_MULTICAST : top4 == 0xF ? DST_CLASS_E : OK;
            }
        };
    }

    /** A reason code in words (for counters and logs); "unknown reason N" for any other number. */
    public static String describe(int code) {
        return code >= 0 && code < DESCRIPTIONS.length ? DESCRIPTIONS[code] : "unknown reason " + code;
    }
}
