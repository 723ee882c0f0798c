package io.flowstack.core.tcp;

import io.flowstack.core.percore.CoreContext;
import io.flowstack.core.stats.Stat;
import io.flowstack.core.wire.Ipv4;
import io.flowstack.core.wire.Tcp;
import io.flowstack.core.wire.TcpOptionWriter;
import io.flowstack.nic.NicQueue;
import io.flowstack.nic.TxFrame;
import java.lang.foreign.MemorySegment;

/**
 * Output (BSD's tcp_output): what the windows allow (Nagle, sender SWS avoidance, RFC 9293
 * 3.7.4 and 3.8.6.2.1), pure ACKs and window updates (3.8.6.2.2), SYNs with their options,
 * segment building with timestamps and SACK blocks, bare RSTs, and the end-of-batch rollup.
 *
 * <p>Owned by: its netisr thread (through {@link TcpLayer}).
 */
final class TcpOutput extends TcpPart {
    /** Offloads a gathered segment needs: payload slices and a checksum the device completes. */
    private static final int GATHER = NicQueue.TX_GATHER | NicQueue.TX_CSUM;
    /** Offloads a super-frame needs. */
    private static final int TSO = GATHER | NicQueue.TX_TSO4;

    TcpOutput(TcpLayer tcp) {
        super(tcp);
    }

    /** End of a netisr batch: runs output for every connection input touched. */
    void rollup() {
        n.checkOwner();
        for (int i = 0; i < tcp.conns.dirty.size(); i++) {
            Tcb t = tcp.conns.dirty.get(i);
            t.dirty = false;
            if (t.state != TcpState.CLOSED && tcp.user.applyAppFlags(t)) {
                output(t);
            }
        }
        tcp.conns.dirty.clear();
        tcp.conns.wakeRingWaiters();
    }

    /** Our timestamp clock: milliseconds (RFC 7323 5.4: 1 ms to 1 s per tick). */
    int tsNow() {
        return (int) (n.now() / 1_000_000L);
    }

    /**
     * The TSval connection {@code t} sends now: our clock plus the connection's random offset
     * (RFC 7323 7.1, 5.4: the clock's origin is arbitrary, and per connection it hides the host's
     * uptime and ties no two connections together). Echoed back, it is compared with the same.
     */
    int tsVal(Tcb t) {
        return tsNow() + t.tsOffset;
    }

    /**
     * Sequence number of a bare ACK. Not SND.NXT, which points back at SND.UNA while a timeout
     * resends old data: the peer has had those bytes, would find the ACK below its window and
     * drop it (answering with an ACK of its own). BSD's tcp_output uses SND.MAX ("for ACK only
     * packets ... we want the sequence number of the next unsent octet"); Linux's
     * tcp_acceptable_seq the same, capped at the peer's right edge if it shrank its window, so
     * the ACK stays acceptable under RFC 9293 3.10.7.4.
     */
    static int ackSeq(Tcb t) {
        int edge = t.sndUna + t.sndWnd;
        return Seq.le(t.sndMax, edge) ? t.sndMax : edge;
    }

    /**
     * The most a retransmission starting at {@code seq} may carry: never past the peer's right
     * edge SND.UNA + SND.WND, the window scaled (RFC 9293 3.8.6, RFC 7323 2.3), whatever the MSS
     * or cwnd allow (a first transmission was cut to the window then; the window may have shrunk
     * since). Into a zero window, the first unacknowledged octet alone: it probes the window
     * (RFC 9293 3.8.6.1), as Linux's tcp_retransmit_skb does.
     */
    static int windowRoom(Tcb t, int seq) {
        return t.sndWnd == 0 && seq == t.sndUna ? 1 : Math.max(0, t.sndUna + t.sndWnd - seq);
    }

    /** Ring position of sequence number {@code seq} in the send ring. */
    static long pos(Tcb t, int seq) {
        return t.sndUnaPos + (seq - t.sndUna);
    }

    /**
     * Ring position after the last byte the application wrote: the send ring's tail, or, for a
     * callback connection holding no send ring (nothing unsent, everything acknowledged:
     * {@code TcpConnections.returnIdleRings}), SND.MAX's position less our FIN if it was sent (a
     * FIN occupies sequence space, RFC 9293 3.4, but no byte of the ring: its retransmission
     * carries no data).
     */
    static long sendEnd(Tcb t) {
        ByteRing r = t.stream.send;
        return r != null ? r.tail() : pos(t, t.finSent ? t.finSeq : t.sndMax);
    }

