package io.flowstack.nic.packet;

import io.flowstack.nativeio.Errno;
import io.flowstack.nativeio.Ethtool;
import io.flowstack.nativeio.Ifreq;
import io.flowstack.nativeio.Libc;
import io.flowstack.nativeio.NativeException;
import io.flowstack.nativeio.Netdev;
import io.flowstack.nativeio.Packet;
import io.flowstack.nativeio.Tun;
import io.flowstack.nic.SteeredNic;
import io.flowstack.nic.SteeringTable;
import io.flowstack.nic.Toeplitz;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;

/**
 * An existing network interface (a real NIC or a veth) used through AF_PACKET: one socket per
 * queue (per netisr core), each with a TPACKET_V2 (default) or V3 receive ring and a transmit ring
 * of the same version
 * mapped into one {@code MemorySegment}; two or more are joined in one {@code PACKET_FANOUT} group
 * of their own so the kernel spreads the received frames over them (docs/AF_PACKET.md). A single
 * socket joins no group: the group's hook and its steering program would run for every frame,
 * in the receive softirq, to pick the only member (measured in docs/ROUTER.md).
 *
 * <p>Each socket is set up in the order the kernel requires (FRAME-IO §4.2, packet(7)):
 * <ol>
 *   <li>{@code socket(AF_PACKET, SOCK_RAW, 0)}: protocol 0 receives nothing until bound;</li>
 *   <li>{@code PACKET_VERSION} ({@link Options#ringVersion()}) and {@code PACKET_LOSS = 1} (both EBUSY once a ring
 *       exists; PACKET_LOSS makes the kernel skip a malformed TX slot instead of stopping the
 *       ring on it);</li>
 *   <li>{@code SO_SNDBUFFORCE} large enough for the whole TX ring in flight;
 *       {@code PACKET_QDISC_BYPASS} (frames go straight to the driver: the stack does its own
 *       queueing, and a full driver queue is ENOBUFS, retried at the next kick);
 *       {@code PACKET_IGNORE_OUTGOING} (our own transmissions, and the host's, are not looped
 *       back into the receive ring; {@link ReceiveRing} also drops {@code PACKET_OUTGOING} frames on
 *       kernels older than 4.20, which lack the option);</li>
 *   <li>V2 only: {@code PACKET_COPY_THRESH} and an 8 MiB {@code SO_RCVBUFFORCE}, so that a
 *       frame longer than a ring slot (a GSO super-frame) is also queued whole on the socket
 *       ({@link FrameRxRing});</li>
 *   <li>{@code PACKET_RX_RING} and {@code PACKET_TX_RING} ({@code tpacket_req3}; V2 reads its
 *       first 16 bytes), sized from the MTU ({@link Geometry}), then one {@code mmap} of both,
 *       RX ring first (packet_mmap.rst);</li>
 *   <li>{@code bind} to the interface with {@code ETH_P_ALL};</li>
 *   <li>{@code PACKET_ADD_MEMBERSHIP(PACKET_MR_PROMISC)} when the stack's MAC is not the
 *       interface's (the kernel counts the membership and drops it with the socket, so a crash
 *       never leaves the interface promiscuous);</li>
 *   <li>{@code PACKET_FANOUT}, with two or more queues: the first socket creates a group with
 *       {@code PACKET_FANOUT_FLAG_UNIQUEID} (the kernel picks an id no other group in the
 *       namespace uses: one group per stack instance) and
 *       {@code PACKET_FANOUT_FLAG_IGNORE_OUTGOING}, the others join it by that id, in queue
 *       order, so that fanout member {@code i} is queue {@code i}.</li>
 * </ol>
 *
 * <p>The interface must exist and be up in the current network namespace; its MTU is the
 * NIC's, whatever it is. Nothing else about it is changed. {@link #offloadWarnings()} reports
 * offloads worth a word (LRO).
 *
 * <p>Owned by: the thread that opened it ({@link #open}, {@link #close()},
 * {@link #kernelStatistics}); each {@link PacketQueue} is then owned by one netisr thread. Close
 * only after the queue owners have stopped.
 */
