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
    private final int destination;
    private final int destinationPort;
    private final int type;
    private final int code;

    public UdpIcmpError(int localPort, int destination, int destinationPort, int type, int code) {
        super("ICMP " + IcmpLayer.describe(type, code) + " for the datagram from port " + localPort + " to "
                + Ipv4.toString(destination) + ":" + destinationPort);
        this.destination = destination;
        this.destinationPort = destinationPort;
        this.type = type;
        this.code = code;
    }

    /** Where the datagram that caused the error was going. */
    public int destination() { return destination; }
    public int destinationPort() { return destinationPort; }

    /** Where the datagram that caused the error was going, as a socket address. */
    public InetSocketAddress destinationSocketAddress() {
        return Ipv4.toSocketAddress(destination, destinationPort);
    }
    /** ICMP type (3 destination unreachable, 11 time exceeded, 12 parameter problem) and code. */
    public int type() { return type; }
    public int code() { return code; }
}
