package io.flowstack.core.wire;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The Internet checksum (RFC 1071): the 16-bit one's complement of the one's complement sum.
 *
 * <p>{@link #sum} reads the range 8 bytes at a time in the machine's byte order, adds the two
 * 32-bit halves of each long into separate 64-bit accumulators (two longs per step, so four
 * independent additions the CPU can overlap), folds, and swaps the bytes of the 16-bit result
 * when the machine is little-endian. This equals the big-endian 16-bit word sum because one's
 * complement addition is associative and commutative with end-around carry, and a sum of
 * byte-swapped words is the byte-swapped sum (RFC 1071 section 2(A) "byte order independence",
 * 2(B) "parallel summation"). A 32-bit half added at most 2^31 times cannot overflow a 64-bit
 * accumulator, far beyond the 64 KiB of an IPv4 datagram. Stateless and allocation-free.
 */
public final class Checksum {
    private static final ValueLayout.OfLong NATIVE_LONG = ValueLayout.JAVA_LONG_UNALIGNED;
    private static final ValueLayout.OfShort NATIVE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED;
    private static final boolean LITTLE_ENDIAN = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;

    private Checksum() {}

    /**
     * Unfolded partial sum of {@code len} bytes at {@code off}, added to {@code acc} (a partial sum
     * in network byte order, e.g. {@link #pseudoHeader}).
     *
     * @param s the memory
     * @param off the first byte, the start of a 16-bit word of the checksummed data
     * @param len the number of bytes; an odd last byte is padded with zero (RFC 1071 4.1)
     * @param acc the partial sum to add to
     * @return the partial sum, to {@link #fold} or {@link #finish}
     */
    public static long sum(MemorySegment s, long off, int len, long acc) {
        long a0 = 0;
        long a1 = 0;
        long a2 = 0;
        long a3 = 0;
        long p = off;
        long end = off + len;
        for (; end - p >= 16; p += 16) {
            long v = s.get(NATIVE_LONG, p);
            long w = s.get(NATIVE_LONG, p + 8);
            a0 += v & 0xFFFFFFFFL;
            a1 += v >>> 32;
            a2 += w & 0xFFFFFFFFL;
            a3 += w >>> 32;
        }
        if (end - p >= 8) {
            long v = s.get(NATIVE_LONG, p);
            a0 += v & 0xFFFFFFFFL;
            a1 += v >>> 32;
            p += 8;
        }
        for (; end - p >= 2; p += 2) {
            a2 += s.get(NATIVE_SHORT, p) & 0xFFFF;
        }
        if (p < end) {
            // RFC 1071 4.1: the odd byte is the high byte of a word whose low byte is zero, which
            // in the machine's order is the byte at the word's first address
            int b = s.get(ValueLayout.JAVA_BYTE, p) & 0xFF;
            a3 += LITTLE_ENDIAN ? b : b << 8;
        }
        int native16 = fold(a0 + a1 + a2 + a3);
        return acc + (LITTLE_ENDIAN ? Integer.reverseBytes(native16) >>> 16 : native16);
    }

    /** Folds a partial sum to 16 bits (end-around carry). */
    public static int fold(long acc) {
        while ((acc >>> 16) != 0) {
            acc = (acc & 0xFFFF) + (acc >>> 16);
        }
        return (int) acc;
    }

    /** Final checksum value to store in a header: {@code ~fold(sum)}. */
    public static int finish(long acc) {
        return ~fold(acc) & 0xFFFF;
    }

    /** Checksum of a byte range, ready to store. */
    public static int compute(MemorySegment s, long off, int len) {
        return finish(sum(s, off, len, 0));
    }

    /** {@code true} when the range (including its stored checksum field) verifies (RFC 1071 4.1). */
    public static boolean verify(MemorySegment s, long off, int len) {
        return fold(sum(s, off, len, 0)) == 0xFFFF;
    }

    /** Pseudo-header sum for TCP/UDP over IPv4 (RFC 768, RFC 9293 section 3.1). */
    public static long pseudoHeader(int src, int dst, int protocol, int l4Length) {
        return (src >>> 16) + (src & 0xFFFF) + (dst >>> 16) + (dst & 0xFFFF) + protocol + l4Length;
    }
}
