package io.flowstack.core.tcp;

import io.flowstack.core.flow.IndirectionTable;
import io.flowstack.core.config.TcpSocketOptions;
import io.flowstack.core.stats.Stat;
import io.flowstack.core.wire.Ipv4;
import io.flowstack.core.wire.Tcp;
import java.lang.foreign.MemorySegment;

/**
 * Opening connections: the active open (RFC 9293 3.10.1), the listen path (LISTEN, 3.10.7.2),
 * option negotiation on SYNs (3.7.1 MSS, RFC 7323 window scale and timestamps, RFC 2018
 * SACK-permitted), completion of a handshake (to the accept queue or a handler) and of a SYN
 * cookie handshake ({@link SynCookies}).
 *
 * <p>Owned by: its netisr thread (through {@link TcpLayer}).
 */
final class TcpOpen extends TcpPart {
    private final Isn isn;
    /** RFC 9293 3.7.1 / RFC 1122 4.2.2.6: default send MSS when the peer gives none. */
    static final int DEFAULT_MSS = 536;
    /** RFC 7323 2.3: the largest shift. */
    static final int MAX_WSCALE = 14;

    TcpOpen(TcpLayer tcp) {
        super(tcp);
        this.isn = tcp.isn;
    }

    int mtuMss() {
        return n.mtu() - Ipv4.MIN_HEADER - Tcp.MIN_HEADER;
    }

    void listen(TcpListenerState l) {
        n.checkOwner();
        tcp.conns.listeners.put(l.port, l);
    }

    void unlisten(int port) {
        n.checkOwner();
        tcp.conns.listeners.remove(port);
    }

    /**
     * Active open (RFC 9293 3.10.1 OPEN call, active) from {@code localAddr}, one of the
     * interfaces' addresses (see {@link TcpLayer#sourceFor}): creates the TCB in SYN-SENT and
     * sends SYN. With per-socket options; events go to the upcalls {@code binder} makes, on this
     * netisr (null: blocking API).
     *
     * @return the stream, or null if the 4-tuple is in use on this core or not this core's;
     *     throws {@link TcpLimitException} when a stack limit refuses it
     * @throws IllegalArgumentException if {@code localAddr} is not one of the stack's addresses
     */
    TcpStream connect(int localAddr, int remoteAddr, int remotePort, int localPort, TcpSocketOptions o,
                      TcpUpcalls.Binder binder) {
        n.checkOwner();
        int lif = ifs.localIndex(localAddr);
        if (lif < 0) {
            throw new IllegalArgumentException("cannot connect from " + Ipv4.toString(localAddr)
                    + ": not an address of this stack (EADDRNOTAVAIL)");
        }
        long key = Tcb.key(remoteAddr, remotePort, localPort);
        if (tcp.conns.contains(lif, key) || tcp.conns.listeners.containsKey(localPort)) {
            return null;
        }
        IndirectionTable table = n.table();
        if (table.core(table.hash().hash4(localAddr, remoteAddr, localPort, remotePort)) != n.core()) {
            return null; // the tuple's bucket is not (or no longer) on this core: the caller tries another port
        }
        if (tcp.conns.size() >= tcp.conns.maxConnectionsPerCore) {
            n.counters().inc(Stat.TCP_TOO_MANY_CONNECTIONS);
            throw new TcpLimitException("connection limit reached ("
                    + cfg.tcpMaxConnections + " per stack): close connections or raise the limit");
        }
        // A 4-tuple in TIME-WAIT: skipped (the caller tries another port) unless tcp_tw_reuse's
        // conditions let the entry go (TcpTimeWait.connectReuse); then the ISS is above its SND.NXT.
        long reuse = tcp.timeWait.table.size() > 0 ? tcp.timeWait.connectReuse(lif, key) : -1;
        if (reuse == Long.MIN_VALUE) {
            return null;
        }
        Tcb t = tcp.conns.newTcb(lif, localPort, remoteAddr, remotePort);
        // The callback API borrows its rings when data flows; the blocking API's are lent now.
        t.stream = binder != null ? tcp.conns.newLazyStream(t.id, o)
                : tcp.conns.chargeMemory(o.memoryBytes()) ? tcp.conns.newStream(t.id, o) : null;
        if (t.stream == null) {
            tcp.conns.drop(t);
            throw new TcpLimitException("TCP buffer memory budget reached ("
                    + tcp.conns.memoryBudget + " bytes per stack): close connections, use smaller buffers or raise the budget");
        }
        applyOptions(t, o);
        t.binder = binder;
        // RFC 6528: the ISN is a function of the whole 4-tuple, the local address included
        initSendSequence(t, reuse >= 0 ? (int) reuse : isn.isn(localAddr, localPort, remoteAddr, remotePort, n.now()));
        t.rcvWscale = wscaleFor(o.receiveBufferBytes());
        t.state = TcpState.SYN_SENT;
        n.counters().inc(Stat.TCP_ACTIVE_OPENS);
        t.opened = true;
        tcp.out.sendSyn(t);
        return t.stream;
    }

