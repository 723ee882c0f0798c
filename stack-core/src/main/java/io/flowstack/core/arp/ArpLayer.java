package io.flowstack.core.arp;

import io.flowstack.core.stats.ArpEntryInfo;
import io.flowstack.core.config.Interfaces;
import io.flowstack.core.config.StackConfig;
import io.flowstack.core.percore.CoreContext;
import io.flowstack.core.stats.Stat;
import io.flowstack.core.wire.Arp;
import io.flowstack.core.wire.Ethernet;
import io.flowstack.core.wire.Ipv4;
import io.flowstack.nic.TxFrame;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import org.agrona.collections.Int2ObjectHashMap;

/**
 * ARP (RFC 826) for one interface on one core: this core's replica of the interface's neighbour
 * cache, resolution with a bounded queue of frames waiting for it, replies to requests for the
 * interface's address, and expiry. A stack with several interfaces has one per interface and core.
 *
 * <p>Every change learnt from the wire is sent to the other cores' replicas by message
 * ({@link CoreContext#broadcastArpUpdate}); each core applies updates to its own copy.
 *
 * <p>Owned by: its netisr thread.
 */
public final class ArpLayer {
    static final int INCOMPLETE = 0;
    static final int REACHABLE = 1;
    /** Bytes of frames that may wait for resolution on one core (bounds the pool at large MTUs). */
    static final int PENDING_BYTES = 4 << 20;

    /** Start refreshing an entry this long before it expires (RFC 1122 2.3.2.1: unicast poll). */
    private static final long REFRESH_WINDOW_NANOS = 5_000_000_000L;
    /** Re-broadcast refreshes to other cores at most this often per entry. */
    private static final long UPDATE_INTERVAL_NANOS = 1_000_000_000L;

    private final CoreContext n;
    private final StackConfig cfg;
    /** The interface this cache serves, and its addresses. */
    private final int ifIndex;
    private final long ifMac;
    private final int ifAddress;
    private final int broadcast;
    private final Int2ObjectHashMap<Entry> entries = new Int2ObjectHashMap<>();
    private final PendingPool pending;
    /**
     * ARP frames are built here, not in the core's shared {@link CoreContext#txBuffer()}: a request is
     * sent from inside {@link #output}, while the caller may still be reading the datagram it
     * is sending from the tx buffer (IPv4 fragmentation copies each fragment's header and data
     * from there after the first fragment triggered the request).
     */
    private final MemorySegment arpFrame;
    private final List<Entry> scratch = new ArrayList<>();

    /** One neighbour. */
    static final class Entry {
        final int ip;
        int state;
        long mac;
        long expires;
        long lastUpdateSent;
        long nextRetry;
        int retries;
        boolean refreshing;
        final int[] queue; // slot indexes of frames waiting for resolution (FIFO)
        int qHead;
        int qCount;

        Entry(int ip, int queueCap) {
            this.ip = ip;
            this.queue = new int[queueCap];
        }
    }

    /**
     * ARP for interface {@code ifIndex} of the core {@code netisr}.
     *
     * @param netisr the core
     * @param arena where the pending frames and the ARP frame buffer live
     * @param ifIndex the interface ({@link CoreContext#interfaces()})
     */
    public ArpLayer(CoreContext netisr, Arena arena, int ifIndex) {
        this.n = netisr;
        this.cfg = netisr.config();
        this.ifIndex = ifIndex;
        Interfaces ifs = netisr.interfaces();
        this.ifMac = ifs.mac(ifIndex);
        this.ifAddress = ifs.address(ifIndex);
        this.broadcast = ifs.broadcast(ifIndex);
        // at most PENDING_BYTES of frames wait per core, whatever the MTU (at least 16 of them)
        int slot = ifs.mtu(ifIndex) + Ethernet.HEADER_LEN;
        this.pending = new PendingPool(arena, Math.min(cfg.arpQueueSlots, Math.max(16, PENDING_BYTES / slot)), slot);
        this.arpFrame = arena.allocate(Ethernet.MIN_FRAME + 4, 8); // room for the padding transmit() adds
    }

    /** Number of cache entries (resolved or not) on this core. */
    public int size() {
        n.checkOwner();
        return entries.size();
    }