public final class PacketNic extends SteeredNic<PacketQueue> {
    /**
     * The longest frame a receive ring must hold whatever the MTU: a GSO super-frame (an IPv4
     * datagram of up to 65,535 bytes, {@link io.flowstack.nic.NicQueue#MAX_SUPER_FRAME_IP}, plus
     * the Ethernet header). A veth passes its peer's GSO skbs intact, and GRO/LRO on a NIC builds
     * them, so AF_PACKET may deliver one on any device.
     */
    public static final int MAX_SUPER_FRAME = io.flowstack.nic.NicQueue.MAX_SUPER_FRAME_IP + 14;
    /** Bytes of transmit ring per queue at most (large MTUs get fewer slots). */
    static final int MAX_TX_RING_BYTES = 16 << 20;
    /** Socket receive buffer for the whole frames of V2 COPY slots (a few dozen super-frames). */
    static final int COPY_RCVBUF = 8 << 20;

    /**
     * Ring and socket options.
     *
     * <p>Owned by: nobody (immutable).
     *
     * @param fanout         how the kernel spreads frames over the queues
     * @param promiscuous    make the interface promiscuous while open (needed when the stack's
     *                       MAC differs from the interface's)
     * @param qdiscBypass    {@code PACKET_QDISC_BYPASS}
     * @param rxBlockSize    bytes per receive block: a power of two, at least one page
     * @param rxBlockCount   receive blocks per queue
     * @param rxRetireMillis {@code tp_retire_blk_tov}: a block holding frames is handed over at
     *                       the latest this many ms after its first frame (the latency floor at
     *                       low rates; 0 lets the kernel pick from the link speed)
     * @param txFrames       transmit slots per queue (rounded up to whole blocks; fewer when a
     *                       large MTU would make the ring exceed 16 MiB)
     * @param txKickBatch    marked TX slots that trigger a kick before the end of the pass
     * @param ringVersion    {@code Packet.TPACKET_V2} (slots with their own status, taken as they
     *                       arrive: no latency floor) or {@code Packet.TPACKET_V3} (blocks handed
     *                       over when full or after {@code rxRetireMillis}); both rings of the
     *                       socket use it. With V2, {@code rxBlockSize * rxBlockCount} is the
     *                       ring's memory and {@code rxRetireMillis} is unused
     * @param offloads       {@code PACKET_VNET_HDR}: a {@code virtio_net_hdr} before every frame of
     *                       both rings, so the queue transmits super-frames with partial checksums
     *                       for the kernel to segment and finish ({@code tpacket_snd}), and learns
     *                       a received super-frame's segment size
     */
    public record Options(FanoutMode fanout, boolean promiscuous, boolean qdiscBypass,
                          int rxBlockSize, int rxBlockCount, int rxRetireMillis, int txFrames, int txKickBatch,
                          int ringVersion, boolean offloads) {
        /**
         * The defaults: Toeplitz steering (no hops, docs/AF_PACKET.md), promiscuous,
         * qdisc bypass, a TPACKET_V2 receive ring of 16 MiB (10,496 slots of 1,584 bytes at MTU
         * 1500: 25 ms of 64-byte frames at 400 k frames/s; super-frames are read whole from the
         * socket), 512 TX slots kicked every 32 frames (with offloads: 128 slots of 64 KiB),
         * offloads on.
         */
        public static final Options DEFAULT =
                new Options(FanoutMode.TOEPLITZ, true, true, 1 << 16, 256, 1, 512, 32, Packet.TPACKET_V2, true);

        public Options {
            if (fanout == null) {
                throw new IllegalArgumentException("fanout mode is required");
            }
            if (Integer.bitCount(rxBlockSize) != 1 || rxBlockSize < 4096) {
                throw new IllegalArgumentException("rxBlockSize must be a power of two >= 4096: " + rxBlockSize);
            }
            if (rxBlockCount < 2 || rxRetireMillis < 0 || txFrames < 2 || txKickBatch < 1) {
                throw new IllegalArgumentException("need >= 2 RX blocks, >= 2 TX frames, a kick batch >= 1 "
                        + "and a retire timeout >= 0");
            }
            if (ringVersion != Packet.TPACKET_V2 && ringVersion != Packet.TPACKET_V3) {
                throw new IllegalArgumentException("ringVersion must be TPACKET_V2 (1) or TPACKET_V3 (2): "
                        + ringVersion);
            }
        }

        /** These options with another fanout mode. */
        public Options withFanout(FanoutMode mode) {
            return new Options(mode, promiscuous, qdiscBypass, rxBlockSize, rxBlockCount,
                    rxRetireMillis, txFrames, txKickBatch, ringVersion, offloads);
        }

        /** These options with another promiscuous setting. */
        public Options withPromiscuous(boolean on) {
            return new Options(fanout, on, qdiscBypass, rxBlockSize, rxBlockCount,
                    rxRetireMillis, txFrames, txKickBatch, ringVersion, offloads);
        }

        /** These options with another ring version ({@code Packet.TPACKET_V2} or {@code TPACKET_V3}). */
        public Options withRingVersion(int version) {
            return new Options(fanout, promiscuous, qdiscBypass, rxBlockSize, rxBlockCount,
                    rxRetireMillis, txFrames, txKickBatch, version, offloads);
        }

        /** These options with offloads ({@code PACKET_VNET_HDR}) on or off. */
        public Options withOffloads(boolean on) {
            return new Options(fanout, promiscuous, qdiscBypass, rxBlockSize, rxBlockCount,
                    rxRetireMillis, txFrames, txKickBatch, ringVersion, on);
        }
    }

