package io.flowstack.core.forward;

import io.flowstack.core.wire.Icmp;
import io.flowstack.core.wire.Ipv4;
import java.lang.foreign.MemorySegment;

/**
 * The parts of an ICMP error about a forwarded datagram that {@code ip.IcmpLayer.sendError}
 * leaves to its caller: how much of the datagram to quote, the rest-of-header word of
 * fragmentation needed, and whether the datagram's source may get an error at all.
 *
 * <p>Owned by: no one; stateless and allocation-free.
 */
public final class ForwardIcmp {
    /** An ICMP error datagram is at most 576 octets long (RFC 1812 4.3.2.3). */
    public static final int MAX_ERROR_DATAGRAM = 576;
    /** The most an error quotes: 576 less its own 20-octet IPv4 header and 8-octet ICMP header. */
    public static final int MAX_QUOTE = MAX_ERROR_DATAGRAM - Ipv4.MIN_HEADER - Icmp.HEADER_LEN;
    /** The highest next-hop MTU the 16-bit field carries (RFC 1191 4). */
    public static final int MAX_NEXT_HOP_MTU = 0xFFFF;

    private ForwardIcmp() {}

    /**
     * The octets of the datagram at {@code ipOff} an error quotes: as much of it as fits an error
     * of 576 octets (RFC 1812 4.3.2.3), but never more than the datagram (its total length: the
     * frame's link-layer padding is not part of it) or than the bytes present.
     *
     * @param available the bytes present at {@code ipOff}
     * @return the length to pass to {@code IcmpLayer.sendError}, 0..{@link #MAX_QUOTE}
     */
    public static int quotedLength(MemorySegment s, long ipOff, int available) {
        if (available < Ipv4.MIN_HEADER) {
            return Math.max(0, available);
        }
        return Math.min(Math.min(available, Ipv4.totalLength(s, ipOff)), MAX_QUOTE);
    }

    /**
     * The rest-of-header word of destination unreachable, fragmentation needed (type 3 code 4):
     * the high 16 bits unused (zero), the next-hop MTU in the low 16 (RFC 1191 4, "Next-Hop MTU").
     *
     * @throws IllegalArgumentException for an MTU outside 68..65535 (RFC 791 3.1; the 16-bit field)
     */
    public static int fragNeededRest(int nextHopMtu) {
        if (nextHopMtu < Fragmenter.MIN_MTU || nextHopMtu > MAX_NEXT_HOP_MTU) {
            throw new IllegalArgumentException("next-hop MTU " + nextHopMtu + " is outside 68..65535");
        }
        return nextHopMtu;
    }

    /**
     * Whether {@code src} defines a single host, so a datagram from it may be answered with an
     * ICMP error (RFC 1812 4.3.2.7: not for a source that is "a zero address, a loopback address,
     * a broadcast address, a multicast address, or a Class E address"): false for 0.0.0.0/8
     * (RFC 1812 4.2.2.11 (a), (b)), 127.0.0.0/8 (4.2.2.11 (g)), 224.0.0.0/4 (multicast),
     * 240.0.0.0/4 (class E, which holds 255.255.255.255). A directed broadcast of one of the
     * router's own subnets is the caller's to check: it knows its interfaces.
     */
    public static boolean sourceIsSingleHost(int src) {
        int first = src >>> 24;
        return first != 0 && first != 127 && first < 224;
    }
}