    void applyOptions(Tcb t, TcpSocketOptions o) {
        t.options = o;
        t.nodelay = o.noDelay();
        t.keepAlive = o.keepAlive();
        t.cc = CongestionControl.of(o.congestionControl());
    }

    /**
     * RFC 9293 3.4.1 / 3.3.1: the send sequence space starts at ISS, nothing sent or acknowledged
     * yet (the SYN is sent next; its ACK moves SND.UNA and gives the ring position).
     */
    private static void initSendSequence(Tcb t, int iss) {
        t.iss = iss;
        t.sndUna = iss;
        t.sndNxt = iss;
        t.sndMax = iss;
        t.sndUnaPos = -1;
        t.recover = iss;
        t.sndSml = iss;
    }

    /** RFC 7323 2.2: the smallest shift that lets the window cover the whole buffer. */
    static int wscaleFor(int buffer) {
        int s = 0;
        while (s < MAX_WSCALE && (65535L << s) < buffer) {
            s++;
        }
        return s;
    }

    /**
     * RFC 9293 3.10.7.2: LISTEN. A listener takes segments sent to any of the stack's addresses
     * (a wildcard bind, as Linux's INADDR_ANY); the connection is born on the one the segment
     * was sent to, local interface {@code lif}.
     */
    void listenInput(TcpListenerState l, MemorySegment s, long th, int tlen, int doff, int lif, int src,
                             int sport, int dport) {
        int local = ifs.address(lif);
        int flags = Tcp.flags(s, th);
        if ((flags & Tcp.RST) != 0) {
            return;
        }
        if ((flags & Tcp.ACK) != 0) {
            if ((flags & Tcp.SYN) == 0 && cfg.tcpSynCookies
                    && cookieAck(l, s, th, tlen, doff, lif, src, sport, dport)) {
                return;
            }
            tcp.in.sendResetFor(s, th, tlen, doff, local, src, sport, dport);
            return;
        }
        if ((flags & Tcp.SYN) == 0) {
            return;
        }
        if (l.acceptor.closed()) {
            tcp.in.sendResetFor(s, th, tlen, doff, local, src, sport, dport);
            return;
        }
        int seq = Tcp.seq(s, th);
        if (l.halfOpen >= l.synBacklog || tcp.conns.size() >= tcp.conns.maxConnectionsPerCore) {
            if (cfg.tcpSynCookies) {
                l.overflowedAt = n.now();
                tcp.cookies.sendCookie(s, th, local, src, sport, dport, seq);
            } else {
                n.counters().inc(Stat.TCP_LISTEN_OVERFLOW);
            }
            return;
        }
        Tcb t = tcp.conns.newTcb(lif, dport, src, sport);
        t.listener = l;
        l.halfOpen++;
        applyOptions(t, l.options);
        t.irs = seq;
        t.rcvNxt = seq + 1;
        initSendSequence(t, isn.isn(local, dport, src, sport, n.now())); // RFC 6528: the 4-tuple
        negotiate(t, true);
        t.sndWnd = Tcp.window(s, th); // RFC 7323 2.2: the window of a SYN is never scaled
        t.maxSndWnd = Math.max(t.maxSndWnd, t.sndWnd);
        t.sndWl1 = seq;
        t.sndWl2 = t.iss;
        t.state = TcpState.SYN_RECEIVED;
        tcp.out.sendSyn(t);
    }

    /** Applies the options of a SYN (RFC 9293 3.7.1 MSS, RFC 7323 WS/TS, RFC 2018 SACK). */
    void negotiate(Tcb t, boolean passive) {
        int peerMss = tcp.opts.mss > 0 ? tcp.opts.mss : DEFAULT_MSS;
        t.mss = Math.max(64, Math.min(peerMss, mtuMss()));
        if (tcp.opts.wscale >= 0 && (passive || t.rcvWscale >= 0)) {
            t.wscaleOk = true;
            t.sndWscale = tcp.opts.wscale;
            if (tcp.opts.wscaleClamped) {
                n.counters().inc(Stat.TCP_WSCALE_CLAMPED); // RFC 7323 2.3: logged (counted), 14 used
            }
            if (passive) {
                t.rcvWscale = wscaleFor(t.options.receiveBufferBytes());
            }
        } else {
            t.wscaleOk = false;
            t.sndWscale = 0;
            t.rcvWscale = 0;
        }
        t.sackOk = tcp.opts.sackPermitted;
        if (tcp.opts.hasTimestamp) {
            t.tsOk = true;
            t.tsRecent = tcp.opts.tsVal;
            t.tsRecentAgeNanos = n.now();
        } else {
            t.tsOk = false;
        }
        // RFC 5681 3.1 / RFC 6928: initial window of 10 segments.
        t.cwnd = Math.min(10 * t.mss, Math.max(2 * t.mss, 14600));
    }

