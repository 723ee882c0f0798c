package io.flowstack.core.ip;

import io.flowstack.core.StackConfig;
import io.flowstack.core.netisr.Netisr;
import io.flowstack.core.netisr.Stat;
import io.flowstack.core.wire.Bytes;
import io.flowstack.core.wire.Checksum;
import io.flowstack.core.wire.Icmp;
import io.flowstack.core.wire.Ipv4;
import java.lang.foreign.MemorySegment;

/**
 * ICMP (RFC 792, RFC 1122 3.2.2) for one core: echo replies with the request's data, errors
 * quoting the offending datagram, and a token-bucket rate limit on errors.
 *
 * <p>Owned by: its netisr thread.
 */
public final class IcmpLayer {
    /** RFC 1812 4.3.2.3: an error quotes as much as fits in 576 bytes. */
    static final int MAX_ERROR_DATAGRAM = 576;

    private final Netisr n;
    private final StackConfig cfg;
    private final long nanosPerToken;
    private final long bucketDepth;
    private long tokensAt; // bucket state as "time when the bucket was empty"
    private EchoListener echoListener;

    /** Receives echo replies addressed to us (used by ping). */
    @FunctionalInterface
    public interface EchoListener {
        void onEchoReply(int src, int id, int seq, MemorySegment s, long dataOff, int dataLen, long now);
    }

    public IcmpLayer(Netisr netisr) {
        this.n = netisr;
        this.cfg = netisr.config();
        this.nanosPerToken = 1_000_000_000L / Math.max(1, cfg.icmpErrorsPerSecond);
        this.bucketDepth = nanosPerToken * Math.max(1, cfg.icmpErrorBurst);
        this.tokensAt = Long.MIN_VALUE / 4;
    }

    public void echoListener(EchoListener l) {
        n.checkOwner();
        this.echoListener = l;
    }

    /** ICMP message of the datagram at {@code off} ({@code len} = total length). */
    public void input(MemorySegment s, long off, int len, boolean broadcast) {
        n.checkOwner();
        n.counters().inc(Stat.ICMP_IN);
        int hl = Ipv4.headerLength(s, off);
        long icmp = off + hl;
        int icmpLen = len - hl;
        if (icmpLen < Icmp.HEADER_LEN) {
            n.counters().inc(Stat.ICMP_TRUNCATED);
            return;
        }
        if (!Checksum.verify(s, icmp, icmpLen)) {
            n.counters().inc(Stat.ICMP_BAD_CHECKSUM);
            return;
        }
        int type = Icmp.type(s, icmp);
        switch (type) {
            case Icmp.ECHO_REQUEST -> echo(s, off, icmp, icmpLen, broadcast);
            case Icmp.ECHO_REPLY -> {
                n.counters().inc(Stat.ICMP_IN_ECHO_REPLY);
                if (echoListener != null) {
                    echoListener.onEchoReply(Ipv4.src(s, off), Icmp.id(s, icmp), Icmp.seq(s, icmp), s,
                            icmp + Icmp.HEADER_LEN, icmpLen - Icmp.HEADER_LEN, n.now());
                }
            }
            default -> n.counters().inc(Icmp.isError(type) ? Stat.ICMP_IN_ERROR : Stat.ICMP_IN_OTHER);
        }
    }

    private void echo(MemorySegment s, long ip, long icmp, int icmpLen, boolean broadcast) {
        n.counters().inc(Stat.ICMP_IN_ECHO);
        if (broadcast) {
            // RFC 1122 3.2.2.6 allows silently discarding broadcast echo (Linux's default).
            n.counters().inc(Stat.ICMP_ECHO_BROADCAST);
            return;
        }
        // RFC 792: "the data received in the echo message must be returned in the echo reply";
        // identifier and sequence are kept, type becomes 0, checksum recomputed.
        MemorySegment t = n.txBuffer();
        long out = Netisr.TX_IP + Ipv4.MIN_HEADER;
        MemorySegment.copy(s, icmp, t, out, icmpLen);
        Bytes.u8(t, out, Icmp.ECHO_REPLY);
        Bytes.u8(t, out + 1, 0);
        Bytes.u16(t, out + 2, 0);
        Bytes.u16(t, out + 2, Checksum.compute(t, out, icmpLen));
        if (n.ip().send(t, Netisr.TX_IP, icmpLen, Ipv4.PROTO_ICMP, Ipv4.src(s, ip), false)) {
            n.counters().inc(Stat.ICMP_OUT_ECHO_REPLY);
        }
    }

