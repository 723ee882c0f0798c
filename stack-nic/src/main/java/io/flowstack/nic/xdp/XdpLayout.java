package io.flowstack.nic.xdp;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The AF_XDP constants and byte layouts of {@code linux/if_xdp.h} (x86_64, host byte order), in
 * one place: {@code struct sockaddr_xdp}, {@code struct xdp_umem_reg},
 * {@code struct xdp_mmap_offsets}, {@code struct xdp_desc} and {@code struct xdp_statistics},
 * with the socket options and the ring mmap offsets. Checked against the kernel's uapi headers
 * (compiled {@code offsetof}/{@code sizeof}; docs/AF_XDP.md).
 *
 * <p>Owned by: nobody (stateless; the writers fill memory the caller owns).
 */
public final class XdpLayout {
    /** {@code AF_XDP}: the socket family. */
    public static final int AF_XDP = 44;
    /** {@code SOL_XDP}: the socket option level. */
    public static final int SOL_XDP = 283;

    /** {@code getsockopt}: the ring offsets ({@code struct xdp_mmap_offsets}). */
    public static final int XDP_MMAP_OFFSETS = 1;
    /** {@code setsockopt}: entries of the RX ring. */
    public static final int XDP_RX_RING = 2;
    /** {@code setsockopt}: entries of the TX ring. */
    public static final int XDP_TX_RING = 3;
    /** {@code setsockopt}: register the UMEM ({@code struct xdp_umem_reg}). */
    public static final int XDP_UMEM_REG = 4;
    /** {@code setsockopt}: entries of the fill ring. */
    public static final int XDP_UMEM_FILL_RING = 5;
    /** {@code setsockopt}: entries of the completion ring. */
    public static final int XDP_UMEM_COMPLETION_RING = 6;
    /** {@code getsockopt}: the socket's drop counters ({@code struct xdp_statistics}). */
    public static final int XDP_STATISTICS = 7;
    /** {@code getsockopt}: {@code struct xdp_options} ({@link #XDP_OPTIONS_ZEROCOPY}). */
    public static final int XDP_OPTIONS = 8;
    /** {@code xdp_options.flags}: the socket is bound in zero-copy mode. */
    public static final int XDP_OPTIONS_ZEROCOPY = 1;

    /** {@code sxdp_flags}: force copy mode. */
    public static final short XDP_COPY = 1 << 1;
    /** {@code sxdp_flags}: force zero-copy mode (the driver must support it). */
    public static final short XDP_ZEROCOPY = 1 << 2;
    /** {@code sxdp_flags}: the kernel sets {@link #XDP_RING_NEED_WAKEUP} when it needs a system call. */
    public static final short XDP_USE_NEED_WAKEUP = 1 << 3;
    /** Ring {@code flags} word: the kernel waits for a wakeup ({@code sendto} for TX, {@code poll} for fill). */
    public static final int XDP_RING_NEED_WAKEUP = 1;

    /** mmap offset of the RX ring. */
    public static final long XDP_PGOFF_RX_RING = 0;
    /** mmap offset of the TX ring. */
    public static final long XDP_PGOFF_TX_RING = 0x80000000L;
    /** mmap offset of the fill ring. */
    public static final long XDP_UMEM_PGOFF_FILL_RING = 0x100000000L;
    /** mmap offset of the completion ring. */
    public static final long XDP_UMEM_PGOFF_COMPLETION_RING = 0x180000000L;

    /** {@code XDP_PACKET_HEADROOM}: bytes the kernel keeps before a frame in a UMEM chunk. */
    public static final int XDP_PACKET_HEADROOM = 256;

    /**
     * {@code struct sockaddr_xdp}: {@code u16 sxdp_family}@0, {@code u16 sxdp_flags}@2,
     * {@code u32 sxdp_ifindex}@4, {@code u32 sxdp_queue_id}@8, {@code u32 sxdp_shared_umem_fd}@12.
     */
    public static final int SOCKADDR_XDP_SIZE = 16;

