package io.flowstack.core.ip;

import java.lang.foreign.MemorySegment;

/**
 * The transport protocols above IPv4 on one core, as IP and ICMP deliver to them: datagrams by
 * protocol number (RFC 791 3.1) and ICMP errors quoting a datagram of theirs (RFC 1122
 * 3.2.2.1, 4.1.3.3, 4.2.3.9). IP does not know the transport classes; the netisr wires them in.
 *
 * <p>Owned by: one netisr thread (called from it only).
 */
public interface Transports {
    /** A TCP segment in the datagram at {@code off} ({@code len} = IP total length). */
    void tcpInput(MemorySegment s, long off, int len, boolean broadcast, boolean csumValid);

    /** A UDP datagram at {@code off} ({@code len} = IP total length). */
    void udpInput(MemorySegment s, long off, int len, boolean broadcast, boolean csumValid);

    /**
     * An ICMP error quoting a TCP segment this core sent from {@code localAddr} (one of the
     * interfaces' addresses; {@code mtu}: next-hop MTU, 0 if none).
     */
    void tcpIcmpError(int localAddr, int remoteAddr, int remotePort, int localPort, int seq, int type, int code, int mtu);

    /** An ICMP error quoting a UDP datagram this core sent. */
    void udpIcmpError(int localPort, int remoteAddr, int remotePort, int type, int code);
}