    private final int ifindex;
    private final Options options;
    private final int fanoutGroup;
    private final Arena arena;

    private PacketNic(String name, int ifindex, int mtu, Options options, int fanoutGroup, PacketQueue[] queues,
                      Arena arena, SteeringTable steering, String steeringProblem, Toeplitz rssKey) {
        super(name, queues, mtu, steering, steeringProblem, rssKey);
        this.ifindex = ifindex;
        this.options = options;
        this.fanoutGroup = fanoutGroup;
        this.arena = arena;
    }

    /**
     * {@link #open(String, int, Options, Toeplitz)} with an RSS key chosen at random now.
     *
     * @throws NativeException naming the call and the interface
     * @throws IllegalArgumentException for a missing or down interface, a bad name or count
     */
    public static PacketNic open(String ifname, int queues, Options options) {
        return open(ifname, queues, options, Toeplitz.random(new SecureRandom()));
    }

    /**
     * Opens {@code queues} AF_PACKET sockets on {@code ifname} (see the class comment), whose
     * Toeplitz fanout hashes with {@code rssKey} (the stack's flow hash then takes the same,
     * {@link #rssKey()}).
     *
     * @throws NativeException naming the call and the interface, e.g.
     *     {@code socket AF_PACKET: EPERM (Operation not permitted): needs root or CAP_NET_ADMIN}
     * @throws IllegalArgumentException for a missing or down interface, a bad name or count
     */
    public static PacketNic open(String ifname, int queues, Options options, Toeplitz rssKey) {
        Ifreq.checkName(ifname);
        if (queues < 1 || queues > 256) {
            throw new IllegalArgumentException("queues must be in [1, 256]: " + queues);
        }
        if (!Netdev.exists(ifname)) {
            throw new IllegalArgumentException("no interface " + ifname + " in this network namespace");
        }
        int ifindex = Netdev.index(ifname);
        if ((Netdev.flags(ifname) & Netdev.IFF_UP) == 0) {
            throw new IllegalArgumentException("interface " + ifname + " is down: bring it up first (ip link set "
                    + ifname + " up); AF_PACKET fanout needs a running socket");
        }
        int mtu = Netdev.mtu(ifname);
        Geometry g = Geometry.of(mtu, options);
        Arena arena = Arena.ofShared();
        PacketQueue[] qs = new PacketQueue[queues];
        int group = 0;
        int flags = 0;
        // Toeplitz steering: the eBPF program with the indirection table in a map, which follows
        // the stack's bucket moves (SteeringTable); if the kernel refuses it, the classic program,
        // which steers by the initial table only
        int type = options.fanout().kernelType();
        SteeringTable table = null;
        String problem = null;
        int prog = -1;
        boolean fanout = queues > 1;
        if (fanout && options.fanout() == FanoutMode.TOEPLITZ) {
            try {
                table = SteeringTable.create(ifname, queues, rssKey);
                prog = table.loadProgram();
                type = Packet.PACKET_FANOUT_EBPF;
            } catch (RuntimeException e) {
                problem = e.getMessage();
                if (table != null) {
                    table.close();
                    table = null;
                }
            }
        }
        try {
            for (int i = 0; i < queues; i++) {
                int fd = Packet.openSocket();
                try {
                    RingPair rings = configure(fd, ifname, ifindex, g, options, arena);
                    // one socket joins no group: its own hook, to which PACKET_IGNORE_OUTGOING
                    // (configure) applies
                    if (fanout && i == 0) {
                        flags = createFanout(fd, type, ifname);
                        group = Packet.fanout(fd) & 0xffff;
                        if (table != null) {
                            table.attachToFanout(fd, prog);
                        } else if (options.fanout() == FanoutMode.TOEPLITZ) {
                            setSteering(fd, ToeplitzSteering.program(queues, rssKey), ifname);
                        }
                    } else if (fanout) {
                        Packet.joinFanout(fd, group, type | flags, ifname);
                    }
                    qs[i] = new PacketQueue(ifname, i, fd, rings.rx, rings.tx, options.txKickBatch(), mtu,
                            arena.allocate(8, 8));
                } catch (RuntimeException e) {
                    Libc.close(fd);
                    throw e;
                }
            }
        } catch (RuntimeException e) {
            if (table != null) {
                table.close();
            }
            arena.close(); // unmaps the rings of the queues opened so far
            closeEach(e, qs, PacketQueue::close);
            throw e;
        } finally {
            if (prog >= 0) {
                Libc.close(prog); // the fanout group holds its own reference
            }
        }
        return new PacketNic(ifname, ifindex, mtu, options, group, qs, arena, table, problem, rssKey);
    }