    /** The resolved MAC of {@code ip}, or -1 if none. */
    public long lookup(int ip) {
        n.checkOwner();
        Entry e = entries.get(ip);
        return e != null && e.state == REACHABLE ? e.mac : -1;
    }

    /** Snapshot of resolved entries as (ip, mac, expiresNanos) triples, for stats. */
    public void forEach(EntryVisitor v) {
        n.checkOwner();
        for (Entry e : entries.values()) {
            v.visit(e.ip, e.state == REACHABLE ? e.mac : -1, e.expires);
        }
    }

    /**
     * Appends a copy of every entry of this core's replica to {@code out} (control path: allocates).
     */
    public void snapshot(List<ArpEntryInfo> out) {
        n.checkOwner();
        long now = n.now();
        for (Entry e : entries.values()) {
            boolean resolved = e.state == REACHABLE;
            out.add(new ArpEntryInfo(n.core(), e.ip, resolved ? e.mac : -1, resolved ? "REACHABLE" : "INCOMPLETE",
                    resolved ? Math.max(0, e.expires - now) : 0, e.qCount, n.interfaces().name(ifIndex)));
        }
    }

    /** Receives cache entries. */
    @FunctionalInterface
    public interface EntryVisitor {
        void visit(int ip, long macOrMinusOne, long expiresNanos);
    }

    // ------------------------------------------------------------------ input (RFC 826)

    /**
     * ARP packet at {@code off}, {@code len} bytes after the Ethernet header.
     *
     * @param ethSrc the frame's Ethernet source address
     */
    public void input(long ethSrc, MemorySegment s, long off, int len) {
        n.checkOwner();
        if (len < Arp.LEN) {
            n.counters().inc(Stat.ARP_TRUNCATED);
            return;
        }
        // RFC 826 "Packet Reception": check hardware and protocol type and lengths.
        if (Arp.htype(s, off) != Arp.HTYPE_ETHERNET || Arp.ptype(s, off) != Ethernet.TYPE_IPV4
                || Arp.hlen(s, off) != Arp.MAC_LEN || Arp.plen(s, off) != Arp.IPV4_LEN) {
            n.counters().inc(Stat.ARP_BAD_FORMAT);
            return;
        }
        int op = Arp.op(s, off);
        if (op != Arp.OP_REQUEST && op != Arp.OP_REPLY) {
            n.counters().inc(Stat.ARP_BAD_OPCODE);
            return;
        }
        long sha = Arp.sha(s, off);
        int spa = Arp.spa(s, off);
        int tpa = Arp.tpa(s, off);
        // RFC 1122 3.2.1.3: a broadcast (limited or a subnet's), multicast or loopback address is
        // never a host's own; learning one (ArpFuzzTest found 198.18.0.255 learnt) poisons the cache
        if (sha == 0 || Ethernet.isGroup(sha) || spa == ifAddress || n.interfaces().isBroadcast(spa)
                || (spa >>> 28) == 0xE || (spa >>> 24) == 127) {
            n.counters().inc(Stat.ARP_BAD_SENDER);
            return;
        }
        // The sender hardware address must be the frame's source: a host answers for itself
        // (RFC 826 sends replies from the sender's own address; a frame that claims another
        // station's address is a spoofing or a misconfigured proxy). Counted, not learnt.
        if (sha != ethSrc) {
            n.counters().inc(Stat.ARP_SOURCE_MISMATCH);
            return;
        }
        n.counters().inc(op == Arp.OP_REQUEST ? Stat.ARP_IN_REQUEST : Stat.ARP_IN_REPLY);
        long now = n.now();
        // RFC 826: "If the pair <protocol type, sender protocol address> is already in my
        // translation table, update the sender hardware address field ... set Merge_flag".
        Entry e = entries.get(spa);
        boolean merged = false;
        if (e != null && spa != 0) {
            learn(e, sha, now, true);
            merged = true;
        }
        if (tpa != ifAddress) {
            if (!merged) {
                n.counters().inc(Stat.ARP_NOT_FOR_US);
            }
            return;
        }
        // "Am I the target protocol address? If Merge_flag is false, add the triplet."
        if (!merged && spa != 0) {
            e = newEntry(spa);
            if (e != null) {
                learn(e, sha, now, true);
            }
        }
        if (op == Arp.OP_REQUEST) {
            // "Swap hardware and protocol fields, put the local addresses in the sender fields,
            // set the opcode to reply, send it to the requester's hardware address."
            MemorySegment t = arpFrame;
            Ethernet.write(t, 0, sha, ifMac, Ethernet.TYPE_ARP);
            Arp.write(t, Ethernet.HEADER_LEN, Arp.OP_REPLY, ifMac, ifAddress, sha, spa);
            n.transmit(ifIndex, t, 0, Ethernet.HEADER_LEN + Arp.LEN);
            n.counters().inc(Stat.ARP_OUT_REPLY);
        }
    }

