package io.flowstack.core.netisr;

import io.flowstack.core.percore.Counters;
import io.flowstack.core.stats.Stat;
import io.flowstack.core.wire.Bytes;
import io.flowstack.core.wire.Checksum;
import io.flowstack.core.wire.Ethernet;
import io.flowstack.core.wire.Ipv4;
import io.flowstack.core.wire.Tcp;
import io.flowstack.nic.FrameBatch;
import java.lang.foreign.MemorySegment;

/**
 * Software GRO for a queue whose device delivers only wire-sized frames (AF_XDP): consecutive TCP
 * segments of one flow in a receive batch become one super-frame, as Linux's
 * {@code inet_gro_receive} and {@code tcp_gro_receive} make one for a NIC's NAPI poll. The stack
 * then takes it as one segment, and a router forwards it whole to an egress that segments
 * ({@code NicQueue.TX_TSO4}), so the per-frame work after the read (TCP input, or the forwarding
 * decision and the egress's transmit) is paid once per super-frame instead of once per segment.
 *
 * <p>Frame {@code j} joins the super-frame being built in slot {@code i < j} (its payload is
 * copied after the last one, the merged slot is then skipped: {@link #merged}) only if nothing
 * of the flow's meaning changes, the rules of Linux's GRO:
 * <ul>
 *   <li>Ethernet with the same addresses, type IPv4; IPv4 without options, not a fragment, its
 *       total length exactly the frame's, the same addresses, TOS, TTL and DF; the ID one more
 *       per segment (or, with DF set, the same in every segment: RFC 6864 4.1 lets an atomic
 *       datagram's ID be anything);</li>
 *   <li>TCP with the same ports, acknowledgment number, window, header length and option bytes
 *       (timestamps included), the sequence number right after the super-frame's last byte,
 *       ACK set and none of SYN, FIN, RST, URG, ECE, CWR; a payload of at most the first
 *       segment's (the super-frame's {@code gso_size}, the sender's MSS). A shorter segment or
 *       one with PSH is the last one taken;</li>
 *   <li>every segment's IPv4 header checksum and TCP checksum (RFC 9293 3.1) correct, unless the
 *       device already said so ({@link FrameBatch#RX_CSUM_VALID}): the rebuilt super-frame gets
 *       new checksums, which must not make a corrupted segment look whole;</li>
 *   <li>the result at most {@link Ipv4#MAX_DATAGRAM} bytes of IPv4 and the batch's slot.</li>
 * </ul>
 * A super-frame of two or more segments gets its total length, a new header checksum, the
 * pseudo-header sum in its TCP checksum field and the flags {@link FrameBatch#RX_CSUM_VALID} and
 * {@link FrameBatch#RX_CSUM_PARTIAL}, with {@code gso_size} its first segment's payload: the form
 * in which a TAP hands over a kernel's super-frame ({@code VIRTIO_NET_HDR_F_NEEDS_CSUM}), which
 * TCP input and {@code Forwarder} already take. Only adjacent frames merge: one bulk flow per
 * queue, the case GRO pays for, arrives that way; anything else ends the super-frame in progress.
 *
 * <p>Owned by: its netisr thread. Allocation-free after construction.
 */
final class SoftGro {
    private static final int IP = Ethernet.HEADER_LEN;
    private static final int TCP = IP + Ipv4.MIN_HEADER;
    /** TCP flags that end coalescing (Linux flushes on them too). */
    private static final int NOT_MERGED = Tcp.SYN | Tcp.FIN | Tcp.RST | Tcp.URG | Tcp.ECE | Tcp.CWR;

    private final Counters counters;
    /** [slot]: its frame was merged into an earlier one of the batch: not input. */
    private final boolean[] merged;

    /** The slot being grown, or -1. */
    private int open = -1;
    private int segments;
    private int mss;
    private int nextSeq;
    private int firstId;
    /** The ID is the same in every segment so far (DF set), not one more each. */
    private boolean fixedId;
    /** The open frame took a short or PSH segment, or failed its checksums: nothing joins it. */
    private boolean closedToMore;

