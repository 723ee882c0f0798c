package io.flowstack.core.tcp;

import io.flowstack.core.config.TcpSocketOptions;
import io.flowstack.core.stats.Stat;
import io.flowstack.core.stats.TcpConnectionInfo;
import io.flowstack.core.wire.Ipv4;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
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
    /** A callback stream's send ring under memory pressure (see {@link #sendRingSize}). */
    static final int PRESSURE_SEND_RING = 64 << 10;
    /**
     * The PCB hash, one per local address: {@code pcbs[localIf]} maps the rest of the 4-tuple
     * ({@link Tcb#key}) to the control block, every state but LISTEN. An endpoint has one
     * address, so one map and the lookup it always had; a router finds the map by the
     * datagram's destination ({@code Interfaces.localIndex}, a scan of a few ints).
     */
    private final Long2ObjectHashMap<Tcb>[] pcbs;
    /** Control blocks in all the maps. */
    private int count;
    /** Connection id to control block (doorbells name connections by id). */
    final Int2ObjectHashMap<Tcb> byId = new Int2ObjectHashMap<>();
    /** This core's replica of the listeners, by local port. */
    final Int2ObjectHashMap<TcpListenerState> listeners = new Int2ObjectHashMap<>();
    /** Connections input touched in this batch, output once at the rollup. */
    final ArrayList<Tcb> dirty = new ArrayList<>(256);
    /** Callback-API connections whose write found no send ring to borrow ({@link #lendSend}). */
    private final java.util.ArrayDeque<Tcb> ringWaiters = new java.util.ArrayDeque<>();
    private int nextId;
    final int maxConnectionsPerCore;
    final RingPool rings;
    final long memoryBudget;

    @SuppressWarnings("unchecked")
    TcpConnections(TcpLayer tcp) {
        super(tcp);
        this.pcbs = new Long2ObjectHashMap[ifs.count()];
        for (int i = 0; i < pcbs.length; i++) {
            pcbs[i] = new Long2ObjectHashMap<>();
        }
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
        return count;
    }

    /** Control blocks in the tables (the owner's own reads, no check). */
    int size() {
        return count;
    }

    /** The connection of local interface {@code localIf} and {@code key} ({@link Tcb#key}), or null. */
    Tcb find(int localIf, long key) {
        return pcbs[localIf].get(key);
    }

    /** Whether local interface {@code localIf} has a connection of {@code key}. */
    boolean contains(int localIf, long key) {
        return pcbs[localIf].containsKey(key);
    }

    /** Enters {@code t} in the table of its local address (a new connection, or one that moved here). */
    void put(Tcb t) {
        if (pcbs[t.localIf].put(t.key, t) == null) {
            count++;
        }
    }

    /** Takes {@code t} out of the table of its local address. */
    void remove(Tcb t) {
        if (pcbs[t.localIf].remove(t.key) != null) {
            count--;
        }
    }

    /** The congestion control algorithm of a connection (on any local address), or null if there is none. */
    String congestionControlOf(int remoteAddr, int remotePort, int localPort) {
        n.checkOwner();
        long key = Tcb.key(remoteAddr, remotePort, localPort);
        for (Long2ObjectHashMap<Tcb> m : pcbs) {
            Tcb t = m.get(key);
            if (t != null) {
                return t.cc.name();
            }
        }
        return null;
    }

    /** Visits every connection of this core (stats, bucket moves). */
    void forEach(java.util.function.Consumer<Tcb> visitor) {
        n.checkOwner();
        for (Long2ObjectHashMap<Tcb> m : pcbs) {
            for (Tcb t : m.values()) {
                visitor.accept(t);
            }
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

    /**
     * A callback-API stream for connection {@code id}: no ring yet. Its rings are lent when data
     * is written ({@link #lendSend}) or arrives ({@link #lendRecv}) and given back once drained
     * ({@link #returnIdleRings}), so an idle connection holds no buffer memory.
     */
    TcpStream newLazyStream(int id, TcpSocketOptions o) {
        return new TcpStream(tcp.self, id, null, null, o.sendBufferBytes(), o.receiveBufferBytes());
    }

    /**
     * Lends {@code t}'s stream a send ring (callback API, on a write to a stream with none),
     * continuing the stream's positions: everything before was acknowledged, so the ring starts
     * empty at SND.UNA's position. Null if the budget or the JVM refuses (counted under
     * {@code tcp_memory_limit}); the channel is told {@code onWritable} when rings come back.
     */
    ByteRing lendSend(Tcb t) {
        TcpStream st = t.stream;
        if (st == null || st.ringsReturned) {
            return null;
        }
        if (st.send == null) {
            int size = sendRingSize(st);
            ByteRing r = size > 0 && chargeMemory(size) ? counted(rings.take(size)) : null;
            if (size == 0) {
                n.counters().inc(Stat.TCP_MEMORY_LIMIT);
            }
            if (r == null) {
                waitForRings(t);
                return null;
            }
            r.resetAt(TcpOutput.pos(t, t.sndMax));
            st.send = r;
        }
        return st.send;
    }

    /**
     * Lends {@code t}'s stream a receive ring (callback API, when data arrives for a stream with
     * none). Null if the budget or the JVM refuses (counted): the segment is dropped and the
     * peer retransmits it (the window advertised is not taken back, RFC 9293 3.8.6).
     */
    ByteRing lendRecv(Tcb t) {
        TcpStream st = t.stream;
        if (st.recv == null && !st.ringsReturned) {
            ByteRing r = chargeMemory(st.receiveBufferBytes) ? counted(rings.take(st.receiveBufferBytes)) : null;
            if (r == null) {
                return null;
            }
            st.recv = r; // positions from 0: nothing of the TCB refers to the receive ring's
        }
        return st.recv;
    }

    /**
     * Callback API: gives back the rings {@code t} no longer needs, so an idle connection holds
     * none. The receive ring once the handler consumed everything and nothing waits out of
     * order (those bytes sit in the ring beyond its tail); the send ring once it is empty and
     * everything sent is acknowledged, while no FIN is due (its sequence number has no ring
     * position). The blocking API keeps its rings: its application thread reads and writes them
     * concurrently with the netisr, which could not take one back without a hand-shake.
     */
    void returnIdleRings(Tcb t) {
        TcpStream st = t.stream;
        if (st == null || st.ringsReturned || t.up == null || st.owner() != tcp.self) {
            return;
        }
        ByteRing r = st.recv;
        if (r != null && r.head() == r.tail() && t.ooo.isEmpty()) {
            st.recv = null;
            rings.give(r);
        }
        ByteRing s = st.send;
        if (s != null && s.head() == s.tail() && t.sndUna == t.sndMax && !t.finSent && !st.shutdownOutput
                && !st.closed && (t.state == TcpState.ESTABLISHED || t.state == TcpState.CLOSE_WAIT)) {
            st.send = null;
            rings.give(s);
        }
    }

    /**
     * The send ring a callback stream may borrow now, as Linux shrinks send buffers under
     * {@code tcp_mem} pressure: its full size when nothing else is lent or while all lent rings
     * stay within half the core's budget, a {@value #PRESSURE_SEND_RING}-byte ring while they stay
     * within three quarters, else none (0: wait). Send rings are what connections that never drain hold (slow readers,
     * zero windows), so they can never take the last quarter, which stays for receive rings: a
     * new connection's request is still read and answered.
     */
    private int sendRingSize(TcpStream st) {
        long budget = rings.budget();
        if (rings.lent() == 0 || rings.canLend(st.sendBufferBytes + budget - budget / 2)) {
            return st.sendBufferBytes;
        }
        int small = Math.min(st.sendBufferBytes, PRESSURE_SEND_RING);
        return rings.canLend(small + budget / 4) ? small : 0;
    }

    /**
     * {@code r}, counting a null under {@code tcp_memory_limit}: within the budget the pool
     * refuses a ring only when the kernel refuses its mapping ({@code mmap}: {@code ENOMEM}).
     */
    private ByteRing counted(ByteRing r) {
        if (r == null) {
            n.counters().inc(Stat.TCP_MEMORY_LIMIT);
        }
        return r;
    }

    /** A connection whose write found no ring to borrow: told {@code onWritable} once rings return. */
    void waitForRings(Tcb t) {
        if (!t.waitingForRing) {
            t.waitingForRing = true;
            ringWaiters.addLast(t);
        }
    }

    /**
     * At the rollup: while the budget could lend a send ring again, tells the connections that
     * waited for one ({@code onWritable} through {@code onSendSpace}); each borrows it by writing.
     */
    void wakeRingWaiters() {
        // Each waiter once per rollup: one refused again (a JVM refusal within the budget) waits
        // for the next, instead of looping here.
        for (int k = ringWaiters.size(); k > 0 && !ringWaiters.isEmpty(); k--) {
            Tcb t = ringWaiters.peekFirst();
            TcpStream st = t.stream;
            if (st == null || st.owner() != tcp.self) {
                ringWaiters.pollFirst(); // gone, or moved away (re-queued by its new core): not ours to touch
                continue;
            }
            if (sendRingSize(st) == 0) {
                return;
            }
            ringWaiters.pollFirst();
            t.waitingForRing = false;
            if (t.up != null && t.state != TcpState.CLOSED) {
                tcp.user.sendSpace(t);
            }
        }
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

    /** Visits the idle rings of this core's pool (tests). */
    void forEachIdleRing(Consumer<ByteRing> visitor) {
        n.checkOwner();
        rings.forEachIdle(visitor);
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
            if (st.send != null) {
                rings.give(st.send);
            }
            if (st.recv != null) {
                rings.give(st.recv);
            }
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

    /** A new control block for the 4-tuple, entered in the tables; {@code localIf} is the local address's interface. */
    Tcb newTcb(int localIf, int localPort, int remoteAddr, int remotePort) {
        int id = nextId;
        nextId += cfg.cores;
        if (nextId <= 0) {
            nextId = n.core() + 1;
        }
        Tcb t = new Tcb(id, localIf, ifs.address(localIf), localPort, remoteAddr, remotePort);
        t.tsOffset = tcp.isn.tsOffset(t.localAddr, localPort, remoteAddr, remotePort); // RFC 7323 7.1
        t.mss = TcpOpen.DEFAULT_MSS;
        t.rto = cfg.tcpRtoInitialNanos;
        t.ssthresh = Integer.MAX_VALUE / 2;
        t.lastActivityNanos = n.now();
        put(t);
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
        remove(t);
        byId.remove(t.id);
        tcp.timers.cancelTimer(t);
    }

    /** Human-readable summary of one connection (stats, ss -tni). */
    static String describe(Tcb t) {
        return String.format("%s %s:%d-%s:%d rtt=%.1fms rto=%dms cwnd=%d ssthresh=%d in=%d out=%d retrans=%d",
                t.stateName(), Ipv4.toString(t.localAddr), t.localPort, Ipv4.toString(t.remoteAddr), t.remotePort,
                t.srtt / 1e6, t.rto / 1_000_000,
                t.cwnd, t.ssthresh, t.bytesIn, t.bytesOut, t.retransmits);
    }

    /**
     * Counts this core's connections by state into {@code byState} (indexed by
     * {@link TcpState#ordinal}) and appends a copy of those {@code q} selects to {@code out}, at
     * most {@code q.limit()}: statistics at any size (a million connections are counted, not
     * copied, unless asked). Control path: allocates only the rows it copies.
     *
     * @return how many connections {@code q} selected (copied or not)
     */
    long snapshot(io.flowstack.core.stats.ConnectionQuery q, List<TcpConnectionInfo> out, long[] byState) {
        n.checkOwner();
        boolean filters = q.filters();
        long matched = 0;
        for (Long2ObjectHashMap<Tcb> m : pcbs) {
            for (Tcb t : m.values()) {
                byState[t.state.ordinal()]++;
                if (filters && !q.matches(t.state.name(), t.localPort, t.remotePort)) {
                    continue;
                }
                if (++matched > q.limit()) {
                    continue;
                }
                out.add(new TcpConnectionInfo(n.core(), t.stateName(), t.localAddr, t.localPort, t.remoteAddr,
                        t.remotePort, t.srtt, t.rttvar, t.rto, t.mss, t.cwnd, t.ssthresh, t.sndWnd, t.inFlight(),
                        t.bytesIn, t.bytesOut, t.retransmits, t.cc == null ? null : t.cc.name()));
            }
        }
        return matched;
    }

    /** The ports this core listens on, ascending. */
    int[] listenerPorts() {
        n.checkOwner();
        int[] ports = new int[listeners.size()];
        int i = 0;
        for (Int2ObjectHashMap<TcpListenerState>.KeyIterator it = listeners.keySet().iterator(); it.hasNext(); ) {
            ports[i++] = it.nextInt();
        }
        java.util.Arrays.sort(ports);
        return ports;
    }
}
