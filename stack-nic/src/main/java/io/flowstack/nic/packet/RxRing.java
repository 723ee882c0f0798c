package io.flowstack.nic.packet;

import static io.flowstack.nativeio.Packet.BLOCK_DESC_SIZE;
import static io.flowstack.nativeio.Packet.BLOCK_NUM_PKTS;
import static io.flowstack.nativeio.Packet.BLOCK_OFFSET_TO_FIRST_PKT;
import static io.flowstack.nativeio.Packet.BLOCK_STATUS;
import static io.flowstack.nativeio.Packet.SLL_PKTTYPE;
import static io.flowstack.nativeio.Packet.TP3_LEN;
import static io.flowstack.nativeio.Packet.TP3_MAC;
import static io.flowstack.nativeio.Packet.TP3_NEXT_OFFSET;
import static io.flowstack.nativeio.Packet.TP3_SNAPLEN;
import static io.flowstack.nativeio.Packet.TP3_STATUS;
import static io.flowstack.nativeio.Packet.TP3_VLAN_TCI;
import static io.flowstack.nativeio.Packet.TPACKET3_HDR_SIZE;
import static io.flowstack.nativeio.Packet.TPACKET3_SLL;
import static io.flowstack.nativeio.Packet.TP_STATUS_KERNEL;
import static io.flowstack.nativeio.Packet.TP_STATUS_USER;
import static io.flowstack.nativeio.Packet.TP_STATUS_VLAN_VALID;

