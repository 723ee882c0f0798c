package io.flowstack.core.forward;

import io.flowstack.core.arp.ArpLayer;
import io.flowstack.core.config.Interfaces;
import io.flowstack.core.ip.IcmpLayer;
import io.flowstack.core.percore.CoreContext;
import io.flowstack.core.route.Fib;
import io.flowstack.core.route.Martians;
import io.flowstack.core.route.NextHops;
import io.flowstack.core.stats.Stat;
import io.flowstack.core.wire.Ethernet;
import io.flowstack.core.wire.Icmp;
import io.flowstack.core.wire.Ipv4;
import io.flowstack.core.wire.Tcp;
import io.flowstack.core.wire.Udp;
import io.flowstack.nic.FrameBatch;
import io.flowstack.nic.NicQueue;
import io.flowstack.nic.TxFrame;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * IPv4 forwarding (RFC 1812 5.2 and 5.3) on the core whose queue received the datagram: the
 * checks a router makes, the route lookup in this core's replica of the table, the TTL, the
 * next-hop MTU, and the frame out on this core's queue of the outgoing interface. A router keeps
 * no state per forwarded flow, so a datagram is never handed to another core: the symmetric flow
 * hash of the NICs' steering already puts both directions of a flow on one core.
 *
 * <p>In order (Linux's {@code ip_forward} makes the same checks in the same order):
 * <ol>
 *   <li>a frame received as a link-layer broadcast is not forwarded (RFC 1812 5.3.4);</li>
 *   <li>martian sources and destinations are dropped (RFC 1812 5.3.7, {@link Martians}), and so is
 *       a datagram whose source is one of our addresses or a broadcast of our subnets;</li>
 *   <li>a TTL of 1 or less: time exceeded (RFC 1812 5.3.1, RFC 792);</li>
 *   <li>no route: network unreachable (RFC 1812 5.2.7.1);</li>
 *   <li>above the next-hop MTU: with DF, fragmentation needed with that MTU (RFC 1191 4); without,
 *       fragmented (RFC 1812 5.2.6, {@link Fragmenter}). A TCP super-frame (GSO) goes out whole when
 *       the egress segments (a TAP) and its segments fit the MTU, as the kernel forwards GRO
 *       packets; else it is cut in software ({@link SoftGso});</li>
 *   <li>the TTL is decremented with an incremental checksum update (RFC 1624), a partial
 *       checksum left by a local sender is completed unless the egress completes it, and ARP of
 *       the outgoing interface sends the frame (queued while the next hop resolves; host
 *       unreachable when it does not, {@link #unresolved}).</li>
 * </ol>
 * ICMP errors come from the address of the interface they leave by (RFC 1812 4.3.2.4) and share
 * the core's rate limit ({@link IcmpLayer}). Redirects are not sent (RFC 1812 5.2.7.2 allows it
 * to be off; a router between its own subnets has no better first hop to name). Every drop is
 * counted by reason.
 *
 * <p>Owned by: its netisr thread. Allocation-free.
 */
public final class Forwarder implements FragmentSink {
    private final CoreContext n;
    private final Interfaces ifs;
    private final Fib fib;
    private final NextHops hops;
    private final IcmpLayer icmp;
    private final ArpLayer[] arps;
    /** Fragments and software segments are built here, one at a time. */
    private final MemorySegment out;
    private final TxFrame superFrame = new TxFrame();
    /** The egress of the fragments or segments being handed to {@link #fragment}. */
    private int sinkIf;
    private int sinkNeighbour;

    /**
     * Forwarding for the core {@code netisr}.
     *
     * @param fib this core's replica of the route table
     * @param arps this core's ARP of each interface
     */
    public Forwarder(CoreContext netisr, Arena arena, Fib fib, IcmpLayer icmp, ArpLayer[] arps) {
        this.n = netisr;
        this.ifs = netisr.interfaces();
        this.fib = fib;
        this.hops = fib.nextHops();
        this.icmp = icmp;
        this.arps = arps.clone();
        this.out = arena.allocate(Ethernet.HEADER_LEN + ifs.maxMtu() + 64, 64);
    }

    /**
     * Forwards the validated datagram of the frame at {@code off} (not addressed to us).
     *
     * @param inIf the interface it arrived on
     * @param ipLen the datagram's total length (the frame may hold Ethernet padding beyond)
     * @param rxFlags the queue's flags for the frame ({@link FrameBatch#RX_CSUM_PARTIAL})
     * @param gsoSize the segment size of a TCP super-frame, 0 for a datagram
     * @param linkBroadcast the frame was sent to the Ethernet broadcast address
     */
    public void forward(int inIf, MemorySegment s, long off, int ipLen, int rxFlags, int gsoSize,
                        boolean linkBroadcast) {
        n.checkOwner();
        long ip = off + Ethernet.HEADER_LEN;
        if (linkBroadcast) {
            n.counters().inc(Stat.FWD_LINK_BROADCAST); // RFC 1812 5.3.4
            return;
        }
        int src = Ipv4.src(s, ip);
        int dst = Ipv4.dst(s, ip);
        if (Martians.invalidSource(src) != Martians.OK || ifs.localIndex(src) >= 0 || ifs.isBroadcast(src)) {
            n.counters().inc(Stat.FWD_MARTIAN_SOURCE); // RFC 1812 5.3.7
            return;
        }
        if (Martians.invalidDestination(dst) != Martians.OK) {
            n.counters().inc(Stat.FWD_MARTIAN_DEST); // RFC 1812 5.3.7
            return;
        }
        if (Ipv4.ttl(s, ip) <= 1) { // RFC 1812 5.3.1: never forward with a TTL that would reach 0
            n.counters().inc(Stat.FWD_TTL_EXCEEDED);
            icmp.sendError(Icmp.TIME_EXCEEDED, Icmp.CODE_TTL_EXCEEDED, 0, s, ip, ipLen, errorSource(inIf, src));
            return;
        }
        int hop = fib.lookup(dst);
        if (hop < 0) {
            n.counters().inc(Stat.FWD_NO_ROUTE); // RFC 1812 5.2.7.1: network unreachable
            icmp.sendError(Icmp.DEST_UNREACHABLE, Icmp.CODE_NET_UNREACHABLE, 0, s, ip, ipLen, errorSource(inIf, src));
            return;
        }
        int outIf = hops.ifIndex(hop);
        int neighbour = hops.neighbour(hop, dst);
        int mtu = ifs.mtu(outIf);
        boolean df = (Ipv4.fragWord(s, ip) & Ipv4.FLAG_DF) != 0;
        boolean partial = (rxFlags & FrameBatch.RX_CSUM_PARTIAL) != 0;
        if (gsoSize != 0) {
            forwardSuperFrame(inIf, s, off, ipLen, gsoSize, partial, df, outIf, neighbour, mtu);
            return;
        }
        if (ipLen > mtu && df) {
            fragNeeded(inIf, s, ip, ipLen, src, mtu);
            return;
        }
        Ipv4Forward.decrementTtl(s, ip);
        if (partial && !completeChecksum(s, off, ipLen)) {
            n.counters().inc(Stat.FWD_BAD_SUPER_FRAME);
            return;
        }
        n.counters().inc(Stat.FWD_OUT);
        if (ipLen <= mtu) {
            arps[outIf].output(s, off, Ethernet.HEADER_LEN + ipLen, neighbour);
            return;
        }
        sinkIf = outIf;
        sinkNeighbour = neighbour;
        int made = Fragmenter.fragment(s, ip, ipLen, mtu, out, 0, this);
        if (made > 0) {
            n.counters().inc(Stat.FWD_FRAGMENTED);
        } else {
            n.counters().inc(Stat.FWD_BAD_SUPER_FRAME); // malformed options or offsets: refused whole
        }
    }

    /**
     * A TCP super-frame: whole to an egress that segments, when its segments fit the MTU; else
     * cut here, or refused with fragmentation needed when DF is set and a segment would not fit.
     */
    private void forwardSuperFrame(int inIf, MemorySegment s, long off, int ipLen, int gsoSize, boolean partial,
                                   boolean df, int outIf, int neighbour, int mtu) {
        long ip = off + Ethernet.HEADER_LEN;
        int ihl = Ipv4.headerLength(s, ip);
        if (Ipv4.protocol(s, ip) != Ipv4.PROTO_TCP || ipLen < ihl + Tcp.MIN_HEADER) {
            n.counters().inc(Stat.FWD_BAD_SUPER_FRAME); // UDP super-frames were cut into datagrams before
            return;
        }
        int headers = ihl + Tcp.headerLength(s, ip + ihl);
        int segment = headers + gsoSize; // the largest datagram a segment makes
        if (segment > mtu && df) {
            fragNeeded(inIf, s, ip, ipLen, Ipv4.src(s, ip), mtu); // the sender's path MTU discovery shrinks its MSS
            return;
        }
        Ipv4Forward.decrementTtl(s, ip);
        int offloads = n.txOffloads(outIf);
        boolean whole = segment <= mtu && (offloads & (NicQueue.TX_TSO4 | NicQueue.TX_GATHER))
                == (NicQueue.TX_TSO4 | NicQueue.TX_GATHER);
        if (whole) {
            if (!partial) { // the device completes the checksum from the pseudo-header sum (virtio 5.1.6.2)
                Tcp.partialChecksum(s, ip + ihl, ipLen - ihl, Ipv4.src(s, ip), Ipv4.dst(s, ip));
            }
            superFrame.headers(s, off, Ethernet.HEADER_LEN + ipLen)
                    .checksum(Ethernet.HEADER_LEN + ihl, Tcp.CHECKSUM)
                    .gso(TxFrame.GSO_TCPV4, gsoSize);
            if (arps[outIf].outputFrame(superFrame, neighbour)) {
                n.counters().inc(Stat.FWD_SUPER_FRAMES);
                n.counters().inc(Stat.FWD_OUT);
            }
            return;
        }
        sinkIf = outIf;
        sinkNeighbour = neighbour;
        int size = Math.min(gsoSize, mtu - headers);
        int made = SoftGso.segment(s, off, Ethernet.HEADER_LEN + ipLen, size, partial ? SoftGso.CSUM_PARTIAL : 0,
                out, 0, this);
        if (made > 0) {
            n.counters().add(Stat.FWD_SOFT_SEGMENTS, made);
            n.counters().add(Stat.FWD_OUT, made);
        } else {
            n.counters().inc(Stat.FWD_BAD_SUPER_FRAME);
        }
    }

    /** RFC 1191 4: fragmentation needed, with the next-hop MTU; the datagram is dropped. */
    private void fragNeeded(int inIf, MemorySegment s, long ip, int ipLen, int src, int mtu) {
        n.counters().inc(Stat.FWD_FRAG_NEEDED);
        icmp.sendError(Icmp.DEST_UNREACHABLE, Icmp.CODE_FRAG_NEEDED, ForwardIcmp.fragNeededRest(mtu),
                s, ip, ipLen, errorSource(inIf, src));
    }

    /**
     * Completes the transport checksum a local sender left partial (TCP or UDP: the only ones a
     * kernel offloads), for an egress that gets the frame as it is.
     */
    private static boolean completeChecksum(MemorySegment s, long off, int ipLen) {
        long ip = off + Ethernet.HEADER_LEN;
        int start = Ethernet.HEADER_LEN + Ipv4.headerLength(s, ip);
        return switch (Ipv4.protocol(s, ip)) {
            case Ipv4.PROTO_TCP -> Ipv4Forward.completeChecksum(s, off, Ethernet.HEADER_LEN + ipLen, start, Tcp.CHECKSUM);
            case Ipv4.PROTO_UDP -> Ipv4Forward.completeChecksum(s, off, Ethernet.HEADER_LEN + ipLen, start, Udp.CHECKSUM);
            default -> false;
        };
    }

    /** A fragment or software segment ready in {@link #out}: to ARP of its egress. */
    @Override
    public void fragment(MemorySegment s, long off, int len) {
        arps[sinkIf].output(s, off, len, sinkNeighbour);
    }

    /**
     * ARP gave up on a neighbour with this frame queued for it: if it was forwarded (its source is
     * not ours), its source learns that the host is unreachable (RFC 1812 5.2.7.1).
     *
     * @param s the frame, Ethernet header first
     * @param len the frame's length
     */
    public void unresolved(MemorySegment s, long off, int len) {
        n.checkOwner();
        long ip = off + Ethernet.HEADER_LEN;
        int src = Ipv4.src(s, ip);
        if (ifs.localIndex(src) >= 0) {
            return; // our own datagram: its protocol finds out by itself
        }
        n.counters().inc(Stat.FWD_HOST_UNREACHABLE);
        icmp.sendError(Icmp.DEST_UNREACHABLE, Icmp.CODE_HOST_UNREACHABLE, 0, s, ip, len - Ethernet.HEADER_LEN,
                errorSource(-1, src));
    }

    /**
     * The source of an ICMP error to {@code src}: the address of the interface it leaves by
     * (RFC 1812 4.3.2.4), else that of the interface the datagram came in on.
     */
    private int errorSource(int inIf, int src) {
        int back = fib.lookup(src);
        if (back >= 0) {
            return ifs.address(hops.ifIndex(back));
        }
        return inIf >= 0 ? ifs.address(inIf) : 0;
    }
}
