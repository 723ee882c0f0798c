package io.flowstack.core.tcp;

import io.flowstack.core.config.StackConfig;
import io.flowstack.core.flow.IndirectionTable;
import io.flowstack.core.percore.CoreContext;
import io.flowstack.core.config.TcpSocketOptions;
import io.flowstack.core.stats.TcpConnectionInfo;
import io.flowstack.core.wire.TcpOptions;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.IntFunction;

/**
 * TCP (RFC 9293) for one core: the entry points the netisr and the socket layer call, and the
 * wiring of the classes that implement it, one concern each:
 * <ul>
 *   <li>{@link TcpConnections}: the per-core connection table (PCB hash, ids, listeners, ring memory);</li>
 *   <li>{@link TcpInput}: segment arrival, RFC 9293 3.10.7 (with RFC 5961 and RFC 7323 PAWS);</li>
 *   <li>{@link TcpAck}: the ACK field, window update, RTT (RFC 9293 3.10.7.4 fifth, RFC 6298);</li>
 *   <li>{@link LossRecovery}: RFC 5681/6582 fast recovery, RFC 6675 SACK, RFC 8985 RACK-TLP, undo;</li>
 *   <li>{@link TcpOutput}: tcp_output, segment and option building, the rollup;</li>
 *   <li>{@link TcpTimers}: the timer wheel, RTO, persist, keep-alive, delayed ACK, TIME-WAIT;</li>
 *   <li>{@link TcpOpen} and {@link SynCookies}: active open, the listen path, RFC 4987 cookies;</li>
 *   <li>{@link TcpUser}: doorbells, application flags, handler upcalls, closing;</li>
 *   <li>{@link TcpIcmp}: ICMP errors and path MTU (RFC 5461, 5927, 1191);</li>
 *   <li>{@link TcpMigration}: connections moving with their bucket (docs/REBALANCING.md);</li>
 *   <li>{@link TcpTimeWait} and {@link TimeWaitTable}: TIME-WAIT as small entries, not control blocks.</li>
 * </ul>
 *
 * <p>Owned by: its netisr thread. No locks: the only ways in are {@link #input} (frames for
 * this core), {@link #doorbell} (an application touched a connection's rings) and the
 * command methods run by the netisr on behalf of socket calls.
 */
public final class TcpLayer {
    final CoreContext n;
    /** The netisr owning this core's streams, as they reach it. */
    final StreamOwner self;
    /** Core index to its stream owner (where a moving connection's stream is handed). */
    final IntFunction<StreamOwner> owners;
    final StackConfig cfg;
    final Isn isn;
    /** The options of the segment being processed (parsed once per segment by {@link TcpInput}). */
    final TcpOptions opts = new TcpOptions();

    final TcpConnections conns;
    final TcpInput in;
    final TcpAck ack;
    final LossRecovery recovery;
    final TcpOutput out;
    final TcpTimers timers;
    final TcpOpen open;
    final SynCookies cookies;
    final TcpUser user;
    final TcpIcmp icmp;
    final TcpMigration migration;
    final TcpTimeWait timeWait;

    /**
     * @param ctx this core's context
     * @param owners core index to the {@link StreamOwner} of that core (this core's included)
     * @param isn the stack's initial sequence number generator (RFC 9293 3.4.1, RFC 6528)
     */
    public TcpLayer(CoreContext ctx, IntFunction<StreamOwner> owners, Isn isn) {
        this.n = ctx;
        this.cfg = ctx.config();
        this.owners = owners;
        this.self = owners.apply(ctx.core());
        this.isn = isn;
        this.conns = new TcpConnections(this);
        this.in = new TcpInput(this);
        this.ack = new TcpAck(this);
        this.recovery = new LossRecovery(this);
        this.out = new TcpOutput(this);
        this.timers = new TcpTimers(this);
        this.open = new TcpOpen(this);
        this.cookies = new SynCookies(this);
        this.user = new TcpUser(this);
        this.icmp = new TcpIcmp(this);
        this.migration = new TcpMigration(this);
        this.timeWait = new TcpTimeWait(this);
    }

