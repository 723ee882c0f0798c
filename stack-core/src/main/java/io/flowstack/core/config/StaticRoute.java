package io.flowstack.core.config;

import io.flowstack.core.wire.Ipv4;

/**
 * A static route (RFC 1812 5.2.4): datagrams to {@code prefix/prefixLength} go to the gateway
 * {@code gateway}, which must be on one of the interfaces' subnets. A prefix length of 0 is the
 * default route.
 *
 * @param prefix the destination network as a big-endian int, host bits zero
 * @param prefixLength 0..32
 * @param gateway the next hop as a big-endian int (not 0)
 */
public record StaticRoute(int prefix, int prefixLength, int gateway) {
    /** Checks the fields. */
    public StaticRoute {
        if (prefixLength < 0 || prefixLength > 32) {
            throw new IllegalArgumentException("prefix length must be 0..32, got " + prefixLength);
        }
        if ((prefix & ~Ipv4.mask(prefixLength)) != 0) {
            throw new IllegalArgumentException(Ipv4.toString(prefix) + "/" + prefixLength
                    + " has host bits set: write it as " + Ipv4.toString(prefix & Ipv4.mask(prefixLength))
                    + "/" + prefixLength);
        }
        if (gateway == 0) {
            throw new IllegalArgumentException("a static route needs a gateway");
        }
    }

    @Override
    public String toString() {
        return (prefixLength == 0 ? "default" : Ipv4.toString(prefix) + "/" + prefixLength)
                + " via " + Ipv4.toString(gateway);
    }
}
