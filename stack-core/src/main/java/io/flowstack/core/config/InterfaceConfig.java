package io.flowstack.core.config;

import io.flowstack.core.wire.Ipv4;

/**
 * One more interface of a stack with several (a router): its Ethernet address and its IPv4 address
 * with the subnet's prefix length. Interface 0 is always the one {@link StackConfig} describes
 * ({@link StackConfig#mac}, {@link StackConfig#address}, {@link StackConfig#prefixLength}).
 *
 * @param mac the interface's Ethernet address in the low 48 bits (unicast, not zero)
 * @param address the interface's IPv4 address as a big-endian int
 * @param prefixLength the length of its subnet's prefix, 1..32
 */
public record InterfaceConfig(long mac, int address, int prefixLength) {
    /** Checks the fields. */
    public InterfaceConfig {
        if (prefixLength < 1 || prefixLength > 32) {
            throw new IllegalArgumentException("prefix length must be 1..32, got " + prefixLength);
        }
        if (address == 0) {
            throw new IllegalArgumentException("an interface needs an IPv4 address");
        }
        if (mac == 0 || (mac >>> 48) != 0 || (mac & 0x01_00_00_00_00_00L) != 0) {
            throw new IllegalArgumentException("not a unicast Ethernet address: " + Long.toHexString(mac));
        }
    }

    @Override
    public String toString() {
        return Ipv4.toString(address) + "/" + prefixLength;
    }
}
