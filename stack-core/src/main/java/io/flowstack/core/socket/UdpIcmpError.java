package io.flowstack.core.socket;

import io.flowstack.core.ip.IcmpLayer;
import io.flowstack.core.wire.Ipv4;
import java.net.InetSocketAddress;

/**
 * An ICMP error about a datagram a UDP socket sent (RFC 1122 4.1.3.3: UDP MUST pass ICMP errors
 * to the application), thrown by {@link UdpSocket#receive} in order with the datagrams, like
 * Java's {@code PortUnreachableException} on a connected {@code DatagramChannel}.
 */
public final class UdpIcmpError extends StackException {
    private static final long serialVersionUID = 1L;
    /** The destination address of the datagram that caused the error. */
    private final int destination;
    /** The destination port of that datagram. */
    private final int destinationPort;
    /** The ICMP type. */
    private final int type;
    /** The ICMP code. */
    private final int code;

    /**
     * An error about the datagram sent from {@code localPort} to
     * {@code destination:destinationPort}, with a message naming the ICMP error.
     *
     * @param localPort the socket's port, the source port of the datagram
     * @param destination where the datagram was going, an IPv4 address as a big-endian int
     * @param destinationPort its destination port
     * @param type the ICMP type
     * @param code the ICMP code
     */
    public UdpIcmpError(int localPort, int destination, int destinationPort, int type, int code) {
        super("ICMP " + IcmpLayer.describe(type, code) + " for the datagram from port " + localPort + " to "
                + Ipv4.toString(destination) + ":" + destinationPort);
        this.destination = destination;
        this.destinationPort = destinationPort;
        this.type = type;
        this.code = code;
    }

    /**
     * Where the datagram that caused the error was going.
     *
     * @return the IPv4 address, as a big-endian int
     */
    public int destination() { return destination; }
    /**
     * The destination port of the datagram that caused the error.
     *
     * @return the UDP port
     */
    public int destinationPort() { return destinationPort; }

    /**
     * Where the datagram that caused the error was going, as a socket address.
     *
     * @return a new socket address
     */
    public InetSocketAddress destinationSocketAddress() {
        return Ipv4.toSocketAddress(destination, destinationPort);
    }
    /**
     * ICMP type (3 destination unreachable, 11 time exceeded, 12 parameter problem) and code.
     *
     * @return the ICMP type
     */
    public int type() { return type; }
    /**
     * ICMP code, whose meaning depends on the {@link #type()}.
     *
     * @return the ICMP code, e.g. 3 (port unreachable) with type 3
     */
    public int code() { return code; }
}
