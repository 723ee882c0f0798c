package io.flowstack.nic;

import io.flowstack.nativeio.Ifreq;
import io.flowstack.nativeio.Libc;
import io.flowstack.nativeio.NativeException;
import io.flowstack.nativeio.Netdev;
import io.flowstack.nativeio.Tun;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.security.SecureRandom;

/**
 * A Linux TAP device, single- or multi-queue, opened through {@code /dev/net/tun}.
 *
 * <p>{@link #open} attaches to the TAP called {@code name} in the current network namespace,
 * creating it if it does not exist. With one queue the device is a plain
 * {@code IFF_TAP | IFF_NO_PI} TAP, which accepts one attach only (a second gives {@code EBUSY}).
 * With {@code queues > 1} it is {@code IFF_MULTI_QUEUE} and each queue is one more descriptor
 * attached with identical flags (the kernel allows up to 256). The kernel picks the RX queue by
 * its flow hash and learns from transmits (FRAME-IO §3). Descriptors are non-blocking and
 * close-on-exec. The kernel side (up/down, addresses) is configured by whoever runs the stack.
 * By default ({@link Options#DEFAULT}) every frame carries a {@code virtio_net_hdr} and the
 * offloads are on: the kernel hands over TCP super-frames of up to 64 KiB with partial checksums,
 * and the queues transmit super-frames that the kernel segments ({@link TapQueue}); reads and
 * small writes go many per system call through an io_uring per queue ({@code TapUring}).
 * {@link Options#NO_OFFLOAD} keeps one frame of at most the MTU per system call.
 *
 * <p>A non-persistent TAP disappears when {@link #close()} closes its last descriptor. The TAP
 * may be moved to another network namespace while open and keeps working. Its MTU is read with
 * {@code SIOCGIFMTU} at open time ({@value #DEFAULT_MTU} if unknown). Its transmit queue length,
 * which for a TAP is the depth of each queue's ring of frames waiting for the reader (1,000 when the
 * kernel creates a TAP), is raised to {@value #RX_RING_FRAMES} at open time and never lowered.
 *
 * <p>Owned by: the thread that opened it ({@link #open}, {@link #close()}); each {@link TapQueue}
 * is then owned by one netisr thread. Close only after the queue owners have stopped.
 */
public final class TapNic extends SteeredNic<TapQueue> {
    /** MTU assumed when the device cannot be asked (e.g. already moved to another namespace). */
    public static final int DEFAULT_MTU = 1500;
    /**
     * Frames each queue's ring holds for the reader, at least: a netisr off its CPU for a few
     * milliseconds (another task, the scheduler's tick) must not lose frames. The kernel's 1,000
     * hold 2 ms at the 500,000 frames/s one hping3 sends here; a warm one-core netisr lost
     * 1.8-2.6 % of such a flood with 500 or 1,000 and none with 4,096 (docs/BENCHMARKS.md). Like a
     * NIC's receive ring of 4,096 descriptors, it costs nothing while the reader keeps up.
     */
    public static final int RX_RING_FRAMES = 4096;

    /**
     * Open options.
     *
     * <p>Owned by: nobody (immutable).
     *
     * @param vnetHeader set {@code IFF_VNET_HDR} (10-byte {@code virtio_net_hdr} before each frame)
     * @param steering   for a multi-queue TAP, load the {@link SteeringTable} program so that the
     *                   kernel delivers each flow to its owner's queue; default on (if the kernel
     *                   refuses it, the TAP opens without, see {@link TapNic#steeringProblem()})
     * @param offload    with a vnet header: {@code TUNSETOFFLOAD(CSUM | TSO4 | TSO6 | TSO_ECN)}, and
     *                   {@code USO4 | USO6} where the kernel takes them, so the kernel hands over
     *                   partial checksums and TCP and UDP super-frames of up to 64 KiB,
     *                   and the queues transmit super-frames with checksum and segmentation requests
     *                   ({@link NicQueue#TX_TSO4}); if the kernel refuses, the TAP opens without
     *                   ({@link TapNic#offloadProblem()}). Ignored without a vnet header.
     * @param batchIo    read and write many frames per system call through an io_uring
     *                   ({@link TapQueue}, {@code TapUring}); off: one {@code readv}/{@code writev}
     *                   per frame. If the kernel refuses io_uring, the TAP opens without
     *                   ({@link TapNic#batchIoProblem()}).
     */
    public record Options(boolean vnetHeader, boolean steering, boolean offload, boolean batchIo) {
        /** Vnet header and offloads on, with steering when multi-queue, I/O batched through an io_uring. */
        public static final Options DEFAULT = new Options(true, true, true, true);
        /** Plain {@code IFF_TAP | IFF_NO_PI} (one frame of at most the MTU per system call), with steering. */
        public static final Options NO_OFFLOAD = new Options(false, true, false, false);

