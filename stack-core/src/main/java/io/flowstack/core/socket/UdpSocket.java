package io.flowstack.core.socket;

import io.flowstack.core.netisr.SocketHost;
import java.util.function.Consumer;
import io.flowstack.core.netisr.Netisr;
import io.flowstack.core.netisr.Rings;
import io.flowstack.core.udp.UdpLayer;
import io.flowstack.core.wire.Ipv4;
import io.flowstack.core.wire.Udp;
import io.flowstack.core.wire.msg.UdpRxDatagramMsg;
import io.flowstack.core.wire.msg.UdpRxErrorMsg;
import io.flowstack.core.wire.msg.UdpSendMsg;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.agrona.concurrent.ringbuffer.OneToOneRingBuffer;

/**
 * A bound UDP socket.
 *
 * <p>Receiving: every core that owns flows to this port delivers into its own SPSC ring of this
 * socket (producer: that core's netisr; consumer: the receiving application thread), so no ring
 * has two producers. {@link #receive} drains the rings round-robin and parks when all are empty.
 * One thread may receive at a time (a second concurrent receiver gets an
 * {@link IllegalStateException}).
 *
 * <p>Sending: the datagram is copied into the application ring of the core its 4-tuple hashes
 * to, which builds and transmits it. Any thread may send.
 */
public final class UdpSocket implements AutoCloseable {
    /** Largest UDP payload over IPv4: 65535 - 20 - 8 (RFC 768, RFC 791). */
    public static final int MAX_PAYLOAD = Ipv4.MAX_DATAGRAM - Ipv4.MIN_HEADER - Udp.HEADER_LEN;

    private final SocketHost stack;
    private final Consumer<UdpSocket> unbind;
    private final int port;
    private final Rings.Ring<OneToOneRingBuffer>[] rx;
    private final PerCoreRingReader reader;
    /** The netisrs' side of this socket: deliveries into {@code rx[core]} by netisr-core only. */
    private final UdpLayer.UdpReceiver receiver = new UdpLayer.UdpReceiver() {
        @Override
        public boolean deliver(int core, int src, int srcPort, int dst, int dstPort, MemorySegment s, long off,
                               int len) {
            return UdpSocket.this.deliver(core, src, srcPort, dst, dstPort, s, off, len);
        }

        @Override
        public boolean deliverError(int core, int dst, int dstPort, int type, int code) {
            return UdpSocket.this.deliverError(core, dst, dstPort, type, code);
        }
    };
    private volatile boolean closed;

    // receive-call state, used only by the (single) receiving thread
    private byte[] dst;
    private int dstOff;
    private int dstMax;
    private UdpPeer from;
    private int got;
    private UdpIcmpError error;

    /**
     * Stack internal: made by {@code FlowStack.udpBind}, which binds it on every core.
     *
     * @param stack the stack
     * @param port the bound UDP port
     * @param cores the number of cores, one receive ring each
     * @param ringBytes the capacity of each receive ring, in bytes (a power of two)
     * @param unbind called by {@link #close()} to remove the binding from every core
     */
    public UdpSocket(SocketHost stack, int port, int cores, int ringBytes, Consumer<UdpSocket> unbind) {
        this.unbind = unbind;
        this.stack = stack;
        this.port = port;
        this.reader = new PerCoreRingReader("UDP socket on port " + port, cores, ringBytes, false,
                (type, seg, index, length) -> {
                    if (type == UdpRxErrorMsg.TYPE) {
                        onError(seg, index);
                    } else {
                        onMessage(seg, index, length);
                    }
                });
        this.rx = reader.rings();
    }

    /**
     * The UDP port the socket is bound to.
     *
     * @return the port
     */
    public int port() {
        return port;
    }

    /**
     * The bound end: the stack's address (interface 0's) and {@link #port()}. The socket takes
     * datagrams to every address of the stack (a wildcard bind); {@link UdpPeer#localAddress}
     * tells which one each was sent to.
     *
     * @return a new socket address
     */
    public InetSocketAddress localSocketAddress() {
        return Ipv4.toSocketAddress(stack.config().address, port);
    }

    // ------------------------------------------------------------------ netisr side

    /**
     * Stack internal: what the UDP layer of every core delivers into (this socket's rings). Its
     * type is not exported, so only the stack binds it; an application cannot deliver.
     *
     * @return the receiver the stack binds on every core
     */
    public UdpLayer.UdpReceiver receiver() {
        return receiver;
    }

