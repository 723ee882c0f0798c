package io.flowstack.core.forward;

import io.flowstack.core.wire.Ethernet;
import io.flowstack.core.wire.Ipv4;
import io.flowstack.core.wire.Tcp;
import java.lang.foreign.MemorySegment;

/**
 * Segmentation in software of a TCP/IPv4 super-frame (a GSO frame received on a TAP, forwarded
 * to an egress that cannot take it: issue 12 point 3), as Linux's {@code inet_gso_segment} and
 * {@code tcp_gso_segment} do it. The super-frame is Ethernet, IPv4 (options allowed), TCP
 * (options allowed) and up to 64 KiB of payload; each segment gets a copy of the three headers
 * and {@code gsoSize} octets of payload (the last one the rest), and in its copy:
 * <ul>
 * <li>IPv4 total length, and identification ID + i for segment i, unless the caller says the
 *     IDs are fixed ({@link #FIXED_ID}, Linux's {@code SKB_GSO_TCP_FIXEDID}, accepted only with
 *     DF set as Linux does: RFC 6864 4.1 lets only atomic datagrams repeat an ID); the header
 *     checksum recomputed (RFC 791 3.1);
 * <li>TCP sequence number advanced by the payload before the segment (RFC 9293 3.4); CWR only
 *     on the first segment (RFC 3168 6.1.2: CWR once per window reduction), FIN and PSH only on
 *     the last (RFC 9293 3.1: FIN ends the data, PSH delivers it); other bits as they are;
 * <li>the full TCP checksum over pseudo-header, header and payload computed in software
 *     (RFC 9293 3.1), whatever the super-frame's field held.
 * </ul>
 * The super-frame's TCP checksum field is either partial (the vnet header's {@code NEEDS_CSUM}:
 * only a pseudo-header sum, {@link #CSUM_PARTIAL}) or complete. A complete one is verified
 * first: a super-frame that arrived corrupt is refused ({@link #BAD_CHECKSUM}) instead of being
 * cut into segments with fresh valid checksums over corrupt data (the checksum is end to end,
 * RFC 1122 4.2.2.7). Bad input is refused with a result code before the first segment is written.
 *
 * <p>Owned by: no one; stateless and allocation-free, callable from any thread on buffers that
 * thread owns (in the router, the netisr forwarding the super-frame).
 */
public final class SoftGso {
    /** Flag: the TCP checksum field holds only the pseudo-header sum (virtio {@code NEEDS_CSUM}). */
    public static final int CSUM_PARTIAL = 1;
    /** Flag: keep the IPv4 ID in every segment (Linux's {@code SKB_GSO_TCP_FIXEDID}; DF must be set). */
    public static final int FIXED_ID = 2;
    /**
     * Malformed: not Ethernet/IPv4/TCP, a header length out of bounds, a total length beyond the
     * frame, an IP fragment, {@link #FIXED_ID} without DF, or a segment size below 1.
     */
    public static final int MALFORMED = -2;
    /** The super-frame's complete TCP checksum does not verify. */
    public static final int BAD_CHECKSUM = -3;

    private SoftGso() {}

