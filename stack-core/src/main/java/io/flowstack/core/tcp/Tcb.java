package io.flowstack.core.tcp;

/**
 * A TCP control block (RFC 9293 section 3.3.1), with the RFC's variable names.
 *
 * <p>Owned by: the netisr of the core its 4-tuple hashes to, for its whole life. The
 * application reaches it only through {@link #stream} (rings and flags) and doorbell messages.
 */
public final class Tcb {

    // identity
    final int id;
    /**
     * The local interface whose address the connection uses ({@code Interfaces.address}): the
     * address a passive open's SYN was sent to, or an active open's source (RFC 9293 3.3.1: a
     * connection is named by both sockets, so the local address is part of its identity).
     */
    final int localIf;
    /** That interface's address: the connection's local address (big-endian int). */
    final int localAddr;
    final int localPort;
    final int remoteAddr;
    final int remotePort;
    /** The PCB key within the table of {@link #localIf} (see {@link #key(int, int, int)}). */
    final long key;
    /** RFC 9293 3.3.2. */
    TcpState state = TcpState.CLOSED;
    TcpStream stream;
    TcpListenerState listener; // for passive opens until accepted
    boolean opened; // counted in TCP_ACTIVE_OPENS or TCP_PASSIVE_OPENS (and TCP_CLOSED when dropped)
    boolean halfOpenMoving;
    String softError; // RFC 1122 4.2.3.9: the last soft ICMP error, reported if the connection times out // a passive open in SYN-RECEIVED on its way to another core (rebalancing)

    // send sequence space (RFC 9293 3.3.1)
    int iss;
    int sndUna;
    int sndNxt;
    /** Highest sequence number sent (SND.MAX, as in BSD): sndNxt may be pulled back on RTO. */
    int sndMax;
    int sndWnd; // scaled
    int maxSndWnd; // largest window the peer offered (sender SWS avoidance)
    int sndWl1;
    int sndWl2;
    int sndWscale; // peer's shift applied to its window
    int mss; // our sending MSS (peer's MSS option, clamped by our MTU)
    boolean finSent;
    int finSeq; // sequence number of our FIN once sent
    /** Ring position of the byte with sequence number sndUna. */
    long sndUnaPos;

    // receive sequence space
    int irs;
    int rcvNxt;
    int rcvWscale; // our shift
    int rcvAdv; // right edge of the window we advertised (never moves left)
    long lastOowAckAt = Long.MIN_VALUE / 2; // last ACK sent in reply to an unacceptable bare ACK
    int lastAckSent; // RFC 7323 Last.ACK.sent
    boolean finReceived;
    /**
     * Out-of-order ranges: the shared empty {@link OutOfOrder#NONE} until the first segment
     * arrives out of order ({@link #oooForUpdate}), so an in-order connection carries no list.
     */
    OutOfOrder ooo = OutOfOrder.NONE;

    // options (RFC 7323, RFC 2018)
    boolean tsOk;
    /** RFC 7323 7.1: added to our timestamp clock in every TSval of this connection ({@link Isn#tsOffset}). */
    int tsOffset;
    int tsRecent;
    long tsRecentAgeNanos;
    boolean sackOk;
    boolean wscaleOk;

    // timers (absolute nanoTime deadlines; 0 = not armed)
    long rexmtAt;
    long persistAt;
    long delackAt;
    long keepaliveAt;
    long timeWaitAt;
    long timerDeadline; // the wheel entry currently scheduled, 0 if none
    long timerId = -1;

    // RTT estimation (RFC 6298)
    long srtt; // nanos, 0 until the first sample
    long rttvar;
    long rto;
    int backoff; // consecutive RTO expirations
    int persistBackoff; // zero-window probes since the window closed (not reset by their ACKs)
    int probesUnanswered; // zero-window probes since the peer's last acceptable ACK (Linux's icsk_probes_out)
    int rttSeq; // sequence number being timed (Karn's algorithm), valid if rttTiming
    long rttStart;
    boolean rttTiming;

