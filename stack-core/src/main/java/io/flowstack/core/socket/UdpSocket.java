package io.flowstack.core.socket;

import io.flowstack.core.FlowStack;
import io.flowstack.core.netisr.Netisr;
import io.flowstack.core.netisr.Rings;
import io.flowstack.core.udp.UdpLayer;
import io.flowstack.core.wire.Bytes;
import io.flowstack.core.wire.Ipv4;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
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
public final class UdpSocket implements AutoCloseable, UdpLayer.UdpReceiver {
    /** Largest UDP payload over IPv4: 65535 - 20 - 8 (RFC 768, RFC 791). */
    public static final int MAX_PAYLOAD = 65507;
    private static final int HDR = 8; // [src:int][sport:u16][dport:u16]
    private static final int MSG_DATAGRAM = 1;
    private static final int MSG_ERROR = 2; // [dst:int][dport:u16][type:u8][code:u8]

    private final FlowStack stack;
    private final int port;
    private final Rings.Ring<OneToOneRingBuffer>[] rx;
    private final PerCoreRingReader reader;
    private volatile boolean closed;

    // receive-call state, used only by the (single) receiving thread
    private byte[] dst;
    private int dstOff;
    private int dstMax;
    private UdpPeer from;
    private int got;
    private UdpIcmpError error;

    public UdpSocket(FlowStack stack, int port, int cores, int ringBytes) {
        this.stack = stack;
        this.port = port;
        this.reader = new PerCoreRingReader("UDP socket on port " + port, cores, ringBytes, false,
                (type, seg, index, length) -> {
                    if (type == MSG_ERROR) {
                        onError(seg, index);
                    } else {
                        onMessage(seg, index, length);
                    }
                });
        this.rx = reader.rings();
    }

    public int port() {
        return port;
    }

    // ------------------------------------------------------------------ netisr side

    /** Called by core {@code core}'s netisr only (the single producer of {@code rx[core]}). */
    @Override
    public boolean deliver(int core, int src, int srcPort, int dstPort, MemorySegment s, long off, int len) {
        stack.netisr(core).checkOwner(); // rx[core] is SPSC: its one producer is netisr-core
        Rings.Ring<OneToOneRingBuffer> r = rx[core];
        int index = r.ring().tryClaim(MSG_DATAGRAM, HDR + len);
        if (index < 0) {
            return false;
        }
        MemorySegment m = r.segment();
        Bytes.i32(m, index, src);
        Bytes.u16(m, index + 4, srcPort);
        Bytes.u16(m, index + 6, dstPort);
        MemorySegment.copy(s, off, m, index + HDR, len);
        r.ring().commit(index);
        wakeReceiver();
        return true;
    }

    /** Unparks the receiving thread, if one waits, after a commit. */
    private void wakeReceiver() {
        reader.wakeReceiver();
    }

    /** An ICMP error about a datagram sent to {@code dst:dstPort}, queued in order with the datagrams. */
    @Override
    public boolean deliverError(int core, int dst, int dstPort, int type, int code) {
        stack.netisr(core).checkOwner();
        Rings.Ring<OneToOneRingBuffer> r = rx[core];
        int index = r.ring().tryClaim(MSG_ERROR, 8);
        if (index < 0) {
            return false;
        }
        MemorySegment m = r.segment();
        Bytes.i32(m, index, dst);
        Bytes.u16(m, index + 4, dstPort);
        m.set(ValueLayout.JAVA_BYTE, index + 6, (byte) type);
        m.set(ValueLayout.JAVA_BYTE, index + 7, (byte) code);
        r.ring().commit(index);
        wakeReceiver();
        return true;
    }

    // ------------------------------------------------------------------ application side

    /**
     * Receives one datagram into {@code buf[off, off+max)}; a longer datagram is truncated (like
     * recvfrom without MSG_TRUNC) but its full length is returned.
     *
     * @param from    filled in with the sender (may be null)
     * @param timeout how long to wait; 0 returns at once
     * @return the datagram's length, or -1 if none arrived in time
     * @throws UdpIcmpError when the next thing in the socket's queue is an ICMP error about a
     *     datagram it sent (RFC 1122 4.1.3.3: e.g. port unreachable); the datagrams after it are
     *     received by the next calls
     * @throws StackException if the socket or the stack is closed
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
        error = new UdpIcmpError(port, Bytes.i32(m, index), Bytes.u16(m, index + 4),
                Bytes.u8(m, index + 6), Bytes.u8(m, index + 7));
        got = -2;
    }

    private UdpIcmpError takeError() {
        UdpIcmpError e = error;
        error = null;
        return e;
    }

    private void onMessage(MemorySegment m, int index, int length) {
        int len = length - HDR;
        if (from != null) {
            from.address = Bytes.i32(m, index);
            from.port = Bytes.u16(m, index + 4);
        }
        MemorySegment.copy(m, ValueLayout.JAVA_BYTE, index + HDR, dst, dstOff, Math.min(len, dstMax));
        got = len;
    }

    /**
     * Sends {@code buf[off, off+len)} to {@code dstAddr:dstPort}.
     *
     * @return false if the owning core's application ring stayed full for 100 ms (the datagram
     *     was not queued)
     * @throws IllegalArgumentException if the payload exceeds {@link #MAX_PAYLOAD}
     * @throws StackException if the socket or the stack is closed
     */
    public boolean send(byte[] buf, int off, int len, int dstAddr, int dstPort) {
        if (len < 0 || len > MAX_PAYLOAD) {
            throw new IllegalArgumentException("UDP payload of " + len + " bytes: must be 0.." + MAX_PAYLOAD);
        }
        if (dstPort <= 0 || dstPort > 65535) {
            throw new IllegalArgumentException("destination port must be 1..65535, got " + dstPort);
        }
        if (closed) {
            throw new StackException("UDP socket on port " + port + " is closed");
        }
        Netisr n = stack.netisr(stack.coreFor(stack.config().address, dstAddr, port, dstPort));
        long deadline = 0;
        int index;
        while ((index = n.appRing().tryClaim(Netisr.MSG_UDP_SEND, 8 + len)) < 0) {
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
        MemorySegment m = n.appRingSegment();
        Bytes.u16(m, index, port);
        Bytes.u16(m, index + 2, dstPort);
        Bytes.i32(m, index + 4, dstAddr);
        MemorySegment.copy(buf, off, m, ValueLayout.JAVA_BYTE, index + 8, len);
        n.appRing().commit(index);
        n.wake();
        return true;
    }

    /** Unbinds the port on every core, then frees the rings. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        stack.unbindUdp(this);
        reader.close();
    }

    /** Frees a socket that never got bound (port taken). */
    public void closeUnbound() {
        closed = true;
        reader.close();
    }

    @Override
    public String toString() {
        return "udp " + Ipv4.toString(stack.config().address) + ":" + port;
    }
}
