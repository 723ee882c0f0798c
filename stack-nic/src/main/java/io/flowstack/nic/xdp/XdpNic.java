package io.flowstack.nic.xdp;

import io.flowstack.nativeio.Bpf;
import io.flowstack.nativeio.Errno;
import io.flowstack.nativeio.Ifreq;
import io.flowstack.nativeio.Libc;
import io.flowstack.nativeio.NativeException;
import io.flowstack.nativeio.Netdev;
import io.flowstack.nativeio.Packet;
import io.flowstack.nic.AbstractNic;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * An existing network interface (a real NIC or a veth) used through AF_XDP: an XDP program that
 * redirects every received frame to the AF_XDP socket of its receive queue
 * ({@link XdpProgram}), and one socket per queue (per netisr core), each with its own UMEM and
 * rings ({@link XskSocket}, {@link XdpQueue}). docs/AF_XDP.md has the design and the figures.
 *
 * <p>{@link #open} does, in order:
 * <ol>
 *   <li>checks: the interface exists and is up, its MTU fits a UMEM chunk, and it has at least as
 *       many receive queues as the stack has cores (queue {@code i} feeds core {@code i}; frames
 *       of a flow that hashes to another core hop there);</li>
 *   <li>{@code BPF_MAP_CREATE} of an XSKMAP of one entry per queue, {@code BPF_PROG_LOAD} of the
 *       program, {@code BPF_LINK_CREATE} in driver mode, else generic mode ({@link #mode()});</li>
 *   <li>per queue: the socket, bound with {@code XDP_ZEROCOPY} when the program runs in driver
 *       mode and {@link Options#zeroCopy()} asks for it, else (or if the driver refuses it)
 *       {@code XDP_COPY}; then {@code xsks[i] = fd};</li>
 *   <li>per queue in copy mode: a companion AF_PACKET socket with {@code PACKET_VNET_HDR}
 *       ({@link GsoPacketSocket}), through which the queue sends TCP super-frames whole for the
 *       kernel to segment ({@link XdpQueue#txOffloads()}); if it cannot be opened the queue goes
 *       without ({@link #superFrameProblem()} says why) and the following queues do not try;</li>
 *   <li>when the stack's MAC is not the interface's, an AF_PACKET socket that holds a
 *       {@code PACKET_MR_PROMISC} membership (dropped by the kernel with the socket, so a crash
 *       never leaves the interface promiscuous).</li>
 * </ol>
 * Everything the NIC holds is a file descriptor or a mapping of this process: {@link #close()},
 * or the process ending, detaches the program and frees the rings.
 *
 * <p>Owned by: the thread that opened it ({@link #open}, {@link #close()}, the reports); each
 * {@link XdpQueue} is then owned by one netisr thread. Close only after the queue owners have
 * stopped.
 */
public final class XdpNic extends AbstractNic<XdpQueue> {
    /**
     * Ring and attachment options.
     *
     * <p>Owned by: nobody (immutable).
     *
     * @param mode        where the program runs; null to try driver mode, then generic
     * @param zeroCopy    try {@code XDP_ZEROCOPY} in driver mode (falls back to copy mode)
     * @param promiscuous make the interface promiscuous while open (the stack's MAC is not the
     *                    interface's)
     * @param rxRingSize  entries of the fill and RX rings (a power of two): the chunks given to
     *                    receiving, what absorbs the netisr's absences
     * @param txRingSize  entries of the TX and completion rings (a power of two): the chunks
     *                    given to sending; the UMEM has {@code rxRingSize + txRingSize} chunks
     * @param kickBatch   frames on the TX ring that trigger a kick before the end of the pass
     * @param offloads    in copy mode, a companion socket that sends TCP super-frames whole
     *                    ({@link GsoPacketSocket}), and on every queue the stack's software GRO
     *                    ({@link XdpQueue#softGro()}); off for a wrapper (capture, impairment)
     *                    that takes frames of at most the MTU only, and for {@code --no-offload}
     */
    public record Options(XdpProgram.Mode mode, boolean zeroCopy, boolean promiscuous, int rxRingSize,
                          int txRingSize, int kickBatch, boolean offloads) {
        /**
         * Driver mode if the driver has it, zero-copy if it has that, promiscuous, 8,192 receive
         * entries (as AF_PACKET's 10,496 slots: 70 ms of 64-byte frames at 115,000 frames/s),
         * 2,048 transmit entries (20 MiB of UMEM per queue with 2 KiB chunks), kicks every 64
         * frames, offloads.
         */
        public static final Options DEFAULT = new Options(null, true, true, 8192, 2048, 64, true);

        public Options {
            for (int size : new int[] {rxRingSize, txRingSize}) {
                if (Integer.bitCount(size) != 1 || size < 64 || size > 1 << 16) {
                    throw new IllegalArgumentException("ring sizes must be powers of two in [64, 65536]: " + size);
                }
            }
            if (kickBatch < 1) {
                throw new IllegalArgumentException("kickBatch must be >= 1: " + kickBatch);
            }
        }

        /** These options with another attach mode (null: driver, else generic). */
        public Options withMode(XdpProgram.Mode m) {
            return new Options(m, zeroCopy, promiscuous, rxRingSize, txRingSize, kickBatch, offloads);
        }

        /** These options with offloads on or off. */
        public Options withOffloads(boolean on) {
            return new Options(mode, zeroCopy, promiscuous, rxRingSize, txRingSize, kickBatch, on);
        }

        /** These options with another promiscuous setting. */
        public Options withPromiscuous(boolean on) {
            return new Options(mode, zeroCopy, on, rxRingSize, txRingSize, kickBatch, offloads);
        }
    }

    private final int ifindex;
    private final int mapFd;
    private final XdpProgram.Attachment attachment;
    private final int promiscFd;
    private final String zeroCopyProblem;
    private final String superFrameProblem;

    private XdpNic(String name, int ifindex, int mtu, XdpQueue[] queues, int mapFd, XdpProgram.Attachment attachment,
                   int promiscFd, String zeroCopyProblem, String superFrameProblem) {
        super(name, queues, mtu);
        this.ifindex = ifindex;
        this.mapFd = mapFd;
        this.attachment = attachment;
        this.promiscFd = promiscFd;
        this.zeroCopyProblem = zeroCopyProblem;
        this.superFrameProblem = superFrameProblem;
    }

    /**
     * The UMEM chunk size for an MTU: 2048 bytes while the frame (MTU, Ethernet header, a VLAN
     * tag) fits after the kernel's 256 bytes of XDP headroom, else 4096.
     *
     * @param mtu the interface's MTU
     * @return 2048 or 4096
     * @throws IllegalArgumentException if the frame does not fit 4096 bytes
     */
    public static int chunkSize(int mtu) {
        int need = XdpLayout.XDP_PACKET_HEADROOM + mtu + 14 + 4;
        if (need <= 2048) {
            return 2048;
        }
        if (need <= 4096) {
            return 4096;
        }
        throw new IllegalArgumentException("MTU " + mtu + " is too large for AF_XDP (at most "
                + (4096 - XdpLayout.XDP_PACKET_HEADROOM - 18) + " in one 4 KiB chunk)");
    }

    /**
     * The receive queues the device has ({@code /sys/class/net/IF/queues/rx-*}).
     *
     * @param ifname the interface
     * @return the count, at least 1
     */
    public static int rxQueues(String ifname) {
        try (Stream<Path> s = Files.list(Path.of("/sys/class/net", ifname, "queues"))) {
            return (int) Math.max(1, s.filter(p -> p.getFileName().toString().startsWith("rx-")).count());
        } catch (IOException e) {
            return 1;
        }
    }

    /**
     * Opens {@code queues} AF_XDP sockets on {@code ifname} (see the class comment).
     *
     * @param ifname the interface
     * @param queues sockets, one per netisr core
     * @param options rings and modes
     * @return the open NIC
     * @throws IllegalArgumentException for a missing or down interface, too few receive queues, an
     *     MTU too large, a bad count
     * @throws NativeException naming the failed call, e.g. {@code bpf(BPF_MAP_CREATE) ...: EPERM}
     */
    public static XdpNic open(String ifname, int queues, Options options) {
        Ifreq.checkName(ifname);
        if (queues < 1 || queues > 256) {
            throw new IllegalArgumentException("queues must be in [1, 256]: " + queues);
        }
        if (!Netdev.exists(ifname)) {
            throw new IllegalArgumentException("no interface " + ifname + " in this network namespace (see ip link)");
        }
        int ifindex = Netdev.index(ifname);
        if ((Netdev.flags(ifname) & Netdev.IFF_UP) == 0) {
            throw new IllegalArgumentException("interface " + ifname + " is down: bring it up first (ip link set "
                    + ifname + " up)");
        }
        int mtu = Netdev.mtu(ifname);
        int chunk = chunkSize(mtu);
        int have = rxQueues(ifname);
        if (have < queues) {
            throw new IllegalArgumentException(ifname + " has " + have + " receive queue" + (have == 1 ? "" : "s")
                    + " and AF_XDP needs one per core (" + queues + "): use fewer cores, or give it more queues "
                    + "(ethtool -L " + ifname + " combined " + queues + "; a veth: ip link add ... numrxqueues "
                    + queues + " numtxqueues " + queues + ")");
        }
        int map = -1;
        int prog = -1;
        XdpProgram.Attachment link = null;
        int promisc = -1;
        XdpQueue[] qs = new XdpQueue[queues];
        String zcProblem = null;
        String gsoProblem = null;
        try {
            map = Bpf.createIntMap(Bpf.BPF_MAP_TYPE_XSKMAP, queues, "XSKMAP for " + ifname);
            prog = XdpProgram.load(map, ifname);
            link = XdpProgram.attach(prog, ifindex, ifname, options.mode());
            boolean tryZc = options.zeroCopy() && link.mode() == XdpProgram.Mode.DRIVER;
            for (int i = 0; i < queues; i++) {
                XskSocket s;
                if (tryZc) {
                    try {
                        s = XskSocket.open(ifname, ifindex, i, options, chunk, true);
                    } catch (NativeException e) {
                        if (e.errno() == Errno.EPERM) {
                            throw e;
                        }
                        zcProblem = e.getMessage(); // the driver has no zero-copy: copy mode for every queue
                        tryZc = false;
                        s = XskSocket.open(ifname, ifindex, i, options, chunk, false);
                    }
                } else {
                    s = XskSocket.open(ifname, ifindex, i, options, chunk, false);
                }
                GsoPacketSocket gso = null;
                if (options.offloads() && !s.zeroCopy() && gsoProblem == null) {
                    try {
                        gso = GsoPacketSocket.open(ifname, ifindex);
                    } catch (NativeException e) {
                        gsoProblem = e.getMessage(); // the queues send MTU-sized frames only, as before
                    }
                }
                try {
                    qs[i] = new XdpQueue(ifname, i, s, options.kickBatch(), mtu, gso, options.offloads());
                } catch (RuntimeException e) {
                    if (gso != null) {
                        gso.close();
                    }
                    s.close();
                    throw e;
                }
                Bpf.updateArray(map, i, s.fd());
            }
            if (options.promiscuous()) {
                promisc = Packet.openSocket();
                Packet.addPromiscuous(promisc, ifindex, ifname);
            }
        } catch (RuntimeException e) {
            if (link != null) {
                XdpProgram.detach(link);
            }
            closeEach(e, qs, XdpQueue::close);
            if (promisc >= 0) {
                Libc.close(promisc);
            }
            if (map >= 0) {
                Libc.close(map);
            }
            throw e;
        } finally {
            if (prog >= 0) {
                Libc.close(prog); // the link holds its own reference
            }
        }
        return new XdpNic(ifname, ifindex, mtu, qs, map, link, promisc, zcProblem, gsoProblem);
    }

    /**
     * What the user should know about the interface, one line each: a veth (one end of a pair)
     * passes its local sender's partial checksums through, which AF_XDP cannot flag (docs/AF_XDP.md,
     * "Limits"). Empty when nothing applies. Control path.
     *
     * @return the warnings
     */
    public List<String> warnings() {
        List<String> out = new ArrayList<>();
        try {
            String iflink = Files.readString(Path.of("/sys/class/net", name(), "iflink")).strip();
            if (!iflink.equals(Integer.toString(ifindex))) {
                out.add(name() + " is one end of a pair (a veth): frames a local sender leaves with partial checksums "
                        + "(TX checksum offload) cannot be told apart through AF_XDP and are dropped as bad "
                        + "checksums; turn it off on the other end (ethtool -K PEER tx off)");
            }
        } catch (IOException | RuntimeException e) {
            // no sysfs entry: nothing to say
        }
        return out;
    }

    /** The interface index. */
    public int ifindex() {
        return ifindex;
    }

    /** Where the program runs: driver or generic. */
    public XdpProgram.Mode mode() {
        return attachment.mode();
    }

    /** Why driver mode was refused (the program then runs in generic mode), or null. */
    public String driverProblem() {
        return attachment.driverProblem();
    }

    /** Why zero-copy was refused (the sockets then copy), or null if it was not tried or worked. */
    public String zeroCopyProblem() {
        return zeroCopyProblem;
    }

    /**
     * Why the companion AF_PACKET socket of a copy-mode queue could not be opened (its queue and
     * the following ones then send no super-frames: {@code txOffloads()} 0), or null if every
     * copy-mode queue has one or none was tried (zero-copy).
     *
     * @return the failed call's one-line message, or null
     */
    public String superFrameProblem() {
        return superFrameProblem;
    }

    /** Whether the sockets are bound in zero-copy mode. */
    public boolean zeroCopy() {
        return queues[0].zeroCopy();
    }

    /** {@code driver/copy}, {@code driver/zero-copy} or {@code generic/copy}. */
    public String modeLabel() {
        return mode().label() + "/" + (zeroCopy() ? "zero-copy" : "copy");
    }

    /** The kernel's drop counters summed over the queues ({@code XDP_STATISTICS}). Control path. */
    public XdpLayout.Statistics statistics() {
        XdpLayout.Statistics sum = XdpLayout.Statistics.ZERO;
        for (XdpQueue q : queues) {
            sum = sum.plus(q.statistics());
        }
        return sum;
    }

    /**
     * The mode ({@code mode driver/copy}, followed by {@code , super-frames through AF_PACKET}
     * when the queues have companion sockets), then per-queue counters of the rings and of the
     * kernel, one line per queue (tx counts the frames of both transmit paths), e.g.
     * {@code queue 0: rx 1200 (truncated 0, invalid 0), tx 3400 (drops 0, errors 0, kicks 120,
     * kick errors 0), kernel: rx dropped 0, rx ring full 0, fill ring empty 0, tx ring empty 3,
     * invalid descs rx 0 tx 0}. Control path, while the sockets are open.
     */
    public String countersReport() {
        StringBuilder b = new StringBuilder();
        b.append("mode ").append(modeLabel());
        if (queues[0].sendsSuperFrames()) {
            b.append(", super-frames through AF_PACKET");
        }
        b.append('\n');
        for (XdpQueue q : queues) {
            XdpLayout.Statistics k = q.statistics();
            b.append("queue ").append(q.index()).append(": rx ").append(q.rxFrames())
                    .append(" (truncated ").append(q.rxTruncated())
                    .append(", invalid ").append(q.rxInvalid())
                    .append("), tx ").append(q.txFrames())
                    .append(" (drops ").append(q.txDrops())
                    .append(", errors ").append(q.txErrors())
                    .append(", kicks ").append(q.txKicks())
                    .append(", kick errors ").append(q.txKickErrors())
                    .append("), kernel: rx dropped ").append(k.rxDropped())
                    .append(", rx ring full ").append(k.rxRingFull())
                    .append(", fill ring empty ").append(k.fillRingEmpty())
                    .append(", tx ring empty ").append(k.txRingEmpty())
                    .append(", invalid descs rx ").append(k.rxInvalidDescs())
                    .append(" tx ").append(k.txInvalidDescs())
                    .append('\n');
        }
        return b.toString();
    }

    /** Detaches the program (closes the link), then closes every socket and unmaps its memory. */
    @Override
    protected void release() {
        RuntimeException failure = null;
        try {
            XdpProgram.detach(attachment);
        } catch (RuntimeException e) {
            failure = e;
        }
        failure = closeEach(failure, queues, XdpQueue::close);
        List<Integer> fds = new ArrayList<>(List.of(mapFd));
        if (promiscFd >= 0) {
            fds.add(promiscFd);
        }
        for (int fd : fds) {
            try {
                Libc.close(fd);
            } catch (RuntimeException e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public String toString() {
        return "XdpNic[" + name() + " queues=" + queues.length + " mtu=" + mtu() + " mode=" + modeLabel() + "]";
    }
}
