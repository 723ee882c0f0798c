package io.flowstack.nic.packet;

import static io.flowstack.nativeio.Packet.SLL_PKTTYPE;
import static io.flowstack.nativeio.Packet.TP2_LEN;
import static io.flowstack.nativeio.Packet.TP2_MAC;
import static io.flowstack.nativeio.Packet.TP2_SNAPLEN;
import static io.flowstack.nativeio.Packet.TP2_STATUS;
import static io.flowstack.nativeio.Packet.TP2_VLAN_TCI;
import static io.flowstack.nativeio.Packet.TPACKET2_SLL;
import static io.flowstack.nativeio.Packet.TP_STATUS_COPY;
import static io.flowstack.nativeio.Packet.TP_STATUS_KERNEL;
import static io.flowstack.nativeio.Packet.TP_STATUS_USER;
import static io.flowstack.nativeio.Packet.TP_STATUS_VLAN_VALID;

import io.flowstack.nativeio.Packet;
import io.flowstack.nativeio.Tun;
import io.flowstack.nic.FrameBatch;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * The consumer side of a TPACKET_V2 receive ring: fixed-size slots, each with its own status, taken
 * in ring order as soon as the kernel publishes them (no block to wait for: no latency floor).
 *
 * <p>The rules are those of {@code Documentation/networking/packet_mmap.rst} ("TPACKET_V1/V2",
 * "Frame structure") and of {@code tpacket_rcv} in {@code net/packet/af_packet.c}:
 * <ol>
 *   <li>Slot {@code i} lies in block {@code i / framesPerBlock} at
 *       {@code (i % framesPerBlock) * frameSize}; slots never straddle blocks. The kernel fills
 *       them in ring order.</li>
 *   <li>A slot is the user's once its {@code tp_status} has {@code TP_STATUS_USER}, read with
 *       <b>acquire</b>: the kernel writes the frame and the header, then publishes the status
 *       ({@code __packet_set_status}: {@code smp_wmb} before the store).</li>
 *   <li>The frame is at {@code hdr + tp_mac}, {@code tp_snaplen} bytes; it was {@code tp_len}
 *       bytes on the wire. A frame longer than the slot is cut to it; with
 *       {@code PACKET_COPY_THRESH} set, the kernel then also queues the whole frame on the
 *       socket's receive queue and marks the slot {@code TP_STATUS_COPY} (both under the receive
 *       queue's lock, so the queued frames are in the order of their COPY slots). Such a frame is
 *       read whole with one {@code read()} of the socket into the batch slot
 *       ({@link CopyReader}), counted in {@link #copied()}: this is how GSO super-frames of up to
 *       64 KiB arrive while the ring's slots stay sized for the MTU.</li>
 *   <li>The slot is returned by storing {@code TP_STATUS_KERNEL} with <b>release</b> semantics,
 *       after the frame was copied out.</li>
 * </ol>
 * Which frames are delivered and with which checksum flag is {@link ReceiveRing}'s rule. A slot
 * whose {@code tp_mac} or {@code tp_snaplen} points outside the slot (never from a correct kernel)
 * is returned undelivered and counted in {@link #corruptBlocks()}.
 *
 * <p>Owned by: the netisr thread that owns its {@link PacketQueue}; {@link #drain} and
 * {@link #ready} are called only by it, never block and never allocate (a COPY frame costs one
 * non-blocking {@code read}).
 */
public final class FrameRxRing extends ReceiveRing {
    private static final VarHandle INT_VH = ValueLayout.JAVA_INT.varHandle();
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT;
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT;
    private static final ValueLayout.OfShort LE_SHORT =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);
    /** Bytes before any frame data in a slot: the tpacket2_hdr and the sockaddr_ll after it. */
    static final int HEADER_BYTES = (int) TPACKET2_SLL + Packet.SOCKADDR_LL_SIZE;

    /**
     * Reads the next frame queued on the socket's receive queue (the whole frame of a
     * {@code TP_STATUS_COPY} slot) into {@code slot} from offset 0.
     *
     * <p>Owned by: the ring's owner thread.
     */
    @FunctionalInterface
    public interface CopyReader {
        /**
         * Reads one queued frame.
         *
         * @param slot     where the frame goes, from offset 0
         * @param capacity the most bytes to read; a longer frame is cut (and its rest discarded)
         * @return bytes read, or {@code -errno} (e.g. {@code -EAGAIN}: nothing queued)
         */
        int read(MemorySegment slot, int capacity);

        /**
         * The segment size of the frame the last {@link #read} returned, if it was a GSO
         * super-frame and the socket has a virtio-net header; 0 otherwise.
         *
         * @return payload bytes per segment, or 0
         */
        default int lastGsoSize() {
            return 0;
        }
    }

    private final MemorySegment ring;
    private final int frameSize;
    private final int framesPerBlock;
    private final int blockSize;
    private final int frameCount;
    private final CopyReader copier;
    /** Bytes of {@code virtio_net_hdr} the kernel puts before each frame ({@code PACKET_VNET_HDR}), or 0. */
    private final int vnetLen;
    /** Index of the next slot to take. */
    private int head;

    /**
     * @param ring       the mapped receive ring ({@code blockCount} blocks of {@code blockSize});
     *                   its base must be 4-byte aligned (a mapping is page aligned)
     * @param blockSize  {@code tp_block_size}
     * @param blockCount {@code tp_block_nr}
     * @param frameSize  {@code tp_frame_size}: a multiple of 16, more than the headers, at most
     *                   {@code blockSize}
     * @param copier     reads the whole frame of a {@code TP_STATUS_COPY} slot from the socket
     */
    public FrameRxRing(MemorySegment ring, int blockSize, int blockCount, int frameSize, CopyReader copier) {
        this(ring, blockSize, blockCount, frameSize, copier, 0);
    }

    /**
     * @param ring       the mapped receive ring ({@code blockCount} blocks of {@code blockSize});
     *                   its base must be 4-byte aligned (a mapping is page aligned)
     * @param blockSize  {@code tp_block_size}
     * @param blockCount {@code tp_block_nr}
     * @param frameSize  {@code tp_frame_size}: a multiple of 16, more than the headers, at most
     *                   {@code blockSize}
     * @param copier     reads the whole frame of a {@code TP_STATUS_COPY} slot from the socket
     * @param vnetLen    10 when the socket has {@code PACKET_VNET_HDR}: {@code tpacket_rcv} then
     *                   writes a {@code virtio_net_hdr} just before each frame (its
     *                   {@code gso_size} becomes the frame's {@link FrameBatch#gsoSize}); else 0
     */
    public FrameRxRing(MemorySegment ring, int blockSize, int blockCount, int frameSize, CopyReader copier,
                       int vnetLen) {
        if (frameSize <= HEADER_BYTES || (frameSize & 15) != 0 || blockSize < frameSize || blockCount < 1) {
            throw new IllegalArgumentException("bad V2 ring geometry: " + blockCount + " blocks of " + blockSize
                    + ", frames of " + frameSize);
        }
        if ((long) blockSize * blockCount > ring.byteSize()) {
            throw new IllegalArgumentException("ring of " + ring.byteSize() + " bytes is smaller than "
                    + blockCount + " blocks of " + blockSize);
        }
        if (ring.address() % 4 != 0) {
            throw new IllegalArgumentException("ring must be 4-byte aligned for atomic status access");
        }
        this.ring = ring;
        this.blockSize = blockSize;
        this.frameSize = frameSize;
        this.framesPerBlock = blockSize / frameSize;
        this.frameCount = framesPerBlock * blockCount;
        this.copier = copier;
        this.vnetLen = vnetLen;
    }

    @Override
    public int drain(FrameBatch batch) {
        final int capacity = batch.capacity();
        final int slotSize = batch.slotSize();
        int n = 0;
        long bytes = 0;
        while (n < capacity) {
            long hdr = slotOffset(head);
            int status = (int) INT_VH.getAcquire(ring, hdr + TP2_STATUS);
            if ((status & TP_STATUS_USER) == 0) {
                break;
            }
            int len = ring.get(INT, hdr + TP2_LEN);
            int snaplen = ring.get(INT, hdr + TP2_SNAPLEN);
            int mac = Short.toUnsignedInt(ring.get(SHORT, hdr + TP2_MAC));
            int pkttype = Byte.toUnsignedInt(ring.get(ValueLayout.JAVA_BYTE, hdr + TPACKET2_SLL + SLL_PKTTYPE));
            int vlanTci = (status & TP_STATUS_VLAN_VALID) != 0
                    ? Short.toUnsignedInt(ring.get(SHORT, hdr + TP2_VLAN_TCI)) : 0;
            if ((status & TP_STATUS_COPY) != 0) {
                // the whole frame waits on the socket: read it (always, to stay in step)
                countCopied();
                int r = copier.read(batch.slot(n), slotSize);
                if (r < 0) {
                    countTruncated(); // queued copy missing: never from a correct kernel
                } else {
                    int flags = classify(status, pkttype, vlanTci, Math.min(r, slotSize), len, slotSize);
                    if (flags != ReceiveRing.DROP) {
                        batch.frame(n, r, flags, copier.lastGsoSize());
                        bytes += r;
                        n++;
                    }
                }
            } else if (snaplen >= 0 && snaplen <= slotSize
                    && (mac < HEADER_BYTES + vnetLen || mac + snaplen > frameSize)) {
                countCorrupt();
            } else {
                int flags = classify(status, pkttype, vlanTci, snaplen, len, slotSize);
                if (flags != ReceiveRing.DROP) {
                    MemorySegment.copy(ring, hdr + mac, batch.slot(n), 0, snaplen);
                    batch.frame(n, snaplen, flags, vnetLen == 0 ? 0 : gsoSize(ring, hdr + mac - vnetLen));
                    bytes += snaplen;
                    n++;
                }
            }
            INT_VH.setRelease(ring, hdr + TP2_STATUS, TP_STATUS_KERNEL);
            head = head + 1 == frameCount ? 0 : head + 1;
        }
        batch.count(n);
        lastBytes = bytes;
        return n;
    }

    /** The {@code gso_size} of the {@code virtio_net_hdr} at {@code at}, or 0 if it asks for no GSO. */
    static int gsoSize(MemorySegment ring, long at) {
        if (ring.get(ValueLayout.JAVA_BYTE, at + Tun.VNET_GSO_TYPE) == Tun.VNET_GSO_NONE) {
            return 0;
        }
        return Short.toUnsignedInt(ring.get(LE_SHORT, at + Tun.VNET_GSO_SIZE));
    }

    /** Whether the next slot holds a frame. */
    @Override
    public boolean ready() {
        return (status(head) & TP_STATUS_USER) != 0;
    }

    /** {@code TPACKET_V2}. */
    @Override
    public int version() {
        return Packet.TPACKET_V2;
    }

    /**
     * The status word of slot {@code index}, read with acquire semantics.
     *
     * @param index a slot number
     * @return {@code tp_status}
     */
    public int status(int index) {
        return (int) INT_VH.getAcquire(ring, slotOffset(index) + TP2_STATUS);
    }

    /**
     * Ring offset of slot {@code index}.
     *
     * @param index a slot number
     * @return the offset of its {@code tpacket2_hdr}
     */
    public long slotOffset(int index) {
        return (long) (index / framesPerBlock) * blockSize + (long) (index % framesPerBlock) * frameSize;
    }

    /**
     * Number of slots.
     *
     * @return {@code tp_frame_nr}
     */
    public int frameCount() {
        return frameCount;
    }

    /**
     * Index of the slot the next {@link #drain} looks at first (tests, diagnostics).
     *
     * @return the head index
     */
    public int head() {
        return head;
    }
}
