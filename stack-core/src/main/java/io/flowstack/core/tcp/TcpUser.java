package io.flowstack.core.tcp;

import io.flowstack.core.stats.Stat;
import io.flowstack.core.wire.Tcp;

/**
 * The user/TCP interface (RFC 9293 3.9) as seen from the netisr: application doorbells and
 * flags (close, abort), the callback API (handler upcalls on this netisr), and ending a
 * connection (reset, finish) with what the application is told.
 *
 * <p>Owned by: its netisr thread (through {@link TcpLayer}).
 */
final class TcpUser extends TcpPart {
    private static final System.Logger LOG = System.getLogger("io.flowstack.tcp");
    /** What a handler's channel calls to ask for output: marks the connection for the rollup. */
    final TcpStream.Kick kick;

    /** Streams whose rings this pass changed, signalled at its end ({@link #flushWakes}). */
    private TcpStream[] wakes = new TcpStream[64];
    private int wakeCount;

    TcpUser(TcpLayer tcp) {
        super(tcp);
        this.kick = new TcpStream.Kick() {
            @Override
            public void kick(TcpStream ch) {
                Tcb t = tcp.conns.byId.get(ch.id());
                if (t != null) {
                    tcp.conns.markDirty(t); // acted on at the rollup, never re-entering the segment being processed
                }
            }

            @Override
            public ByteRing sendRing(TcpStream ch) {
                n.checkOwner();
                if (ch.send != null) {
                    return ch.send;
                }
                Tcb t = tcp.conns.byId.get(ch.id());
                return t == null || t.stream != ch ? null : tcp.conns.lendSend(t);
            }
        };
    }

    /** Send space (or a send ring) became available: the handler hears {@code onWritable} if it asked. */
    void sendSpace(Tcb t) {
        try {
            t.up.onSendSpace();
        } catch (Throwable e) {
            handlerFailed(t, e);
        }
    }

    /**
     * Input is about to make data readable on a blocking-API stream, or to free send space: its
     * waiting threads are signalled once at the end of the pass ({@link #flushWakes}), at their
     * thresholds, not once per segment or ACK. Called before the publish (TcpStream.wakeOwed).
     */
    void wakeLater(TcpStream st) {
        if (!st.queueWake()) {
            return;
        }
        if (wakeCount == wakes.length) {
            wakes = java.util.Arrays.copyOf(wakes, wakeCount * 2); // grows to the most streams one pass touches
        }
        wakes[wakeCount++] = st;
    }

    /** End of a netisr pass (the rollup): signals the streams {@link #wakeLater} queued. */
    void flushWakes() {
        for (int i = 0; i < wakeCount; i++) {
            TcpStream st = wakes[i];
            wakes[i] = null;
            st.flushWake();
        }
        wakeCount = 0;
    }

    void openChannel(Tcb t) {
        t.up = t.binder.bind(t.stream, kick, t.localAddr, t.localPort, t.remoteAddr, t.remotePort);
        try {
            t.up.onOpen();
        } catch (Throwable e) {
            handlerFailed(t, e);
        }
    }

    /** Offers the in-order bytes of the receive ring to the handler (the netisr consumes them). */
    void deliverToHandler(Tcb t) {
        deliver(t);
        tcp.conns.returnIdleRings(t); // drained: an idle connection keeps no ring
    }

