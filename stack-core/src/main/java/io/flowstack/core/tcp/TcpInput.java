package io.flowstack.core.tcp;

import io.flowstack.core.stats.Stat;
import io.flowstack.core.wire.Ipv4;
import io.flowstack.core.wire.Tcp;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;

/**
 * Segment arrival, RFC 9293 3.10.7: demultiplexing to a control block or listener, CLOSED
 * (3.10.7.1), SYN-SENT (3.10.7.3) and every later state (3.10.7.4: sequence check with PAWS,
 * RST and SYN handling per RFC 5961, text, FIN), out-of-order data, TIME-WAIT.
 * The ACK field is {@link TcpAck}'s; listeners and SYN cookies are {@link TcpOpen}'s.
 *
 * <p>Owned by: its netisr thread (through {@link TcpLayer}).
 */
final class TcpInput extends TcpPart {
    /**
     * Unacknowledged in-order bytes that make an ACK immediate rather than owed to the batch's
     * end: a quarter of the receive buffer (at least two segments), so a sender is never held
     * by the window it was last told while a batch is read. Measured on a TAP with offloads
     * (docs/BENCHMARKS.md): a quarter of 1 MiB sends 0.52-0.55 ACKs per super-frame against
     * 0.67-0.72 at a fixed 64 KiB, and kernel -> stack rises 5-10 %.
     */
    static int ackNowBytes(Tcb t) {
        int buffer = t.stream != null ? t.stream.receiveBufferBytes : t.options.receiveBufferBytes();
        return Math.max(2 * t.mss, buffer / 4);
    }

    /**
     * Linux's quick-ack mode (tcp_event_data_recv, tcp_incr_quickack): the first data of a
     * connection, or the first after the receive side was idle longer than an RTO, is ACKed
     * without delay for up to {@code tcpQuickAcks} segments (16, Linux's TCP_MAX_QUICKACKS; at
     * most half the receive window in MSS-sized segments), so a sender in slow start is not held
     * by delayed ACKs (RFC 5681 4.2 allows delaying, RFC 9293 3.8.6.3 does not require it). An interactive connection
     * ({@link Tcb#pingpong}) lets its ACKs ride on the answers instead.
     */
    void quickAckOnStartOrAfterIdle(Tcb t) {
        long now = n.now();
        if (t.lastDataInAt == 0 || now - t.lastDataInAt > t.rto) {
            int window = t.stream != null ? t.stream.receiveBufferBytes : t.options.receiveBufferBytes();
            int budget = Math.min(cfg.tcpQuickAcks, Math.max(2, window / (2 * Math.max(1, t.mss))));
            t.quickAcks = Math.max(t.quickAcks, budget);
        }
        t.lastDataInAt = now;
    }

    /** RFC 7323 5.5: a tsRecent idle longer than 24 days is invalid for PAWS. */
    static final long PAWS_IDLE_NANOS = TimeUnit.DAYS.toNanos(24);
    /** The core's total of challenge ACKs per second, randomised (RFC 5961 7, CVE-2016-5696). */
    private final ChallengeAckBudget challengeBudget;
    /** RSTs in reply to segments for no connection (FreeBSD's badport_bandlim). */
    private final ResetLimit resetLimit = new ResetLimit(ResetLimit.PER_SECOND, ResetLimit.BURST);
    /** The use number of the challenge ACK budget's seed ({@link Isn#coreSeed}). */
    static final int CHALLENGE_SEED = 1;
    /** Linux's net.ipv4.tcp_invalid_ratelimit default: replies to unacceptable bare ACKs. */
    static final long OOW_ACK_INTERVAL_NANOS = TimeUnit.MILLISECONDS.toNanos(500);

    TcpInput(TcpLayer tcp) {
        super(tcp);
        this.challengeBudget = new ChallengeAckBudget(cfg.tcpChallengeAcksPerSecond,
                tcp.isn.coreSeed(n.core(), CHALLENGE_SEED));
    }

