package io.flowstack.core.wire;

import java.lang.foreign.MemorySegment;

/**
 * Writes TCP options (RFC 9293 3.2) after a header, in the layouts {@link TcpOptions} parses.
 * Every method takes the position {@code p} of the option's first byte and returns the position
 * after it; each option is padded with NOPs to a 4-byte boundary (RFC 9293 3.1: the header is a
 * whole number of 32-bit words), in Linux's arrangement, so a segment's options are as long as
 * {@link #synLength} or {@link #dataLength} says. Stateless and allocation-free.
 *
 * <p>It reproduces, byte for byte, what {@code tcp/TcpLayer} writes by hand today, and is meant
 * to replace that code:
 * <ul>
 *   <li>{@code TcpLayer.sendSyn}: the SYN and SYN-ACK options ({@link #syn}: MSS, then
 *       SACK-permitted and timestamps sharing one 12-byte run when both are on, else each behind
 *       two NOPs, then NOP and window scale);</li>
 *   <li>{@code TcpLayer.sendData}: timestamps behind two NOPs ({@link #timestamps}), then the
 *       SACK blocks behind two NOPs, the most recently received first
 *       ({@link #sackRecentFirst});</li>
 *   <li>{@code TcpLayer.sendCookie}: the SYN cookie's SYN-ACK, MSS only ({@link #mss});</li>
 *   <li>{@code TcpLayer.optionBytes}: the length of {@code sendData}'s options
 *       ({@link #dataLength} with {@link #maxSackBlocks}).</li>
 * </ul>
 */
public final class TcpOptionWriter {
    /** Most option bytes a header holds: data offset 15 words less the 20-byte header (RFC 9293 3.1). */
    public static final int MAX_LENGTH = 40;
    /** {@link #mss}. */
    public static final int MSS_LENGTH = 4;
    /** {@link #windowScale}: NOP, window scale. */
    public static final int WINDOW_SCALE_LENGTH = 4;
    /** {@link #sackPermitted}: NOP, NOP, SACK-permitted. */
    public static final int SACK_PERMITTED_LENGTH = 4;
    /** {@link #timestamps}: NOP, NOP, timestamps. */
    public static final int TIMESTAMPS_LENGTH = 12;
    /** {@link #sackPermittedTimestamps}: SACK-permitted, timestamps. */
    public static final int SACK_PERMITTED_TIMESTAMPS_LENGTH = 12;

    private TcpOptionWriter() {}

    // ------------------------------------------------------------------ one option each

    /** MSS (RFC 9293 3.2, 3.7.1): 4 bytes, already aligned. */
    public static long mss(MemorySegment s, long p, int mss) {
        Bytes.u8(s, p, Tcp.OPT_MSS);
        Bytes.u8(s, p + Tcp.OPT_LENGTH_AT, Tcp.OPT_MSS_LEN);
        Bytes.u16(s, p + Tcp.OPT_VALUE_AT, mss);
        return p + MSS_LENGTH;
    }

    /** NOP, window scale with {@code shift} (RFC 7323 2.2): 4 bytes. */
    public static long windowScale(MemorySegment s, long p, int shift) {
        Bytes.u8(s, p, Tcp.OPT_NOP);
        Bytes.u8(s, p + 1, Tcp.OPT_WSCALE);
        Bytes.u8(s, p + 1 + Tcp.OPT_LENGTH_AT, Tcp.OPT_WSCALE_LEN);
        Bytes.u8(s, p + 1 + Tcp.OPT_VALUE_AT, shift);
        return p + WINDOW_SCALE_LENGTH;
    }

    /** NOP, NOP, SACK-permitted (RFC 2018 2): 4 bytes. */
    public static long sackPermitted(MemorySegment s, long p) {
        Bytes.u8(s, p, Tcp.OPT_NOP);
        Bytes.u8(s, p + 1, Tcp.OPT_NOP);
        writeSackPermitted(s, p + 2);
        return p + SACK_PERMITTED_LENGTH;
    }