    /**
     * {@code struct xdp_umem_reg}: {@code u64 addr}@0, {@code u64 len}@8, {@code u32 chunk_size}@16,
     * {@code u32 headroom}@20, {@code u32 flags}@24, {@code u32 tx_metadata_len}@28 (Linux 6.8;
     * 0 here, as older kernels, which read 24 bytes, expect).
     */
    public static final int UMEM_REG_SIZE = 32;

    /**
     * {@code struct xdp_mmap_offsets}: four {@code struct xdp_ring_offset} (rx@0, tx@32, fr@64,
     * cr@96), each {@code u64 producer}@0, {@code consumer}@8, {@code desc}@16, {@code flags}@24.
     */
    public static final int MMAP_OFFSETS_SIZE = 128;
    /** Offset of the RX ring's {@code xdp_ring_offset} in {@code xdp_mmap_offsets}. */
    public static final int OFF_RX = 0;
    /** Offset of the TX ring's {@code xdp_ring_offset}. */
    public static final int OFF_TX = 32;
    /** Offset of the fill ring's {@code xdp_ring_offset}. */
    public static final int OFF_FILL = 64;
    /** Offset of the completion ring's {@code xdp_ring_offset}. */
    public static final int OFF_COMPLETION = 96;
    /** {@code xdp_ring_offset.producer}. */
    public static final int RING_PRODUCER = 0;
    /** {@code xdp_ring_offset.consumer}. */
    public static final int RING_CONSUMER = 8;
    /** {@code xdp_ring_offset.desc}. */
    public static final int RING_DESC = 16;
    /** {@code xdp_ring_offset.flags}. */
    public static final int RING_FLAGS = 24;

    /** {@code struct xdp_desc}: {@code u64 addr}@0, {@code u32 len}@8, {@code u32 options}@12. */
    public static final int DESC_SIZE = 16;
    /** {@code xdp_desc.addr}. */
    public static final int DESC_ADDR = 0;
    /** {@code xdp_desc.len}. */
    public static final int DESC_LEN = 8;
    /** {@code xdp_desc.options}. */
    public static final int DESC_OPTIONS = 12;
    /** A fill or completion ring entry: a {@code u64} UMEM address. */
    public static final int ADDR_SIZE = 8;

    /**
     * {@code struct xdp_statistics}: six {@code u64}: rx_dropped@0, rx_invalid_descs@8,
     * tx_invalid_descs@16, rx_ring_full@24, rx_fill_ring_empty_descs@32, tx_ring_empty_descs@40.
     */
    public static final int STATISTICS_SIZE = 48;

    private XdpLayout() {
    }

    /**
     * Writes a {@code struct sockaddr_xdp} at the start of {@code s} (16 bytes).
     *
     * @param s at least {@link #SOCKADDR_XDP_SIZE} bytes
     * @param flags {@link #XDP_COPY} or {@link #XDP_ZEROCOPY}, or'ed with {@link #XDP_USE_NEED_WAKEUP}
     * @param ifindex the interface
     * @param queue the device's receive queue
     * @return {@code s}
     */
    public static MemorySegment sockaddrXdp(MemorySegment s, int flags, int ifindex, int queue) {
        s.set(ValueLayout.JAVA_SHORT, 0, (short) AF_XDP);
        s.set(ValueLayout.JAVA_SHORT, 2, (short) flags);
        s.set(ValueLayout.JAVA_INT, 4, ifindex);
        s.set(ValueLayout.JAVA_INT, 8, queue);
        s.set(ValueLayout.JAVA_INT, 12, 0); // sxdp_shared_umem_fd: each socket has its own UMEM
        return s;
    }

    /**
     * Writes a {@code struct xdp_umem_reg} at the start of {@code s} (32 bytes, no headroom, aligned
     * chunks).
     *
     * @param s at least {@link #UMEM_REG_SIZE} bytes
     * @param umem the UMEM: page aligned, a whole number of chunks
     * @param chunkSize bytes per chunk, a power of two from 2048 to the page size
     * @return {@code s}
     */
    public static MemorySegment umemReg(MemorySegment s, MemorySegment umem, int chunkSize) {
        s.set(ValueLayout.JAVA_LONG, 0, umem.address());
        s.set(ValueLayout.JAVA_LONG, 8, umem.byteSize());
        s.set(ValueLayout.JAVA_INT, 16, chunkSize);
        s.set(ValueLayout.JAVA_INT, 20, 0); // headroom
        s.set(ValueLayout.JAVA_INT, 24, 0); // flags: aligned chunks
        s.set(ValueLayout.JAVA_INT, 28, 0); // tx_metadata_len
        return s;
    }

