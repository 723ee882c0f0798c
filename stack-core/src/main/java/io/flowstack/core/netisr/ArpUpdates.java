package io.flowstack.core.netisr;

import io.flowstack.core.stats.Stat;
import io.flowstack.core.wire.msg.ArpUpdateMsg;
import org.agrona.concurrent.ringbuffer.OneToOneRingBuffer;

/**
 * The ARP cache updates one core sends to the other cores' replicas ({@link ArpUpdateMsg} on the
 * inter-core rings). An update that finds a ring full is not lost: it waits here for that core
 * and is retried on every pass ({@link #retry}) until it is sent, so the replicas converge. A
 * newer update of the same interface and address replaces the waiting one; when more than
 * {@value #MAX_WAITING} wait for one core, that core is owed a full resynchronisation instead:
 * every entry of this core's replicas, sent once its ring has room
 * ({@code arp_update_resync}).
 *
 * <p>Owned by: its netisr's thread.
 */
final class ArpUpdates {
    static final int MAX_WAITING = 256;
    /** An update's room in a ring: its record header and body, aligned (Agrona's record layout). */
    private static final int RECORD_BYTES = org.agrona.BitUtil.align(
            org.agrona.concurrent.ringbuffer.RecordDescriptor.HEADER_LENGTH + ArpUpdateMsg.LENGTH,
            org.agrona.concurrent.ringbuffer.RecordDescriptor.ALIGNMENT);

    private final Netisr n;
    private final int[][] ifIndex;
    private final int[][] ip;
    private final long[][] mac;
    private final int[] waiting;
    private final boolean[] resync;
    private boolean anyWaiting;

    ArpUpdates(Netisr n, int cores) {
        this.n = n;
        ifIndex = new int[cores][];
        ip = new int[cores][];
        mac = new long[cores][];
        waiting = new int[cores];
        resync = new boolean[cores];
    }

    /** Sends an update of interface {@code iface}'s entry {@code addr} to every other core. */
    void broadcast(int iface, int addr, long hw) {
        for (int t = 0; t < waiting.length; t++) {
            if (t != n.core() && !(waiting[t] == 0 && !resync[t] && send(t, iface, addr, hw))) {
                enqueue(t, iface, addr, hw);
            }
        }
    }

    /** Every pass: sends what waits, in order, as far as the rings take it. */
    void retry() {
        if (!anyWaiting) {
            return;
        }
        anyWaiting = false;
        for (int t = 0; t < waiting.length; t++) {
            if (resync[t]) {
                resync[t] = !resynchronise(t);
            } else if (waiting[t] > 0) {
                int sent = 0;
                while (sent < waiting[t] && send(t, ifIndex[t][sent], ip[t][sent], mac[t][sent])) {
                    sent++;
                }
                int left = waiting[t] - sent;
                System.arraycopy(ifIndex[t], sent, ifIndex[t], 0, left);
                System.arraycopy(ip[t], sent, ip[t], 0, left);
                System.arraycopy(mac[t], sent, mac[t], 0, left);
                waiting[t] = left;
            }
            anyWaiting |= resync[t] || waiting[t] > 0;
        }
    }

    /** {@return updates waiting for core {@code t} (owner thread; tests)} */
    int waiting(int t) {
        return resync[t] ? MAX_WAITING + 1 : waiting[t];
    }

    private void enqueue(int t, int iface, int addr, long hw) {
        anyWaiting = true;
        if (resync[t]) {
            return; // the resynchronisation sends the entry as it is then
        }
        if (ifIndex[t] == null) {
            ifIndex[t] = new int[MAX_WAITING];
            ip[t] = new int[MAX_WAITING];
            mac[t] = new long[MAX_WAITING];
        }
        for (int i = 0; i < waiting[t]; i++) {
            if (ip[t][i] == addr && ifIndex[t][i] == iface) {
                mac[t][i] = hw; // the newer replaces the older
                return;
            }
        }
        if (waiting[t] == MAX_WAITING) {
            resync[t] = true;
            waiting[t] = 0;
            n.counters().inc(Stat.ARP_UPDATE_RESYNC);
            return;
        }
        ifIndex[t][waiting[t]] = iface;
        ip[t][waiting[t]] = addr;
        mac[t][waiting[t]] = hw;
        waiting[t]++;
    }

    /**
     * Sends every resolved entry of every interface to core {@code t} in one go, once its ring has
     * room for all of them (sending part and starting again each pass would never finish while
     * the ring drains slower than a whole table); false if it has not yet.
     */
    private boolean resynchronise(int t) {
        OneToOneRingBuffer ring = n.outbox(t).ring();
        long entries = 0;
        for (int i = 0; i < n.interfaces().count(); i++) {
            entries += n.arp(i).size();
        }
        if ((ring.capacity() - ring.size()) < (entries + 1) * RECORD_BYTES) {
            return false;
        }
        boolean[] ok = {true};
        for (int i = 0; i < n.interfaces().count(); i++) {
            int iface = i;
            n.arp(i).forEach((addr, hw, expires) -> {
                if (hw >= 0 && ok[0] && !send(t, iface, addr, hw)) {
                    ok[0] = false;
                }
            });
        }
        return ok[0];
    }

    private boolean send(int t, int iface, int addr, long hw) {
        Rings.Ring<OneToOneRingBuffer> r = n.outbox(t);
        int index = r.ring().tryClaim(ArpUpdateMsg.TYPE, ArpUpdateMsg.LENGTH);
        if (index < 0) {
            n.counters().inc(Stat.HOP_RING_FULL);
            return false;
        }
        ArpUpdateMsg.write(r.segment(), index, iface, addr, hw);
        n.wakeLater(t); // before the commit (Netisr.wakeOwed)
        r.ring().commit(index);
        n.counters().inc(Stat.ARP_UPDATE_OUT);
        return true;
    }
}