    /** Applies a cache update sent by another core. */
    public void applyUpdate(int ip, long mac) {
        n.checkOwner();
        n.counters().inc(Stat.ARP_UPDATE_IN);
        Entry e = entries.get(ip);
        if (e == null) {
            e = newEntry(ip);
            if (e == null) {
                return;
            }
        }
        learn(e, mac, n.now(), false);
    }

    private void learn(Entry e, long mac, long now, boolean fromWire) {
        boolean changed = e.state != REACHABLE || e.mac != mac;
        e.state = REACHABLE;
        e.mac = mac;
        e.expires = now + cfg.arpTimeoutNanos;
        e.refreshing = false;
        e.retries = 0;
        if (fromWire && (changed || now - e.lastUpdateSent >= UPDATE_INTERVAL_NANOS)) {
            e.lastUpdateSent = now;
            n.broadcastArpUpdate(ifIndex, e.ip, mac);
        }
        flush(e);
    }

    private Entry newEntry(int ip) {
        if (entries.size() >= cfg.arpMaxEntries && !evictOne()) {
            n.counters().inc(Stat.ARP_CACHE_FULL);
            return null;
        }
        Entry e = new Entry(ip, cfg.arpQueuePerNeighbour);
        e.state = INCOMPLETE;
        entries.put(ip, e);
        return e;
    }

    /** Evicts the resolved entry closest to expiry; false if every entry is still resolving. */
    private boolean evictOne() {
        Entry victim = null;
        for (Entry e : entries.values()) {
            if (e.state == REACHABLE && (victim == null || e.expires < victim.expires)) {
                victim = e;
            }
        }
        if (victim == null) {
            return false;
        }
        entries.remove(victim.ip);
        return true;
    }

    // ------------------------------------------------------------------ output

    /**
     * Sends an IPv4 frame to {@code nextHop}: fills in the Ethernet header at {@code off} (14
     * bytes reserved by the caller) and transmits, or queues a copy until resolution completes.
     */
    public void output(MemorySegment s, long off, int len, int nextHop) {
        n.checkOwner();
        if (nextHop == Ipv4.BROADCAST || nextHop == broadcast) {
            Ethernet.write(s, off, Ethernet.BROADCAST, ifMac, Ethernet.TYPE_IPV4);
            n.transmit(ifIndex, s, off, len);
            return;
        }
        Entry e = entries.get(nextHop);
        if (e != null && e.state == REACHABLE) {
            Ethernet.write(s, off, e.mac, ifMac, Ethernet.TYPE_IPV4);
            n.transmit(ifIndex, s, off, len);
            return;
        }
        if (e == null) {
            e = newEntry(nextHop);
            if (e == null) {
                return;
            }
        }
        enqueue(e, s, off, len);
        if (e.retries == 0) {
            request(nextHop, Ethernet.BROADCAST);
            e.retries = 1;
            e.nextRetry = n.now() + cfg.arpRetryNanos;
        }
    }

    /**
     * Sends a gathered frame to {@code nextHop} if its address is resolved: fills in the Ethernet
     * header at the frame's head and transmits. A gathered frame's payload lives in a send ring
     * and its checksum may be left to the device, so it is not queued: while the next hop is
     * unresolved it is dropped and counted (TCP resends it), and resolution starts as for
     * {@link #output}.
     *
     * @return true if transmitted
     */
    public boolean outputFrame(TxFrame f, int nextHop) {
        n.checkOwner();
        Entry e = entries.get(nextHop);
        if (e != null && e.state == REACHABLE) {
            Ethernet.write(f.head(), f.headOffset(), e.mac, ifMac, Ethernet.TYPE_IPV4);
            n.transmit(ifIndex, f);
            return true;
        }
        n.counters().inc(Stat.ARP_OFFLOAD_DROPPED);
        if (e == null) {
            e = newEntry(nextHop);
        }
        if (e != null && e.retries == 0) {
            request(nextHop, Ethernet.BROADCAST);
            e.retries = 1;
            e.nextRetry = n.now() + cfg.arpRetryNanos;
        }
        return false;
    }

