package io.flowstack.core.ip;

import io.flowstack.core.config.StackConfig;
import io.flowstack.core.percore.CoreContext;
import io.flowstack.core.stats.Stat;
import io.flowstack.core.wire.Ethernet;
import io.flowstack.core.wire.Icmp;
import io.flowstack.core.wire.Ipv4;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * IPv4 reassembly (RFC 791 section 3.2; RFC 815 ideas) with bounds that a fragment flood cannot
 * break:
 * <ul>
 *   <li>at most {@code reassemblyMaxDatagrams} datagrams under reassembly per core, each in its
 *       own 64 KiB off-heap buffer (allocated on first use, then reused);</li>
 *   <li>at most {@code reassemblyMemoryBytes} of fragment payload held per core; beyond it the
 *       oldest datagram is evicted (like Linux's ipfrag_high_thresh);</li>
 *   <li>at most {@code reassemblyMaxPerSource} datagrams per source address, and
 *       {@code reassemblyMaxFragments} fragments per datagram;</li>
 *   <li>a datagram with overlapping fragments is dropped as a whole (the IPv6 rule of
 *       RFC 5722, applied to IPv4 against overlap attacks); an exact duplicate is ignored;</li>
 *   <li>incomplete datagrams expire after {@code reassemblyTimeoutNanos} (RFC 1122 3.3.2), with
 *       an ICMP time exceeded (code 1) if the first fragment had arrived (RFC 792).</li>
 * </ul>
 *
 * <p>Owned by: its netisr thread.
 */
public final class Reassembly {
    /** Payload starts here in a slot buffer: Ethernet headroom + the largest IPv4 header. */
    static final int PAYLOAD_BASE = Ethernet.HEADER_LEN + Ipv4.MAX_HEADER;
    private static final int BUFFER_SIZE = PAYLOAD_BASE + Ipv4.MAX_DATAGRAM;

    private final CoreContext n;
    private final IcmpLayer icmp;
    private final StackConfig cfg;
    private final Arena arena;
    private final Slot[] slots;
    private long memoryUsed;

    /** One datagram under reassembly. */
    private static final class Slot {
        boolean inUse;
        int src;
        int dst;
        int id;
        int protocol;
        long created;
        long deadline;
        int headerLength; // of the offset-0 fragment, 0 until it arrives
        int totalPayload = -1; // known once the last fragment (MF=0) arrives
        int received;
        int count;
        int[] starts;
        int[] ends;
        MemorySegment buffer;
    }

    Reassembly(CoreContext netisr, Arena arena, IcmpLayer icmp) {
        this.n = netisr;
        this.icmp = icmp;
        this.cfg = netisr.config();
        this.arena = arena;
        this.slots = new Slot[cfg.reassemblyMaxDatagrams];
        for (int i = 0; i < slots.length; i++) {
            slots[i] = new Slot();
            slots[i].starts = new int[cfg.reassemblyMaxFragments];
            slots[i].ends = new int[cfg.reassemblyMaxFragments];
        }
    }

    /** Datagrams under reassembly. */
    public int inProgress() {
        n.checkOwner();
        int c = 0;
        for (Slot s : slots) {
            c += s.inUse ? 1 : 0;
        }
        return c;
    }

    /** Fragment payload bytes held. */
    public long memoryUsed() {
        n.checkOwner();
        return memoryUsed;
    }

    /**
     * Adds a validated fragment.
     *
     * @return the slot of a now complete datagram (read it, then {@link #release}), or -1
     */
    int add(MemorySegment s, long off, int len, long now) {
        n.checkOwner();
        int hl = Ipv4.headerLength(s, off);
        int word = Ipv4.fragWord(s, off);
        boolean more = (word & Ipv4.FLAG_MF) != 0;
        int start = (word & Ipv4.OFFSET_MASK) * Ipv4.FRAGMENT_UNIT;
        int plen = len - hl;
        int end = start + plen;
        int src = Ipv4.src(s, off);
        int dst = Ipv4.dst(s, off);
        int id = Ipv4.id(s, off);
        int proto = Ipv4.protocol(s, off);
        int idx = find(src, dst, id, proto);
        // RFC 791: every fragment but the last carries a multiple of 8 octets; none is empty.
        if (plen == 0 || (more && (plen & 7) != 0)) {
            n.counters().inc(Stat.FRAG_BAD_LENGTH);
            return -1;
        }
        if (end + hl > Ipv4.MAX_DATAGRAM) { // the "ping of death"
            n.counters().inc(Stat.FRAG_TOO_BIG);
            if (idx >= 0) {
                drop(idx);
            }
            return -1;
        }
        if (idx < 0) {
            idx = allocate(src, now);
            if (idx < 0) {
                return -1;
            }
            Slot sl = slots[idx];
            sl.inUse = true;
            sl.src = src;
            sl.dst = dst;
            sl.id = id;
            sl.protocol = proto;
            sl.created = now;
            sl.deadline = now + cfg.reassemblyTimeoutNanos;
            sl.headerLength = 0;
            sl.totalPayload = -1;
            sl.received = 0;
            sl.count = 0;
            if (sl.buffer == null) {
                sl.buffer = arena.allocate(BUFFER_SIZE, 64);
            }
        }
        Slot sl = slots[idx];
        // RFC 791 3.2: the datagram is rebuilt with the first fragment's header, so its length
        // is that header's (once known) plus the highest end: with a 60-byte first header, a last
        // fragment that ends at 65,515 (fine with its own 20 bytes) would wrap the total length.
        int firstHl = start == 0 ? hl : sl.headerLength;
        if (firstHl > 0 && firstHl + Math.max(end, maxEnd(sl)) > Ipv4.MAX_DATAGRAM) {
            n.counters().inc(Stat.FRAG_TOO_BIG);
            drop(idx);
            return -1;
        }
        if (!more) {
            if ((sl.totalPayload >= 0 && sl.totalPayload != end) || maxEnd(sl) > end) {
                n.counters().inc(Stat.FRAG_OVERLAP); // two different ends: inconsistent
                drop(idx);
                return -1;
            }
            sl.totalPayload = end;
        } else if (sl.totalPayload >= 0 && end > sl.totalPayload) {
            n.counters().inc(Stat.FRAG_OVERLAP);
            drop(idx);
            return -1;
        }
        for (int i = 0; i < sl.count; i++) {
            if (sl.starts[i] == start && sl.ends[i] == end) {
                n.counters().inc(Stat.FRAG_DUPLICATE);
                return -1;
            }
            if (start < sl.ends[i] && sl.starts[i] < end) {
                n.counters().inc(Stat.FRAG_OVERLAP);
                drop(idx);
                return -1;
            }
        }
        if (sl.count == sl.starts.length) {
            n.counters().inc(Stat.FRAG_TOO_MANY);
            drop(idx);
            return -1;
        }
        while (memoryUsed + plen > cfg.reassemblyMemoryBytes) {
            int victim = oldest(idx);
            if (victim < 0) {
                n.counters().inc(Stat.FRAG_NO_MEMORY);
                drop(idx);
                return -1;
            }
            n.counters().inc(Stat.FRAG_NO_MEMORY);
            drop(victim);
        }
        MemorySegment.copy(s, off + hl, sl.buffer, PAYLOAD_BASE + start, plen);
        if (start == 0) {
            sl.headerLength = hl;
            MemorySegment.copy(s, off, sl.buffer, PAYLOAD_BASE - hl, hl);
        }
        sl.starts[sl.count] = start;
        sl.ends[sl.count] = end;
        sl.count++;
        sl.received += plen;
        memoryUsed += plen;
        if (sl.totalPayload >= 0 && sl.received == sl.totalPayload && sl.headerLength > 0) {
            // No overlaps and the byte count matches: the ranges tile [0, total) exactly.
            MemorySegment b = sl.buffer;
            long ip = PAYLOAD_BASE - sl.headerLength;
            Ipv4.totalLength(b, ip, sl.headerLength + sl.totalPayload);
            Ipv4.fragWord(b, ip, Ipv4.fragWord(b, ip) & Ipv4.FLAG_DF);
            Ipv4.updateChecksum(b, ip);
            return idx;
        }
        return -1;
    }

    MemorySegment buffer(int slot) {
        return slots[slot].buffer;
    }

    long headerOffset(int slot) {
        return PAYLOAD_BASE - slots[slot].headerLength;
    }

    void release(int slot) {
        n.checkOwner();
        drop(slot);
    }

    private static int maxEnd(Slot sl) {
        int m = 0;
        for (int i = 0; i < sl.count; i++) {
            m = Math.max(m, sl.ends[i]);
        }
        return m;
    }

    private int find(int src, int dst, int id, int proto) {
        for (int i = 0; i < slots.length; i++) {
            Slot s = slots[i];
            if (s.inUse && s.id == id && s.src == src && s.dst == dst && s.protocol == proto) {
                return i;
            }
        }
        return -1;
    }

    private int allocate(int src, long now) {
        int perSource = 0;
        int free = -1;
        for (int i = 0; i < slots.length; i++) {
            Slot s = slots[i];
            if (!s.inUse) {
                if (free < 0) {
                    free = i;
                }
            } else if (s.src == src) {
                perSource++;
            }
        }
        if (perSource >= cfg.reassemblyMaxPerSource) {
            n.counters().inc(Stat.FRAG_FLOW_LIMIT);
            return -1;
        }
        if (free >= 0) {
            return free;
        }
        int victim = oldest(-1);
        n.counters().inc(Stat.FRAG_NO_MEMORY);
        drop(victim);
        return victim;
    }

    private int oldest(int except) {
        int best = -1;
        for (int i = 0; i < slots.length; i++) {
            if (i != except && slots[i].inUse && (best < 0 || slots[i].created < slots[best].created)) {
                best = i;
            }
        }
        return best;
    }

    private void drop(int idx) {
        Slot s = slots[idx];
        if (s.inUse) {
            memoryUsed -= s.received;
            s.inUse = false;
        }
    }

    /** Expires datagrams whose timer ran out (RFC 1122 3.3.2: 60-120 s suggested; Linux 30 s). */
    void expire(long now) {
        n.checkOwner();
        for (int i = 0; i < slots.length; i++) {
            Slot s = slots[i];
            if (s.inUse && now - s.deadline >= 0) {
                n.counters().inc(Stat.FRAG_TIMEOUT);
                if (s.headerLength > 0) {
                    // RFC 792: time exceeded, code 1 (fragment reassembly time exceeded), quoting
                    // the first fragment's header and data.
                    long ip = PAYLOAD_BASE - s.headerLength;
                    int have = firstRunLength(s);
                    icmp.sendError(Icmp.TIME_EXCEEDED, Icmp.CODE_REASSEMBLY_TIME_EXCEEDED, 0, s.buffer, ip, s.headerLength + have);
                }
                drop(i);
            }
        }
    }

    private static int firstRunLength(Slot s) {
        for (int i = 0; i < s.count; i++) {
            if (s.starts[i] == 0) {
                return s.ends[i];
            }
        }
        return 0;
    }
}
