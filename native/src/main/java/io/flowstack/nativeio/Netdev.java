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
    public static final long SIOCGIFFLAGS = 0x8913;
    public static final long SIOCSIFFLAGS = 0x8914;
    public static final long SIOCGIFMTU = 0x8921;
    public static final long SIOCSIFMTU = 0x8922;
    public static final long SIOCGIFHWADDR = 0x8927;
    public static final long SIOCGIFINDEX = 0x8933;

    /** Interface flag: administratively up. */
    public static final short IFF_UP = 0x1;
    public static final short IFF_BROADCAST = 0x2;
    /** Interface flag: operationally running (carrier). */
    public static final short IFF_RUNNING = 0x40;
    public static final short IFF_PROMISC = 0x100;

    private Netdev() {
    }

    /** Whether an interface called {@code ifname} exists in this network namespace. */
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

    /** The interface index of {@code ifname}. */
    public static int index(String ifname) {
        Ifreq.checkName(ifname);
        return Libc.ifNameToIndex(ifname);
    }

    /** The interface flags ({@code SIOCGIFFLAGS}, e.g. {@link #IFF_UP}) as an unsigned value. */
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

    /** Brings {@code ifname} administratively up or down (SIOCGIFFLAGS + SIOCSIFFLAGS). */
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

    /** The MTU of {@code ifname} ({@code SIOCGIFMTU}). */
    public static int mtu(String ifname) {
        int sock = controlSocket();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ifr = Ifreq.allocate(arena, ifname);
            Libc.ioctl(sock, SIOCGIFMTU, ifr, "SIOCGIFMTU", ifname);
            return Ifreq.intValue(ifr);
        } finally {
            Libc.close(sock);
        }
    }

    /** Sets the MTU of {@code ifname} ({@code SIOCSIFMTU}). */
    public static void setMtu(String ifname, int mtu) {
        int sock = controlSocket();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ifr = Ifreq.allocate(arena, ifname);
            Ifreq.intValue(ifr, mtu);
            Libc.ioctl(sock, SIOCSIFMTU, ifr, "SIOCSIFMTU", ifname);
        } finally {
            Libc.close(sock);
        }
    }

    /** The 6-byte hardware (MAC) address of {@code ifname} ({@code SIOCGIFHWADDR}). */
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

    private static int controlSocket() {
        return Libc.socket(Libc.AF_INET, Libc.SOCK_DGRAM | Libc.SOCK_CLOEXEC, 0);
    }
}
