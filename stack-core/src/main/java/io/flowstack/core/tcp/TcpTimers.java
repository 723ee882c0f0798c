package io.flowstack.core.tcp;

import io.flowstack.core.stats.Stat;
import io.flowstack.core.wire.Tcp;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.agrona.DeadlineTimerWheel;
import org.agrona.collections.Long2ObjectHashMap;

/**
 * Timers: one timer-wheel entry per connection for its earliest deadline; on expiry the
 * retransmission timeout (RFC 6298 5, RFC 5681 3.1), persist probes (RFC 9293 3.8.6.1),
 * keep-alives (RFC 1122 4.2.3.6), delayed ACKs, FIN-WAIT-2 expiry, and the RACK-TLP timers of
 * {@link LossRecovery}. TIME-WAIT is no connection: its entries expire in {@link TcpTimeWait}.
 *
 * <p>Owned by: its netisr thread (through {@link TcpLayer}).
 */
final class TcpTimers extends TcpPart {
    private static final long TICK = 1L << 20; // ~1 ms timer wheel resolution
    private final Long2ObjectHashMap<Tcb> byTimer = new Long2ObjectHashMap<>();
    private final DeadlineTimerWheel wheel;
    private final List<Tcb> expired = new ArrayList<>();
    private final DeadlineTimerWheel.TimerHandler timerHandler = this::onTimer;

    TcpTimers(TcpLayer tcp) {
        super(tcp);
        this.wheel = new DeadlineTimerWheel(TimeUnit.NANOSECONDS, n.now(), TICK, 1024);
    }

    /** Takes the connection's entry off the wheel (its deadlines stay in the TCB). */
    void cancelTimer(Tcb t) {
        if (t.timerId >= 0) {
            wheel.cancelTimer(t.timerId);
            byTimer.remove(t.timerId);
            t.timerId = -1;
            t.timerDeadline = 0;
        }
    }

    /** RFC 1122 4.2.3.6: keep-alives only when the application asked (SO_KEEPALIVE). */
    void armKeepalive(Tcb t) {
        t.keepaliveAt = t.keepAlive ? n.now() + cfg.tcpKeepaliveIdleNanos : 0;
    }

