package io.flowstack.core.tcp;

import io.flowstack.core.stats.TcpConnectionInfo;
import io.flowstack.core.config.StackConfig;
import io.flowstack.core.flow.FlowHash;
import io.flowstack.core.flow.IndirectionTable;
import io.flowstack.core.netisr.Netisr;
import io.flowstack.core.stats.Stat;
import io.flowstack.core.socket.ByteRing;
import io.flowstack.core.socket.RingPool;
import io.flowstack.core.socket.TcpChannel;
import io.flowstack.core.socket.TcpConnection;
import io.flowstack.core.socket.TcpHandler;
import io.flowstack.core.socket.TcpSocketOptions;
import io.flowstack.core.socket.TcpStream;
import io.flowstack.core.wire.Bytes;
import io.flowstack.core.wire.Ipv4;
import io.flowstack.core.wire.Tcp;
import io.flowstack.core.wire.TcpOptions;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.agrona.collections.Int2IntHashMap;
import org.agrona.collections.Int2ObjectHashMap;
import org.agrona.collections.Long2ObjectHashMap;
import org.agrona.DeadlineTimerWheel;

/**
 * TCP (RFC 9293) for one core: the PCB hash of the connections whose 4-tuple hashes here, this
 * core's replica of the listeners, the timer wheel, segment input and output.
 *
 * <p>Owned by: its netisr thread. No locks: the only ways in are {@link #input} (frames for
 * this core), {@link #doorbell} (an application touched a connection's rings) and the
 * command methods run by the netisr on behalf of socket calls.
 */
public final class TcpLayer {
    /** RFC 9293 3.7.1 / RFC 1122 4.2.2.6: default send MSS when the peer gives none. */
    static final int DEFAULT_MSS = 536;
    /** RFC 7323 2.3: the largest shift. */
    static final int MAX_WSCALE = 14;
    /** RFC 7323 5.5: a tsRecent idle longer than 24 days is invalid for PAWS. */
    static final long PAWS_IDLE_NANOS = TimeUnit.DAYS.toNanos(24);
    private static final long TICK = 1L << 20; // ~1 ms timer wheel resolution

    private final Netisr n;
    private final StackConfig cfg;
    private final Isn isn;
    private final Long2ObjectHashMap<Tcb> pcbs = new Long2ObjectHashMap<>();
    private final Int2ObjectHashMap<Tcb> byId = new Int2ObjectHashMap<>();
    private final Int2ObjectHashMap<TcpListenerState> listeners = new Int2ObjectHashMap<>();
    private final Long2ObjectHashMap<Tcb> byTimer = new Long2ObjectHashMap<>();
    private final DeadlineTimerWheel wheel;
    private final TcpOptions opts = new TcpOptions();
    private final List<Tcb> expired = new ArrayList<>();
    private final ArrayList<Tcb> dirty = new ArrayList<>(256);
    private final DeadlineTimerWheel.TimerHandler timerHandler = this::onTimer;
    private int nextId;
    private long challengeWindowStart;
    private int challengeAcks;
    private final int maxConnectionsPerCore;
    private final RingPool rings;
    private final long memoryBudget;
    /** Connections that moved away with their bucket: id to new core, for late doorbells (two generations). */
    private Int2IntHashMap movedTo = new Int2IntHashMap(-1);
    private Int2IntHashMap movedToOld = new Int2IntHashMap(-1);
    private long movedRotateAt;
    private static final long MOVED_GENERATION_NANOS = TimeUnit.SECONDS.toNanos(30);
    /** Linux's net.ipv4.tcp_invalid_ratelimit default: replies to unacceptable bare ACKs. */
    static final long OOW_ACK_INTERVAL_NANOS = TimeUnit.MILLISECONDS.toNanos(500);

    public TcpLayer(Netisr netisr, Isn isn) {
        this.n = netisr;
        this.cfg = netisr.config();
        this.isn = isn;
        this.wheel = new DeadlineTimerWheel(TimeUnit.NANOSECONDS, netisr.now(), TICK, 1024);
        // ids are unique across cores (id = k * cores + core + 1), so a connection keeps its id when it moves
        this.nextId = netisr.core() + 1;
        this.maxConnectionsPerCore = Math.max(1, cfg.tcpMaxConnections / cfg.cores);
        // The budget never exceeds what the JVM will let arenas allocate (a quarter of that is
        // left to NIC buffers and rings): past it the stack refuses connections cleanly instead
        // of failing allocations.
        this.memoryBudget = Math.min(cfg.tcpMemoryBytes, RingPool.directMemoryLimit() / 4 * 3);
        this.rings = new RingPool(memoryBudget / cfg.cores, netisr.ownership());
    }

    /** Connections on this core (any state but LISTEN). */
    public int connections() {
        n.checkOwner();
        return pcbs.size();
    }

    /** The congestion control algorithm of a connection, or null if there is none. */
    public String congestionControlOf(int remoteAddr, int remotePort, int localPort) {
        n.checkOwner();
        Tcb t = pcbs.get(Tcb.key(remoteAddr, remotePort, localPort));
        return t == null ? null : t.cc.name();
    }

    /** Visits every connection of this core (stats). */
    public void forEach(java.util.function.Consumer<Tcb> visitor) {
        n.checkOwner();
        for (Tcb t : pcbs.values()) {
            visitor.accept(t);
        }
    }

    private int mtuMss() {
        return n.mtu() - Ipv4.MIN_HEADER - Tcp.MIN_HEADER;
    }

    // ================================================================== listen / connect commands

    public void listen(TcpListenerState l) {
        n.checkOwner();
        listeners.put(l.port, l);
    }

    public void unlisten(int port) {
        n.checkOwner();
        listeners.remove(port);
    }

    /**
     * Active open (RFC 9293 3.10.1 OPEN call, active): creates the TCB in SYN-SENT and sends SYN.
     *
     * @return the stream, or null if the 4-tuple is in use on this core
     */
    public TcpStream connect(int remoteAddr, int remotePort, int localPort, boolean nodelay, String congestion) {
        TcpSocketOptions o = TcpSocketOptions.defaults(cfg).withNoDelay(nodelay);
        return connect(remoteAddr, remotePort, localPort, congestion != null ? o.withCongestionControl(congestion) : o);
    }

    /**
     * Active open with per-socket options.
     *
     * @return the stream, or null if the 4-tuple is in use on this core; throws
     *     {@link io.flowstack.core.socket.StackException} when a stack limit refuses it
     */
    public TcpStream connect(int remoteAddr, int remotePort, int localPort, TcpSocketOptions o) {
        return connect(remoteAddr, remotePort, localPort, o, null);
    }

    /** Active open whose events go to {@code handler} on this netisr (null: blocking API). */
    public TcpStream connect(int remoteAddr, int remotePort, int localPort, TcpSocketOptions o, TcpHandler handler) {
        n.checkOwner();
        long key = Tcb.key(remoteAddr, remotePort, localPort);
        if (pcbs.containsKey(key) || listeners.containsKey(localPort)) {
            return null;
        }
        if (n.table().core(FlowHash.hash4(cfg.address, remoteAddr, localPort, remotePort)) != n.core()) {
            return null; // the tuple's bucket is not (or no longer) on this core: the caller tries another port
        }
        if (pcbs.size() >= maxConnectionsPerCore) {
            n.counters().inc(Stat.TCP_TOO_MANY_CONNECTIONS);
            throw new io.flowstack.core.socket.StackException("connection limit reached ("
                    + cfg.tcpMaxConnections + " per stack): close connections or raise the limit");
        }
        Tcb t = newTcb(localPort, remoteAddr, remotePort);
        t.stream = chargeMemory(o.memoryBytes()) ? newStream(t.id, o) : null;
        if (t.stream == null) {
            drop(t);
            throw new io.flowstack.core.socket.StackException("TCP buffer memory budget reached ("
                    + memoryBudget + " bytes per stack): close connections, use smaller buffers or raise the budget");
        }
        applyOptions(t, o);
        t.handler = handler;
        t.iss = isn.isn(cfg.address, localPort, remoteAddr, remotePort, n.now());
        t.sndUna = t.iss;
        t.sndNxt = t.iss;
        t.sndMax = t.iss;
        t.sndUnaPos = -1;
        t.recover = t.iss;
        t.sndSml = t.iss;
        t.rcvWscale = wscaleFor(o.receiveBufferBytes());
        t.state = Tcb.SYN_SENT;
        n.counters().inc(Stat.TCP_ACTIVE_OPENS);
        t.opened = true;
        sendSyn(t);
        return t.stream;
    }

    private void applyOptions(Tcb t, TcpSocketOptions o) {
        t.options = o;
        t.nodelay = o.noDelay();
        t.keepAlive = o.keepAlive();
        t.cc = CongestionControl.of(o.congestionControl());
    }

    /** Per-core share of the stack's TCP buffer budget; false when it would be exceeded. */
    private boolean chargeMemory(long bytes) {
        if (!rings.canLend(bytes)) {
            n.counters().inc(Stat.TCP_MEMORY_LIMIT);
            return false;
        }
        return true;
    }

    /** A stream for connection {@code id} with rings from the pool; null if the JVM refused the memory. */
    private TcpStream newStream(int id, TcpSocketOptions o) {
        ByteRing send = rings.take(o.sendBufferBytes());
        ByteRing recv = send == null ? null : rings.take(o.receiveBufferBytes());
        if (recv == null) {
            if (send != null) {
                rings.give(send);
            }
            n.counters().inc(Stat.TCP_MEMORY_LIMIT);
            return null;
        }
        return new TcpStream(n, id, send, recv);
    }

    /** TCP ring bytes lent to connections on this core. */
    public long memoryUsed() {
        n.checkOwner();
        return rings.lent();
    }

    /** TCP ring bytes this core has allocated (lent or idle in its pool): the pool's high-water mark. */
    public long memoryAllocated() {
        n.checkOwner();
        return rings.allocated();
    }

    /**
     * Returns a finished, application-closed stream's rings to the pool (once) and detaches them
     * from its control block (which may live on in TIME_WAIT), so nothing of the old connection
     * can reach a ring that now serves another one.
     */
    public void releaseStream(TcpStream st) {
        n.checkOwner();
        if (st != null && st.owner() != n) {
            st.owner().submit(other -> other.tcp().releaseStream(st)); // it moved with its bucket
            return;
        }
        if (st != null && !st.ringsReturned) {
            st.ringsReturned = true;
            Tcb t = byId.get(st.id());
            if (t != null && t.stream == st) {
                t.stream = null;
            }
            rings.give(st.send);
            rings.give(st.recv);
        }
    }

    /** The netisr is done with the rings (closed, reset, or TIME_WAIT): return them if the app is too. */
    private void maybeReturnRings(Tcb t) {
        TcpStream st = t.stream;
        if (st != null && (st.closed || t.handler != null || t.channel != null)) {
            releaseStream(st);
        }
    }

    /** Frees the pool; call after the netisr stopped. */
    public void release() {
        rings.close();
    }

    private Tcb newTcb(int localPort, int remoteAddr, int remotePort) {
        int id = nextId;
        nextId += cfg.cores;
        if (nextId <= 0) {
            nextId = n.core() + 1;
        }
        Tcb t = new Tcb(id, localPort, remoteAddr, remotePort);
        t.mss = DEFAULT_MSS;
        t.rto = cfg.tcpRtoInitialNanos;
        t.ssthresh = Integer.MAX_VALUE / 2;
        t.lastActivityNanos = n.now();
        pcbs.put(t.key, t);
        byId.put(id, t);
        return t;
    }

    /** RFC 7323 2.2: the smallest shift that lets the window cover the whole buffer. */
    private static int wscaleFor(int buffer) {
        int s = 0;
        while (s < MAX_WSCALE && (65535L << s) < buffer) {
            s++;
        }
        return s;
    }

    // ================================================================== input

