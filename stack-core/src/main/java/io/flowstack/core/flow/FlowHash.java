package io.flowstack.core.flow;

import io.flowstack.core.wire.Icmp;
import io.flowstack.core.wire.Ipv4;
import io.flowstack.core.wire.Udp;
import java.lang.foreign.MemorySegment;

/**
 * Symmetric Toeplitz flow hash (Microsoft RSS; the 0x6d5a key of Woo and Park, "Scalable TCP
 * Session Monitoring with Symmetric Receive-side Scaling").
 *
 * <p>With a key whose bit pattern repeats every 16 bits, the 32-bit key window at input bit
 * {@code j} equals the window at {@code j + 16k}; swapping the source and destination address
 * (32 bits apart) and ports (16 bits apart) therefore leaves the hash unchanged, so both
 * directions of a flow land on one core. The hash is computed with a precomputed table of
 * {@code 12 x 256} ints (one lookup per input byte). Stateless and thread safe.
 *
 * <p>Inputs follow DESIGN.md: TCP/UDP use (src, dst, sport, dport); other IPv4 uses (src, dst);
 * fragments use (src, dst); ICMP errors hash the quoted inner header.
 */
public final class FlowHash {
    /** The symmetric RSS key: 0x6d5a repeated over 40 bytes. */
    private static final byte[] KEY = new byte[40];
    private static final int[][] TABLE = new int[12][256];

    static {
        for (int i = 0; i < KEY.length; i += 2) {
            KEY[i] = 0x6d;
            KEY[i + 1] = 0x5a;
        }
        for (int pos = 0; pos < 12; pos++) {
            for (int v = 0; v < 256; v++) {
                int h = 0;
                for (int bit = 0; bit < 8; bit++) {
                    if ((v & (0x80 >>> bit)) != 0) {
                        h ^= window(pos * 8 + bit);
                    }
                }
                TABLE[pos][v] = h;
            }
        }
    }

    private FlowHash() {}

    /** The 32 key bits starting at key bit {@code j} (Toeplitz: input bit j selects it). */
    private static int window(int j) {
        int w = 0;
        for (int i = 0; i < 32; i++) {
            int bit = j + i;
            int b = (KEY[bit >>> 3] >>> (7 - (bit & 7))) & 1;
            w = (w << 1) | b;
        }
        return w;
    }

    /** Toeplitz hash of (src, dst). */
    public static int hash2(int src, int dst) {
        int[][] t = TABLE;
        return t[0][src >>> 24] ^ t[1][(src >>> 16) & 0xFF] ^ t[2][(src >>> 8) & 0xFF] ^ t[3][src & 0xFF]
                ^ t[4][dst >>> 24] ^ t[5][(dst >>> 16) & 0xFF] ^ t[6][(dst >>> 8) & 0xFF]
                ^ t[7][dst & 0xFF];
    }

    /** Toeplitz hash of (src, dst, sport, dport). */
    public static int hash4(int src, int dst, int sport, int dport) {
        int[][] t = TABLE;
        return hash2(src, dst) ^ t[8][(sport >>> 8) & 0xFF] ^ t[9][sport & 0xFF]
                ^ t[10][(dport >>> 8) & 0xFF] ^ t[11][dport & 0xFF];
    }

    /**
     * Flow hash of an IPv4 datagram whose header was validated (version, IHL, total length).
     *
     * @param ip  offset of the IPv4 header
     * @param len the datagram's total length
     */
    public static int ofIpv4(MemorySegment s, long ip, int len) {
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
