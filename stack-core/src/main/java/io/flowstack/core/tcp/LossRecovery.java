package io.flowstack.core.tcp;

import io.flowstack.core.stats.Stat;
import io.flowstack.core.wire.Tcp;

/**
 * Loss recovery: fast retransmit and NewReno partial ACKs (RFC 5681 3.2, RFC 6582), SACK-based
 * recovery with the scoreboard (RFC 6675: SetPipe, NextSeg, rescue retransmission), Limited
 * Transmit (RFC 3042), RACK-TLP (RFC 8985: tail loss probes, lost retransmissions, the reordering
 * timer), and undoing spurious retransmissions (RFC 3522 Eifel detection, RFC 4015).
 *
 * <p>Owned by: its netisr thread (through {@link TcpLayer}).
 */
final class LossRecovery extends TcpPart {
    /** Largest duplicate-ACK threshold reordering can raise a connection to (Linux caps at 300). */
    private static final int MAX_DUP_THRESH = 64;
    /** RFC 8985 7.2: WCDelAckT, the worst-case delayed-ACK time assumed for a single segment. */
    private static final long TLP_WC_DEL_ACK = 200_000_000L;
    /** Floor of the probe timeout: below the peer's delayed-ACK timer (40 ms on Linux) probes are mostly spurious. */
    private static final long TLP_MIN = 10_000_000L;

    LossRecovery(TcpLayer tcp) {
        super(tcp);
    }