    /**
     * Called by core {@code core}'s netisr only (the single producer of {@code rx[core]}).
     *
     * @param core the calling netisr's core
     * @param src the sender's IPv4 address, as a big-endian int
     * @param srcPort the sender's port
     * @param dst the stack's address the datagram was sent to
     * @param dstPort the destination port (this socket's)
     * @param s the memory holding the payload
     * @param off where the payload starts in {@code s}
     * @param len the payload's length in bytes
     * @return false if this core's ring is full (the datagram is dropped)
     */
    private boolean deliver(int core, int src, int srcPort, int dst, int dstPort, MemorySegment s, long off,
                            int len) {
        stack.netisr(core).checkOwner(); // rx[core] is SPSC: its one producer is netisr-core
        Rings.Ring<OneToOneRingBuffer> r = rx[core];
        int index = r.ring().tryClaim(UdpRxDatagramMsg.TYPE, UdpRxDatagramMsg.length(len));
        if (index < 0) {
            return false;
        }
        UdpRxDatagramMsg.write(r.segment(), index, src, srcPort, dst, dstPort, s, off, len);
        r.ring().commit(index);
        wakeReceiver();
        return true;
    }

    /** Unparks the receiving thread, if one waits, after a commit. */
    private void wakeReceiver() {
        reader.wakeReceiver();
    }

    /**
     * An ICMP error about a datagram sent to {@code dst:dstPort}, queued in order with the
     * datagrams.
     *
     * @param core the calling netisr's core
     * @param dst the destination address of the datagram that caused the error
     * @param dstPort its destination port
     * @param type the ICMP type
     * @param code the ICMP code
     * @return false if this core's ring is full (the error is dropped)
     */
    private boolean deliverError(int core, int dst, int dstPort, int type, int code) {
        stack.netisr(core).checkOwner();
        Rings.Ring<OneToOneRingBuffer> r = rx[core];
        int index = r.ring().tryClaim(UdpRxErrorMsg.TYPE, UdpRxErrorMsg.LENGTH);
        if (index < 0) {
            return false;
        }
        UdpRxErrorMsg.write(r.segment(), index, dst, dstPort, type, code);
        r.ring().commit(index);
        wakeReceiver();
        return true;
    }

    // ------------------------------------------------------------------ application side

    /**
     * Receives one datagram into {@code buf[off, off+max)}; a longer datagram is truncated (like
     * recvfrom without MSG_TRUNC) but its full length is returned.
     *
     * @param buf the buffer
     * @param off where the payload goes in {@code buf}
     * @param max the most bytes copied
     * @param from    filled in with the sender (may be null)
     * @param timeout how long to wait; 0 returns at once
     * @param unit the unit of {@code timeout}
     * @return the datagram's length, or -1 if none arrived in time
     * @throws UdpIcmpError when the next thing in the socket's queue is an ICMP error about a
     *     datagram it sent (RFC 1122 4.1.3.3: e.g. port unreachable); the datagrams after it are
     *     received by the next calls
     * @throws StackException if the socket or the stack is closed
     * @throws IllegalStateException if another thread is receiving on the socket
     */
    public int receive(byte[] buf, int off, int max, UdpPeer from, long timeout, TimeUnit unit) {
        reader.enter();
        try {
            this.dst = buf;
            this.dstOff = off;
            this.dstMax = max;
            this.from = from;
            if (!reader.await(unit.toNanos(timeout))) {
                return -1;
            }
            if (got == -2) {
                throw takeError();
            }
            return got;
        } finally {
            this.dst = null;
            this.from = null;
            reader.exit();
        }
    }

    private void onError(MemorySegment m, int index) {
        error = new UdpIcmpError(port, UdpRxErrorMsg.dst(m, index), UdpRxErrorMsg.dstPort(m, index),
                UdpRxErrorMsg.icmpType(m, index), UdpRxErrorMsg.icmpCode(m, index));
        got = -2;
    }

    private UdpIcmpError takeError() {
        UdpIcmpError e = error;
        error = null;
        return e;
    }

    private void onMessage(MemorySegment m, int index, int length) {
        if (from != null) {
            from.address = UdpRxDatagramMsg.src(m, index);
            from.port = UdpRxDatagramMsg.srcPort(m, index);
            from.localAddress = UdpRxDatagramMsg.dst(m, index);
        }
        UdpRxDatagramMsg.readPayload(m, index, length, dst, dstOff, dstMax);
        got = UdpRxDatagramMsg.payloadLength(length);
    }

    /**
     * Sends {@code buf[off, off+len)} to {@code dstAddr:dstPort} from the address of the
     * interface the route to it leaves by (RFC 1122 3.3.4.3; the stack's address when it has one).
     *
     * @param buf the payload
     * @param off where it starts in {@code buf}
     * @param len its length, 0 to {@link #MAX_PAYLOAD}
     * @param dstAddr the destination IPv4 address, as a big-endian int
     * @param dstPort the destination port, 1..65535
     * @return false if the owning core's application ring stayed full for 100 ms (the datagram
     *     was not queued)
     * @throws IllegalArgumentException if the payload exceeds {@link #MAX_PAYLOAD}
     * @throws StackException if the socket or the stack is closed
     */
    public boolean send(byte[] buf, int off, int len, int dstAddr, int dstPort) {
        return send(buf, off, len, dstAddr, dstPort, 0);
    }