    /**
     * Creates the NIC's fanout group with the first socket: a kernel-chosen unique id, and
     * {@code PACKET_FANOUT_FLAG_IGNORE_OUTGOING}, because a fanout member receives through the
     * group's hook, not its own, so the socket's PACKET_IGNORE_OUTGOING does not apply to it.
     * Kernels older than 4.20 refuse the flag (EINVAL); then {@link ReceiveRing} drops outgoing
     * frames itself.
     *
     * @return the flags the other members must join with
     */
    private static int createFanout(int fd, int type, String ifname) {
        try {
            Packet.joinFanout(fd, 0, type | Packet.PACKET_FANOUT_FLAG_UNIQUEID
                    | Packet.PACKET_FANOUT_FLAG_IGNORE_OUTGOING, ifname);
            return Packet.PACKET_FANOUT_FLAG_IGNORE_OUTGOING;
        } catch (NativeException e) {
            if (e.errno() != Errno.EINVAL) {
                throw e;
            }
            Packet.joinFanout(fd, 0, type | Packet.PACKET_FANOUT_FLAG_UNIQUEID, ifname);
            return 0;
        }
    }

    /**
     * Installs the group's classic BPF program ({@code PACKET_FANOUT_DATA} with a
     * {@code sock_fprog}; the kernel checks and copies it, and it stays with the group).
     */
    private static void setSteering(int fd, ClassicBpf.Program program, String ifname) {
        try (Arena tmp = Arena.ofConfined()) {
            MemorySegment fprog = program.fprog(tmp);
            Libc.setsockopt(fd, Packet.SOL_PACKET, Packet.PACKET_FANOUT_DATA, fprog, (int) fprog.byteSize(),
                    "PACKET_FANOUT_DATA", ifname + " (Toeplitz steering, " + program.insns().size() + " cBPF insns)");
        }
    }