    /**
     * tcp_output: sends what the windows allow (data, FIN), a pure ACK or window update if one
     * is due, and arms the retransmission or persist timer.
     */
    void output(Tcb t) {
        n.checkOwner();
        if (t.state == TcpState.CLOSED || t.state == TcpState.SYN_SENT || t.state == TcpState.LISTEN) {
            return;
        }
        if (t.state == TcpState.SYN_RECEIVED) {
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
        boolean canSend = t.state == TcpState.ESTABLISHED || t.state == TcpState.CLOSE_WAIT
                || ((t.state == TcpState.FIN_WAIT_1 || t.state == TcpState.CLOSING || t.state == TcpState.LAST_ACK)
                && Seq.lt(t.sndNxt, t.finSeq));
        boolean sent = false;
        if (canSend) {
            // The flag first, then the tail: the application publishes its last bytes before it
            // sets shutdownOutput/closed, so this order never places the FIN before data that
            // was written ahead of it (the reverse order cut responses short under load).
            boolean wantFin = st.shutdownOutput || st.closed;
            long end = sendEnd(t);
            t.sendTailSeen = end;
            while (true) {
                long p = pos(t, t.sndNxt);
                long avail = end - p;
                int win = Math.min(t.sndWnd, t.cwnd);
                int usable = t.sndUna + win - t.sndNxt;
                int maxData = t.mss - optionBytes(t); // RFC 9293 3.7.1: options come out of the MSS
                int len = (int) Math.max(0, Math.min(Math.min(avail, maxBurst(t, maxData)), usable));
                if (len > maxData && len < avail) {
                    len -= len % maxData; // a super-frame ends on a segment boundary (Linux's tcp_mss_split_point)
                }
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
                    // RFC 9293 3.8.6.1: zero window: probe with the persist timer, backed off
                    t.persistAt = n.now() + TcpTimers.persistInterval(t, cfg.tcpRtoMaxNanos);
                    tcp.timers.scheduleTimer(t);
                }
                break;
            }
        }
        if (!sent && (t.ackNow || t.ackDue || windowUpdateDue(t))) {
            sendData(t, ackSeq(t), 0, Tcp.ACK);
        }
        if (sent || t.acked || t.tlpAt == 0) {
            tcp.recovery.armLossProbe(t);
        }
    }

    /**
     * The most payload one send may carry: one segment, or with TCP segmentation offload as many
     * whole segments as an IPv4 datagram of 65,535 bytes holds (the device cuts it, each piece
     * with these headers; RFC 9293 3.7.1's MSS bounds each piece, not the super-frame).
     */
    int maxBurst(Tcb t, int maxData) {
        if ((n.txOffloads() & TSO) != TSO) {
            return maxData;
        }
        int room = Ipv4.MAX_DATAGRAM - Ipv4.MIN_HEADER - (t.mss - maxData) - Tcp.MIN_HEADER;
        return Math.max(maxData, room - room % maxData);
    }

    /** RFC 9293 3.8.6.2.2: advertise a larger window once it grew by min(buffer/2, MSS). */
    boolean windowUpdateDue(Tcb t) {
        if (t.stream == null || t.finReceived) {
            return false;
        }
        int free = freeReceive(t);
        int edge = t.rcvNxt + (((free) >>> t.rcvWscale) << t.rcvWscale);
        int grow = edge - t.rcvAdv;
        // Data ACKs carry the window anyway; a pure update is worth a segment only when the
        // peer may be about to stall on what it was last told.
        int remaining = t.rcvAdv - t.rcvNxt;
        int cap = t.stream.receiveBufferBytes;
        return grow > 0 && grow >= Math.min(cap / 2, t.mss) && remaining < Math.min(cap / 4, 16 * t.mss);
    }

    int freeReceive(Tcb t) {
        ByteRing r = t.stream.recv; // none (callback API, drained): the whole buffer is free
        return r == null ? t.stream.receiveBufferBytes : r.capacity() - (int) (r.tail() - r.head());
    }