    /**
     * GRO for batches of up to {@code capacity} frames.
     *
     * @param counters the netisr's counters ({@link Stat#RX_GRO_SEGMENTS}, {@link Stat#RX_GRO_SUPER_FRAMES})
     */
    SoftGro(int capacity, Counters counters) {
        this.merged = new boolean[capacity];
        this.counters = counters;
    }

    /** Whether frame {@code i} of the last {@link #coalesce} batch was merged into an earlier one. */
    boolean merged(int i) {
        return merged[i];
    }

    /**
     * Coalesces frames {@code [0, count)} of {@code batch} in place: afterwards each frame that
     * began a super-frame has its new length, flags and {@code gso_size} in the batch, and
     * {@link #merged} names the ones to skip.
     */
    void coalesce(FrameBatch batch, int count) {
        open = -1;
        for (int i = 0; i < count; i++) {
            merged[i] = false;
            int payload = candidate(batch, i);
            if (payload <= 0) {
                close(batch);
                continue;
            }
            if (open >= 0 && !closedToMore && follows(batch, i, payload)) {
                append(batch, i, payload);
                merged[i] = true;
                continue;
            }
            close(batch);
            start(batch, i, payload);
        }
        close(batch);
    }

    /** The TCP payload of frame {@code i} if it may take part in GRO, else 0 or less. */
    private static int candidate(FrameBatch batch, int i) {
        int len = batch.length(i);
        if (batch.gsoSize(i) != 0 || (batch.flags(i) & FrameBatch.RX_CSUM_PARTIAL) != 0
                || len < TCP + Tcp.MIN_HEADER) {
            return 0;
        }
        MemorySegment s = batch.slot(i);
        if (Ethernet.type(s, 0) != Ethernet.TYPE_IPV4 || Bytes.u8(s, IP) != Ipv4.VERSION_IHL_NO_OPTIONS
                || Ipv4.protocol(s, IP) != Ipv4.PROTO_TCP || Ipv4.isFragment(Ipv4.fragWord(s, IP))
                || Ipv4.totalLength(s, IP) != len - IP) {
            return 0;
        }
        int thl = Tcp.headerLength(s, TCP);
        int flags = Tcp.flags(s, TCP);
        if (thl < Tcp.MIN_HEADER || (flags & Tcp.ACK) == 0 || (flags & NOT_MERGED) != 0) {
            return 0;
        }
        return len - TCP - thl;
    }

    private void start(FrameBatch batch, int i, int payload) {
        MemorySegment s = batch.slot(i);
        open = i;
        segments = 1;
        mss = payload;
        nextSeq = Tcp.seq(s, TCP) + payload;
        firstId = Ipv4.id(s, IP);
        fixedId = false;
        closedToMore = (Tcp.flags(s, TCP) & Tcp.PSH) != 0;
    }

    /** Whether frame {@code i} continues the open super-frame (its checksums checked last). */
    private boolean follows(FrameBatch batch, int i, int payload) {
        MemorySegment o = batch.slot(open);
        MemorySegment s = batch.slot(i);
        int olen = batch.length(open);
        if (payload > mss || olen + payload > batch.slotSize() || olen - IP + payload > Ipv4.MAX_DATAGRAM
                || Tcp.seq(s, TCP) != nextSeq
                || Bytes.i32(s, Ethernet.DST) != Bytes.i32(o, Ethernet.DST)
                || Bytes.i32(s, Ethernet.DST + 4) != Bytes.i32(o, Ethernet.DST + 4)
                || Bytes.i32(s, Ethernet.DST + 8) != Bytes.i32(o, Ethernet.DST + 8)
                || Bytes.u8(s, IP + Ipv4.TOS) != Bytes.u8(o, IP + Ipv4.TOS)
                || Ipv4.ttl(s, IP) != Ipv4.ttl(o, IP)
                || Ipv4.fragWord(s, IP) != Ipv4.fragWord(o, IP) // DF alike (neither is a fragment)
                || Ipv4.src(s, IP) != Ipv4.src(o, IP) || Ipv4.dst(s, IP) != Ipv4.dst(o, IP)
                || Bytes.i32(s, TCP) != Bytes.i32(o, TCP) // both ports
                || Tcp.ack(s, TCP) != Tcp.ack(o, TCP) || Tcp.window(s, TCP) != Tcp.window(o, TCP)
                || ((Tcp.flags(s, TCP) ^ Tcp.flags(o, TCP)) & ~Tcp.PSH) != 0
                || !sameHeaderAndOptions(s, o)
                || !idFollows(Ipv4.id(s, IP), (Ipv4.fragWord(s, IP) & Ipv4.FLAG_DF) != 0)) {
            return false;
        }
        if (segments == 1 && !checksumsValid(batch, open)) {
            closedToMore = true; // a bad segment stays on its own, for input to count and drop
            return false;
        }
        return checksumsValid(batch, i);
    }