    /**
     * Ring sizes derived from the MTU and the options (any MTU the device has: the kernel's rules
     * are {@code packet_set_ring}'s: block size a multiple of the page size, frame size a multiple
     * of 16 and at most the block size, frames never straddle blocks).
     *
     * <p>Owned by: nobody (immutable).
     */
    record Geometry(int version, int vnetLen, int rxBlockSize, int rxBlockCount, int rxFrameSize, int txBlockSize,
                    int txBlockCount, int txFrameSize) {
        /** V2: where the kernel puts a frame in an RX slot, TPACKET_ALIGN(52 + 16) - 14 (tpacket_rcv's macoff). */
        static final int V2_MACOFF = Packet.align(Packet.TPACKET2_HDRLEN + 16) - 14;
        /** V3: where the kernel puts a frame after its header, TPACKET_ALIGN(68 + 16) - 14. */
        static final int V3_MACOFF = Packet.align(Packet.TPACKET3_HDRLEN + 16) - 14;

        static Geometry of(int mtu, Options o) {
            boolean v3 = o.ringVersion() == Packet.TPACKET_V3;
            int vnet = o.offloads() ? Tun.VNET_HDR_LEN : 0; // tpacket_rcv: netoff += vnet_hdr_sz
            int wire = 14 + 4 + mtu; // Ethernet header, a VLAN tag still in the data, the MTU
            long rxBytes = (long) o.rxBlockSize() * o.rxBlockCount();
            int rxFrame;
            int rxBlock;
            if (v3) {
                // a block must hold the longest frame, a super-frame, or the kernel clamps it to
                // max_frame_len = block - 48 (tpacket_rcv); V3 ignores frame_size otherwise
                int need = Packet.BLOCK_DESC_SIZE + V3_MACOFF + vnet + Math.max(MAX_SUPER_FRAME, wire);
                rxBlock = Math.max(o.rxBlockSize(), pow2(need));
                rxFrame = 2048;
            } else {
                // a slot holds an MTU-sized frame; longer ones go whole through the socket (COPY)
                rxFrame = Packet.align(V2_MACOFF + vnet + wire);
                rxBlock = Math.max(o.rxBlockSize(), pow2(rxFrame));
            }
            int rxBlocks = (int) Math.max(2, rxBytes / rxBlock);
            // a TX slot: the tpacketN_hdr (48 or 32 bytes), [the vnet header,] then the frame: with
            // offloads a super-frame, else at most the MTU
            int txData = v3 ? Packet.TX_DATA_OFFSET_V3 : Packet.TX_DATA_OFFSET_V2;
            int txFrame = Math.max(2048, Packet.align(txData + vnet + (vnet > 0 ? Math.max(MAX_SUPER_FRAME, wire) : wire)));
            int txBlock = Math.max(pow2(txFrame), 1 << 16);
            int perBlock = txBlock / txFrame;
            int txBlocks = Math.min((o.txFrames() + perBlock - 1) / perBlock,
                    Math.max(2, MAX_TX_RING_BYTES / txBlock));
            return new Geometry(o.ringVersion(), vnet, rxBlock, rxBlocks, rxFrame, txBlock, txBlocks, txFrame);
        }

        private static int pow2(int x) {
            return x <= 1 ? 1 : Integer.highestOneBit(x - 1) << 1;
        }

        long rxBytes() {
            return (long) rxBlockSize * rxBlockCount;
        }

        long txBytes() {
            return (long) txBlockSize * txBlockCount;
        }
    }

