package io.flowstack.core.tcp;

import io.flowstack.core.stats.Stat;
import io.flowstack.core.wire.Ipv4;
import io.flowstack.core.wire.Tcp;

/**
 * ICMP errors about TCP segments (RFC 1122 4.2.3.9, RFC 5461, RFC 5927 5.1) and path MTU
 * discovery (RFC 1191).
 *
 * <p>Owned by: its netisr thread (through {@link TcpLayer}).
 */
final class TcpIcmp extends TcpPart {

    TcpIcmp(TcpLayer tcp) {
        super(tcp);
    }

    /**
     * An ICMP error about a segment this core sent on connection (local port, remote): RFC 1122
     * 4.2.3.9 and RFC 5461. Believed only if it quotes a sequence number in flight, SND.UNA <=
     * SEG.SEQ < SND.MAX (RFC 5927 5.1: blind attacks). Fragmentation needed lowers the MSS and
     * sends the lost data again (RFC 1191); protocol and port unreachable end a connection
     * attempt in SYN-SENT (hard errors; RFC 5461 4.1 keeps established connections alive); every
     * other error is soft (MUST NOT abort) and is named if the connection later times out.
     *
     * @param mtu the next-hop MTU of a fragmentation-needed error, 0 if none was given
     */
    void icmpError(int localAddr, int remoteAddr, int remotePort, int localPort, int seq, int type, int code, int mtu) {
        n.checkOwner();
        int lif = ifs.localIndex(localAddr);
        Tcb t = lif < 0 ? null : tcp.conns.find(lif, Tcb.key(remoteAddr, remotePort, localPort));
        if (t == null || t.state == TcpState.TIME_WAIT || Seq.lt(seq, t.sndUna) || !Seq.lt(seq, t.sndMax)) {
            n.counters().inc(Stat.TCP_ICMP_IGNORED);
            return;
        }
        n.counters().inc(Stat.TCP_ICMP_ERRORS);
        String what = io.flowstack.core.ip.IcmpLayer.describe(type, code) + " from the path to "
                + Ipv4.toString(remoteAddr);
        if (type == io.flowstack.core.wire.Icmp.DEST_UNREACHABLE && code == io.flowstack.core.wire.Icmp.CODE_FRAG_NEEDED) {
            pathMtu(t, mtu);
            return;
        }
        if (type == io.flowstack.core.wire.Icmp.DEST_UNREACHABLE && t.state == TcpState.SYN_SENT
                && (code == io.flowstack.core.wire.Icmp.CODE_PROTOCOL_UNREACHABLE
                    || code == io.flowstack.core.wire.Icmp.CODE_PORT_UNREACHABLE)) {
            n.counters().inc(Stat.TCP_ICMP_ABORTS);
            tcp.user.abortWith(t, "connection refused (ICMP " + what + ")");
            return;
        }
        t.softError = what;
    }

    /**
     * RFC 1191 6.1: the path MTU dropped to {@code mtu} (plateau 576 when the router gave none or
     * less, RFC 1191 7 / RFC 1122 3.3.3): segments are cut to fit from now on, and those in
     * flight, which were dropped, go again at once (RFC 1191 6.3; BSD's tcp_mtudisc) without
     * touching the congestion state: this is no sign of congestion.
     */
    void pathMtu(Tcb t, int mtu) {
        int pmtu = Math.max(mtu, 576);
        int mss = Math.min(pmtu, n.mtu()) - Ipv4.MIN_HEADER - Tcp.MIN_HEADER;
        if (mss >= t.mss) {
            return; // not smaller than what we use: nothing to do (RFC 1191 6.3)
        }
        t.mss = mss;
        n.counters().inc(Stat.TCP_PMTU_UPDATES);
        if (t.synced() && t.sndNxt != t.sndUna) {
            t.sndNxt = t.sndUna;
            tcp.out.output(t);
        }
    }
}