    private void deliver(Tcb t) {
        ByteRing r = t.stream.recv;
        for (int guard = 0; guard < 5; guard++) {
            if (t.stream.closed) {
                return;
            }
            long head = r == null ? 0 : r.head();
            long tail = r == null ? 0 : r.tail();
            if (tail == head) {
                if (t.peerClosedPending) {
                    t.peerClosedPending = false;
                    try {
                        t.up.onPeerClosed();
                    } catch (Throwable e) {
                        handlerFailed(t, e);
                    }
                }
                return;
            }
            int len = r.contiguous(head, (int) (tail - head));
            int used;
            try {
                used = t.up.onData(r.segment(), r.offset(head), len);
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

    void handlerFailed(Tcb t, Throwable e) {
        n.counters().inc(Stat.TCP_HANDLER_ERRORS);
        LOG.log(System.Logger.Level.WARNING, "TCP handler failed on " + t.up + ": " + e, e);
        t.stream.abort = true;
        t.stream.closed = true;
        tcp.conns.markDirty(t);
    }

    /** Applies what the application asked through the stream's flags (close, abort). */
    boolean applyAppFlags(Tcb t) {
        TcpStream st = t.stream;
        if (st == null) {
            return true;
        }
        if (st.abort) {
            if (t.state != TcpState.CLOSED && t.state != TcpState.TIME_WAIT && t.state != TcpState.SYN_SENT) {
                reset(t);
            } else {
                finish(t, null);
            }
            return false;
        }
        if (st.closed && t.state == TcpState.SYN_SENT) {
            finish(t, null);
            return false;
        }
        if (st.closed && t.state == TcpState.FIN_WAIT_2 && t.timeWaitAt == 0) {
            t.timeWaitAt = n.now() + cfg.tcpTimeWaitNanos;
            tcp.timers.scheduleTimer(t);
        }
        if (st.closed && t.state == TcpState.TIME_WAIT) {
            tcp.conns.releaseStream(st);
        }
        return true;
    }

    /** An application changed connection {@code id}'s rings or flags. */
    void doorbell(int id) {
        n.checkOwner();
        Tcb t = tcp.conns.byId.get(id);
        if (t == null) {
            int to = tcp.migration.movedOwner(id);
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
        int late = t.stream.lateWakeups();
        if (late != t.stream.lateWakeupsSeen) { // the application reported lost unparks (TcpStream.park)
            n.counters().add(Stat.TCP_APP_WAKEUP_LATE, late - t.stream.lateWakeupsSeen);
            t.stream.lateWakeupsSeen = late;
        }
        if (applyAppFlags(t)) {
            tcp.out.output(t);
        }
    }

    /**
     * Before a timer acts on a blocking-API connection: bytes the application published in the
     * send ring after output last looked and announced ({@link TcpStream#announce}: its ring found
     * a doorbell outstanding or posted one), with no doorbell outstanding now, were announced by
     * a doorbell that was lost (the application saw one outstanding, the netisr took it before the
     * bytes were visible): only this timer would send them. Counted, never expected. Bytes not
     * announced yet are a writer between its publish and its ring (preempted there on a busy
     * machine), whose doorbell is still coming: not counted.
     */
    void checkDoorbellLate(Tcb t) {
        TcpStream st = t.stream;
        if (st == null || t.binder != null || t.up != null
                || (t.state != TcpState.ESTABLISHED && t.state != TcpState.CLOSE_WAIT)) {
            return;
        }
        long tail = st.send.tail();
        if (tail > t.sendTailSeen && !st.doorbellPending() && st.announcedSendTail() - tail >= 0) {
            t.sendTailSeen = tail; // counted once
            n.counters().inc(Stat.TCP_DOORBELL_LATE);
        }
    }

    /** Sends RST and forgets the connection (abort, RFC 9293 3.10.5). */
    void reset(Tcb t) {
        tcp.out.sendRaw(t.localAddr, t.localPort, t.remoteAddr, t.remotePort, t.sndNxt, 0, Tcp.RST, 0);
        n.counters().inc(Stat.TCP_RST_OUT);
        finish(t, t.stream != null && !t.stream.closed ? "connection aborted" : null);
    }

    void abortWith(Tcb t, String error) {
        finish(t, error);
    }

    void finish(Tcb t, String error) {
        TcpStream st = t.stream; // drop() may give the rings back and detach it
        if (t.stream != null) {
            if (error != null && t.stream.error == null) {
                t.stream.error = error;
            }
            t.stream.finished = true;
            t.stream.signal();
        }
        tcp.conns.drop(t);
        if (t.binder != null && t.up != null) {
            t.binder = null;
            try {
                t.up.onClosed(error);
            } catch (Throwable e) {
                n.counters().inc(Stat.TCP_HANDLER_ERRORS);
            }
        } else if (t.binder != null && error != null) {
            TcpUpcalls.Binder b = t.binder; // a connect that never opened
            t.binder = null;
            try {
                b.bind(st, kick, t.localAddr, t.localPort, t.remoteAddr, t.remotePort).onClosed(error);
            } catch (Throwable e) {
                n.counters().inc(Stat.TCP_HANDLER_ERRORS);
            }
        }
    }
}
