package io.flowstack.core.ip;

import io.flowstack.core.config.StackConfig;
import io.flowstack.core.percore.CoreContext;
import io.flowstack.core.stats.Stat;
import io.flowstack.core.wire.Bytes;
import io.flowstack.core.wire.Checksum;
import io.flowstack.core.wire.Icmp;
import io.flowstack.core.wire.Ipv4;
import io.flowstack.core.wire.Tcp;
import io.flowstack.core.wire.Udp;
import java.lang.foreign.MemorySegment;
import org.agrona.collections.Int2ObjectHashMap;

/**
 * ICMP (RFC 792, RFC 1122 3.2.2) for one core: echo replies with the request's data, errors
 * quoting the offending datagram, and a token-bucket rate limit on errors.
 *
 * <p>Owned by: its netisr thread.
 */
public final class IcmpLayer {
    /** RFC 1812 4.3.2.3: an error quotes as much as fits in 576 bytes. */
    static final int MAX_ERROR_DATAGRAM = 576;

    private final CoreContext n;
    private final Transports up;
    private final StackConfig cfg;
    private final long nanosPerToken;
    private final long bucketDepth;
    private long tokensAt; // bucket state as "time when the bucket was empty"
    /** Echo clients by identifier: this core's replica of the bindings (changed by command only). */
    private final Int2ObjectHashMap<EchoReceiver> echoReceivers = new Int2ObjectHashMap<>();

    /**
     * An echo client (ping) as one core sees it: the identifier it sends in its echo requests is
     * bound on every core, and each core delivers the replies (and the errors about its requests)
     * that it owns into the client's ring for that core (one producer per ring).
     */
    public interface EchoReceiver {
        /**
         * An echo reply with the client's identifier (RFC 792 type 0), from core {@code core}.
         *
         * @param core the calling netisr's core
         * @param src the reply's source address, as a big-endian int
         * @param ttl     the reply's IPv4 time to live
         * @param seq the sequence number
         * @param s the memory holding the reply
         * @param dataOff offset of the echo data (after the 8-byte ICMP header) in {@code s}
         * @param dataLen the length of the echo data
         * @param now     the netisr's time when the reply was received
         * @return false if the client's ring for this core is full (the reply is dropped)
         */
        boolean echoReply(int core, int src, int ttl, int seq, MemorySegment s, long dataOff, int dataLen, long now);

        /**
         * An ICMP error (RFC 792: destination unreachable, time exceeded, ...) from {@code from}
         * quoting an echo request of the client to {@code dst} with sequence number {@code seq}.
         *
         * @param core the calling netisr's core
         * @param from the error's sender (e.g. a router), as a big-endian int
         * @param type the ICMP type
         * @param code the ICMP code
         * @param dst the destination of the quoted request
         * @param seq the quoted request's sequence number
         * @param now the netisr's time when the error was received
         * @return false if the client's ring for this core is full
         */
        boolean echoError(int core, int from, int type, int code, int dst, int seq, long now);
    }

    public IcmpLayer(CoreContext netisr, Transports up) {
        this.n = netisr;
        this.up = up;
        this.cfg = netisr.config();
        this.nanosPerToken = 1_000_000_000L / Math.max(1, cfg.icmpErrorsPerSecond);
        this.bucketDepth = nanosPerToken * Math.max(1, cfg.icmpErrorBurst);
        this.tokensAt = Long.MIN_VALUE / 4;
    }

    /** Binds an echo client's identifier on this core (a command from {@code FlowStack}). */
    public void bindEcho(int id, EchoReceiver receiver) {
        n.checkOwner();
        echoReceivers.put(id, receiver);
    }

