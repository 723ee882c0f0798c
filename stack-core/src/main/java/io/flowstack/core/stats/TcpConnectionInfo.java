package io.flowstack.core.stats;

import io.flowstack.core.wire.Ipv4;
import java.net.InetSocketAddress;

/**
 * A copy of one connection's state at one instant, for statistics ({@code stack stats}, like
 * {@code ss -tni}). Immutable: made on the owning netisr by {@code TcpLayer.snapshot} (package
 * {@code core.tcp}), read by any thread afterwards.
 *
 * @param core              the core (netisr) that owns the connection
 * @param state             RFC 9293 state name, e.g. {@code ESTABLISHED}
 * @param localAddress      our IPv4 address
 * @param localPort         our port
 * @param remoteAddress     the peer's IPv4 address
 * @param remotePort        the peer's port
 * @param srttNanos         smoothed RTT (RFC 6298 SRTT), 0 before the first sample
 * @param rttvarNanos       RTT variation (RFC 6298 RTTVAR)
 * @param rtoNanos          current retransmission timeout
 * @param mss               the sending MSS
 * @param cwnd              congestion window, bytes
 * @param ssthresh          slow-start threshold, bytes ({@link #ssthreshUnset()} before any loss)
 * @param sendWindow        the peer's advertised window (scaled), bytes
 * @param unacked           bytes sent and not yet acknowledged
 * @param bytesIn           payload bytes received
 * @param bytesOut          payload bytes sent (new data, retransmissions not counted)
 * @param retransmits       segments retransmitted
 * @param congestionControl the algorithm's name ({@code cubic}, {@code newreno}), or null
 */
public record TcpConnectionInfo(int core, String state, int localAddress, int localPort, int remoteAddress,
                                int remotePort, long srttNanos, long rttvarNanos, long rtoNanos, int mss, int cwnd,
                                int ssthresh, int sendWindow, int unacked, long bytesIn, long bytesOut,
                                int retransmits, String congestionControl) {

    /**
     * Our end ({@link #localAddress} and {@link #localPort}) as a socket address.
     *
     * @return a new socket address
     */
    public InetSocketAddress localSocketAddress() {
        return Ipv4.toSocketAddress(localAddress, localPort);
    }

    /**
     * The peer ({@link #remoteAddress} and {@link #remotePort}) as a socket address.
     *
     * @return a new socket address
     */
    public InetSocketAddress remoteSocketAddress() {
        return Ipv4.toSocketAddress(remoteAddress, remotePort);
    }

    /**
     * Whether ssthresh still holds its initial "infinite" value (no loss seen yet).
     *
     * @return true if {@link #ssthresh()} is not a real threshold yet
     */
    public boolean ssthreshUnset() {
        return ssthresh >= Integer.MAX_VALUE / 2;
    }
}