    /** TCP input for a validated datagram owned by this core ({@code len} = IP total length). */
    public void input(MemorySegment s, long off, int len, boolean broadcast) {
        n.checkOwner();
        n.counters().inc(Stat.TCP_IN);
        int hl = Ipv4.headerLength(s, off);
        long th = off + hl;
        int tlen = len - hl;
        if (tlen < Tcp.MIN_HEADER) {
            n.counters().inc(Stat.TCP_TRUNCATED);
            return;
        }
        int doff = Tcp.headerLength(s, th);
        if (doff < Tcp.MIN_HEADER || doff > tlen) {
            n.counters().inc(Stat.TCP_BAD_OFFSET);
            return;
        }
        int src = Ipv4.src(s, off);
        int dst = Ipv4.dst(s, off);
        if (!Tcp.verifyChecksum(s, th, tlen, src, dst)) {
            n.counters().inc(Stat.TCP_BAD_CHECKSUM);
            return;
        }
        if (broadcast) {
            n.counters().inc(Stat.TCP_BROADCAST); // RFC 1122 4.2.3.10
            return;
        }
        int sport = Tcp.srcPort(s, th);
        int dport = Tcp.dstPort(s, th);
        opts.parse(s, th, doff);
        Tcb t = pcbs.get(Tcb.key(src, sport, dport));
        if (t != null && t.state == Tcb.TIME_WAIT && (Tcp.flags(s, th) & (Tcp.SYN | Tcp.ACK | Tcp.RST)) == Tcp.SYN
                && timeWaitReusable(t, Tcp.seq(s, th))) {
            // RFC 9293 3.10.7.4 / RFC 6191: a new SYN above the old RCV.NXT (or with a newer
            // timestamp) may reopen a connection in TIME-WAIT.
            n.counters().inc(Stat.TCP_TIME_WAIT_REUSE);
            drop(t);
            t = null;
        }
        if (t == null) {
            TcpListenerState l = listeners.get(dport);
            if (l != null) {
                listenInput(l, s, th, tlen, doff, src, sport, dport);
            } else {
                closedInput(s, th, tlen, doff, src, sport, dport);
            }
            return;
        }
        t.acked = false;
        segmentArrives(t, s, th, tlen, doff);
        if (t.state == Tcb.CLOSED) {
            return;
        }
        if (t.ackNow || t.acked) {
            // An ACK is due now (RFC 5681 4.2: every second segment, out of order, a filled
            // hole, a FIN) or new data was acknowledged (keep the ACK clock): output at once.
            output(t);
        } else {
            markDirty(t); // anything else (window, delayed ACK bookkeeping) waits for the rollup
        }
    }

    /**
     * DragonFly's rollup: a connection touched by input is output once at the end of the batch,
     * so a burst of segments yields one ACK decision (and one window update), not one per segment.
     */
    private void markDirty(Tcb t) {
        if (!t.dirty && t.state != Tcb.CLOSED) {
            t.dirty = true;
            dirty.add(t);
        }
    }

    /** End of a netisr batch: runs output for every connection input touched. */
    public void rollup() {
        n.checkOwner();
        for (int i = 0; i < dirty.size(); i++) {
            Tcb t = dirty.get(i);
            t.dirty = false;
            if (t.state != Tcb.CLOSED && applyAppFlags(t)) {
                output(t);
            }
        }
        dirty.clear();
    }

    /**
     * RFC 6191 2: a SYN may reopen TIME-WAIT if its timestamp is newer, or (equal timestamps, or
     * none) if its sequence number is above the old RCV.NXT (RFC 1122 4.2.2.13).
     */
    private boolean timeWaitReusable(Tcb t, int seq) {
        if (t.tsOk && opts.hasTimestamp && opts.tsVal != t.tsRecent) {
            return Seq.gt(opts.tsVal, t.tsRecent);
        }
        return Seq.gt(seq, t.rcvNxt);
    }

    /** RFC 9293 3.10.7.1: CLOSED (no TCB): answer everything but a RST with a RST. */
    private void closedInput(MemorySegment s, long th, int tlen, int doff, int src, int sport, int dport) {
        int flags = Tcp.flags(s, th);
        n.counters().inc(Stat.TCP_NO_SOCKET);
        if ((flags & Tcp.RST) != 0) {
            return;
        }
        sendResetFor(s, th, tlen, doff, src, sport, dport);
    }

    private void sendResetFor(MemorySegment s, long th, int tlen, int doff, int src, int sport, int dport) {
        int flags = Tcp.flags(s, th);
        int segLen = tlen - doff + ((flags & Tcp.SYN) != 0 ? 1 : 0) + ((flags & Tcp.FIN) != 0 ? 1 : 0);
        if ((flags & Tcp.ACK) != 0) {
            sendRaw(dport, src, sport, Tcp.ack(s, th), 0, Tcp.RST, 0); // <SEQ=SEG.ACK><CTL=RST>
        } else {
            sendRaw(dport, src, sport, 0, Tcp.seq(s, th) + segLen, Tcp.RST | Tcp.ACK, 0);
        }
        n.counters().inc(Stat.TCP_RST_OUT);
    }

    /** RFC 9293 3.10.7.2: LISTEN. */
    private void listenInput(TcpListenerState l, MemorySegment s, long th, int tlen, int doff, int src,
                             int sport, int dport) {
        int flags = Tcp.flags(s, th);
        if ((flags & Tcp.RST) != 0) {
            return;
        }
        if ((flags & Tcp.ACK) != 0) {
            if ((flags & Tcp.SYN) == 0 && cfg.tcpSynCookies && cookieAck(l, s, th, tlen, doff, src, sport, dport)) {
                return;
            }
            sendResetFor(s, th, tlen, doff, src, sport, dport);
            return;
        }
        if ((flags & Tcp.SYN) == 0) {
            return;
        }
        if (l.listener.closed()) {
            sendResetFor(s, th, tlen, doff, src, sport, dport);
            return;
        }
        int seq = Tcp.seq(s, th);
        if (l.halfOpen >= l.synBacklog || pcbs.size() >= maxConnectionsPerCore) {
            if (cfg.tcpSynCookies) {
                sendCookie(s, th, src, sport, dport, seq);
            } else {
                n.counters().inc(Stat.TCP_LISTEN_OVERFLOW);
            }
            return;
        }
        Tcb t = newTcb(dport, src, sport);
        t.listener = l;
        l.halfOpen++;
        applyOptions(t, l.options);
        t.irs = seq;
        t.rcvNxt = seq + 1;
        t.iss = isn.isn(cfg.address, dport, src, sport, n.now());
        t.sndUna = t.iss;
        t.sndNxt = t.iss;
        t.sndMax = t.iss;
        t.sndUnaPos = -1;
        t.recover = t.iss;
        t.sndSml = t.iss;
        negotiate(t, true);
        t.sndWnd = Tcp.window(s, th); // RFC 7323 2.2: the window of a SYN is never scaled
        t.maxSndWnd = Math.max(t.maxSndWnd, t.sndWnd);
        t.sndWl1 = seq;
        t.sndWl2 = t.iss;
        t.state = Tcb.SYN_RECEIVED;
        sendSyn(t);
    }

    /** Applies the options of a SYN (RFC 9293 3.7.1 MSS, RFC 7323 WS/TS, RFC 2018 SACK). */
    private void negotiate(Tcb t, boolean passive) {
        int peerMss = opts.mss > 0 ? opts.mss : DEFAULT_MSS;
        t.mss = Math.max(64, Math.min(peerMss, mtuMss()));
        if (opts.wscale >= 0 && (passive || t.rcvWscale >= 0)) {
            t.wscaleOk = true;
            t.sndWscale = opts.wscale;
            if (passive) {
                t.rcvWscale = wscaleFor(t.options.receiveBufferBytes());
            }
        } else {
            t.wscaleOk = false;
            t.sndWscale = 0;
            t.rcvWscale = 0;
        }
        t.sackOk = opts.sackPermitted;
        if (opts.hasTimestamp) {
            t.tsOk = true;
            t.tsRecent = opts.tsVal;
            t.tsRecentAgeNanos = n.now();
        } else {
            t.tsOk = false;
        }
        // RFC 5681 3.1 / RFC 6928: initial window of 10 segments.
        t.cwnd = Math.min(10 * t.mss, Math.max(2 * t.mss, 14600));
    }

    /** RFC 9293 3.10.7.3: SYN-SENT. */
    private void synSentInput(Tcb t, MemorySegment s, long th, int tlen, int doff) {
        int flags = Tcp.flags(s, th);
        int seq = Tcp.seq(s, th);
        int ack = Tcp.ack(s, th);
        boolean ackOk = false;
        if ((flags & Tcp.ACK) != 0) {
            if (Seq.le(ack, t.iss) || Seq.gt(ack, t.sndMax)) {
                if ((flags & Tcp.RST) == 0) {
                    sendRaw(t.localPort, t.remoteAddr, t.remotePort, ack, 0, Tcp.RST, 0);
                    n.counters().inc(Stat.TCP_RST_OUT);
                }
                return;
            }
            ackOk = true;
        }
        if ((flags & Tcp.RST) != 0) {
            if (ackOk) {
                abortWith(t, "connection refused");
                n.counters().inc(Stat.TCP_RST_IN);
            }
            return;
        }
        if ((flags & Tcp.SYN) == 0) {
            return;
        }
        t.irs = seq;
        t.rcvNxt = seq + 1;
        t.rcvAdv = t.rcvNxt;
        negotiate(t, false);
        if (ackOk) {
            ackAdvance(t, ack);
        }
        if (Seq.gt(t.sndUna, t.iss)) {
            t.sndWnd = Tcp.window(s, th); // unscaled in a SYN
            t.maxSndWnd = Math.max(t.maxSndWnd, t.sndWnd);
            t.sndWl1 = seq;
            t.sndWl2 = ack;
            established(t);
            t.ackNow = true;
        } else {
            // simultaneous open (RFC 9293 3.5 figure 8)
            t.state = Tcb.SYN_RECEIVED;
            t.sndWnd = Tcp.window(s, th);
            t.maxSndWnd = Math.max(t.maxSndWnd, t.sndWnd);
            t.sndWl1 = seq;
            t.sndWl2 = ack;
            t.sndNxt = t.iss;
            sendSyn(t);
        }
    }

    private void established(Tcb t) {
        t.state = Tcb.ESTABLISHED;
        t.rexmtAt = 0;
        t.backoff = 0;
        if (t.listener != null) {
            TcpListenerState l = t.listener;
            l.halfOpen--;
            t.listener = null;
            t.stream = chargeMemory(t.options.memoryBytes()) ? newStream(t.id, t.options) : null;
            if (t.stream == null) {
                reset(t);
                return;
            }
            t.stream.established = true;
            if (l.handler != null) {
                t.handler = l.handler;
                n.counters().inc(Stat.TCP_PASSIVE_OPENS);
                t.opened = true;
                openChannel(t);
                armKeepalive(t);
                scheduleTimer(t);
                return;
            }
            TcpConnection c = new TcpConnection(t.stream, cfg.address, t.localPort, t.remoteAddr, t.remotePort);
            if (!l.listener.offer(n.core(), c)) {
                n.counters().inc(Stat.TCP_LISTEN_OVERFLOW);
                t.stream.closed = true; // no application will ever see it: its rings go back now
                reset(t);
                return;
            }
            n.counters().inc(Stat.TCP_PASSIVE_OPENS);
            t.opened = true;
        } else {
            t.stream.established = true;
            t.stream.signal();
            if (t.handler != null) {
                openChannel(t);
            }
        }
        armKeepalive(t);
        scheduleTimer(t);
    }

    // ================================================================== callback API

    private final TcpChannel.Kick kick = ch -> {
        Tcb t = byId.get(ch.stream().id());
        if (t != null) {
            markDirty(t); // acted on at the rollup, never re-entering the segment being processed
        }
    };

    private void openChannel(Tcb t) {
        t.channel = new TcpChannel(t.stream, kick, t.localPort, t.remoteAddr, t.remotePort);
        try {
            t.handler.onOpen(t.channel);
        } catch (Throwable e) {
            handlerFailed(t, e);
        }
    }

    /** Offers the in-order bytes of the receive ring to the handler (the netisr consumes them). */
    private void deliverToHandler(Tcb t) {
        ByteRing r = t.stream.recv;
        for (int guard = 0; guard < 5; guard++) {
            long head = r.head();
            long tail = r.tail();
            if (t.stream.closed) {
                return;
            }
            if (tail == head) {
                if (t.peerClosedPending) {
                    t.peerClosedPending = false;
                    try {
                        t.handler.onPeerClosed(t.channel);
                    } catch (Throwable e) {
                        handlerFailed(t, e);
                    }
                }
                return;
            }
            int len = r.contiguous(head, (int) (tail - head));
            int used;
            try {
                used = t.handler.onData(t.channel, r.segment(), r.offset(head), len);
            } catch (Throwable e) {
                handlerFailed(t, e);
                return;
            }
            used = Math.max(0, Math.min(used, len));
            r.head(head + used);
            if (used < len) {
                return;
            }
        }
    }

    private void handlerFailed(Tcb t, Throwable e) {
        n.counters().inc(Stat.TCP_HANDLER_ERRORS);
        System.err.println("flowstack: TCP handler failed on " + t.channel + ": " + e);
        t.stream.abort = true;
        t.stream.closed = true;
        markDirty(t);
    }

