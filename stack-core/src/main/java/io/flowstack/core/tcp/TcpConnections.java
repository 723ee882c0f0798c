package io.flowstack.core.tcp;

import io.flowstack.core.config.TcpSocketOptions;
import io.flowstack.core.stats.Stat;
import io.flowstack.core.stats.TcpConnectionInfo;
import io.flowstack.core.wire.Ipv4;
import java.util.ArrayList;
import java.util.List;
import org.agrona.collections.Int2ObjectHashMap;
import org.agrona.collections.Long2ObjectHashMap;

/**
 * This core's connection table: the PCB hash (4-tuple to control block), connection ids, the
 * listener replicas, the connections waiting for the end-of-batch rollup, and the TCP buffer
 * memory (the ring pool and its budget). Every other TCP class reaches connections through it.
 *
 * <p>Owned by: its netisr thread (through {@link TcpLayer}).
 */
final class TcpConnections extends TcpPart {
    /** The PCB hash: 4-tuple key ({@link Tcb#key}) to control block, every state but LISTEN. */
    final Long2ObjectHashMap<Tcb> pcbs = new Long2ObjectHashMap<>();
    /** Connection id to control block (doorbells name connections by id). */
    final Int2ObjectHashMap<Tcb> byId = new Int2ObjectHashMap<>();
    /** This core's replica of the listeners, by local port. */
    final Int2ObjectHashMap<TcpListenerState> listeners = new Int2ObjectHashMap<>();
    /** Connections input touched in this batch, output once at the rollup. */
    final ArrayList<Tcb> dirty = new ArrayList<>(256);
    private int nextId;
    final int maxConnectionsPerCore;
    final RingPool rings;
    final long memoryBudget;

    TcpConnections(TcpLayer tcp) {
        super(tcp);
        // ids are unique across cores (id = k * cores + core + 1), so a connection keeps its id when it moves
        this.nextId = n.core() + 1;
        this.maxConnectionsPerCore = Math.max(1, cfg.tcpMaxConnections / cfg.cores);
        // The budget never exceeds what the JVM will let arenas allocate (a quarter of that is
        // left to NIC buffers and rings): past it the stack refuses connections cleanly instead
        // of failing allocations.
        this.memoryBudget = Math.min(cfg.tcpMemoryBytes, RingPool.directMemoryLimit() / 4 * 3);
        this.rings = new RingPool(memoryBudget / cfg.cores, n.ownership());
    }

    /** Connections on this core (any state but LISTEN). */
    int connections() {
        n.checkOwner();
        return pcbs.size();
    }

    /** The congestion control algorithm of a connection, or null if there is none. */
    String congestionControlOf(int remoteAddr, int remotePort, int localPort) {
        n.checkOwner();
        Tcb t = pcbs.get(Tcb.key(remoteAddr, remotePort, localPort));
        return t == null ? null : t.cc.name();
    }

    /** Visits every connection of this core (stats). */
    void forEach(java.util.function.Consumer<Tcb> visitor) {
        n.checkOwner();
        for (Tcb t : pcbs.values()) {
            visitor.accept(t);
        }
    }

    /** Per-core share of the stack's TCP buffer budget; false when it would be exceeded. */
    boolean chargeMemory(long bytes) {
        if (!rings.canLend(bytes)) {
            n.counters().inc(Stat.TCP_MEMORY_LIMIT);
            return false;
        }
        return true;
    }

    /** A stream for connection {@code id} with rings from the pool; null if the JVM refused the memory. */
    TcpStream newStream(int id, TcpSocketOptions o) {
        ByteRing send = rings.take(o.sendBufferBytes());
        ByteRing recv = send == null ? null : rings.take(o.receiveBufferBytes());
        if (recv == null) {
            if (send != null) {
                rings.give(send);
            }
            n.counters().inc(Stat.TCP_MEMORY_LIMIT);
            return null;
        }
        return new TcpStream(tcp.self, id, send, recv);
    }

    /** TCP ring bytes lent to connections on this core. */
    long memoryUsed() {
        n.checkOwner();
        return rings.lent();
    }

