package io.flowstack.nic;

import io.flowstack.nativeio.Errno;
import io.flowstack.nativeio.Libc;
import io.flowstack.nativeio.Tun;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.ref.Reference;
import java.util.Objects;

/**
 * One queue of a {@link TapNic}: a non-blocking {@code /dev/net/tun} descriptor attached to the
 * device. Each {@code read} returns exactly one frame and each {@code write} takes exactly one
 * frame (FRAME-IO §1.2), so {@link #receive} makes one system call per frame plus one that finds
 * the queue empty.
 *
 * <p>With {@link TapNic.Options#vnetHeader()} every frame on the descriptor is preceded by a
 * {@value Tun#VNET_HDR_LEN}-byte {@code virtio_net_hdr} (FRAME-IO §2), read and written with
 * {@code readv}/{@code writev}. On receive the batch slot holds only the Ethernet frame and the
 * header becomes the frame's flags: {@code NEEDS_CSUM} (a local sender's partial checksum) or
 * {@code DATA_VALID} give {@link FrameBatch#RX_CSUM_VALID}; a super-frame's {@code gso_size} its
 * {@link FrameBatch#gsoSize}. With offloads on ({@link #offloads()}) frames of up to 64 KiB arrive,
 * and {@link #transmit(TxFrame)} sends headers and payload slices with one {@code writev}, asking
 * the kernel to complete the TCP checksum and to segment super-frames. Without offloads the
 * header is all zero on transmit and frames are at most the MTU.
 *
 * <p>With {@link TapNic.Options#batchIo()} the queue reads and writes through a {@link TapUring}
 * instead: a batch of reads with one {@code io_uring_enter}, and small frames copied into
 * transmit slots and written together at the end of the owner's pass ({@link #flush()}), at the
 * next receive, or when the slots are full. Larger frames are written at once, as without it.
 *
 * <p>Owned by: one netisr thread, the only caller of {@link #receive}, {@link #transmit} and
 * {@link #flush()}; they never block, never throw on an I/O failure (they count it) and never
 * allocate. Counter getters may be called from any thread (see {@link CountingQueue}).
 */