    /** Applies what the application asked through the stream's flags (close, abort). */
    private boolean applyAppFlags(Tcb t) {
        TcpStream st = t.stream;
        if (st == null) {
            return true;
        }
        if (st.abort) {
            if (t.state != Tcb.CLOSED && t.state != Tcb.TIME_WAIT && t.state != Tcb.SYN_SENT) {
                reset(t);
            } else {
                finish(t, null);
            }
            return false;
        }
        if (st.closed && t.state == Tcb.SYN_SENT) {
            finish(t, null);
            return false;
        }
        if (st.closed && t.state == Tcb.FIN_WAIT_2 && t.timeWaitAt == 0) {
            t.timeWaitAt = n.now() + cfg.tcpTimeWaitNanos;
            scheduleTimer(t);
        }
        if (st.closed && t.state == Tcb.TIME_WAIT) {
            releaseStream(st);
        }
        return true;
    }

    /**
     * RFC 9293 3.10.7.4 "first: check sequence number", with its "special allowance" for ACKs
     * when the window is zero, as Linux applies it (tcp_sequence): a segment is acceptable if it
     * starts no later than the right edge we advertised and ends no earlier than RCV.NXT. So a
     * bare ACK sitting exactly on the right edge (a peer that filled our window, whose last
     * segments we lost) and a data segment at RCV.NXT into a zero window have their ACK field
     * processed; data beyond the window is trimmed by {@link #receiveData}. Refusing these
     * ACKs leaves a sender that filled the window unable to tell us anything.
     */
    private static boolean acceptable(Tcb t, int seq, int segLen, int rcvWnd) {
        if (segLen == 0) {
            return Seq.le(t.rcvNxt, seq) && Seq.le(seq, t.rcvNxt + rcvWnd);
        }
        if (rcvWnd == 0) {
            return seq == t.rcvNxt;
        }
        return Seq.inWindow(seq, t.rcvNxt, t.rcvNxt + rcvWnd)
                || Seq.inWindow(seq + segLen - 1, t.rcvNxt, t.rcvNxt + rcvWnd);
    }

    /** RFC 9293 3.10.7.4: every state after SYN-SENT. */
    private void segmentArrives(Tcb t, MemorySegment s, long th, int tlen, int doff) {
        t.lastActivityNanos = n.now();
        t.keepaliveProbes = 0;
        if (t.state == Tcb.SYN_SENT) {
            synSentInput(t, s, th, tlen, doff);
            return;
        }
        int flags = Tcp.flags(s, th);
        int seq = Tcp.seq(s, th);
        int dataLen = tlen - doff;
        long dataOff = th + doff;
        // RFC 7323 5.3 R1: PAWS
        if (t.tsOk && opts.hasTimestamp && (flags & Tcp.RST) == 0 && Seq.lt(opts.tsVal, t.tsRecent)
                && n.now() - t.tsRecentAgeNanos < PAWS_IDLE_NANOS) {
            n.counters().inc(Stat.TCP_PAWS_DROP);
            t.ackNow = true;
            return;
        }
        // first: check sequence number (RFC 9293 3.10.7.4 "first")
        int segLen = dataLen + ((flags & Tcp.SYN) != 0 ? 1 : 0) + ((flags & Tcp.FIN) != 0 ? 1 : 0);
        int rcvWnd = Math.max(0, t.rcvAdv - t.rcvNxt);
        boolean acceptable = acceptable(t, seq, segLen, rcvWnd);
        if ((flags & Tcp.SYN) != 0 && seq == t.irs) {
            if (t.state == Tcb.SYN_RECEIVED && (flags & Tcp.ACK) == 0) {
                // retransmitted SYN: answer with our SYN-ACK again
                t.sndNxt = t.iss;
                sendSyn(t);
                return;
            }
            // A repeated SYN (e.g. the peer's SYN-ACK in a simultaneous open, RFC 9293 figure
            // 8): trim the SYN, which lies below RCV.NXT, and process the rest (as BSD does).
            flags &= ~Tcp.SYN;
            seq++;
            segLen--;
            acceptable = acceptable(t, seq, segLen, rcvWnd);
        }
        if (!acceptable) {
            if ((flags & Tcp.RST) == 0) {
                n.counters().inc(Stat.TCP_OUT_OF_WINDOW);
                // RFC 9293 3.10.7.4: answer with an ACK; but a bare ACK answering a bare ACK is
                // how two ends that disagree about the window ping-pong forever (an ACK loop):
                // at most one such reply per 500 ms per connection, as Linux does
                // (tcp_oow_rate_limited, net.ipv4.tcp_invalid_ratelimit). Data is always answered.
                if (segLen > 0 || n.now() - t.lastOowAckAt >= OOW_ACK_INTERVAL_NANOS) {
                    t.lastOowAckAt = n.now();
                    t.ackNow = true;
                } else {
                    n.counters().inc(Stat.TCP_OOW_ACK_LIMITED);
                }
            }
            return;
        }
        // RFC 7323 4.3: record the timestamp of a segment that covers RCV.NXT (Last.ACK.sent).
        if (t.tsOk && opts.hasTimestamp && Seq.le(seq, t.lastAckSent) && Seq.ge(opts.tsVal, t.tsRecent)
                && (flags & Tcp.RST) == 0) {
            // RFC 7323 4.3 / 5.3 R3: SEG.TSval >= TS.Recent and SEG.SEQ <= Last.ACK.sent
            t.tsRecent = opts.tsVal;
            t.tsRecentAgeNanos = n.now();
        }
        // second: RST (RFC 5961 3.2)
        if ((flags & Tcp.RST) != 0) {
            if (seq == t.rcvNxt) {
                n.counters().inc(Stat.TCP_RST_IN);
                if (t.state == Tcb.SYN_RECEIVED && t.listener != null) {
                    drop(t); // passive open: back to LISTEN (RFC 9293 3.10.7.4)
                } else if (t.state == Tcb.CLOSING || t.state == Tcb.LAST_ACK || t.state == Tcb.TIME_WAIT) {
                    drop(t);
                } else {
                    n.counters().inc(Stat.TCP_ESTABLISHED_RESETS);
                    abortWith(t, "connection reset by peer");
                }
            } else {
                challengeAck(t);
            }
            return;
        }
        // fourth: SYN after both SYNs were acknowledged (RFC 5961 4.2): challenge ACK
        if ((flags & Tcp.SYN) != 0) {
            challengeAck(t);
            return;
        }
        // fifth: ACK
        if ((flags & Tcp.ACK) == 0) {
            return;
        }
        int ack = Tcp.ack(s, th);
        if (t.state == Tcb.SYN_RECEIVED) {
            if (Seq.lt(t.sndUna, ack) && Seq.le(ack, t.sndMax)) {
                rttSample(t, ack);
                t.sndWnd = Tcp.window(s, th) << t.sndWscale;
                t.maxSndWnd = Math.max(t.maxSndWnd, t.sndWnd);
                t.sndWl1 = seq;
                t.sndWl2 = ack;
                ackAdvance(t, ack);
                established(t);
                if (t.state == Tcb.CLOSED) {
                    return;
                }
            } else {
                sendRaw(t.localPort, t.remoteAddr, t.remotePort, ack, 0, Tcp.RST, 0);
                n.counters().inc(Stat.TCP_RST_OUT);
                return;
            }
        }
        if (!processAck(t, s, th, seq, ack, segLen)) {
            return;
        }
        if (t.state == Tcb.CLOSED) {
            return;
        }
        // seventh: segment text
        if (dataLen > 0 && t.stream != null && t.stream.closed && t.handler == null
                && (t.state == Tcb.FIN_WAIT_1 || t.state == Tcb.FIN_WAIT_2)) {
            // RFC 1122 4.2.2.13 (and Linux's TCPAbortOnData): data for an application that has
            // closed can never be read: reset instead of letting it fill the window.
            n.counters().inc(Stat.TCP_ABORT_ON_DATA);
            reset(t);
            return;
        }
        if (dataLen > 0 && (t.state == Tcb.ESTABLISHED || t.state == Tcb.FIN_WAIT_1 || t.state == Tcb.FIN_WAIT_2)) {
            receiveData(t, s, dataOff, seq, dataLen, flags);
        } else if (dataLen > 0) {
            t.ackNow = true; // data after the peer's FIN: ignore but acknowledge
        }
        // eighth: FIN
        if ((flags & Tcp.FIN) != 0) {
            int finSeq = seq + dataLen;
            if (finSeq == t.rcvNxt && !t.finReceived) {
                receiveFin(t);
            } else if (Seq.gt(finSeq, t.rcvNxt) && !t.finReceived) {
                t.ooo.finPending = true;
                t.ooo.finSeq = finSeq;
                t.ackNow = true;
            } else {
                t.ackNow = true; // duplicate FIN (e.g. in TIME-WAIT): ack it, restart 2MSL
                if (t.state == Tcb.TIME_WAIT) {
                    t.timeWaitAt = n.now() + cfg.tcpTimeWaitNanos;
                    scheduleTimer(t);
                }
            }
        }
    }

    /**
     * RFC 9293 3.10.7.4 "fifth, check the ACK field" with RFC 5961 5.2 and RFC 5681 / RFC 6582.
     *
     * @return false if the segment must be dropped
     */
    private boolean processAck(Tcb t, MemorySegment s, long th, int seq, int ack, int segLen) {
        // RFC 5961 5.2: acceptable iff SND.UNA - MAX.SND.WND <= SEG.ACK <= SND.NXT
        if (Seq.gt(ack, t.sndMax)) {
            n.counters().inc(Stat.TCP_BAD_ACK);
            t.ackNow = true;
            return false;
        }
        if (Seq.lt(ack, t.sndUna - Math.max(t.sndWnd, 65535))) {
            n.counters().inc(Stat.TCP_BAD_ACK);
            challengeAck(t);
            return false;
        }
        int wnd = Tcp.window(s, th) << t.sndWscale;
        boolean windowUpdate = Seq.lt(t.sndWl1, seq) || (t.sndWl1 == seq && Seq.le(t.sndWl2, ack));
        boolean sackInfo = false;
        if (t.sackOk && opts.sackCount > 0) {
            // RFC 2018 / RFC 6675 3: update the scoreboard with the reported blocks
            for (int i = 0; i < opts.sackCount; i++) {
                t.sb.add(opts.sackLeft[i], opts.sackRight[i], Seq.max(ack, t.sndUna), t.sndMax);
            }
            sackInfo = !t.sb.isEmpty();
        }
        if (t.eifel && Seq.gt(ack, t.sndUna)) {
            // RFC 3522 (Eifel detection): the first ACK for new data after a retransmission
            // echoes the timestamp of the segment that filled the hole; older than the
            // retransmission's means the original arrived: the retransmission was spurious.
            // A one-tick margin: with 1 ms timestamps, an echo one tick older can come from a
            // segment sent in the same millisecond as the lost one (the receiver updates
            // TS.Recent only at Last.ACK.sent, RFC 7323 4.3), which is no proof.
            t.eifel = false;
            if (opts.hasTimestamp && Seq.lt(opts.tsEcr, t.rxtTsVal - 1)) {
                undoSpurious(t);
            }
        }
        if (Seq.gt(ack, t.sndUna) && t.inRecovery && t.sackOk) {
            // RFC 6675 5: partial or full ACK during SACK-based recovery
            rttSample(t, ack);
            ackAdvance(t, ack);
            t.sb.trimBelow(t.sndUna);
            t.dupAcks = 0;
            if (windowUpdate) {
                updateWindow(t, seq, ack, wnd);
            }
            if (Seq.ge(ack, t.recover)) {
                t.inRecovery = false; // RFC 6675 5 (2): RecoveryPoint reached
                t.cwnd = Math.min(t.ssthresh, t.inFlight() + t.mss);
            } else {
                t.highRxt = Seq.max(t.highRxt, t.sndUna);
                sackRecoverySend(t);
            }
            return finAcked(t);
        }
        if (Seq.gt(ack, t.sndUna)) {
            int acked = ack - t.sndUna;
            rttSample(t, ack);
            if (t.inRecovery) {
                if (Seq.ge(ack, t.recover)) {
                    // RFC 6582 3.2 (3): full acknowledgment, leave fast recovery
                    t.inRecovery = false;
                    t.cwnd = Math.min(t.ssthresh, Math.max(t.inFlight() - acked, 0) + t.mss);
                } else {
                    // RFC 6582 3.2 (4): partial acknowledgment: retransmit the next hole,
                    // deflate cwnd by the amount acked, add back one SMSS.
                    ackAdvance(t, ack);
                    retransmitFirst(t);
                    t.cwnd = Math.max(t.mss, t.cwnd - acked + t.mss);
                    t.dupAcks = 0;
                    if (windowUpdate) {
                        updateWindow(t, seq, ack, wnd);
                    }
                    return true;
                }
            } else {
                t.cc.onAck(t, acked, n.now());
            }
            t.dupAcks = 0;
            ackAdvance(t, ack);
            t.sb.trimBelow(t.sndUna);
            if (t.sackOk && !t.inRecovery && !t.sb.isEmpty() && Seq.gt(t.sndUna, t.recover)
                    && Seq.gt(t.sb.lossPoint(t.sndUna, t.mss, t.dupThresh), t.sndUna)) {
                // RFC 6675 5 (4): IsLost(HighACK + 1) also starts recovery
                enterSackRecovery(t);
            }
        } else if (ack == t.sndUna && segLen == 0 && (wnd == t.sndWnd || sackInfo) && t.inFlight() > 0) {
            // RFC 5681 2: a duplicate ACK (RFC 6675 2: or one that carries SACK information)
            n.counters().inc(Stat.TCP_DUP_ACKS);
            t.dupAcks++;
            if (t.sackOk && t.inRecovery) {
                // Lost retransmission (the idea of RFC 8985 RACK, for the first hole): if SND.UNA
                // was retransmitted more than an RTT ago and SACKs still arrive above it, the
                // retransmission was lost too: send it again instead of waiting for the RTO.
                recoveryLostRetransmission(t);
                sackRecoverySend(t); // RFC 6675 5 (C)
            } else if (t.sackOk && !t.inRecovery && Seq.gt(ack, t.recover)
                    && (t.dupAcks >= t.dupThresh || Seq.gt(t.sb.lossPoint(t.sndUna, t.mss, t.dupThresh), t.sndUna))) {
                enterSackRecovery(t);
            } else if (t.dupAcks == t.dupThresh && !t.inRecovery && Seq.gt(ack, t.recover)) {
                // RFC 5681 3.2 / RFC 6582 3.2 (2): fast retransmit
                n.counters().inc(Stat.TCP_FAST_RETRANSMITS);
                armUndo(t, false);
                t.ssthresh = t.cc.onFastRetransmit(t, n.now());
                t.recover = t.sndMax;
                t.inRecovery = true;
                retransmitFirst(t);
                t.cwnd = t.ssthresh + 3 * t.mss;
            } else if (t.dupAcks > t.dupThresh && t.inRecovery) {
                t.cwnd += t.mss; // RFC 5681 3.2 (4): inflate
            } else if (t.sackOk && !t.inRecovery && !Seq.gt(ack, t.recover)
                    && Seq.gt(t.sb.lossPoint(t.sndUna, t.mss, t.dupThresh), t.sndUna)) {
                rtoRecoveryHole(t);
            } else if (t.dupAcks < t.dupThresh && !t.inRecovery) {
                limitedTransmit(t);
            }
        }
        if (windowUpdate) {
            updateWindow(t, seq, ack, wnd);
        }
        return finAcked(t);
    }

