package io.flowstack.core.ip;

import io.flowstack.core.arp.ArpLayer;
import io.flowstack.core.config.Interfaces;
import io.flowstack.core.config.StackConfig;
import io.flowstack.core.config.StaticRoute;
import io.flowstack.core.route.Fib;
import io.flowstack.core.route.NextHops;
import io.flowstack.core.route.RouteKind;
import io.flowstack.core.flow.FlowHash;
import io.flowstack.core.flow.SipHash;
import io.flowstack.core.percore.CoreContext;
import io.flowstack.core.stats.Stat;
import io.flowstack.core.wire.Checksum;
import io.flowstack.core.wire.Ethernet;
import io.flowstack.core.wire.Icmp;
import io.flowstack.core.wire.Ipv4;
import io.flowstack.core.wire.msg.DatagramMsg;
import io.flowstack.nic.TxFrame;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * IPv4 (RFC 791, RFC 1122 section 3) for one core: header validation (once, on the receiving
 * core), local delivery, reassembly, protocol demultiplexing, routing to the next hop and
 * fragmentation on output.
 *
 * <p>Owned by: its netisr thread.
 */
public final class Ipv4Layer {
    public static final int DEFAULT_TTL = 64; // RFC 1700 / Linux ip_default_ttl

    private final CoreContext n;
    private final Interfaces ifs;
    /** [interface]: this core's ARP of each interface. */
    private final ArpLayer[] arps;
    private final IcmpLayer icmp;
    private final Transports up;
    private final StackConfig cfg;
    private final Reassembly reassembly;
    private final MemorySegment frag;
    private final IpIdents ids;
    /** The interface the last {@link #route} chose (an out-parameter: routing allocates nothing). */
    private int routeIf;
    /** This core's replica of the route table, and its next hops. */
    private final Fib fib = new Fib();
    private final NextHops hops = fib.nextHops();

    /**
     * IPv4 for the core {@code netisr}, with a connected route for each interface's subnet, a
     * default route through {@link StackConfig#gateway} if set, and {@code routes}.
     *
     * @param arps the core's ARP of each interface, {@code arps[i]} of interface {@code i}
     * @param routes the static routes the stack starts with
     * @param idKey the per-stack secret that picks an Identification counter (RFC 7739, {@link IpIdents})
     * @param idSeed this core's secret seed for the counters' starts and perturbations
     * @throws IllegalArgumentException if a route's gateway is on no interface's subnet
     */
    public Ipv4Layer(CoreContext netisr, Arena arena, ArpLayer[] arps, IcmpLayer icmp, Transports up,
                     List<StaticRoute> routes, SipHash idKey, long idSeed) {
        this.n = netisr;
        this.ifs = netisr.interfaces();
        this.arps = arps.clone();
        for (int i = 0; i < ifs.count(); i++) {
            // RFC 1812 5.2.4.1: a directly connected network is reached without a gateway
            fib.add(ifs.address(i) & ifs.netmask(i), ifs.prefixLength(i), i, 0, RouteKind.CONNECTED);
        }
        if (netisr.config().gateway != 0) {
            addRoute(0, 0, netisr.config().gateway);
        }
        for (StaticRoute r : routes) {
            addRoute(r.prefix(), r.prefixLength(), r.gateway());
        }
        this.icmp = icmp;
        this.up = up;
        this.cfg = netisr.config();
        this.reassembly = new Reassembly(netisr, arena, icmp);
        this.frag = arena.allocate(ifs.maxMtu() + Ethernet.HEADER_LEN + 64, 64);
        // RFC 6864 / RFC 7739: IDs from counters per (src, dst, protocol) bucket under a secret
        this.ids = new IpIdents(idKey, idSeed, netisr.core(), netisr.cores());
    }

    public Reassembly reassembly() {
        return reassembly;
    }

