package io.flowstack.core.forward;

import io.flowstack.core.wire.Bytes;
import io.flowstack.core.wire.Ethernet;
import io.flowstack.core.wire.Ipv4;
import java.lang.foreign.MemorySegment;

/**
 * Fragments a forwarded IPv4 datagram that exceeds the egress MTU (RFC 791 3.2 "Fragmentation",
 * RFC 1812 5.2.6), writing the fragments one by one into the caller's buffer and handing each to
 * a {@link FragmentSink}:
 * <ul>
 * <li>every fragment is at most the MTU long, and every fragment but the last carries a multiple
 *     of 8 data octets (RFC 791 3.1 "Fragment Offset": offsets count 8-octet units);
 * <li>offsets are relative to the datagram's own fragment offset, so a fragment can be fragmented
 *     again; MF is set on every fragment but the last, and on the last too if the datagram had it
 *     (it was not the original's last fragment: RFC 791 3.2);
 * <li>the first fragment carries the whole header with every option; the others carry only the
 *     options whose copied flag is set, padded with End of Option List to a multiple of 4 octets
 *     (RFC 791 3.1 "Options": "copied flag ... copied into all fragments"; 3.2 "the options
 *     field ... is [not] copied ...");
 * <li>identification, type of service, TTL, protocol and addresses are copied; DF is clear (a
 *     datagram with DF set is not fragmented: RFC 1812 5.2.6, the caller sends ICMP
 *     fragmentation needed, RFC 1191 4); each fragment's header checksum is computed.
 * </ul>
 * Bad input is refused with a result code, never fragmented half-way: the header, the options
 * and the offsets are checked before the first fragment is written.
 *
 * <p>Owned by: no one; stateless and allocation-free, callable from any thread on buffers that
 * thread owns (in the router, the netisr forwarding the datagram).
 */
public final class Fragmenter {
    /** The datagram fits the MTU: nothing was written, the caller forwards it as it is. */
    public static final int FITS = 0;
    /** The datagram exceeds the MTU and has DF set: the caller sends fragmentation needed (RFC 1191 4). */
    public static final int DONT_FRAGMENT = -1;
    /**
     * Malformed: not version 4, a header length below 20 or above the total length, a total
     * length above the bytes present, a malformed option (RFC 791 3.1), or data that would end
     * beyond offset 65,535 (RFC 791 3.1 "Total Length"). Nothing was written.
     */
    public static final int MALFORMED = -2;
    /** Every internet module forwards a datagram of 68 octets without fragmenting it (RFC 791 3.1). */
    public static final int MIN_MTU = 68;

    private Fragmenter() {}

