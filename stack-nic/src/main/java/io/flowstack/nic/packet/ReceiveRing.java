package io.flowstack.nic.packet;

import static io.flowstack.nativeio.Packet.PACKET_OUTGOING;
import static io.flowstack.nativeio.Packet.TP_STATUS_CSUMNOTREADY;
import static io.flowstack.nativeio.Packet.TP_STATUS_CSUM_VALID;
import static io.flowstack.nativeio.Packet.TP_STATUS_VLAN_VALID;

import io.flowstack.nic.FrameBatch;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The consumer side of an AF_PACKET receive ring, whichever its version: {@link RxRing} walks
 * TPACKET_V3 blocks, {@link FrameRxRing} takes TPACKET_V2 slots one at a time. This class holds
 * what both share: the rule that decides whether a frame is delivered, the checksum status it is
 * delivered with, and the counters.
 *
 * <p>Which frames are delivered ({@link #classify}), from the ring header of each frame:
 * <ul>
 *   <li>{@code sll_pkttype == PACKET_OUTGOING}: not delivered, {@link #outgoing()} (our own or the
 *       host's transmissions; PACKET_IGNORE_OUTGOING keeps them out on kernels >= 4.20);</li>
 *   <li>{@code tp_snaplen < tp_len} (the kernel cut the frame) or longer than the batch's slot:
 *       not delivered, {@link #truncated()};</li>
 *   <li>{@code TP_STATUS_VLAN_VALID} with a non-zero VLAN id (the driver stripped the tag of a
 *       VLAN the stack is not on): not delivered, {@link #vlanTagged()};</li>
 *   <li>otherwise delivered, with {@link FrameBatch#RX_CSUM_VALID} when the status has
 *       {@code TP_STATUS_CSUMNOTREADY} (the skb is CHECKSUM_PARTIAL: a sender on this machine, e.g.
 *       a veth peer with tx-checksumming on, left the layer-4 checksum to a device; the data never
 *       crossed a wire and the field holds only the pseudo-header sum, so it must not be verified;
 *       counted in {@link #csumNotReady()}) or {@code TP_STATUS_CSUM_VALID} (the skb is
 *       CHECKSUM_UNNECESSARY: the NIC or the kernel verified it; counted in {@link #csumValid()}).
 *       Both bits are set by {@code tpacket_rcv} in {@code net/packet/af_packet.c} from
 *       {@code skb->ip_summed}; packet_mmap.rst lists them.</li>
 * </ul>
 *
 * <p>Owned by: the netisr thread that owns its {@link PacketQueue}: only it calls
 * {@link #drain} and {@link #ready}, which never block and never allocate. The counters are
 * written with opaque stores by that thread and may be read from any thread.
 */
public abstract sealed class ReceiveRing permits RxRing, FrameRxRing {
    /** {@link #classify} result: do not deliver the frame. */
    static final int DROP = -1;

    private static final VarHandle BLOCKS;
    private static final VarHandle TRUNCATED;
    private static final VarHandle OUTGOING;
    private static final VarHandle VLAN;
    private static final VarHandle CSUM_NOT_READY;
    private static final VarHandle CSUM_VALID;
    private static final VarHandle CORRUPT;
    private static final VarHandle COPIED;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            BLOCKS = l.findVarHandle(ReceiveRing.class, "blocks", long.class);
            TRUNCATED = l.findVarHandle(ReceiveRing.class, "truncated", long.class);
            OUTGOING = l.findVarHandle(ReceiveRing.class, "outgoing", long.class);
            VLAN = l.findVarHandle(ReceiveRing.class, "vlanTagged", long.class);
            CSUM_NOT_READY = l.findVarHandle(ReceiveRing.class, "csumNotReady", long.class);
            CSUM_VALID = l.findVarHandle(ReceiveRing.class, "csumValid", long.class);
            CORRUPT = l.findVarHandle(ReceiveRing.class, "corrupt", long.class);
            COPIED = l.findVarHandle(ReceiveRing.class, "copied", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private long blocks;
    private long truncated;
    private long outgoing;
    private long vlanTagged;
    private long csumNotReady;
    private long csumValid;
    private long corrupt;
    private long copied;
    /** Bytes delivered by the last {@link #drain}. */
    long lastBytes;

    ReceiveRing() {
    }

    /**
     * Copies up to {@code batch.capacity()} waiting frames into the batch (slots from 0, with
     * {@link FrameBatch#frame}) and hands their ring memory back to the kernel; sets
     * {@code batch.count()}.
     *
     * @param batch the batch to fill
     * @return the number of frames delivered; their total length is {@link #lastBytes()}
     */
    public abstract int drain(FrameBatch batch);

    /**
     * Whether a frame is waiting (the next {@link #drain} would find one, or a block is half
     * walked).
     *
     * @return true if {@link #drain} has something to take
     */
    public abstract boolean ready();

    /**
     * The ring's TPACKET version ({@code Packet.TPACKET_V2} or {@code TPACKET_V3}).
     *
     * @return the version number as {@code PACKET_VERSION} takes it
     */
    public abstract int version();

    /**
     * Bytes in the frames the last {@link #drain} delivered.
     *
     * @return the byte count
     */
    public long lastBytes() {
        return lastBytes;
    }

    /**
     * Decides about one frame from its ring header (see the class comment) and counts it.
     *
     * @param status   {@code tp_status}
     * @param pkttype  {@code sll_pkttype}
     * @param vlanTci  {@code tp_vlan_tci}
     * @param snaplen  bytes of the frame at hand
     * @param len      the frame's length on the wire, {@code tp_len}
     * @param slotSize the batch's slot size
     * @return {@link #DROP}, or the frame's {@link FrameBatch} flags
     */
    final int classify(int status, int pkttype, int vlanTci, int snaplen, int len, int slotSize) {
        if (pkttype == PACKET_OUTGOING) {
            add(OUTGOING, outgoing);
            return DROP;
        }
        if (snaplen < len || snaplen > slotSize || snaplen < 0) {
            add(TRUNCATED, truncated);
            return DROP;
        }
        if ((status & TP_STATUS_VLAN_VALID) != 0 && (vlanTci & 0x0fff) != 0) {
            add(VLAN, vlanTagged);
            return DROP;
        }
        if ((status & TP_STATUS_CSUMNOTREADY) != 0) {
            add(CSUM_NOT_READY, csumNotReady);
            return FrameBatch.RX_CSUM_VALID | FrameBatch.RX_CSUM_PARTIAL;
        }
        if ((status & TP_STATUS_CSUM_VALID) != 0) {
            add(CSUM_VALID, csumValid);
            return FrameBatch.RX_CSUM_VALID;
        }
        return 0;
    }

    final void countBlock() {
        add(BLOCKS, blocks);
    }

    final void countTruncated() {
        add(TRUNCATED, truncated);
    }

    final void countCorrupt() {
        add(CORRUPT, corrupt);
    }

    final void countCopied() {
        add(COPIED, copied);
    }

    private void add(VarHandle h, long current) {
        h.setOpaque(this, current + 1);
    }

    /**
     * V3: blocks taken from the kernel; V2: 0.
     *
     * @return the count
     */
    public long blocks() {
        return (long) BLOCKS.getOpaque(this);
    }

    /**
     * Frames dropped because the kernel cut them ({@code tp_snaplen < tp_len}) or they exceed a
     * batch slot.
     *
     * @return the count
     */
    public long truncated() {
        return (long) TRUNCATED.getOpaque(this);
    }

    /**
     * Frames dropped because they were outgoing ({@code PACKET_OUTGOING}).
     *
     * @return the count
     */
    public long outgoing() {
        return (long) OUTGOING.getOpaque(this);
    }

    /**
     * Frames dropped because they carried a VLAN tag (non-zero VLAN id) in their metadata.
     *
     * @return the count
     */
    public long vlanTagged() {
        return (long) VLAN.getOpaque(this);
    }

    /**
     * Frames delivered with a partial checksum ({@code TP_STATUS_CSUMNOTREADY}), flagged
     * {@link FrameBatch#RX_CSUM_VALID}.
     *
     * @return the count
     */
    public long csumNotReady() {
        return (long) CSUM_NOT_READY.getOpaque(this);
    }

    /**
     * Frames delivered with a checksum the kernel or NIC verified ({@code TP_STATUS_CSUM_VALID}),
     * flagged {@link FrameBatch#RX_CSUM_VALID}.
     *
     * @return the count
     */
    public long csumValid() {
        return (long) CSUM_VALID.getOpaque(this);
    }

    /**
     * V3: blocks cut short because an offset pointed outside the block; V2: slots whose frame
     * offset pointed outside the slot (never from a correct kernel).
     *
     * @return the count
     */
    public long corruptBlocks() {
        return (long) CORRUPT.getOpaque(this);
    }

    /**
     * V2: frames longer than a ring slot, read whole from the socket ({@code TP_STATUS_COPY});
     * V3: 0.
     *
     * @return the count
     */
    public long copied() {
        return (long) COPIED.getOpaque(this);
    }
}
