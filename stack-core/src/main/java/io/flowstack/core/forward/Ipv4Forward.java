package io.flowstack.core.forward;

import io.flowstack.core.wire.Bytes;
import io.flowstack.core.wire.Checksum;
import io.flowstack.core.wire.Ipv4;
import java.lang.foreign.MemorySegment;

/**
 * In-place header updates of a datagram being forwarded: the TTL decrement with an incremental
 * header checksum update (RFC 1812 5.3.1, RFC 1624), and the completion of a partial transport
 * checksum for an egress without checksum offload (virtio 1.2 5.1.6.2, {@code NEEDS_CSUM}).
 *
 * <p>Owned by: no one; stateless and allocation-free, callable from any thread on memory that
 * thread owns (in the router, the receiving core's netisr on its own frame).
 */
public final class Ipv4Forward {
    private Ipv4Forward() {}

    /**
     * Decrements the TTL of the IPv4 header at {@code ipOff} and updates its header checksum
     * incrementally, RFC 1624 equation 3: {@code HC' = ~(~HC + ~m + m')}, where {@code m} is the
     * 16-bit word holding TTL and protocol before the change and {@code m'} after. Equation 3
     * (not RFC 1141's equation 2) gives exactly the checksum a full recomputation gives,
     * including when the result is 0x0000 (RFC 1624 sections 3 and 4), and it accepts a header
     * whose stored checksum is 0xFFFF, the other representation of zero.
     *
     * <p>RFC 1812 5.3.1: the caller checks first that the TTL is above 1 (a datagram whose TTL
     * would reach zero is not forwarded: the router sends time exceeded, quoting the datagram as
     * received).
     *
     * @return the new TTL, or -1 (the header unchanged) if the TTL was already 0
     */
    public static int decrementTtl(MemorySegment s, long ipOff) {
        int m = Ipv4.ttlProtocolWord(s, ipOff);
        if (m < 0x100) {
            return -1;
        }
        int m2 = m - 0x100; // TTL is the high octet of the word (RFC 791 3.1)
        int hc = Ipv4.checksum(s, ipOff);
        Bytes.u16(s, ipOff + Ipv4.TTL, m2);
        int sum = (~hc & 0xFFFF) + (~m & 0xFFFF) + m2;
        Ipv4.checksum(s, ipOff, ~Checksum.fold(sum) & 0xFFFF);
        return m2 >>> 8;
    }

    /**
     * Completes a partial transport checksum (virtio 1.2 5.1.6.2, a frame with
     * {@code VIRTIO_NET_HDR_F_NEEDS_CSUM}): the field at {@code csumStart + csumOffset} holds the
     * folded pseudo-header sum, not inverted; the checksum is the ones' complement of the 16-bit
     * ones' complement sum from {@code csumStart} to the end of the frame, field included
     * (RFC 1071), stored into the field. A result of 0x0000 is stored as 0xFFFF, as Linux's
     * {@code skb_checksum_help} does: UDP reserves a zero checksum for "none" (RFC 768), and for
     * TCP and ICMP the two are the same ones' complement value.
     *
     * @param s the memory holding the frame
     * @param frameOff the frame's first byte (offsets are from it, as in the virtio header)
     * @param len the frame's length; the sum runs to {@code frameOff + len} (the caller passes
     *     the link header plus the IPv4 total length, so link-layer padding is not summed)
     * @param csumStart where the sum starts (the transport header), from the frame's start
     * @param csumOffset where the checksum field is, from {@code csumStart}
     * @return false (nothing changed) if the offsets do not place a 16-bit field inside the frame
     */
    public static boolean completeChecksum(MemorySegment s, long frameOff, int len, int csumStart, int csumOffset) {
        if (csumStart < 0 || csumOffset < 0 || (long) csumStart + csumOffset + 2 > len) {
            return false;
        }
        int c = Checksum.compute(s, frameOff + csumStart, len - csumStart);
        Bytes.u16(s, frameOff + csumStart + csumOffset, c == 0 ? 0xFFFF : c);
        return true;
    }
}