public final class TapQueue extends CountingQueue {
    /** Size of the scratch buffer that detects frames longer than the slot. */
    private static final long OVERFLOW_BYTES = 64;
    private static final int ETHERNET_HEADER = 14;
    /** The most reads one batched receive submits (the batch's capacity bounds it too). */
    private static final int MAX_BATCH_READS = 64;
    private static final ValueLayout.OfShort LE_SHORT =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);

    private final String deviceName;
    private final int index;
    private final int fd;
    private final boolean vnetHeader;
    private final boolean offloads;
    /** The vnet header of the frame just read (the first receive iovec). */
    private final MemorySegment rxHeader;
    /** {@link #transmit(TxFrame)}'s gathering write: vnet header, headers, slices. */
    private final VnetGather gather;
    /**
     * Receive {@code struct iovec[]}: [vnet header,] the batch slot, then an overflow scratch
     * buffer. The kernel returns {@code min(frame length, buffer length)}, so a frame that
     * spills into the scratch buffer is one longer than the slot.
     */
    private final MemorySegment rxIov;
    private final int rxIovCount;
    /** Offset in {@link #rxIov} of the iovec that points at the slot. */
    private final long rxSlotIov;
    /** vnet mode: {@code struct iovec[2]} = {zero header, frame}. */
    private final MemorySegment txIov;
    /** Batched reads and writes, or null for one system call per frame. */
    private final TapUring uring;
    private volatile boolean closed;

    TapQueue(String deviceName, int index, int fd, boolean vnetHeader, boolean offloads, boolean batchIo,
            Arena arena) {
        this.deviceName = deviceName;
        this.index = index;
        this.fd = fd;
        this.vnetHeader = vnetHeader;
        this.offloads = vnetHeader && offloads;
        MemorySegment overflow = arena.allocate(OVERFLOW_BYTES, 8);
        MemorySegment iovs = arena.allocate(3 * Libc.IOVEC_SIZE, 8);
        this.rxHeader = arena.allocate(16, 8);
        this.gather = new VnetGather(arena);
        if (vnetHeader) {
            VnetGather.setIov(iovs, 0, rxHeader.address(), Tun.VNET_HDR_LEN);
            this.rxIov = iovs;
            this.rxIovCount = 3;
            this.txIov = arena.allocate(2 * Libc.IOVEC_SIZE, 8);
            VnetGather.setIov(txIov, 0, arena.allocate(16, 8).address(), Tun.VNET_HDR_LEN);
        } else {
            this.rxIov = iovs.asSlice(Libc.IOVEC_SIZE, 2 * Libc.IOVEC_SIZE);
            this.rxIovCount = 2;
            this.txIov = null;
        }
        this.rxSlotIov = (rxIovCount - 2) * Libc.IOVEC_SIZE;
        VnetGather.setIov(rxIov, rxIovCount - 1, overflow.address(), OVERFLOW_BYTES);
        this.uring = batchIo ? new TapUring(this, fd, vnetHeader, MAX_BATCH_READS, arena) : null;
    }

    /**
     * The TAP device's name.
     *
     * @return the interface name
     */
    public String deviceName() {
        return deviceName;
    }

    /**
     * The index of this queue in its {@link TapNic}.
     *
     * @return the queue number
     */
    public int index() {
        return index;
    }

    /**
     * The tap descriptor (the same value as {@link #pollFd()}).
     *
     * @return the open file descriptor of {@code /dev/net/tun} attached to this queue
     */
    public int fd() {
        return fd;
    }

    /**
     * Reads frames until the batch is full or the descriptor reports {@code EAGAIN}. A frame
     * longer than the batch's slot is counted in {@link #rxTruncated()} and dropped; any other
     * error ends the call and is counted in {@link #rxErrors()}.
     */
    @Override
    public int receive(FrameBatch batch) {
        if (uring != null) {
            return uring.receive(batch);
        }
        final int capacity = batch.capacity();
        final int slotSize = batch.slotSize();
        int n = 0;
        int truncated = 0;
        long bytes = 0;
        while (n < capacity) {
            MemorySegment slot = batch.slot(n);
            rxIov.set(ValueLayout.JAVA_LONG, rxSlotIov + Libc.IOVEC_BASE, slot.address());
            rxIov.set(ValueLayout.JAVA_LONG, rxSlotIov + Libc.IOVEC_LEN, slotSize);
            int r = Libc.readv(fd, rxIov, rxIovCount);
            Reference.reachabilityFence(slot);
            if (vnetHeader && r >= 0) {
                r = r <= Tun.VNET_HDR_LEN ? 0 : r - Tun.VNET_HDR_LEN;
            }
            if (r < 0) {
                if (r != -Errno.EAGAIN) {
                    countRxError();
                }
                break;
            }
            if (r > slotSize) {
                truncated++;
                continue;
            }
            if (r == 0) {
                break;
            }
            if (vnetHeader) {
                frameFromHeader(batch, n, r, rxHeader, 0);
            } else {
                batch.length(n, r);
            }
            bytes += r;
            n++;
        }
        batch.count(n);
        countRxOf(n, bytes, truncated);
        return n;
    }

    /**
     * Sets slot {@code n} of {@code batch} to a frame of {@code length} bytes whose vnet header
     * is at {@code header[offset]}: {@code NEEDS_CSUM} or {@code DATA_VALID} become
     * {@link FrameBatch#RX_CSUM_VALID}, a super-frame's {@code gso_size} its {@link FrameBatch#gsoSize}.
     */
    static void frameFromHeader(FrameBatch batch, int n, int length, MemorySegment header, long offset) {
        int vflags = header.get(ValueLayout.JAVA_BYTE, offset + Tun.VNET_FLAGS);
        int gsoType = header.get(ValueLayout.JAVA_BYTE, offset + Tun.VNET_GSO_TYPE) & ~Tun.VNET_GSO_ECN;
        boolean csumValid = (vflags & (Tun.VNET_F_NEEDS_CSUM | Tun.VNET_F_DATA_VALID)) != 0;
        int gsoSize = gsoType == Tun.VNET_GSO_NONE ? 0
                : Short.toUnsignedInt(header.get(LE_SHORT, offset + Tun.VNET_GSO_SIZE));
        int flags = (vflags & Tun.VNET_F_NEEDS_CSUM) != 0 ? FrameBatch.RX_CSUM_VALID | FrameBatch.RX_CSUM_PARTIAL
                : csumValid ? FrameBatch.RX_CSUM_VALID : 0;
        batch.frame(n, length, flags, gsoSize);
    }

    /** Counts a receive's frames, bytes and truncated frames ({@link TapUring}'s too). */
    void countRxOf(int frames, long bytes, int truncated) {
        if (frames > 0) {
            countRx(frames, bytes);
        }
        if (truncated > 0) {
            countRxTruncated(truncated);
        }
    }

    /**
     * With {@link TapNic.Options#batchIo()}: writes the frames queued by {@link #transmit} with one
     * system call. The owner calls it at the end of every pass; without batching it does nothing.
     */
    @Override
    public void flush() {
        if (uring != null) {
            uring.flush();
        }
    }

    /**
     * Writes one frame. {@code EAGAIN}/{@code ENOBUFS} count as {@link #txDrops()}; other errors
     * (e.g. {@code EIO} while the interface is down, {@code EINVAL} for an oversized frame) count
     * as {@link #txErrors()}. Both return {@code false}.
     *
     * @param frame a native segment owned by the caller for the duration of the call
     */
    @Override
    public boolean transmit(MemorySegment frame, long offset, int length) {
        if (uring != null) {
            if (uring.queue(frame, offset, length)) {
                return true;
            }
            uring.flush(); // the frames queued before this one go first
        }
        int w;
        if (vnetHeader) {
            Objects.checkFromIndexSize(offset, length, frame.byteSize());
            if (!frame.isNative()) {
                throw new IllegalArgumentException("frame must be a native segment");
            }
            VnetGather.setIov(txIov, 1, frame.address() + offset, length);
            w = Libc.writev(fd, txIov, 2);
            Reference.reachabilityFence(frame);
        } else {
            w = Libc.write(fd, frame, offset, length);
        }
        return countWrite(w, length);
    }

    /**
     * With offloads: {@link #TX_GATHER}, {@link #TX_CSUM} and {@link #TX_TSO4} (the kernel takes
     * super-frames written into a TAP whatever {@code TUNSETOFFLOAD} says, FRAME-IO §2); else 0.
     */
    @Override
    public int txOffloads() {
        return offloads ? TX_GATHER | TX_CSUM | TX_TSO4 : 0;
    }

    /** With offloads, 65,535 bytes of IPv4 behind an Ethernet header; else bounded by the MTU. */
    @Override
    public int maxReceiveFrame() {
        return offloads ? MAX_SUPER_FRAME_IP + ETHERNET_HEADER : 0;
    }

    /**
     * Writes the frame with one {@code writev} ({@link VnetGather}): a vnet header carrying the
     * checksum and segmentation requests, then the headers and each payload slice where they are
     * (the kernel copies the payload once, into its skb). Counted as
     * {@link #transmit(MemorySegment, long, int)}.
     */
    @Override
    public boolean transmit(TxFrame frame) {
        if (!offloads) {
            throw new UnsupportedOperationException("TAP " + deviceName + " has no offloads");
        }
        if (uring != null) {
            if (uring.queue(frame)) {
                return true;
            }
            uring.flush();
        }
        return countWrite(gather.write(fd, frame), frame.length());
    }

    /**
     * Whether the kernel hands this queue super-frames with partial checksums and takes them from it.
     *
     * @return true if the TAP's offloads are on
     */
    public boolean offloads() {
        return offloads;
    }

    /** The tap descriptor: POLLIN when frames wait. */
    @Override
    public int pollFd() {
        return fd;
    }

    /** Ignored: a TAP queue signals through {@link #pollFd()}. */
    @Override
    public void readyNotifier(Runnable notifier) {
        // the descriptor is the notification
    }

    /**
     * Whether this queue reads and writes many frames per system call ({@link TapUring}).
     *
     * @return true if opened with {@link TapNic.Options#batchIo()}
     */
    public boolean batchIo() {
        return uring != null;
    }

    /** With batched I/O, the io_uring's arrival signal ({@link TapUring#armSignal}); else false. */
    @Override
    public boolean armRxSignal() {
        return uring != null && uring.armSignal();
    }

    @Override
    public boolean rxSignalled() {
        return uring == null || uring.signalled();
    }

    /** The {@code io_uring_enter} calls of batched I/O so far; 0 without it (tests). */
    long batchCalls() {
        return uring != null ? uring.enterCalls() : 0;
    }

    /**
     * Whether the vnet header of each frame is stripped/added by this queue.
     *
     * @return true if opened with {@code IFF_VNET_HDR}
     */
    public boolean vnetHeader() {
        return vnetHeader;
    }

    boolean closed() {
        return closed;
    }

    void close() {
        if (!closed) {
            closed = true;
            if (uring != null) {
                uring.close();
            }
            Libc.close(fd);
        }
    }

    @Override
    public String toString() {
        return "TapQueue[" + deviceName + "#" + index + " fd=" + fd + (uring != null ? " io_uring" : "") + "]";
    }
}