    /** Window field for an outgoing segment and the right edge it advertises. */
    int advertise(Tcb t, boolean syn) {
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

    void sendSyn(Tcb t) {
        boolean synAck = t.state == TcpState.SYN_RECEIVED;
        MemorySegment tx = n.txBuffer();
        long th = CoreContext.TX_IP + Ipv4.MIN_HEADER;
        boolean sack = !synAck || t.sackOk;
        boolean ts = !synAck || t.tsOk;
        boolean ws = !synAck || t.wscaleOk;
        // RFC 9293 3.7.1 MSS, RFC 2018 SACK-permitted, RFC 7323 timestamps and window scale; a
        // SYN-ACK carries only what the SYN offered (RFC 7323 1.3, 2.2; RFC 2018 2)
        int o = (int) (TcpOptionWriter.syn(tx, th + Tcp.MIN_HEADER, tcp.open.mtuMss(), sack, ts, tsVal(t),
                synAck ? t.tsRecent : 0, ws, t.rcvWscale) - th);
        int flags = Tcp.SYN | (synAck ? Tcp.ACK : 0);
        int window = advertise(t, true);
        Tcp.write(tx, th, t.localPort, t.remotePort, t.iss, synAck ? t.rcvNxt : 0, o, flags, window);
        t.lastAckSent = t.rcvNxt;
        Tcp.finishChecksum(tx, th, o, t.localAddr, t.remoteAddr);
        n.counters().inc(Stat.TCP_OUT);
        n.ipSend(tx, CoreContext.TX_IP, o, Ipv4.PROTO_TCP, t.localAddr, t.remoteAddr, true);
        t.sndNxt = t.iss + 1;
        if (Seq.gt(t.sndNxt, t.sndMax)) {
            t.sndMax = t.sndNxt;
        }
        t.ackNow = false;
        if (t.rexmtAt == 0) {
            t.rexmtAt = n.now() + t.rto;
            tcp.timers.scheduleTimer(t);
        }
        if (!t.rttTiming && t.backoff == 0) {
            t.rttTiming = true;
            t.rttSeq = t.iss;
            t.rttStart = n.now();
        }
    }

    /** Bytes of options {@link #sendData} puts on a segment now (timestamps, SACK blocks). */
    static int optionBytes(Tcb t) {
        int blocks = t.sackOk ? Math.min(TcpOptionWriter.maxSackBlocks(t.tsOk), t.ooo.count) : 0;
        return TcpOptionWriter.dataLength(t.tsOk, blocks);
    }

    /**
     * Builds and sends one segment at {@code seq} with {@code len} bytes from the send ring (and
     * FIN if flagged), with timestamps and SACK blocks as negotiated.
     */
    void sendData(Tcb t, int seq, int len, int flags) {
        if (seq == t.sndUna && (len > 0 || (flags & Tcp.FIN) != 0)) {
            t.unaSentAt = n.now();
        }
        MemorySegment tx = n.txBuffer();
        long th = CoreContext.TX_IP + Ipv4.MIN_HEADER;
        long p = th + Tcp.MIN_HEADER;
        if (t.tsOk) {
            p = TcpOptionWriter.timestamps(tx, p, tsVal(t), t.tsRecent); // RFC 7323 3.2, 7.1
        }
        if (t.sackOk && !t.ooo.isEmpty()) {
            // RFC 2018 4: the first block holds the most recently received segment
            p = TcpOptionWriter.sackRecentFirst(tx, p, t.ooo.lastLeft, t.ooo.lastRight, t.ooo.left, t.ooo.right,
                    t.ooo.count, TcpOptionWriter.maxSackBlocks(t.tsOk));
        }
        int o = (int) (p - th);
        boolean gather = len > 0 && (n.txOffloads() & GATHER) == GATHER;
        if (len > 0 && !gather) {
            t.stream.send.read(pos(t, seq), tx, th + o, len);
        }
        int window = advertise(t, false);
        Tcp.write(tx, th, t.localPort, t.remotePort, seq, t.rcvNxt, o, flags, window);
        t.lastAckSent = t.rcvNxt;
        n.counters().inc(Stat.TCP_OUT);
        if (gather) {
            // The payload leaves from the send ring (one copy, by the kernel); the device
            // completes the checksum (RFC 9293 3.1) and cuts a super-frame into segments of
            // MSS-less-options payload bytes, each with these headers.
            TxFrame f = n.txFrame().headers(tx, 0, (int) (th + o));
            t.stream.send.appendTo(f, pos(t, seq), len);
            Tcp.partialChecksum(tx, th, o + len, t.localAddr, t.remoteAddr);
            f.checksum((int) th, Tcp.CHECKSUM);
            int segment = t.mss - (o - Tcp.MIN_HEADER); // o counts the fixed header too
            if (len > segment) {
                f.gso(TxFrame.GSO_TCPV4, segment);
            }
            n.ipSendFrame(f, Ipv4.PROTO_TCP, t.localAddr, t.remoteAddr);
        } else {
            Tcp.finishChecksum(tx, th, o + len, t.localAddr, t.remoteAddr);
            n.ipSend(tx, CoreContext.TX_IP, o + len, Ipv4.PROTO_TCP, t.localAddr, t.remoteAddr, true);
        }
        t.ackNow = false;
        t.ackDue = false;
        t.unackedSegments = 0;
        t.delackAt = 0;
        int segLen = len + ((flags & Tcp.FIN) != 0 ? 1 : 0);
        if (segLen > 0) {
            boolean retransmission = Seq.lt(seq, t.sndMax);
            if (!retransmission && len > 0 && t.lastDataInAt != 0
                    && n.now() - t.lastDataInAt < cfg.tcpDelayedAckNanos) {
                t.pingpong = true; // we answer soon after receiving (Linux's tcp_event_data_sent)
            }
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
                if (t.state == TcpState.ESTABLISHED) {
                    t.state = TcpState.FIN_WAIT_1;
                } else if (t.state == TcpState.CLOSE_WAIT) {
                    t.state = TcpState.LAST_ACK;
                }
            }
            t.sndNxt = seq + segLen;
            if (Seq.gt(t.sndNxt, t.sndMax)) {
                t.sndMax = t.sndNxt;
            }
            if (t.rexmtAt == 0) {
                t.rexmtAt = n.now() + t.rto; // RFC 6298 5.1
                tcp.timers.scheduleTimer(t);
            }
        }
    }

