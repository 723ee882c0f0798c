package io.flowstack.core.stats;

import io.flowstack.core.wire.Ipv4;
import java.net.InetAddress;

/**
 * A copy of one entry of one core's ARP cache replica, for statistics. Immutable: made on the
 * owning netisr by {@code ArpLayer.snapshot} (package {@code core.arp}), read by any thread
 * afterwards.
 *
 * @param core           the core whose replica holds the entry
 * @param address        the neighbour's IPv4 address
 * @param mac            its MAC, or -1 while unresolved
 * @param state          {@code REACHABLE} or {@code INCOMPLETE}
 * @param expiresInNanos time left before a resolved entry expires (0 for an unresolved one)
 * @param queued         frames waiting for the resolution
 * @param iface          the interface (NIC name) whose cache it is
 */
public record ArpEntryInfo(int core, int address, long mac, String state, long expiresInNanos, int queued,
                           String iface) {
    /**
     * The neighbour's address ({@link #address}) as an {@link InetAddress}.
     *
     * @return the address
     */
    public InetAddress inetAddress() {
        return Ipv4.toInetAddress(address);
    }
}
