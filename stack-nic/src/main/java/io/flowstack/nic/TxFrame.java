package io.flowstack.nic;

import io.flowstack.nativeio.Tun;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * One frame to transmit, described rather than copied: its headers in one piece of memory, its
 * payload in up to {@value #MAX_SLICES} more (a socket's send ring wraps at most once), and the
 * offloads the device is asked to do (complete the layer-4 checksum; cut a TCP super-frame into
 * segments). A queue that advertises {@link NicQueue#TX_GATHER} sends it with one gathering
 * system call ({@code writev}), so the payload is copied once, by the kernel.
 *
 * <p>The layout of the request follows {@code struct virtio_net_hdr} (FRAME-IO §2): a checksum
 * to complete is {@code csumStart}/{@code csumOffset} bytes into the frame, and its field holds the
 * folded, non-inverted pseudo-header sum (of the whole super-frame's layer-4 length); a GSO
 * request names the segment type and the payload bytes per segment.
 *
 * <p>Owned by: one netisr thread, which fills it, hands it to its own queue's
 * {@link NicQueue#transmit(TxFrame)} and reuses it for the next frame. Allocation-free.
 */
public final class TxFrame {
    private static final ValueLayout.OfShort LE_SHORT =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Most payload slices one frame carries. */
    public static final int MAX_SLICES = 2;
    /** No segmentation ({@code VIRTIO_NET_HDR_GSO_NONE}). */
    public static final int GSO_NONE = 0;
    /** A TCP over IPv4 super-frame ({@code VIRTIO_NET_HDR_GSO_TCPV4}). */
    public static final int GSO_TCPV4 = 1;

    /** An empty frame; {@link #headers} starts each use. */
    public TxFrame() {
    }

    private MemorySegment head;
    private long headOffset;
    private int headLength;
    private final MemorySegment[] slice = new MemorySegment[MAX_SLICES];
    private final long[] sliceOffset = new long[MAX_SLICES];
    private final int[] sliceLength = new int[MAX_SLICES];
    private int slices;
    private int csumStart = -1;
    private int csumOffset;
    private int gsoType;
    private int gsoSize;

    /**
     * Starts a new frame: its headers (Ethernet first) at {@code s[off, off + len)}, no payload
     * slices, no offloads.
     *
     * @param s native memory holding the headers
     * @param off offset of the Ethernet header
     * @param len bytes of headers
     * @return this frame
     */
    public TxFrame headers(MemorySegment s, long off, int len) {
        head = s;
        headOffset = off;
        headLength = len;
        slices = 0;
        csumStart = -1;
        csumOffset = 0;
        gsoType = GSO_NONE;
        gsoSize = 0;
        return this;
    }

    /**
     * Appends a payload slice {@code s[off, off + len)} after the headers and earlier slices.
     *
     * @param s native memory holding the payload
     * @param off offset of the slice
     * @param len bytes in the slice; a zero-length slice is not added
     * @return this frame
     * @throws IllegalStateException if the frame already has {@value #MAX_SLICES} slices
     */
    public TxFrame append(MemorySegment s, long off, int len) {
        if (len == 0) {
            return this;
        }
        if (slices == MAX_SLICES) {
            throw new IllegalStateException("a frame carries at most " + MAX_SLICES + " payload slices");
        }
        slice[slices] = s;
        sliceOffset[slices] = off;
        sliceLength[slices] = len;
        slices++;
        return this;
    }

    /**
     * Asks the device to complete the layer-4 checksum ({@code VIRTIO_NET_HDR_F_NEEDS_CSUM}): it
     * sums the frame from {@code start} to its end, starting from the pseudo-header sum already in
     * the field, and stores the complement at {@code start + offset}.
     *
     * @param start offset of the layer-4 header in the frame
     * @param offset offset of the checksum field in the layer-4 header (16 for TCP, 6 for UDP)
     * @return this frame
     */
    public TxFrame checksum(int start, int offset) {
        csumStart = start;
        csumOffset = offset;
        return this;
    }

    /**
     * Asks the device to cut the frame into segments of {@code size} payload bytes each (the last
     * may be shorter), copying the headers onto each (TCP segmentation offload).
     *
     * @param type {@link #GSO_TCPV4}
     * @param size payload bytes per segment, the MSS less the options
     * @return this frame
     */
    public TxFrame gso(int type, int size) {
        gsoType = type;
        gsoSize = size;
        return this;
    }

    /**
     * Returns the memory holding the headers.
     *
     * @return the memory holding the headers
     */
    public MemorySegment head() {
        return head;
    }

    /**
     * Returns the offset of the headers in {@link #head()}.
     *
     * @return the offset of the headers in {@link #head()}
     */
    public long headOffset() {
        return headOffset;
    }

    /**
     * Returns bytes of headers.
     *
     * @return bytes of headers
     */
    public int headLength() {
        return headLength;
    }

    /**
     * Returns the number of payload slices, 0 to {@value #MAX_SLICES}.
     *
     * @return the number of payload slices, 0 to {@value #MAX_SLICES}
     */
    public int slices() {
        return slices;
    }

    /**
     * Payload slice {@code i}'s memory.
     *
     * @param i the slice, {@code 0 <= i < slices()}
     * @return its memory
     */
    public MemorySegment slice(int i) {
        return slice[i];
    }

    /**
     * Payload slice {@code i}'s offset in {@link #slice(int)}.
     *
     * @param i the slice
     * @return the offset
     */
    public long sliceOffset(int i) {
        return sliceOffset[i];
    }

    /**
     * Payload slice {@code i}'s length.
     *
     * @param i the slice
     * @return bytes in the slice
     */
    public int sliceLength(int i) {
        return sliceLength[i];
    }

    /**
     * Returns the whole frame's length: headers and every slice.
     *
     * @return the whole frame's length: headers and every slice
     */
    public int length() {
        int len = headLength;
        for (int i = 0; i < slices; i++) {
            len += sliceLength[i];
        }
        return len;
    }

    /**
     * Returns the offset of the layer-4 header whose checksum the device completes, or -1.
     *
     * @return the offset of the layer-4 header whose checksum the device completes, or -1
     */
    public int csumStart() {
        return csumStart;
    }

    /**
     * Returns the offset of the checksum field in the layer-4 header.
     *
     * @return the offset of the checksum field in the layer-4 header
     */
    public int csumOffset() {
        return csumOffset;
    }

    /**
     * Returns {@link #GSO_NONE} or {@link #GSO_TCPV4}.
     *
     * @return {@link #GSO_NONE} or {@link #GSO_TCPV4}
     */
    public int gsoType() {
        return gsoType;
    }

    /**
     * Returns payload bytes per segment of a super-frame, or 0.
     *
     * @return payload bytes per segment of a super-frame, or 0
     */
    public int gsoSize() {
        return gsoSize;
    }

    /**
     * Writes this frame's offload requests as a {@code virtio_net_hdr} ({@value Tun#VNET_HDR_LEN}
     * bytes) at {@code h[offset]}: {@code NEEDS_CSUM} with the checksum's start and offset, and the
     * segmentation type and size of a super-frame.
     *
     * @param h native memory to write the header into
     * @param offset where the header starts
     */
    public void putVnetHeader(MemorySegment h, long offset) {
        int type = gsoType == GSO_TCPV4 ? Tun.VNET_GSO_TCPV4 : Tun.VNET_GSO_NONE;
        h.set(ValueLayout.JAVA_BYTE, offset + Tun.VNET_FLAGS, (byte) (csumStart >= 0 ? Tun.VNET_F_NEEDS_CSUM : 0));
        h.set(ValueLayout.JAVA_BYTE, offset + Tun.VNET_GSO_TYPE, (byte) type);
        h.set(LE_SHORT, offset + Tun.VNET_HDR_LEN_FIELD, (short) headLength);
        h.set(LE_SHORT, offset + Tun.VNET_GSO_SIZE, (short) (type == Tun.VNET_GSO_NONE ? 0 : gsoSize));
        h.set(LE_SHORT, offset + Tun.VNET_CSUM_START, (short) Math.max(csumStart, 0));
        h.set(LE_SHORT, offset + Tun.VNET_CSUM_OFFSET, (short) (csumStart >= 0 ? csumOffset : 0));
    }

    /**
     * Copies the headers and every slice, in order, to {@code dst[at, at + length())}.
     *
     * @param dst memory with room for {@link #length()} bytes at {@code at}
     * @param at where the frame's first byte goes
     * @return the bytes copied ({@link #length()})
     */
    public int copyTo(MemorySegment dst, long at) {
        MemorySegment.copy(head, headOffset, dst, at, headLength);
        long p = at + headLength;
        for (int i = 0; i < slices; i++) {
            MemorySegment.copy(slice[i], sliceOffset[i], dst, p, sliceLength[i]);
            p += sliceLength[i];
        }
        return (int) (p - at);
    }
}
