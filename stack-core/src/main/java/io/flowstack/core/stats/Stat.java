package io.flowstack.core.stats;

/**
 * Named per-core counters. Every drop has its own reason, so that a malformed or unwanted
 * frame is always accounted for.
 */
public enum Stat {
    RX_FRAMES("frames received from the NIC"),
    RX_BYTES("bytes received from the NIC"),
    TX_FRAMES("frames transmitted"),
    TX_BYTES("bytes transmitted"),
    TX_QUEUE_FULL(true, "frames dropped: NIC transmit queue full"),
    HOP_OUT("frames/datagrams handed to another core"),
    HOP_IN("frames/datagrams received from another core"),
    HOP_RING_FULL(true, "dropped: inter-core ring full"),
    BUCKETS_OUT("indirection-table buckets moved away from this core (rebalancing)"),
    BUCKETS_IN("indirection-table buckets moved to this core (rebalancing)"),
    MOVE_HELD("frames held until a moved bucket's older frames had arrived through its old owner"),
    MOVE_HOLD_FULL(true, "dropped: the hold buffer of a moving bucket was full (a frame from another core)"),
    MOVE_RX_PAUSED("times the NIC queue waited for a moving bucket's hold buffer to empty"),
    TCP_MIGRATED_OUT("TCP connections handed to another core with their bucket"),
    TCP_MIGRATED_IN("TCP connections adopted from another core with their bucket"),
    TCP_DOORBELLS_FORWARDED("application doorbells for moved connections forwarded to their new core"),
    ETH_TRUNCATED(true, "dropped: frame shorter than an Ethernet header"),
    ETH_NOT_FOR_US(true, "dropped: destination MAC is neither ours nor broadcast"),
    ETH_UNKNOWN_TYPE(true, "dropped: EtherType not handled (not IPv4/ARP)"),
    ARP_IN_REQUEST("ARP requests received"),
    ARP_IN_REPLY("ARP replies received"),
    ARP_OUT_REQUEST("ARP requests sent"),
    ARP_OUT_REPLY("ARP replies sent"),
    ARP_TRUNCATED(true, "dropped: ARP packet shorter than 28 bytes"),
    ARP_BAD_FORMAT(true, "dropped: ARP hardware/protocol type or lengths not Ethernet/IPv4"),
    ARP_BAD_OPCODE(true, "dropped: ARP opcode neither request nor reply"),
    ARP_BAD_SENDER(true, "dropped: ARP sender address is invalid (broadcast/multicast/zero MAC)"),
    ARP_NOT_FOR_US(true, "ignored: ARP request for another address"),
    ARP_UPDATE_OUT("ARP cache updates sent to other cores"),
    ARP_UPDATE_IN("ARP cache updates applied from other cores"),
    ARP_QUEUE_FULL(true, "dropped: queue of frames waiting for ARP resolution is full"),
    ARP_UNRESOLVED(true, "dropped: ARP resolution failed (no reply after retries)"),
    ARP_CACHE_FULL(true, "dropped: ARP cache full of unresolved entries"),
    IP_IN("IPv4 datagrams received"),
    IP_TRUNCATED(true, "dropped: shorter than an IPv4 header"),
    IP_BAD_VERSION(true, "dropped: IP version is not 4"),
    IP_BAD_IHL(true, "dropped: IHL below 5 or beyond the frame"),
    IP_BAD_LENGTH(true, "dropped: total length below the header length or beyond the frame"),
    IP_BAD_CHECKSUM(true, "dropped: IPv4 header checksum mismatch"),
    IP_BAD_SOURCE(true, "dropped: source is broadcast, multicast, loopback or zero"),
    IP_NOT_FOR_US(true, "dropped: destination is not one of our addresses"),
    IP_UNKNOWN_PROTOCOL(true, "dropped: protocol not handled (protocol unreachable sent)"),
    IP_OUT("IPv4 datagrams sent"),
    IP_NO_ROUTE(true, "dropped: no route to the destination"),
    IP_FRAGMENTS_OUT("fragments created for datagrams above the MTU"),
    IP_CANT_FRAGMENT(true, "dropped: datagram above the MTU with DF set"),
    FRAG_IN("fragments received"),
    FRAG_REASSEMBLED("datagrams reassembled"),
    FRAG_TIMEOUT(true, "dropped: reassembly timed out"),
    FRAG_OVERLAP(true, "dropped: overlapping fragments (whole datagram dropped)"),
    FRAG_DUPLICATE(true, "dropped: exact duplicate fragment"),
    FRAG_TOO_BIG(true, "dropped: fragment would end beyond 65535 bytes"),
    FRAG_BAD_LENGTH(true, "dropped: non-final fragment not a multiple of 8 bytes, or empty"),
    FRAG_TOO_MANY(true, "dropped: too many fragments in one datagram"),
    FRAG_NO_MEMORY(true, "dropped: reassembly memory or slots exhausted (oldest evicted)"),
    FRAG_FLOW_LIMIT(true, "dropped: too many datagrams under reassembly for one source"),
    ICMP_IN("ICMP messages received"),
    ICMP_TRUNCATED(true, "dropped: ICMP message shorter than 8 bytes"),
    ICMP_BAD_CHECKSUM(true, "dropped: ICMP checksum mismatch"),
    ICMP_IN_ECHO("ICMP echo requests received"),
    ICMP_IN_ECHO_REPLY("ICMP echo replies received"),
    ICMP_IN_ERROR("ICMP errors received"),
    ICMP_IN_OTHER("ICMP messages of other types received"),
    ICMP_ERROR_IGNORED("ICMP errors not passed on: source quench or redirect (RFC 6633), or not about a datagram of ours"),
    ICMP_ECHO_BROADCAST(true, "ignored: echo request to a broadcast address (RFC 1122 3.2.2.6)"),
    ICMP_OUT_ECHO_REPLY("ICMP echo replies sent"),
    ICMP_OUT_UNREACH("ICMP destination unreachable sent"),
    ICMP_RATE_LIMITED(true, "ICMP errors not sent: rate limit"),
    ICMP_ERROR_SUPPRESSED("ICMP errors not sent: RFC 1122 3.2.2 forbids (broadcast, fragment, error)"),
    UDP_IN("UDP datagrams received"),
    UDP_TRUNCATED(true, "dropped: shorter than a UDP header"),
    UDP_BAD_LENGTH(true, "dropped: UDP length field disagrees with the IP payload"),
    UDP_BAD_CHECKSUM(true, "dropped: UDP checksum mismatch"),
    UDP_NO_PORT(true, "dropped: no socket on the destination port (port unreachable sent)"),
    UDP_RCVBUF_FULL(true, "dropped: socket receive buffer full"),
    UDP_OUT("UDP datagrams sent"),
    UDP_SEND_FAILED(true, "dropped: UDP send failed (no route or too large)"),
    UDP_ICMP_ERRORS("ICMP errors passed to a UDP socket (RFC 1122 4.1.3.3)"),
    APP_RING_FULL(true, "dropped: application-to-core ring full"),
    TCP_IN("TCP segments received"),
    TCP_OUT("TCP segments sent"),
    TCP_TRUNCATED(true, "dropped: shorter than a TCP header"),
    TCP_BAD_OFFSET(true, "dropped: TCP data offset below 5 or beyond the segment"),
    TCP_BAD_CHECKSUM(true, "dropped: TCP checksum mismatch"),
    TCP_BROADCAST(true, "dropped: TCP to a broadcast address"),
    TCP_NO_SOCKET(true, "dropped: no connection or listener (RST sent)"),
    TCP_RST_OUT("TCP resets sent"),
    TCP_RST_IN("TCP resets received that closed a connection"),
    TCP_ACTIVE_OPENS("TCP connections opened by us (connect)"),
    TCP_PASSIVE_OPENS("TCP connections accepted"),
    TCP_CLOSED("TCP connections ended (closed, reset, timed out, TIME_WAIT over) after being counted opened"),
    TCP_ESTABLISHED_RESETS("TCP connections reset by the peer"),
    TCP_TIMEOUTS("TCP connections dropped after too many retransmissions"),
    TCP_RETRANSMITS("TCP segments retransmitted"),
    TCP_FAST_RETRANSMITS("TCP fast retransmits (RFC 5681 3.2)"),
    TCP_SPURIOUS_RETRANSMITS("TCP retransmission episodes proved spurious by timestamps and undone (RFC 3522)"),
    TCP_LOSS_PROBES("TCP tail loss probes sent (RFC 8985 7)"),
    TCP_LOST_RETRANSMITS("TCP retransmissions found lost during recovery and sent again"),
    TCP_RTO("TCP retransmission timeouts"),
    TCP_DUP_ACKS("TCP duplicate ACKs received"),
    TCP_LIMITED_TRANSMITS("TCP new segments sent on the first two duplicate ACKs (RFC 3042)"),
    TCP_OOO_SEGMENTS("TCP out-of-order segments queued"),
    TCP_OOO_DROPPED(true, "dropped: out-of-order segment with no room in the reassembly list"),
    TCP_OUT_OF_WINDOW(true, "dropped: segment outside the receive window (answered with an ACK; bare ACKs at most every 500 ms)"),
    TCP_OOW_ACK_LIMITED("replies to unacceptable bare ACKs not sent (one per 500 ms per connection: no ACK loops)"),
    TCP_PAWS_DROP(true, "dropped: old timestamp (PAWS, RFC 7323 5)"),
    TCP_CHALLENGE_ACKS("TCP challenge ACKs sent (RFC 5961)"),
    TCP_CHALLENGE_ACK_LIMITED("TCP challenge ACKs suppressed by the rate limit"),
    TCP_BAD_ACK(true, "dropped: ACK for data never sent or too old (RFC 5961 5.2)"),
    TCP_SYN_COOKIES_SENT("TCP SYN cookies sent (half-open queue full)"),
    TCP_SYN_COOKIES_OK("TCP connections established from a valid SYN cookie"),
    TCP_SYN_COOKIES_BAD(true, "dropped: ACK with an invalid SYN cookie"),
    TCP_LISTEN_OVERFLOW(true, "dropped: SYN or connection refused, listen/accept queue full"),
    TCP_TOO_MANY_CONNECTIONS(true, "refused: per-stack connection limit reached"),
    TCP_TIME_WAIT_REUSE("TCP TIME_WAIT connections reused by a new SYN"),
    TCP_KEEPALIVE_PROBES("TCP keepalive probes sent"),
    TCP_KEEPALIVE_TIMEOUTS("TCP connections dropped: keepalive probes unanswered"),
    TCP_ABORT_ON_DATA("TCP connections reset: data arrived after the application closed"),
    TCP_HANDLER_ERRORS(true, "TCP connections aborted: a callback handler threw"),
    TCP_MEMORY_LIMIT(true, "refused: per-stack TCP buffer memory budget reached"),
    TCP_PERSIST_PROBES("TCP zero-window probes sent"),
    TCP_ICMP_ERRORS("ICMP errors accepted for a TCP connection (RFC 1122 4.2.3.9, RFC 5927)"),
    TCP_ICMP_IGNORED(true, "ignored: ICMP error for no connection or quoting data not in flight (RFC 5927 5.1)"),
    TCP_ICMP_ABORTS("TCP connection attempts ended by ICMP protocol/port unreachable (RFC 1122 4.2.3.9)"),
    TCP_PMTU_UPDATES("TCP send MSS lowered by ICMP fragmentation needed (RFC 1191)"),
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

    /** {@code true} for counters that count frames the stack discarded. */
    public boolean isDrop() {
        return drop;
    }

    public String description() {
        return description;
    }

    /** Lower-case name used in output, e.g. {@code ip_bad_checksum}. */
    public String key() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
