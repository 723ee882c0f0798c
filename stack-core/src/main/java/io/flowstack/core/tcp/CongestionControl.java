package io.flowstack.core.tcp;

import io.flowstack.core.config.CongestionControls;

/**
 * A congestion control algorithm's hooks (RFC 5681 framework). The TCP engine does loss
 * detection and recovery (fast retransmit, NewReno partial ACKs, RTO); the algorithm decides
 * cwnd growth and the reduction on loss.
 *
 * <p>Owned by: the netisr that owns the connection (one instance per connection).
 */
interface CongestionControl {
    /** New data acknowledged outside recovery: grow cwnd. */
    void onAck(Tcb t, int ackedBytes, long nowNanos);

    /** Loss detected by duplicate ACKs: return the new ssthresh (cwnd is set by the engine). */
    int onFastRetransmit(Tcb t, long nowNanos);

    /** Retransmission timeout: return the new ssthresh (cwnd becomes one segment). */
    int onRto(Tcb t, long nowNanos);

    String name();

    static CongestionControl of(String name) {
        return switch (CongestionControls.canonical(name)) {
            case CongestionControls.NEWRENO -> new NewReno();
            default -> new Cubic();
        };
    }
}
