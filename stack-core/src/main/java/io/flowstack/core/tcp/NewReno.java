package io.flowstack.core.tcp;

/**
 * Reno window growth (RFC 5681 section 3.1) with NewReno recovery in the engine (RFC 6582).
 *
 * <p>Owned by: the netisr that owns the connection.
 */
final class NewReno implements CongestionControl {
    private int bytesAcked; // for congestion avoidance by appropriate byte counting (RFC 3465)

    @Override
    public void onAck(Tcb t, int acked, long now) {
        if (t.cwnd < t.ssthresh) {
            // RFC 5681 (2): slow start, cwnd += min(N, SMSS); RFC 3465 allows L = 2*SMSS.
            t.cwnd += Math.min(acked, 2 * t.mss);
        } else {
            // RFC 5681 3.1: congestion avoidance, about one SMSS per RTT (byte counting).
            bytesAcked += acked;
            if (bytesAcked >= t.cwnd) {
                bytesAcked -= t.cwnd;
                t.cwnd += t.mss;
            }
        }
    }

    @Override
    public int onFastRetransmit(Tcb t, long now) {
        bytesAcked = 0;
        return Math.max(t.inFlight() / 2, 2 * t.mss); // RFC 5681 (4)
    }

    @Override
    public int onRto(Tcb t, long now) {
        bytesAcked = 0;
        return Math.max(t.inFlight() / 2, 2 * t.mss); // RFC 5681 (4)
    }

    @Override
    public String name() {
        return "newreno";
    }
}
