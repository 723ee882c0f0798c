package io.flowstack.nativeio;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Offload switches of a network device through the legacy {@code SIOCETHTOOL} commands
 * ({@code linux/ethtool.h}: {@code struct ethtool_value {u32 cmd; u32 data;}} pointed to by
 * {@code ifr_data}), the same calls {@code ethtool -k/-K} makes, so that nothing needs the
 * ethtool tool. Works in the calling thread's network namespace.
 *
 * <p>Used by the AF_PACKET back-end to check (and by its tests to set) the offloads that would
 * hand the stack frames it cannot take: GRO/LRO super-frames longer than the MTU, and
 * CHECKSUM_PARTIAL frames whose TCP/UDP checksum is unfinished (docs/AF_PACKET.md).
 *
 * <p>Owned by: nobody (stateless, thread safe; control path only).
 */
public final class Ethtool {
    /** {@code SIOCETHTOOL}. */
    public static final long SIOCETHTOOL = 0x8946;

    /** {@code ETHTOOL_GFLAGS}: get the device flags, see {@link #ETH_FLAG_LRO}. */
    public static final int ETHTOOL_GFLAGS = 0x25;
    /** {@code ETHTOOL_SFLAGS}: set the device flags. */
    public static final int ETHTOOL_SFLAGS = 0x26;
    /** {@code ETH_FLAG_LRO} in the {@code ETHTOOL_GFLAGS} word. */
    public static final int ETH_FLAG_LRO = 1 << 15;

    /** One offload and its legacy get/set command pair. */
    public enum Feature {
        /** rx-checksumming. */
        RX_CSUM(0x14, 0x15, "rx-checksumming"),
        /** tx-checksumming (off makes the kernel finish every checksum before transmit). */
        TX_CSUM(0x16, 0x17, "tx-checksumming"),
        /** scatter-gather. */
        SG(0x18, 0x19, "scatter-gather"),
        /** tcp-segmentation-offload. */
        TSO(0x1e, 0x1f, "tcp-segmentation-offload"),
        /** generic-segmentation-offload. */
        GSO(0x23, 0x24, "generic-segmentation-offload"),
        /** generic-receive-offload. */
        GRO(0x2b, 0x2c, "generic-receive-offload");

        private final int get;
        private final int set;
        private final String ethtoolName;

        Feature(int get, int set, String ethtoolName) {
            this.get = get;
            this.set = set;
            this.ethtoolName = ethtoolName;
        }

        /**
         * The name {@code ethtool -k} prints.
         *
         * @return the name, e.g. {@code generic-receive-offload}
         */
        public String ethtoolName() {
            return ethtoolName;
        }
    }

    private static final long IFR_DATA = 16;
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT;

    private Ethtool() {
    }

    /**
     * Whether {@code feature} is on for {@code ifname}.
     *
     * @param ifname the interface name, in the calling thread's network namespace
     * @param feature the offload
     * @return true if it is on
     * @throws NativeException if the ioctl fails, e.g. {@code ENODEV} or {@code EOPNOTSUPP}
     */
    public static boolean get(String ifname, Feature feature) {
        return value(ifname, feature.get, 0, "ETHTOOL_G" + feature.name()) != 0;
    }

    /**
     * Turns {@code feature} on or off. Dependent features follow as the kernel decides (TSO
     * needs tx-checksumming and scatter-gather).
     *
     * @param ifname the interface name, in the calling thread's network namespace
     * @param feature the offload
     * @param on true to turn it on
     * @throws NativeException e.g. {@code EOPNOTSUPP} when the device cannot change it
     */
    public static void set(String ifname, Feature feature, boolean on) {
        value(ifname, feature.set, on ? 1 : 0, "ETHTOOL_S" + feature.name());
    }

    /**
     * Whether large receive offload is on ({@code ETHTOOL_GFLAGS & ETH_FLAG_LRO}).
     *
     * @param ifname the interface name, in the calling thread's network namespace
     * @return true if LRO is on
     * @throws NativeException if the ioctl fails
     */
    public static boolean lro(String ifname) {
        return (value(ifname, ETHTOOL_GFLAGS, 0, "ETHTOOL_GFLAGS") & ETH_FLAG_LRO) != 0;
    }

    /**
     * Turns large receive offload on or off, keeping the other flags.
     *
     * @param ifname the interface name, in the calling thread's network namespace
     * @param on true to turn LRO on
     * @throws NativeException if an ioctl fails, e.g. {@code EOPNOTSUPP}
     */
    public static void lro(String ifname, boolean on) {
        int flags = value(ifname, ETHTOOL_GFLAGS, 0, "ETHTOOL_GFLAGS");
        int wanted = on ? flags | ETH_FLAG_LRO : flags & ~ETH_FLAG_LRO;
        if (wanted != flags) {
            value(ifname, ETHTOOL_SFLAGS, wanted, "ETHTOOL_SFLAGS");
        }
    }

    private static int value(String ifname, int cmd, int data, String callName) {
        int sock = Libc.socket(Libc.AF_INET, Libc.SOCK_DGRAM | Libc.SOCK_CLOEXEC, 0);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ev = arena.allocate(8, 4);
            ev.set(INT, 0, cmd);
            ev.set(INT, 4, data);
            MemorySegment ifr = Ifreq.allocate(arena, ifname);
            ifr.set(ValueLayout.JAVA_LONG, IFR_DATA, ev.address());
            Libc.ioctl(sock, SIOCETHTOOL, ifr, callName, ifname);
            return ev.get(INT, 4);
        } finally {
            Libc.close(sock);
        }
    }
}