    private record RingPair(ReceiveRing rx, TxRing tx) {
    }

    private static RingPair configure(int fd, String ifname, int ifindex, Geometry g, Options o, Arena arena) {
        Packet.setInt(fd, Packet.PACKET_VERSION, g.version(), "PACKET_VERSION", ifname);
        if (g.vnetLen() > 0) {
            Packet.setInt(fd, Packet.PACKET_VNET_HDR, 1, "PACKET_VNET_HDR", ifname); // before the rings (EBUSY after)
        }
        Packet.setInt(fd, Packet.PACKET_LOSS, 1, "PACKET_LOSS", ifname);
        int sndbuf = (int) Math.min(Integer.MAX_VALUE / 2, 2 * g.txBytes());
        Libc.setSocketBuffer(fd, true, sndbuf); // without CAP_NET_ADMIN capped at wmem_max; the kick retries the rest
        if (o.qdiscBypass()) {
            Packet.setInt(fd, Packet.PACKET_QDISC_BYPASS, 1, "PACKET_QDISC_BYPASS", ifname);
        }
        try {
            Packet.setInt(fd, Packet.PACKET_IGNORE_OUTGOING, 1, "PACKET_IGNORE_OUTGOING", ifname);
        } catch (NativeException e) {
            if (e.errno() != Errno.ENOPROTOOPT) {
                throw e;
            }
            // kernel < 4.20: ReceiveRing drops PACKET_OUTGOING frames itself
        }
        if (g.version() == Packet.TPACKET_V2) {
            // frames longer than a slot (GSO super-frames) are queued whole on the socket, and
            // only while the socket's receive buffer has room (tpacket_rcv): make it roomy
            Packet.setInt(fd, Packet.PACKET_COPY_THRESH, 1, "PACKET_COPY_THRESH", ifname);
            Libc.setSocketBuffer(fd, false, COPY_RCVBUF);
        }
        Packet.setRing(fd, Packet.PACKET_RX_RING, g.rxBlockSize(), g.rxBlockCount(), g.rxFrameSize(),
                o.rxRetireMillis(), ifname);
        Packet.setRing(fd, Packet.PACKET_TX_RING, g.txBlockSize(), g.txBlockCount(), g.txFrameSize(), 0, ifname);
        long total = g.rxBytes() + g.txBytes();
        MemorySegment map = Libc.mmap(total, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_SHARED | Libc.MAP_POPULATE,
                fd, 0, arena);
        MemorySegment rxMap = map.asSlice(0, g.rxBytes());
        ReceiveRing rx = g.version() == Packet.TPACKET_V3
                ? new RxRing(rxMap, g.rxBlockSize(), g.rxBlockCount(), g.vnetLen())
                : new FrameRxRing(rxMap, g.rxBlockSize(), g.rxBlockCount(), g.rxFrameSize(),
                        new SocketFrameReader(fd, g.vnetLen(), arena), g.vnetLen());
        TxRing tx = new TxRing(g.version(), map.asSlice(g.rxBytes(), g.txBytes()), g.txBlockSize(),
                g.txBlockCount(), g.txFrameSize(), g.vnetLen());
        Packet.bind(fd, ifindex, Packet.ETH_P_ALL_BE, ifname);
        if (o.promiscuous()) {
            Packet.addPromiscuous(fd, ifindex, ifname);
        }
        return new RingPair(rx, tx);
    }

