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

    private final boolean v3;
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
        if (version != Packet.TPACKET_V3 && version != Packet.TPACKET_V2) {
            throw new IllegalArgumentException("TPACKET version must be V2 or V3: " + version);
        }
        this.v3 = version == Packet.TPACKET_V3;
        this.statusOffset = v3 ? TP3_STATUS : TP2_STATUS;
        this.lenOffset = v3 ? TP3_LEN : TP2_LEN;
        this.snaplenOffset = v3 ? TP3_SNAPLEN : TP2_SNAPLEN;
        this.dataOffset = v3 ? TX_DATA_OFFSET_V3 : TX_DATA_OFFSET_V2;
        if (frameSize <= dataOffset || (frameSize & 15) != 0 || blockSize < frameSize || blockCount < 1) {
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
        this.maxFrame = frameSize - dataOffset;
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
        MemorySegment.copy(frame, offset, ring, slot + dataOffset, length);
        if (v3) {
            ring.set(INT, slot + TP3_NEXT_OFFSET, 0);
        }
        ring.set(INT, slot + snaplenOffset, length);
        ring.set(INT, slot + lenOffset, length);
        INT_VH.setRelease(ring, slot + statusOffset, TP_STATUS_SEND_REQUEST);
        head = head + 1 == frameCount ? 0 : head + 1;
    }
}