import io.flowstack.nativeio.Packet;
import io.flowstack.nic.FrameBatch;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * The consumer side of a TPACKET_V3 receive ring: a walk over the blocks of a
 * {@code MemorySegment} that the kernel fills (or, in unit tests, a synthetic one).
 *
 * <p>The rules are those of {@code Documentation/networking/packet_mmap.rst} ("TPACKET_V3
 * example"):
 * <ol>
 *   <li>Blocks are handed over in ring order. A block belongs to user space once its
 *       {@code block_status} has {@code TP_STATUS_USER}; the status is read with
 *       <b>acquire</b> semantics, so every frame the kernel wrote before it set the status is
 *       visible (the kernel orders them with {@code smp_wmb}/{@code flush_dcache_page} before
 *       publishing the block in {@code prb_close_block}).</li>
 *   <li>The block holds {@code num_pkts} frames; the first {@code tpacket3_hdr} is at
 *       {@code offset_to_first_pkt} from the block start, each next one at
 *       {@code tp_next_offset} from the previous header. A frame's bytes start at
 *       {@code hdr + tp_mac} and are {@code tp_snaplen} long; the frame on the wire was
 *       {@code tp_len} long.</li>
 *   <li>After every frame of the block was consumed, the block is returned by storing
 *       {@code TP_STATUS_KERNEL} into {@code block_status} with <b>release</b> semantics (so the
 *       kernel cannot reuse the memory before our reads of it are done), and the walk moves to
 *       the next block.</li>
 * </ol>
 *
 * <p>The {@link FrameBatch} contract gives each frame a slot of the batch (offset 0, fixed
 * slots), so every accepted frame is <b>copied once</b> from the ring into its slot; the block is
 * then returned at once, without waiting for the next call. Frames are not views over the ring:
 * that would need a batch that carries (segment, offset) per frame and a consumer that reads
 * frames at an offset (see docs/AF_PACKET.md). A block with more frames than the batch has slots
 * is consumed over several calls; the walk keeps its place.
 *
 * <p>Which frames are delivered, and with which checksum flag, is {@link ReceiveRing}'s rule.
 * A frame longer than a block can hold is cut by the kernel to {@code max_frame_len} = block
 * size - 48 ({@code tpacket_rcv}, "packet too big, clamped") and counted as truncated: blocks
 * must hold a 64 KiB super-frame ({@link PacketNic}'s geometry). Auxiliary data (timestamps,
 * rxhash) is ignored. Offsets that point outside the block (never written by a correct kernel)
 * end the block: its remaining frames are dropped, the block is returned and
 * {@link #corruptBlocks()} counts it.
 *
 * <p>Latency: the kernel hands a block over only when it is full or {@code tp_retire_blk_tov} ms
 * (at least 1) after it opened, and the frames of the open block cannot be taken early (their
 * headers carry no per-frame completion mark), so at low rates every frame waits up to that
 * timeout. {@link FrameRxRing} (TPACKET_V2) has no such floor and is the default.
 *
 * <p>Owned by: the netisr thread that owns its {@link PacketQueue}; {@link #drain} and
 * {@link #ready} are called only by it, never block and never allocate. The counters are written
 * with opaque stores and may be read from any thread.
 */
public final class RxRing extends ReceiveRing {
    private static final VarHandle INT_VH = ValueLayout.JAVA_INT.varHandle();
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT;
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT;
    /** Bytes before any frame data: the tpacket3_hdr and the sockaddr_ll after it. */
    static final int HEADER_BYTES = (int) TPACKET3_SLL + Packet.SOCKADDR_LL_SIZE;

    private final MemorySegment ring;
    private final int blockSize;
    private final int blockCount;

    /** Index of the block the walk is in or waits for. */
    private int block;
    /** {@code block * blockSize}. */
    private long blockBase;
    /** Frames of the open block not yet walked; 0 when no block is open. */
    private int left;
    /** Ring offset of the next frame header of the open block. */
    private long next;
    /** Bytes of {@code virtio_net_hdr} before each frame ({@code PACKET_VNET_HDR}), or 0. */
    private final int vnetLen;

    /**
     * @param ring       the mapped receive ring: {@code blockCount} blocks of {@code blockSize}
     *                   bytes, block {@code i} at {@code i * blockSize} (the kernel maps them in
     *                   order); its base must be 4-byte aligned (a mapping is page aligned)
     * @param blockSize  {@code tp_block_size}
     * @param blockCount {@code tp_block_nr}
     */
    public RxRing(MemorySegment ring, int blockSize, int blockCount) {
        this(ring, blockSize, blockCount, 0);
    }

    /**
     * @param ring       the mapped receive ring: {@code blockCount} blocks of {@code blockSize}
     *                   bytes; its base must be 4-byte aligned
     * @param blockSize  {@code tp_block_size}
     * @param blockCount {@code tp_block_nr}
     * @param vnetLen    10 when the socket has {@code PACKET_VNET_HDR} (a {@code virtio_net_hdr}
     *                   just before each frame: its {@code gso_size} becomes the frame's), else 0
     */
    public RxRing(MemorySegment ring, int blockSize, int blockCount, int vnetLen) {
        this.vnetLen = vnetLen;
        if (blockSize < BLOCK_DESC_SIZE + TPACKET3_HDR_SIZE || (blockSize & 3) != 0 || blockCount < 1) {
            throw new IllegalArgumentException("bad ring geometry: " + blockCount + " x " + blockSize);
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
        this.blockCount = blockCount;
    }

    /**
     * Copies up to {@code batch.capacity()} frames into the batch (slots from 0), returning each
     * block to the kernel as soon as its last frame is taken, and sets {@code batch.count()}.
     *
     * @return the number of frames delivered; their total length is {@link #lastBytes()}
     */
    @Override
    public int drain(FrameBatch batch) {
        final int capacity = batch.capacity();
        final int slotSize = batch.slotSize();
        int n = 0;
        long bytes = 0;
        while (n < capacity) {
            if (left == 0 && !open()) {
                break;
            }
            long hdr = next;
            long blockEnd = blockBase + blockSize;
            if (hdr + HEADER_BYTES > blockEnd) {
                corrupt();
                continue;
            }
            int nextOffset = ring.get(INT, hdr + TP3_NEXT_OFFSET);
            int snaplen = ring.get(INT, hdr + TP3_SNAPLEN);
            int len = ring.get(INT, hdr + TP3_LEN);
            int status = ring.get(INT, hdr + TP3_STATUS);
            int mac = Short.toUnsignedInt(ring.get(SHORT, hdr + TP3_MAC));
            int pkttype = Byte.toUnsignedInt(ring.get(ValueLayout.JAVA_BYTE, hdr + TPACKET3_SLL + SLL_PKTTYPE));
            int vlanTci = (status & TP_STATUS_VLAN_VALID) != 0 ? ring.get(INT, hdr + TP3_VLAN_TCI) : 0;
            if (snaplen >= 0 && snaplen <= slotSize && (mac < HEADER_BYTES + vnetLen || hdr + mac + snaplen > blockEnd)) {
                corrupt();
                continue;
            }
            int flags = classify(status, pkttype, vlanTci, snaplen, len, slotSize);
            if (flags != DROP) {
                MemorySegment.copy(ring, hdr + mac, batch.slot(n), 0, snaplen);
                batch.frame(n, snaplen, flags, vnetLen == 0 ? 0 : FrameRxRing.gsoSize(ring, hdr + mac - vnetLen));
                bytes += snaplen;
                n++;
            }
            if (--left == 0) {
                release();
            } else if (nextOffset < TPACKET3_HDR_SIZE || hdr + nextOffset >= blockEnd) {
                corrupt();
            } else {
                next = hdr + nextOffset;
            }
        }
        batch.count(n);
        lastBytes = bytes;
        return n;
    }

    /** Whether a frame is waiting: a block is half walked or the next one is the user's. */
    @Override
    public boolean ready() {
        return left > 0 || (blockStatus(block) & TP_STATUS_USER) != 0;
    }

    /** {@code TPACKET_V3}. */
    @Override
    public int version() {
        return Packet.TPACKET_V3;
    }

    /** Index of the block the walk is in or waits for (tests, diagnostics). */
    public int currentBlock() {
        return block;
    }

    /** The status word of block {@code index}, read with acquire semantics. */
    public int blockStatus(int index) {
        return (int) INT_VH.getAcquire(ring, (long) index * blockSize + BLOCK_STATUS);
    }

    /**
     * Opens the next block that the kernel handed over and that holds frames; false when the
     * kernel still owns the current block. Empty or malformed blocks are handed back on the way
     * (at most one lap of the ring: each is returned to the kernel, which then owns it).
     */
    private boolean open() {
        for (;;) {
            if ((blockStatus(block) & TP_STATUS_USER) == 0) {
                return false;
            }
            countBlock();
            int num = ring.get(INT, blockBase + BLOCK_NUM_PKTS);
            int first = ring.get(INT, blockBase + BLOCK_OFFSET_TO_FIRST_PKT);
            if (num <= 0) {
                release(); // nothing in it (a correct kernel never retires an empty block)
            } else if (first < BLOCK_DESC_SIZE || first > blockSize - HEADER_BYTES) {
                corrupt();
            } else {
                left = num;
                next = blockBase + first;
                return true;
            }
        }
    }

    /** Drops what is left of the open block and returns it. */
    private void corrupt() {
        countCorrupt();
        release();
    }

    /** Returns the current block to the kernel (release store) and moves to the next one. */
    private void release() {
        INT_VH.setRelease(ring, blockBase + BLOCK_STATUS, TP_STATUS_KERNEL);
        left = 0;
        block = block + 1 == blockCount ? 0 : block + 1;
        blockBase = (long) block * blockSize;
    }
}