    private void enqueue(Entry e, MemorySegment s, long off, int len) {
        if (e.qCount == e.queue.length) {
            n.counters().inc(Stat.ARP_QUEUE_FULL);
            return;
        }
        int slot = pending.allocate();
        if (slot < 0) {
            n.counters().inc(Stat.ARP_QUEUE_FULL);
            return;
        }
        pending.store(slot, s, off, len);
        e.queue[(e.qHead + e.qCount) % e.queue.length] = slot;
        e.qCount++;
    }

    private void flush(Entry e) {
        while (e.qCount > 0) {
            int slot = e.queue[e.qHead];
            e.qHead = (e.qHead + 1) % e.queue.length;
            e.qCount--;
            MemorySegment b = pending.buffer();
            long off = pending.offset(slot);
            Ethernet.write(b, off, e.mac, ifMac, Ethernet.TYPE_IPV4);
            n.transmit(ifIndex, b, off, pending.length(slot));
            pending.free(slot);
        }
    }

    private void dropQueued(Entry e) {
        while (e.qCount > 0) {
            int slot = e.queue[e.qHead];
            n.unresolved(pending.buffer(), pending.offset(slot), pending.length(slot));
            pending.free(slot);
            e.qHead = (e.qHead + 1) % e.queue.length;
            e.qCount--;
            n.counters().inc(Stat.ARP_UNRESOLVED);
        }
    }

    /** Sends an ARP request for {@code target} to {@code dstMac} (broadcast or unicast refresh). */
    private void request(int target, long dstMac) {
        MemorySegment t = arpFrame;
        Ethernet.write(t, 0, dstMac, ifMac, Ethernet.TYPE_ARP);
        Arp.write(t, Ethernet.HEADER_LEN, Arp.OP_REQUEST, ifMac, ifAddress, 0L, target);
        n.transmit(ifIndex, t, 0, Ethernet.HEADER_LEN + Arp.LEN);
        n.counters().inc(Stat.ARP_OUT_REQUEST);
    }

    /** Gratuitous ARP: a request with sender = target = our address (RFC 5227 2.3 announcement). */
    public void announce() {
        n.checkOwner();
        MemorySegment t = arpFrame;
        Ethernet.write(t, 0, Ethernet.BROADCAST, ifMac, Ethernet.TYPE_ARP);
        Arp.write(t, Ethernet.HEADER_LEN, Arp.OP_REQUEST, ifMac, ifAddress, 0L, ifAddress);
        n.transmit(ifIndex, t, 0, Ethernet.HEADER_LEN + Arp.LEN);
        n.counters().inc(Stat.ARP_OUT_REQUEST);
    }

    // ------------------------------------------------------------------ timers

    /** Retries, refreshes and expires entries. */
    public void tick(long now) {
        n.checkOwner();
        scratch.clear();
        for (Entry e : entries.values()) {
            if (e.state == INCOMPLETE) {
                if (e.retries > 0 && now - e.nextRetry >= 0) {
                    if (e.retries >= cfg.arpRetries) {
                        dropQueued(e);
                        scratch.add(e);
                    } else {
                        e.retries++;
                        e.nextRetry = now + cfg.arpRetryNanos;
                        request(e.ip, Ethernet.BROADCAST);
                    }
                } else if (e.retries == 0 && e.qCount == 0) {
                    scratch.add(e); // created by an update race with nothing to send
                }
            } else if (now - e.expires >= 0) {
                scratch.add(e);
            } else if (!e.refreshing && e.expires - now <= REFRESH_WINDOW_NANOS) {
                e.refreshing = true;
                request(e.ip, e.mac);
            }
        }
        for (int i = 0; i < scratch.size(); i++) {
            entries.remove(scratch.get(i).ip);
        }
        scratch.clear();
    }
}
