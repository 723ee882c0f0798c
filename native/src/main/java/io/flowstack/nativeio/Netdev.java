package io.flowstack.nativeio;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Network device queries and settings through {@code struct ifreq} ioctls on a short-lived
 * {@code AF_INET SOCK_DGRAM} control socket, in the calling thread's network namespace.
 *
 * <p>Owned by: nobody (stateless, thread safe). Control path only: every call opens and closes a
 * socket and allocates.
 */
public final class Netdev {
    /**
     * {@code SIOCGIFFLAGS} ({@code netdevice(7)}): get the interface flags into {@code ifr_flags}.
     */
    public static final long SIOCGIFFLAGS = 0x8913;
    /**
     * {@code SIOCSIFFLAGS}: set the interface flags from {@code ifr_flags} ({@code CAP_NET_ADMIN}).
     */
    public static final long SIOCSIFFLAGS = 0x8914;
    /** {@code SIOCGIFMTU}: get the MTU into {@code ifr_mtu}. */
    public static final long SIOCGIFMTU = 0x8921;
    /** {@code SIOCSIFMTU}: set the MTU from {@code ifr_mtu} ({@code CAP_NET_ADMIN}). */
    public static final long SIOCSIFMTU = 0x8922;
    /** {@code SIOCGIFTXQLEN}: get the transmit queue length into {@code ifr_qlen}. */
    public static final long SIOCGIFTXQLEN = 0x8942;
    /**
     * {@code SIOCSIFTXQLEN}: set the transmit queue length from {@code ifr_qlen}
     * ({@code CAP_NET_ADMIN}). For a TAP it is the depth of each queue's ring of frames waiting
     * for the reader (the kernel's {@code tun_queue_resize}).
     */
    public static final long SIOCSIFTXQLEN = 0x8943;
    /** {@code SIOCGIFHWADDR}: get the hardware address into {@code ifr_hwaddr}. */
    public static final long SIOCGIFHWADDR = 0x8927;
    /** {@code SIOCGIFINDEX}: get the interface index into {@code ifr_ifindex}. */
    public static final long SIOCGIFINDEX = 0x8933;

    /** Interface flag: administratively up. */
    public static final short IFF_UP = 0x1;
    /** Interface flag: a valid broadcast address is set. */
    public static final short IFF_BROADCAST = 0x2;
    /** Interface flag: operationally running (carrier). */
    public static final short IFF_RUNNING = 0x40;
    /** Interface flag: promiscuous mode (receives frames for every MAC address). */
    public static final short IFF_PROMISC = 0x100;

    private Netdev() {
    }

    /**
     * Whether an interface called {@code ifname} exists in this network namespace.
     *
     * @param ifname the interface name, in the calling thread's network namespace
     * @return true if {@code if_nametoindex(3)} knows it
     * @throws IllegalArgumentException if the name is invalid
     * @throws NativeException if the lookup fails for another reason than a missing device
     */
    public static boolean exists(String ifname) {
        Ifreq.checkName(ifname);
        try {
            Libc.ifNameToIndex(ifname);
            return true;
        } catch (NativeException e) {
            if (e.errno() == Errno.ENODEV || e.errno() == Errno.ENXIO) {
                return false;
            }
            throw e;
        }
    }

    /**
     * The interface index of {@code ifname}.
     *
     * @param ifname the interface name, in the calling thread's network namespace
     * @return the index, greater than 0
     * @throws IllegalArgumentException if the name is invalid
     * @throws NativeException if there is no such interface ({@code ENODEV})
     */
    public static int index(String ifname) {
        Ifreq.checkName(ifname);
        return Libc.ifNameToIndex(ifname);
    }