    /** NOP, NOP, timestamps {@code tsVal}, {@code tsEcr} (RFC 7323 3.2; its Appendix A layout): 12 bytes. */
    public static long timestamps(MemorySegment s, long p, int tsVal, int tsEcr) {
        Bytes.u8(s, p, Tcp.OPT_NOP);
        Bytes.u8(s, p + 1, Tcp.OPT_NOP);
        writeTimestamps(s, p + 2, tsVal, tsEcr);
        return p + TIMESTAMPS_LENGTH;
    }

    /** SACK-permitted then timestamps, which together fill 12 bytes without padding (Linux's SYN). */
    public static long sackPermittedTimestamps(MemorySegment s, long p, int tsVal, int tsEcr) {
        writeSackPermitted(s, p);
        writeTimestamps(s, p + Tcp.OPT_SACK_PERMITTED_LEN, tsVal, tsEcr);
        return p + SACK_PERMITTED_TIMESTAMPS_LENGTH;
    }

    /**
     * NOP, NOP, SACK with the blocks {@code [left[i], right[i])}, {@code i < count}, in that order
     * (RFC 2018 3): {@link #sackLength}{@code (count)} bytes. The caller keeps {@code count}
     * within {@link #maxSackBlocks}.
     */
    public static long sack(MemorySegment s, long p, int[] left, int[] right, int count) {
        long b = sackHeader(s, p, count);
        for (int i = 0; i < count; i++) {
            Bytes.i32(s, b + (long) Tcp.SACK_BLOCK_LEN * i, left[i]);
            Bytes.i32(s, b + (long) Tcp.SACK_BLOCK_LEN * i + 4, right[i]);
        }
        return b + (long) Tcp.SACK_BLOCK_LEN * count;
    }

    /**
     * NOP, NOP, SACK as a receiver reports its out-of-order data (RFC 2018 4: "the first SACK
     * block ... MUST specify the contiguous block of data containing the segment which triggered
     * this ACK"): first {@code [recentLeft, recentRight)}, then the ranges {@code [left[i],
     * right[i])} in order, skipping the one that starts at {@code recentLeft}, at most
     * {@code min(maxBlocks, count)} blocks in all. {@code TcpLayer.sendData}'s SACK option, with
     * the receiver's {@code OutOfOrder} ranges ({@code count >= 1}: the recent range is among
     * them, unless a later one merged into it; either way no more blocks than ranges are sent).
     */
    public static long sackRecentFirst(MemorySegment s, long p, int recentLeft, int recentRight,
                                       int[] left, int[] right, int count, int maxBlocks) {
        int limit = Math.min(maxBlocks, count);
        long b = p + 2 + Tcp.OPT_SACK_HEADER_LEN;
        Bytes.i32(s, b, recentLeft);
        Bytes.i32(s, b + 4, recentRight);
        int written = 1;
        for (int i = 0; i < count && written < limit; i++) {
            if (left[i] == recentLeft) {
                continue;
            }
            Bytes.i32(s, b + (long) Tcp.SACK_BLOCK_LEN * written, left[i]);
            Bytes.i32(s, b + (long) Tcp.SACK_BLOCK_LEN * written + 4, right[i]);
            written++;
        }
        sackHeader(s, p, written);
        return b + (long) Tcp.SACK_BLOCK_LEN * written;
    }

    // ------------------------------------------------------------------ whole segments