    /**
     * RFC 1122 4.2.3.6: after the idle time, probe with SEG.SEQ = SND.NXT - 1 (one byte of old
     * sequence space, which forces an ACK); drop the connection after the configured number of
     * unanswered probes.
     */
    void keepaliveTimer(Tcb t, long now) {
        boolean synced = t.state == TcpState.ESTABLISHED || t.state == TcpState.CLOSE_WAIT || t.state == TcpState.FIN_WAIT_2;
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
            tcp.out.sendRaw(t.localAddr, t.localPort, t.remoteAddr, t.remotePort, t.sndNxt, 0, Tcp.RST, 0);
            n.counters().inc(Stat.TCP_RST_OUT);
            tcp.user.finish(t, "connection timed out (no answer to keepalive probes)");
            return;
        }
        t.keepaliveProbes++;
        n.counters().inc(Stat.TCP_KEEPALIVE_PROBES);
        int savedNxt = t.sndNxt;
        tcp.out.sendData(t, t.sndNxt - 1, 0, Tcp.ACK);
        t.sndNxt = savedNxt;
        t.keepaliveAt = now + cfg.tcpKeepaliveIntervalNanos;
    }

    /** (Re)schedules the connection's wheel entry for its earliest deadline. */
    void scheduleTimer(Tcb t) {
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

    /** Runs expired timers; called by the netisr on every pass. */
    int pollTimers(long now) {
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
            if (t.state != TcpState.CLOSED) {
                runTimers(t, now);
            }
        }
        expired.clear();
        return fired;
    }

    boolean onTimer(TimeUnit unit, long now, long timerId) {
        Tcb t = byTimer.remove(timerId);
        if (t != null && t.timerId == timerId) {
            t.timerId = -1;
            t.timerDeadline = 0;
            expired.add(t);
        }
        return true;
    }

    void runTimers(Tcb t, long now) {
        tcp.user.checkDoorbellLate(t);
        if (t.timeWaitAt != 0 && now - t.timeWaitAt >= 0) {
            t.timeWaitAt = 0;
            tcp.user.finish(t, t.state == TcpState.TIME_WAIT ? null : "connection closed (FIN-WAIT-2 timeout)");
            return;
        }
        if (t.delackAt != 0 && now - t.delackAt >= 0) {
            t.delackAt = 0;
            t.ackNow = true;
            t.pingpong = false; // no answer came to carry the ACK: not interactive after all (Linux)
        }
        if (t.tlpAt != 0 && now - t.tlpAt >= 0) {
            t.tlpAt = 0;
            tcp.recovery.lossProbe(t);
        }
        if (t.rackAt != 0 && now - t.rackAt >= 0) {
            t.rackAt = 0;
            if (t.sackOk && t.inRecovery) {
                tcp.recovery.recoveryLostRetransmission(t);
                tcp.recovery.sackRecoverySend(t);
            } else if (t.sackOk && t.inFlight() > 0 && !t.sb.isEmpty()
                    && Seq.gt(t.sb.lossPoint(t.sndUna, t.mss, t.dupThresh), t.sndUna)) {
                tcp.recovery.rtoRecoveryHole(t);
            }
        }
        if (t.rexmtAt != 0 && now - t.rexmtAt >= 0) {
            t.rexmtAt = 0;
            retransmitTimeout(t, now);
            if (t.state == TcpState.CLOSED) {
                return;
            }
        }
        if (t.persistAt != 0 && now - t.persistAt >= 0) {
            t.persistAt = 0;
            persistProbe(t);
            if (t.state == TcpState.CLOSED) {
                return;
            }
        }
        if (t.keepaliveAt != 0 && now - t.keepaliveAt >= 0) {
            keepaliveTimer(t, now);
            if (t.state == TcpState.CLOSED) {
                return;
            }
        }
        tcp.out.output(t);
        scheduleTimer(t);
    }

    /** RFC 6298 5.4-5.7 and RFC 5681 3.1 (4): retransmission timeout. */
    void retransmitTimeout(Tcb t, long now) {
        n.counters().inc(Stat.TCP_RTO);
        t.backoff++;
        int limit = t.state == TcpState.SYN_SENT || t.state == TcpState.SYN_RECEIVED ? cfg.tcpSynRetries : cfg.tcpMaxRetries;
        if (t.backoff > limit) {
            timeOut(t, "");
            return;
        }
        t.rto = Math.min(cfg.tcpRtoMaxNanos, t.rto * 2); // (5.5) back off
        t.rttTiming = false; // Karn
        if (t.state == TcpState.SYN_SENT || t.state == TcpState.SYN_RECEIVED) {
            t.sndNxt = t.iss;
            t.rexmtAt = 0;
            n.counters().inc(Stat.TCP_RETRANSMITS);
            tcp.out.sendSyn(t);
            return;
        }
        if (t.backoff == 1) {
            tcp.recovery.armUndo(t, true); // the first timeout of an episode: later ones are never spurious-checked
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
        tcp.recovery.retransmitFirst(t);
        t.rexmtAt = now + t.rto;
    }

    /**
     * RFC 1122 4.2.3.5: the connection is given up (R2, {@code tcpMaxRetries}); a reset tells the
     * peer, the application learns "connection timed out" followed by {@code detail}.
     */
    private void timeOut(Tcb t, String detail) {
        n.counters().inc(Stat.TCP_TIMEOUTS);
        if (t.state == TcpState.SYN_RECEIVED && t.listener != null) {
            tcp.conns.drop(t);
        } else {
            tcp.out.sendRaw(t.localAddr, t.localPort, t.remoteAddr, t.remotePort, t.sndNxt, 0, Tcp.RST, 0);
            n.counters().inc(Stat.TCP_RST_OUT);
            tcp.user.finish(t, "connection timed out" + detail + (t.softError == null ? ""
                    : " (last ICMP error: " + t.softError + ")"));
        }
    }

    /**
     * RFC 9293 3.8.6.1: probe a zero window with one byte beyond it. The connection stays open
     * while the peer answers the probes ("As long as the receiving TCP continues to send
     * acknowledgments in response to the probe segments, the sending TCP MUST allow the
     * connection to stay open"); after {@code tcpMaxRetries} probes with no acceptable ACK in
     * between it is given up, as a retransmission would be (RFC 1122 4.2.3.5 R2; Linux's
     * tcp_probe_timer against tcp_retries2). Else a peer that closes its window and goes away
     * would hold the connection and its buffers for ever.
     */
    void persistProbe(Tcb t) {
        if (t.sndWnd > 0 || t.stream == null) {
            return;
        }
        long p = TcpOutput.pos(t, t.sndNxt);
        if (TcpOutput.sendEnd(t) - p > 0) {
            if (t.probesUnanswered >= cfg.tcpMaxRetries) {
                timeOut(t, " (zero-window probes unanswered)");
                return;
            }
            t.probesUnanswered++;
            n.counters().inc(Stat.TCP_PERSIST_PROBES);
            int savedWnd = t.sndWnd;
            tcp.out.sendData(t, t.sndNxt, 1, Tcp.ACK);
            t.sndWnd = savedWnd;
            t.persistBackoff++;
            t.persistAt = n.now() + persistInterval(t, cfg.tcpRtoMaxNanos);
            t.rexmtAt = 0;
        } else if (t.sndMax != t.sndUna && t.rexmtAt == 0) {
            // No byte left to probe with, but sequence space unacknowledged: a FIN (or data)
            // sent before the window closed and gone back to after a timeout. The retransmission
            // timer takes it (RFC 6298 5.1: outstanding data always has a timer), one octet into
            // the zero window or the FIN, and gives up after tcpMaxRetries. Without it no timer
            // was left and the connection stayed in LAST-ACK for ever (TcpStatesFuzzTest).
            t.rexmtAt = n.now() + t.rto;
        }
    }

    /**
     * The wait before the next zero-window probe: the RTO doubled for each probe since the window
     * closed, at most {@code max} (RFC 1122 4.2.2.17: "increase exponentially the interval between
     * successive probes"; RFC 9293 3.8.6.1). The ACK of a probe that leaves the window closed
     * does not reset it (the retransmission backoff it used to share did, so a probe the peer
     * accepted was followed by one after a bare RTO: 1.2 s, then 0.2 s); a window that opens does.
     */
    static long persistInterval(Tcb t, long max) {
        return Math.min(max, t.rto << Math.min(t.persistBackoff, 10));
    }
}
