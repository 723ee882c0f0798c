package io.flowstack.core.stats;

/**
 * Named per-core counters. Every drop has its own reason, so that a malformed or unwanted
 * frame is always accounted for.
 */
public enum Stat {
    /** Frames received from the NIC. */
    RX_FRAMES("frames received from the NIC"),
    /** Bytes received from the NIC. */
    RX_BYTES("bytes received from the NIC"),
    /** GSO super-frames received: several segments coalesced by the kernel, taken as one. */
    RX_SUPER_FRAMES("GSO super-frames received (several segments taken as one)"),
    /** TCP super-frames built in software from consecutive segments of a receive batch ({@code SoftGro}). */
    RX_GRO_SUPER_FRAMES("TCP super-frames built by software GRO from received segments"),
    /** Segments that went into software-GRO super-frames (the first of each included). */
    RX_GRO_SEGMENTS("received TCP segments coalesced by software GRO"),
    /** Datagrams cut out of UDP super-frames (USO from a local sender), each then received as a frame. */
    RX_UDP_SUPER_DATAGRAMS("datagrams cut out of UDP super-frames (USO from a local sender)"),
    /** Frames transmitted. */
    TX_FRAMES("frames transmitted"),
    /** Bytes transmitted. */
    TX_BYTES("bytes transmitted"),
    /** Super-frames transmitted for the device to cut into segments (TSO). */
    TX_SUPER_FRAMES("super-frames transmitted for the device to segment (TSO)"),
    /** Frames dropped: NIC transmit queue full. A drop counter. */
    TX_QUEUE_FULL(true, "frames dropped: NIC transmit queue full"),
    /** Frames/datagrams handed to another core. */
    HOP_OUT("frames/datagrams handed to another core"),
    /** Frames/datagrams received from another core. */
    HOP_IN("frames/datagrams received from another core"),
    /** Dropped: inter-core ring full. A drop counter. */
    HOP_RING_FULL(true, "dropped: inter-core ring full"),
    /** Indirection-table buckets moved away from this core (rebalancing). */
    BUCKETS_OUT("indirection-table buckets moved away from this core (rebalancing)"),
    /** Indirection-table buckets moved to this core (rebalancing). */
    BUCKETS_IN("indirection-table buckets moved to this core (rebalancing)"),
    /** Frames held until a moved bucket's older frames had arrived through its old owner. */
    MOVE_HELD("frames held until a moved bucket's older frames had arrived through its old owner"),
    /** Dropped: the hold buffer of a moving bucket was full (a frame from another core). A drop counter. */
    MOVE_HOLD_FULL(true, "dropped: the hold buffer of a moving bucket was full (a frame from another core)"),
    /** Times the NIC queue waited for a moving bucket's hold buffer to empty. */
    MOVE_RX_PAUSED("times the NIC queue waited for a moving bucket's hold buffer to empty"),
    /** TCP connections handed to another core with their bucket. */
    TCP_MIGRATED_OUT("TCP connections handed to another core with their bucket"),
    /** TCP connections adopted from another core with their bucket. */
    TCP_MIGRATED_IN("TCP connections adopted from another core with their bucket"),
    /** Application doorbells for moved connections forwarded to their new core. */
    TCP_DOORBELLS_FORWARDED("application doorbells for moved connections forwarded to their new core"),
    /** Times this core's thread parked and handed its netisr to thread 0 (core parking). */
    NETISR_PARKED("times this core's thread parked, its netisr run by thread 0 (core parking)"),
    /** Of those, times it parked because it waited on the run queue a fifth of its window or more. */
    NETISR_PARKED_CONTENDED("of those, times it parked because it waited for a CPU a fifth of a window or more"),
    /** Times thread 0 handed this core's netisr back to its own thread (busy, and a CPU idle). */
    NETISR_RETURNED("times thread 0 handed this core's netisr back to its own thread (busy, a CPU idle)"),
    /**
     * Netisr sleeps that timed out while work that should have woken them (application ring,
     * another core's ring, a command) was already waiting: a lost wake-up. Tests assert 0.
     */
    WAKEUP_LATE("netisr sleeps that timed out with work already waiting (a lost wake-up; must stay 0)"),
    /**
     * TCP timers that found application output (send-ring bytes) that no doorbell had announced
     * and none outstanding: a lost doorbell, recovered only by the timer. Tests assert 0.
     */
    TCP_DOORBELL_LATE("TCP timers that found application output no doorbell announced (a lost doorbell; must stay 0)"),
    /**
     * Application waits (read, write, connect) that timed out while what they waited for had
     * already happened: a lost unpark, reported by the connection's next doorbell. Tests assert 0.
     */
    TCP_APP_WAKEUP_LATE("application waits that timed out with their condition already true (a lost unpark; must stay 0)"),
    /** Dropped: frame shorter than an Ethernet header. A drop counter. */
    ETH_TRUNCATED(true, "dropped: frame shorter than an Ethernet header"),
    /** Dropped: destination MAC is neither ours nor broadcast. A drop counter. */
    ETH_NOT_FOR_US(true, "dropped: destination MAC is neither ours nor broadcast"),
    /** Dropped: EtherType not handled (not IPv4/ARP). A drop counter. */
    ETH_UNKNOWN_TYPE(true, "dropped: EtherType not handled (not IPv4/ARP)"),
    /** ARP requests received. */
    ARP_IN_REQUEST("ARP requests received"),
    /** ARP replies received. */
    ARP_IN_REPLY("ARP replies received"),
    /** ARP requests sent. */
    ARP_OUT_REQUEST("ARP requests sent"),
    /** ARP replies sent. */
    ARP_OUT_REPLY("ARP replies sent"),
    /** Dropped: ARP packet shorter than 28 bytes. A drop counter. */
    ARP_TRUNCATED(true, "dropped: ARP packet shorter than 28 bytes"),
    /** Dropped: ARP hardware/protocol type or lengths not Ethernet/IPv4. A drop counter. */
    ARP_BAD_FORMAT(true, "dropped: ARP hardware/protocol type or lengths not Ethernet/IPv4"),
    /** Dropped: ARP opcode neither request nor reply. A drop counter. */
    ARP_BAD_OPCODE(true, "dropped: ARP opcode neither request nor reply"),
    /** Dropped: ARP sender address is invalid (a broadcast, multicast or zero MAC; a broadcast, multicast, loopback or our own IP). A drop counter. */
    ARP_BAD_SENDER(true, "dropped: ARP sender address is invalid (broadcast/multicast/zero MAC; broadcast/multicast/loopback/our IP)"),
    /** ARP packets whose sender hardware address is not the frame's Ethernet source. */
    ARP_SOURCE_MISMATCH(true, "dropped: ARP sender hardware address differs from the Ethernet source"),
    /** Ignored: ARP request for another address. A drop counter. */
    ARP_NOT_FOR_US(true, "ignored: ARP request for another address"),
    /** ARP cache updates sent to other cores. */
    ARP_UPDATE_OUT("ARP cache updates sent to other cores"),
    /** Cores owed a full ARP resynchronisation: more updates waited for their full ring than are kept. */
    ARP_UPDATE_RESYNC("ARP resynchronisations owed to a core whose ring stayed full (updates then sent whole)"),
    /** ARP cache updates applied from other cores. */
    ARP_UPDATE_IN("ARP cache updates applied from other cores"),
    /** Dropped: queue of frames waiting for ARP resolution is full. A drop counter. */
    ARP_QUEUE_FULL(true, "dropped: queue of frames waiting for ARP resolution is full"),
    /** Dropped: ARP resolution failed (no reply after retries). A drop counter. */
    ARP_UNRESOLVED(true, "dropped: ARP resolution failed (no reply after retries)"),
    /** Dropped: an offloaded (gathered) TCP segment found its next hop unresolved; TCP resends it. A drop counter. */
    ARP_OFFLOAD_DROPPED(true, "dropped: an offloaded segment found its next hop unresolved (TCP resends it)"),
    /** Dropped: ARP cache full of unresolved entries. A drop counter. */
    ARP_CACHE_FULL(true, "dropped: ARP cache full of unresolved entries"),
    /** IPv4 datagrams received. */
    IP_IN("IPv4 datagrams received"),
    /** Dropped: shorter than an IPv4 header. A drop counter. */
    IP_TRUNCATED(true, "dropped: shorter than an IPv4 header"),
    /** Dropped: IP version is not 4. A drop counter. */
    IP_BAD_VERSION(true, "dropped: IP version is not 4"),
    /** Dropped: IHL below 5 or beyond the frame. A drop counter. */
    IP_BAD_IHL(true, "dropped: IHL below 5 or beyond the frame"),
    /** Dropped: total length below the header length or beyond the frame. A drop counter. */
    IP_BAD_LENGTH(true, "dropped: total length below the header length or beyond the frame"),
    /** Dropped: IPv4 header checksum mismatch. A drop counter. */
    IP_BAD_CHECKSUM(true, "dropped: IPv4 header checksum mismatch"),
    /** Dropped: source is broadcast, multicast, loopback or zero. A drop counter. */
    IP_BAD_SOURCE(true, "dropped: source is broadcast, multicast, loopback or zero"),
    /** Dropped: destination is not one of our addresses. A drop counter. */
    IP_NOT_FOR_US(true, "dropped: destination is not one of our addresses"),
    /** Dropped: protocol not handled (protocol unreachable sent). A drop counter. */
    IP_UNKNOWN_PROTOCOL(true, "dropped: protocol not handled (protocol unreachable sent)"),
    /** IPv4 datagrams sent. */
    IP_OUT("IPv4 datagrams sent"),
    /** Dropped: no route to the destination. A drop counter. */
    IP_NO_ROUTE(true, "dropped: no route to the destination"),
    /** Fragments created for datagrams above the MTU. */
    IP_FRAGMENTS_OUT("fragments created for datagrams above the MTU"),
    /** Dropped: datagram above the MTU with DF set. A drop counter. */
    IP_CANT_FRAGMENT(true, "dropped: datagram above the MTU with DF set"),
    /** Datagrams forwarded to another interface or back out the one they came in on (RFC 1812). */
    FWD_OUT("datagrams forwarded (RFC 1812)"),
    /** TCP super-frames forwarded whole, for the egress device to segment. */
    FWD_SUPER_FRAMES("TCP super-frames forwarded whole (the egress segments them)"),
    /** Segments cut in software from super-frames whose egress cannot take them whole (no GSO, smaller MTU). */
    FWD_SOFT_SEGMENTS("segments cut in software from super-frames an egress could not take whole"),
    /** Forwarded datagrams fragmented for a smaller next-hop MTU (RFC 1812 5.2.6). */
    FWD_FRAGMENTED("forwarded datagrams fragmented for a smaller next-hop MTU (RFC 1812 5.2.6)"),
    /** Dropped: TTL expired in transit (time exceeded sent, RFC 1812 5.3.1). A drop counter. */
    FWD_TTL_EXCEEDED(true, "dropped: TTL expired in transit (RFC 1812 5.3.1)"),
    /** Dropped: no route to the destination (net unreachable sent, RFC 1812 5.2.7.1). A drop counter. */
    FWD_NO_ROUTE(true, "dropped: no route to forward by (RFC 1812 5.2.7.1)"),
    /** Dropped: above the next-hop MTU with DF set (fragmentation needed sent, RFC 1191 4). A drop counter. */
    FWD_FRAG_NEEDED(true, "dropped: above the next-hop MTU with DF set (RFC 1191 4)"),
    /** Dropped: a martian source address (RFC 1812 5.3.7). A drop counter. */
    FWD_MARTIAN_SOURCE(true, "dropped: martian source address (RFC 1812 5.3.7)"),
    /** Dropped: a martian destination address (RFC 1812 5.3.7). A drop counter. */
    FWD_MARTIAN_DEST(true, "dropped: martian destination address (RFC 1812 5.3.7)"),
    /** Dropped: received as a link-layer broadcast (RFC 1812 5.3.4). A drop counter. */
    FWD_LINK_BROADCAST(true, "dropped: link-layer broadcast not forwarded (RFC 1812 5.3.4)"),
    /** Dropped: the next hop did not resolve (host unreachable sent, RFC 1812 5.2.7.1). A drop counter. */
    FWD_HOST_UNREACHABLE(true, "dropped: next hop did not resolve (RFC 1812 5.2.7.1)"),
    /** Dropped: a super-frame that could not be forwarded whole nor segmented (not TCP, options). A drop counter. */
    FWD_BAD_SUPER_FRAME(true, "dropped: super-frame neither forwardable whole nor segmentable"),
    /** Fragments received. */
    FRAG_IN("fragments received"),
    /** Datagrams reassembled. */
    FRAG_REASSEMBLED("datagrams reassembled"),
    /** Dropped: reassembly timed out. A drop counter. */
    FRAG_TIMEOUT(true, "dropped: reassembly timed out"),
    /** Dropped: overlapping fragments (whole datagram dropped). A drop counter. */
    FRAG_OVERLAP(true, "dropped: overlapping fragments (whole datagram dropped)"),
    /** Dropped: exact duplicate fragment. A drop counter. */
    FRAG_DUPLICATE(true, "dropped: exact duplicate fragment"),
    /** Dropped: fragment would end beyond 65535 bytes. A drop counter. */
    FRAG_TOO_BIG(true, "dropped: fragment would end beyond 65535 bytes"),
    /** Dropped: non-final fragment not a multiple of 8 bytes, or empty. A drop counter. */
    FRAG_BAD_LENGTH(true, "dropped: non-final fragment not a multiple of 8 bytes, or empty"),
    /** Dropped: too many fragments in one datagram. A drop counter. */
    FRAG_TOO_MANY(true, "dropped: too many fragments in one datagram"),
    /** Dropped: reassembly memory or slots exhausted (oldest evicted). A drop counter. */
    FRAG_NO_MEMORY(true, "dropped: reassembly memory or slots exhausted (oldest evicted)"),
    /** Dropped: too many datagrams under reassembly for one source. A drop counter. */
    FRAG_FLOW_LIMIT(true, "dropped: too many datagrams under reassembly for one source"),
    /** ICMP messages received. */
    ICMP_IN("ICMP messages received"),
    /** Dropped: ICMP message shorter than 8 bytes. A drop counter. */
    ICMP_TRUNCATED(true, "dropped: ICMP message shorter than 8 bytes"),
    /** Dropped: ICMP checksum mismatch. A drop counter. */
    ICMP_BAD_CHECKSUM(true, "dropped: ICMP checksum mismatch"),
    /** ICMP echo requests received. */
    ICMP_IN_ECHO("ICMP echo requests received"),
    /** ICMP echo replies received. */
    ICMP_IN_ECHO_REPLY("ICMP echo replies received"),
    /** ICMP errors received. */
    ICMP_IN_ERROR("ICMP errors received"),
    /** ICMP messages of other types received. */
    ICMP_IN_OTHER("ICMP messages of other types received"),
    /** ICMP errors not passed on: source quench or redirect (RFC 6633), or not about a datagram of ours. */
    ICMP_ERROR_IGNORED("ICMP errors not passed on: source quench or redirect (RFC 6633), or not about a datagram of ours"),
    /** Ignored: echo request to a broadcast address (RFC 1122 3.2.2.6). A drop counter. */
    ICMP_ECHO_BROADCAST(true, "ignored: echo request to a broadcast address (RFC 1122 3.2.2.6)"),
    /** ICMP echo replies sent. */
    ICMP_OUT_ECHO_REPLY("ICMP echo replies sent"),
    /** ICMP destination unreachable sent. */
    ICMP_OUT_UNREACH("ICMP destination unreachable sent"),
    /** ICMP time exceeded sent (TTL expired in transit, reassembly timed out). */
    ICMP_OUT_TIME_EXCEEDED("ICMP time exceeded sent (TTL expired in transit, reassembly timed out)"),
    /** ICMP errors of other types sent (parameter problem). */
    ICMP_OUT_OTHER_ERROR("ICMP errors of other types sent (parameter problem)"),
    /** ICMP errors not sent: rate limit. A drop counter. */
    ICMP_RATE_LIMITED(true, "ICMP errors not sent: rate limit"),
    /** ICMP errors not sent: RFC 1122 3.2.2 forbids (broadcast, fragment, error). */
    ICMP_ERROR_SUPPRESSED("ICMP errors not sent: RFC 1122 3.2.2 forbids (broadcast, fragment, error)"),
    /** UDP datagrams received. */
    UDP_IN("UDP datagrams received"),
    /** Dropped: shorter than a UDP header. A drop counter. */
    UDP_TRUNCATED(true, "dropped: shorter than a UDP header"),
    /** Dropped: UDP length field disagrees with the IP payload. A drop counter. */
    UDP_BAD_LENGTH(true, "dropped: UDP length field disagrees with the IP payload"),
    /** Dropped: UDP checksum mismatch. A drop counter. */
    UDP_BAD_CHECKSUM(true, "dropped: UDP checksum mismatch"),
    /** Dropped: no socket on the destination port (port unreachable sent). A drop counter. */
    UDP_NO_PORT(true, "dropped: no socket on the destination port (port unreachable sent)"),
    /** Dropped: socket receive buffer full. A drop counter. */
    UDP_RCVBUF_FULL(true, "dropped: socket receive buffer full"),
    /** UDP datagrams sent. */
    UDP_OUT("UDP datagrams sent"),
    /** Dropped: UDP send failed (no route or too large). A drop counter. */
    UDP_SEND_FAILED(true, "dropped: UDP send failed (no route or too large)"),
    /** ICMP errors passed to a UDP socket (RFC 1122 4.1.3.3). */
    UDP_ICMP_ERRORS("ICMP errors passed to a UDP socket (RFC 1122 4.1.3.3)"),
    /** Dropped: application-to-core ring full. A drop counter. */
    APP_RING_FULL(true, "dropped: application-to-core ring full"),
    /** TCP segments received. */
    TCP_IN("TCP segments received"),
    /** TCP segments sent. */
    TCP_OUT("TCP segments sent"),
    /** Dropped: shorter than a TCP header. A drop counter. */
    TCP_TRUNCATED(true, "dropped: shorter than a TCP header"),
    /** Dropped: TCP data offset below 5 or beyond the segment. A drop counter. */
    TCP_BAD_OFFSET(true, "dropped: TCP data offset below 5 or beyond the segment"),
    /** Dropped: TCP checksum mismatch. A drop counter. */
    TCP_BAD_CHECKSUM(true, "dropped: TCP checksum mismatch"),
    /** Dropped: TCP to a broadcast address. A drop counter. */
    TCP_BROADCAST(true, "dropped: TCP to a broadcast address"),
    /** Dropped: no connection or listener (RST sent). A drop counter. */
    TCP_NO_SOCKET(true, "dropped: no connection or listener (RST sent)"),
    /** TCP resets sent. */
    TCP_RST_OUT("TCP resets sent"),
    /** TCP resets to segments for no connection not sent: over the core's 200 per second (FreeBSD's badport_bandlim). */
    TCP_RST_LIMITED("TCP resets to segments for no connection not sent: over the core's 200 per second"),
    /** TCP resets received that closed a connection. */
    TCP_RST_IN("TCP resets received that closed a connection"),
    /** TCP connections opened by us (connect). */
    TCP_ACTIVE_OPENS("TCP connections opened by us (connect)"),
    /** TCP connections accepted. */
    TCP_PASSIVE_OPENS("TCP connections accepted"),
    /** TCP connections ended (closed, reset, timed out, TIME_WAIT over) after being counted opened. */
    TCP_CLOSED("TCP connections ended (closed, reset, timed out, TIME_WAIT over) after being counted opened"),
    /** TCP connections reset by the peer. */
    TCP_ESTABLISHED_RESETS("TCP connections reset by the peer"),
    /** TCP connections dropped after too many retransmissions. */
    TCP_TIMEOUTS("TCP connections dropped after too many retransmissions"),
    /** TCP segments retransmitted. */
    TCP_RETRANSMITS("TCP segments retransmitted"),
    /** TCP fast retransmits (RFC 5681 3.2). */
    TCP_FAST_RETRANSMITS("TCP fast retransmits (RFC 5681 3.2)"),
    /** TCP retransmission episodes proved spurious by timestamps and undone (RFC 3522). */
    TCP_SPURIOUS_RETRANSMITS("TCP retransmission episodes proved spurious by timestamps and undone (RFC 3522)"),
    /** TCP tail loss probes sent (RFC 8985 7). */
    TCP_LOSS_PROBES("TCP tail loss probes sent (RFC 8985 7)"),
    /** TCP retransmissions found lost during recovery and sent again. */
    TCP_LOST_RETRANSMITS("TCP retransmissions found lost during recovery and sent again"),
    /** TCP retransmission timeouts. */
    TCP_RTO("TCP retransmission timeouts"),
    /** TCP duplicate ACKs received. */
    TCP_DUP_ACKS("TCP duplicate ACKs received"),
    /** TCP new segments sent on the first two duplicate ACKs (RFC 3042). */
    TCP_LIMITED_TRANSMITS("TCP new segments sent on the first two duplicate ACKs (RFC 3042)"),
    /** TCP out-of-order segments queued. */
    TCP_OOO_SEGMENTS("TCP out-of-order segments queued"),
    /** Dropped: out-of-order segment with no room in the reassembly list. A drop counter. */
    TCP_OOO_DROPPED(true, "dropped: out-of-order segment with no room in the reassembly list"),
    /**
     * Dropped: segment outside the receive window (answered with an ACK; bare ACKs at most every 500
     * ms). A drop counter.
     */
    TCP_OUT_OF_WINDOW(true, "dropped: segment outside the receive window (answered with an ACK; bare ACKs at most every 500 ms)"),
    /** Replies to unacceptable bare ACKs not sent (one per 500 ms per connection: no ACK loops). */
    TCP_OOW_ACK_LIMITED("replies to unacceptable bare ACKs not sent (one per 500 ms per connection: no ACK loops)"),
    /** Dropped: old timestamp (PAWS, RFC 7323 5). A drop counter. */
    TCP_PAWS_DROP(true, "dropped: old timestamp (PAWS, RFC 7323 5)"),
    /**
     * SACK blocks ignored (RFC 2018, RFC 6675): below SND.UNA (old, or a D-SACK, RFC 2883),
     * beyond SND.MAX or empty; the segment itself is processed.
     */
    TCP_SACK_IGNORED("SACK blocks ignored: below SND.UNA (old or D-SACK), beyond SND.MAX or empty (RFC 2018, RFC 6675)"),
    /** Window scale options above 14 received and used as 14 (RFC 7323 2.3: "SHOULD log the error"). */
    TCP_WSCALE_CLAMPED("window scale options above 14 received, used as 14 (RFC 7323 2.3)"),
    /** TCP challenge ACKs sent (RFC 5961). */
    TCP_CHALLENGE_ACKS("TCP challenge ACKs sent (RFC 5961)"),
    /** TCP challenge ACKs not sent: the core's budget for the second, drawn at random, was spent (RFC 5961 7). */
    TCP_CHALLENGE_ACK_LIMITED("TCP challenge ACKs not sent: the core's randomised budget for the second was spent (RFC 5961 7)"),
    /** TCP challenge ACKs not sent: the connection had one in the last 500 ms (RFC 5961 7, Linux's tcp_invalid_ratelimit). */
    TCP_CHALLENGE_ACK_CONN_LIMITED("TCP challenge ACKs not sent: the connection had one in the last 500 ms (RFC 5961 7)"),
    /** Dropped: ACK for data never sent or too old (RFC 5961 5.2). A drop counter. */
    TCP_BAD_ACK(true, "dropped: ACK for data never sent or too old (RFC 5961 5.2)"),
    /** TCP SYN cookies sent (half-open queue full). */
    TCP_SYN_COOKIES_SENT("TCP SYN cookies sent (half-open queue full)"),
    /** TCP connections established from a valid SYN cookie. */
    TCP_SYN_COOKIES_OK("TCP connections established from a valid SYN cookie"),
    /** Dropped: ACK with an invalid SYN cookie. A drop counter. */
    TCP_SYN_COOKIES_BAD(true, "dropped: ACK with an invalid SYN cookie"),
    /** Bare ACKs to a listener that sent no cookie lately: not tried as cookies, reset (issue 13 point 8). */
    TCP_SYN_COOKIES_UNSOLICITED(true, "dropped: ACK to a listener that sent no SYN cookie lately (not tried as one)"),
    /** Dropped: SYN or connection refused, listen/accept queue full. A drop counter. */
    TCP_LISTEN_OVERFLOW(true, "dropped: SYN or connection refused, listen/accept queue full"),
    /** Refused: per-stack connection limit reached. A drop counter. */
    TCP_TOO_MANY_CONNECTIONS(true, "refused: per-stack connection limit reached"),
    /** TCP TIME_WAIT connections reused by a new SYN. */
    TCP_TIME_WAIT_REUSE("TCP TIME_WAIT connections reused by a new SYN"),
    /** TCP connections that entered TIME_WAIT: their control block and buffers freed, a small entry kept. */
    TCP_TIME_WAIT_ENTERED("TCP connections that entered TIME_WAIT (control block and buffers freed, a small entry kept)"),
    /** TIME_WAIT entries ended early: the core's table was full (the oldest goes), or no room to move with their bucket. */
    TCP_TIME_WAIT_OVERFLOW("TIME_WAIT entries ended early: table full (oldest dropped) or no room to move with their bucket"),
    /** TIME_WAIT entries ended by the peer's RST at RCV.NXT (RFC 9293 3.10.7.4; Linux's default, no RFC 1337 protection). */
    TCP_TIME_WAIT_RESET("TIME_WAIT entries ended by the peer's RST (RFC 9293 3.10.7.4)"),
    /** Local ports a connect reused from a TIME_WAIT 4-tuple (timestamps on, entry older than 1 s: Linux's tcp_tw_reuse). */
    TCP_TIME_WAIT_CONNECT_REUSE("local ports a connect reused from a TIME_WAIT 4-tuple (timestamps on, entry older than 1 s)"),
    /** TCP keepalive probes sent. */
    TCP_KEEPALIVE_PROBES("TCP keepalive probes sent"),
    /** TCP connections dropped: keepalive probes unanswered. */
    TCP_KEEPALIVE_TIMEOUTS("TCP connections dropped: keepalive probes unanswered"),
    /** TCP connections reset: data arrived after the application closed. */
    TCP_ABORT_ON_DATA("TCP connections reset: data arrived after the application closed"),
    /** TCP connections aborted: a callback handler threw. A drop counter. */
    TCP_HANDLER_ERRORS(true, "TCP connections aborted: a callback handler threw"),
    /** Refused: per-stack TCP buffer memory budget reached. A drop counter. */
    TCP_MEMORY_LIMIT(true, "refused: per-stack TCP buffer memory budget reached"),
    /** TCP zero-window probes sent. */
    TCP_PERSIST_PROBES("TCP zero-window probes sent"),
    /** ICMP errors accepted for a TCP connection (RFC 1122 4.2.3.9, RFC 5927). */
    TCP_ICMP_ERRORS("ICMP errors accepted for a TCP connection (RFC 1122 4.2.3.9, RFC 5927)"),
    /** Ignored: ICMP error for no connection or quoting data not in flight (RFC 5927 5.1). A drop counter. */
    TCP_ICMP_IGNORED(true, "ignored: ICMP error for no connection or quoting data not in flight (RFC 5927 5.1)"),
    /** TCP connection attempts ended by ICMP protocol/port unreachable (RFC 1122 4.2.3.9). */
    TCP_ICMP_ABORTS("TCP connection attempts ended by ICMP protocol/port unreachable (RFC 1122 4.2.3.9)"),
    /** TCP send MSS lowered by ICMP fragmentation needed (RFC 1191). */
    TCP_PMTU_UPDATES("TCP send MSS lowered by ICMP fragmentation needed (RFC 1191)"),
    /** Dropped: unexpected exception in protocol code (a bug; see the log). A drop counter. */
    INTERNAL_ERROR(true, "dropped: unexpected exception in protocol code (a bug; see the log)");

    private final boolean drop;
    private final String description;

    Stat(String description) {
        this(false, description);
    }

    Stat(boolean drop, String description) {
        this.drop = drop;
        this.description = description;
    }

    /**
     * Whether this counter counts frames the stack discarded (or refused or ignored): the ones
     * {@link StackSnapshot#drops(int)} sums.
     *
     * @return {@code true} for a drop counter
     */
    public boolean isDrop() {
        return drop;
    }

    /**
     * One line saying what the counter counts, as the statistics output and the metrics' HELP
     * text show it.
     *
     * @return the description
     */
    public String description() {
        return description;
    }

    /**
     * Lower-case name used in output, e.g. {@code ip_bad_checksum}.
     *
     * @return the constant's name in lower case
     */
    public String key() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