    /**
     * Cuts the super-frame at {@code frameOff} into segments of at most {@code gsoSize} payload
     * octets, written one by one at {@code outOff} of {@code out} and handed to {@code sink}.
     * A super-frame whose payload fits one segment gives one segment (with its checksum
     * completed).
     *
     * @param s the memory holding the super-frame
     * @param frameOff its first byte (the Ethernet header)
     * @param frameLen its length (link header, then at least the IPv4 total length)
     * @param gsoSize payload octets per segment (the vnet header's {@code gso_size}: the MSS)
     * @param flags {@link #CSUM_PARTIAL}, {@link #FIXED_ID}, or 0
     * @param out the buffer the segments are written to, one at a time; it must not overlap the
     *     super-frame. A segment still above the egress MTU (DF clear) can be passed on from the
     *     sink to {@link Fragmenter#fragment} with a third buffer, as Linux fragments the segments
     *     of a GSO packet ({@code ip_finish_output_gso})
     * @param outOff where each segment frame starts in {@code out}
     * @param sink receives each segment frame (its Ethernet header copied from the super-frame)
     * @return the number of segments handed to the sink, or {@link #MALFORMED} or
     *     {@link #BAD_CHECKSUM}
     * @throws IllegalArgumentException if {@code out} cannot hold the largest segment (the
     *     caller's buffer, not the input, is wrong)
     */
    public static int segment(MemorySegment s, long frameOff, int frameLen, int gsoSize, int flags,
                              MemorySegment out, long outOff, FragmentSink sink) {
        long ip = frameOff + Ethernet.HEADER_LEN;
        if (gsoSize < 1 || frameLen < Ethernet.HEADER_LEN + Ipv4.MIN_HEADER + Tcp.MIN_HEADER
                || Ethernet.type(s, frameOff) != Ethernet.TYPE_IPV4 || Ipv4.version(s, ip) != Ipv4.VERSION
                || Ipv4.protocol(s, ip) != Ipv4.PROTO_TCP) {
            return MALFORMED;
        }
        int ihl = Ipv4.headerLength(s, ip);
        int total = Ipv4.totalLength(s, ip);
        int word = Ipv4.fragWord(s, ip);
        boolean df = (word & Ipv4.FLAG_DF) != 0;
        if (ihl < Ipv4.MIN_HEADER || total < ihl + Tcp.MIN_HEADER || Ethernet.HEADER_LEN + total > frameLen
                || Ipv4.isFragment(word) || ((flags & FIXED_ID) != 0 && !df)) {
            return MALFORMED;
        }
        long tcp = ip + ihl;
        int thl = Tcp.headerLength(s, tcp);
        if (thl < Tcp.MIN_HEADER || ihl + thl > total) {
            return MALFORMED;
        }
        int src = Ipv4.src(s, ip);
        int dst = Ipv4.dst(s, ip);
        if ((flags & CSUM_PARTIAL) == 0 && !Tcp.verifyChecksum(s, tcp, total - ihl, src, dst)) {
            return BAD_CHECKSUM;
        }
        int head = Ethernet.HEADER_LEN + ihl + thl;
        int payload = total - ihl - thl;
        if (out.byteSize() - outOff < (long) head + Math.min(gsoSize, payload)) {
            throw new IllegalArgumentException("segment buffer of " + (out.byteSize() - outOff)
                    + " bytes cannot hold a segment of " + (head + Math.min(gsoSize, payload)));
        }
        boolean fixedId = (flags & FIXED_ID) != 0;
        int id = Ipv4.id(s, ip);
        int seq = Tcp.seq(s, tcp);
        int tcpFlags = Tcp.flags(s, tcp);
        long oip = outOff + Ethernet.HEADER_LEN;
        long otcp = oip + ihl;
        int count = 0;
        int start = 0;
        do {
            int len = Math.min(gsoSize, payload - start);
            boolean last = start + len == payload;
            MemorySegment.copy(s, frameOff, out, outOff, head);
            MemorySegment.copy(s, frameOff + head + start, out, outOff + head, len);
            Ipv4.totalLength(out, oip, ihl + thl + len);
            if (!fixedId) {
                Ipv4.id(out, oip, (id + count) & 0xFFFF);
            }
            Ipv4.updateChecksum(out, oip);
            Tcp.seq(out, otcp, seq + start);
            int f = tcpFlags;
            if (count > 0) {
                f &= ~Tcp.CWR;
            }
            if (!last) {
                f &= ~(Tcp.FIN | Tcp.PSH);
            }
            Tcp.flags(out, otcp, f);
            Tcp.finishChecksum(out, otcp, thl + len, src, dst);
            sink.fragment(out, outOff, head + len);
            count++;
            start += len;
        } while (start < payload);
        return count;
    }
}