        /**
         * Options with steering on and offloads as the vnet header: both or neither.
         *
         * @param vnetHeader set {@code IFF_VNET_HDR} and the offloads
         */
        public Options(boolean vnetHeader) {
            this(vnetHeader, true, vnetHeader, false);
        }

        /**
         * These options with batched I/O on or off.
         *
         * @param on whether to batch reads and writes through an io_uring
         * @return the options
         */
        public Options withBatchIo(boolean on) {
            return new Options(vnetHeader, steering, offload, on);
        }
    }

    /** {@code TUNSETOFFLOAD} bits asked for: partial checksums and TCP super-frames (FRAME-IO §1.2). */
    static final int OFFLOADS = Tun.TUN_F_CSUM | Tun.TUN_F_TSO4 | Tun.TUN_F_TSO6 | Tun.TUN_F_TSO_ECN;
    /**
     * UDP super-frames too (USO, Linux 6.2+), where the kernel takes them: the stack cuts them into
     * their datagrams itself; on an older kernel the TAP opens with {@link #OFFLOADS} alone.
     */
    static final int USO = Tun.TUN_F_USO4 | Tun.TUN_F_USO6;

    private final short flags;
    private final Arena arena;
    private final String offloadProblem;
    private final String batchIoProblem;
    private final String ringProblem;

    private TapNic(String name, short flags, int mtu, TapQueue[] queues, Arena arena, SteeringTable steering,
                   String steeringProblem, String offloadProblem, String batchIoProblem, String ringProblem,
                   Toeplitz rssKey) {
        super(name, queues, mtu, steering, steeringProblem, rssKey);
        this.flags = flags;
        this.arena = arena;
        this.offloadProblem = offloadProblem;
        this.batchIoProblem = batchIoProblem;
        this.ringProblem = ringProblem;
    }

    /**
     * Why the queues' rings could not be raised to {@link #RX_RING_FRAMES} (e.g. {@code EPERM} on
     * a persistent TAP opened without {@code CAP_NET_ADMIN}), or null. The TAP works with the
     * length it had.
     *
     * @return the error text, or null
     */
    public String ringProblem() {
        return ringProblem;
    }

    /**
     * Why batched I/O was asked for and is off (the kernel refused an io_uring), or null.
     *
     * @return the error text, or null if batched I/O is on or was not asked for
     */
    public String batchIoProblem() {
        return batchIoProblem;
    }

    /**
     * Whether the queues read and write many frames per system call.
     *
     * @return true if opened with {@link Options#batchIo()} and the kernel gave the io_urings
     */
    public boolean batchIo() {
        return queues[0].batchIo();
    }

    /**
     * Why offloads were asked for and are off (the kernel refused {@code TUNSETOFFLOAD}), or null.
     *
     * @return the error text, or null if offloads are on or were not asked for
     */
    public String offloadProblem() {
        return offloadProblem;
    }

    /**
     * Whether the queues receive and transmit super-frames with partial checksums.
     *
     * @return true if {@code TUNSETOFFLOAD} took the offload bits
     */
    public boolean offloads() {
        return queues[0].offloads();
    }

