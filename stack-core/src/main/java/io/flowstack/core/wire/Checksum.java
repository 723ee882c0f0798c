package io.flowstack.core.wire;

import java.lang.foreign.MemorySegment;

/**
 * The Internet checksum (RFC 1071): the 16-bit one's complement of the one's complement sum.
 *
 * <p>Sums 32-bit big-endian words into a 64-bit accumulator and folds at the end; this equals
 * the 16-bit word sum because one's complement addition is associative with end-around carry
 * (RFC 1071 section 2(B), "byte order independence" and "parallel summation").
 * Stateless and allocation-free.
 */
public final class Checksum {
    private Checksum() {}

    /** Unfolded partial sum of {@code len} bytes at {@code off}, added to {@code acc}. */
    public static long sum(MemorySegment s, long off, int len, long acc) {
        long p = off;
        long end = off + len;
        while (end - p >= 4) {
            acc += Bytes.i32(s, p) & 0xFFFFFFFFL;
            p += 4;
        }
        if (end - p >= 2) {
            acc += Bytes.u16(s, p);
            p += 2;
        }
        if (p < end) {
            acc += (long) Bytes.u8(s, p) << 8; // RFC 1071 4.1: odd byte padded with zero
        }
        return acc;
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