    /**
     * Sends an echo request from this core (for ping). {@code data} bytes of payload follow the
     * 8-byte header, filled with a deterministic pattern.
     */
    public boolean sendEcho(int dst, int id, int seq, int dataLen, long stamp) {
        n.checkOwner();
        MemorySegment t = n.txBuffer();
        long out = Netisr.TX_IP + Ipv4.MIN_HEADER;
        Bytes.u8(t, out, Icmp.ECHO_REQUEST);
        Bytes.u8(t, out + 1, 0);
        Bytes.u16(t, out + 2, 0);
        Bytes.u16(t, out + 4, id);
        Bytes.u16(t, out + 6, seq);
        for (int i = 0; i < dataLen; i++) {
            Bytes.u8(t, out + 8 + i, i < 8 ? (int) (stamp >>> (56 - 8 * i)) : (i & 0xFF));
        }
        Bytes.u16(t, out + 2, Checksum.compute(t, out, 8 + dataLen));
        return n.ip().send(t, Netisr.TX_IP, 8 + dataLen, Ipv4.PROTO_ICMP, dst, false);
    }

    /**
     * Sends an ICMP error about the datagram at {@code off} (its first {@code len} bytes are
     * available), subject to RFC 1122 3.2.2 and the rate limit.
     *
     * @param rest the 4 bytes after the checksum (e.g. next-hop MTU for frag-needed)
     */
    public void sendError(int type, int code, int rest, MemorySegment s, long off, int len) {
        n.checkOwner();
        int src = Ipv4.src(s, off);
        int dst = Ipv4.dst(s, off);
        int hl = Ipv4.headerLength(s, off);
        // RFC 1122 3.2.2: never about an ICMP error, a datagram to a broadcast/multicast address,
        // a non-initial fragment, or one whose source does not define a single host.
        boolean aboutIcmpError = Ipv4.protocol(s, off) == Ipv4.PROTO_ICMP
                && (len < hl + 1 || Icmp.isError(Icmp.type(s, off + hl)));
        if (aboutIcmpError || dst == Ipv4.BROADCAST || dst == cfg.subnetBroadcast() || (dst >>> 28) == 0xE
                || (Ipv4.fragWord(s, off) & Ipv4.OFFSET_MASK) != 0 || src == 0 || (src >>> 28) >= 0xE) {
            n.counters().inc(Stat.ICMP_ERROR_SUPPRESSED);
            return;
        }
        if (!takeToken(n.now())) {
            n.counters().inc(Stat.ICMP_RATE_LIMITED);
            return;
        }
        int quote = Math.min(len, MAX_ERROR_DATAGRAM - Ipv4.MIN_HEADER - Icmp.HEADER_LEN);
        MemorySegment t = n.txBuffer();
        long out = Netisr.TX_IP + Ipv4.MIN_HEADER;
        Bytes.u8(t, out, type);
        Bytes.u8(t, out + 1, code);
        Bytes.u16(t, out + 2, 0);
        Bytes.i32(t, out + 4, rest);
        MemorySegment.copy(s, off, t, out + Icmp.HEADER_LEN, quote);
        Bytes.u16(t, out + 2, Checksum.compute(t, out, Icmp.HEADER_LEN + quote));
        if (n.ip().send(t, Netisr.TX_IP, Icmp.HEADER_LEN + quote, Ipv4.PROTO_ICMP, src, false)
                && type == Icmp.DEST_UNREACHABLE) {
            n.counters().inc(Stat.ICMP_OUT_UNREACH);
        }
    }

    /** Token bucket kept as one timestamp: tokens = (now - tokensAt) / nanosPerToken, capped. */
    private boolean takeToken(long now) {
        if (now - tokensAt > bucketDepth) {
            tokensAt = now - bucketDepth;
        }
        if (now - tokensAt < nanosPerToken) {
            return false;
        }
        tokensAt += nanosPerToken;
        return true;
    }
}
