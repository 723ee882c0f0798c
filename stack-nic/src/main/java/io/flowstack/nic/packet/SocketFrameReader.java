package io.flowstack.nic.packet;

import io.flowstack.nativeio.Errno;
import io.flowstack.nativeio.Libc;
import io.flowstack.nativeio.Tun;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Reads the whole frame of a {@code TP_STATUS_COPY} slot from the AF_PACKET socket's receive
 * queue into a batch slot: one non-blocking {@code readv} of [vnet header scratch, slot] when the
 * socket has {@code PACKET_VNET_HDR} ({@code packet_recvmsg} then puts a {@code virtio_net_hdr}
 * before the frame), one {@code read} otherwise. The header's {@code gso_size} is kept for
 * {@link #lastGsoSize()}.
 *
 * <p>Owned by: the netisr thread that owns the queue (through its {@link FrameRxRing}); never
 * blocks (the socket is non-blocking), never allocates.
 */
final class SocketFrameReader implements FrameRxRing.CopyReader {
    private static final ValueLayout.OfShort LE_SHORT =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final int fd;
    private final int vnetLen;
    /** {@code struct iovec[2]}: the header scratch, then the slot (set per call). */
    private final MemorySegment iov;
    private final MemorySegment header;
    private int lastGsoSize;

    /**
     * @param fd      the AF_PACKET socket (non-blocking)
     * @param vnetLen {@link Tun#VNET_HDR_LEN} with {@code PACKET_VNET_HDR}, else 0
     * @param arena   where the iovec and the header scratch live (the NIC's)
     */
    SocketFrameReader(int fd, int vnetLen, Arena arena) {
        this.fd = fd;
        this.vnetLen = vnetLen;
        this.iov = arena.allocate(2 * Libc.IOVEC_SIZE, 8);
        this.header = arena.allocate(16, 8);
        iov.set(ValueLayout.JAVA_LONG, Libc.IOVEC_BASE, header.address());
        iov.set(ValueLayout.JAVA_LONG, Libc.IOVEC_LEN, vnetLen);
    }

    @Override
    public int read(MemorySegment slot, int capacity) {
        lastGsoSize = 0;
        if (vnetLen == 0) {
            return Libc.read(fd, slot, capacity);
        }
        if (!slot.isNative() || capacity > slot.byteSize()) {
            throw new IllegalArgumentException("slot must be native and hold " + capacity + " bytes");
        }
        iov.set(ValueLayout.JAVA_LONG, Libc.IOVEC_SIZE + Libc.IOVEC_BASE, slot.address());
        iov.set(ValueLayout.JAVA_LONG, Libc.IOVEC_SIZE + Libc.IOVEC_LEN, capacity);
        int r = Libc.readv(fd, iov, 2);
        if (r < 0) {
            return r;
        }
        if (r < vnetLen) {
            return -Errno.EINVAL; // never from a correct kernel: the header comes first
        }
        if (header.get(ValueLayout.JAVA_BYTE, Tun.VNET_GSO_TYPE) != Tun.VNET_GSO_NONE) {
            lastGsoSize = Short.toUnsignedInt(header.get(LE_SHORT, Tun.VNET_GSO_SIZE));
        }
        return r - vnetLen;
    }

    @Override
    public int lastGsoSize() {
        return lastGsoSize;
    }
}
