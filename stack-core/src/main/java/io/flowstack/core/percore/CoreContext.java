package io.flowstack.core.percore;

import io.flowstack.core.config.Interfaces;
import io.flowstack.core.config.StackConfig;
import io.flowstack.core.flow.IndirectionTable;
import io.flowstack.nic.TxFrame;
import java.lang.foreign.MemorySegment;

/**
 * What a protocol layer (ARP, IPv4, ICMP, UDP, TCP) needs of the core it runs on, and nothing
 * more: the clock, the counters, the configuration, the transmit path, IP output, the hops to
 * other cores, and the ownership check. The netisr implements it; the layers never see the
 * netisr itself (nor each other's classes beyond what their package may import), so a layer can
 * be driven by a test's own context.
 *
 * <p>Owned by: one netisr thread. Every method is called from that thread only.
 */
public interface CoreContext {
    /** This core's index, 0 to {@link #cores()} - 1. */
    int core();

    /** How many cores the stack runs. */
    int cores();

    /** The stack's configuration (immutable). */
    StackConfig config();

    /** This core's counters (written by this core only). */
    Counters counters();

    /**
     * The MTU local traffic is sized by: the smallest of the interfaces' MTUs (bytes of IPv4
     * datagram a frame may carry); the only one on a stack with one interface.
     */
    int mtu();

    /** The stack's interfaces (immutable; interface 0 is the configuration's). */
    Interfaces interfaces();

    /** Nanoseconds on the stack's clock, read once per netisr pass (protocol code never reads a clock). */
    long now();

    /** This core's replica of the bucket-to-core indirection table. */
    IndirectionTable table();

    /** Asserts that the caller is this core's thread (when the ownership check is enabled). */
    void checkOwner();

    /** The owner check itself (to hand to structures this core owns). */
    Ownership ownership();

    /** The core's frame-building buffer: Ethernet header at 0, IPv4 header at {@link #TX_IP}. */
    MemorySegment txBuffer();

    /** Offset of the IPv4 header in {@link #txBuffer()}. */
    int TX_IP = 14;

    /** Sends a complete Ethernet frame on this core's queue of interface {@code ifIndex}. */
    void transmit(int ifIndex, MemorySegment s, long off, int len);

    /**
     * The transmit offloads every interface's queue of this core has ({@code NicQueue.TX_GATHER},
     * {@code TX_CSUM}, {@code TX_TSO4}): what local traffic may use whatever its route; fixed for
     * the stack's life.
     */
    int txOffloads();

    /** The transmit offloads of this core's queue of interface {@code ifIndex}. */
    int txOffloads(int ifIndex);

    /**
     * This core's gather descriptor: headers built in {@link #txBuffer()} plus payload slices
     * elsewhere (a send ring), sent by {@link #ipSendFrame}. Reused for every frame.
     */
    TxFrame txFrame();

    /**
     * Sends the datagram {@link #txFrame()} describes from local address {@code src}: its head is
     * {@link #txBuffer()} from 0 with the transport header at {@code TX_IP + 20}; IP writes its
     * header and ARP the Ethernet one.
     * Only when {@link #txOffloads()} has {@code TX_GATHER}.
     *
     * @return false if the datagram was dropped (no route, too large, next hop unresolved)
     */
    boolean ipSendFrame(TxFrame frame, int protocol, int src, int dst);

    /**
     * The source address for traffic to {@code dst} that has none yet (an active open, an
     * unbound UDP send): the address of the interface the route to {@code dst} leaves by
     * (RFC 1122 3.3.4.3, as Linux's source selection); interface 0's if there is no route.
     */
    int sourceAddress(int dst);

    /** Transmits a gathered frame whose Ethernet header is filled in (ARP's last step) on interface {@code ifIndex}. */
    void transmit(int ifIndex, TxFrame frame);

    /**
     * IP output: sends the transport payload at {@code off} (an IPv4 header's room before it, as in
     * {@link #txBuffer()}) to {@code dst}, resolving the next hop and fragmenting as needed.
     *
     * @return false if it was not sent (no route, or waiting for ARP and the queue is full; counted)
     */
    default boolean ipSend(MemorySegment s, long off, int payloadLen, int protocol, int dst, boolean dontFragment) {
        return ipSend(s, off, payloadLen, protocol, 0, dst, dontFragment);
    }

    /**
     * IP output from a given source address: as {@link #ipSend(MemorySegment, long, int, int, int, boolean)}
     * with {@code src} (one of the interfaces' addresses, or 0 for interface 0's) as the source:
     * an echo reply from the address pinged, an ICMP error from the interface it is about.
     *
     * @return false if it was not sent (counted)
     */
    boolean ipSend(MemorySegment s, long off, int payloadLen, int protocol, int src, int dst, boolean dontFragment);

    /** Hop: a reassembled datagram (Ethernet header room at {@code off}) goes to the core that owns its flow. */
    void dispatchDatagram(MemorySegment s, long off, int len);

    /**
     * ARP gave up resolving a next hop: {@code frame[off, off + len)} (Ethernet header first) was
     * waiting for it and is dropped. A router tells the datagram's source (host unreachable).
     */
    void unresolved(MemorySegment frame, long off, int len);

    /** Hop: tells every other core's ARP replica of interface {@code ifIndex} that {@code ipAddr} is at {@code mac}. */
    void broadcastArpUpdate(int ifIndex, int ipAddr, long mac);

    /** Hop: a doorbell for connection {@code id}, which moved to core {@code target}. */
    void forwardDoorbell(int target, int id);
}