    /**
     * Validates an IPv4 header (RFC 1122 3.2.1.1-3.2.1.2: version, header length, total length,
     * checksum). Runs once, on the core that received the frame.
     *
     * @param avail bytes available after the Ethernet header (may include Ethernet padding)
     * @return the datagram's total length, or -1 after counting the reason for the drop
     */
    public int validate(MemorySegment s, long off, int avail) {
        if (avail < Ipv4.MIN_HEADER) {
            n.counters().inc(Stat.IP_TRUNCATED);
            return -1;
        }
        if (Ipv4.version(s, off) != Ipv4.VERSION) {
            n.counters().inc(Stat.IP_BAD_VERSION);
            return -1;
        }
        int hl = Ipv4.headerLength(s, off);
        if (hl < Ipv4.MIN_HEADER || hl > avail) {
            n.counters().inc(Stat.IP_BAD_IHL);
            return -1;
        }
        int total = Ipv4.totalLength(s, off);
        if (total < hl || total > avail) {
            n.counters().inc(Stat.IP_BAD_LENGTH);
            return -1;
        }
        if (!Checksum.verify(s, off, hl)) {
            n.counters().inc(Stat.IP_BAD_CHECKSUM);
            return -1;
        }
        return total; // trailing Ethernet padding beyond total is ignored
    }

    /**
     * Input of a validated datagram owned by this core ({@code len} = total length).
     *
     * @param linkBroadcast the frame was sent to the Ethernet broadcast address
     * @param csumValid the NIC vouched for the transport checksum (see {@link Transports})
     */
    public void input(MemorySegment s, long off, int len, boolean linkBroadcast, boolean csumValid) {
        n.checkOwner();
        n.counters().inc(Stat.IP_IN);
        int src = Ipv4.src(s, off);
        int dst = Ipv4.dst(s, off);
        // RFC 1122 3.2.1.3: silently discard a datagram whose source is broadcast or multicast;
        // 0.0.0.0 and 127/8 are never valid sources on the wire, nor one of our own addresses.
        if (src == 0 || ifs.isBroadcast(src) || (src >>> 28) == 0xE
                || (src >>> 24) == 127 || ifs.localIndex(src) >= 0) {
            n.counters().inc(Stat.IP_BAD_SOURCE);
            return;
        }
        boolean broadcast = ifs.isBroadcast(dst);
        if (!broadcast && ifs.localIndex(dst) < 0) {
            // RFC 1122 3.2.1.5 / 3.3.4.2: a host silently drops a datagram for another host (a
            // router's netisr forwards those before they get here)
            n.counters().inc(Stat.IP_NOT_FOR_US);
            return;
        }
        if (Ipv4.isFragment(Ipv4.fragWord(s, off))) {
            n.counters().inc(Stat.FRAG_IN);
            int slot = reassembly.add(s, off, len, n.now());
            if (slot >= 0) {
                MemorySegment buf = reassembly.buffer(slot);
                long ipOff = reassembly.headerOffset(slot);
                int total = Ipv4.totalLength(buf, ipOff);
                n.counters().inc(Stat.FRAG_REASSEMBLED);
                // DESIGN.md: reassembled on the (src, dst) core, re-dispatched by 4-tuple.
                n.dispatchDatagram(buf, ipOff - DatagramMsg.IP, DatagramMsg.length(total)); // the buffer has the headroom
                reassembly.release(slot);
            }
            return;
        }
        deliver(s, off, len, broadcast || linkBroadcast, csumValid);
    }

