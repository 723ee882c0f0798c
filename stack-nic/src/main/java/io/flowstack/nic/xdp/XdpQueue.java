package io.flowstack.nic.xdp;

import io.flowstack.nativeio.Errno;
import io.flowstack.nativeio.Libc;
import io.flowstack.nic.CountingQueue;
import io.flowstack.nic.FrameBatch;
import io.flowstack.nic.TxFrame;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One queue pair of an {@link XdpNic}: one AF_XDP socket bound to one receive queue of the
 * device, with its own UMEM of {@code rxRingSize + txRingSize} chunks ({@link XskSocket}).
 *
 * <p><b>Frames</b>: every UMEM chunk is, at any time, in exactly one place: the free pool (an
 * {@code int[]} stack of chunk numbers, ours), the fill ring or the RX ring (the kernel's, for
 * receiving), or the TX ring or the completion ring (the kernel's, for sending). At most
 * {@code rxRingSize} chunks are given to receiving ({@link #rxOwned}), so transmit always has the
 * other {@code txRingSize}; chunks come back to the pool from the RX ring (after their frame was copied out)
 * and from the completion ring (after their frame was sent), and the pool tops the fill ring up
 * at every receive.
 *
 * <p><b>Receive</b>: {@link #receive} reads the RX ring (acquire on its producer), copies each
 * frame from its chunk into the batch's slot (one copy: the {@link FrameBatch} contract), returns
 * the consumer index (release) and refills the fill ring: no system call while frames wait. The
 * socket is the {@link #pollFd()} (POLLIN when the RX ring is not empty). In zero-copy mode a fill
 * ring the driver flagged {@code NEED_WAKEUP} is woken with a {@code poll} of timeout 0.
 *
 * <p><b>Transmit</b>: {@link #transmit} takes a chunk from the pool, copies the frame into it and
 * puts its descriptor on the TX ring (release store of the producer). Descriptors are handed to
 * the kernel in batches: the ring is kicked when {@code kickBatch} frames wait, at the start of
 * every {@link #receive} (once per netisr pass) and in {@link #rxReady()} (before the owner
 * sleeps), and only if the kernel set {@code NEED_WAKEUP} on the TX ring; the kick is
 * {@code sendto(fd, NULL, 0, MSG_DONTWAIT)}. In copy mode the kernel sends during that call, at
 * most 32 frames per call ({@code TX_BATCH_SIZE} in {@code xsk_generic_xmit}, which then answers
 * {@code EAGAIN}), so a kick repeats the call while it answers {@code EAGAIN} and frames are
 * left, a bounded number of times. No pool chunk or no TX ring room after reaping the completions
 * and kicking is back-pressure: the frame is dropped and counted in {@link #txDrops()}.
 *
 * <p><b>Super-frames</b> (copy mode only): with a companion {@link GsoPacketSocket} (an AF_PACKET
 * socket with {@code PACKET_VNET_HDR} on the same interface, opened by {@link XdpNic}),
 * {@link #transmit(TxFrame)} sends a {@link TxFrame} through it with one {@code writev}, for the
 * kernel to segment and checksum (or to hand whole to a device that takes GSO packets), after
 * kicking the TX ring so that the frames queued before it leave first: in copy mode the kick
 * transmits in the calling thread, and so does the companion's write on a veth ({@code noqueue})
 * or through an idle qdisc (the limits are in {@link GsoPacketSocket}). Not in zero-copy mode,
 * where the driver drains the TX ring on its own time and the two paths could reorder a flow.
 * See {@link #txOffloads()} for what the queue then advertises.
 *
 * <p>Owned by: one netisr thread, the only caller of {@link #receive}, {@link #transmit} and
 * {@link #rxReady()}; they never block and never allocate. Counter getters may be called from any
 * thread (opaque loads). {@link #statistics()} is a control-path call.
 */
public final class XdpQueue extends CountingQueue {
    private static final VarHandle KICKS;
    private static final VarHandle KICK_ERRORS;
    private static final VarHandle RX_INVALID;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            KICKS = l.findVarHandle(XdpQueue.class, "kicks", long.class);
            KICK_ERRORS = l.findVarHandle(XdpQueue.class, "kickErrors", long.class);
            RX_INVALID = l.findVarHandle(XdpQueue.class, "rxInvalid", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final String ifname;
    private final int index;
    private final XskSocket socket;
    private final int fd;
    private final MemorySegment umem;
    private final long umemBytes;
    private final int chunkSize;
    private final int chunkShift;
    private final XskRing fill;
    private final XskRing completion;
    private final XskRing rx;
    private final XskRing tx;
    private final int kickBatch;
    private final int maxKicks;
    /** Longest frame sent: MTU + Ethernet header. */
    private final int maxFrame;
    /** The chunks no ring holds (chunk numbers), {@code pool[0, poolTop)}. */
    private final int[] pool;
    private int poolTop;
    /** Chunks in the fill and RX rings: at most {@link #rxBudget}. */
    private int rxOwned;
    private final int rxBudget;
    /** The companion socket that sends super-frames, or null (zero-copy, or it could not be opened). */
    private final GsoPacketSocket gso;
    /** The stack coalesces this queue's TCP segments ({@link #softGro()}). */
    private final boolean softGro;
    /** One {@code struct pollfd} (POLLIN on the socket) for waking a zero-copy fill ring. */
    private final MemorySegment pollfd;
    private int unkicked;
    private boolean kickAgain;
    private long kicks;
    private long kickErrors;
    private long rxInvalid;
    private volatile boolean closed;

    XdpQueue(String ifname, int index, XskSocket socket, int kickBatch, int mtu) {
        this(ifname, index, socket, kickBatch, mtu, null, false);
    }

    /**
     * A queue over {@code socket}, sending {@link TxFrame}s through {@code gso} if not null.
     *
     * @param gso the companion AF_PACKET socket (copy mode only), or null; the queue closes it
     * @param softGro whether the stack should coalesce this queue's TCP segments ({@link #softGro()})
     */
    XdpQueue(String ifname, int index, XskSocket socket, int kickBatch, int mtu, GsoPacketSocket gso,
             boolean softGro) {
        if (gso != null && socket.zeroCopy()) {
            throw new IllegalArgumentException("a zero-copy XDP queue takes no companion socket: the driver "
                    + "drains its TX ring asynchronously and the two paths could reorder a flow");
        }
        this.gso = gso;
        this.softGro = softGro;
        this.ifname = ifname;
        this.index = index;
        this.socket = socket;
        this.fd = socket.fd();
        this.umem = socket.umem();
        this.umemBytes = umem.byteSize();
        this.chunkSize = socket.chunkSize();
        this.chunkShift = Integer.numberOfTrailingZeros(chunkSize);
        this.fill = socket.fill();
        this.completion = socket.completion();
        this.rx = socket.rx();
        this.tx = socket.tx();
        this.kickBatch = kickBatch;
        this.maxKicks = tx.size() / 32 + 2;
        this.maxFrame = Math.min(mtu + 14, chunkSize);
        int chunks = (int) (umemBytes >>> chunkShift);
        this.pool = new int[chunks];
        for (int i = chunks - 1; i >= 0; i--) {
            pool[poolTop++] = i;
        }
        this.rxBudget = Math.min(fill.size(), chunks - tx.size());
        this.pollfd = socket.arena().allocate(8, 4);
        pollfd.set(ValueLayout.JAVA_INT, 0, fd);
        pollfd.set(ValueLayout.JAVA_SHORT, 4, (short) 1); // POLLIN
        refill();
    }

    /** The interface name. */
    public String ifname() {
        return ifname;
    }

    /** This queue's index: the device receive queue its socket is bound to. */
    public int index() {
        return index;
    }

    /** The AF_XDP socket (the same value as {@link #pollFd()}). */
    public int fd() {
        return fd;
    }

    /** Whether the socket is bound in zero-copy mode. */
    public boolean zeroCopy() {
        return socket.zeroCopy();
    }

    /**
     * Sends what waits on the TX ring, takes back sent chunks, then copies up to the batch's
     * capacity of received frames into it and gives their chunks back to the fill ring. A
     * descriptor outside the UMEM or longer than a slot is dropped and counted
     * ({@link #rxInvalid()}, or truncated).
     */
    @Override
    public int receive(FrameBatch batch) {
        flushTx();
        int n = rx.available(batch.capacity());
        int k = 0;
        long bytes = 0;
        int truncated = 0;
        int slotSize = batch.slotSize();
        for (int i = 0; i < n; i++) {
            long addr = rx.descAddress(i);
            int len = rx.descLength(i);
            long chunk = addr >>> chunkShift;
            if (addr < 0 || len < 0 || addr + len > umemBytes || ((addr + len - 1) >>> chunkShift) != chunk) {
                RX_INVALID.setOpaque(this, rxInvalid + 1); // never from a correct kernel: the chunk is lost
                continue;
            }
            if (poolTop < pool.length) {
                pool[poolTop++] = (int) chunk;
            }
            if (len > slotSize || len == 0) {
                truncated++;
                continue;
            }
            MemorySegment.copy(umem, addr, batch.slot(k), 0, len);
            batch.frame(k, len, 0, 0);
            bytes += len;
            k++;
        }
        if (n > 0) {
            rx.release(n);
            rxOwned -= n;
            refill();
        }
        batch.count(k);
        if (k > 0) {
            countRx(k, bytes);
        }
        if (truncated > 0) {
            countRxTruncated(truncated);
        }
        if (socket.zeroCopy() && fill.needsWakeup()) {
            Libc.poll(pollfd, 1, 0); // the driver sleeps until told the fill ring has chunks
        }
        return k;
    }

    /** Tops the fill ring up from the pool, up to the receive budget. */
    private void refill() {
        int want = Math.min(poolTop, rxBudget - rxOwned);
        if (want <= 0) {
            return;
        }
        int n = fill.free(want);
        for (int i = 0; i < n; i++) {
            fill.putAddress(i, (long) pool[--poolTop] << chunkShift);
        }
        if (n > 0) {
            fill.submit(n);
            rxOwned += n;
        }
    }

    /** Takes the chunks of sent frames back from the completion ring into the pool. */
    private void reap() {
        int n = completion.available(completion.size());
        for (int i = 0; i < n; i++) {
            long addr = completion.address(i);
            if (addr >= 0 && addr < umemBytes && poolTop < pool.length) {
                pool[poolTop++] = (int) (addr >>> chunkShift);
            }
        }
        if (n > 0) {
            completion.release(n);
        }
    }

    /**
     * Copies one frame into a free chunk and puts it on the TX ring. A frame longer than the MTU
     * plus the Ethernet header is a {@link #txErrors()}; no free chunk or no TX ring room (after
     * reaping completions and a kick) a {@link #txDrops()}; both return {@code false}.
     */
    @Override
    public boolean transmit(MemorySegment frame, long offset, int length) {
        if (length <= 0 || length > maxFrame) {
            countTxError();
            return false;
        }
        if (poolTop == 0 || tx.free(1) == 0) {
            reap();
            if ((poolTop == 0 || tx.free(1) == 0) && (unkicked > 0 || kickAgain)) {
                kick();
                reap();
            }
            if (poolTop == 0 || tx.free(1) == 0) {
                countTxDrop();
                return false;
            }
        }
        long addr = (long) pool[--poolTop] << chunkShift;
        MemorySegment.copy(frame, offset, umem, addr, length);
        tx.putDesc(0, addr, length);
        tx.submit(1);
        countTx(length);
        if (++unkicked >= kickBatch) {
            kick();
        }
        return true;
    }

    /**
     * With a companion socket (copy mode): {@link #TX_GATHER} and {@link #TX_TSO4}; else 0 (the
     * {@code NicQueue} default). {@link #TX_TSO4} here means: takes a TCP super-frame in a
     * {@link TxFrame} whose checksum field holds the pseudo-header sum, and has it segmented and its
     * checksums completed (a veth passes it to its peer whole, as one GSO skb). Deliberately not
     * {@link #TX_CSUM}: the stack's own TCP output gathers segments and builds super-frames only
     * when {@code TX_CSUM} is there too, so an endpoint's TCP on an XDP interface keeps sending
     * MSS-sized segments through the TX ring, as before, while the router, which asks for
     * {@code TX_TSO4 | TX_GATHER}, forwards the super-frames it received whole.
     */
    @Override
    public int txOffloads() {
        return gso != null ? TX_GATHER | TX_TSO4 : 0;
    }

    /**
     * With a companion socket: kicks the TX ring ({@link #flushTx()}: in copy mode the kernel sends
     * the frames already queued during that call), then writes {@code frame} to the companion
     * socket with one {@code writev} of its vnet header, headers and slices. Counted as
     * {@link #transmit(MemorySegment, long, int)}: {@link #txFrames()} when written;
     * {@code EAGAIN}/{@code ENOBUFS} (socket buffer, qdisc or driver queue full) a
     * {@link #txDrops()}; any other error a {@link #txErrors()}; both return false. Never blocks,
     * never allocates.
     *
     * @throws UnsupportedOperationException without a companion socket ({@link #txOffloads()} 0)
     */
    @Override
    public boolean transmit(TxFrame frame) {
        if (gso == null) {
            return super.transmit(frame);
        }
        flushTx();
        return countWrite(gso.send(frame), frame.length());
    }

    /**
     * Whether {@link #transmit(TxFrame)} has a companion AF_PACKET socket to send super-frames.
     *
     * @return true in copy mode when the socket opened
     */
    public boolean sendsSuperFrames() {
        return gso != null;
    }

    /**
     * With offloads ({@link XdpNic.Options#offloads()}): yes. An AF_XDP socket gets each frame as
     * the wire brought it, before the kernel's GRO, so the stack coalesces a flow's consecutive
     * segments itself (stack-core's {@code SoftGro}), as the kernel would have for a packet socket.
     */
    @Override
    public boolean softGro() {
        return softGro;
    }

    /** Kicks the TX ring if descriptors wait, and takes back the chunks of sent frames. */
    public void flushTx() {
        if (unkicked > 0 || kickAgain) {
            kick();
        }
        reap();
    }

    /**
     * Hands the waiting descriptors to the kernel: {@code sendto} when the kernel asks for a
     * wakeup, repeated (a bounded number of times) while it answers {@code EAGAIN} with
     * descriptors left; a transient refusal ({@code EBUSY}, {@code ENOBUFS}, or the bound) leaves
     * them for the next flush.
     */
    private void kick() {
        unkicked = 0;
        kickAgain = false;
        if (!tx.needsWakeup()) {
            return; // a zero-copy driver busy with the ring picks the descriptors up itself
        }
        for (int i = 0; i < maxKicks; i++) {
            int r = Libc.send(fd, MemorySegment.NULL, 0, Libc.MSG_DONTWAIT);
            KICKS.setOpaque(this, kicks + 1);
            if (r >= 0) {
                break;
            }
            if (r != -Errno.EAGAIN && r != -Errno.EBUSY && r != -Errno.ENOBUFS) {
                KICK_ERRORS.setOpaque(this, kickErrors + 1); // e.g. ENETDOWN, ENXIO
                break;
            }
            if (r != -Errno.EAGAIN || tx.outstanding() == 0) {
                break;
            }
            reap(); // the kernel also stops when the completion ring is full
        }
        kickAgain = tx.outstanding() > 0;
    }

    /** The AF_XDP socket: POLLIN when the RX ring holds frames. */
    @Override
    public int pollFd() {
        return fd;
    }

    /** True: an empty receive reads the RX ring's producer word, no system call. */
    @Override
    public boolean receiveInMemory() {
        return true;
    }

    /** Ignored: the socket is the notification. */
    @Override
    public void readyNotifier(Runnable notifier) {
        // poll() on the socket wakes the owner
    }

    /** Called by the owner before it sleeps: sends what waits, then whether a frame is in the RX ring. */
    @Override
    public boolean rxReady() {
        flushTx();
        return rx.available(1) > 0;
    }

    /** System calls made to transmit. */
    public long txKicks() {
        return (long) KICKS.getOpaque(this);
    }

    /** Kicks that failed with an error other than EAGAIN, EBUSY or ENOBUFS (e.g. ENETDOWN). */
    public long txKickErrors() {
        return (long) KICK_ERRORS.getOpaque(this);
    }

    /** RX descriptors outside the UMEM (never from a correct kernel). */
    public long rxInvalid() {
        return (long) RX_INVALID.getOpaque(this);
    }

    /**
     * The kernel's drop counters for this socket ({@code XDP_STATISTICS}, running totals); zeros
     * once the queue is closed. Control path (it allocates); any thread.
     */
    public XdpLayout.Statistics statistics() {
        return closed ? XdpLayout.Statistics.ZERO : socket.statistics();
    }

    void close() {
        if (!closed) {
            closed = true;
            try {
                if (gso != null) {
                    gso.close();
                }
            } finally {
                socket.close();
            }
        }
    }

    @Override
    public String toString() {
        return "XdpQueue[" + ifname + "#" + index + " fd=" + fd + (socket.zeroCopy() ? " zero-copy" : " copy")
                + (gso != null ? " +AF_PACKET fd=" + gso.fd() : "") + "]";
    }
}