    /** TCP ring bytes this core has allocated (lent or idle in its pool): the pool's high-water mark. */
    long memoryAllocated() {
        n.checkOwner();
        return rings.allocated();
    }

    /**
     * Returns a finished, application-closed stream's rings to the pool (once) and detaches them
     * from its control block (which may live on in TIME_WAIT), so nothing of the old connection
     * can reach a ring that now serves another one.
     */
    void releaseStream(TcpStream st) {
        n.checkOwner();
        if (st != null && st.owner() != tcp.self) {
            st.owner().releaseLater(st); // it moved with its bucket
            return;
        }
        if (st != null && !st.ringsReturned) {
            st.ringsReturned = true;
            Tcb t = byId.get(st.id());
            if (t != null && t.stream == st) {
                t.stream = null;
            }
            rings.give(st.send);
            rings.give(st.recv);
        }
    }

    /** The netisr is done with the rings (closed, reset, or TIME_WAIT): return them if the app is too. */
    void maybeReturnRings(Tcb t) {
        TcpStream st = t.stream;
        if (st != null && (st.closed || t.binder != null || t.up != null)) {
            releaseStream(st);
        }
    }

    /** Frees the pool; call after the netisr stopped. */
    void release() {
        rings.close();
    }

    Tcb newTcb(int localPort, int remoteAddr, int remotePort) {
        int id = nextId;
        nextId += cfg.cores;
        if (nextId <= 0) {
            nextId = n.core() + 1;
        }
        Tcb t = new Tcb(id, localPort, remoteAddr, remotePort);
        t.mss = TcpOpen.DEFAULT_MSS;
        t.rto = cfg.tcpRtoInitialNanos;
        t.ssthresh = Integer.MAX_VALUE / 2;
        t.lastActivityNanos = n.now();
        pcbs.put(t.key, t);
        byId.put(id, t);
        return t;
    }

    /**
     * DragonFly's rollup: a connection touched by input is output once at the end of the batch,
     * so a burst of segments yields one ACK decision (and one window update), not one per segment.
     */
    void markDirty(Tcb t) {
        if (!t.dirty && t.state != TcpState.CLOSED) {
            t.dirty = true;
            dirty.add(t);
        }
    }

    /**
     * Removes the TCB from every table of this core. Counted once for a connection that was
     * counted opened, so that per core: active + passive opens + migrated in = closed + migrated
     * out + connections still open.
     */
    void drop(Tcb t) {
        if (t.opened) {
            t.opened = false;
            n.counters().inc(Stat.TCP_CLOSED);
        }
        if (t.listener != null) {
            t.listener.halfOpen--;
            t.listener = null;
        }
        t.state = TcpState.CLOSED;
        maybeReturnRings(t);
        pcbs.remove(t.key);
        byId.remove(t.id);
        tcp.timers.cancelTimer(t);
    }

    /** Human-readable summary of one connection (stats, ss -tni). */
    static String describe(Tcb t) {
        return String.format("%s %s:%d rtt=%.1fms rto=%dms cwnd=%d ssthresh=%d in=%d out=%d retrans=%d",
                t.stateName(), Ipv4.toString(t.remoteAddr), t.remotePort, t.srtt / 1e6, t.rto / 1_000_000,
                t.cwnd, t.ssthresh, t.bytesIn, t.bytesOut, t.retransmits);
    }

    /**
     * Appends a copy of every connection of this core to {@code out}, for statistics (control
     * path: allocates; reads the TCBs only).
     */
    void snapshot(List<TcpConnectionInfo> out) {
        n.checkOwner();
        for (Tcb t : pcbs.values()) {
            out.add(new TcpConnectionInfo(n.core(), t.stateName(), cfg.address, t.localPort, t.remoteAddr,
                    t.remotePort, t.srtt, t.rttvar, t.rto, t.mss, t.cwnd, t.ssthresh, t.sndWnd, t.inFlight(),
                    t.bytesIn, t.bytesOut, t.retransmits, t.cc == null ? null : t.cc.name()));
        }
    }
}