    /**
     * Answers a received datagram: sends {@code buf[off, off+len)} to {@code to}'s sender from
     * the address it sent to ({@link UdpPeer#localAddress}), as a UDP server on a multihomed host
     * should (RFC 1122 4.1.3.5: the reply's source is the request's destination). Allocates nothing.
     *
     * @param buf the payload
     * @param off where it starts in {@code buf}
     * @param len its length, 0 to {@link #MAX_PAYLOAD}
     * @param to the peer a {@link #receive} filled in
     * @return false if the owning core's application ring stayed full for 100 ms
     * @throws IllegalArgumentException if the payload exceeds {@link #MAX_PAYLOAD}, or {@code to}
     *     holds no address of the stack (it was not filled by a receive)
     * @throws StackException if the socket or the stack is closed
     */
    public boolean reply(byte[] buf, int off, int len, UdpPeer to) {
        return send(buf, off, len, to.address, to.port, to.localAddress);
    }

    /**
     * Sends {@code buf[off, off+len)} to {@code dstAddr:dstPort} from {@code srcAddr}.
     *
     * @param buf the payload
     * @param off where it starts in {@code buf}
     * @param len its length, 0 to {@link #MAX_PAYLOAD}
     * @param dstAddr the destination IPv4 address, as a big-endian int
     * @param dstPort the destination port, 1..65535
     * @param srcAddr the source address: one of the stack's, or 0 for the route's choice
     * @return false if the owning core's application ring stayed full for 100 ms
     * @throws IllegalArgumentException if the payload exceeds {@link #MAX_PAYLOAD} or
     *     {@code srcAddr} is not an address of the stack (EADDRNOTAVAIL)
     * @throws StackException if the socket or the stack is closed
     */
    public boolean send(byte[] buf, int off, int len, int dstAddr, int dstPort, int srcAddr) {
        if (srcAddr != 0 && stack.interfaces().localIndex(srcAddr) < 0) {
            throw new IllegalArgumentException("cannot send from " + Ipv4.toString(srcAddr)
                    + ": not an address of this stack (EADDRNOTAVAIL)");
        }
        if (len < 0 || len > MAX_PAYLOAD) {
            throw new IllegalArgumentException("UDP payload of " + len + " bytes: must be 0.." + MAX_PAYLOAD);
        }
        if (dstPort <= 0 || dstPort > 65535) {
            throw new IllegalArgumentException("destination port must be 1..65535, got " + dstPort);
        }
        if (closed) {
            throw new StackException("UDP socket on port " + port + " is closed");
        }
        // the core the 4-tuple hashes to (any core could send it: UDP keeps no state per flow)
        Netisr n = stack.netisr(stack.coreFor(srcAddr != 0 ? srcAddr : stack.config().address, dstAddr, port, dstPort));
        long deadline = 0;
        int index;
        while ((index = n.appRing().tryClaim(UdpSendMsg.TYPE, UdpSendMsg.length(len))) < 0) {
            if (!stack.running()) {
                throw new StackException("the stack is closed");
            }
            long now = System.nanoTime();
            if (deadline == 0) {
                deadline = now + 100_000_000L;
            } else if (now - deadline > 0) {
                return false;
            }
            n.wake();
            LockSupport.parkNanos(50_000);
        }
        UdpSendMsg.write(n.appRingSegment(), index, srcAddr, port, dstPort, dstAddr, buf, off, len);
        n.appRing().commit(index);
        n.wake();
        return true;
    }

    /**
     * Sends {@code buf[off, off+len)} to {@code dst}, as {@link #send(byte[], int, int, int, int)}
     * (the int form, which a sender in a loop uses to allocate nothing; {@link UdpPeer} holds a
     * received datagram's sender in that form).
     *
     * @param buf the payload's bytes
     * @param off the payload's first byte in {@code buf}
     * @param len the payload's length in bytes
     * @param dst the destination
     * @return false if the owning core's application ring stayed full for 100 ms
     * @throws IllegalArgumentException "IPv4 only: ..." for an IPv6 address, an unresolved
     *     address, port 0, or a payload over {@link #MAX_PAYLOAD}
     * @throws StackException if the socket or the stack is closed
     */
    public boolean send(byte[] buf, int off, int len, InetSocketAddress dst) {
        return send(buf, off, len, Ipv4.of(dst), dst.getPort());
    }

    /** Unbinds the port on every core, then frees the rings. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        unbind.accept(this);
        reader.close();
    }

    @Override
    public String toString() {
        return "udp " + Ipv4.toString(stack.config().address) + ":" + port;
    }
}