    // congestion control (RFC 5681, RFC 6582)
    int cwnd;
    int ssthresh;
    int dupAcks;
    boolean inRecovery;
    int recover;
    /** RFC 6675: the sender's view of what the receiver holds, and HighRxt. */
    Scoreboard sb = Scoreboard.NONE; // the shared empty board until the first SACK block ({@link #sbForUpdate})
    int highRxt;
    long unaRxtAt; // when the segment at SND.UNA was last retransmitted in recovery (0: not)
    int dupThresh = 3; // RFC 5681 DupThresh, raised by proven reordering (undoSpurious)
    int undoCwnd, undoSsthresh; // before the reduction of the current retransmission episode
    boolean undoRto; // that episode began with a timeout
    boolean eifel; // RFC 3522: the first ACK of new data is still to be checked
    int rxtTsVal; // TSval of the episode's first retransmission
    int rxtDegree; // segments SACKed above SND.UNA when the episode began
    long tlpAt; // RFC 8985 7.2 probe timeout (0: off)
    int tlpEnd; // RFC 8985 7.3 TLP.end_seq: SND.NXT when the probe went out (0 with tlpEndSet false: none)
    boolean tlpEndSet;
    long rackAt; // RFC 8985 6.3 reordering timer: re-check whether the head segment is lost (0: off)
    long unaSentAt; // the segment at SND.UNA was last sent no later than this (its send or SND.UNA's last move)
    CongestionControl cc;

    // output decisions
    boolean ackNow;
    boolean ackDue; // an ACK is owed at the end of this receive batch (RFC 5681 4.2, coalesced)
    int quickAcks; // in-order segments still ACKed without delay (Linux's quick-ack mode)
    boolean pingpong; // interactive: we answer what we receive, so ACKs wait to ride on the answer
    long lastDataInAt; // when in-order data last arrived (0: never)
    boolean dirty; // queued for output at the end of the netisr batch (rollup)
    boolean acked; // the segment being processed acknowledged new data
    int unackedSegments; // received full segments not yet acknowledged (delayed ACK)
    boolean nodelay;
    int sndSml; // end of the last small segment sent (Minshall's Nagle)
    long sendTailSeen; // the send ring's tail as output last read it (TcpUser.checkDoorbellLate)
    boolean keepAlive;
    int keepaliveProbes; // unanswered probes
    io.flowstack.core.config.TcpSocketOptions options;
    TcpUpcalls.Binder binder; // callback API (until onClosed), null for the blocking API
    TcpUpcalls up; // the callback API's upcalls once the connection opened
    boolean peerClosedPending; // FIN seen; onPeerClosed owed once the handler drained the data
    boolean waitingForRing; // callback API: a write found no send ring to borrow (TcpConnections.lendSend)
    long lastActivityNanos;
    int retransmits; // total, for stats
    long bytesIn;
    long bytesOut;

    Tcb(int id, int localIf, int localAddr, int localPort, int remoteAddr, int remotePort) {
        this.id = id;
        this.localIf = localIf;
        this.localAddr = localAddr;
        this.localPort = localPort;
        this.remoteAddr = remoteAddr;
        this.remotePort = remotePort;
        this.key = key(remoteAddr, remotePort, localPort);
    }

    /**
     * The rest of the 4-tuple once the local address is known: each local address has its own
     * table ({@link TcpConnections}, {@link TimeWaitTable}), so (local interface, key) is exact.
     */
    static long key(int remoteAddr, int remotePort, int localPort) {
        return ((long) remoteAddr << 32) | ((long) remotePort << 16) | localPort;
    }

    /** The connection's local address (big-endian int). */
    public int localAddress() {
        return localAddr;
    }

    /** The connection's state (RFC 9293 3.3.2). */
    public TcpState state() {
        return state;
    }

    public String stateName() {
        return state.name();
    }

    /** The out-of-order list, made on first use (an idle connection holds none). */
    OutOfOrder oooForUpdate() {
        if (ooo == OutOfOrder.NONE) {
            ooo = new OutOfOrder(OutOfOrder.MAX);
        }
        return ooo;
    }

    /** The SACK scoreboard, made on the first SACK block (an idle connection holds none). */
    Scoreboard sbForUpdate() {
        if (sb == Scoreboard.NONE) {
            sb = new Scoreboard(Scoreboard.MAX);
        }
        return sb;
    }

    /** Bytes sent and not yet acknowledged. */
    int inFlight() {
        return sndMax - sndUna;
    }

    /** True once both SYNs are acknowledged (RFC 9293 3.5: both sides in sync). */
    boolean synced() {
        return state.synced();
    }
}
