package io.flowstack.nic;

import io.flowstack.nativeio.Libc;
import io.flowstack.nativeio.Tun;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.ref.Reference;
import java.util.Objects;

/**
 * The gathering write of a {@link TxFrame}: one {@code writev} of a {@code struct iovec[]} that
 * points at [the frame's {@value Tun#VNET_HDR_LEN}-byte {@code virtio_net_hdr}
 * ({@link TxFrame#putVnetHeader}), its headers, each payload slice] where they are, so the kernel
 * copies the payload once, into its skb. A TAP descriptor with {@code IFF_VNET_HDR} and the default
 * header size ({@link TapQueue}) and an AF_PACKET socket with {@code PACKET_VNET_HDR} (the companion
 * socket of an XDP queue) take exactly this layout (FRAME-IO §2, §4.2): a 10-byte
 * {@code struct virtio_net_hdr}, then the Ethernet frame.
 *
 * <p>The iovec array and the header live in native memory of the arena given at construction and
 * are rewritten for every frame: nothing is allocated per frame.
 *
 * <p>Owned by: the netisr thread of the queue that holds it, the only caller of {@link #write}
 * (never blocks by itself: the descriptor's {@code O_NONBLOCK} decides; never throws on an I/O
 * error, it returns {@code -errno}).
 */
public final class VnetGather {
    /** iovecs of one write: the vnet header, the headers, up to {@value TxFrame#MAX_SLICES} slices. */
    static final int MAX_IOVECS = 2 + TxFrame.MAX_SLICES;

    private final MemorySegment iov;
    private final MemorySegment header;

    /**
     * Allocates the iovec array and the header in {@code arena}, which must outlive every
     * {@link #write} and be accessible from the owner thread.
     *
     * @param arena owns the native memory (e.g. the queue's or the NIC's)
     */
    public VnetGather(Arena arena) {
        this.iov = arena.allocate(MAX_IOVECS * Libc.IOVEC_SIZE, 8);
        this.header = arena.allocate(16, 8);
        setIov(iov, 0, header.address(), Tun.VNET_HDR_LEN);
    }

    /**
     * Sets {@code struct iovec} number {@code i} of {@code iov} to {@code [address, address + length)}.
     *
     * @param iov native memory holding the array
     * @param i the entry
     * @param address the buffer's native address
     * @param length its length in bytes
     */
    static void setIov(MemorySegment iov, int i, long address, long length) {
        iov.set(ValueLayout.JAVA_LONG, i * Libc.IOVEC_SIZE + Libc.IOVEC_BASE, address);
        iov.set(ValueLayout.JAVA_LONG, i * Libc.IOVEC_SIZE + Libc.IOVEC_LEN, length);
    }

    /**
     * Writes {@code frame} to {@code fd} behind its vnet header with one {@code writev}.
     *
     * @param fd a TAP descriptor with {@code IFF_VNET_HDR} or an AF_PACKET socket with
     *     {@code PACKET_VNET_HDR}
     * @param frame the frame; its headers and slices must be native memory
     * @return the bytes written, the {@value Tun#VNET_HDR_LEN}-byte header included, or
     *     {@code -errno}
     * @throws IllegalArgumentException if the frame's memory is not native (a caller's bug)
     * @throws IndexOutOfBoundsException if a slice lies outside its segment (a caller's bug)
     */
    public int write(int fd, TxFrame frame) {
        int count = prepare(frame);
        int w = Libc.writev(fd, iov, count);
        Reference.reachabilityFence(frame); // keeps the segments the iovecs point into alive
        return w;
    }

    /**
     * Fills the iovecs for {@code frame}: its vnet header, its headers, its slices.
     *
     * @param frame the frame
     * @return the number of iovecs used, 2 to {@link #MAX_IOVECS}
     */
    int prepare(TxFrame frame) {
        frame.putVnetHeader(header, 0);
        setIov(iov, 1, address(frame.head(), frame.headOffset(), frame.headLength()), frame.headLength());
        int slices = frame.slices();
        for (int i = 0; i < slices; i++) {
            int len = frame.sliceLength(i);
            setIov(iov, 2 + i, address(frame.slice(i), frame.sliceOffset(i), len), len);
        }
        return 2 + slices;
    }

    /** The iovec array (tests). */
    MemorySegment iov() {
        return iov;
    }

    /** The vnet header the first iovec points at (tests). */
    MemorySegment header() {
        return header;
    }

    private static long address(MemorySegment s, long offset, int length) {
        Objects.checkFromIndexSize(offset, length, s.byteSize());
        if (!s.isNative()) {
            throw new IllegalArgumentException("frame memory must be native");
        }
        return s.address() + offset;
    }
}