    /**
     * Sends a bare ACK without a TCB (a TIME-WAIT entry's, {@link TcpTimeWait}), with the
     * timestamps option if {@code ts} (RFC 7323 3.2: TSval our clock plus the 4-tuple's offset,
     * the one its connection had, 7.1; TSecr {@code tsEcr}), from local address {@code src}.
     */
    void sendBareAck(int src, int sport, int dst, int dport, int seq, int ack, int window, boolean ts, int tsEcr) {
        MemorySegment tx = n.txBuffer();
        long th = CoreContext.TX_IP + Ipv4.MIN_HEADER;
        long p = th + Tcp.MIN_HEADER;
        if (ts) {
            p = TcpOptionWriter.timestamps(tx, p, tsNow() + tcp.isn.tsOffset(src, sport, dst, dport), tsEcr);
        }
        int o = (int) (p - th);
        Tcp.write(tx, th, sport, dport, seq, ack, o, Tcp.ACK, window);
        Tcp.finishChecksum(tx, th, o, src, dst);
        n.counters().inc(Stat.TCP_OUT);
        n.ipSend(tx, CoreContext.TX_IP, o, Ipv4.PROTO_TCP, src, dst, true);
    }

    /** Sends a bare segment without a TCB (RSTs), from local address {@code src}. */
    void sendRaw(int src, int sport, int dst, int dport, int seq, int ack, int flags, int window) {
        MemorySegment tx = n.txBuffer();
        long th = CoreContext.TX_IP + Ipv4.MIN_HEADER;
        Tcp.write(tx, th, sport, dport, seq, ack, Tcp.MIN_HEADER, flags, window);
        Tcp.finishChecksum(tx, th, Tcp.MIN_HEADER, src, dst);
        n.counters().inc(Stat.TCP_OUT);
        n.ipSend(tx, CoreContext.TX_IP, Tcp.MIN_HEADER, Ipv4.PROTO_TCP, src, dst, true);
    }
}