    /**
     * Demultiplexes a complete (possibly reassembled) datagram to its transport protocol.
     *
     * @param csumValid the NIC vouched for the transport checksum (never for a reassembled datagram)
     */
    public void deliver(MemorySegment s, long off, int len, boolean broadcast, boolean csumValid) {
        n.checkOwner();
        switch (Ipv4.protocol(s, off)) {
            case Ipv4.PROTO_ICMP -> icmp.input(s, off, len, broadcast);
            case Ipv4.PROTO_UDP -> up.udpInput(s, off, len, broadcast, csumValid);
            case Ipv4.PROTO_TCP -> up.tcpInput(s, off, len, broadcast, csumValid);
            default -> {
                n.counters().inc(Stat.IP_UNKNOWN_PROTOCOL);
                // RFC 1122 3.2.2.1: protocol unreachable for a transport we do not implement.
                if (!broadcast) {
                    icmp.sendError(Icmp.DEST_UNREACHABLE, Icmp.CODE_PROTOCOL_UNREACHABLE, 0, s, off, len);
                }
            }
        }
    }

    /**
     * Next hop for {@code dst}: the destination itself on a connected subnet, else the gateway
     * of the longest matching route (RFC 1812 5.2.4.3); 0 if none. The interface it leaves by is
     * then {@link #routeInterface()}. The limited broadcast leaves by interface 0.
     */
    public int route(int dst) {
        if (dst == Ipv4.BROADCAST) {
            routeIf = 0;
            return dst;
        }
        int hop = fib.lookup(dst);
        if (hop < 0) {
            routeIf = -1;
            return 0;
        }
        routeIf = hops.ifIndex(hop);
        return hops.neighbour(hop, dst);
    }

    /** This core's replica of the route table (owner thread; a route change is a command to each core). */
    public Fib fib() {
        n.checkOwner(); // route.Fib sits below percore: its owner is asserted here
        return fib;
    }

    /**
     * Adds (or replaces) the static route {@code prefix/length} via {@code gateway} to this core's
     * replica (RFC 1812 5.2.4: the gateway must be on a directly connected network).
     *
     * @return whether it replaced a route of the same prefix and length
     * @throws IllegalArgumentException if the gateway is on no interface's subnet, or is one of ours
     */
    public boolean addRoute(int prefix, int length, int gateway) {
        n.checkOwner();
        int via = ifs.connected(gateway);
        if (via < 0 || ifs.localIndex(gateway) >= 0) {
            throw new IllegalArgumentException("gateway " + Ipv4.toString(gateway)
                    + (via < 0 ? " is on no interface's subnet" : " is one of our own addresses"));
        }
        return fib.add(prefix, length, via, gateway, RouteKind.STATIC);
    }

    /**
     * The source address for traffic to {@code dst} that has none yet: the address of the
     * interface the route to it leaves by (RFC 1122 3.3.4.3: a multihomed host SHOULD use the
     * address of the interface the datagram is sent on; Linux's fib source selection), interface
     * 0's if there is no route.
     */
    public int sourceAddress(int dst) {
        if (ifs.count() == 1) {
            return ifs.address(0); // an endpoint: no route lookup (IP output makes its own)
        }
        return route(dst) == 0 ? ifs.address(0) : ifs.address(routeIf);
    }

    /** The interface the last {@link #route} that found a next hop chose (owner thread). */
    public int routeInterface() {
        return routeIf;
    }


    /**
     * Sends a datagram whose payload of {@code payloadLen} bytes already sits at
     * {@code off + 20} of {@code s}, with {@link Ethernet#HEADER_LEN} bytes of headroom before
     * {@code off}. Writes the IPv4 header, routes and fragments as needed (RFC 791 3.2).
     *
     * @param src the source address: one of the interfaces', or 0 for interface 0's
     * @return false if the datagram was dropped (no route, or too large with DF)
     */
    public boolean send(MemorySegment s, long off, int payloadLen, int protocol, int src, int dst, boolean df) {
        n.checkOwner();
        int total = Ipv4.MIN_HEADER + payloadLen;
        if (total > Ipv4.MAX_DATAGRAM) {
            n.counters().inc(Stat.IP_CANT_FRAGMENT);
            return false;
        }
        int nextHop = route(dst);
        if (nextHop == 0) {
            n.counters().inc(Stat.IP_NO_ROUTE);
            return false;
        }
        int out = routeIf;
        int from = src == 0 ? cfg.address : src;
        // RFC 6864 4.1: an atomic datagram's ID is 0; one that may be fragmented takes a counter's
        int id = ids.next(from, dst, protocol, df, n.now());
        Ipv4.write(s, off, total, id, df ? Ipv4.FLAG_DF : 0, DEFAULT_TTL, protocol, from, dst);
        n.counters().inc(Stat.IP_OUT);
        if (total <= ifs.mtu(out)) {
            arps[out].output(s, off - Ethernet.HEADER_LEN, total + Ethernet.HEADER_LEN, nextHop);
            return true;
        }
        if (df) {
            n.counters().inc(Stat.IP_CANT_FRAGMENT);
            return false;
        }
        fragment(s, off, total, out, nextHop);
        return true;
    }