    /**
     * {@link #open(String, int, Options)} with {@link Options#DEFAULT}.
     *
     * @param name interface name (1 to 15 characters)
     * @param queues 1 for a single-queue TAP, 2..256 for a multi-queue TAP
     * @return the open TAP; close it to detach its queues
     * @throws NativeException if a system call fails (the message names the call and the device)
     * @throws IllegalArgumentException for an invalid name or queue count
     */
    public static TapNic open(String name, int queues) {
        return open(name, queues, Options.DEFAULT);
    }

    /**
     * Attaches {@code queues} descriptors to the TAP {@code name}, creating the device if needed.
     *
     * @param name    interface name (1 to 15 characters)
     * @param queues  1 for a single-queue TAP, 2..256 for a multi-queue TAP
     * @param options open options
     * @return the open TAP; close it to detach its queues
     * @throws NativeException naming the call and the device, e.g.
     *     {@code TUNSETIFF flowtap0: EBUSY (Device or resource busy): the device is in use ...}
     * @throws IllegalArgumentException for an invalid name or queue count
     */
    public static TapNic open(String name, int queues, Options options) {
        return open(name, queues, options, Toeplitz.random(new SecureRandom()));
    }

    /**
     * {@link #open(String, int, Options)} whose steering program hashes with {@code rssKey} (the
     * stack's flow hash then takes the same, {@link #rssKey()}).
     *
     * @param name    interface name (1 to 15 characters)
     * @param queues  1 for a single-queue TAP, 2..256 for a multi-queue TAP
     * @param options open options
     * @param rssKey  the symmetric RSS key
     * @return the open TAP; close it to detach its queues
     * @throws NativeException naming the call and the device
     * @throws IllegalArgumentException for an invalid name or queue count
     */
    public static TapNic open(String name, int queues, Options options, Toeplitz rssKey) {
        Ifreq.checkName(name);
        if (queues < 1 || queues > 256) {
            throw new IllegalArgumentException("queues must be in [1, 256]: " + queues);
        }
        short flags = (short) (Tun.IFF_TAP | Tun.IFF_NO_PI);
        if (queues > 1) {
            flags |= Tun.IFF_MULTI_QUEUE;
        }
        if (options.vnetHeader()) {
            flags |= Tun.IFF_VNET_HDR;
        }
        Arena arena = Arena.ofShared();
        TapQueue[] qs = new TapQueue[queues];
        String actualName = name;
        boolean offload = options.vnetHeader() && options.offload();
        String offloadProblem = null;
        boolean batchIo = options.batchIo();
        String batchIoProblem = null;
        try {
            for (int i = 0; i < queues; i++) {
                int fd = Libc.open(Tun.DEVICE, Libc.O_RDWR | Libc.O_NONBLOCK | Libc.O_CLOEXEC);
                try {
                    actualName = attach(fd, name, flags, options);
                    if (i == 0) {
                        // TUNSETOFFLOAD is device-wide. Without a vnet header, clear whatever a
                        // persistent device carries: offloads without one silently break TCP
                        // (FRAME-IO §6). With one, a kernel that refuses them leaves today's path.
                        Libc.ioctl(fd, Tun.TUNSETOFFLOAD, 0L, "TUNSETOFFLOAD", name);
                        if (offload) {
                            try {
                                Libc.ioctl(fd, Tun.TUNSETOFFLOAD, (long) (OFFLOADS | USO), "TUNSETOFFLOAD", name);
                            } catch (NativeException noUso) {
                                try {
                                    Libc.ioctl(fd, Tun.TUNSETOFFLOAD, (long) OFFLOADS, "TUNSETOFFLOAD", name);
                                } catch (NativeException e) {
                                    offload = false;
                                    offloadProblem = e.getMessage();
                                }
                            }
                        }
                    }
                } catch (RuntimeException e) {
                    Libc.close(fd);
                    throw e;
                }
                TapQueue q;
                try {
                    q = new TapQueue(actualName, i, fd, options.vnetHeader(), offload, batchIo, arena);
                } catch (NativeException e) {
                    if (!batchIo || i > 0) {
                        Libc.close(fd);
                        throw e;
                    }
                    batchIo = false; // io_uring refused (kernel.io_uring_disabled): one frame per call
                    batchIoProblem = e.getMessage();
                    q = new TapQueue(actualName, i, fd, options.vnetHeader(), offload, false, arena);
                }
                qs[i] = q;
            }
        } catch (RuntimeException e) {
            closeEach(e, qs, TapQueue::close);
            arena.close();
            throw e;
        }
        int mtu;
        try {
            mtu = Netdev.mtu(actualName);
        } catch (NativeException e) {
            mtu = DEFAULT_MTU;
        }
        String ringProblem = deepenRings(actualName);
        SteeringTable steering = null;
        String problem = null;
        if (queues > 1 && options.steering()) {
            try {
                steering = SteeringTable.create(actualName, queues, rssKey);
                steering.attachToTap(qs[0].fd());
            } catch (RuntimeException e) {
                // the TAP still works: it picks a new flow's queue by the kernel's hash (frames hop)
                problem = e.getMessage();
                if (steering != null) {
                    steering.close();
                    steering = null;
                }
            }
        }
        return new TapNic(actualName, flags, mtu, qs, arena, steering, problem, offloadProblem, batchIoProblem,
                ringProblem, rssKey);
    }

