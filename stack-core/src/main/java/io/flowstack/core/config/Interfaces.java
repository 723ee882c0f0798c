package io.flowstack.core.config;

import io.flowstack.core.wire.Ipv4;
import java.util.List;

/**
 * The interfaces of one stack, indexed 0..{@link #count()} - 1 as its NICs: Ethernet and IPv4
 * address, subnet, MTU and name. Interface 0 is the {@link StackConfig}'s; a router adds the
 * {@link RouterConfig}'s. Their subnets never overlap, so a destination is on the link of at most
 * one of them.
 *
 * <p>Immutable, in primitive arrays: every core reads it on its data path (the local-address and
 * connected-subnet checks are a scan of a few ints).
 */
public final class Interfaces {
    private final String[] names;
    private final long[] macs;
    private final int[] addresses;
    private final int[] prefixLengths;
    private final int[] masks;
    private final int[] broadcasts;
    private final int[] mtus;
    private final boolean forwarding;

    /**
     * Builds the table.
     *
     * @param config interface 0's addresses
     * @param router the other interfaces and whether to forward
     * @param names the NICs' names, one per interface
     * @param mtus each interface's MTU in bytes
     * @throws IllegalArgumentException if the counts disagree, or two interfaces' subnets overlap
     */
    public Interfaces(StackConfig config, RouterConfig router, List<String> names, int[] mtus) {
        int n = 1 + router.interfaces().size();
        if (names.size() != n || mtus.length != n) {
            throw new IllegalArgumentException(n + " interfaces configured but " + names.size() + " NICs given");
        }
        this.names = names.toArray(String[]::new);
        this.macs = new long[n];
        this.addresses = new int[n];
        this.prefixLengths = new int[n];
        this.masks = new int[n];
        this.broadcasts = new int[n];
        this.mtus = mtus.clone();
        this.forwarding = router.forwarding();
        for (int i = 0; i < n; i++) {
            InterfaceConfig c = i == 0 ? new InterfaceConfig(config.mac, config.address, config.prefixLength)
                    : router.interfaces().get(i - 1);
            macs[i] = c.mac();
            addresses[i] = c.address();
            prefixLengths[i] = c.prefixLength();
            masks[i] = Ipv4.mask(c.prefixLength());
            // a /31 or /32 has no directed broadcast (RFC 3021): only the limited one
            broadcasts[i] = c.prefixLength() >= 31 ? Ipv4.BROADCAST : (c.address() | ~masks[i]);
        }
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < i; j++) {
                int m = masks[i] & masks[j]; // the shorter prefix's mask
                if ((addresses[i] & m) == (addresses[j] & m)) {
                    throw new IllegalArgumentException("interfaces " + this.names[j] + " (" + subnet(j) + ") and "
                            + this.names[i] + " (" + subnet(i) + ") have overlapping subnets");
                }
            }
        }
    }

    /**
     * The interfaces of a plain endpoint: one, the configuration's.
     *
     * @param config its addresses
     * @param name the NIC's name
     * @param mtu its MTU
     * @return the table of one interface
     */
    public static Interfaces single(StackConfig config, String name, int mtu) {
        return new Interfaces(config, RouterConfig.ENDPOINT, List.of(name), new int[] {mtu});
    }

    /**
     * How many interfaces.
     *
     * @return the count, at least 1
     */
    public int count() {
        return macs.length;
    }

    /**
     * Whether datagrams for other hosts are forwarded (a router) rather than dropped.
     *
     * @return true for a router
     */
    public boolean forwarding() {
        return forwarding;
    }

    /**
     * Interface {@code i}'s NIC name.
     *
     * @param i the interface
     * @return the name
     */
    public String name(int i) {
        return names[i];
    }

    /**
     * Interface {@code i}'s Ethernet address.
     *
     * @param i the interface
     * @return the MAC in the low 48 bits
     */
    public long mac(int i) {
        return macs[i];
    }

    /**
     * Interface {@code i}'s IPv4 address.
     *
     * @param i the interface
     * @return the address as a big-endian int
     */
    public int address(int i) {
        return addresses[i];
    }

    /**
     * Interface {@code i}'s prefix length.
     *
     * @param i the interface
     * @return 1..32
     */
    public int prefixLength(int i) {
        return prefixLengths[i];
    }

    /**
     * Interface {@code i}'s subnet mask.
     *
     * @param i the interface
     * @return the mask as a big-endian int
     */
    public int netmask(int i) {
        return masks[i];
    }

    /**
     * Interface {@code i}'s directed broadcast address (the limited one for a /31 or /32).
     *
     * @param i the interface
     * @return the address as a big-endian int
     */
    public int broadcast(int i) {
        return broadcasts[i];
    }

    /**
     * Interface {@code i}'s MTU.
     *
     * @param i the interface
     * @return bytes of IPv4 datagram a frame carries
     */
    public int mtu(int i) {
        return mtus[i];
    }

    /**
     * The smallest MTU of all interfaces (what local traffic is sized by).
     *
     * @return the MTU in bytes
     */
    public int minMtu() {
        int m = Integer.MAX_VALUE;
        for (int v : mtus) {
            m = Math.min(m, v);
        }
        return m;
    }

    /**
     * The largest MTU of all interfaces (what receive slots are sized by).
     *
     * @return the MTU in bytes
     */
    public int maxMtu() {
        int m = 0;
        for (int v : mtus) {
            m = Math.max(m, v);
        }
        return m;
    }

    /**
     * The interface whose address {@code addr} is.
     *
     * @param addr an IPv4 address as a big-endian int
     * @return the interface, or -1 if it is none of ours
     */
    public int localIndex(int addr) {
        for (int i = 0; i < addresses.length; i++) {
            if (addresses[i] == addr) {
                return i;
            }
        }
        return -1;
    }

    /**
     * Whether {@code dst} is a broadcast address to us: the limited broadcast or the directed
     * broadcast of one of our subnets (RFC 1122 3.3.6, RFC 1812 5.3.5).
     *
     * @param dst an IPv4 address as a big-endian int
     * @return true if it is a broadcast address here
     */
    public boolean isBroadcast(int dst) {
        if (dst == Ipv4.BROADCAST) {
            return true;
        }
        for (int b : broadcasts) {
            if (b == dst) {
                return true;
            }
        }
        return false;
    }

    /**
     * The interface whose subnet holds {@code dst} (a connected route).
     *
     * @param dst an IPv4 address as a big-endian int
     * @return the interface, or -1 if on none of our subnets
     */
    public int connected(int dst) {
        for (int i = 0; i < masks.length; i++) {
            if ((dst & masks[i]) == (addresses[i] & masks[i])) {
                return i;
            }
        }
        return -1;
    }

    /**
     * Interface {@code i}'s subnet.
     *
     * @param i the interface
     * @return {@code A.B.C.D/P}
     */
    public String subnet(int i) {
        return Ipv4.toString(addresses[i] & masks[i]) + "/" + prefixLengths[i];
    }
}