    /** TCP input for a validated datagram owned by this core ({@code len} = IP total length). */
    void input(MemorySegment s, long off, int len, boolean broadcast, boolean csumValid) {
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
        // RFC 9293 3.1 (checksum); RFC 1122 3.2.1 leaves verification to whoever can: a NIC that
        // verified it, or a local sender's partial checksum (correct by construction), is trusted.
        if (!csumValid && !Tcp.verifyChecksum(s, th, tlen, src, dst)) {
            n.counters().inc(Stat.TCP_BAD_CHECKSUM);
            return;
        }
        if (broadcast) {
            n.counters().inc(Stat.TCP_BROADCAST); // RFC 1122 4.2.3.10
            return;
        }
        // The local address is part of the 4-tuple (RFC 9293 3.3.1): each has its own table.
        // IP delivers only datagrams to one of ours (RFC 1122 3.2.1.3) or broadcast, dropped above.
        int lif = ifs.localIndex(dst);
        if (lif < 0) {
            n.counters().inc(Stat.TCP_NO_SOCKET);
            return;
        }
        int sport = Tcp.srcPort(s, th);
        int dport = Tcp.dstPort(s, th);
        tcp.opts.parse(s, th, doff);
        long key = Tcb.key(src, sport, dport);
        Tcb t = tcp.conns.find(lif, key);
        if (t == null && tcp.timeWait.table.size() > 0) {
            int tw = tcp.timeWait.find(lif, key);
            if (tw >= 0 && tcp.timeWait.input(tw, s, th, tlen, doff)) {
                return; // TIME-WAIT, from its entry (TcpTimeWait); false: a SYN reopened the 4-tuple
            }
        }
        if (t == null) {
            TcpListenerState l = tcp.conns.listeners.get(dport);
            if (l != null) {
                tcp.open.listenInput(l, s, th, tlen, doff, lif, src, sport, dport);
            } else {
                closedInput(s, th, tlen, doff, dst, src, sport, dport);
            }
            return;
        }
        t.acked = false;
        segmentArrives(t, s, th, tlen, doff);
        if (t.state == TcpState.TIME_WAIT) {
            tcp.timeWait.enter(t); // the control block goes, a TIME-WAIT entry stays (TcpTimeWait)
            return;
        }
        if (t.state == TcpState.CLOSED) {
            return;
        }
        if (t.ackNow) {
            // An ACK is due now (out of order, a filled hole, a FIN, a quarter of the receive
            // buffer unacknowledged, an unacceptable segment): output at once.
            tcp.out.output(t);
        } else {
            // Anything else waits for the rollup at the end of the batch: the ACK owed for every
            // second segment (one for the batch), the data that new ACKs let out (sent as one
            // burst, a super-frame where the NIC segments), window updates.
            tcp.conns.markDirty(t);
        }
    }

    /**
     * RFC 9293 3.10.7.1: CLOSED (no TCB): answer everything but a RST with a RST, from the
     * address the segment was sent to ({@code local}).
     */
    void closedInput(MemorySegment s, long th, int tlen, int doff, int local, int src, int sport, int dport) {
        int flags = Tcp.flags(s, th);
        n.counters().inc(Stat.TCP_NO_SOCKET);
        if ((flags & Tcp.RST) != 0) {
            return;
        }
        sendResetFor(s, th, tlen, doff, local, src, sport, dport);
    }

    /**
     * The RST answering the segment from {@code src:sport} to {@code local:dport}, which found
     * no connection (RFC 9293 3.10.7.1, 3.10.7.2), unless the core's RSTs of that kind are over
     * their rate ({@link ResetLimit}; counted).
     */
    void sendResetFor(MemorySegment s, long th, int tlen, int doff, int local, int src, int sport, int dport) {
        if (!resetLimit.take(n.now())) {
            n.counters().inc(Stat.TCP_RST_LIMITED);
            return;
        }
        int flags = Tcp.flags(s, th);
        int segLen = tlen - doff + ((flags & Tcp.SYN) != 0 ? 1 : 0) + ((flags & Tcp.FIN) != 0 ? 1 : 0);
        if ((flags & Tcp.ACK) != 0) {
            tcp.out.sendRaw(local, dport, src, sport, Tcp.ack(s, th), 0, Tcp.RST, 0); // <SEQ=SEG.ACK><CTL=RST>
        } else {
            tcp.out.sendRaw(local, dport, src, sport, 0, Tcp.seq(s, th) + segLen, Tcp.RST | Tcp.ACK, 0);
        }
        n.counters().inc(Stat.TCP_RST_OUT);
    }