    /**
     * Offloads of the interface worth a word. GRO needs none: its super-frames (up to 64 KiB) are
     * read whole ({@link #MAX_SUPER_FRAME}) and TCP takes each as one segment. LRO is reported:
     * the NIC merges segments itself and discards per-segment details (the kernel turns it off
     * on any device that forwards for the same reason). One line per item with the command;
     * empty when none applies or the device cannot be asked. Control path.
     */
    public List<String> offloadWarnings() {
        List<String> out = new ArrayList<>();
        String name = name();
        try {
            if (Ethtool.lro(name)) {
                out.add(name + ": large-receive-offload is on: the NIC merges segments and drops per-segment "
                        + "details; merged frames are taken as super-frames (ethtool -K " + name + " lro off)");
            }
        } catch (NativeException e) {
            // no LRO flag on this device
        }
        return out;
    }

    /** The interface index the sockets are bound to. */
    public int ifindex() {
        return ifindex;
    }

    /** The options the NIC was opened with. */
    public Options options() {
        return options;
    }


    /**
     * The fanout group id the kernel assigned (unique in this network namespace while open), or
     * 0 with a single queue, which joins no group.
     */
    public int fanoutGroup() {
        return fanoutGroup;
    }

    /** {@link PacketQueue#kernelStatistics()} of every queue, in queue order. Control path. */
    public List<PacketQueue.KernelStatistics> kernelStatistics() {
        List<PacketQueue.KernelStatistics> out = new ArrayList<>(queues.length);
        for (PacketQueue q : queues) {
            out.add(q.kernelStatistics());
        }
        return out;
    }

    /**
     * Per-queue counters of the rings and of the kernel, one line per queue, e.g.
     * {@code queue 0: rx 1200 (truncated 0, outgoing 0, vlan 0, csum-not-ready 0, csum-valid 0, copied 0,
     * corrupt blocks 0),
     * tx 3400 (drops 0, errors 0, kicks 120, kick errors 0), socket errors 0, kernel: packets 1200,
     * ring-full drops 0}.
     * It reads (and so resets) the kernel's clear-on-read statistics: control path, while the
     * sockets are open.
     */
    public String countersReport() {
        StringBuilder b = new StringBuilder();
        for (PacketQueue q : queues) {
            ReceiveRing r = q.rxRing();
            PacketQueue.KernelStatistics k = q.kernelStatistics();
            b.append("queue ").append(q.index()).append(": rx ").append(q.rxFrames())
                    .append(" (truncated ").append(r.truncated())
                    .append(", outgoing ").append(r.outgoing())
                    .append(", vlan ").append(r.vlanTagged())
                    .append(", csum-not-ready ").append(r.csumNotReady())
                    .append(", csum-valid ").append(r.csumValid())
                    .append(", copied ").append(r.copied())
                    .append(", corrupt blocks ").append(r.corruptBlocks())
                    .append(", blocks ").append(r.blocks())
                    .append("), tx ").append(q.txFrames())
                    .append(" (drops ").append(q.txDrops())
                    .append(", errors ").append(q.txErrors())
                    .append(", kicks ").append(q.txKicks())
                    .append(", kick errors ").append(q.txKickErrors())
                    .append("), socket errors ").append(q.socketErrors())
                    .append(", kernel: packets ").append(k.packets())
                    .append(", ring-full drops ").append(k.drops())
                    .append('\n');
        }
        return b.toString();
    }

    /**
     * Unmaps the rings and closes every socket (which leaves the fanout group and drops the
     * promiscuous membership). Call after the queue owners have stopped.
     */
    @Override
    protected void release() {
        if (steering != null) {
            steering.close();
        }
        RuntimeException failure = null;
        try {
            arena.close();
        } catch (RuntimeException e) {
            failure = e;
        }
        failure = closeEach(failure, queues, PacketQueue::close);
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public String toString() {
        return "PacketNic[" + name() + " queues=" + queues.length + " mtu=" + mtu() + " fanout=" + options.fanout().cliName()
                + " group=" + fanoutGroup + "]";
    }
}