    /**
     * One ring's offsets, read from a {@code struct xdp_mmap_offsets}.
     *
     * <p>Owned by: nobody (immutable).
     *
     * @param producer offset of the producer word in the ring's mapping
     * @param consumer offset of the consumer word
     * @param desc offset of the first entry
     * @param flags offset of the flags word
     */
    public record RingOffsets(long producer, long consumer, long desc, long flags) {
        /**
         * Reads the {@code xdp_ring_offset} at {@code at} of {@code offsets}.
         *
         * @param offsets a {@code struct xdp_mmap_offsets} the kernel filled
         * @param at {@link #OFF_RX}, {@link #OFF_TX}, {@link #OFF_FILL} or {@link #OFF_COMPLETION}
         * @return the ring's offsets
         */
        public static RingOffsets read(MemorySegment offsets, int at) {
            return new RingOffsets(offsets.get(ValueLayout.JAVA_LONG, at + RING_PRODUCER),
                    offsets.get(ValueLayout.JAVA_LONG, at + RING_CONSUMER),
                    offsets.get(ValueLayout.JAVA_LONG, at + RING_DESC),
                    offsets.get(ValueLayout.JAVA_LONG, at + RING_FLAGS));
        }

        /**
         * Bytes to map for a ring of {@code entries} entries of {@code entryBytes}.
         *
         * @param entries ring entries
         * @param entryBytes {@link #DESC_SIZE} or {@link #ADDR_SIZE}
         * @return {@code desc + entries * entryBytes}
         */
        public long mapLength(int entries, int entryBytes) {
            return desc + (long) entries * entryBytes;
        }
    }

    /**
     * {@code struct xdp_statistics}, as read with {@code getsockopt(XDP_STATISTICS)} (running
     * totals since the socket opened, not cleared on read).
     *
     * <p>Owned by: nobody (immutable).
     *
     * @param rxDropped frames dropped for other reasons (e.g. longer than a chunk)
     * @param rxInvalidDescs fill-ring entries the kernel refused
     * @param txInvalidDescs TX descriptors the kernel refused (bad address or length)
     * @param rxRingFull frames dropped because the RX ring was full
     * @param fillRingEmpty times the kernel found the fill ring empty (frames dropped)
     * @param txRingEmpty times the kernel looked for TX descriptors and found none
     */
    public record Statistics(long rxDropped, long rxInvalidDescs, long txInvalidDescs, long rxRingFull,
                             long fillRingEmpty, long txRingEmpty) {
        /** All zero. */
        public static final Statistics ZERO = new Statistics(0, 0, 0, 0, 0, 0);

        /**
         * Reads the kernel's {@code struct xdp_statistics}.
         *
         * @param s 48 bytes the kernel filled
         * @return the counters
         */
        public static Statistics read(MemorySegment s) {
            return new Statistics(s.get(ValueLayout.JAVA_LONG, 0), s.get(ValueLayout.JAVA_LONG, 8),
                    s.get(ValueLayout.JAVA_LONG, 16), s.get(ValueLayout.JAVA_LONG, 24),
                    s.get(ValueLayout.JAVA_LONG, 32), s.get(ValueLayout.JAVA_LONG, 40));
        }

        /**
         * The sum of this and {@code o}, counter by counter.
         *
         * @param o other counters
         * @return the sums
         */
        public Statistics plus(Statistics o) {
            return new Statistics(rxDropped + o.rxDropped, rxInvalidDescs + o.rxInvalidDescs,
                    txInvalidDescs + o.txInvalidDescs, rxRingFull + o.rxRingFull, fillRingEmpty + o.fillRingEmpty,
                    txRingEmpty + o.txRingEmpty);
        }
    }
}