    /** State changes driven by the ACK of our FIN; false if the connection is gone. */
    private boolean finAcked(Tcb t) {
        if (t.finSent && Seq.gt(t.sndUna, t.finSeq)) {
            switch (t.state) {
                case Tcb.FIN_WAIT_1 -> {
                    t.state = Tcb.FIN_WAIT_2;
                    // Linux-like FIN_WAIT_2 timeout once the application has closed
                    if (t.stream.closed) {
                        t.timeWaitAt = n.now() + cfg.tcpTimeWaitNanos;
                        scheduleTimer(t);
                    }
                }
                case Tcb.CLOSING -> enterTimeWait(t);
                case Tcb.LAST_ACK -> {
                    finish(t, null);
                    return false;
                }
                default -> { }
            }
        }
        return true;
    }

    /**
     * Lost retransmission in SACK recovery (RFC 8985 6.2's rule for the first hole): SND.UNA was
     * retransmitted more than an RTT ago and SACKs still arrive above it, so the retransmission
     * was lost too: make it eligible again (HighRxt back to SND.UNA) instead of waiting for the
     * RTO. If the RTT has not passed yet, the RACK reordering timer (RFC 8985 6.3) re-checks.
     */
    private void recoveryLostRetransmission(Tcb t) {
        if (!Seq.gt(t.highRxt, t.sndUna) || t.unaRxtAt == 0
                || !Seq.gt(t.sb.lossPoint(t.sndUna, t.mss, t.dupThresh), t.sndUna)) {
            return;
        }
        long rtt = Math.max(t.srtt + t.rttvar, 2_000_000L);
        if (n.now() - t.unaRxtAt > rtt) {
            t.highRxt = t.sndUna;
            n.counters().inc(Stat.TCP_LOST_RETRANSMITS);
        } else if (t.rackAt == 0) {
            t.rackAt = t.unaRxtAt + rtt + 1;
            scheduleTimer(t);
        }
    }

    /**
     * After a timeout (RFC 6675 5.1: SACK information keeps guiding the RTO recovery), SACKs
     * show data above SND.UNA delivered: once the head segment has stayed unacknowledged for an
     * RTT since it was last sent (RFC 8985 6.2) it is lost again, so send it now instead of
     * waiting for another, doubled, timeout (the timeout already reduced the window). Until then
     * the RACK reordering timer (RFC 8985 6.3) re-checks, since no further ACK may come.
     */
    private void rtoRecoveryHole(Tcb t) {
        if (headLost(t)) {
            t.rackAt = 0;
            n.counters().inc(Stat.TCP_LOST_RETRANSMITS);
            retransmitAt(t, t.sndUna, t.sb.holeEnd(t.sndUna, t.sndMax));
            t.unaSentAt = n.now();
        } else if (t.rackAt == 0) {
            t.rackAt = t.unaSentAt + Math.max(t.srtt + t.rttvar, 2_000_000L) + 1;
            scheduleTimer(t);
        }
    }

    /**
     * RFC 8985 6.2, in the form this sender can check without per-segment send times: the
     * segment at SND.UNA has been unacknowledged for more than an RTT (SRTT + RTTVAR, at least
     * 2 ms) since it was last sent, while data above it keeps being SACKed.
     */
    private boolean headLost(Tcb t) {
        long rtt = Math.max(t.srtt + t.rttvar, 2_000_000L);
        return t.unaSentAt != 0 && n.now() - t.unaSentAt > rtt;
    }

    /**
     * RFC 3042 2 (Limited Transmit): on each of the first two duplicate ACKs, send one new
     * segment if the peer's window allows, data is waiting, and at most cwnd + 2 SMSS would be
     * outstanding; cwnd itself is unchanged. With the small windows of a lossy path this is what
     * brings the third duplicate ACK (and fast retransmit) instead of a retransmission timeout.
     */
    private void limitedTransmit(Tcb t) {
        if (t.stream == null || t.sndNxt != t.sndMax || t.finSent) {
            return;
        }
        int maxData = t.mss - optionBytes(t);
        long avail = t.stream.send.tail() - pos(t, t.sndMax);
        int room = t.sndUna + t.sndWnd - t.sndMax;
        int len = (int) Math.min(Math.min(avail, maxData), room);
        if (len <= 0 || t.inFlight() + len > t.cwnd + (t.dupThresh - 1) * t.mss) {
            return;
        }
        n.counters().inc(Stat.TCP_LIMITED_TRANSMITS);
        sendData(t, t.sndMax, len, Tcp.ACK);
    }

    /** Largest duplicate-ACK threshold reordering can raise a connection to (Linux caps at 300). */
    private static final int MAX_DUP_THRESH = 64;

    /**
     * Saves what a retransmission episode is about to reduce, and the TSval its first
     * retransmission carries, for Eifel detection (RFC 3522) on the first ACK of new data.
     */
    private void armUndo(Tcb t, boolean rto) {
        t.undoCwnd = t.cwnd;
        t.undoSsthresh = t.ssthresh;
        t.undoRto = rto;
        t.eifel = t.tsOk;
        t.rxtTsVal = tsNow();
        // reordering degree if this proves spurious: segments delivered above the "lost" one
        t.rxtDegree = t.sb.isEmpty() ? t.dupAcks : (t.sb.highest(t.sndUna) - t.sndUna) / Math.max(1, t.mss);
    }

    /**
     * A retransmission proved spurious (the network reordered or delayed, it did not drop):
     * undo the window reduction (RFC 4015 3 for a timeout; RFC 3708 / Linux undo for fast
     * retransmit), leave recovery, and tolerate reordering of the degree seen by raising
     * DupThresh (RFC 4653's motivation; Linux's tp->reordering), so the next reordering of that
     * extent does not trigger another spurious fast retransmit.
     */
    private void undoSpurious(Tcb t) {
        n.counters().inc(Stat.TCP_SPURIOUS_RETRANSMITS);
        t.cwnd = Math.max(t.cwnd, t.undoCwnd);
        t.ssthresh = Math.max(t.ssthresh, t.undoSsthresh);
        t.inRecovery = false;
        t.recover = t.sndUna; // a new loss may start a new recovery at once
        t.dupAcks = 0;
        if (t.undoRto) {
            t.backoff = 0;
            if (Seq.lt(t.sndNxt, t.sndMax)) {
                t.sndNxt = t.sndMax; // RFC 4015 3.2 (4): resume with new data, no go-back-N
            }
        } else {
            t.dupThresh = Math.min(MAX_DUP_THRESH, Math.max(t.dupThresh, t.rxtDegree + 1));
        }
    }

    /** RFC 6675 5 (4): enter loss recovery with the scoreboard. */
    private void enterSackRecovery(Tcb t) {
        t.tlpAt = 0;
        n.counters().inc(Stat.TCP_FAST_RETRANSMITS);
        armUndo(t, false);
        t.recover = t.sndMax; // RecoveryPoint = HighData
        t.ssthresh = t.cc.onFastRetransmit(t, n.now());
        t.cwnd = t.ssthresh;
        t.inRecovery = true;
        t.highRxt = t.sndUna;
        t.rttTiming = false; // Karn
        sackRecoverySend(t);
        // RFC 6675 5 (4.3): the first lost segment goes out even if pipe leaves no room
        if (t.highRxt == t.sndUna && !t.sb.isSacked(t.sndUna)) {
            retransmitAt(t, t.sndUna, t.sb.holeEnd(t.sndUna, t.sndMax));
        }
    }

    /** RFC 6675 SetPipe: octets in flight, counting retransmissions again. */
    private static int pipe(Tcb t) {
        int una = t.sndUna;
        int max = t.sndMax;
        int lossPoint = Seq.min(t.sb.lossPoint(una, t.mss, t.dupThresh), max);
        int sacked = t.sb.sackedBetween(una, max);
        int lost = (lossPoint - una) - t.sb.sackedBetween(una, lossPoint);
        int rxt = Seq.max(t.highRxt, una);
        int retransmitted = (rxt - una) - t.sb.sackedBetween(una, rxt);
        return Math.max(0, (max - una) - sacked - lost + retransmitted);
    }

    /** RFC 6675 NextSeg and the transmission loop of section 5 (C). */
    private void sackRecoverySend(Tcb t) {
        int pipe = pipe(t);
        int maxData = t.mss - optionBytes(t);
        for (int guard = 0; guard < 256 && t.cwnd - pipe >= maxData; guard++) {
            int una = t.sndUna;
            int high = t.sb.highest(una);
            int lossPoint = Seq.min(t.sb.lossPoint(una, t.mss, t.dupThresh), t.sndMax);
            int from = Seq.max(t.highRxt, una);
            // (1) the first unSACKed octet above HighRxt that IsLost
            int s = t.sb.nextUnsacked(from, lossPoint);
            if (Seq.lt(s, lossPoint)) {
                pipe += retransmitAt(t, s, Seq.min(t.sb.holeEnd(s, lossPoint), s + maxData));
                continue;
            }
            // (2) new data, if the receiver's window allows
            long avail = t.stream.send.tail() - pos(t, t.sndMax);
            int room = t.sndUna + t.sndWnd - t.sndMax;
            int len = (int) Math.min(Math.min(avail, maxData), room);
            if (len > 0 && t.sndNxt == t.sndMax) {
                sendData(t, t.sndMax, len, Tcp.ACK);
                pipe += len;
                continue;
            }
            // (3) an unSACKed octet below the highest SACKed one (rescue retransmission)
            s = t.sb.nextUnsacked(from, high);
            if (Seq.lt(s, high)) {
                pipe += retransmitAt(t, s, Seq.min(t.sb.holeEnd(s, high), s + maxData));
                continue;
            }
            break;
        }
    }