    public void unbindEcho(int id) {
        n.checkOwner();
        echoReceivers.remove(id);
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
                // RFC 792: the identifier and sequence number match replies to requests; a reply
                // to no client of ours (or sent to a broadcast address) is only counted.
                EchoReceiver r = broadcast ? null : echoReceivers.get(Icmp.id(s, icmp));
                if (r != null) {
                    r.echoReply(n.core(), Ipv4.src(s, off), Ipv4.ttl(s, off), Icmp.seq(s, icmp), s,
                            icmp + Icmp.HEADER_LEN, icmpLen - Icmp.HEADER_LEN, n.now());
                }
            }
            default -> {
                if (Icmp.isError(type)) {
                    n.counters().inc(Stat.ICMP_IN_ERROR);
                    echoError(s, off, icmp, icmpLen, type);
                    transportError(s, icmp, icmpLen, type);
                } else {
                    n.counters().inc(Stat.ICMP_IN_OTHER);
                }
            }
        }
    }

    /**
     * RFC 1122 3.2.2: an ICMP error is passed to the transport protocol of the datagram it quotes
     * (its IP header and at least 8 data bytes: the ports, and TCP's sequence number). This core
     * owns that flow: {@code FlowHash} hashes an error by its quoted 4-tuple. Source quench is
     * ignored (RFC 6633), and so is redirect (a host's routes come from its configuration here).
     */
    private void transportError(MemorySegment s, long icmp, int icmpLen, int type) {
        if (type == Icmp.SOURCE_QUENCH || type == Icmp.REDIRECT) {
            n.counters().inc(Stat.ICMP_ERROR_IGNORED);
            return;
        }
        long inner = icmp + Icmp.HEADER_LEN;
        int innerLen = icmpLen - Icmp.HEADER_LEN;
        if (innerLen < Ipv4.MIN_HEADER + Icmp.QUOTED_DATA || Ipv4.version(s, inner) != Ipv4.VERSION) {
            n.counters().inc(Stat.ICMP_ERROR_IGNORED);
            return;
        }
        int ihl = Ipv4.headerLength(s, inner);
        if (ihl < Ipv4.MIN_HEADER || innerLen < ihl + Icmp.QUOTED_DATA || n.interfaces().localIndex(Ipv4.src(s, inner)) < 0
                || (Ipv4.fragWord(s, inner) & Ipv4.OFFSET_MASK) != 0) {
            n.counters().inc(Stat.ICMP_ERROR_IGNORED); // not a first fragment of a datagram of ours: no ports
            return;
        }
        long l4 = inner + ihl;
        int code = Icmp.code(s, icmp);
        int dst = Ipv4.dst(s, inner);
        int sport = Udp.srcPort(s, l4); // TCP's ports are where UDP's are
        int dport = Udp.dstPort(s, l4);
        switch (Ipv4.protocol(s, inner)) {
            case Ipv4.PROTO_TCP -> up.tcpIcmpError(Ipv4.src(s, inner), dst, dport, sport, Tcp.seq(s, l4), type, code,
                    // RFC 1191 4: the next-hop MTU is in the low 16 bits of the unused word
                    type == Icmp.DEST_UNREACHABLE && code == Icmp.CODE_FRAG_NEEDED ? Icmp.nextHopMtu(s, icmp) : 0);
            case Ipv4.PROTO_UDP -> up.udpIcmpError(sport, dst, dport, type, code);
            default -> n.counters().inc(Stat.ICMP_ERROR_IGNORED);
        }
    }

    /** A short name of an ICMP error, for messages ("port unreachable", "time exceeded"). */
    public static String describe(int type, int code) {
        if (type == Icmp.DEST_UNREACHABLE) {
            return switch (code) {
                case 0 -> "network unreachable";
                case 1 -> "host unreachable";
                case Icmp.CODE_PROTOCOL_UNREACHABLE -> "protocol unreachable";
                case Icmp.CODE_PORT_UNREACHABLE -> "port unreachable";
                case Icmp.CODE_FRAG_NEEDED -> "fragmentation needed";
                case 13 -> "communication administratively prohibited";
                default -> "destination unreachable (code " + code + ")";
            };
        }
        if (type == Icmp.TIME_EXCEEDED) {
            return "time exceeded";
        }
        if (type == Icmp.PARAMETER_PROBLEM) {
            return "parameter problem";
        }
        return "type " + type + " code " + code;
    }

    /**
     * RFC 792 / RFC 1122 3.2.2: an error quotes the offending datagram's IP header and its first
     * 8 data bytes, enough to find the echo request's identifier and sequence number. Passed to
     * the echo client that sent the request, if any.
     */
    private void echoError(MemorySegment s, long ip, long icmp, int icmpLen, int type) {
        if (echoReceivers.isEmpty()) {
            return;
        }
        long inner = icmp + Icmp.HEADER_LEN;
        int innerLen = icmpLen - Icmp.HEADER_LEN;
        if (innerLen < Ipv4.MIN_HEADER + Icmp.HEADER_LEN || Ipv4.version(s, inner) != Ipv4.VERSION) {
            return;
        }
        int ihl = Ipv4.headerLength(s, inner);
        if (ihl < Ipv4.MIN_HEADER || innerLen < ihl + Icmp.HEADER_LEN || Ipv4.protocol(s, inner) != Ipv4.PROTO_ICMP
                || Ipv4.src(s, inner) != cfg.address || (Ipv4.fragWord(s, inner) & Ipv4.OFFSET_MASK) != 0
                || Icmp.type(s, inner + ihl) != Icmp.ECHO_REQUEST) {
            return;
        }
        EchoReceiver r = echoReceivers.get(Icmp.id(s, inner + ihl));
        if (r != null) {
            r.echoError(n.core(), Ipv4.src(s, ip), type, Icmp.code(s, icmp), Ipv4.dst(s, inner),
                    Icmp.seq(s, inner + ihl), n.now());
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
        long out = CoreContext.TX_IP + Ipv4.MIN_HEADER;
        MemorySegment.copy(s, icmp, t, out, icmpLen);
        Icmp.type(t, out, Icmp.ECHO_REPLY);
        Icmp.code(t, out, 0);
        Icmp.updateChecksum(t, out, icmpLen);
        // from the address pinged: a router answers on each interface's address (RFC 1812 4.3.3.6)
        if (n.ipSend(t, CoreContext.TX_IP, icmpLen, Ipv4.PROTO_ICMP, Ipv4.dst(s, ip), Ipv4.src(s, ip), false)) {
            n.counters().inc(Stat.ICMP_OUT_ECHO_REPLY);
        }
    }

    /**
     * Sends an echo request (RFC 792 type 8) from this core, for an echo client. {@code dataLen}
     * bytes of data follow the 8-byte header: {@code stamp} big-endian in the first 8 (fewer if
     * {@code dataLen < 8}), then byte {@code i} of the data is {@code i & 0xFF}. Datagrams above
     * the MTU are fragmented by IP.
     *
     * @return false if it could not be sent (no route, too large)
     */
    public boolean sendEcho(int dst, int id, int seq, int dataLen, long stamp) {
        n.checkOwner();
        MemorySegment t = n.txBuffer();
        long out = CoreContext.TX_IP + Ipv4.MIN_HEADER;
        Icmp.type(t, out, Icmp.ECHO_REQUEST);
        Icmp.code(t, out, 0);
        Icmp.id(t, out, id);
        Icmp.seq(t, out, seq);
        for (int i = 0; i < dataLen; i++) {
            Bytes.u8(t, out + Icmp.DATA + i, i < 8 ? (int) (stamp >>> (56 - 8 * i)) : (i & 0xFF));
        }
        // RFC 792: the checksum is the one's complement sum of the ICMP message (RFC 1071)
        Icmp.updateChecksum(t, out, Icmp.HEADER_LEN + dataLen);
        return n.ipSend(t, CoreContext.TX_IP, Icmp.HEADER_LEN + dataLen, Ipv4.PROTO_ICMP, dst, false);
    }

    /**
     * Sends an ICMP error about the datagram at {@code off} (its first {@code len} bytes are
     * available), subject to RFC 1122 3.2.2 and the rate limit.
     *
     * @param rest the 4 bytes after the checksum (e.g. next-hop MTU for frag-needed)
     */
    public void sendError(int type, int code, int rest, MemorySegment s, long off, int len) {
        sendError(type, code, rest, s, off, len, 0);
    }

    /**
     * Sends an ICMP error as {@link #sendError(int, int, int, MemorySegment, long, int)}, from
     * {@code from}: a router's error about a datagram it was forwarding comes from the address
     * of the interface the datagram arrived on (RFC 1812 4.3.2.4).
     *
     * @param from the error's source address (one of ours), or 0 for interface 0's
     */
    public void sendError(int type, int code, int rest, MemorySegment s, long off, int len, int from) {
        n.checkOwner();
        int src = Ipv4.src(s, off);
        int dst = Ipv4.dst(s, off);
        int hl = Ipv4.headerLength(s, off);
        // RFC 1122 3.2.2: never about an ICMP error, a datagram to a broadcast/multicast address,
        // a non-initial fragment, or one whose source does not define a single host.
        boolean aboutIcmpError = Ipv4.protocol(s, off) == Ipv4.PROTO_ICMP
                && (len < hl + 1 || Icmp.isError(Icmp.type(s, off + hl)));
        if (aboutIcmpError || n.interfaces().isBroadcast(dst) || (dst >>> 28) == 0xE
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
        long out = CoreContext.TX_IP + Ipv4.MIN_HEADER;
        Icmp.type(t, out, type);
        Icmp.code(t, out, code);
        Icmp.rest(t, out, rest);
        MemorySegment.copy(s, off, t, out + Icmp.DATA, quote);
        Icmp.updateChecksum(t, out, Icmp.HEADER_LEN + quote);
        if (n.ipSend(t, CoreContext.TX_IP, Icmp.HEADER_LEN + quote, Ipv4.PROTO_ICMP, from, src, false)) {
            n.counters().inc(type == Icmp.DEST_UNREACHABLE ? Stat.ICMP_OUT_UNREACH
                    : type == Icmp.TIME_EXCEEDED ? Stat.ICMP_OUT_TIME_EXCEEDED : Stat.ICMP_OUT_OTHER_ERROR);
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
