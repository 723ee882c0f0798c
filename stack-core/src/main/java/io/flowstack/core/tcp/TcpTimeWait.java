package io.flowstack.core.tcp;

import io.flowstack.core.flow.IndirectionTable;
import io.flowstack.core.stats.ConnectionQuery;
import io.flowstack.core.stats.Stat;
import io.flowstack.core.stats.TcpConnectionInfo;
import io.flowstack.core.wire.Tcp;
import io.flowstack.core.wire.msg.TimeWaitMsg;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * TIME-WAIT (RFC 9293 3.6, 3.10.7.4) without a control block, as Linux's
 * {@code tcp_timewait_sock}: when a connection enters TIME-WAIT its {@link Tcb} and stream are
 * released (rings back to the pool, the application told as for any end) and a small entry of
 * this core's {@link TimeWaitTable} keeps what the 2 MSL need. Entries are not connections: they
 * count neither against {@code tcpMaxConnections} nor in {@link TcpLayer#connections()}, and
 * their number is bounded on its own ({@code tcpMaxTimeWait}, split between the cores; past it
 * the oldest ends early, counted {@code tcp_time_wait_overflow}, and nothing is ever refused).
 *
 * <p>Segments for an entry's 4-tuple (RFC 9293 3.10.7.4 in TIME-WAIT, with Linux's
 * {@code tcp_timewait_state_process} as a guide):
 * <ul>
 *   <li>PAWS first (RFC 7323 5.3 R1): an old timestamp is dropped and answered with an ACK;</li>
 *   <li>a SYN with a newer timestamp, or (without timestamps, or an equal one) a sequence number
 *       above RCV.NXT, ends the entry and opens a new connection (RFC 6191 2, RFC 1122
 *       4.2.2.13); any other SYN gets a challenge ACK (RFC 5961 4.2);</li>
 *   <li>a retransmission of the peer's FIN is acknowledged again and restarts the 2 MSL;</li>
 *   <li>a RST exactly at RCV.NXT ends the entry (RFC 9293 3.10.7.4 "second": TIME-WAIT enters
 *       CLOSED; Linux's default, {@code tcp_rfc1337} = 0; RFC 1337's optional remedy of ignoring
 *       it is not taken), an in-window one gets a challenge ACK (RFC 5961 3.2), any other is
 *       dropped;</li>
 *   <li>other unacceptable segments get an ACK (bare ACKs at most one per 500 ms per entry, as
 *       for connections), acceptable ones with data get an ACK, acceptable bare ACKs refresh
 *       TS.Recent (RFC 7323 4.3).</li>
 * </ul>
 * ICMP errors for an entry's 4-tuple find no connection and are ignored ({@link TcpIcmp}). An
 * active open from a local port whose 4-tuple is in TIME-WAIT skips the port unless Linux's
 * {@code tcp_tw_reuse} conditions hold (timestamps on and the entry's TS.Recent older than
 * 1 s: PAWS then tells the old connection's duplicates apart); then the entry ends and the new
 * connection starts above the old send sequence (SND.NXT + 65537, as Linux's
 * {@code tcp_twsk_unique}). Entries move with their bucket ({@link #emigrate}, {@link #immigrate},
 * {@link TimeWaitMsg}).
 *
 * <p>Owned by: its netisr thread (through {@link TcpLayer}).
 */
final class TcpTimeWait extends TcpPart {
    /** Linux's tcp_tw_reuse: an entry whose TS.Recent is at least this old may give its port to a connect. */
    static final long CONNECT_REUSE_AGE_NANOS = 1_000_000_000L;
    final TimeWaitTable table;

    TcpTimeWait(TcpLayer tcp) {
        super(tcp);
        this.table = new TimeWaitTable(Math.max(1, cfg.tcpMaxTimeWait / cfg.cores));
        if (ifs.count() > TimeWaitTable.MAX_LOCAL_IFS) {
            throw new IllegalArgumentException(ifs.count() + " interfaces: TCP supports at most "
                    + TimeWaitTable.MAX_LOCAL_IFS + " local addresses");
        }
    }

    /** Entries on this core. */
    int size() {
        n.checkOwner();
        return table.size();
    }

    /**
     * The live entry of local interface {@code localIf} and {@code key}, or -1 (an entry past its
     * expiry is removed here).
     */
    int find(int localIf, long key) {
        int slot = table.lookup(localIf, key);
        if (slot >= 0 && table.expired(slot, n.now())) {
            table.remove(slot); // a moved-in entry that has not reached the ring's head yet
            return -1;
        }
        return slot;
    }

    /** Removes the entries whose 2 MSL are over (every netisr pass). */
    int expire(long now) {
        return table.expire(now);
    }

    private void insert(int localIf, long key, int sndNxt, int rcvNxt, int rcvWnd, int rcvWscale, boolean tsOk,
                        int tsRecent, long tsRecentAt, long expiresAt) {
        int dropped = table.insert(localIf, key, sndNxt, rcvNxt, rcvWnd, rcvWscale, tsOk, tsRecent, tsRecentAt,
                expiresAt);
        if (dropped > 0) {
            n.counters().add(Stat.TCP_TIME_WAIT_OVERFLOW, dropped);
        }
    }

    /**
     * Connection {@code t} just reached TIME-WAIT (RFC 9293 3.10.7.4: the peer's FIN after ours
     * was acknowledged, or the ACK of our FIN in CLOSING): the ACK owed goes out now, from the
     * control block, then the connection ends as any other (stream finished, rings returned
     * once the application closed, handler told, counted closed) and an entry takes its place.
     */
    void enter(Tcb t) {
        if (t.ackNow || t.ackDue) {
            tcp.out.sendData(t, TcpOutput.ackSeq(t), 0, Tcp.ACK);
        }
        int rcvWnd = Math.max(0, t.rcvAdv - t.rcvNxt);
        long now = n.now();
        n.counters().inc(Stat.TCP_TIME_WAIT_ENTERED);
        // the entry first: a handler's onClosed (in finish) that connects again finds the 4-tuple taken
        insert(t.localIf, t.key, t.sndMax, t.rcvNxt, rcvWnd, t.rcvWscale, t.tsOk, t.tsRecent,
                t.tsOk ? t.tsRecentAgeNanos : now, now + cfg.tcpTimeWaitNanos);
        tcp.user.finish(t, null);
    }

    /**
     * A segment for entry {@code slot}'s 4-tuple (see the class comment for the rules).
     *
     * @return false if it was a SYN that ended the entry (RFC 6191): the caller treats it as a
     *     segment for no connection (a listener takes it)
     */
    boolean input(int slot, MemorySegment s, long th, int tlen, int doff) {
        int flags = Tcp.flags(s, th);
        int seq = Tcp.seq(s, th);
        int dataLen = tlen - doff;
        long now = n.now();
        boolean ts = table.tsOk(slot) && tcp.opts.hasTimestamp;
        // RFC 7323 5.3 R1: PAWS
        if (ts && (flags & Tcp.RST) == 0 && Seq.lt(tcp.opts.tsVal, table.tsRecent(slot))
                && now - table.tsRecentAt(slot) < TcpInput.PAWS_IDLE_NANOS) {
            n.counters().inc(Stat.TCP_PAWS_DROP);
            ackLimited(slot, dataLen + ((flags & (Tcp.SYN | Tcp.FIN)) != 0 ? 1 : 0), now);
            return true;
        }
        if ((flags & (Tcp.SYN | Tcp.ACK | Tcp.RST)) == Tcp.SYN) {
            if (reusable(slot, seq)) {
                // RFC 9293 3.10.7.4 / RFC 6191 2 / RFC 1122 4.2.2.13: a new incarnation
                n.counters().inc(Stat.TCP_TIME_WAIT_REUSE);
                table.remove(slot);
                return false;
            }
            challengeAck(slot); // RFC 5961 4.2; an old duplicate SYN (RFC 1122 4.2.2.13 (2): stay in TIME-WAIT)
            return true;
        }
        int rcvNxt = table.rcvNxt(slot);
        if ((flags & (Tcp.FIN | Tcp.RST)) == Tcp.FIN && seq + dataLen + 1 == rcvNxt) {
            // RFC 9293 3.10.7.4 TIME-WAIT: "The only thing that can arrive in this state is a
            // retransmission of the remote FIN. Acknowledge it, and restart the 2 MSL timeout."
            long key = table.key(slot);
            int lif = table.localIf(slot);
            int dropped = table.restart(slot, now + cfg.tcpTimeWaitNanos);
            if (dropped > 0) {
                n.counters().add(Stat.TCP_TIME_WAIT_OVERFLOW, dropped);
            }
            ack(table.lookup(lif, key));
            return true;
        }
        int segLen = dataLen + ((flags & Tcp.SYN) != 0 ? 1 : 0) + ((flags & Tcp.FIN) != 0 ? 1 : 0);
        if (!TcpInput.acceptable(rcvNxt, seq, segLen, table.rcvWnd(slot))) {
            if ((flags & Tcp.RST) == 0) {
                n.counters().inc(Stat.TCP_OUT_OF_WINDOW);
                ackLimited(slot, segLen, now);
            }
            return true;
        }
        // RFC 7323 4.3: SEG.TSval >= TS.Recent and SEG.SEQ <= Last.ACK.sent (RCV.NXT here)
        if (ts && (flags & Tcp.RST) == 0 && Seq.le(seq, rcvNxt) && Seq.ge(tcp.opts.tsVal, table.tsRecent(slot))) {
            table.tsRecent(slot, tcp.opts.tsVal, now);
        }
        if ((flags & Tcp.RST) != 0) {
            if (seq == rcvNxt) {
                n.counters().inc(Stat.TCP_RST_IN);
                n.counters().inc(Stat.TCP_TIME_WAIT_RESET);
                table.remove(slot); // RFC 9293 3.10.7.4 "second": TIME-WAIT -> CLOSED
            } else {
                challengeAck(slot); // RFC 5961 3.2
            }
            return true;
        }
        if ((flags & Tcp.SYN) != 0) {
            challengeAck(slot); // RFC 5961 4.2
            return true;
        }
        if ((flags & Tcp.ACK) != 0 && segLen > 0) {
            ack(slot); // data or a FIN beyond the peer's FIN: ignored, acknowledged (RFC 9293 3.10.7.4 seventh, eighth)
        }
        return true;
    }

    /**
     * RFC 6191 2: a SYN may reopen TIME-WAIT if its timestamp is newer, or (equal timestamps, or
     * none) if its sequence number is above the old RCV.NXT (RFC 1122 4.2.2.13).
     */
    boolean reusable(int slot, int seq) {
        if (table.tsOk(slot) && tcp.opts.hasTimestamp && tcp.opts.tsVal != table.tsRecent(slot)) {
            return Seq.gt(tcp.opts.tsVal, table.tsRecent(slot));
        }
        return Seq.gt(seq, table.rcvNxt(slot));
    }

    /**
     * An active open from local interface {@code localIf}'s address and {@code key}'s local
     * port: -1 if no entry holds the 4-tuple; else, if
     * Linux's {@code tcp_tw_reuse} conditions hold (timestamps on, TS.Recent recorded at least
     * 1 s ago), the entry ends and the new connection's ISS is returned as a long (old SND.NXT
     * + 65537, RFC 1122 4.2.2.13 (1)); else {@link Long#MIN_VALUE}: the port is skipped.
     */
    long connectReuse(int localIf, long key) {
        int slot = find(localIf, key);
        if (slot < 0) {
            return -1;
        }
        if (!table.tsOk(slot) || n.now() - table.tsRecentAt(slot) < CONNECT_REUSE_AGE_NANOS) {
            return Long.MIN_VALUE;
        }
        int iss = table.sndNxt(slot) + 65535 + 2;
        table.remove(slot);
        n.counters().inc(Stat.TCP_TIME_WAIT_CONNECT_REUSE);
        return Integer.toUnsignedLong(iss == 0 ? 1 : iss);
    }

    /**
     * RFC 5961 3.2 / 4.2: a challenge ACK, at most one per 500 ms for the entry (RFC 5961 7, as
     * {@link TcpInput#challengeAck} for a connection) and under the core's randomised total.
     */
    private void challengeAck(int slot) {
        long now = n.now();
        if (now - table.lastOowAckAt(slot) < TcpInput.OOW_ACK_INTERVAL_NANOS) {
            n.counters().inc(Stat.TCP_CHALLENGE_ACK_CONN_LIMITED);
            return;
        }
        table.lastOowAckAt(slot, now);
        if (tcp.in.challengeAllowed()) {
            ack(slot);
        }
    }

    /**
     * An ACK for an unacceptable segment: always for one that occupies sequence space, at most
     * one per 500 ms for a bare one (Linux's tcp_invalid_ratelimit: no ACK loop).
     */
    private void ackLimited(int slot, int segLen, long now) {
        if (segLen > 0 || now - table.lastOowAckAt(slot) >= TcpInput.OOW_ACK_INTERVAL_NANOS) {
            table.lastOowAckAt(slot, now);
            ack(slot);
        } else {
            n.counters().inc(Stat.TCP_OOW_ACK_LIMITED);
        }
    }

    /** The entry's ACK: SND.NXT, RCV.NXT, its window, and timestamps if on (RFC 7323 3.2). */
    private void ack(int slot) {
        long key = table.key(slot);
        int window = Math.min(table.rcvWnd(slot) >>> table.rcvWscale(slot), 65535);
        tcp.out.sendBareAck(ifs.address(table.localIf(slot)), TimeWaitTable.localPort(key), TimeWaitTable.remoteAddr(key),
                TimeWaitTable.remotePort(key), table.sndNxt(slot), table.rcvNxt(slot), window, table.tsOk(slot),
                table.tsRecent(slot));
    }

    // ------------------------------------------------------------------ statistics

    /**
     * Counts the entries under TIME_WAIT in {@code byState} and appends those {@code q} selects
     * to {@code out} (state TIME_WAIT; no RTT or window figures) while fewer than
     * {@code q.limit()} rows were selected before ({@code matched}). Control path: allocates only
     * the rows it copies.
     *
     * @return {@code matched} plus the entries {@code q} selected
     */
    long snapshot(ConnectionQuery q, List<TcpConnectionInfo> out, long[] byState, long matched) {
        n.checkOwner();
        byState[TcpState.TIME_WAIT.ordinal()] += table.size();
        boolean filters = q.filters();
        for (long p = table.first(); p < table.end(); p++) {
            int slot = table.slotAt(p);
            if (slot < 0) {
                continue;
            }
            long key = table.key(slot);
            if (filters && !q.matches(TcpState.TIME_WAIT.name(), TimeWaitTable.localPort(key), TimeWaitTable.remotePort(key))) {
                continue;
            }
            if (++matched > q.limit()) {
                continue;
            }
            out.add(new TcpConnectionInfo(n.core(), TcpState.TIME_WAIT.name(), ifs.address(table.localIf(slot)),
                    TimeWaitTable.localPort(key),
                    TimeWaitTable.remoteAddr(key), TimeWaitTable.remotePort(key), 0, 0, 0, 0, 0, Integer.MAX_VALUE / 2, 0, 0,
                    0, 0, 0, null));
        }
        return matched;
    }

    // ------------------------------------------------------------------ bucket moves

    /**
     * Takes the entries whose 4-tuple falls in {@code bucket} out of this core's table, as
     * {@link TimeWaitMsg} entries (oldest first) in a heap buffer of {@code count *
     * TimeWaitMsg.ENTRY} bytes, for the bucket's new owner. Control path: allocates.
     */
    MemorySegment emigrate(int bucket, IndirectionTable tableOf) {
        n.checkOwner();
        int count = 0;
        for (long p = table.first(); p < table.end(); p++) {
            int slot = table.slotAt(p);
            if (slot >= 0 && inBucket(slot, bucket, tableOf)) {
                count++;
            }
        }
        MemorySegment out = MemorySegment.ofArray(new byte[count * TimeWaitMsg.ENTRY]);
        int i = 0;
        for (long p = table.first(); p < table.end() && i < count; p++) {
            int slot = table.slotAt(p);
            if (slot >= 0 && inBucket(slot, bucket, tableOf)) {
                long key = table.key(slot);
                TimeWaitMsg.writeEntry(out, (long) i * TimeWaitMsg.ENTRY, ifs.address(table.localIf(slot)),
                        TimeWaitTable.remoteAddr(key), TimeWaitTable.remotePort(key),
                        TimeWaitTable.localPort(key), table.sndNxt(slot), table.rcvNxt(slot), table.rcvWnd(slot),
                        table.rcvWscale(slot), table.tsOk(slot), table.tsRecent(slot), table.expiresAt(slot),
                        table.tsRecentAt(slot));
                table.remove(slot);
                i++;
            }
        }
        return out;
    }

    private boolean inBucket(int slot, int bucket, IndirectionTable tableOf) {
        long key = table.key(slot);
        return tableOf.bucket(tableOf.hash().hash4(ifs.address(table.localIf(slot)), TimeWaitTable.remoteAddr(key),
                TimeWaitTable.localPort(key),
                TimeWaitTable.remotePort(key))) == bucket;
    }

    /**
     * Adopts the entries of a {@link TimeWaitMsg} at {@code index}: a bucket that moved here.
     * An entry whose 4-tuple already has a connection here (opened while it travelled) or whose
     * 2 MSL are over is not kept.
     */
    void immigrate(MemorySegment m, long index) {
        n.checkOwner();
        int count = TimeWaitMsg.count(m, index);
        long now = n.now();
        for (int i = 0; i < count; i++) {
            long at = TimeWaitMsg.entry(index, i);
            long key = Tcb.key(TimeWaitMsg.remoteAddr(m, at), TimeWaitMsg.remotePort(m, at), TimeWaitMsg.localPort(m, at));
            long expiresAt = TimeWaitMsg.expiresAt(m, at);
            int lif = ifs.localIndex(TimeWaitMsg.localAddr(m, at));
            if (lif < 0) { // the cores of one stack share its interfaces: a broken message
                throw new IllegalStateException("TIME-WAIT entry moved to core " + n.core() + " for "
                        + io.flowstack.core.wire.Ipv4.toString(TimeWaitMsg.localAddr(m, at)) + ", not a local address");
            }
            if (tcp.conns.contains(lif, key) || expiresAt - now <= 0) {
                continue;
            }
            insert(lif, key, TimeWaitMsg.sndNxt(m, at), TimeWaitMsg.rcvNxt(m, at), TimeWaitMsg.rcvWnd(m, at),
                    TimeWaitMsg.rcvWscale(m, at), TimeWaitMsg.tsOk(m, at), TimeWaitMsg.tsRecent(m, at),
                    TimeWaitMsg.tsRecentAt(m, at), expiresAt);
        }
    }
}