    /** RFC 9293 3.10.7.3: SYN-SENT. */
    void synSentInput(Tcb t, MemorySegment s, long th, int tlen, int doff) {
        int flags = Tcp.flags(s, th);
        int seq = Tcp.seq(s, th);
        int ack = Tcp.ack(s, th);
        boolean ackOk = false;
        if ((flags & Tcp.ACK) != 0) {
            if (Seq.le(ack, t.iss) || Seq.gt(ack, t.sndMax)) {
                if ((flags & Tcp.RST) == 0) {
                    tcp.out.sendRaw(t.localAddr, t.localPort, t.remoteAddr, t.remotePort, ack, 0, Tcp.RST, 0);
                    n.counters().inc(Stat.TCP_RST_OUT);
                }
                return;
            }
            ackOk = true;
        }
        if ((flags & Tcp.RST) != 0) {
            if (ackOk) {
                tcp.user.abortWith(t, "connection refused");
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
        tcp.open.negotiate(t, false);
        if (ackOk) {
            tcp.ack.ackAdvance(t, ack);
        }
        if (Seq.gt(t.sndUna, t.iss)) {
            t.sndWnd = Tcp.window(s, th); // unscaled in a SYN
            t.maxSndWnd = Math.max(t.maxSndWnd, t.sndWnd);
            t.sndWl1 = seq;
            t.sndWl2 = ack;
            tcp.open.established(t);
            t.ackNow = true;
        } else {
            // simultaneous open (RFC 9293 3.5 figure 8)
            t.state = TcpState.SYN_RECEIVED;
            t.sndWnd = Tcp.window(s, th);
            t.maxSndWnd = Math.max(t.maxSndWnd, t.sndWnd);
            t.sndWl1 = seq;
            t.sndWl2 = ack;
            t.sndNxt = t.iss;
            tcp.out.sendSyn(t);
        }
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
    static boolean acceptable(Tcb t, int seq, int segLen, int rcvWnd) {
        return acceptable(t.rcvNxt, seq, segLen, rcvWnd);
    }

    /** {@link #acceptable(Tcb, int, int, int)} for a receive sequence space at {@code rcvNxt}. */
    static boolean acceptable(int rcvNxt, int seq, int segLen, int rcvWnd) {
        if (segLen == 0) {
            return Seq.le(rcvNxt, seq) && Seq.le(seq, rcvNxt + rcvWnd);
        }
        if (rcvWnd == 0) {
            return seq == rcvNxt;
        }
        return Seq.inWindow(seq, rcvNxt, rcvNxt + rcvWnd)
                || Seq.inWindow(seq + segLen - 1, rcvNxt, rcvNxt + rcvWnd);
    }

    /** RFC 9293 3.10.7.4: every state after SYN-SENT. */
    void segmentArrives(Tcb t, MemorySegment s, long th, int tlen, int doff) {
        t.lastActivityNanos = n.now();
        t.keepaliveProbes = 0;
        if (t.state == TcpState.SYN_SENT) {
            synSentInput(t, s, th, tlen, doff);
            return;
        }
        int flags = Tcp.flags(s, th);
        int seq = Tcp.seq(s, th);
        int dataLen = tlen - doff;
        long dataOff = th + doff;
        // RFC 7323 5.3 R1: PAWS
        if (t.tsOk && tcp.opts.hasTimestamp && (flags & Tcp.RST) == 0 && Seq.lt(tcp.opts.tsVal, t.tsRecent)
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
            if (t.state == TcpState.SYN_RECEIVED && (flags & Tcp.ACK) == 0) {
                // retransmitted SYN: answer with our SYN-ACK again
                t.sndNxt = t.iss;
                tcp.out.sendSyn(t);
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
        if (t.tsOk && tcp.opts.hasTimestamp && Seq.le(seq, t.lastAckSent) && Seq.ge(tcp.opts.tsVal, t.tsRecent)
                && (flags & Tcp.RST) == 0) {
            // RFC 7323 4.3 / 5.3 R3: SEG.TSval >= TS.Recent and SEG.SEQ <= Last.ACK.sent
            t.tsRecent = tcp.opts.tsVal;
            t.tsRecentAgeNanos = n.now();
        }
        // second: RST (RFC 5961 3.2)
        if ((flags & Tcp.RST) != 0) {
            if (seq == t.rcvNxt) {
                n.counters().inc(Stat.TCP_RST_IN);
                if (t.state == TcpState.SYN_RECEIVED && t.listener != null) {
                    tcp.conns.drop(t); // passive open: back to LISTEN (RFC 9293 3.10.7.4)
                } else if (t.state == TcpState.CLOSING || t.state == TcpState.LAST_ACK || t.state == TcpState.TIME_WAIT) {
                    tcp.conns.drop(t);
                } else {
                    n.counters().inc(Stat.TCP_ESTABLISHED_RESETS);
                    tcp.user.abortWith(t, "connection reset by peer");
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
        if (t.state == TcpState.SYN_RECEIVED) {
            if (Seq.lt(t.sndUna, ack) && Seq.le(ack, t.sndMax)) {
                tcp.ack.rttSample(t, ack);
                t.sndWnd = Tcp.window(s, th) << t.sndWscale;
                t.maxSndWnd = Math.max(t.maxSndWnd, t.sndWnd);
                t.sndWl1 = seq;
                t.sndWl2 = ack;
                tcp.ack.ackAdvance(t, ack);
                tcp.open.established(t);
                if (t.state == TcpState.CLOSED) {
                    return;
                }
            } else {
                tcp.out.sendRaw(t.localAddr, t.localPort, t.remoteAddr, t.remotePort, ack, 0, Tcp.RST, 0);
                n.counters().inc(Stat.TCP_RST_OUT);
                return;
            }
        }
        if (!tcp.ack.processAck(t, s, th, seq, ack, segLen)) {
            return;
        }
        if (t.state == TcpState.CLOSED) {
            return;
        }
        // seventh: segment text
        if (dataLen > 0 && t.stream != null && t.stream.closed && t.binder == null
                && (t.state == TcpState.FIN_WAIT_1 || t.state == TcpState.FIN_WAIT_2)) {
            // RFC 1122 4.2.2.13 (and Linux's TCPAbortOnData): data for an application that has
            // closed can never be read: reset instead of letting it fill the window.
            n.counters().inc(Stat.TCP_ABORT_ON_DATA);
            tcp.user.reset(t);
            return;
        }
        if (dataLen > 0 && (t.state == TcpState.ESTABLISHED || t.state == TcpState.FIN_WAIT_1 || t.state == TcpState.FIN_WAIT_2)) {
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
                OutOfOrder ooo = t.oooForUpdate();
                ooo.finPending = true;
                ooo.finSeq = finSeq;
                t.ackNow = true;
            } else {
                t.ackNow = true; // duplicate FIN: ack it (in TIME-WAIT TcpTimeWait answers, from the entry)
            }
        }
    }

    void receiveData(Tcb t, MemorySegment s, long dataOff, int seq, int dataLen, int flags) {
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
        ByteRing recv = st.recv != null ? st.recv : tcp.conns.lendRecv(t); // callback API: lent on arrival
        if (recv == null) {
            t.ackNow = true; // no memory for it now (counted): dropped, the peer retransmits
            return;
        }
        long tail = recv.tail();
        recv.write(tail + (seq - t.rcvNxt), s, dataOff, dataLen);
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
            if (t.binder == null) {
                // a waiting reader: signalled once, at the end of the pass; queued before the
                // publish (TcpStream.wakeOwed)
                tcp.user.wakeLater(st);
            }
            recv.tail(tail + (newNxt - t.rcvNxt));
            t.rcvNxt = newNxt;
            if (t.binder != null) {
                tcp.user.deliverToHandler(t);
            }
            if (t.ooo.finPending && t.ooo.finSeq == t.rcvNxt) {
                t.ooo.finPending = false;
                receiveFin(t);
            }
            // RFC 9293 3.8.6.3 / RFC 5681 4.2: ACK at least every second full segment; ACK at
            // once when a hole was filled (so the sender's recovery ends quickly). A super-frame
            // (more than one MSS, coalesced by the NIC) counts as the segments it was cut from.
            // The every-second-segment ACK is owed, not sent here: the rollup at the end of the
            // receive batch sends one ACK for all of it (as Linux's GRO gives one ACK per
            // super-frame), unless a quarter of the receive buffer is already unacknowledged.
            t.unackedSegments += dataLen > t.mss ? 2 : 1;
            quickAckOnStartOrAfterIdle(t);
            if (filled || t.rcvNxt - t.lastAckSent >= ackNowBytes(t)) {
                t.ackNow = true;
            } else if (t.unackedSegments >= 2) {
                t.ackDue = true;
            } else if (t.quickAcks > 0 && !t.pingpong) {
                t.quickAcks--; // quick-ack mode: the sender's slow start needs every ACK
                t.ackDue = true;
            } else if (t.delackAt == 0) {
                t.delackAt = n.now() + cfg.tcpDelayedAckNanos;
                tcp.timers.scheduleTimer(t);
            }
        } else {
            // RFC 9293 3.10.7.4 / RFC 5681 4.2: out of order: keep it, send a duplicate ACK at once
            if (!t.oooForUpdate().add(seq, seq + dataLen)) {
                n.counters().inc(Stat.TCP_OOO_DROPPED);
            } else {
                n.counters().inc(Stat.TCP_OOO_SEGMENTS);
            }
            // Not deferred to the rollup: every out-of-order segment must produce its own
            // duplicate ACK, or the sender never counts the three it needs.
            tcp.out.sendData(t, TcpOutput.ackSeq(t), 0, Tcp.ACK);
        }
    }

    void receiveFin(Tcb t) {
        t.finReceived = true;
        t.rcvNxt++;
        t.ackNow = true;
        t.stream.eof = true;
        t.stream.signal();
        if (t.binder != null && t.up != null) {
            t.peerClosedPending = true; // told once the handler has consumed every byte before the FIN
            tcp.user.deliverToHandler(t);
        }
        switch (t.state) {
            case SYN_RECEIVED, ESTABLISHED -> t.state = TcpState.CLOSE_WAIT;
            case FIN_WAIT_1 -> {
                if (t.finSent && Seq.gt(t.sndUna, t.finSeq)) {
                    enterTimeWait(t);
                } else {
                    t.state = TcpState.CLOSING;
                }
            }
            case FIN_WAIT_2 -> enterTimeWait(t);
            default -> { }
        }
    }

    /**
     * RFC 9293 3.10.7.4: TIME-WAIT. Only the state changes here: once the segment is processed,
     * {@link #input} hands the control block to {@link TcpTimeWait#enter}, which sends the ACK
     * owed, ends the connection and keeps a small entry for the 2 MSL.
     */
    void enterTimeWait(Tcb t) {
        t.state = TcpState.TIME_WAIT;
    }

    /**
     * RFC 5961 3.2 / 4.2 / 5.2: a challenge ACK, limited as RFC 5961 7 asks and as Linux's
     * tcp_send_challenge_ack does: at most one per 500 ms per connection (the clock of its
     * out-of-window ACKs, {@link Tcb#lastOowAckAt}), then the core's randomised total.
     */
    void challengeAck(Tcb t) {
        long now = n.now();
        if (now - t.lastOowAckAt < OOW_ACK_INTERVAL_NANOS) {
            n.counters().inc(Stat.TCP_CHALLENGE_ACK_CONN_LIMITED);
            return;
        }
        t.lastOowAckAt = now;
        if (challengeAllowed()) {
            t.ackNow = true;
        }
    }

    /**
     * Whether the core's budget (RFC 5961 7: per core, per second, drawn at random each second,
     * {@link ChallengeAckBudget}) lets one more challenge ACK go now; counted either way. The
     * caller has checked its connection's own limit.
     */
    boolean challengeAllowed() {
        if (!challengeBudget.take(n.now())) {
            n.counters().inc(Stat.TCP_CHALLENGE_ACK_LIMITED);
            return false;
        }
        n.counters().inc(Stat.TCP_CHALLENGE_ACKS);
        return true;
    }
}
