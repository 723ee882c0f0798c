package io.flowstack.core.stats;

import io.flowstack.core.wire.Ipv4;

/**
 * One interface of a stack with its counters summed over the cores, for {@code stack stats}
 * (a copy, taken on each core's netisr).
 *
 * @param name the NIC's name
 * @param address its IPv4 address (big-endian int)
 * @param prefixLength its subnet's prefix length
 * @param mac its Ethernet address (low 48 bits)
 * @param mtu its MTU in bytes
 * @param rxFrames frames read from it
 * @param rxBytes bytes read from it
 * @param txFrames frames sent on it
 * @param txBytes bytes sent on it
 * @param txDrops frames its transmit queue refused
 */
public record InterfaceInfo(String name, int address, int prefixLength, long mac, int mtu, long rxFrames,
                            long rxBytes, long txFrames, long txBytes, long txDrops) {
    /** {@return the address with its prefix length, {@code A.B.C.D/P}} */
    public String addressText() {
        return Ipv4.toString(address) + "/" + prefixLength;
    }
}
