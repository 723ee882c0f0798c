package io.flowstack.core.tcp;

import io.flowstack.core.stats.Stat;
import io.flowstack.core.wire.Tcp;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;

/**
 * "Fifth, check the ACK field" (RFC 9293 3.10.7.4) with RFC 5961 5.2 acceptance, the send
 * window update, SND.UNA advancing (freeing the send ring), RTT estimation (RFC 6298, RFC 7323
 * 4.1) and the duplicate-ACK and recovery branches (RFC 5681, 6582, 6675) that hand over to
 * {@link LossRecovery}.
 *
 * <p>Owned by: its netisr thread (through {@link TcpLayer}).
 */
final class TcpAck extends TcpPart {

    TcpAck(TcpLayer tcp) {
        super(tcp);
    }

    /**
     * RFC 9293 3.10.7.4 "fifth, check the ACK field" with RFC 5961 5.2 and RFC 5681 / RFC 6582.
     *
     * @return false if the segment must be dropped
     */
    boolean processAck(Tcb t, MemorySegment s, long th, int seq, int ack, int segLen) {
        // RFC 5961 5.2: acceptable iff SND.UNA - MAX.SND.WND <= SEG.ACK <= SND.NXT
        if (Seq.gt(ack, t.sndMax)) {
            n.counters().inc(Stat.TCP_BAD_ACK);
            t.ackNow = true;
            return false;
        }
        if (Seq.lt(ack, t.sndUna - Math.max(t.sndWnd, 65535))) {
            n.counters().inc(Stat.TCP_BAD_ACK);
            tcp.in.challengeAck(t);
            return false;
        }
        t.probesUnanswered = 0; // the peer is there: its zero window may stay closed (RFC 9293 3.8.6.1)
        int wnd = Tcp.window(s, th) << t.sndWscale;
        boolean windowUpdate = Seq.lt(t.sndWl1, seq) || (t.sndWl1 == seq && Seq.le(t.sndWl2, ack));
        boolean sackInfo = false;
        if (t.sackOk && tcp.opts.sackCount > 0) {
            // RFC 2018 / RFC 6675 3: update the scoreboard with the reported blocks
            for (int i = 0; i < tcp.opts.sackCount; i++) {
                if (!t.sbForUpdate().add(tcp.opts.sackLeft[i], tcp.opts.sackRight[i], Seq.max(ack, t.sndUna), t.sndMax)) {
                    n.counters().inc(Stat.TCP_SACK_IGNORED);
                }
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
            if (tcp.opts.hasTimestamp && Seq.lt(tcp.opts.tsEcr, t.rxtTsVal - 1)) {
                tcp.recovery.undoSpurious(t);
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
                tcp.recovery.sackRecoverySend(t);
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
                    tcp.recovery.retransmitFirst(t);
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
                tcp.recovery.enterSackRecovery(t);
            }
        } else if (ack == t.sndUna && segLen == 0 && (wnd == t.sndWnd || sackInfo) && t.inFlight() > 0 && wnd > 0) {
            // (a closed window's ACKs answer zero-window probes: no loss signal, RFC 5681 2 (a))
            // RFC 5681 2: a duplicate ACK (RFC 6675 2: or one that carries SACK information)
            n.counters().inc(Stat.TCP_DUP_ACKS);
            t.dupAcks++;
            if (t.sackOk && t.inRecovery) {
                // Lost retransmission (the idea of RFC 8985 RACK, for the first hole): if SND.UNA
                // was retransmitted more than an RTT ago and SACKs still arrive above it, the
                // retransmission was lost too: send it again instead of waiting for the RTO.
                tcp.recovery.recoveryLostRetransmission(t);
                tcp.recovery.sackRecoverySend(t); // RFC 6675 5 (C)
            } else if (t.sackOk && !t.inRecovery && Seq.gt(ack, t.recover)
                    && (t.dupAcks >= t.dupThresh || Seq.gt(t.sb.lossPoint(t.sndUna, t.mss, t.dupThresh), t.sndUna))) {
                tcp.recovery.enterSackRecovery(t);
            } else if (t.dupAcks == t.dupThresh && !t.inRecovery && Seq.gt(ack, t.recover)) {
                // RFC 5681 3.2 / RFC 6582 3.2 (2): fast retransmit
                n.counters().inc(Stat.TCP_FAST_RETRANSMITS);
                tcp.recovery.armUndo(t, false);
                t.ssthresh = t.cc.onFastRetransmit(t, n.now());
                t.recover = t.sndMax;
                t.inRecovery = true;
                tcp.recovery.retransmitFirst(t);
                t.cwnd = t.ssthresh + 3 * t.mss;
            } else if (t.dupAcks > t.dupThresh && t.inRecovery) {
                t.cwnd += t.mss; // RFC 5681 3.2 (4): inflate
            } else if (t.sackOk && !t.inRecovery && !Seq.gt(ack, t.recover)
                    && Seq.gt(t.sb.lossPoint(t.sndUna, t.mss, t.dupThresh), t.sndUna)) {
                tcp.recovery.rtoRecoveryHole(t);
            } else if (t.dupAcks < t.dupThresh && !t.inRecovery) {
                tcp.recovery.limitedTransmit(t);
            }
        }
        if (windowUpdate) {
            updateWindow(t, seq, ack, wnd);
        }
        return finAcked(t);
    }

    /** State changes driven by the ACK of our FIN; false if the connection is gone. */
    boolean finAcked(Tcb t) {
        if (t.finSent && Seq.gt(t.sndUna, t.finSeq)) {
            switch (t.state) {
                case FIN_WAIT_1 -> {
                    t.state = TcpState.FIN_WAIT_2;
                    // Linux-like FIN_WAIT_2 timeout once the application has closed
                    if (t.stream.closed) {
                        t.timeWaitAt = n.now() + cfg.tcpTimeWaitNanos;
                        tcp.timers.scheduleTimer(t);
                    }
                }
                case CLOSING -> tcp.in.enterTimeWait(t);
                case LAST_ACK -> {
                    tcp.user.finish(t, null);
                    return false;
                }
                default -> { }
            }
        }
        return true;
    }

    void updateWindow(Tcb t, int seq, int ack, int wnd) {
        t.sndWnd = wnd;
        t.maxSndWnd = Math.max(t.maxSndWnd, wnd);
        t.sndWl1 = seq;
        t.sndWl2 = ack;
        if (wnd > 0) {
            t.persistAt = 0;
            t.persistBackoff = 0;
        }
    }

    /** Advances SND.UNA to {@code ack}, frees acknowledged bytes in the send ring. */
    void ackAdvance(Tcb t, int ack) {
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
        ByteRing send = t.stream != null ? t.stream.send : null; // none: a callback connection with nothing unsent
        if (send != null) {
            long tail = send.tail();
            long head = Math.max(0, Math.min(t.sndUnaPos, tail));
            if (head > send.head()) {
                boolean handler = t.binder != null && t.up != null;
                if (!handler) {
                    // a blocked writer: signalled at the end of the pass, at its threshold; queued
                    // before the publish (TcpStream.wakeOwed)
                    tcp.user.wakeLater(t.stream);
                }
                send.head(head);
                if (handler) {
                    tcp.user.sendSpace(t);
                    tcp.user.deliverToHandler(t); // data held back for lack of send space; returns drained rings
                }
            }
        }
        t.backoff = 0;
        // RFC 6298 5.2/5.3: stop the timer when all is acked, else restart it
        t.rexmtAt = t.sndUna == t.sndMax ? 0 : n.now() + t.rto;
        tcp.timers.scheduleTimer(t);
    }

    /** RFC 6298 2, with Karn's algorithm (3) or RFC 7323 4.1 timestamps. */
    void rttSample(Tcb t, int ack) {
        long sample = -1;
        if (t.tsOk && tcp.opts.hasTimestamp && tcp.opts.tsEcr != 0) {
            sample = (tcp.out.tsVal(t) - tcp.opts.tsEcr) * 1_000_000L; // both carry the offset (RFC 7323 7.1)
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
}