    /** Retransmits [s, end) (at most one segment) without moving SND.NXT back; returns its length. */
    private int retransmitAt(Tcb t, int s, int end) {
        int len = Math.min(Math.max(0, end - s), t.mss - optionBytes(t));
        long dataEnd = t.stream.send.tail();
        len = (int) Math.min(len, Math.max(0, dataEnd - pos(t, s)));
        int flags = Tcp.ACK;
        if (t.finSent && s + len == t.finSeq) {
            flags |= Tcp.FIN;
        }
        if (len == 0 && (flags & Tcp.FIN) == 0) {
            t.highRxt = Seq.max(t.highRxt, s + Math.max(0, Math.min(end - s, t.mss)));
            return 0;
        }
        int saved = t.sndNxt;
        sendData(t, s, len, flags);
        t.sndNxt = Seq.max(saved, t.sndNxt);
        t.highRxt = Seq.max(t.highRxt, s + len);
        if (s == t.sndUna) {
            t.unaRxtAt = n.now();
        }
        return len;
    }

    private void updateWindow(Tcb t, int seq, int ack, int wnd) {
        t.sndWnd = wnd;
        t.maxSndWnd = Math.max(t.maxSndWnd, wnd);
        t.sndWl1 = seq;
        t.sndWl2 = ack;
        if (wnd > 0) {
            t.persistAt = 0;
        }
    }

    /** Advances SND.UNA to {@code ack}, frees acknowledged bytes in the send ring. */
    private void ackAdvance(Tcb t, int ack) {
        int acked = ack - t.sndUna;
        if (acked <= 0) {
            return;
        }
        t.sndUna = ack;
        t.sndUnaPos += acked;
        t.acked = true;
        t.unaRxtAt = 0;
        t.unaSentAt = n.now();
        if (t.tlpEndSet && Seq.ge(ack, t.tlpEnd)) {
            t.tlpEndSet = false; // RFC 8985 7.4: the probe episode ends
        }
        if (Seq.lt(t.sndNxt, t.sndUna)) {
            t.sndNxt = t.sndUna;
        }
        if (t.stream != null) {
            long tail = t.stream.send.tail();
            long head = Math.max(0, Math.min(t.sndUnaPos, tail));
            if (head > t.stream.send.head()) {
                t.stream.send.head(head);
                if (t.handler != null && t.channel != null) {
                    if (t.channel.takeWantWritable()) {
                        try {
                            t.handler.onWritable(t.channel);
                        } catch (Throwable e) {
                            handlerFailed(t, e);
                        }
                    }
                    deliverToHandler(t); // data held back for lack of send space
                } else {
                    t.stream.signal(); // space for a blocked writer
                }
            }
        }
        t.backoff = 0;
        // RFC 6298 5.2/5.3: stop the timer when all is acked, else restart it
        t.rexmtAt = t.sndUna == t.sndMax ? 0 : n.now() + t.rto;
        scheduleTimer(t);
    }

    /** RFC 6298 2, with Karn's algorithm (3) or RFC 7323 4.1 timestamps. */
    private void rttSample(Tcb t, int ack) {
        long sample = -1;
        if (t.tsOk && opts.hasTimestamp && opts.tsEcr != 0) {
            sample = (tsNow() - opts.tsEcr) * 1_000_000L;
        } else if (t.rttTiming && Seq.gt(ack, t.rttSeq)) {
            sample = n.now() - t.rttStart;
        }
        if (t.rttTiming && Seq.gt(ack, t.rttSeq)) {
            t.rttTiming = false;
        }
        if (sample < 0) {
            return;
        }
        sample = Math.max(sample, 1000);
        if (t.srtt == 0) {
            t.srtt = sample; // (2.2)
            t.rttvar = sample / 2;
        } else {
            long delta = Math.abs(t.srtt - sample); // (2.3), alpha 1/8, beta 1/4
            t.rttvar = (3 * t.rttvar + delta) / 4;
            t.srtt = (7 * t.srtt + sample) / 8;
        }
        long granularity = TimeUnit.MILLISECONDS.toNanos(1);
        t.rto = Math.min(cfg.tcpRtoMaxNanos, Math.max(cfg.tcpRtoMinNanos, t.srtt + Math.max(granularity, 4 * t.rttvar)));
    }

    /** Our timestamp clock: milliseconds (RFC 7323 5.4: 1 ms to 1 s per tick). */
    private int tsNow() {
        return (int) (n.now() / 1_000_000L);
    }

    private void receiveData(Tcb t, MemorySegment s, long dataOff, int seq, int dataLen, int flags) {
        // trim to the window: bytes below RCV.NXT are duplicates; beyond the right edge dropped
        int skip = t.rcvNxt - seq;
        if (skip > 0) {
            dataOff += skip;
            dataLen -= skip;
            seq = t.rcvNxt;
        }
        int room = t.rcvAdv - seq;
        if (dataLen > room) {
            dataLen = Math.max(0, room);
        }
        if (dataLen <= 0) {
            t.ackNow = true;
            return;
        }
        TcpStream st = t.stream;
        long tail = st.recv.tail();
        st.recv.write(tail + (seq - t.rcvNxt), s, dataOff, dataLen);
        t.bytesIn += dataLen;
        if (seq == t.rcvNxt) {
            int newNxt = t.rcvNxt + dataLen;
            boolean filled = !t.ooo.isEmpty();
            newNxt = t.ooo.takeContiguous(newNxt);
            while (!t.ooo.isEmpty()) {
                int next = t.ooo.takeContiguous(newNxt);
                if (next == newNxt) {
                    break;
                }
                newNxt = next;
            }
            st.recv.tail(tail + (newNxt - t.rcvNxt));
            t.rcvNxt = newNxt;
            if (t.handler != null) {
                deliverToHandler(t);
            } else {
                st.signal();
            }
            if (t.ooo.finPending && t.ooo.finSeq == t.rcvNxt) {
                t.ooo.finPending = false;
                receiveFin(t);
            }
            // RFC 9293 3.8.6.3 / RFC 5681 4.2: ACK at least every second full segment; ACK at
            // once when a hole was filled (so the sender's recovery ends quickly).
            t.unackedSegments++;
            if (filled || t.unackedSegments >= 2) {
                t.ackNow = true;
            } else if (t.delackAt == 0) {
                t.delackAt = n.now() + cfg.tcpDelayedAckNanos;
                scheduleTimer(t);
            }
        } else {
            // RFC 9293 3.10.7.4 / RFC 5681 4.2: out of order: keep it, send a duplicate ACK at once
            if (!t.ooo.add(seq, seq + dataLen)) {
                n.counters().inc(Stat.TCP_OOO_DROPPED);
            } else {
                n.counters().inc(Stat.TCP_OOO_SEGMENTS);
            }
            // Not deferred to the rollup: every out-of-order segment must produce its own
            // duplicate ACK, or the sender never counts the three it needs.
            sendData(t, ackSeq(t), 0, Tcp.ACK);
        }
    }

    private void receiveFin(Tcb t) {
        t.finReceived = true;
        t.rcvNxt++;
        t.ackNow = true;
        t.stream.eof = true;
        t.stream.signal();
        if (t.handler != null && t.channel != null) {
            t.peerClosedPending = true; // told once the handler has consumed every byte before the FIN
            deliverToHandler(t);
        }
        switch (t.state) {
            case Tcb.SYN_RECEIVED, Tcb.ESTABLISHED -> t.state = Tcb.CLOSE_WAIT;
            case Tcb.FIN_WAIT_1 -> {
                if (t.finSent && Seq.gt(t.sndUna, t.finSeq)) {
                    enterTimeWait(t);
                } else {
                    t.state = Tcb.CLOSING;
                }
            }
            case Tcb.FIN_WAIT_2 -> enterTimeWait(t);
            default -> { }
        }
    }

    private void enterTimeWait(Tcb t) {
        t.state = Tcb.TIME_WAIT;
        t.rexmtAt = 0;
        t.persistAt = 0;
        t.keepaliveAt = 0;
        t.delackAt = 0;
        t.tlpAt = 0;
        t.rackAt = 0;
        t.timeWaitAt = n.now() + cfg.tcpTimeWaitNanos; // RFC 9293 3.6: 2 MSL
        t.stream.finished = true;
        t.stream.signal();
        maybeReturnRings(t); // TIME_WAIT moves no data: the rings can serve another connection
        scheduleTimer(t);
    }

    /** RFC 5961 3.2 / 4.2 / 5.2: a challenge ACK, rate limited per core (RFC 5961 7). */
    private void challengeAck(Tcb t) {
        long now = n.now();
        if (now - challengeWindowStart >= 1_000_000_000L) {
            challengeWindowStart = now;
            challengeAcks = 0;
        }
        if (challengeAcks >= cfg.tcpChallengeAcksPerSecond) {
            n.counters().inc(Stat.TCP_CHALLENGE_ACK_LIMITED);
            return;
        }
        challengeAcks++;
        n.counters().inc(Stat.TCP_CHALLENGE_ACKS);
        t.ackNow = true;
    }

    // ================================================================== SYN cookies (RFC 4987 3.6)

    private static final int[] COOKIE_MSS = {536, 1200, 1440, 1460, 8960, 1220, 1380, 1400};

    private int cookieCounter() {
        return (int) (n.now() / 64_000_000_000L); // 64 s
    }

    private int cookieHash(int src, int sport, int dport, int peerIsn, int counter) {
        return (int) isn.hash(src, cfg.address, ((long) sport << 16) | dport, ((long) peerIsn << 8) ^ counter) & 0xFFFFFF;
    }

    private void sendCookie(MemorySegment s, long th, int src, int sport, int dport, int seq) {
        int peerMss = opts.mss > 0 ? opts.mss : DEFAULT_MSS;
        int idx = 0;
        for (int i = 0; i < COOKIE_MSS.length; i++) {
            if (COOKIE_MSS[i] <= Math.min(peerMss, mtuMss()) && COOKIE_MSS[i] >= COOKIE_MSS[idx]) {
                idx = i;
            }
        }
        int counter = cookieCounter();
        int cookie = ((counter & 0x1F) << 27) | (idx << 24) | cookieHash(src, sport, dport, seq, counter);
        n.counters().inc(Stat.TCP_SYN_COOKIES_SENT);
        // SYN-ACK carrying only MSS: the cookie cannot remember window scale, SACK or timestamps.
        MemorySegment tx = n.txBuffer();
        long t = Netisr.TX_IP + Ipv4.MIN_HEADER;
        Tcp.write(tx, t, dport, sport, cookie, seq + 1, 24, Tcp.SYN | Tcp.ACK, 65535);
        Bytes.u8(tx, t + 20, Tcp.OPT_MSS);
        Bytes.u8(tx, t + 21, 4);
        Bytes.u16(tx, t + 22, COOKIE_MSS[idx]);
        Tcp.finishChecksum(tx, t, 24, cfg.address, src);
        n.counters().inc(Stat.TCP_OUT);
        n.ip().send(tx, Netisr.TX_IP, 24, Ipv4.PROTO_TCP, src, true);
    }

    private boolean cookieAck(TcpListenerState l, MemorySegment s, long th, int tlen, int doff, int src,
                              int sport, int dport) {
        int ack = Tcp.ack(s, th);
        int seq = Tcp.seq(s, th);
        int cookie = ack - 1;
        int peerIsn = seq - 1;
        int counter = cookieCounter();
        int c5 = (cookie >>> 27) & 0x1F;
        int idx = (cookie >>> 24) & 0x7;
        int usedCounter;
        if (c5 == (counter & 0x1F)) {
            usedCounter = counter;
        } else if (c5 == ((counter - 1) & 0x1F)) {
            usedCounter = counter - 1;
        } else {
            n.counters().inc(Stat.TCP_SYN_COOKIES_BAD);
            return false;
        }
        if ((cookie & 0xFFFFFF) != cookieHash(src, sport, dport, peerIsn, usedCounter)) {
            n.counters().inc(Stat.TCP_SYN_COOKIES_BAD);
            return false;
        }
        if (pcbs.size() >= maxConnectionsPerCore) {
            n.counters().inc(Stat.TCP_TOO_MANY_CONNECTIONS);
            return false;
        }
        n.counters().inc(Stat.TCP_SYN_COOKIES_OK);
        Tcb t = newTcb(dport, src, sport);
        applyOptions(t, l.options);
        t.irs = peerIsn;
        t.rcvNxt = seq;
        t.iss = cookie;
        t.sndUna = ack;
        t.sndNxt = ack;
        t.sndMax = ack;
        t.sndUnaPos = 0;
        t.recover = ack;
        t.sndSml = ack;
        t.mss = Math.min(COOKIE_MSS[idx], mtuMss());
        t.cwnd = Math.min(10 * t.mss, Math.max(2 * t.mss, 14600));
        t.sndWnd = Tcp.window(s, th);
        t.maxSndWnd = Math.max(t.maxSndWnd, t.sndWnd);
        t.sndWl1 = seq;
        t.sndWl2 = ack;
        t.listener = l;
        l.halfOpen++;
        t.rcvAdv = t.rcvNxt + 65535;
        established(t);
        if (t.state == Tcb.ESTABLISHED && tlen > doff) {
            segmentArrives(t, s, th, tlen, doff);
        }
        if (t.state != Tcb.CLOSED) {
            output(t);
        }
        return true;
    }

