package io.flowstack.core.socket;

import io.flowstack.core.netisr.SocketHost;
import java.util.function.Consumer;
import io.flowstack.core.ip.IcmpLayer;
import io.flowstack.core.flow.IndirectionTable;
import io.flowstack.core.netisr.Netisr;
import io.flowstack.core.netisr.Rings;
import io.flowstack.core.wire.Bytes;
import io.flowstack.core.wire.Icmp;
import io.flowstack.core.wire.Ipv4;
import io.flowstack.core.wire.msg.EchoErrorMsg;
import io.flowstack.core.wire.msg.EchoReplyMsg;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.net.InetAddress;
import java.util.concurrent.TimeUnit;
import org.agrona.concurrent.ringbuffer.OneToOneRingBuffer;

/**
 * An ICMP echo client (what {@code ping} needs, RFC 792): sends echo requests with its own
 * identifier and receives the matching echo replies, and the ICMP errors that quote its
 * requests, with the time each arrived. Open with {@link io.flowstack.core.FlowStack#icmpEchoOpen()}.
 *
 * <h2>Where the flow lives</h2>
 * An echo exchange with {@code dst} is "other IPv4" for the flow hash (DESIGN.md): it hashes
 * (our address, {@code dst}) symmetrically, so the request is built and sent by the core that
 * owns that pair, and the reply (also a reassembled one, and an ICMP error quoting the request,
 * which is hashed by its quoted header) is processed by that same core, whichever queue it came
 * in on. The identifier does not take part in the hash.
 *
 * <h2>Threads</h2>
 * Receiving works like {@link UdpSocket}: the identifier is bound on every core, and each core
 * delivers into its own SPSC ring of this socket (producer: that core's netisr, which copies the
 * reply and never blocks or allocates; consumer: the one application thread in
 * {@link #receive}), so no ring has two producers and nothing on the netisr takes a lock. A reply
 * that finds its ring full is dropped and counted ({@link #ringFull()}). Sending hands a small
 * command to the owning core's control queue (any thread); the netisr writes the request with its
 * own clock reading as the timestamp (protocol code never reads the clock itself).
 *
 * <h2>Data and timing</h2>
 * The request data is {@code dataLen} bytes: the owning netisr's time of sending (its
 * {@code now}, nanoseconds) as 8 big-endian bytes, then byte {@code i} = {@code i & 0xFF}
 * ({@link #expectedByte}); RFC 792 requires the reply to return the data unchanged. A reply
 * carries the netisr's time of reception, so {@link Reply#rttNanos()} is measured on the stack's
 * own clock, between the two netisr passes, without the application's wake-up latency (like
 * kernel timestamps for Linux ping). With {@code dataLen < 8} there is no timestamp and no RTT.
 */
public final class IcmpEchoSocket implements AutoCloseable {
    /** Largest echo data over IPv4: 65535 - 20 (IP) - 8 (ICMP). */
    public static final int MAX_DATA = Ipv4.MAX_DATAGRAM - Ipv4.MIN_HEADER - Icmp.HEADER_LEN;
    /** Bytes of the timestamp at the start of the data. */
    public static final int STAMP_BYTES = 8;

