package io.flowstack.nic;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A fixed set of off-heap frame slots that a {@link NicQueue} fills in one
 * {@link NicQueue#receive} call. All slots are carved out of one slab allocated at construction;
 * nothing is allocated afterwards.
 *
 * <p>Owned by: one netisr thread (not thread safe).
 */
public final class FrameBatch {
    /**
     * Frame flag: the frame's layer-4 checksum need not be verified. The device verified it
     * ({@code VIRTIO_NET_HDR_F_DATA_VALID}, {@code TP_STATUS_CSUM_VALID}), or the frame comes from a
     * sender on this machine that left a partial checksum ({@code VIRTIO_NET_HDR_F_NEEDS_CSUM},
     * {@code TP_STATUS_CSUMNOTREADY}): its data never crossed a wire, so it is correct by
     * construction, and its checksum field holds only the pseudo-header sum.
     */
    public static final int RX_CSUM_VALID = 1;

    /**
     * Frame flag, with {@link #RX_CSUM_VALID}: the layer-4 checksum field holds only the
     * pseudo-header sum ({@code VIRTIO_NET_HDR_F_NEEDS_CSUM}, {@code TP_STATUS_CSUMNOTREADY}), so a
     * router forwarding the frame must have the egress device complete it or complete it itself.
     */
    public static final int RX_CSUM_PARTIAL = 2;

    private final MemorySegment slab;
    private final MemorySegment[] slots;
    private final int[] lengths;
    private final int[] flags;
    private final int[] gsoSizes;
    private final int slotSize;
    private int count;

    /**
     * Allocates the slab of {@code capacity * slotSize} bytes (64-byte aligned) and carves the slots
     * out of it.
     *
     * @param arena    arena that owns the slab (closed by the caller)
     * @param capacity number of slots
     * @param slotSize bytes per slot; must hold the largest frame the queue can deliver
     * @throws IllegalArgumentException if {@code capacity} or {@code slotSize} is not positive
     */
    public FrameBatch(Arena arena, int capacity, int slotSize) {
        if (capacity <= 0 || slotSize <= 0) {
            throw new IllegalArgumentException("capacity and slotSize must be > 0");
        }
        this.slotSize = slotSize;
        this.slab = arena.allocate((long) capacity * slotSize, 64);
        this.slots = new MemorySegment[capacity];
        this.lengths = new int[capacity];
        this.flags = new int[capacity];
        this.gsoSizes = new int[capacity];
        for (int i = 0; i < capacity; i++) {
            slots[i] = slab.asSlice((long) i * slotSize, slotSize);
        }
    }

    /**
     * Number of slots, the most frames one receive call can deliver.
     *
     * @return the number of slots
     */
    public int capacity() {
        return slots.length;
    }

    /**
     * Size of every slot, the longest frame it can hold.
     *
     * @return the slot size in bytes
     */
    public int slotSize() {
        return slotSize;
    }

    /**
     * The whole slot {@code i} (its length is {@link #slotSize()}).
     *
     * @param i the slot number, {@code 0 <= i < capacity()}
     * @return the slot's memory; the same segment on every call
     */
    public MemorySegment slot(int i) {
        return slots[i];
    }

    /**
     * Length of the frame in slot {@code i}.
     *
     * @param i the slot number
     * @return the frame's length in bytes, valid for {@code i < count()}
     */
    public int length(int i) {
        return lengths[i];
    }

    /**
     * Sets the length of the frame in slot {@code i} and clears its flags and GSO size; called by
     * the queue that fills the batch.
     *
     * @param i the slot number
     * @param length the frame's length in bytes, at most {@link #slotSize()}
     */
    public void length(int i, int length) {
        frame(i, length, 0, 0);
    }

    /**
     * Sets the frame in slot {@code i}: its length, its flags and, for a GSO super-frame, the
     * segment size it was coalesced from. Called by the queue that fills the batch, once per frame
     * (flags and GSO size are never left over from an earlier frame).
     *
     * @param i the slot number
     * @param length the frame's length in bytes, at most {@link #slotSize()}
     * @param flags {@link #RX_CSUM_VALID} or 0
     * @param gsoSize the payload bytes per segment of a super-frame, or 0 for an ordinary frame
     */
    public void frame(int i, int length, int flags, int gsoSize) {
        lengths[i] = length;
        this.flags[i] = flags;
        gsoSizes[i] = gsoSize;
    }

    /**
     * Flags of the frame in slot {@code i}.
     *
     * @param i the slot number
     * @return {@link #RX_CSUM_VALID} or 0; valid for {@code i < count()}
     */
    public int flags(int i) {
        return flags[i];
    }

    /**
     * The segment size a GSO super-frame in slot {@code i} was coalesced from (the sender's MSS),
     * or 0 for an ordinary frame.
     *
     * @param i the slot number
     * @return payload bytes per segment, or 0
     */
    public int gsoSize(int i) {
        return gsoSizes[i];
    }

    /**
     * Number of valid frames, slots {@code [0, count)}.
     *
     * @return the frame count, 0 to {@link #capacity()}
     */
    public int count() {
        return count;
    }

    /**
     * Sets the number of valid frames; called by the queue at the end of a receive.
     *
     * @param count the number of frames in slots {@code [0, count)}
     */
    public void count(int count) {
        this.count = count;
    }
}
