package io.flowstack.core.udp;

import io.flowstack.core.ip.IcmpLayer;
import io.flowstack.core.percore.CoreContext;
import io.flowstack.core.stats.Stat;
import io.flowstack.core.wire.Checksum;
import io.flowstack.core.wire.Icmp;
import io.flowstack.core.wire.Ipv4;
import io.flowstack.core.wire.Udp;
import io.flowstack.core.wire.msg.UdpSendMsg;
import java.lang.foreign.MemorySegment;
import org.agrona.collections.Int2ObjectHashMap;

/**
 * UDP (RFC 768, RFC 1122 4.1) for one core: this core's replica of the port bindings, input
 * with length and checksum checks, delivery into the bound socket's ring for this core, port
 * unreachable for closed ports, and output of datagrams that applications queued on this core.
 *
 * <p>Owned by: its netisr thread. Bindings change only by {@link #bind}/{@link #unbind}
 * commands executed on this thread.
 */
public final class UdpLayer {
    private final CoreContext n;
    private final IcmpLayer icmp;
    private final Int2ObjectHashMap<UdpReceiver> bindings = new Int2ObjectHashMap<>();

    /** A bound socket as the core sees it: a per-core ring it delivers into. */
    public interface UdpReceiver {
        /**
         * Delivers one datagram's payload from core {@code core}.
         *
         * @param core the calling netisr's core
         * @param src the sender's IPv4 address, as a big-endian int
         * @param srcPort the sender's port
         * @param dst the address the datagram was sent to (one of the stack's)
         * @param dstPort the destination port
         * @param s the memory holding the payload
         * @param off where the payload starts in {@code s}
         * @param len the payload's length in bytes
         * @return false if the socket's receive buffer for this core is full
         */
        boolean deliver(int core, int src, int srcPort, int dst, int dstPort, MemorySegment s, long off, int len);

        /**
         * Delivers an ICMP error about a datagram this socket sent to {@code dst:dstPort}, from
         * core {@code core}, in order with the datagrams (RFC 1122 4.1.3.3).
         *
         * @param core the calling netisr's core
         * @param dst the destination address of the datagram that caused the error
         * @param dstPort its destination port
         * @param type the ICMP type
         * @param code the ICMP code
         * @return false if the socket's receive buffer for this core is full
         */
        default boolean deliverError(int core, int dst, int dstPort, int type, int code) {
            return false;
        }
    }

    public UdpLayer(CoreContext netisr, IcmpLayer icmp) {
        this.n = netisr;
        this.icmp = icmp;
    }

    public void bind(int port, UdpReceiver receiver) {
        n.checkOwner();
        bindings.put(port, receiver);
    }

    public void unbind(int port) {
        n.checkOwner();
        bindings.remove(port);
    }

    /**
     * RFC 1122 4.1.3.3: UDP MUST pass every ICMP error it receives to the application: to the
     * socket bound on {@code localPort}, which sent the datagram to {@code dst:dstPort}.
     */
    public void icmpError(int localPort, int dst, int dstPort, int type, int code) {
        n.checkOwner();
        UdpReceiver r = bindings.get(localPort);
        if (r == null) {
            n.counters().inc(Stat.ICMP_ERROR_IGNORED);
            return;
        }
        if (r.deliverError(n.core(), dst, dstPort, type, code)) {
            n.counters().inc(Stat.UDP_ICMP_ERRORS);
        } else {
            n.counters().inc(Stat.UDP_RCVBUF_FULL);
        }
    }

    public boolean isBound(int port) {
        n.checkOwner();
        return bindings.containsKey(port);
    }