    // ================================================================== application doorbells

    /** An application changed connection {@code id}'s rings or flags. */
    public void doorbell(int id) {
        n.checkOwner();
        Tcb t = byId.get(id);
        if (t == null) {
            int to = movedTo.get(id);
            if (to < 0) {
                to = movedToOld.get(id);
            }
            if (to >= 0) {
                n.forwardDoorbell(to, id); // rung by an application that had not seen the move yet
                n.counters().inc(Stat.TCP_DOORBELLS_FORWARDED);
            }
            return;
        }
        if (t.stream == null) {
            return;
        }
        t.stream.doorbellTaken();
        if (applyAppFlags(t)) {
            output(t);
        }
    }

    // ================================================================== output

    /**
     * Sequence number of a bare ACK. Not SND.NXT, which points back at SND.UNA while a timeout
     * resends old data: the peer has had those bytes, would find the ACK below its window and
     * drop it (answering with an ACK of its own). BSD's tcp_output uses SND.MAX ("for ACK only
     * packets ... we want the sequence number of the next unsent octet"); Linux's
     * tcp_acceptable_seq the same, capped at the peer's right edge if it shrank its window, so
     * the ACK stays acceptable under RFC 9293 3.10.7.4.
     */
    private static int ackSeq(Tcb t) {
        int edge = t.sndUna + t.sndWnd;
        return Seq.le(t.sndMax, edge) ? t.sndMax : edge;
    }

    /** Ring position of sequence number {@code seq} in the send ring. */
    private static long pos(Tcb t, int seq) {
        return t.sndUnaPos + (seq - t.sndUna);
    }

    /**
     * tcp_output: sends what the windows allow (data, FIN), a pure ACK or window update if one
     * is due, and arms the retransmission or persist timer.
     */
    public void output(Tcb t) {
        n.checkOwner();
        if (t.state == Tcb.CLOSED || t.state == Tcb.SYN_SENT || t.state == Tcb.LISTEN) {
            return;
        }
        if (t.state == Tcb.SYN_RECEIVED) {
            if (t.ackNow) {
                t.sndNxt = t.iss;
                sendSyn(t);
            }
            return;
        }
        TcpStream st = t.stream;
        if (st != null && st.abort) {
            return; // RFC 9293 3.10.5 ABORT: nothing more but the RST that applyAppFlags sends (no FIN first)
        }
        boolean canSend = t.state == Tcb.ESTABLISHED || t.state == Tcb.CLOSE_WAIT
                || ((t.state == Tcb.FIN_WAIT_1 || t.state == Tcb.CLOSING || t.state == Tcb.LAST_ACK)
                && Seq.lt(t.sndNxt, t.finSeq));
        boolean sent = false;
        if (canSend) {
            // The flag first, then the tail: the application publishes its last bytes before it
            // sets shutdownOutput/closed, so this order never places the FIN before data that
            // was written ahead of it (the reverse order cut responses short under load).
            boolean wantFin = st.shutdownOutput || st.closed;
            long end = st.send.tail();
            while (true) {
                long p = pos(t, t.sndNxt);
                long avail = end - p;
                int win = Math.min(t.sndWnd, t.cwnd);
                int usable = t.sndUna + win - t.sndNxt;
                int maxData = t.mss - optionBytes(t); // RFC 9293 3.7.1: options come out of the MSS
                int len = (int) Math.max(0, Math.min(Math.min(avail, maxData), usable));
                boolean finNow = wantFin && (!t.finSent || Seq.le(t.sndNxt, t.finSeq)) && p + len == end
                        && (t.finSent ? t.sndNxt + len == t.finSeq : true);
                if (len > 0) {
                    // RFC 9293 3.7.4 Nagle: hold a small segment while data is unacknowledged.
                    // RFC 9293 3.8.6.2.1 sender SWS avoidance: a window-limited small segment
                    // goes only if it is at least half the largest window seen, or nothing is
                    // in flight (else the ACK of what is in flight will open the window).
                    if (len < maxData && len < avail && len < t.maxSndWnd / 2 && t.sndMax != t.sndUna) {
                        break;
                    }
                    // RFC 9293 3.7.4 Nagle, in Minshall's form (as Linux): hold a small segment
                    // only while an earlier small segment is unacknowledged, so a bulk writer's
                    // tail never waits for a delayed ACK.
                    if (len < maxData && !t.nodelay && Seq.gt(t.sndSml, t.sndUna) && !finNow
                            && Seq.ge(t.sndNxt, t.sndMax)) {
                        break;
                    }
                    int flags = Tcp.ACK | (p + len == end ? Tcp.PSH : 0);
                    if (finNow) {
                        flags |= Tcp.FIN;
                    }
                    if (len < maxData) {
                        t.sndSml = t.sndNxt + len;
                    }
                    sendData(t, t.sndNxt, len, flags);
                    sent = true;
                    continue;
                }
                if (finNow && (usable > 0 || t.sndWnd == 0 || !t.finSent) && Seq.ge(t.sndNxt, t.sndUna)
                        && (!t.finSent || t.sndNxt == t.finSeq)) {
                    sendData(t, t.sndNxt, 0, Tcp.ACK | Tcp.FIN);
                    sent = true;
                }
                if (avail > 0 && t.sndWnd == 0 && t.sndMax == t.sndUna && t.persistAt == 0) {
                    // RFC 9293 3.8.6.1: zero window: probe with the persist timer
                    t.persistAt = n.now() + t.rto;
                    scheduleTimer(t);
                }
                break;
            }
        }
        if (!sent && (t.ackNow || windowUpdateDue(t))) {
            sendData(t, ackSeq(t), 0, Tcp.ACK);
        }
        if (sent || t.acked || t.tlpAt == 0) {
            armLossProbe(t);
        }
    }

    /** RFC 8985 7.2: WCDelAckT, the worst-case delayed-ACK time assumed for a single segment. */
    private static final long TLP_WC_DEL_ACK = 200_000_000L;
    /** Floor of the probe timeout: below the peer's delayed-ACK timer (40 ms on Linux) probes are mostly spurious. */
    private static final long TLP_MIN = 10_000_000L;

    /**
     * RFC 8985 7.2: after new data or a cumulative ACK, outside fast and RTO recovery and
     * outside a probe episode, a probe timeout of 2 SRTT (plus WCDelAckT for a single segment in
     * flight) replaces the RTO as the next wake-up, so a lost tail is found in a few RTTs.
     */
    private void armLossProbe(Tcb t) {
        if (!t.sackOk || t.inRecovery || t.tlpEndSet || t.backoff > 0 || t.srtt == 0 || t.inFlight() == 0
                || Seq.lt(t.sndUna, t.recover) || (t.state != Tcb.ESTABLISHED && t.state != Tcb.CLOSE_WAIT)) {
            t.tlpAt = 0;
            return;
        }
        long pto = 2 * t.srtt;
        if (t.inFlight() <= t.mss) {
            pto += TLP_WC_DEL_ACK;
        }
        long at = n.now() + Math.max(pto, TLP_MIN);
        if (t.rexmtAt != 0 && at - t.rexmtAt >= 0) {
            t.tlpAt = 0; // PTO = min(RTO, PTO): the RTO comes first
            return;
        }
        t.tlpAt = at;
        scheduleTimer(t);
    }

    /**
     * RFC 8985 7.3: the probe: one new segment if the window and the application allow, else
     * the last segment again; the ACK it elicits (with SACK) starts fast recovery if data before
     * it was lost. The RTO is re-armed.
     */
    private void lossProbe(Tcb t) {
        if (t.inRecovery || t.inFlight() == 0 || t.stream == null) {
            return;
        }
        n.counters().inc(Stat.TCP_LOSS_PROBES);
        int maxData = t.mss - optionBytes(t);
        long avail = t.finSent ? 0 : t.stream.send.tail() - pos(t, t.sndMax);
        int room = t.sndUna + t.sndWnd - t.sndMax;
        int len = (int) Math.min(Math.min(avail, maxData), room);
        if (len > 0 && t.sndNxt == t.sndMax) {
            sendData(t, t.sndMax, len, Tcp.ACK);
        } else {
            int end = t.finSent ? t.finSeq : t.sndMax;
            int start = Seq.max(t.sndUna, end - maxData);
            retransmitAt(t, start, end);
        }
        t.tlpEnd = t.sndMax;
        t.tlpEndSet = true;
        t.rexmtAt = n.now() + t.rto;
        scheduleTimer(t);
    }

    /** RFC 9293 3.8.6.2.2: advertise a larger window once it grew by min(buffer/2, MSS). */
    private boolean windowUpdateDue(Tcb t) {
        if (t.stream == null || t.finReceived) {
            return false;
        }
        int free = freeReceive(t);
        int edge = t.rcvNxt + (((free) >>> t.rcvWscale) << t.rcvWscale);
        int grow = edge - t.rcvAdv;
        // Data ACKs carry the window anyway; a pure update is worth a segment only when the
        // peer may be about to stall on what it was last told.
        int remaining = t.rcvAdv - t.rcvNxt;
        int cap = t.stream.recv.capacity();
        return grow > 0 && grow >= Math.min(cap / 2, t.mss) && remaining < Math.min(cap / 4, 16 * t.mss);
    }

    private int freeReceive(Tcb t) {
        return t.stream.recv.capacity() - (int) (t.stream.recv.tail() - t.stream.recv.head());
    }

    /** Window field for an outgoing segment and the right edge it advertises. */
    private int advertise(Tcb t, boolean syn) {
        int free = t.stream != null ? freeReceive(t) : t.options.receiveBufferBytes();
        if (t.finReceived) {
            free = Math.max(free, 0);
        }
        int field;
        if (syn) {
            field = Math.min(free, 65535);
        } else {
            field = Math.min(free >>> t.rcvWscale, 65535);
        }
        int edge = t.rcvNxt + (syn ? field : field << t.rcvWscale);
        if (Seq.gt(edge, t.rcvAdv) || t.rcvAdv == 0) {
            t.rcvAdv = edge;
        } else if (!syn) {
            // RFC 9293 3.8.6.2.2: never shrink the window: advertise the old right edge
            field = Math.min((t.rcvAdv - t.rcvNxt) >>> t.rcvWscale, 65535);
        }
        return field;
    }

    private void sendSyn(Tcb t) {
        boolean synAck = t.state == Tcb.SYN_RECEIVED;
        MemorySegment tx = n.txBuffer();
        long th = Netisr.TX_IP + Ipv4.MIN_HEADER;
        int o = 20;
        // options in Linux's order: MSS, SACK-permitted, TS, NOP, WS
        Bytes.u8(tx, th + o, Tcp.OPT_MSS);
        Bytes.u8(tx, th + o + 1, 4);
        Bytes.u16(tx, th + o + 2, mtuMss());
        o += 4;
        boolean sack = !synAck || t.sackOk;
        boolean ts = !synAck || t.tsOk;
        boolean ws = !synAck || t.wscaleOk;
        if (sack && ts) {
            Bytes.u8(tx, th + o, Tcp.OPT_SACK_PERMITTED);
            Bytes.u8(tx, th + o + 1, 2);
            o += 2;
        } else if (sack) {
            Bytes.u8(tx, th + o, Tcp.OPT_NOP);
            Bytes.u8(tx, th + o + 1, Tcp.OPT_NOP);
            Bytes.u8(tx, th + o + 2, Tcp.OPT_SACK_PERMITTED);
            Bytes.u8(tx, th + o + 3, 2);
            o += 4;
        }
        if (ts) {
            if (!sack) {
                Bytes.u8(tx, th + o, Tcp.OPT_NOP);
                Bytes.u8(tx, th + o + 1, Tcp.OPT_NOP);
                o += 2;
            }
            Bytes.u8(tx, th + o, Tcp.OPT_TIMESTAMP);
            Bytes.u8(tx, th + o + 1, 10);
            Bytes.i32(tx, th + o + 2, tsNow());
            Bytes.i32(tx, th + o + 6, synAck ? t.tsRecent : 0);
            o += 10;
        }
        if (ws) {
            Bytes.u8(tx, th + o, Tcp.OPT_NOP);
            Bytes.u8(tx, th + o + 1, Tcp.OPT_WSCALE);
            Bytes.u8(tx, th + o + 2, 3);
            Bytes.u8(tx, th + o + 3, t.rcvWscale);
            o += 4;
        }
        int flags = Tcp.SYN | (synAck ? Tcp.ACK : 0);
        int window = advertise(t, true);
        Tcp.write(tx, th, t.localPort, t.remotePort, t.iss, synAck ? t.rcvNxt : 0, o, flags, window);
        t.lastAckSent = t.rcvNxt;
        Tcp.finishChecksum(tx, th, o, cfg.address, t.remoteAddr);
        n.counters().inc(Stat.TCP_OUT);
        n.ip().send(tx, Netisr.TX_IP, o, Ipv4.PROTO_TCP, t.remoteAddr, true);
        t.sndNxt = t.iss + 1;
        if (Seq.gt(t.sndNxt, t.sndMax)) {
            t.sndMax = t.sndNxt;
        }
        t.ackNow = false;
        if (t.rexmtAt == 0) {
            t.rexmtAt = n.now() + t.rto;
            scheduleTimer(t);
        }
        if (!t.rttTiming && t.backoff == 0) {
            t.rttTiming = true;
            t.rttSeq = t.iss;
            t.rttStart = n.now();
        }
    }