    /**
     * Fragments the datagram at {@code ipOff} for an egress of {@code mtu} octets.
     *
     * @param s the memory holding the datagram
     * @param ipOff the datagram's IPv4 header
     * @param available the bytes of the datagram present at {@code ipOff} (at least its total length)
     * @param mtu the egress MTU, at least {@link #MIN_MTU}
     * @param out the buffer the fragments are written to, one at a time; it must not overlap the
     *     datagram
     * @param outOff where each fragment frame starts in {@code out}: {@link Ethernet#HEADER_LEN}
     *     bytes of link header the sink fills, then the fragment
     * @param sink receives each fragment frame before the next is written
     * @return the number of fragments handed to the sink, or {@link #FITS},
     *     {@link #DONT_FRAGMENT} or {@link #MALFORMED}
     * @throws IllegalArgumentException if {@code mtu} is below {@link #MIN_MTU} or {@code out}
     *     cannot hold a frame of the link header plus {@code mtu} octets (the caller's mistakes, not
     *     the datagram's)
     */
    public static int fragment(MemorySegment s, long ipOff, int available, int mtu,
                               MemorySegment out, long outOff, FragmentSink sink) {
        if (mtu < MIN_MTU) {
            throw new IllegalArgumentException("MTU " + mtu + " is below the 68 octets every IPv4 link carries (RFC 791 3.1)");
        }
        if (available < Ipv4.MIN_HEADER || Ipv4.version(s, ipOff) != Ipv4.VERSION) {
            return MALFORMED;
        }
        int hl = Ipv4.headerLength(s, ipOff);
        int total = Ipv4.totalLength(s, ipOff);
        if (hl < Ipv4.MIN_HEADER || total < hl || total > available) {
            return MALFORMED;
        }
        if (total <= mtu) {
            return FITS;
        }
        int word = Ipv4.fragWord(s, ipOff);
        if ((word & Ipv4.FLAG_DF) != 0) {
            return DONT_FRAGMENT;
        }
        if (out.byteSize() - outOff < (long) Ethernet.HEADER_LEN + mtu) {
            throw new IllegalArgumentException("fragment buffer of " + (out.byteSize() - outOff)
                    + " bytes cannot hold a frame of MTU " + mtu);
        }
        int payload = total - hl;
        int baseOffset = word & Ipv4.OFFSET_MASK; // in 8-octet units
        if (baseOffset * Ipv4.FRAGMENT_UNIT + payload > Ipv4.MAX_DATAGRAM) {
            return MALFORMED; // data beyond the largest datagram (RFC 791 3.1 "Total Length")
        }
        int copied = copiedOptionsLength(s, ipOff, hl);
        if (copied < 0) {
            return MALFORMED;
        }
        int restHl = Ipv4.MIN_HEADER + ((copied + 3) & ~3); // padded to 32 bits (RFC 791 3.1 "Padding")
        int baseMf = word & Ipv4.FLAG_MF;
        long ip = outOff + Ethernet.HEADER_LEN;
        int count = 0;
        for (int start = 0; start < payload; count++) {
            int h = count == 0 ? hl : restHl;
            int len = Math.min((mtu - h) & ~(Ipv4.FRAGMENT_UNIT - 1), payload - start);
            boolean last = start + len == payload;
            if (count == 0) {
                MemorySegment.copy(s, ipOff, out, ip, hl);
            } else {
                writeCopiedHeader(s, ipOff, hl, out, ip, restHl);
            }
            MemorySegment.copy(s, ipOff + hl + start, out, ip + h, len);
            Ipv4.totalLength(out, ip, h + len);
            // flags: DF clear, reserved bit zero (RFC 791 3.1); MF unless the true last fragment
            Ipv4.fragWord(out, ip, (baseOffset + start / Ipv4.FRAGMENT_UNIT) | (last ? baseMf : Ipv4.FLAG_MF));
            Ipv4.updateChecksum(out, ip);
            sink.fragment(out, outOff, Ethernet.HEADER_LEN + h + len);
            start += len;
        }
        return count;
    }

    /**
     * The octets of the options whose copied flag is set (RFC 791 3.1), up to End of Option
     * List; No Operation octets are not copied (their flag is clear).
     *
     * @return the length, or -1 if an option is malformed
     */
    static int copiedOptionsLength(MemorySegment s, long ipOff, int hl) {
        long end = ipOff + hl;
        int copied = 0;
        for (long at = ipOff + Ipv4.OPTIONS; at < end; ) {
            int type = Bytes.u8(s, at);
            if (type == Ipv4.OPT_EOL) {
                break;
            }
            int len = Ipv4.optionLength(s, at, end);
            if (len < 0) {
                return -1;
            }
            if ((type & Ipv4.OPT_COPIED) != 0) {
                copied += len;
            }
            at += len;
        }
        return copied;
    }

    /**
     * Writes the header of a fragment after the first: the fixed 20 octets, the copied options
     * (already validated by {@link #copiedOptionsLength}), End of Option List padding to
     * {@code restHl} octets, and the new IHL.
     */
    private static void writeCopiedHeader(MemorySegment s, long ipOff, int hl, MemorySegment out, long ip, int restHl) {
        MemorySegment.copy(s, ipOff, out, ip, Ipv4.MIN_HEADER);
        long to = ip + Ipv4.MIN_HEADER;
        long end = ipOff + hl;
        for (long at = ipOff + Ipv4.OPTIONS; at < end; ) {
            int type = Bytes.u8(s, at);
            if (type == Ipv4.OPT_EOL) {
                break;
            }
            int len = Ipv4.optionLength(s, at, end);
            if ((type & Ipv4.OPT_COPIED) != 0) {
                MemorySegment.copy(s, at, out, to, len);
                to += len;
            }
            at += len;
        }
        for (long pad = ip + restHl; to < pad; to++) {
            Bytes.u8(out, to, Ipv4.OPT_EOL);
        }
        Ipv4.headerLength(out, ip, restHl);
    }
}