    /** Raises the TAP's queue length to {@link #RX_RING_FRAMES}; returns why not, or null. */
    private static String deepenRings(String name) {
        try {
            if (Netdev.txQueueLen(name) < RX_RING_FRAMES) {
                Netdev.setTxQueueLen(name, RX_RING_FRAMES); // the kernel resizes every queue's ring
            }
            return null;
        } catch (NativeException e) {
            return e.getMessage();
        }
    }

    private static String attach(int fd, String name, short flags, Options options) {
        try (Arena tmp = Arena.ofConfined()) {
            MemorySegment ifr = Ifreq.allocate(tmp, name);
            Ifreq.flags(ifr, flags);
            Libc.ioctl(fd, Tun.TUNSETIFF, ifr, "TUNSETIFF", name);
            if (options.vnetHeader()) {
                MemorySegment size = tmp.allocateFrom(ValueLayout.JAVA_INT, Tun.VNET_HDR_LEN);
                Libc.ioctl(fd, Tun.TUNSETVNETHDRSZ, size, "TUNSETVNETHDRSZ", name);
            }
            return Ifreq.name(ifr);
        }
    }

    /**
     * The {@code TUNSETIFF} flags used for every attach.
     *
     * @return {@code IFF_TAP | IFF_NO_PI}, plus {@code IFF_MULTI_QUEUE} and {@code IFF_VNET_HDR}
     *     when used
     */
    public short flags() {
        return flags;
    }

    /**
     * Whether the device is a multi-queue TAP.
     *
     * @return true if opened with more than one queue
     */
    public boolean multiQueue() {
        return (flags & Tun.IFF_MULTI_QUEUE) != 0;
    }

    /**
     * The flags the kernel reports for queue {@code index}'s attachment ({@code TUNGETIFF}), e.g.
     * to check {@link Tun#IFF_MULTI_QUEUE} or {@link Tun#IFF_PERSIST}. Control path only.
     *
     * @param index the queue number, {@code 0 <= index < queueCount()}
     * @return the {@code ifr_flags} the kernel returns
     * @throws NativeException if the ioctl fails
     */
    public short kernelFlags(int index) {
        try (Arena tmp = Arena.ofConfined()) {
            MemorySegment ifr = tmp.allocate(Ifreq.SIZE, 8);
            Libc.ioctl(queues[index].fd(), Tun.TUNGETIFF, ifr, "TUNGETIFF", name());
            return Ifreq.flags(ifr);
        }
    }

    /** Closes every queue's descriptor (a non-persistent TAP then disappears). */
    @Override
    protected void release() {
        if (steering != null) {
            steering.close();
        }
        RuntimeException failure = closeEach(null, queues, TapQueue::close);
        arena.close();
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public String toString() {
        return "TapNic[" + name() + " queues=" + queues.length + " mtu=" + mtu() + "]";
    }
}