    /**
     * The interface flags ({@code SIOCGIFFLAGS}, e.g. {@link #IFF_UP}) as an unsigned value.
     *
     * @param ifname the interface name, in the calling thread's network namespace
     * @return the {@code IFF_*} flags, 0 to 65535
     * @throws NativeException if the ioctl fails, e.g. {@code ENODEV}
     */
    public static int flags(String ifname) {
        int sock = controlSocket();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ifr = Ifreq.allocate(arena, ifname);
            Libc.ioctl(sock, SIOCGIFFLAGS, ifr, "SIOCGIFFLAGS", ifname);
            return Short.toUnsignedInt(Ifreq.flags(ifr));
        } finally {
            Libc.close(sock);
        }
    }

    /**
     * Brings {@code ifname} administratively up or down (SIOCGIFFLAGS + SIOCSIFFLAGS).
     *
     * @param ifname the interface name, in the calling thread's network namespace
     * @param up true for up, false for down
     * @throws NativeException if an ioctl fails, e.g. {@code EPERM} without {@code CAP_NET_ADMIN}
     */
    public static void setUp(String ifname, boolean up) {
        int sock = controlSocket();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ifr = Ifreq.allocate(arena, ifname);
            Libc.ioctl(sock, SIOCGIFFLAGS, ifr, "SIOCGIFFLAGS", ifname);
            short flags = Ifreq.flags(ifr);
            short wanted = (short) (up ? flags | IFF_UP : flags & ~IFF_UP);
            if (wanted != flags) {
                Ifreq.flags(ifr, wanted);
                Libc.ioctl(sock, SIOCSIFFLAGS, ifr, "SIOCSIFFLAGS", ifname);
            }
        } finally {
            Libc.close(sock);
        }
    }

    /**
     * The MTU of {@code ifname} ({@code SIOCGIFMTU}).
     *
     * @param ifname the interface name, in the calling thread's network namespace
     * @return the MTU in bytes
     * @throws NativeException if the ioctl fails, e.g. {@code ENODEV}
     */
    public static int mtu(String ifname) {
        return getInt(ifname, SIOCGIFMTU, "SIOCGIFMTU");
    }

    /**
     * Sets the MTU of {@code ifname} ({@code SIOCSIFMTU}).
     *
     * @param ifname the interface name, in the calling thread's network namespace
     * @param mtu the new MTU in bytes
     * @throws NativeException if the ioctl fails, e.g. {@code EINVAL} for an MTU the device refuses
     *     or {@code EPERM}
     */
    public static void setMtu(String ifname, int mtu) {
        setInt(ifname, SIOCSIFMTU, "SIOCSIFMTU", mtu);
    }

    /**
     * The transmit queue length of {@code ifname} ({@code SIOCGIFTXQLEN}, {@code ip link}'s
     * {@code qlen}).
     *
     * @param ifname the interface name, in the calling thread's network namespace
     * @return the length in frames
     * @throws NativeException if the ioctl fails, e.g. {@code ENODEV}
     */
    public static int txQueueLen(String ifname) {
        return getInt(ifname, SIOCGIFTXQLEN, "SIOCGIFTXQLEN");
    }

    /**
     * Sets the transmit queue length of {@code ifname} ({@code SIOCSIFTXQLEN}).
     *
     * @param ifname the interface name, in the calling thread's network namespace
     * @param frames the new length in frames
     * @throws NativeException if the ioctl fails, e.g. {@code EPERM} without {@code CAP_NET_ADMIN}
     *     or {@code EINVAL} for a negative length
     */
    public static void setTxQueueLen(String ifname, int frames) {
        setInt(ifname, SIOCSIFTXQLEN, "SIOCSIFTXQLEN", frames);
    }

    /**
     * The 6-byte hardware (MAC) address of {@code ifname} ({@code SIOCGIFHWADDR}).
     *
     * @param ifname the interface name, in the calling thread's network namespace
     * @return a new 6-byte array, first octet first
     * @throws NativeException if the ioctl fails, e.g. {@code ENODEV}
     */
    public static byte[] hwAddr(String ifname) {
        int sock = controlSocket();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ifr = Ifreq.allocate(arena, ifname);
            Libc.ioctl(sock, SIOCGIFHWADDR, ifr, "SIOCGIFHWADDR", ifname);
            byte[] mac = new byte[6];
            MemorySegment.copy(ifr, ValueLayout.JAVA_BYTE, Ifreq.HWADDR_DATA, mac, 0, 6);
            return mac;
        } finally {
            Libc.close(sock);
        }
    }

    /** An ioctl that reads the {@code int} member of the ifreq union. */
    private static int getInt(String ifname, long request, String callName) {
        int sock = controlSocket();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ifr = Ifreq.allocate(arena, ifname);
            Libc.ioctl(sock, request, ifr, callName, ifname);
            return Ifreq.intValue(ifr);
        } finally {
            Libc.close(sock);
        }
    }

    /** An ioctl that writes the {@code int} member of the ifreq union. */
    private static void setInt(String ifname, long request, String callName, int value) {
        int sock = controlSocket();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ifr = Ifreq.allocate(arena, ifname);
            Ifreq.intValue(ifr, value);
            Libc.ioctl(sock, request, ifr, callName, ifname);
        } finally {
            Libc.close(sock);
        }
    }

    private static int controlSocket() {
        return Libc.socket(Libc.AF_INET, Libc.SOCK_DGRAM | Libc.SOCK_CLOEXEC, 0);
    }
}