    /**
     * Sends the datagram {@code f} describes from {@code src}, one of the interfaces' addresses
     * (see {@link CoreContext#ipSendFrame}): writes the IPv4
     * header (DF set: only TCP segments, which path MTU discovery sizes, go this way, RFC 1191 3)
     * and hands the frame to ARP. A super-frame ({@link TxFrame#gsoType()}) may exceed the MTU:
     * the device cuts it into segments that do not (RFC 791's 65,535 bytes bound it).
     *
     * @return false if the datagram was dropped (no route, too large)
     */
    public boolean sendFrame(TxFrame f, int protocol, int src, int dst) {
        n.checkOwner();
        MemorySegment s = f.head();
        long off = f.headOffset() + Ethernet.HEADER_LEN;
        int total = f.length() - Ethernet.HEADER_LEN;
        int nextHop = route(dst);
        if (nextHop == 0) {
            n.counters().inc(Stat.IP_NO_ROUTE);
            return false;
        }
        int out = routeIf;
        if (total > Ipv4.MAX_DATAGRAM || (total > ifs.mtu(out) && f.gsoType() == TxFrame.GSO_NONE)) {
            n.counters().inc(Stat.IP_CANT_FRAGMENT);
            return false;
        }
        Ipv4.write(s, off, total, 0, Ipv4.FLAG_DF, DEFAULT_TTL, protocol, src, dst); // RFC 6864 4.1: atomic
        n.counters().inc(Stat.IP_OUT);
        return arps[out].outputFrame(f, nextHop);
    }

    /**
     * RFC 791 section 3.2, "An Example Fragmentation Procedure": every fragment but the last
     * carries a multiple of 8 payload bytes and MF; offsets count 8-byte units.
     */
    private void fragment(MemorySegment s, long off, int total, int out, int nextHop) {
        int hl = Ipv4.headerLength(s, off);
        int chunk = (ifs.mtu(out) - hl) & ~7;
        int payload = total - hl;
        int baseWord = Ipv4.fragWord(s, off);
        int baseOffset = baseWord & Ipv4.OFFSET_MASK;
        for (int start = 0; start < payload; start += chunk) {
            int len = Math.min(chunk, payload - start);
            boolean last = start + len >= payload;
            long ip = Ethernet.HEADER_LEN;
            MemorySegment.copy(s, off, frag, ip, hl);
            MemorySegment.copy(s, off + hl + start, frag, ip + hl, len);
            int word = (baseOffset + start / Ipv4.FRAGMENT_UNIT) | (last ? (baseWord & Ipv4.FLAG_MF) : Ipv4.FLAG_MF);
            Ipv4.fragWord(frag, ip, word);
            Ipv4.totalLength(frag, ip, hl + len);
            Ipv4.updateChecksum(frag, ip);
            n.counters().inc(Stat.IP_FRAGMENTS_OUT);
            arps[out].output(frag, 0, Ethernet.HEADER_LEN + hl + len, nextHop);
        }
    }

    /** Timer tick: expires reassembly queues. */
    public void tick(long now) {
        reassembly.expire(now);
    }
}