    /**
     * UDP input for the datagram at {@code off} ({@code len} = IP total length).
     *
     * @param csumValid the NIC vouched for the checksum (verified, or a local sender's partial one)
     */
    public void input(MemorySegment s, long off, int len, boolean broadcast, boolean csumValid) {
        n.checkOwner();
        n.counters().inc(Stat.UDP_IN);
        int hl = Ipv4.headerLength(s, off);
        long u = off + hl;
        int avail = len - hl;
        if (avail < Udp.HEADER_LEN) {
            n.counters().inc(Stat.UDP_TRUNCATED);
            return;
        }
        int ulen = Udp.length(s, u);
        // RFC 768: length counts header and data; it may not exceed what IP carried.
        if (ulen < Udp.HEADER_LEN || ulen > avail) {
            n.counters().inc(Stat.UDP_BAD_LENGTH);
            return;
        }
        int src = Ipv4.src(s, off);
        int dst = Ipv4.dst(s, off);
        // RFC 1122 4.1.3.4: verify a non-zero checksum; discard silently on mismatch.
        if (!csumValid && Udp.checksum(s, u) != 0) {
            long acc = Checksum.pseudoHeader(src, dst, Ipv4.PROTO_UDP, ulen);
            if (Checksum.fold(Checksum.sum(s, u, ulen, acc)) != 0xFFFF) {
                n.counters().inc(Stat.UDP_BAD_CHECKSUM);
                return;
            }
        }
        int dport = Udp.dstPort(s, u);
        UdpReceiver r = bindings.get(dport);
        if (r == null) {
            n.counters().inc(Stat.UDP_NO_PORT);
            // RFC 1122 4.1.3.1: port unreachable, but never for broadcast (3.2.2).
            if (!broadcast) {
                icmp.sendError(Icmp.DEST_UNREACHABLE, Icmp.CODE_PORT_UNREACHABLE, 0, s, off, len);
            }
            return;
        }
        // a bound port takes datagrams to every address of ours (a wildcard bind); the socket
        // learns which, so its reply comes from it (for a broadcast: the route's source to the sender)
        int local = n.interfaces().localIndex(dst) >= 0 ? dst : n.sourceAddress(src);
        if (!r.deliver(n.core(), src, Udp.srcPort(s, u), local, dport, s, u + Udp.HEADER_LEN, ulen - Udp.HEADER_LEN)) {
            n.counters().inc(Stat.UDP_RCVBUF_FULL);
        }
    }

    /** Sends one datagram queued by an application (a {@link UdpSendMsg} of {@code len} bytes). */
    public void sendFromApp(MemorySegment s, long off, int len) {
        n.checkOwner();
        int sport = UdpSendMsg.srcPort(s, off);
        int dport = UdpSendMsg.dstPort(s, off);
        int dst = UdpSendMsg.dst(s, off);
        int payload = UdpSendMsg.payloadLength(len);
        MemorySegment t = n.txBuffer();
        long u = CoreContext.TX_IP + Ipv4.MIN_HEADER;
        MemorySegment.copy(s, off + UdpSendMsg.PAYLOAD, t, u + Udp.HEADER_LEN, payload);
        send(UdpSendMsg.src(s, off), sport, dst, dport, payload);
    }

    /**
     * Sends the {@code payload} bytes already placed at {@code TX_IP + 20 + 8} of the core's tx
     * buffer, from {@code src}: one of the stack's addresses (a reply from the address asked),
     * or 0 for the address of the interface the route to {@code dst} leaves by (RFC 1122 3.3.4.3).
     */
    public boolean send(int src, int sport, int dst, int dport, int payload) {
        n.checkOwner();
        MemorySegment t = n.txBuffer();
        long u = CoreContext.TX_IP + Ipv4.MIN_HEADER;
        int ulen = Udp.HEADER_LEN + payload;
        if (ulen + Ipv4.MIN_HEADER > Ipv4.MAX_DATAGRAM) {
            n.counters().inc(Stat.UDP_SEND_FAILED);
            return false;
        }
        int from = src != 0 ? src : n.sourceAddress(dst);
        Udp.write(t, u, sport, dport, ulen, from, dst);
        if (n.ipSend(t, CoreContext.TX_IP, ulen, Ipv4.PROTO_UDP, from, dst, false)) {
            n.counters().inc(Stat.UDP_OUT);
            return true;
        }
        n.counters().inc(Stat.UDP_SEND_FAILED);
        return false;
    }
}
