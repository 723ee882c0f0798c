package io.flowstack.core.tcp;

import io.flowstack.core.flow.IndirectionTable;
import io.flowstack.core.stats.Stat;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.agrona.collections.Int2IntHashMap;

/**
 * Connections moving with their bucket to another core (docs/REBALANCING.md): taking them out
 * of this core's tables, adopting them on arrival, and remembering where recent ones went so a
 * late doorbell is forwarded.
 *
 * <p>Owned by: its netisr thread (through {@link TcpLayer}).
 */
final class TcpMigration extends TcpPart {
    /** Connections that moved away with their bucket: id to new core, for late doorbells (two generations). */
    private Int2IntHashMap movedTo = new Int2IntHashMap(-1);
    private Int2IntHashMap movedToOld = new Int2IntHashMap(-1);
    private long movedRotateAt;
    private static final long MOVED_GENERATION_NANOS = TimeUnit.SECONDS.toNanos(30);

    TcpMigration(TcpLayer tcp) {
        super(tcp);
    }

    /**
     * Takes every connection whose 4-tuple falls in {@code bucket} out of this core's tables for
     * core {@code target}: wheel entries cancelled (the deadlines travel in the control block),
     * rings no longer counted here, the stream and channel pointed at the new owner, a half-open
     * passive connection no longer counted against this core's listener replica.
     */
    List<Tcb> emigrate(int bucket, IndirectionTable table, int target) {
        n.checkOwner();
        List<Tcb> out = new ArrayList<>();
        tcp.conns.forEach(t -> {
            if (table.bucket(table.hash().hash4(t.localAddr, t.remoteAddr, t.localPort, t.remotePort)) == bucket) {
                out.add(t);
            }
        });
        StreamOwner next = tcp.owners.apply(target);
        for (Tcb t : out) {
            if (t.binder != null && t.up != null) {
                try {
                    t.up.onMoveOut();
                } catch (Throwable e) {
                    n.counters().inc(Stat.TCP_HANDLER_ERRORS); // it moves anyway; the handler saw it leave
                }
            }
            tcp.conns.remove(t);
            tcp.conns.byId.remove(t.id);
            tcp.timers.cancelTimer(t);
            if (t.dirty) {
                t.dirty = false;
                tcp.conns.dirty.remove(t); // the new owner outputs it on arrival
            }
            t.halfOpenMoving = t.listener != null;
            if (t.listener != null) {
                t.listener.halfOpen--;
                t.listener = null;
            }
            TcpStream st = t.stream;
            if (st != null) {
                if (!st.ringsReturned) {
                    if (st.send != null) { // a callback connection holds rings only while data flows
                        tcp.conns.rings.emigrate(st.send);
                    }
                    if (st.recv != null) {
                        tcp.conns.rings.emigrate(st.recv);
                    }
                }
                st.moveTo(next);
            }
            movedTo.put(t.id, target);
            n.counters().inc(Stat.TCP_MIGRATED_OUT);
        }
        return out;
    }

    /**
     * Adopts connections that moved here from core {@code from} with their bucket: into the
     * tables, timers re-armed from their deadlines, rings counted here, and each looked at once
     * (the application may have written or closed while it travelled; a doorbell rung at the
     * old core is forwarded, this covers one that was coalesced away).
     */
    void immigrate(List<Tcb> in, int from) {
        n.checkOwner();
        for (Tcb t : in) {
            if (tcp.conns.contains(t.localIf, t.key) || tcp.conns.byId.containsKey(t.id)) {
                throw new IllegalStateException("connection " + TcpConnections.describe(t) + " (id " + t.id + ") from core "
                        + from + " collides with one of core " + n.core());
            }
            tcp.conns.put(t);
            tcp.conns.byId.put(t.id, t);
            movedTo.remove(t.id);
            movedToOld.remove(t.id);
            if (t.halfOpenMoving) {
                t.halfOpenMoving = false;
                TcpListenerState l = tcp.conns.listeners.get(t.localPort);
                if (l == null) {
                    tcp.conns.drop(t); // the listener closed while it travelled: as if it never completed
                    continue;
                }
                t.listener = l;
                l.halfOpen++;
            }
            TcpStream st = t.stream;
            if (st != null && !st.ringsReturned) {
                if (st.send != null) {
                    tcp.conns.rings.immigrate(st.send);
                }
                if (st.recv != null) {
                    tcp.conns.rings.immigrate(st.recv);
                }
            }
            if (t.waitingForRing) { // it waited for a send ring on its old core: it waits here now
                t.waitingForRing = false;
                tcp.conns.waitForRings(t);
            }
            if (t.binder != null && t.up != null) {
                try {
                    t.up.onMoveIn(tcp.user.kick);
                } catch (Throwable e) {
                    tcp.user.handlerFailed(t, e);
                    continue;
                }
            }
            n.counters().inc(Stat.TCP_MIGRATED_IN);
            tcp.timers.scheduleTimer(t);
            if (st != null) {
                st.doorbellTaken();
                st.signal(); // a blocked reader or writer re-checks (its wake-ups come from here now)
            }
            tcp.conns.markDirty(t);
        }
    }

    /** The core connection {@code id} moved to in the last 30 to 60 s, or -1. */
    int movedOwner(int id) {
        int to = movedTo.get(id);
        return to >= 0 ? to : movedToOld.get(id);
    }

    /** Periodic housekeeping (the netisr's tick): forgets moves older than 30 to 60 s. */
    void tick(long now) {
        n.checkOwner();
        if (now - movedRotateAt < MOVED_GENERATION_NANOS) {
            return;
        }
        movedRotateAt = now;
        if (movedTo.isEmpty() && movedToOld.isEmpty()) {
            return;
        }
        Int2IntHashMap recycled = movedToOld;
        recycled.clear();
        movedToOld = movedTo;
        movedTo = recycled;
    }
}
