package io.flowstack.core.tcp;

/**
 * A token bucket for the RSTs a core sends in reply to segments that find no connection (a
 * closed port, RFC 9293 3.10.7.1, or a bare ACK to a listener, 3.10.7.2), as FreeBSD's
 * badport_bandlim limits them (BANDLIM_RST_CLOSEDPORT / _OPENPORT, 200 per second): a scan or a
 * flood of spoofed segments draws a bounded stream of RSTs, so the stack is neither an
 * amplifier nor a fast oracle of which ports are closed (RFC 5961 10 asks the same of ACKs).
 * RSTs of a connection (its own errors) are not limited.
 *
 * <p>Owned by: its netisr thread (through {@link TcpInput}); time is passed in.
 */
final class ResetLimit {
    /** FreeBSD's net.inet.icmp.icmplim, which bounds its RSTs to closed ports: 200 per second. */
    static final int PER_SECOND = 200;
    /** How many may go back to back after a quiet spell (Linux's icmp_msgs_burst: 50). */
    static final int BURST = 50;
    private final long nanosPerToken;
    private final long depthNanos;
    /** The time the bucket's tokens are counted from: full when {@code now - depthNanos} or earlier. */
    private long emptyAt = Long.MIN_VALUE / 2;

    /**
     * @param perSecond tokens added per second (at least 1)
     * @param burst the bucket's depth (at least 1)
     */
    ResetLimit(int perSecond, int burst) {
        this.nanosPerToken = 1_000_000_000L / Math.max(1, perSecond);
        this.depthNanos = nanosPerToken * Math.max(1, burst);
    }

    /** Takes a token at {@code now} (nanoseconds): false if the bucket is empty. */
    boolean take(long now) {
        long start = Math.max(emptyAt, now - depthNanos); // tokens beyond the depth are not kept
        if (now - start < nanosPerToken) {
            return false;
        }
        emptyAt = start + nanosPerToken;
        return true;
    }
}
