package io.flowstack.nativeio;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;

/**
 * Layout of Linux {@code struct ifreq} (x86_64, 40 bytes) and helpers to fill it.
 *
 * <pre>
 *  0                16        18                       40
 *  +----------------+---------+------------------------+
 *  | ifr_name[16]   | union: flags (short) / ifindex,   |
 *  | NUL-terminated | mtu (int) / sockaddr (family u16, |
 *  |                | sa_data = MAC at 18)              |
 *  +----------------+-----------------------------------+
 * </pre>
 *
 * <p>Owned by: nobody (stateless, thread safe).
 */
public final class Ifreq {
    /** {@code sizeof(struct ifreq)}. */
    public static final int SIZE = 40;
    /** {@code IFNAMSIZ}, including the terminating NUL. */
    public static final int IFNAMSIZ = 16;
    /** {@code ifr_name}: the interface name, NUL-terminated. */
    public static final long NAME = 0;
    /** {@code ifr_flags} (short). */
    public static final long FLAGS = 16;
    /** {@code ifr_ifindex} (int). */
    public static final long IFINDEX = 16;
    /** {@code ifr_mtu} (int). */
    public static final long MTU = 16;
    /** {@code ifr_hwaddr.sa_family} (u16). */
    public static final long HWADDR_FAMILY = 16;
    /** {@code ifr_hwaddr.sa_data}: the MAC address. */
    public static final long HWADDR_DATA = 18;

    private Ifreq() {
    }

    /**
     * Checks that {@code name} is a valid Linux interface name: 1 to 15 bytes of printable
     * ASCII, without '/', ':' or white space, and not "." or "..".
     *
     * @param name the name to check
     * @throws IllegalArgumentException with the reason
     */
    public static void checkName(String name) {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("interface name is empty");
        }
        if (name.length() >= IFNAMSIZ) {
            throw new IllegalArgumentException("interface name '" + name + "' is longer than "
                    + (IFNAMSIZ - 1) + " characters");
        }
        if (name.equals(".") || name.equals("..")) {
            throw new IllegalArgumentException("interface name '" + name + "' is not allowed");
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c <= ' ' || c >= 0x7f || c == '/' || c == ':') {
                throw new IllegalArgumentException("interface name '" + name
                        + "' contains an invalid character at index " + i);
            }
        }
    }

    /**
     * Allocates a zeroed ifreq with {@code name} filled in (validated by {@link #checkName}).
     *
     * @param arena the arena to allocate from
     * @param name the interface name
     * @return a {@link #SIZE}-byte segment, 8-byte aligned
     * @throws IllegalArgumentException if the name is invalid
     */
    public static MemorySegment allocate(Arena arena, String name) {
        checkName(name);
        MemorySegment ifr = arena.allocate(SIZE, 8);
        byte[] bytes = name.getBytes(StandardCharsets.US_ASCII);
        MemorySegment.copy(bytes, 0, ifr, ValueLayout.JAVA_BYTE, NAME, bytes.length);
        return ifr;
    }

    /**
     * The NUL-terminated name in {@code ifr} (e.g. as the kernel wrote it back).
     *
     * @param ifr an ifreq
     * @return the name, up to {@code IFNAMSIZ - 1} characters
     */
    public static String name(MemorySegment ifr) {
        int len = 0;
        while (len < IFNAMSIZ && ifr.get(ValueLayout.JAVA_BYTE, NAME + len) != 0) {
            len++;
        }
        byte[] bytes = new byte[len];
        MemorySegment.copy(ifr, ValueLayout.JAVA_BYTE, NAME, bytes, 0, len);
        return new String(bytes, StandardCharsets.US_ASCII);
    }

    /**
     * Reads {@code ifr_flags}, e.g. after {@code TUNGETIFF} or {@code SIOCGIFFLAGS}.
     *
     * @param ifr an ifreq
     * @return the {@code IFF_*} flags
     */
    public static short flags(MemorySegment ifr) {
        return ifr.get(ValueLayout.JAVA_SHORT, FLAGS);
    }

    /**
     * Writes {@code ifr_flags}, e.g. before {@code TUNSETIFF}.
     *
     * @param ifr an ifreq
     * @param flags the {@code IFF_*} flags
     */
    public static void flags(MemorySegment ifr, short flags) {
        ifr.set(ValueLayout.JAVA_SHORT, FLAGS, flags);
    }

    /**
     * Reads the {@code int} member of the union ({@code ifr_mtu}, {@code ifr_ifindex},
     * {@code ifr_qlen}), e.g. after {@code SIOCGIFMTU}.
     *
     * @param ifr an ifreq
     * @return the {@code int} at offset 16
     */
    public static int intValue(MemorySegment ifr) {
        return ifr.get(ValueLayout.JAVA_INT, MTU);
    }

    /**
     * Writes the {@code int} member of the union ({@code ifr_mtu}, {@code ifr_ifindex},
     * {@code ifr_qlen}), e.g. before {@code SIOCSIFMTU}.
     *
     * @param ifr an ifreq
     * @param value the value
     */
    public static void intValue(MemorySegment ifr, int value) {
        ifr.set(ValueLayout.JAVA_INT, MTU, value);
    }
}
