package io.flowstack.core.route;

import io.flowstack.core.wire.Ipv4;

/**
 * A route as {@code stack route show} lists it.
 *
 * @param prefix the network (host bits zero)
 * @param length the prefix length, 0..32
 * @param ifIndex the outgoing interface
 * @param gateway the gateway, or 0 for on-link
 * @param kind where the route came from
 */
public record Route(int prefix, int length, int ifIndex, int gateway, RouteKind kind) {
    /** "198.18.0.0/24 dev 1 connected", "0.0.0.0/0 via 198.18.0.254 dev 0 static". */
    @Override
    public String toString() {
        return Ipv4.toString(prefix) + "/" + length + (gateway != 0 ? " via " + Ipv4.toString(gateway) : "")
                + " dev " + ifIndex + " " + kind;
    }
}