    /** Bytes of options {@link #sendData} puts on a segment now (timestamps, SACK blocks). */
    private static int optionBytes(Tcb t) {
        int o = t.tsOk ? 12 : 0;
        if (t.sackOk && !t.ooo.isEmpty()) {
            o += 4 + 8 * Math.min(t.tsOk ? 3 : 4, t.ooo.count);
        }
        return o;
    }

    /**
     * Builds and sends one segment at {@code seq} with {@code len} bytes from the send ring (and
     * FIN if flagged), with timestamps and SACK blocks as negotiated.
     */
    private void sendData(Tcb t, int seq, int len, int flags) {
        if (seq == t.sndUna && (len > 0 || (flags & Tcp.FIN) != 0)) {
            t.unaSentAt = n.now();
        }
        MemorySegment tx = n.txBuffer();
        long th = Netisr.TX_IP + Ipv4.MIN_HEADER;
        int o = 20;
        if (t.tsOk) {
            Bytes.u8(tx, th + o, Tcp.OPT_NOP);
            Bytes.u8(tx, th + o + 1, Tcp.OPT_NOP);
            Bytes.u8(tx, th + o + 2, Tcp.OPT_TIMESTAMP);
            Bytes.u8(tx, th + o + 3, 10);
            Bytes.i32(tx, th + o + 4, tsNow());
            Bytes.i32(tx, th + o + 8, t.tsRecent);
            o += 12;
        }
        if (t.sackOk && !t.ooo.isEmpty()) {
            // RFC 2018 4: the first block holds the most recently received segment
            int max = t.tsOk ? 3 : 4;
            int blocks = Math.min(max, t.ooo.count + 0);
            Bytes.u8(tx, th + o, Tcp.OPT_NOP);
            Bytes.u8(tx, th + o + 1, Tcp.OPT_NOP);
            Bytes.u8(tx, th + o + 2, Tcp.OPT_SACK);
            Bytes.u8(tx, th + o + 3, 2 + 8 * blocks);
            long b = th + o + 4;
            Bytes.i32(tx, b, t.ooo.lastLeft);
            Bytes.i32(tx, b + 4, t.ooo.lastRight);
            int written = 1;
            for (int i = 0; i < t.ooo.count && written < blocks; i++) {
                if (t.ooo.left[i] == t.ooo.lastLeft) {
                    continue;
                }
                Bytes.i32(tx, b + 8L * written, t.ooo.left[i]);
                Bytes.i32(tx, b + 8L * written + 4, t.ooo.right[i]);
                written++;
            }
            if (written < blocks) {
                Bytes.u8(tx, th + o + 3, 2 + 8 * written);
                blocks = written;
            }
            o += 4 + 8 * blocks;
        }
        if (len > 0) {
            t.stream.send.read(pos(t, seq), tx, th + o, len);
        }
        int window = advertise(t, false);
        Tcp.write(tx, th, t.localPort, t.remotePort, seq, t.rcvNxt, o, flags, window);
        t.lastAckSent = t.rcvNxt;
        Tcp.finishChecksum(tx, th, o + len, cfg.address, t.remoteAddr);
        n.counters().inc(Stat.TCP_OUT);
        n.ip().send(tx, Netisr.TX_IP, o + len, Ipv4.PROTO_TCP, t.remoteAddr, true);
        t.ackNow = false;
        t.unackedSegments = 0;
        t.delackAt = 0;
        int segLen = len + ((flags & Tcp.FIN) != 0 ? 1 : 0);
        if (segLen > 0) {
            boolean retransmission = Seq.lt(seq, t.sndMax);
            if (retransmission) {
                t.retransmits++;
                n.counters().inc(Stat.TCP_RETRANSMITS);
            } else {
                t.bytesOut += len;
                if (!t.rttTiming) {
                    t.rttTiming = true; // RFC 6298 3 / Karn: time only new data
                    t.rttSeq = seq;
                    t.rttStart = n.now();
                }
            }
            if ((flags & Tcp.FIN) != 0) {
                t.finSent = true;
                t.finSeq = seq + len;
                if (t.state == Tcb.ESTABLISHED) {
                    t.state = Tcb.FIN_WAIT_1;
                } else if (t.state == Tcb.CLOSE_WAIT) {
                    t.state = Tcb.LAST_ACK;
                }
            }
            t.sndNxt = seq + segLen;
            if (Seq.gt(t.sndNxt, t.sndMax)) {
                t.sndMax = t.sndNxt;
            }
            if (t.rexmtAt == 0) {
                t.rexmtAt = n.now() + t.rto; // RFC 6298 5.1
                scheduleTimer(t);
            }
        }
    }

    /** Retransmits the first unacknowledged segment (fast retransmit, partial ACK). */
    private void retransmitFirst(Tcb t) {
        int saved = t.sndNxt;
        long end = t.stream.send.tail();
        long p = pos(t, t.sndUna);
        int len = (int) Math.max(0, Math.min(t.mss - optionBytes(t), end - p));
        int flags = Tcp.ACK;
        if (t.finSent && t.sndUna + len == t.finSeq) {
            flags |= Tcp.FIN;
        }
        if (len > 0 || (flags & Tcp.FIN) != 0) {
            sendData(t, t.sndUna, len, flags);
        }
        t.sndNxt = Seq.max(saved, t.sndNxt);
        t.rttTiming = false; // Karn
    }

    /** Sends a bare segment without a TCB (RSTs). */
    private void sendRaw(int sport, int dst, int dport, int seq, int ack, int flags, int window) {
        MemorySegment tx = n.txBuffer();
        long th = Netisr.TX_IP + Ipv4.MIN_HEADER;
        Tcp.write(tx, th, sport, dport, seq, ack, 20, flags, window);
        Tcp.finishChecksum(tx, th, 20, cfg.address, dst);
        n.counters().inc(Stat.TCP_OUT);
        n.ip().send(tx, Netisr.TX_IP, 20, Ipv4.PROTO_TCP, dst, true);
    }

    // ================================================================== closing

    /** Sends RST and forgets the connection (abort, RFC 9293 3.10.5). */
    private void reset(Tcb t) {
        sendRaw(t.localPort, t.remoteAddr, t.remotePort, t.sndNxt, 0, Tcp.RST, 0);
        n.counters().inc(Stat.TCP_RST_OUT);
        finish(t, t.stream != null && !t.stream.closed ? "connection aborted" : null);
    }

    private void abortWith(Tcb t, String error) {
        finish(t, error);
    }

    private void finish(Tcb t, String error) {
        TcpStream st = t.stream; // drop() may give the rings back and detach it
        if (t.stream != null) {
            if (error != null && t.stream.error == null) {
                t.stream.error = error;
            }
            t.stream.finished = true;
            t.stream.signal();
        }
        drop(t);
        if (t.handler != null && t.channel != null) {
            TcpHandler h = t.handler;
            t.handler = null;
            try {
                h.onClosed(t.channel, error);
            } catch (Throwable e) {
                n.counters().inc(Stat.TCP_HANDLER_ERRORS);
            }
        } else if (t.handler != null && error != null) {
            TcpHandler h = t.handler; // a connect that never opened
            t.handler = null;
            try {
                h.onClosed(new TcpChannel(st, kick, t.localPort, t.remoteAddr, t.remotePort), error);
            } catch (Throwable e) {
                n.counters().inc(Stat.TCP_HANDLER_ERRORS);
            }
        }
    }

    /**
     * Removes the TCB from every table of this core. Counted once for a connection that was
     * counted opened, so that per core: active + passive opens + migrated in = closed + migrated
     * out + connections still open.
     */
    private void drop(Tcb t) {
        if (t.opened) {
            t.opened = false;
            n.counters().inc(Stat.TCP_CLOSED);
        }
        if (t.listener != null) {
            t.listener.halfOpen--;
            t.listener = null;
        }
        t.state = Tcb.CLOSED;
        maybeReturnRings(t);
        pcbs.remove(t.key);
        byId.remove(t.id);
        cancelTimer(t);
    }

    /** Takes the connection's entry off the wheel (its deadlines stay in the TCB). */
    private void cancelTimer(Tcb t) {
        if (t.timerId >= 0) {
            wheel.cancelTimer(t.timerId);
            byTimer.remove(t.timerId);
            t.timerId = -1;
            t.timerDeadline = 0;
        }
    }

    // ================================================================== timers

    /** RFC 1122 4.2.3.6: keep-alives only when the application asked (SO_KEEPALIVE). */
    private void armKeepalive(Tcb t) {
        t.keepaliveAt = t.keepAlive ? n.now() + cfg.tcpKeepaliveIdleNanos : 0;
    }

    /**
     * RFC 1122 4.2.3.6: after the idle time, probe with SEG.SEQ = SND.NXT - 1 (one byte of old
     * sequence space, which forces an ACK); drop the connection after the configured number of
     * unanswered probes.
     */
    private void keepaliveTimer(Tcb t, long now) {
        boolean synced = t.state == Tcb.ESTABLISHED || t.state == Tcb.CLOSE_WAIT || t.state == Tcb.FIN_WAIT_2;
        if (!t.keepAlive || !synced) {
            t.keepaliveAt = 0;
            return;
        }
        long idle = now - t.lastActivityNanos;
        if (idle < cfg.tcpKeepaliveIdleNanos || t.sndMax != t.sndUna) {
            t.keepaliveProbes = 0;
            t.keepaliveAt = Math.max(now, t.lastActivityNanos) + cfg.tcpKeepaliveIdleNanos;
            return;
        }
        if (t.keepaliveProbes >= cfg.tcpKeepaliveProbes) {
            n.counters().inc(Stat.TCP_KEEPALIVE_TIMEOUTS);
            sendRaw(t.localPort, t.remoteAddr, t.remotePort, t.sndNxt, 0, Tcp.RST, 0);
            n.counters().inc(Stat.TCP_RST_OUT);
            finish(t, "connection timed out (no answer to keepalive probes)");
            return;
        }
        t.keepaliveProbes++;
        n.counters().inc(Stat.TCP_KEEPALIVE_PROBES);
        int savedNxt = t.sndNxt;
        sendData(t, t.sndNxt - 1, 0, Tcp.ACK);
        t.sndNxt = savedNxt;
        t.keepaliveAt = now + cfg.tcpKeepaliveIntervalNanos;
    }

    /** (Re)schedules the connection's wheel entry for its earliest deadline. */
    private void scheduleTimer(Tcb t) {
        long d = Long.MAX_VALUE;
        if (t.rexmtAt != 0) d = Math.min(d, t.rexmtAt);
        if (t.rackAt != 0) d = Math.min(d, t.rackAt);
        if (t.tlpAt != 0) d = Math.min(d, t.tlpAt);
        if (t.persistAt != 0) d = Math.min(d, t.persistAt);
        if (t.delackAt != 0) d = Math.min(d, t.delackAt);
        if (t.keepaliveAt != 0) d = Math.min(d, t.keepaliveAt);
        if (t.timeWaitAt != 0) d = Math.min(d, t.timeWaitAt);
        if (d == Long.MAX_VALUE) {
            cancelTimer(t);
            return;
        }
        if (t.timerId >= 0 && t.timerDeadline <= d) {
            return; // an earlier wake-up is already scheduled; it re-arms on expiry
        }
        if (t.timerId >= 0) {
            wheel.cancelTimer(t.timerId);
            byTimer.remove(t.timerId);
        }
        t.timerId = wheel.scheduleTimer(d);
        t.timerDeadline = d;
        byTimer.put(t.timerId, t);
    }