    /**
     * A SYN's or SYN-ACK's options in Linux's order (what {@code TcpLayer.sendSyn} writes): MSS;
     * SACK-permitted and timestamps in one 12-byte run when both are on, else whichever is on
     * behind two NOPs; then NOP and window scale. {@link #synLength} bytes.
     */
    public static long syn(MemorySegment s, long p, int mss, boolean sackPermitted, boolean timestamps,
                           int tsVal, int tsEcr, boolean windowScale, int shift) {
        p = mss(s, p, mss);
        if (sackPermitted && timestamps) {
            p = sackPermittedTimestamps(s, p, tsVal, tsEcr);
        } else if (sackPermitted) {
            p = sackPermitted(s, p);
        } else if (timestamps) {
            p = timestamps(s, p, tsVal, tsEcr);
        }
        if (windowScale) {
            p = windowScale(s, p, shift);
        }
        return p;
    }

    /** Bytes {@link #syn} writes for these options. */
    public static int synLength(boolean sackPermitted, boolean timestamps, boolean windowScale) {
        int n = MSS_LENGTH;
        if (sackPermitted && timestamps) {
            n += SACK_PERMITTED_TIMESTAMPS_LENGTH;
        } else if (sackPermitted) {
            n += SACK_PERMITTED_LENGTH;
        } else if (timestamps) {
            n += TIMESTAMPS_LENGTH;
        }
        return n + (windowScale ? WINDOW_SCALE_LENGTH : 0);
    }

    /**
     * Bytes of a data segment's or ACK's options: {@link #timestamps} if on, then
     * {@link #sack} with {@code sackBlocks} blocks if any (what {@code TcpLayer.optionBytes}
     * counts, with {@code sackBlocks = min(maxSackBlocks(timestamps), ranges)}).
     */
    public static int dataLength(boolean timestamps, int sackBlocks) {
        return (timestamps ? TIMESTAMPS_LENGTH : 0) + (sackBlocks > 0 ? sackLength(sackBlocks) : 0);
    }

    /** Bytes of {@link #sack} with {@code blocks} blocks (NOPs included). */
    public static int sackLength(int blocks) {
        return 2 + Tcp.OPT_SACK_HEADER_LEN + Tcp.SACK_BLOCK_LEN * blocks;
    }

    /**
     * SACK blocks that fit in the 40 option bytes: 3 beside timestamps, else 4 (RFC 2018 3:
     * "a SACK option that specifies n blocks will have a length of 8*n+2 bytes, so the 40 bytes
     * available for TCP options can specify a maximum of 4 blocks ... used with the Timestamp
     * option ... a maximum of 3 SACK blocks").
     */
    public static int maxSackBlocks(boolean timestamps) {
        return timestamps ? 3 : 4;
    }

    // ------------------------------------------------------------------ unpadded pieces

    private static void writeSackPermitted(MemorySegment s, long p) {
        Bytes.u8(s, p, Tcp.OPT_SACK_PERMITTED);
        Bytes.u8(s, p + Tcp.OPT_LENGTH_AT, Tcp.OPT_SACK_PERMITTED_LEN);
    }

    private static void writeTimestamps(MemorySegment s, long p, int tsVal, int tsEcr) {
        Bytes.u8(s, p, Tcp.OPT_TIMESTAMP);
        Bytes.u8(s, p + Tcp.OPT_LENGTH_AT, Tcp.OPT_TIMESTAMP_LEN);
        Bytes.i32(s, p + Tcp.OPT_TS_VAL_AT, tsVal);
        Bytes.i32(s, p + Tcp.OPT_TS_ECR_AT, tsEcr);
    }

    /** NOP, NOP, SACK kind and length for {@code blocks} blocks; returns where the blocks go. */
    private static long sackHeader(MemorySegment s, long p, int blocks) {
        Bytes.u8(s, p, Tcp.OPT_NOP);
        Bytes.u8(s, p + 1, Tcp.OPT_NOP);
        Bytes.u8(s, p + 2, Tcp.OPT_SACK);
        Bytes.u8(s, p + 2 + Tcp.OPT_LENGTH_AT, Tcp.OPT_SACK_HEADER_LEN + Tcp.SACK_BLOCK_LEN * blocks);
        return p + 2 + Tcp.OPT_SACK_HEADER_LEN;
    }
}
