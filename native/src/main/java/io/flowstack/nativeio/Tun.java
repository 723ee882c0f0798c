package io.flowstack.nativeio;

/**
 * TUN/TAP constants from {@code linux/if_tun.h} (x86_64 ioctl numbers, FRAME-IO §1.1), so that
 * nothing needs kernel headers at run time.
 *
 * <p>Owned by: nobody (constants only).
 */
public final class Tun {
    /** The clone device. */
    public static final String DEVICE = "/dev/net/tun";

    // ioctls on a /dev/net/tun descriptor
    /** {@code struct ifreq *} (name + flags). */
    public static final long TUNSETIFF = 0x400454caL;
    /** int by value (0/1). */
    public static final long TUNSETPERSIST = 0x400454cbL;
    /** {@code unsigned int *}. */
    public static final long TUNGETFEATURES = 0x800454cfL;
    /** unsigned long by value (TUN_F_* bits). */
    public static final long TUNSETOFFLOAD = 0x400454d0L;
    /** {@code struct ifreq *}. */
    public static final long TUNGETIFF = 0x800454d2L;
    /** {@code int *}. */
    public static final long TUNSETSNDBUF = 0x400454d4L;
    /** {@code int *}. */
    public static final long TUNGETVNETHDRSZ = 0x800454d7L;
    /** {@code int *}. */
    public static final long TUNSETVNETHDRSZ = 0x400454d8L;
    /** {@code struct ifreq *} with IFF_ATTACH_QUEUE / IFF_DETACH_QUEUE. */
    public static final long TUNSETQUEUE = 0x400454d9L;
    /** {@code int *}. */
    public static final long TUNSETVNETLE = 0x400454dcL;
    /** {@code int *} (BPF program fd). */
    public static final long TUNSETSTEERINGEBPF = 0x800454e0L;
    /** {@code int *} (BPF program fd). */
    public static final long TUNSETFILTEREBPF = 0x800454e1L;
    /** {@code int *}. */
    public static final long TUNSETCARRIER = 0x400454e2L;

    // ifr_flags for TUNSETIFF
    public static final short IFF_TUN = 0x0001;
    public static final short IFF_TAP = 0x0002;
    public static final short IFF_NAPI = 0x0010;
    public static final short IFF_NAPI_FRAGS = 0x0020;
    public static final short IFF_NO_CARRIER = 0x0040;
    public static final short IFF_MULTI_QUEUE = 0x0100;
    public static final short IFF_ATTACH_QUEUE = 0x0200;
    public static final short IFF_DETACH_QUEUE = 0x0400;
    /** Read-only: reported by TUNGETIFF. */
    public static final short IFF_PERSIST = 0x0800;
    public static final short IFF_NO_PI = 0x1000;
    public static final short IFF_VNET_HDR = 0x4000;
    public static final short IFF_TUN_EXCL = (short) 0x8000;

    // TUNSETOFFLOAD bits
    public static final int TUN_F_CSUM = 0x01;
    public static final int TUN_F_TSO4 = 0x02;
    public static final int TUN_F_TSO6 = 0x04;
    public static final int TUN_F_TSO_ECN = 0x08;
    public static final int TUN_F_UFO = 0x10;
    public static final int TUN_F_USO4 = 0x20;
    public static final int TUN_F_USO6 = 0x40;

    /** {@code sizeof(struct virtio_net_hdr)}: the default vnet header size. */
    public static final int VNET_HDR_LEN = 10;

    private Tun() {
    }
}