    // ================================================================== ICMP errors

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
    public void icmpError(int remoteAddr, int remotePort, int localPort, int seq, int type, int code, int mtu) {
        n.checkOwner();
        Tcb t = pcbs.get(Tcb.key(remoteAddr, remotePort, localPort));
        if (t == null || t.state == Tcb.TIME_WAIT || Seq.lt(seq, t.sndUna) || !Seq.lt(seq, t.sndMax)) {
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
        if (type == io.flowstack.core.wire.Icmp.DEST_UNREACHABLE && t.state == Tcb.SYN_SENT
                && (code == io.flowstack.core.wire.Icmp.CODE_PROTOCOL_UNREACHABLE
                    || code == io.flowstack.core.wire.Icmp.CODE_PORT_UNREACHABLE)) {
            n.counters().inc(Stat.TCP_ICMP_ABORTS);
            abortWith(t, "connection refused (ICMP " + what + ")");
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
    private void pathMtu(Tcb t, int mtu) {
        int pmtu = Math.max(mtu, 576);
        int mss = Math.min(pmtu, n.mtu()) - Ipv4.MIN_HEADER - Tcp.MIN_HEADER;
        if (mss >= t.mss) {
            return; // not smaller than what we use: nothing to do (RFC 1191 6.3)
        }
        t.mss = mss;
        n.counters().inc(Stat.TCP_PMTU_UPDATES);
        if (t.synced() && t.sndNxt != t.sndUna) {
            t.sndNxt = t.sndUna;
            output(t);
        }
    }

    // ================================================================== rebalancing (docs/REBALANCING.md)

    /**
     * Takes every connection whose 4-tuple falls in {@code bucket} out of this core's tables for
     * core {@code target}: wheel entries cancelled (the deadlines travel in the control block),
     * rings no longer counted here, the stream and channel pointed at the new owner, a half-open
     * passive connection no longer counted against this core's listener replica.
     */
    public List<Tcb> emigrate(int bucket, IndirectionTable table, int target) {
        n.checkOwner();
        List<Tcb> out = new ArrayList<>();
        for (Tcb t : pcbs.values()) {
            if (table.bucket(FlowHash.hash4(cfg.address, t.remoteAddr, t.localPort, t.remotePort)) == bucket) {
                out.add(t);
            }
        }
        Netisr next = n.peer(target);
        for (Tcb t : out) {
            if (t.handler != null && t.channel != null) {
                try {
                    t.handler.onMoveOut(t.channel);
                } catch (Throwable e) {
                    n.counters().inc(Stat.TCP_HANDLER_ERRORS); // it moves anyway; the handler saw it leave
                }
            }
            pcbs.remove(t.key);
            byId.remove(t.id);
            cancelTimer(t);
            if (t.dirty) {
                t.dirty = false;
                dirty.remove(t); // the new owner outputs it on arrival
            }
            t.halfOpenMoving = t.listener != null;
            if (t.listener != null) {
                t.listener.halfOpen--;
                t.listener = null;
            }
            TcpStream st = t.stream;
            if (st != null) {
                if (!st.ringsReturned) {
                    rings.emigrate(st.send);
                    rings.emigrate(st.recv);
                }
                st.moveTo(next);
            }
            movedTo.put(t.id, target);
            n.counters().inc(Stat.TCP_MIGRATED_OUT);
        }
        return out;
    }

    /**
     * Adopts connections that moved here from core {@code from} with their bucket: into the
     * tables, timers re-armed from their deadlines, rings counted here, and each looked at once
     * (the application may have written or closed while it travelled; a doorbell rung at the
     * old core is forwarded, this covers one that was coalesced away).
     */
    public void immigrate(List<Tcb> in, int from) {
        n.checkOwner();
        for (Tcb t : in) {
            if (pcbs.containsKey(t.key) || byId.containsKey(t.id)) {
                throw new IllegalStateException("connection " + describe(t) + " (id " + t.id + ") from core "
                        + from + " collides with one of core " + n.core());
            }
            pcbs.put(t.key, t);
            byId.put(t.id, t);
            movedTo.remove(t.id);
            movedToOld.remove(t.id);
            if (t.halfOpenMoving) {
                t.halfOpenMoving = false;
                TcpListenerState l = listeners.get(t.localPort);
                if (l == null) {
                    drop(t); // the listener closed while it travelled: as if it never completed
                    continue;
                }
                t.listener = l;
                l.halfOpen++;
            }
            TcpStream st = t.stream;
            if (st != null && !st.ringsReturned) {
                rings.immigrate(st.send);
                rings.immigrate(st.recv);
            }
            if (t.handler != null && t.channel != null) {
                t.channel.rebind(kick);
                try {
                    t.handler.onMoveIn(t.channel);
                } catch (Throwable e) {
                    handlerFailed(t, e);
                    continue;
                }
            }
            n.counters().inc(Stat.TCP_MIGRATED_IN);
            scheduleTimer(t);
            if (st != null) {
                st.doorbellTaken();
                st.signal(); // a blocked reader or writer re-checks (its wake-ups come from here now)
            }
            markDirty(t);
        }
    }

    /** Periodic housekeeping (the netisr's tick): forgets moves older than 30 to 60 s. */
    public void tick(long now) {
        n.checkOwner();
        if (now - movedRotateAt < MOVED_GENERATION_NANOS) {
            return;
        }
        movedRotateAt = now;
        if (movedTo.isEmpty() && movedToOld.isEmpty()) {
            return;
        }
        Int2IntHashMap recycled = movedToOld;
        recycled.clear();
        movedToOld = movedTo;
        movedTo = recycled;
    }

    /** Runs expired timers; called by the netisr on every pass. */
    public int pollTimers(long now) {
        n.checkOwner();
        if (wheel.timerCount() == 0) {
            if (wheel.currentTickTime() < now) {
                wheel.resetStartTime(now); // an empty wheel jumps to now instead of ticking
            }
            return 0;
        }
        // Agrona's wheel advances one tick per poll: catch up to now (the netisr may have slept).
        int fired = 0;
        for (int guard = 0; guard < 1_000_000; guard++) {
            fired += wheel.poll(now, timerHandler, 1024);
            if (wheel.currentTickTime() > now || wheel.timerCount() == 0) {
                break;
            }
        }
        for (int i = 0; i < expired.size(); i++) {
            Tcb t = expired.get(i);
            if (t.state != Tcb.CLOSED) {
                runTimers(t, now);
            }
        }
        expired.clear();
        return fired;
    }

    private boolean onTimer(TimeUnit unit, long now, long timerId) {
        Tcb t = byTimer.remove(timerId);
        if (t != null && t.timerId == timerId) {
            t.timerId = -1;
            t.timerDeadline = 0;
            expired.add(t);
        }
        return true;
    }

    private void runTimers(Tcb t, long now) {
        if (t.timeWaitAt != 0 && now - t.timeWaitAt >= 0) {
            t.timeWaitAt = 0;
            finish(t, t.state == Tcb.TIME_WAIT ? null : "connection closed (FIN-WAIT-2 timeout)");
            return;
        }
        if (t.delackAt != 0 && now - t.delackAt >= 0) {
            t.delackAt = 0;
            t.ackNow = true;
        }
        if (t.tlpAt != 0 && now - t.tlpAt >= 0) {
            t.tlpAt = 0;
            lossProbe(t);
        }
        if (t.rackAt != 0 && now - t.rackAt >= 0) {
            t.rackAt = 0;
            if (t.sackOk && t.inRecovery) {
                recoveryLostRetransmission(t);
                sackRecoverySend(t);
            } else if (t.sackOk && t.inFlight() > 0 && !t.sb.isEmpty()
                    && Seq.gt(t.sb.lossPoint(t.sndUna, t.mss, t.dupThresh), t.sndUna)) {
                rtoRecoveryHole(t);
            }
        }
        if (t.rexmtAt != 0 && now - t.rexmtAt >= 0) {
            t.rexmtAt = 0;
            retransmitTimeout(t, now);
            if (t.state == Tcb.CLOSED) {
                return;
            }
        }
        if (t.persistAt != 0 && now - t.persistAt >= 0) {
            t.persistAt = 0;
            persistProbe(t);
        }
        if (t.keepaliveAt != 0 && now - t.keepaliveAt >= 0) {
            keepaliveTimer(t, now);
            if (t.state == Tcb.CLOSED) {
                return;
            }
        }
        output(t);
        scheduleTimer(t);
    }

    /** RFC 6298 5.4-5.7 and RFC 5681 3.1 (4): retransmission timeout. */
    private void retransmitTimeout(Tcb t, long now) {
        n.counters().inc(Stat.TCP_RTO);
        t.backoff++;
        int limit = t.state == Tcb.SYN_SENT || t.state == Tcb.SYN_RECEIVED ? cfg.tcpSynRetries : cfg.tcpMaxRetries;
        if (t.backoff > limit) {
            n.counters().inc(Stat.TCP_TIMEOUTS);
            if (t.state == Tcb.SYN_RECEIVED && t.listener != null) {
                drop(t);
            } else {
                sendRaw(t.localPort, t.remoteAddr, t.remotePort, t.sndNxt, 0, Tcp.RST, 0);
                n.counters().inc(Stat.TCP_RST_OUT);
                finish(t, t.softError == null ? "connection timed out"
                        : "connection timed out (last ICMP error: " + t.softError + ")");
            }
            return;
        }
        t.rto = Math.min(cfg.tcpRtoMaxNanos, t.rto * 2); // (5.5) back off
        t.rttTiming = false; // Karn
        if (t.state == Tcb.SYN_SENT || t.state == Tcb.SYN_RECEIVED) {
            t.sndNxt = t.iss;
            t.rexmtAt = 0;
            n.counters().inc(Stat.TCP_RETRANSMITS);
            sendSyn(t);
            return;
        }
        if (t.backoff == 1) {
            armUndo(t, true); // the first timeout of an episode: later ones are never spurious-checked
        }
        t.dupThresh = 3; // a timeout says the reordering estimate was too high (as Linux resets tp->reordering)
        t.ssthresh = t.cc.onRto(t, now);
        t.cwnd = t.mss; // loss window (RFC 5681 3.1)
        t.inRecovery = false;
        t.recover = t.sndMax; // RFC 6582 4: avoid false fast retransmits after RTO
        t.dupAcks = 0;
        t.sndNxt = t.sndUna; // go back: retransmit from the first unacknowledged byte
        t.tlpAt = 0;
        t.tlpEndSet = false;
        t.sb.clear(); // RFC 2018 8: after a timeout, forget SACK information (the receiver may renege)
        retransmitFirst(t);
        t.rexmtAt = now + t.rto;
    }

    /** RFC 9293 3.8.6.1: probe a zero window with one byte beyond it. */
    private void persistProbe(Tcb t) {
        if (t.sndWnd > 0 || t.stream == null) {
            return;
        }
        long p = pos(t, t.sndNxt);
        if (t.stream.send.tail() - p > 0) {
            n.counters().inc(Stat.TCP_PERSIST_PROBES);
            int savedWnd = t.sndWnd;
            sendData(t, t.sndNxt, 1, Tcp.ACK);
            t.sndWnd = savedWnd;
            t.backoff++;
            long next = Math.min(cfg.tcpRtoMaxNanos, t.rto << Math.min(t.backoff, 10));
            t.persistAt = n.now() + next;
            t.rexmtAt = 0;
        }
    }

    /** Human-readable summary of one connection (stats, ss -tni). */
    public static String describe(Tcb t) {
        return String.format("%s %s:%d rtt=%.1fms rto=%dms cwnd=%d ssthresh=%d in=%d out=%d retrans=%d",
                t.stateName(), Ipv4.toString(t.remoteAddr), t.remotePort, t.srtt / 1e6, t.rto / 1_000_000,
                t.cwnd, t.ssthresh, t.bytesIn, t.bytesOut, t.retransmits);
    }

    /**
     * Appends a copy of every connection of this core to {@code out}, for statistics (control
     * path: allocates; reads the TCBs only).
     */
    public void snapshot(List<TcpConnectionInfo> out) {
        n.checkOwner();
        for (Tcb t : pcbs.values()) {
            out.add(new TcpConnectionInfo(n.core(), t.stateName(), cfg.address, t.localPort, t.remoteAddr,
                    t.remotePort, t.srtt, t.rttvar, t.rto, t.mss, t.cwnd, t.ssthresh, t.sndWnd, t.inFlight(),
                    t.bytesIn, t.bytesOut, t.retransmits, t.cc == null ? null : t.cc.name()));
        }
    }
}