    private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);

    private final SocketHost stack;
    private final Consumer<IcmpEchoSocket> unbind;
    private final int id;
    private final int local;
    private final Rings.Ring<OneToOneRingBuffer>[] rx;
    private final PerCoreRingReader reader;
    /** The netisrs' side of this client: replies and errors into {@code rx[core]} by netisr-core only. */
    private final IcmpLayer.EchoReceiver receiver = new IcmpLayer.EchoReceiver() {
        @Override
        public boolean echoReply(int core, int src, int ttl, int seq, MemorySegment s, long dataOff, int dataLen,
                                 long now) {
            return IcmpEchoSocket.this.echoReply(core, src, ttl, seq, s, dataOff, dataLen, now);
        }

        @Override
        public boolean echoError(int core, int from, int type, int code, int dst, int seq, long now) {
            return IcmpEchoSocket.this.echoError(core, from, type, code, dst, seq, now);
        }
    };
    /** Per core, written only by that core's netisr: replies dropped because its ring was full. */
    private final long[] ringFull;
    private volatile boolean closed;

    // receive-call state, used only by the (single) receiving thread
    private Reply into;

    /** One received reply or error; filled in by {@link #receive}, reused by the caller. */
    public static final class Reply {
        /** An empty reply, filled by each {@link IcmpEchoSocket#receive} it is given to (reuse it). */
        public Reply() {}

        /** True for an echo reply, false for an ICMP error about one of our requests. */
        public boolean isReply;
        /** The reply's source, or the sender of the error (e.g. a router). */
        public int from;
        /** Sequence number of the request answered (or quoted by the error). */
        public int seq;
        /** Reply: the IPv4 TTL it arrived with. */
        public int ttl;
        /** Reply: bytes of echo data (the ICMP message is 8 bytes more). */
        public int dataLen;
        /** Reply: the netisr time of sending found in the data, if {@code dataLen >= 8}. */
        public long sentAt;
        /** The netisr time at which the reply or error was received. */
        public long receivedAt;
        /**
         * Reply: index of the first data byte (after the timestamp) that differs from what was
         * sent, or -1 if all are right.
         */
        public int badByte;
        /** Reply: the wrong byte's value (if {@code badByte >= 0}). */
        public int badValue;
        /** Error: ICMP type and code (RFC 792), and the destination of the quoted request. */
        public int type;
        /** Error: the ICMP code, whose meaning depends on {@link #type}. */
        public int code;
        /** Error: the destination of the quoted request, an IPv4 address as a big-endian int. */
        public int errorDst;

        /**
         * Whether the reply carries a timestamp (the RTT is known).
         *
         * @return true for a reply with {@code dataLen >= 8}
         */
        public boolean hasRtt() {
            return isReply && dataLen >= STAMP_BYTES;
        }

        /**
         * Round-trip time on the stack's clock (replies with {@code dataLen >= 8}).
         *
         * @return {@code receivedAt - sentAt}, in nanoseconds
         */
        public long rttNanos() {
            return receivedAt - sentAt;
        }

        /**
         * {@link #from} as an address: the reply's source, or the sender of the error.
         *
         * @return the address
         */
        public InetAddress fromAddress() {
            return Ipv4.toInetAddress(from);
        }

        /**
         * Error: {@link #errorDst}, the destination of the quoted request, as an address.
         *
         * @return the address
         */
        public InetAddress errorDestination() {
            return Ipv4.toInetAddress(errorDst);
        }
    }

    /**
     * Called by {@link io.flowstack.core.FlowStack#icmpEchoOpen()}; binds nothing yet.
     *
     * @param stack the stack
     * @param id the echo identifier, 0..65535
     * @param cores the number of cores, one receive ring each
     * @param ringBytes the capacity of each receive ring, in bytes (a power of two)
     * @param unbind called by {@link #close()} to remove the identifier from every core
     */
    public IcmpEchoSocket(SocketHost stack, int id, int cores, int ringBytes, Consumer<IcmpEchoSocket> unbind) {
        this.unbind = unbind;
        this.stack = stack;
        this.id = id;
        this.local = stack.config().address;
        this.ringFull = new long[cores];
        this.reader = new PerCoreRingReader("ICMP echo socket " + id, cores, ringBytes, true, this::onMessage);
        this.rx = reader.rings();
    }

    /**
     * The echo identifier of this socket (RFC 792).
     *
     * @return the identifier, 0..65535
     */
    public int id() {
        return id;
    }

    /**
     * The byte of echo data at {@code i >= 8} (after the timestamp).
     *
     * @param i the offset in the echo data
     * @return {@code i & 0xFF}
     */
    public static int expectedByte(int i) {
        return i & 0xFF;
    }

    /**
     * The core that owns the echo flow with {@code dst}.
     *
     * @param dst the peer's IPv4 address, as a big-endian int
     * @return the core number
     */
    public int coreFor(int dst) {
        IndirectionTable t = stack.table();
        return t.core(t.hash().hash2(local, dst));
    }

    // ------------------------------------------------------------------ netisr side

    /**
     * Stack internal: what the ICMP layer of every core delivers replies and errors into (this
     * client's rings). Its type is not exported, so only the stack binds it.
     *
     * @return the receiver the stack binds on every core
     */
    public IcmpLayer.EchoReceiver receiver() {
        return receiver;
    }

    /**
     * Netisr of core {@code core} only: queues an echo reply to this client's identifier.
     *
     * @param core the calling netisr's core
     * @param src the reply's source address
     * @param ttl the reply's IPv4 time to live
     * @param seq the sequence number
     * @param s the memory holding the reply
     * @param dataOff offset of the echo data (after the 8-byte ICMP header) in {@code s}
     * @param dataLen the length of the echo data
     * @param now the netisr's time when the reply was received
     * @return false if this core's ring is full (the reply is dropped and counted in
     *     {@link #ringFull()})
     */
    private boolean echoReply(int core, int src, int ttl, int seq, MemorySegment s, long dataOff, int dataLen,
                             long now) {
        Rings.Ring<OneToOneRingBuffer> r = rx[core];
        int len = EchoReplyMsg.length(dataLen);
        int index = len <= r.ring().maxMsgLength() ? r.ring().tryClaim(EchoReplyMsg.TYPE, len) : -1;
        if (index < 0) {
            LONGS.setOpaque(ringFull, core, ringFull[core] + 1);
            return false;
        }
        EchoReplyMsg.write(r.segment(), index, src, ttl, seq, now, s, dataOff, dataLen);
        r.ring().commit(index);
        wakeReceiver();
        return true;
    }

    /**
     * Netisr of core {@code core} only: queues an ICMP error that quotes one of this client's
     * requests.
     *
     * @param core the calling netisr's core
     * @param from the error's sender (e.g. a router)
     * @param type the ICMP type
     * @param code the ICMP code
     * @param dst the destination of the quoted request
     * @param seq the quoted request's sequence number
     * @param now the netisr's time when the error was received
     * @return false if this core's ring is full (the error is dropped and counted in
     *     {@link #ringFull()})
     */
    private boolean echoError(int core, int from, int type, int code, int dst, int seq, long now) {
        Rings.Ring<OneToOneRingBuffer> r = rx[core];
        int index = r.ring().tryClaim(EchoErrorMsg.TYPE, EchoErrorMsg.LENGTH);
        if (index < 0) {
            LONGS.setOpaque(ringFull, core, ringFull[core] + 1);
            return false;
        }
        EchoErrorMsg.write(r.segment(), index, from, dst, type, code, seq, now);
        r.ring().commit(index);
        wakeReceiver();
        return true;
    }

    private void wakeReceiver() {
        reader.wakeReceiver();
    }

    // ------------------------------------------------------------------ application side

    /**
     * Sends an echo request to {@code dst} with sequence number {@code seq} and {@code dataLen}
     * bytes of data from the core that owns the flow. Returns at once; the request leaves when
     * that core runs the command (and, the first time, when ARP has resolved the next hop).
     *
     * @param dst the destination IPv4 address, as a big-endian int
     * @param seq the sequence number, 0..65535
     * @param dataLen the bytes of echo data, 0 to {@link #MAX_DATA}
     * @return false if the core's command queue was full (the request was not sent)
     * @throws IllegalArgumentException for a bad size or sequence number
     * @throws StackException if the socket or the stack is closed
     */
    public boolean send(int dst, int seq, int dataLen) {
        if (dataLen < 0 || dataLen > MAX_DATA) {
            throw new IllegalArgumentException("echo data of " + dataLen + " bytes: must be 0.." + MAX_DATA);
        }
        if (seq < 0 || seq > 0xFFFF) {
            throw new IllegalArgumentException("echo sequence number must be 0..65535, got " + seq);
        }
        if (closed || !stack.running()) {
            throw new StackException("ICMP echo socket " + id + " is closed");
        }
        Netisr n = stack.netisr(coreFor(dst));
        final int ident = id;
        // a control command (allocated here, on the application thread): the netisr only runs it
        return n.submit(c -> c.icmp().sendEcho(dst, ident, seq, dataLen, c.now()));
    }

    /**
     * Sends an echo request to {@code dst}, as {@link #send(int, int, int)} (the int form, which
     * a ping loop uses to allocate nothing but the command).
     *
     * @param dst the destination
     * @param seq the echo sequence number, 0..65535
     * @param dataLen bytes of echo data after the header
     * @return false if the core's command queue was full (the request was not sent)
     * @throws IllegalArgumentException "IPv4 only: ..." for an IPv6 address, or a bad size or
     *     sequence number
     * @throws StackException if the socket or the stack is closed
     */
    public boolean send(InetAddress dst, int seq, int dataLen) {
        return send(Ipv4.of(dst), seq, dataLen);
    }

    /**
     * Receives the next reply or error into {@code reply}.
     *
     * @param reply the holder to fill in
     * @param timeout how long to wait; 0 returns at once
     * @param unit the unit of {@code timeout}
     * @return true if one was received; false on timeout, after {@link #wakeup()}, or if the
     *     calling thread is interrupted (its interrupt status stays set)
     * @throws StackException if the socket is closed
     * @throws IllegalStateException if another thread is receiving on the socket
     */
    public boolean receive(Reply reply, long timeout, TimeUnit unit) {
        reader.enter();
        try {
            this.into = reply;
            return reader.await(unit.toNanos(timeout));
        } finally {
            this.into = null;
            reader.exit();
        }
    }

    private void onMessage(int type, MemorySegment m, int index, int length) {
        Reply r = into;
        if (type == EchoErrorMsg.TYPE) {
            r.isReply = false;
            r.from = EchoErrorMsg.from(m, index);
            r.errorDst = EchoErrorMsg.dst(m, index);
            r.type = EchoErrorMsg.icmpType(m, index);
            r.code = EchoErrorMsg.icmpCode(m, index);
            r.seq = EchoErrorMsg.seq(m, index);
            r.receivedAt = EchoErrorMsg.receivedAt(m, index);
            r.ttl = 0;
            r.dataLen = 0;
            r.sentAt = 0;
            r.badByte = -1;
            return;
        }
        r.isReply = true;
        r.from = EchoReplyMsg.src(m, index);
        r.ttl = EchoReplyMsg.ttl(m, index);
        r.seq = EchoReplyMsg.seq(m, index);
        r.receivedAt = EchoReplyMsg.receivedAt(m, index);
        r.type = 0;
        r.code = 0;
        r.errorDst = 0;
        int dataLen = EchoReplyMsg.dataLength(length);
        long data = index + EchoReplyMsg.DATA;
        r.dataLen = dataLen;
        long stamp = 0;
        for (int i = 0; i < Math.min(STAMP_BYTES, dataLen); i++) {
            stamp = (stamp << 8) | Bytes.u8(m, data + i);
        }
        r.sentAt = stamp;
        r.badByte = -1;
        for (int i = STAMP_BYTES; i < dataLen; i++) {
            int b = Bytes.u8(m, data + i);
            if (b != expectedByte(i)) {
                r.badByte = i;
                r.badValue = b;
                break;
            }
        }
    }

    /**
     * Makes a {@link #receive} that waits (or the next one to wait) return false at once, like
     * {@code Selector.wakeup()}; any thread (e.g. a signal handler).
     */
    public void wakeup() {
        reader.wakeup();
    }

    /**
     * Replies and errors dropped because a core found this socket's ring full.
     *
     * @return the count over all cores since the socket opened; any thread
     */
    public long ringFull() {
        long sum = 0;
        for (int i = 0; i < ringFull.length; i++) {
            sum += (long) LONGS.getOpaque(ringFull, i);
        }
        return sum;
    }

    /** Unbinds the identifier on every core, then frees the rings; idempotent. */
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
        return "icmp echo " + Ipv4.toString(local) + " id " + id;
    }
}