    // ------------------------------------------------------------------ the connection table

    /** Connections on this core (any state but LISTEN). */
    public int connections() {
        return conns.connections();
    }

    /** TIME-WAIT entries on this core (not connections: see {@link TcpTimeWait}). */
    public int timeWaitEntries() {
        return timeWait.size();
    }

    /** The congestion control algorithm of a connection, or null if there is none. */
    public String congestionControlOf(int remoteAddr, int remotePort, int localPort) {
        return conns.congestionControlOf(remoteAddr, remotePort, localPort);
    }

    /** Visits every connection of this core (stats). */
    public void forEach(Consumer<Tcb> visitor) {
        conns.forEach(visitor);
    }

    /** TCP ring bytes lent to connections on this core. */
    public long memoryUsed() {
        return conns.memoryUsed();
    }

    /** TCP ring bytes this core has allocated (lent or idle in its pool): the pool's high-water mark. */
    public long memoryAllocated() {
        return conns.memoryAllocated();
    }

    /** Visits the idle rings of this core's pool (tests; not on the data path). */
    public void forEachIdleRing(Consumer<ByteRing> visitor) {
        conns.forEachIdleRing(visitor);
    }

    /** Returns a finished, application-closed stream's rings to the pool (see {@link TcpConnections}). */
    public void releaseStream(TcpStream st) {
        conns.releaseStream(st);
    }

    /** Frees the pool; call after the netisr stopped. */
    public void release() {
        conns.release();
    }

    /** Appends a copy of every connection of this core to {@code out} (statistics; allocates). */
    public void snapshot(List<TcpConnectionInfo> out) {
        snapshot(io.flowstack.core.stats.ConnectionQuery.ALL, out, new java.util.HashMap<>());
    }

    /**
     * Statistics at any size: counts this core's connections by state and copies those
     * {@code q} selects (at most {@code q.limit()}); see {@link io.flowstack.core.stats.ConnectionQuery}.
     *
     * @param q which connections to copy into {@code out}
     * @param out where the copies go
     * @param byState filled with the count of connections by state name, in RFC 9293 order
     *     (states with none left out)
     * @return how many connections {@code q} selected, copied or not
     */
    public long snapshot(io.flowstack.core.stats.ConnectionQuery q, List<TcpConnectionInfo> out,
                         java.util.Map<String, Long> byState) {
        long[] counts = new long[TcpState.values().length];
        long matched = timeWait.snapshot(q, out, counts, conns.snapshot(q, out, counts));
        for (TcpState st : TcpState.values()) {
            if (counts[st.ordinal()] > 0) {
                byState.put(st.name(), counts[st.ordinal()]);
            }
        }
        return matched;
    }

    /** The ports this core listens on, ascending. */
    public int[] listenerPorts() {
        return conns.listenerPorts();
    }

    /** Human-readable summary of one connection (stats, ss -tni). */
    public static String describe(Tcb t) {
        return TcpConnections.describe(t);
    }

    // ------------------------------------------------------------------ opens

    /** A listener replica arrives on this core. */
    public void listen(TcpListenerState l) {
        open.listen(l);
    }

    public void unlisten(int port) {
        open.unlisten(port);
    }

    /**
     * The local address a connection to {@code remoteAddr} is opened from: the address of the
     * interface the route to it leaves by (RFC 1122 3.3.4.3, as Linux's source selection), or
     * interface 0's when there is no route (the SYN is then dropped and counted, and retried).
     */
    public int sourceFor(int remoteAddr) {
        return n.sourceAddress(remoteAddr);
    }