    void established(Tcb t) {
        t.state = TcpState.ESTABLISHED;
        t.rexmtAt = 0;
        t.backoff = 0;
        if (t.listener != null) {
            TcpListenerState l = t.listener;
            l.halfOpen--;
            t.listener = null;
            // A handler's connection borrows its rings when data flows (TcpConnections.lendRecv,
            // lendSend); one for the accept queue gets them now, for its application thread.
            t.stream = l.binder != null ? tcp.conns.newLazyStream(t.id, t.options)
                    : tcp.conns.chargeMemory(t.options.memoryBytes()) ? tcp.conns.newStream(t.id, t.options) : null;
            if (t.stream == null) {
                tcp.user.reset(t);
                return;
            }
            t.stream.established = true;
            if (l.binder != null) {
                t.binder = l.binder;
                n.counters().inc(Stat.TCP_PASSIVE_OPENS);
                t.opened = true;
                tcp.user.openChannel(t);
                tcp.timers.armKeepalive(t);
                tcp.timers.scheduleTimer(t);
                return;
            }
            if (!l.acceptor.offer(n.core(), t.stream, t.localAddr, t.localPort, t.remoteAddr, t.remotePort)) {
                n.counters().inc(Stat.TCP_LISTEN_OVERFLOW);
                t.stream.closed = true; // no application will ever see it: its rings go back now
                tcp.user.reset(t);
                return;
            }
            n.counters().inc(Stat.TCP_PASSIVE_OPENS);
            t.opened = true;
        } else {
            t.stream.established = true;
            t.stream.signal();
            if (t.binder != null) {
                tcp.user.openChannel(t);
            }
        }
        tcp.timers.armKeepalive(t);
        tcp.timers.scheduleTimer(t);
    }

    /** The ACK completing a SYN cookie handshake (RFC 4987 3.6) to local interface {@code lif}'s address. */
    boolean cookieAck(TcpListenerState l, MemorySegment s, long th, int tlen, int doff, int lif, int src,
                              int sport, int dport) {
        // Only while this listener sent cookies lately (Linux's tcp_synq_no_recent_overflow): else a
        // bare ACK is no cookie to try, and an off-path guess at the 24-bit MAC has nothing to win.
        if (n.now() - l.overflowedAt > SynCookies.VALID_NANOS) {
            n.counters().inc(Stat.TCP_SYN_COOKIES_UNSOLICITED);
            return false;
        }
        int ack = Tcp.ack(s, th);
        int seq = Tcp.seq(s, th);
        int cookie = ack - 1;
        int peerIsn = seq - 1;
        int counter = tcp.cookies.cookieCounter();
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
        if ((cookie & 0xFFFFFF) != tcp.cookies.cookieHash(src, ifs.address(lif), sport, dport, peerIsn, usedCounter, idx)) {
            n.counters().inc(Stat.TCP_SYN_COOKIES_BAD);
            return false;
        }
        if (tcp.conns.size() >= tcp.conns.maxConnectionsPerCore) {
            n.counters().inc(Stat.TCP_TOO_MANY_CONNECTIONS);
            return false;
        }
        n.counters().inc(Stat.TCP_SYN_COOKIES_OK);
        Tcb t = tcp.conns.newTcb(lif, dport, src, sport);
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
        t.mss = Math.min(SynCookies.COOKIE_MSS[idx], mtuMss());
        t.cwnd = Math.min(10 * t.mss, Math.max(2 * t.mss, 14600));
        t.sndWnd = Tcp.window(s, th);
        t.maxSndWnd = Math.max(t.maxSndWnd, t.sndWnd);
        t.sndWl1 = seq;
        t.sndWl2 = ack;
        t.listener = l;
        l.halfOpen++;
        t.rcvAdv = t.rcvNxt + 65535;
        established(t);
        if (t.state == TcpState.ESTABLISHED && tlen > doff) {
            tcp.in.segmentArrives(t, s, th, tlen, doff);
        }
        if (t.state != TcpState.CLOSED) {
            tcp.out.output(t);
        }
        return true;
    }
}