    /**
     * Lost retransmission in SACK recovery (RFC 8985 6.2's rule for the first hole): SND.UNA was
     * retransmitted more than an RTT ago and SACKs still arrive above it, so the retransmission
     * was lost too: make it eligible again (HighRxt back to SND.UNA) instead of waiting for the
     * RTO. If the RTT has not passed yet, the RACK reordering timer (RFC 8985 6.3) re-checks.
     */
    void recoveryLostRetransmission(Tcb t) {
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
            tcp.timers.scheduleTimer(t);
        }
    }

    /**
     * After a timeout (RFC 6675 5.1: SACK information keeps guiding the RTO recovery), SACKs
     * show data above SND.UNA delivered: once the head segment has stayed unacknowledged for an
     * RTT since it was last sent (RFC 8985 6.2) it is lost again, so send it now instead of
     * waiting for another, doubled, timeout (the timeout already reduced the window). Until then
     * the RACK reordering timer (RFC 8985 6.3) re-checks, since no further ACK may come.
     */
    void rtoRecoveryHole(Tcb t) {
        if (headLost(t)) {
            t.rackAt = 0;
            n.counters().inc(Stat.TCP_LOST_RETRANSMITS);
            retransmitAt(t, t.sndUna, t.sb.holeEnd(t.sndUna, t.sndMax));
            t.unaSentAt = n.now();
        } else if (t.rackAt == 0) {
            t.rackAt = t.unaSentAt + Math.max(t.srtt + t.rttvar, 2_000_000L) + 1;
            tcp.timers.scheduleTimer(t);
        }
    }

    /**
     * RFC 8985 6.2, in the form this sender can check without per-segment send times: the
     * segment at SND.UNA has been unacknowledged for more than an RTT (SRTT + RTTVAR, at least
     * 2 ms) since it was last sent, while data above it keeps being SACKed.
     */
    boolean headLost(Tcb t) {
        long rtt = Math.max(t.srtt + t.rttvar, 2_000_000L);
        return t.unaSentAt != 0 && n.now() - t.unaSentAt > rtt;
    }

    /**
     * RFC 3042 2 (Limited Transmit): on each of the first two duplicate ACKs, send one new
     * segment if the peer's window allows, data is waiting, and at most cwnd + 2 SMSS would be
     * outstanding; cwnd itself is unchanged. With the small windows of a lossy path this is what
     * brings the third duplicate ACK (and fast retransmit) instead of a retransmission timeout.
     */
    void limitedTransmit(Tcb t) {
        if (t.stream == null || t.sndNxt != t.sndMax || t.finSent) {
            return;
        }
        int maxData = t.mss - TcpOutput.optionBytes(t);
        long avail = TcpOutput.sendEnd(t) - TcpOutput.pos(t, t.sndMax);
        int room = t.sndUna + t.sndWnd - t.sndMax;
        int len = (int) Math.min(Math.min(avail, maxData), room);
        if (len <= 0 || t.inFlight() + len > t.cwnd + (t.dupThresh - 1) * t.mss) {
            return;
        }
        n.counters().inc(Stat.TCP_LIMITED_TRANSMITS);
        tcp.out.sendData(t, t.sndMax, len, Tcp.ACK);
    }

    /**
     * Saves what a retransmission episode is about to reduce, and the TSval its first
     * retransmission carries, for Eifel detection (RFC 3522) on the first ACK of new data.
     */
    void armUndo(Tcb t, boolean rto) {
        t.undoCwnd = t.cwnd;
        t.undoSsthresh = t.ssthresh;
        t.undoRto = rto;
        t.eifel = t.tsOk;
        t.rxtTsVal = tcp.out.tsVal(t);
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
    void undoSpurious(Tcb t) {
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
    void enterSackRecovery(Tcb t) {
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
    static int pipe(Tcb t) {
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
    void sackRecoverySend(Tcb t) {
        int pipe = pipe(t);
        int maxData = t.mss - TcpOutput.optionBytes(t);
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
            long avail = TcpOutput.sendEnd(t) - TcpOutput.pos(t, t.sndMax);
            int room = t.sndUna + t.sndWnd - t.sndMax;
            int len = (int) Math.min(Math.min(avail, maxData), room);
            if (len > 0 && t.sndNxt == t.sndMax) {
                tcp.out.sendData(t, t.sndMax, len, Tcp.ACK);
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
    int retransmitAt(Tcb t, int s, int end) {
        int len = Math.min(Math.max(0, end - s), t.mss - TcpOutput.optionBytes(t));
        long dataEnd = TcpOutput.sendEnd(t);
        len = (int) Math.min(len, Math.max(0, dataEnd - TcpOutput.pos(t, s)));
        len = Math.min(len, TcpOutput.windowRoom(t, s));
        int flags = Tcp.ACK;
        if (t.finSent && s + len == t.finSeq) {
            flags |= Tcp.FIN;
        }
        if (len == 0 && (flags & Tcp.FIN) == 0) {
            t.highRxt = Seq.max(t.highRxt, s + Math.max(0, Math.min(end - s, t.mss)));
            return 0;
        }
        int saved = t.sndNxt;
        tcp.out.sendData(t, s, len, flags);
        t.sndNxt = Seq.max(saved, t.sndNxt);
        t.highRxt = Seq.max(t.highRxt, s + len);
        if (s == t.sndUna) {
            t.unaRxtAt = n.now();
        }
        return len;
    }

    /**
     * RFC 8985 7.2: after new data or a cumulative ACK, outside fast and RTO recovery and
     * outside a probe episode, a probe timeout of 2 SRTT (plus WCDelAckT for a single segment in
     * flight) replaces the RTO as the next wake-up, so a lost tail is found in a few RTTs.
     */
    void armLossProbe(Tcb t) {
        // a closed window is probed by the persist timer, with its own backoff (RFC 9293 3.8.6.1)
        if (!t.sackOk || t.inRecovery || t.tlpEndSet || t.backoff > 0 || t.sndWnd == 0 || t.srtt == 0 || t.inFlight() == 0
                || Seq.lt(t.sndUna, t.recover) || (t.state != TcpState.ESTABLISHED && t.state != TcpState.CLOSE_WAIT)) {
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
        tcp.timers.scheduleTimer(t);
    }

    /**
     * RFC 8985 7.3: the probe: one new segment if the window and the application allow, else
     * the last segment again; the ACK it elicits (with SACK) starts fast recovery if data before
     * it was lost. The RTO is re-armed.
     */
    void lossProbe(Tcb t) {
        if (t.inRecovery || t.inFlight() == 0 || t.stream == null) {
            return;
        }
        n.counters().inc(Stat.TCP_LOSS_PROBES);
        int maxData = t.mss - TcpOutput.optionBytes(t);
        long avail = t.finSent ? 0 : TcpOutput.sendEnd(t) - TcpOutput.pos(t, t.sndMax);
        int room = t.sndUna + t.sndWnd - t.sndMax;
        int len = (int) Math.min(Math.min(avail, maxData), room);
        if (len > 0 && t.sndNxt == t.sndMax) {
            tcp.out.sendData(t, t.sndMax, len, Tcp.ACK);
        } else {
            int end = t.finSent ? t.finSeq : t.sndMax;
            int start = Seq.max(t.sndUna, end - maxData);
            retransmitAt(t, start, end);
        }
        t.tlpEnd = t.sndMax;
        t.tlpEndSet = true;
        t.rexmtAt = n.now() + t.rto;
        tcp.timers.scheduleTimer(t);
    }

    /** Retransmits the first unacknowledged segment (fast retransmit, partial ACK). */
    void retransmitFirst(Tcb t) {
        int saved = t.sndNxt;
        long end = TcpOutput.sendEnd(t);
        long p = TcpOutput.pos(t, t.sndUna);
        int len = (int) Math.max(0, Math.min(t.mss - TcpOutput.optionBytes(t), end - p));
        len = Math.min(len, TcpOutput.windowRoom(t, t.sndUna));
        int flags = Tcp.ACK;
        if (t.finSent && t.sndUna + len == t.finSeq) {
            flags |= Tcp.FIN;
        }
        if (len > 0 || (flags & Tcp.FIN) != 0) {
            tcp.out.sendData(t, t.sndUna, len, flags);
        }
        t.sndNxt = Seq.max(saved, t.sndNxt);
        t.rttTiming = false; // Karn
    }
}
