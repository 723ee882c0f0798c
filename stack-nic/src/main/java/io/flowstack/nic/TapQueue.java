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
 * {@value Tun#VNET_HDR_LEN}-byte {@code virtio_net_hdr}; this queue strips it on receive (the
 * batch slot holds only the Ethernet frame) and writes an all-zero header (no offload) on
 * transmit, using {@code readv}/{@code writev}. Offloads are never enabled.
 *
 * <p>Owned by: one netisr thread, the only caller of {@link #receive} and {@link #transmit}; both
 * never block, never throw on an I/O failure (they count it) and never allocate. Counter getters
 * may be called from any thread (see {@link CountingQueue}).
 */
public final class TapQueue extends CountingQueue {
    /** Size of the scratch buffer that detects frames longer than the slot. */
    private static final long OVERFLOW_BYTES = 64;

    private final String deviceName;
    private final int index;
    private final int fd;
    private final boolean vnetHeader;
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
    private volatile boolean closed;

    TapQueue(String deviceName, int index, int fd, boolean vnetHeader, Arena arena) {
        this.deviceName = deviceName;
        this.index = index;
        this.fd = fd;
        this.vnetHeader = vnetHeader;
        MemorySegment overflow = arena.allocate(OVERFLOW_BYTES, 8);
        MemorySegment iovs = arena.allocate(3 * Libc.IOVEC_SIZE, 8);
        if (vnetHeader) {
            MemorySegment rxHeader = arena.allocate(16, 8);
            setIov(iovs, 0, rxHeader.address(), Tun.VNET_HDR_LEN);
            this.rxIov = iovs;
            this.rxIovCount = 3;
            this.txIov = arena.allocate(2 * Libc.IOVEC_SIZE, 8);
            setIov(txIov, 0, arena.allocate(16, 8).address(), Tun.VNET_HDR_LEN);
        } else {
            this.rxIov = iovs.asSlice(Libc.IOVEC_SIZE, 2 * Libc.IOVEC_SIZE);
            this.rxIovCount = 2;
            this.txIov = null;
        }
        this.rxSlotIov = (rxIovCount - 2) * Libc.IOVEC_SIZE;
        setIov(rxIov, rxIovCount - 1, overflow.address(), OVERFLOW_BYTES);
    }

    private static void setIov(MemorySegment iov, int i, long address, long length) {
        iov.set(ValueLayout.JAVA_LONG, i * Libc.IOVEC_SIZE + Libc.IOVEC_BASE, address);
        iov.set(ValueLayout.JAVA_LONG, i * Libc.IOVEC_SIZE + Libc.IOVEC_LEN, length);
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
            batch.length(n, r);
            bytes += r;
            n++;
        }
        batch.count(n);
        if (n > 0) {
            countRx(n, bytes);
        }
        if (truncated > 0) {
            countRxTruncated(truncated);
        }
        return n;
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
        int w;
        if (vnetHeader) {
            Objects.checkFromIndexSize(offset, length, frame.byteSize());
            if (!frame.isNative()) {
                throw new IllegalArgumentException("frame must be a native segment");
            }
            setIov(txIov, 1, frame.address() + offset, length);
            w = Libc.writev(fd, txIov, 2);
            Reference.reachabilityFence(frame);
        } else {
            w = Libc.write(fd, frame, offset, length);
        }
        if (w >= 0) {
            countTx(length);
            return true;
        }
        if (w == -Errno.EAGAIN || w == -Errno.ENOBUFS) {
            countTxDrop();
        } else {
            countTxError();
        }
        return false;
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
            Libc.close(fd);
        }
    }

    @Override
    public String toString() {
        return "TapQueue[" + deviceName + "#" + index + " fd=" + fd + "]";
    }
}
