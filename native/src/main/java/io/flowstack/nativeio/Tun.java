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
    /**
     * {@code TUNSETIFF}: attach the descriptor to the TUN/TAP device named in the ifreq, creating
     * it if needed; argument {@code struct ifreq *} (name + flags, the kernel writes back the
     * name).
     */
    public static final long TUNSETIFF = 0x400454caL;
    /**
     * {@code TUNSETPERSIST}: keep the device when its last descriptor closes; argument int by value
     * (0/1).
     */
    public static final long TUNSETPERSIST = 0x400454cbL;
    /**
     * {@code TUNGETFEATURES}: the {@code IFF_*} flags this kernel supports; argument
     * {@code unsigned int *}.
     */
    public static final long TUNGETFEATURES = 0x800454cfL;
    /**
     * {@code TUNSETOFFLOAD}: the offloads the reader accepts; argument unsigned long by value
     * ({@code TUN_F_*} bits).
     */
    public static final long TUNSETOFFLOAD = 0x400454d0L;
    /**
     * {@code TUNGETIFF}: the attached device's name and flags; argument {@code struct ifreq *}.
     */
    public static final long TUNGETIFF = 0x800454d2L;
    /**
     * {@code TUNSETSNDBUF}: the device's send buffer in bytes; argument {@code int *}.
     */
    public static final long TUNSETSNDBUF = 0x400454d4L;
    /**
     * {@code TUNGETVNETHDRSZ}: the vnet header size; argument {@code int *}.
     */
    public static final long TUNGETVNETHDRSZ = 0x800454d7L;
    /**
     * {@code TUNSETVNETHDRSZ}: set the vnet header size (at least 10); argument {@code int *}.
     */
    public static final long TUNSETVNETHDRSZ = 0x400454d8L;
    /**
     * {@code TUNSETQUEUE}: enable or disable this queue of a multi-queue device; argument
     * {@code struct ifreq *} with IFF_ATTACH_QUEUE / IFF_DETACH_QUEUE.
     */
    public static final long TUNSETQUEUE = 0x400454d9L;
    /**
     * {@code TUNSETVNETLE}: little-endian vnet headers; argument {@code int *}.
     */
    public static final long TUNSETVNETLE = 0x400454dcL;
    /**
     * {@code TUNSETSTEERINGEBPF}: the eBPF program that picks each received frame's queue (-1
     * detaches it); argument {@code int *} (BPF program fd).
     */
    public static final long TUNSETSTEERINGEBPF = 0x800454e0L;
    /**
     * {@code TUNSETFILTEREBPF}: an eBPF filter of the frames the kernel passes to the reader;
     * argument {@code int *} (BPF program fd).
     */
    public static final long TUNSETFILTEREBPF = 0x800454e1L;
    /**
     * {@code TUNSETCARRIER}: carrier on or off; argument {@code int *}.
     */
    public static final long TUNSETCARRIER = 0x400454e2L;

    // ifr_flags for TUNSETIFF
    /** {@code TUNSETIFF} flag: a TUN device (IP packets, no link-level header). */
    public static final short IFF_TUN = 0x0001;
    /** {@code TUNSETIFF} flag: a TAP device (Ethernet frames). */
    public static final short IFF_TAP = 0x0002;
    /** {@code TUNSETIFF} flag: frames written are received through NAPI. */
    public static final short IFF_NAPI = 0x0010;
    /**
     * {@code TUNSETIFF} flag: NAPI receive of frames written as fragments (with {@link #IFF_NAPI}).
     */
    public static final short IFF_NAPI_FRAGS = 0x0020;
    /** {@code TUNSETIFF} flag: create the device with its carrier off. */
    public static final short IFF_NO_CARRIER = 0x0040;
    /** {@code TUNSETIFF} flag: a multi-queue device; each attach adds a queue. */
    public static final short IFF_MULTI_QUEUE = 0x0100;
    /** {@code TUNSETQUEUE} flag: re-enable this descriptor's queue. */
    public static final short IFF_ATTACH_QUEUE = 0x0200;
    /** {@code TUNSETQUEUE} flag: disable this descriptor's queue, keeping the descriptor. */
    public static final short IFF_DETACH_QUEUE = 0x0400;
    /**
     * Read-only: reported by {@code TUNGETIFF} for a persistent device ({@link #TUNSETPERSIST}).
     */
    public static final short IFF_PERSIST = 0x0800;
    /** {@code TUNSETIFF} flag: no 4-byte packet information header before each frame. */
    public static final short IFF_NO_PI = 0x1000;
    /** {@code TUNSETIFF} flag: a {@code struct virtio_net_hdr} before each frame. */
    public static final short IFF_VNET_HDR = 0x4000;
    /** {@code TUNSETIFF} flag: fail with {@code EBUSY} if the device already exists. */
    public static final short IFF_TUN_EXCL = (short) 0x8000;

    // TUNSETOFFLOAD bits
    /** {@code TUNSETOFFLOAD} bit: the reader accepts frames with a partial checksum. */
    public static final int TUN_F_CSUM = 0x01;
    /** {@code TUNSETOFFLOAD} bit: the reader accepts TCP/IPv4 super-frames (TSO). */
    public static final int TUN_F_TSO4 = 0x02;
    /** {@code TUNSETOFFLOAD} bit: the reader accepts TCP/IPv6 super-frames (TSO). */
    public static final int TUN_F_TSO6 = 0x04;
    /** {@code TUNSETOFFLOAD} bit: the reader accepts TSO frames with ECN. */
    public static final int TUN_F_TSO_ECN = 0x08;
    /** {@code TUNSETOFFLOAD} bit: the reader accepts UDP fragmentation offload frames. */
    public static final int TUN_F_UFO = 0x10;
    /** {@code TUNSETOFFLOAD} bit: the reader accepts UDP/IPv4 segmentation offload frames. */
    public static final int TUN_F_USO4 = 0x20;
    /** {@code TUNSETOFFLOAD} bit: the reader accepts UDP/IPv6 segmentation offload frames. */
    public static final int TUN_F_USO6 = 0x40;

    /** {@code sizeof(struct virtio_net_hdr)}: the default vnet header size. */
    public static final int VNET_HDR_LEN = 10;

    // struct virtio_net_hdr (include/uapi/linux/virtio_net.h; FRAME-IO §2), little-endian fields
    /** Offset of {@code u8 flags} in the vnet header. */
    public static final int VNET_FLAGS = 0;
    /** Offset of {@code u8 gso_type}. */
    public static final int VNET_GSO_TYPE = 1;
    /** Offset of {@code le16 hdr_len}: bytes of headers (Ethernet to TCP) of a super-frame. */
    public static final int VNET_HDR_LEN_FIELD = 2;
    /** Offset of {@code le16 gso_size}: payload bytes per segment. */
    public static final int VNET_GSO_SIZE = 4;
    /** Offset of {@code le16 csum_start}: where the checksummed range starts in the frame. */
    public static final int VNET_CSUM_START = 6;
    /** Offset of {@code le16 csum_offset}: the checksum field, from {@code csum_start}. */
    public static final int VNET_CSUM_OFFSET = 8;
    /** {@code VIRTIO_NET_HDR_F_NEEDS_CSUM}: the checksum is partial (the pseudo-header sum only). */
    public static final int VNET_F_NEEDS_CSUM = 1;
    /** {@code VIRTIO_NET_HDR_F_DATA_VALID}: the device verified the checksum. */
    public static final int VNET_F_DATA_VALID = 2;
    /** {@code VIRTIO_NET_HDR_GSO_NONE}. */
    public static final int VNET_GSO_NONE = 0;
    /** {@code VIRTIO_NET_HDR_GSO_TCPV4}. */
    public static final int VNET_GSO_TCPV4 = 1;
    /** {@code VIRTIO_NET_HDR_GSO_TCPV6}. */
    public static final int VNET_GSO_TCPV6 = 4;
    /** {@code VIRTIO_NET_HDR_GSO_ECN}: a bit added to the GSO type when the super-frame has CWR. */
    public static final int VNET_GSO_ECN = 0x80;

    private Tun() {
    }
}
