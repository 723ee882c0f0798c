package io.flowstack.nic.packet;

import io.flowstack.nativeio.Errno;
import io.flowstack.nativeio.Libc;
import io.flowstack.nativeio.Packet;
import io.flowstack.nic.CountingQueue;
import io.flowstack.nic.FrameBatch;
import io.flowstack.nic.TxFrame;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One queue pair of a {@link PacketNic}: one AF_PACKET socket with a receive ring
 * ({@link FrameRxRing} for TPACKET_V2, the default, or {@link RxRing} for V3) and a transmit ring
 * of the same version ({@link TxRing}) mapped from it, a member of the
 * NIC's fanout group.
 *
 * <p><b>Receive</b>: {@link #receive} copies frames from the ring blocks the kernel handed over
 * into the batch's slots (one copy; see {@link ReceiveRing}), with no system call at all while frames
 * wait. {@link #pollFd()} is the socket: POLLIN when a block is ready.
 *
 * <p><b>Transmit</b>: {@link #transmit} copies the frame into the next TX slot and marks it
 * {@code SEND_REQUEST}; the kernel sends marked slots when the socket is kicked with
 * {@code send(fd, NULL, 0, MSG_DONTWAIT)}, which transmits every marked slot in one system
 * call. The kick is batched: it happens when {@link PacketNic.Options#txKickBatch()} frames are
 * waiting, at the start of every {@link #receive} (the netisr calls it once per pass, so the
 * frames of one pass leave together, like DragonFly's rollup), and in {@link #rxReady()}, which
 * the owner calls before it sleeps. A frame is therefore never left unsent while the owner
 * sleeps. A full ring (the next slot still waiting or in flight after a kick) is back-pressure:
 * the frame is dropped and counted in {@link #txDrops()}.
 *
 * <p>Why a TX ring and not {@code sendmmsg}: the caller owns its frame only for the call, so
 * either way the frame is copied once in user space; the ring then needs no per-batch
 * {@code mmsghdr}/{@code iovec} arrays, and the kernel builds the skb around the ring pages
 * instead of copying again (it copies only the headers; the slot is returned when the skb is
 * freed). FRAME-IO §7 measured the Java V3 TX ring at 868 k fps against C sendmmsg's 920 k.
 *
 * <p>Owned by: one netisr thread, the only caller of {@link #receive}, {@link #transmit} and
 * {@link #rxReady()}; they never block and never allocate. Counter getters may be called from
 * any thread (opaque loads). {@link #kernelStatistics()} is a control-path call.
 */
public final class PacketQueue extends CountingQueue {
    private static final VarHandle KICKS;
    private static final VarHandle KICK_ERRORS;
    private static final VarHandle SOCKET_ERRORS;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            KICKS = l.findVarHandle(PacketQueue.class, "kicks", long.class);
            KICK_ERRORS = l.findVarHandle(PacketQueue.class, "kickErrors", long.class);
            SOCKET_ERRORS = l.findVarHandle(PacketQueue.class, "socketErrors", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final String ifname;
    private final int index;
    private final int fd;
    private final ReceiveRing rx;
    private final TxRing tx;
    private final int kickBatch;
    /** Longest frame the device sends: MTU + Ethernet header (the kernel drops longer ones). */
    private final int maxFrame;
    /** The TX ring takes checksum and segmentation requests ({@code PACKET_VNET_HDR}). */
    private final boolean offloads;
    /** The longest frame {@link #receive} may deliver: a super-frame, or MTU + Ethernet + VLAN tag. */
    private final int maxReceiveFrame;
    /** 8 native bytes for reading SO_ERROR without allocating. */
    private final MemorySegment errorScratch;
    /** Frames marked SEND_REQUEST since the last kick. */
    private int unkicked;
    /** The last kick left marked frames in the ring (e.g. ENOBUFS): kick again at the next flush. */
    private boolean kickAgain;
    private long kicks;
    private long kickErrors;
    private long socketErrors;
    private int lastSocketError;
    private volatile boolean closed;

    PacketQueue(String ifname, int index, int fd, ReceiveRing rx, TxRing tx, int kickBatch, int mtu,
                MemorySegment errorScratch) {
        this.ifname = ifname;
        this.index = index;
        this.fd = fd;
        this.rx = rx;
        this.tx = tx;
        this.kickBatch = kickBatch;
        this.maxFrame = Math.min(tx.maxFrame(), mtu + 14);
        this.offloads = tx.vnetLength() > 0;
        this.maxReceiveFrame = Math.max(PacketNic.MAX_SUPER_FRAME, mtu + 18);
        this.errorScratch = errorScratch;
    }

    /** The interface name. */
    public String ifname() {
        return ifname;
    }

    /** This queue's index in its {@link PacketNic} (and in the fanout group). */
    public int index() {
        return index;
    }

    /** The AF_PACKET socket (the same value as {@link #pollFd()}). */
    public int fd() {
        return fd;
    }

    /** The receive ring (counters, tests). */
    public ReceiveRing rxRing() {
        return rx;
    }

    /**
     * The longest frame {@link #receive} may deliver: 65,535 + 14 bytes, because AF_PACKET hands
     * over GSO super-frames on any device (a veth passes its peer's TSO/GSO skbs intact; GRO or LRO
     * on a NIC builds them), or the MTU plus the Ethernet header and a VLAN tag if that is more.
     * A frame longer than the batch's slots is dropped and counted as truncated.
     */
    @Override
    public int maxReceiveFrame() {
        return maxReceiveFrame;
    }

    /**
     * Sends the frames marked since the last kick, then copies up to the batch's capacity of
     * waiting frames into it. Frames the ring walk drops are counted there ({@link ReceiveRing});
     * truncated ones also in {@link #rxTruncated()}.
     */
    @Override
    public int receive(FrameBatch batch) {
        flushTx();
        long truncatedBefore = rx.truncated();
        int n = rx.drain(batch);
        if (n > 0) {
            countRx(n, rx.lastBytes());
        }
        long truncated = rx.truncated() - truncatedBefore;
        if (truncated > 0) {
            countRxTruncated((int) truncated);
        }
        return n;
    }

    /**
     * Copies one frame into the TX ring. A frame longer than the interface's MTU plus the
     * Ethernet header (which the kernel would drop without a word, PACKET_LOSS) is a
     * {@link #txErrors()}; a full ring a {@link #txDrops()}; both return {@code false}.
     */
    @Override
    public boolean transmit(MemorySegment frame, long offset, int length) {
        if (length <= 0 || length > maxFrame) {
            countTxError();
            return false;
        }
        if (!tx.headFree()) {
            if (unkicked > 0 || kickAgain) {
                kick(); // the kernel may simply not have been told about the waiting slots
            }
            if (!tx.headFree()) {
                countTxDrop();
                return false;
            }
        }
        tx.put(frame, offset, length);
        countTx(length);
        if (++unkicked >= kickBatch) {
            kick();
        }
        return true;
    }

    /**
     * With offloads ({@code PACKET_VNET_HDR}): {@link #TX_GATHER}, {@link #TX_CSUM} and
     * {@link #TX_TSO4}: the kernel finishes partial checksums and segments TCP super-frames
     * ({@code tpacket_snd}: {@code virtio_net_hdr_to_skb}, then the device or GSO); else 0.
     */
    @Override
    public int txOffloads() {
        return offloads ? TX_GATHER | TX_CSUM | TX_TSO4 : 0;
    }

    /**
     * Copies the frame (headers and payload slices) into the next TX slot behind a
     * {@code virtio_net_hdr} with its checksum and segmentation requests. Same back-pressure and
     * kick rules as {@link #transmit(MemorySegment, long, int)}; a frame without segmentation may
     * be at most the MTU plus the Ethernet header, a super-frame at most 65,535 bytes of IP.
     */
    @Override
    public boolean transmit(TxFrame frame) {
        if (!offloads) {
            throw new UnsupportedOperationException(this + " has no offloads");
        }
        int length = frame.length();
        int limit = frame.gsoType() == TxFrame.GSO_NONE ? maxFrame : tx.maxFrame();
        if (length <= 0 || length > limit) {
            countTxError();
            return false;
        }
        if (!tx.headFree()) {
            if (unkicked > 0 || kickAgain) {
                kick();
            }
            if (!tx.headFree()) {
                countTxDrop();
                return false;
            }
        }
        tx.put(frame);
        countTx(length);
        if (++unkicked >= kickBatch) {
            kick();
        }
        return true;
    }

    /** Kicks the socket if frames are marked and not yet sent. */
    public void flushTx() {
        if (unkicked > 0 || kickAgain) {
            kick();
        }
    }

    private void kick() {
        int r = Libc.send(fd, MemorySegment.NULL, 0, Libc.MSG_DONTWAIT);
        unkicked = 0;
        KICKS.setOpaque(this, kicks + 1);
        if (r < 0 && r != -Errno.EAGAIN && r != -Errno.ENOBUFS) {
            KICK_ERRORS.setOpaque(this, kickErrors + 1); // e.g. ENETDOWN: the slots stay marked
        }
        // The kernel stops at the first slot it cannot send (no socket buffer, device busy) and
        // leaves it marked: if the newest frame is still waiting, try again at the next flush.
        int last = tx.head() == 0 ? tx.frameCount() - 1 : tx.head() - 1;
        kickAgain = (tx.status(last) & Packet.TP_STATUS_SEND_REQUEST) != 0;
    }

    /** The AF_PACKET socket: POLLIN when a receive block is ready. */
    @Override
    public int pollFd() {
        return fd;
    }

    /**
     * True: an empty receive reads the mapped ring's status word (and sends nothing unless
     * frames are marked), no system call.
     */
    @Override
    public boolean receiveInMemory() {
        return true;
    }

    /** Ignored: the socket is the notification. */
    @Override
    public void readyNotifier(Runnable notifier) {
        // poll() on the socket wakes the owner
    }

    /**
     * Called by the owner before it sleeps: sends what is marked, clears a pending socket error,
     * then reports whether a frame waits in the ring. poll() only reports the block before the
     * one the kernel is filling, so this also catches a ready block poll() would not announce.
     * The socket error (ENETDOWN when the interface goes down) must be read, or poll() reports
     * POLLERR at once on every call and the owner never sleeps again, even after the interface
     * is back up; it is counted in {@link #socketErrors()}.
     */
    @Override
    public boolean rxReady() {
        flushTx();
        int e = Libc.socketError(fd, errorScratch);
        if (e > 0) {
            lastSocketError = e;
            SOCKET_ERRORS.setOpaque(this, socketErrors + 1);
        }
        return rx.ready();
    }

    /** Pending socket errors read (and cleared) before sleeping, e.g. ENETDOWN. */
    public long socketErrors() {
        return (long) SOCKET_ERRORS.getOpaque(this);
    }

    /** The errno of the last socket error read (0 if none yet); owner thread or after it stopped. */
    public int lastSocketError() {
        return lastSocketError;
    }

    /** Kicks of the TX ring (system calls made to transmit). */
    public long txKicks() {
        return (long) KICKS.getOpaque(this);
    }

    /** Kicks that failed with an error other than EAGAIN/ENOBUFS (e.g. ENETDOWN). */
    public long txKickErrors() {
        return (long) KICK_ERRORS.getOpaque(this);
    }

    /**
     * The kernel's counters for this socket since the previous call ({@code PACKET_STATISTICS}
     * is clear-on-read): frames accepted and frames dropped because the ring was full.
     * Control path (it allocates); call from one thread at a time.
     */
    public KernelStatistics kernelStatistics() {
        int[] s = Packet.statistics(fd);
        return new KernelStatistics(Integer.toUnsignedLong(s[0]), Integer.toUnsignedLong(s[1]),
                Integer.toUnsignedLong(s[2]));
    }

    /**
     * {@code struct tpacket_stats_v3}.
     *
     * <p>Owned by: nobody (immutable).
     *
     * @param packets frames the socket accepted (delivered to the ring or dropped)
     * @param drops   frames dropped because no block was free
     * @param freezes times the ring was frozen for lack of a free block
     */
    public record KernelStatistics(long packets, long drops, long freezes) {
    }

    boolean closed() {
        return closed;
    }

    void close() {
        if (!closed) {
            closed = true;
            Libc.close(fd);
        }
    }

    @Override
    public String toString() {
        return "PacketQueue[" + ifname + "#" + index + " fd=" + fd + "]";
    }
}
