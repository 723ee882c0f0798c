package io.flowstack.core.flow;

import io.flowstack.core.wire.Icmp;
import io.flowstack.core.wire.Ipv4;
import io.flowstack.core.wire.Udp;
import io.flowstack.nic.Toeplitz;
import java.lang.foreign.MemorySegment;

/**
 * The stack's flow hash: the symmetric Toeplitz hash of {@link Toeplitz} (its windows and its
 * tables are defined there once, for the NIC's steering programs too) under the stack's key
 * (the NIC's, or one chosen at random at start: {@link #key()}) over the inputs DESIGN.md gives.
 *
 * <p>Owned by: nobody (immutable; shared read-only by every core and the control path).
 *
 * <p>Inputs follow DESIGN.md: TCP/UDP use (src, dst, sport, dport); other IPv4 uses (src, dst);
 * fragments use (src, dst); ICMP errors hash the quoted inner header.
 */
public final class FlowHash {
    private final Toeplitz key;

    /**
     * The flow hash under {@code key}.
     *
     * @param key the symmetric RSS key
     */
    public FlowHash(Toeplitz key) {
        this.key = key;
    }

    /** The RSS key (its steering programs' too). */
    public Toeplitz key() {
        return key;
    }

    /** Toeplitz hash of (src, dst). */
    public int hash2(int src, int dst) {
        return key.hash2(src, dst);
    }

    /** Toeplitz hash of (src, dst, sport, dport). */
    public int hash4(int src, int dst, int sport, int dport) {
        return key.hash4(src, dst, sport, dport);
    }

    /**
     * Flow hash of an IPv4 datagram whose header was validated (version, IHL, total length).
     *
     * @param ip  offset of the IPv4 header
     * @param len the datagram's total length
     */
    public int ofIpv4(MemorySegment s, long ip, int len) {
        int hl = Ipv4.headerLength(s, ip);
        int src = Ipv4.src(s, ip);
        int dst = Ipv4.dst(s, ip);
        if (Ipv4.isFragment(Ipv4.fragWord(s, ip))) {
            return hash2(src, dst); // DESIGN.md: fragments hash (src, dst), re-dispatched later
        }
        int proto = Ipv4.protocol(s, ip);
        long l4 = ip + hl;
        int l4len = len - hl;
        if ((proto == Ipv4.PROTO_TCP || proto == Ipv4.PROTO_UDP) && l4len >= Udp.PORTS_LEN) {
            return hash4(src, dst, Udp.srcPort(s, l4), Udp.dstPort(s, l4)); // TCP's ports are where UDP's are
        }
        if (proto == Ipv4.PROTO_ICMP && l4len >= Icmp.HEADER_LEN + Ipv4.MIN_HEADER
                && Icmp.isError(Icmp.type(s, l4))) {
            // RFC 792: the error quotes the offending header; hash it so the error reaches the
            // core that owns the flow it is about.
            long inner = l4 + Icmp.HEADER_LEN;
            int innerLen = l4len - Icmp.HEADER_LEN;
            if (Ipv4.version(s, inner) == Ipv4.VERSION) {
                int ihl = Ipv4.headerLength(s, inner);
                int isrc = Ipv4.src(s, inner);
                int idst = Ipv4.dst(s, inner);
                int iproto = Ipv4.protocol(s, inner);
                boolean firstFragment = (Ipv4.fragWord(s, inner) & Ipv4.OFFSET_MASK) == 0;
                if (ihl >= Ipv4.MIN_HEADER && firstFragment && innerLen >= ihl + Udp.PORTS_LEN
                        && (iproto == Ipv4.PROTO_TCP || iproto == Ipv4.PROTO_UDP)) {
                    return hash4(isrc, idst, Udp.srcPort(s, inner + ihl), Udp.dstPort(s, inner + ihl));
                }
                return hash2(isrc, idst);
            }
        }
        return hash2(src, dst);
    }
}
