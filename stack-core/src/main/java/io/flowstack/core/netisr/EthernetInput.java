package io.flowstack.core.netisr;

import io.flowstack.core.arp.ArpLayer;
import io.flowstack.core.config.Interfaces;
import io.flowstack.core.forward.Forwarder;
import io.flowstack.core.ip.Ipv4Layer;
import io.flowstack.core.percore.Counters;
import io.flowstack.core.stats.Stat;
import io.flowstack.core.wire.Ethernet;
import io.flowstack.core.wire.Ipv4;
import io.flowstack.core.wire.msg.Ipv4FrameMsg;
import io.flowstack.nic.FrameBatch;
import java.lang.foreign.MemorySegment;

/**
 * Ethernet input (RFC 894 framing) of the frames this core reads from its queue of each interface:
 * the destination MAC filter (the interface's own, or broadcast), ARP to that interface's cache,
 * the IPv4 header validated once (DragonFly's {@code ip_demux}), then either forwarding on this
 * core (a router, a datagram for another host: no state per flow, so no hop) or dispatch to the
 * core that owns the flow.
 *
 * <p>Owned by: its netisr thread. Allocation-free.
 */
final class EthernetInput {
    private final Netisr n;
    private final Counters counters;
    private final Interfaces ifs;
    private final ArpLayer[] arps;
    private final Ipv4Layer ip;
    private final Forwarder forwarder;

    EthernetInput(Netisr n, Interfaces ifs, ArpLayer[] arps, Ipv4Layer ip, Forwarder forwarder) {
        this.n = n;
        this.counters = n.counters();
        this.ifs = ifs;
        this.arps = arps.clone();
        this.ip = ip;
        this.forwarder = forwarder;
    }

    /**
     * A frame read from interface {@code ifIndex}.
     *
     * @param rxFlags the queue's {@link FrameBatch} flags for the frame ({@link FrameBatch#RX_CSUM_VALID})
     * @param gsoSize the segment size of a TCP super-frame, 0 for a frame
     */
    void input(int ifIndex, MemorySegment s, long off, int len, int rxFlags, int gsoSize) {
        n.checkOwner();
        counters.inc(Stat.RX_FRAMES);
        counters.add(Stat.RX_BYTES, len);
        if (len < Ethernet.HEADER_LEN) {
            counters.inc(Stat.ETH_TRUNCATED);
            return;
        }
        long dst = Ethernet.dst(s, off);
        boolean broadcast = dst == Ethernet.BROADCAST;
        if (dst != ifs.mac(ifIndex) && !broadcast) {
            counters.inc(Stat.ETH_NOT_FOR_US);
            return;
        }
        int type = Ethernet.type(s, off);
        if (type == Ethernet.TYPE_ARP) {
            arps[ifIndex].input(Ethernet.src(s, off), s, off + Ethernet.HEADER_LEN, len - Ethernet.HEADER_LEN);
            return;
        }
        if (type != Ethernet.TYPE_IPV4) {
            counters.inc(Stat.ETH_UNKNOWN_TYPE);
            return;
        }
        long ipOff = off + Ethernet.HEADER_LEN;
        int ipLen = ip.validate(s, ipOff, len - Ethernet.HEADER_LEN);
        if (ipLen < 0) {
            return; // counted under its reason
        }
        if (forwarder != null) {
            int to = Ipv4.dst(s, ipOff);
            if (ifs.localIndex(to) < 0 && !ifs.isBroadcast(to)) {
                forwarder.forward(ifIndex, s, off, ipLen, rxFlags, gsoSize, broadcast);
                return;
            }
        }
        // The owner trusts the header. The checksum status travels as the message type, so it
        // survives a hop and a hold.
        int msgType = (rxFlags & FrameBatch.RX_CSUM_VALID) != 0 ? Ipv4FrameMsg.TYPE_CSUM_VALID : Ipv4FrameMsg.TYPE;
        n.dispatchLocal(msgType, s, off, Ipv4FrameMsg.length(ipLen));
    }
}