    /** The same TCP header length and option bytes (RFC 7323 timestamps compared as bytes, as Linux does). */
    private static boolean sameHeaderAndOptions(MemorySegment s, MemorySegment o) {
        int thl = Tcp.headerLength(s, TCP);
        if (thl != Tcp.headerLength(o, TCP)) {
            return false;
        }
        for (int at = Tcp.OPTIONS; at < thl; at += 4) { // thl is a multiple of 4
            if (Bytes.i32(s, TCP + at) != Bytes.i32(o, TCP + at)) {
                return false;
            }
        }
        return true;
    }

    /** RFC 791's ID: one more per segment, or (DF set, RFC 6864 4.1) the same in each. */
    private boolean idFollows(int id, boolean df) {
        if (!fixedId && id == ((firstId + segments) & 0xFFFF)) {
            return true;
        }
        return df && id == firstId && (segments == 1 || fixedId);
    }

    private static boolean checksumsValid(FrameBatch batch, int i) {
        if ((batch.flags(i) & FrameBatch.RX_CSUM_VALID) != 0) {
            return true;
        }
        MemorySegment s = batch.slot(i);
        return Checksum.verify(s, IP, Ipv4.MIN_HEADER)
                && Tcp.verifyChecksum(s, TCP, batch.length(i) - TCP, Ipv4.src(s, IP), Ipv4.dst(s, IP));
    }

    private void append(FrameBatch batch, int i, int payload) {
        MemorySegment o = batch.slot(open);
        MemorySegment s = batch.slot(i);
        int olen = batch.length(open);
        MemorySegment.copy(s, batch.length(i) - payload, o, olen, payload);
        batch.length(open, olen + payload);
        if (segments == 1) {
            fixedId = Ipv4.id(s, IP) == firstId; // the second segment says which ID rule the flow keeps
        }
        int flags = Tcp.flags(s, TCP);
        if ((flags & Tcp.PSH) != 0) {
            Tcp.flags(o, TCP, Tcp.flags(o, TCP) | Tcp.PSH);
            closedToMore = true;
        }
        if (payload < mss) {
            closedToMore = true;
        }
        nextSeq += payload;
        segments++;
    }

    /** Ends the open super-frame: its headers rewritten if it took more than one segment. */
    private void close(FrameBatch batch) {
        if (open < 0) {
            return;
        }
        if (segments > 1) {
            MemorySegment o = batch.slot(open);
            int len = batch.length(open);
            Ipv4.totalLength(o, IP, len - IP);
            Ipv4.updateChecksum(o, IP);
            Tcp.partialChecksum(o, TCP, len - TCP, Ipv4.src(o, IP), Ipv4.dst(o, IP));
            batch.frame(open, len, batch.flags(open) | FrameBatch.RX_CSUM_VALID | FrameBatch.RX_CSUM_PARTIAL, mss);
            counters.inc(Stat.RX_GRO_SUPER_FRAMES);
            counters.add(Stat.RX_GRO_SEGMENTS, segments);
        }
        open = -1;
    }
}
