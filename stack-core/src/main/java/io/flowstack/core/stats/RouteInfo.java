package io.flowstack.core.stats;

import io.flowstack.core.wire.Ipv4;

/**
 * One route of a stack's table, as {@code stack route show} lists it (a copy: reading it touches
 * no protocol state).
 *
 * @param prefix the destination network (big-endian int)
 * @param prefixLength 0..32 (0: the default route)
 * @param gateway the next hop, or 0 for a directly connected network
 * @param iface the name of the interface it leaves by
 * @param kind {@code connected} or {@code static}
 */
public record RouteInfo(int prefix, int prefixLength, int gateway, String iface, String kind) {
    /** {@return the destination as text: {@code A.B.C.D/P}, or {@code default}} */
    public String destination() {
        return prefixLength == 0 ? "default" : Ipv4.toString(prefix) + "/" + prefixLength;
    }

    @Override
    public String toString() {
        return destination() + (gateway != 0 ? " via " + Ipv4.toString(gateway) : "") + " dev " + iface + " " + kind;
    }
}