    /**
     * Active open (RFC 9293 3.10.1) from {@link #sourceFor the route's source address}; null if
     * the 4-tuple is in use or not this core's.
     */
    public TcpStream connect(int remoteAddr, int remotePort, int localPort, boolean nodelay, String congestion) {
        TcpSocketOptions o = TcpSocketOptions.defaults(cfg).withNoDelay(nodelay);
        return connect(remoteAddr, remotePort, localPort, congestion != null ? o.withCongestionControl(congestion) : o);
    }

    /**
     * Active open with per-socket options, from the route's source address; null if the 4-tuple
     * is in use or not this core's.
     */
    public TcpStream connect(int remoteAddr, int remotePort, int localPort, TcpSocketOptions o) {
        return connect(sourceFor(remoteAddr), remoteAddr, remotePort, localPort, o, null);
    }

    /**
     * Active open from {@code localAddr} (one of the stack's addresses) whose events go to the
     * upcalls {@code binder} makes, on this netisr (null: blocking API); null if the 4-tuple is
     * in use or not this core's.
     *
     * @throws IllegalArgumentException if {@code localAddr} is not one of the stack's addresses
     */
    public TcpStream connect(int localAddr, int remoteAddr, int remotePort, int localPort, TcpSocketOptions o,
                             TcpUpcalls.Binder binder) {
        return open.connect(localAddr, remoteAddr, remotePort, localPort, o, binder);
    }

    // ------------------------------------------------------------------ input, output, timers

    /**
     * TCP input for a validated datagram owned by this core ({@code len} = IP total length).
     *
     * @param csumValid the NIC vouched for the checksum: it is not verified again
     */
    public void input(MemorySegment s, long off, int len, boolean broadcast, boolean csumValid) {
        in.input(s, off, len, broadcast, csumValid);
    }

    /** End of a netisr batch: runs output for every connection input touched. */
    public void rollup() {
        out.rollup();
        user.flushWakes(); // blocking-API readers and writers, once per pass (TcpStream.signalAtThresholds)
    }

    /** tcp_output for one connection. */
    public void output(Tcb t) {
        out.output(t);
    }

    /** An application changed connection {@code id}'s rings or flags. */
    public void doorbell(int id) {
        user.doorbell(id);
    }

    /** Runs expired timers; called by the netisr on every pass. */
    public int pollTimers(long now) {
        return timers.pollTimers(now) + timeWait.expire(now);
    }

    /** An ICMP error quoting one of this core's segments, sent from {@code localAddr} (see {@link TcpIcmp}). */
    public void icmpError(int localAddr, int remoteAddr, int remotePort, int localPort, int seq, int type, int code,
                          int mtu) {
        icmp.icmpError(localAddr, remoteAddr, remotePort, localPort, seq, type, code, mtu);
    }

    // ------------------------------------------------------------------ bucket moves

    /** Takes the connections of {@code bucket} out of this core's tables for core {@code target}. */
    public List<Tcb> emigrate(int bucket, IndirectionTable table, int target) {
        return migration.emigrate(bucket, table, target);
    }

    /** Adopts connections that moved here from core {@code from} with their bucket. */
    public void immigrate(List<Tcb> in, int from) {
        migration.immigrate(in, from);
    }

    /**
     * Takes the TIME-WAIT entries of {@code bucket} out of this core's table, as
     * {@link io.flowstack.core.wire.msg.TimeWaitMsg} entries in a heap buffer (see {@link TcpTimeWait#emigrate}).
     */
    public MemorySegment emigrateTimeWait(int bucket, IndirectionTable table) {
        return timeWait.emigrate(bucket, table);
    }

    /** Adopts the TIME-WAIT entries of the {@link io.flowstack.core.wire.msg.TimeWaitMsg} at {@code index}. */
    public void immigrateTimeWait(MemorySegment m, long index) {
        timeWait.immigrate(m, index);
    }

    /** Periodic housekeeping (the netisr's tick). */
    public void tick(long now) {
        migration.tick(now);
    }
}
