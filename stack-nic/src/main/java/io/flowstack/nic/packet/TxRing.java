package io.flowstack.nic.packet;

import static io.flowstack.nativeio.Packet.TP2_LEN;
import static io.flowstack.nativeio.Packet.TP2_SNAPLEN;
import static io.flowstack.nativeio.Packet.TP2_STATUS;
import static io.flowstack.nativeio.Packet.TP3_LEN;
import static io.flowstack.nativeio.Packet.TP3_NEXT_OFFSET;
import static io.flowstack.nativeio.Packet.TP3_SNAPLEN;
import static io.flowstack.nativeio.Packet.TP3_STATUS;
import static io.flowstack.nativeio.Packet.TP_STATUS_SENDING;
import static io.flowstack.nativeio.Packet.TP_STATUS_SEND_REQUEST;
import static io.flowstack.nativeio.Packet.TX_DATA_OFFSET_V2;
import static io.flowstack.nativeio.Packet.TX_DATA_OFFSET_V3;

import io.flowstack.nativeio.Packet;
import io.flowstack.nativeio.Tun;
import io.flowstack.nic.TxFrame;
import java.nio.ByteOrder;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * The producer side of a TPACKET_V3 or TPACKET_V2 transmit ring (the socket's
 * {@code PACKET_VERSION}, shared with its receive ring): fixed-size frame slots in a mapped
 * {@code MemorySegment}, filled in ring order. The versions differ only in where the header
 * fields are ({@code tpacket3_hdr}: status@20, len@16, snaplen@12, next_offset@0;
 * {@code tpacket2_hdr}: status@0, len@4, snaplen@8) and where the frame goes (48 or 32).
 *
 * <p>The rules are those of {@code Documentation/networking/packet_mmap.rst} ("AF_PACKET TX
 * ring") and of the kernel's {@code tpacket_snd}:
 * <ol>
 *   <li>A slot is free when its {@code tp_status} is {@code TP_STATUS_AVAILABLE} (read with
 *       <b>acquire</b>: the kernel's {@code tpacket_destruct_skb} sets it when the skb that
 *       referenced the slot's pages is freed, and we must not overwrite the data before).
 *       Timestamp bits may be or'ed into an available status; {@code TP_STATUS_WRONG_FORMAT}
 *       (only without PACKET_LOSS) also leaves the slot to us. So a slot is busy exactly while
 *       {@code SEND_REQUEST} or {@code SENDING} is set.</li>
 *   <li>The frame is copied to {@code slot + TPACKET_ALIGN(sizeof(tpacketN_hdr))} = 48 (V3; 32 for V2; not
 *       {@code PACKET_HDRLEN}, FRAME-IO §8 pitfall 1), {@code tp_len} is set, V3 needs
 *       {@code tp_next_offset == 0} (fixed-size slots only), and then {@code tp_status =
 *       TP_STATUS_SEND_REQUEST} is stored with <b>release</b> semantics so that the kernel sees
 *       the data once it sees the status.</li>
 *   <li>Nothing is sent until {@code send()} kicks the socket; the kernel then walks the ring
 *       from its own head and transmits every {@code SEND_REQUEST} slot (that is the caller's
 *       job: {@link PacketQueue}).</li>
 * </ol>
 * Slots never straddle blocks: slot {@code i} is in block {@code i / framesPerBlock} at
 * {@code (i % framesPerBlock) * frameSize}.
 *
 * <p><b>Linear frames.</b> With a vnet header, a frame that is not a super-frame goes with
 * {@code hdr_len} = its whole length. {@code tpacket_snd} copies {@code hdr_len} bytes into the
 * skb's linear area and attaches the rest as fragments of the ring's own pages
 * ({@code tpacket_fill_skb}), which a path that must keep the data after the slot is reused
 * copies again into pages it allocates ({@code skb_orphan_frags}, {@code skb_copy_ubufs}: a veth
 * forwarding to its peer, a packet tap on the device). One flat copy into the skb costs less than
 * a page allocation and a copy per frame; a super-frame keeps {@code hdr_len} = its headers, its
 * payload in fragments.
 *
 * <p>Owned by: the netisr thread that owns its {@link PacketQueue}; never blocks, never
 * allocates.
 */
final class TxRing {
    private static final VarHandle INT_VH = ValueLayout.JAVA_INT.varHandle();
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT;
    private static final int BUSY = TP_STATUS_SEND_REQUEST | TP_STATUS_SENDING;

    private final MemorySegment ring;
    private final int frameSize;
    private final int frameCount;
    private final int framesPerBlock;
    private final int blockSize;
    private final int maxFrame;
    private int head;

    private static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LONG_UNALIGNED = ValueLayout.JAVA_LONG_UNALIGNED;

    private final boolean v3;
    /** Bytes of {@code struct virtio_net_hdr} before every frame ({@code PACKET_VNET_HDR}), or 0. */
    private final int vnetLen;
    private final long statusOffset;
    private final long lenOffset;
    private final long snaplenOffset;
    private final int dataOffset;

    /**
     * A TPACKET_V3 ring.
     *
     * @param ring       the mapped TX ring ({@code blockCount} blocks of {@code blockSize})
     * @param blockSize  {@code tp_block_size}
     * @param blockCount {@code tp_block_nr}
     * @param frameSize  {@code tp_frame_size} (a multiple of 16)
     */
    public TxRing(MemorySegment ring, int blockSize, int blockCount, int frameSize) {
        this(Packet.TPACKET_V3, ring, blockSize, blockCount, frameSize);
    }

    /**
     * @param version    {@code Packet.TPACKET_V3} or {@code Packet.TPACKET_V2}
     * @param ring       the mapped TX ring ({@code blockCount} blocks of {@code blockSize})
     * @param blockSize  {@code tp_block_size}
     * @param blockCount {@code tp_block_nr}
     * @param frameSize  {@code tp_frame_size} (a multiple of 16)
     */
    public TxRing(int version, MemorySegment ring, int blockSize, int blockCount, int frameSize) {
        this(version, ring, blockSize, blockCount, frameSize, 0);
    }

    /**
     * @param version    {@code Packet.TPACKET_V3} or {@code Packet.TPACKET_V2}
     * @param ring       the mapped TX ring ({@code blockCount} blocks of {@code blockSize})
     * @param blockSize  {@code tp_block_size}
     * @param blockCount {@code tp_block_nr}
     * @param frameSize  {@code tp_frame_size} (a multiple of 16)
     * @param vnetLen    {@link Tun#VNET_HDR_LEN} when the socket has {@code PACKET_VNET_HDR}: every
     *                   slot then starts with a {@code struct virtio_net_hdr} that {@code tpacket_snd}
     *                   reads ({@code tp_len} counts it) and turns into checksum and GSO requests;
     *                   0 without
     */
    public TxRing(int version, MemorySegment ring, int blockSize, int blockCount, int frameSize, int vnetLen) {
        if (vnetLen != 0 && vnetLen != Tun.VNET_HDR_LEN) {
            throw new IllegalArgumentException("vnet header length must be 0 or 10: " + vnetLen);
        }
        this.vnetLen = vnetLen;
        if (version != Packet.TPACKET_V3 && version != Packet.TPACKET_V2) {
            throw new IllegalArgumentException("TPACKET version must be V2 or V3: " + version);
        }
        this.v3 = version == Packet.TPACKET_V3;
        this.statusOffset = v3 ? TP3_STATUS : TP2_STATUS;
        this.lenOffset = v3 ? TP3_LEN : TP2_LEN;
        this.snaplenOffset = v3 ? TP3_SNAPLEN : TP2_SNAPLEN;
        this.dataOffset = v3 ? TX_DATA_OFFSET_V3 : TX_DATA_OFFSET_V2;
        if (frameSize <= dataOffset + vnetLen || (frameSize & 15) != 0 || blockSize < frameSize || blockCount < 1) {
            throw new IllegalArgumentException("bad TX ring geometry: " + blockCount + " blocks of " + blockSize
                    + ", frames of " + frameSize);
        }
        if ((long) blockSize * blockCount > ring.byteSize()) {
            throw new IllegalArgumentException("TX ring of " + ring.byteSize() + " bytes is smaller than "
                    + blockCount + " blocks of " + blockSize);
        }
        this.ring = ring;
        this.frameSize = frameSize;
        this.blockSize = blockSize;
        this.framesPerBlock = blockSize / frameSize;
        this.frameCount = framesPerBlock * blockCount;
        this.maxFrame = frameSize - dataOffset - vnetLen;
    }

    /** The longest frame a slot holds. */
    public int maxFrame() {
        return maxFrame;
    }

    /** Number of slots. */
    public int frameCount() {
        return frameCount;
    }

    /** Index of the next slot {@link #put} fills. */
    public int head() {
        return head;
    }

    /** Ring offset of slot {@code index}. */
    public long slotOffset(int index) {
        return (long) (index / framesPerBlock) * blockSize + (long) (index % framesPerBlock) * frameSize;
    }

    /** The status word of slot {@code index}, read with acquire semantics. */
    public int status(int index) {
        return (int) INT_VH.getAcquire(ring, slotOffset(index) + statusOffset);
    }

    /** Whether the next slot is free (neither waiting to be sent nor being sent). */
    public boolean headFree() {
        return (status(head) & BUSY) == 0;
    }

    /**
     * Copies {@code frame[offset, offset + length)} into the head slot, marks it
     * {@code SEND_REQUEST} (release store) and advances. Call only after {@link #headFree()}
     * returned true, with {@code length <= maxFrame()}.
     */
    public void put(MemorySegment frame, long offset, int length) {
        long slot = slotOffset(head);
        long data = slot + dataOffset;
        if (vnetLen != 0) {
            ring.set(LONG_UNALIGNED, data, 0L); // no checksum or segmentation request
            ring.set(LE_SHORT, data + 8, (short) 0);
            ring.set(LE_SHORT, data + Tun.VNET_HDR_LEN_FIELD, (short) length); // linear (class comment)
        }
        MemorySegment.copy(frame, offset, ring, data + vnetLen, length);
        publish(slot, length);
    }

    /**
     * Copies {@code frame} (its headers, then each payload slice) into the head slot after a
     * {@code virtio_net_hdr} with its checksum and segmentation requests (the layout
     * {@code tpacket_snd} parses: {@code __packet_snd_vnet_parse}, {@code virtio_net_hdr_to_skb}),
     * marks it {@code SEND_REQUEST} and advances. Only for a ring made with a vnet header; call
     * after {@link #headFree()} returned true, with {@code frame.length() <= maxFrame()}.
     *
     * @param frame the frame; its memory is only read during the call
     */
    public void put(TxFrame frame) {
        if (vnetLen == 0) {
            throw new IllegalStateException("a TX ring without a vnet header takes no offload requests");
        }
        long slot = slotOffset(head);
        long h = slot + dataOffset;
        frame.putVnetHeader(ring, h);
        int length = frame.copyTo(ring, h + vnetLen);
        if (frame.gsoSize() == 0) {
            ring.set(LE_SHORT, h + Tun.VNET_HDR_LEN_FIELD, (short) length); // linear (class comment)
        }
        publish(slot, length);
    }

    /** Sets the lengths (the vnet header counts in them) and hands the slot to the kernel. */
    private void publish(long slot, int length) {
        if (v3) {
            ring.set(INT, slot + TP3_NEXT_OFFSET, 0);
        }
        ring.set(INT, slot + snaplenOffset, length + vnetLen);
        ring.set(INT, slot + lenOffset, length + vnetLen);
        INT_VH.setRelease(ring, slot + statusOffset, TP_STATUS_SEND_REQUEST);
        head = head + 1 == frameCount ? 0 : head + 1;
    }

    /**
     * Bytes of {@code virtio_net_hdr} before each frame.
     *
     * @return 10 with {@code PACKET_VNET_HDR}, else 0
     */
    public int vnetLength() {
        return vnetLen;
    }
}
