package io.flowstack.core.netisr;

import io.flowstack.core.stats.Stat;
import io.flowstack.core.wire.Bytes;
import io.flowstack.core.wire.Ethernet;
import io.flowstack.core.wire.Ipv4;
import io.flowstack.core.wire.Udp;
import io.flowstack.nic.FrameBatch;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Cuts a UDP super-frame into its datagrams, as the kernel's {@code __udp_gso_segment} does
 * before a device without USO: a local sender using {@code UDP_SEGMENT} hands a TAP with
 * {@code TUN_F_USO4} one frame of many datagrams of {@code gso_size} payload bytes each (the last
 * may be shorter), all with one Ethernet/IPv4/UDP header (its lengths those of the whole). Unlike
 * a TCP super-frame, which is one segment to TCP, these are separate datagrams (RFC 768): each is
 * rebuilt with its own IPv4 total length, ID (+1 per datagram, as Linux numbers them), header
 * checksum and UDP length, in a scratch frame, and goes through Ethernet input like any frame.
 * Their UDP checksums are left as the partial sums they were (the frame is
 * {@link FrameBatch#RX_CSUM_VALID}: a local sender's, correct by construction).
 *
 * <p>Owned by: its netisr thread. Allocation-free after construction.
 */
final class UdpSuperFrames {
    private final Netisr n;
    private final MemorySegment scratch;

    UdpSuperFrames(Netisr n, Arena arena, int maxFrame) {
        this.n = n;
        this.scratch = arena.allocate(maxFrame + 64, 64);
    }

    /**
     * Whether {@code s[off, off + len)} is an IPv4/UDP frame (without IP options or fragments)
     * that needs cutting: the queue said it was coalesced from datagrams of {@code gsoSize} bytes.
     */
    static boolean isUdpSuperFrame(MemorySegment s, long off, int len, int gsoSize) {
        if (gsoSize <= 0 || len < Ethernet.HEADER_LEN + Ipv4.MIN_HEADER + Udp.HEADER_LEN
                || Ethernet.type(s, off) != Ethernet.TYPE_IPV4) {
            return false;
        }
        long ip = off + Ethernet.HEADER_LEN;
        return Ipv4.protocol(s, ip) == Ipv4.PROTO_UDP;
    }

    /**
     * Cuts the frame (read from interface {@code ifIndex}) and feeds each datagram to {@link Netisr#inputFrame}. A frame whose headers
     * do not add up (IP options, a fragment, lengths beyond the frame) is fed whole instead, so
     * IP and UDP input count it under their usual reasons.
     */
    void split(int ifIndex, MemorySegment s, long off, int len, int gsoSize, int rxFlags) {
        long ip = off + Ethernet.HEADER_LEN;
        int total = Ipv4.totalLength(s, ip);
        if (Ipv4.headerLength(s, ip) != Ipv4.MIN_HEADER || Ipv4.isFragment(Ipv4.fragWord(s, ip))
                || total > len - Ethernet.HEADER_LEN || total < Ipv4.MIN_HEADER + Udp.HEADER_LEN) {
            n.inputFrame(ifIndex, s, off, len, rxFlags, 0);
            return;
        }
        int headers = Ethernet.HEADER_LEN + Ipv4.MIN_HEADER + Udp.HEADER_LEN;
        int payload = total - Ipv4.MIN_HEADER - Udp.HEADER_LEN;
        int id = Ipv4.id(s, ip);
        int datagrams = 0;
        for (int at = 0; at < payload; at += gsoSize, datagrams++) {
            int part = Math.min(gsoSize, payload - at);
            MemorySegment.copy(s, off, scratch, 0, headers);
            MemorySegment.copy(s, off + headers + at, scratch, headers, part);
            long sip = Ethernet.HEADER_LEN;
            Ipv4.totalLength(scratch, sip, Ipv4.MIN_HEADER + Udp.HEADER_LEN + part);
            Bytes.u16(scratch, sip + Ipv4.ID, (id + datagrams) & 0xFFFF);
            Ipv4.updateChecksum(scratch, sip);
            Bytes.u16(scratch, sip + Ipv4.MIN_HEADER + Udp.LENGTH, Udp.HEADER_LEN + part);
            n.inputFrame(ifIndex, scratch, 0, headers + part, rxFlags, 0);
        }
        n.counters().add(Stat.RX_UDP_SUPER_DATAGRAMS, datagrams);
    }
}
