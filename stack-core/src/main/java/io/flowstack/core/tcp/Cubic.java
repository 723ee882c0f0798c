package io.flowstack.core.tcp;

/**
 * CUBIC (RFC 9438): window growth as a cubic function of the time since the last congestion
 * event, with the Reno-friendly region (section 4.3) and fast convergence (section 4.7).
 * beta = 0.7, C = 0.4, windows in segments, time in seconds.
 *
 * <p>Owned by: the netisr that owns the connection.
 */
final class Cubic implements CongestionControl {
    static final double BETA = 0.7; // RFC 9438 4.6
    static final double C = 0.4; // RFC 9438 5
    static final double ALPHA = 3 * (1 - BETA) / (1 + BETA); // RFC 9438 4.3

    private double wMax; // segments
    private double wLastMax;
    private double k; // seconds
    private long epochStart; // nanos, 0 = no epoch
    private double wEst; // Reno-friendly estimate, segments
    private double cwndAtEpoch;

    @Override
    public void onAck(Tcb t, int acked, long now) {
        double mss = t.mss;
        if (t.cwnd < t.ssthresh) {
            t.cwnd += Math.min(acked, 2 * t.mss); // slow start as Reno (RFC 9438 4.10)
            return;
        }
        double cwnd = t.cwnd / mss;
        if (epochStart == 0) {
            epochStart = now;
            cwndAtEpoch = cwnd;
            if (wMax < cwnd) {
                k = 0;
                wMax = cwnd;
            } else {
                k = Math.cbrt(wMax * (1 - BETA) / C); // RFC 9438 (2)
            }
            wEst = cwnd;
        }
        double rtt = t.srtt > 0 ? t.srtt / 1e9 : 0.1;
        double elapsed = (now - epochStart) / 1e9;
        double target = wCubic(elapsed + rtt); // RFC 9438 4.4: W_cubic(t + RTT)
        // Reno-friendly estimate (RFC 9438 (4)): grows by alpha segments per RTT.
        wEst += ALPHA * (acked / mss) / cwnd;
        if (wCubic(elapsed) < wEst) {
            cwnd = Math.max(cwnd, wEst); // Reno-friendly region
        } else if (target > cwnd) {
            cwnd += (target - cwnd) / cwnd * (acked / mss); // concave/convex regions (4.4, 4.5)
        } else {
            cwnd += 0.01 * (acked / mss) / cwnd;
        }
        t.cwnd = (int) Math.max(t.mss * 2, Math.min(cwnd * mss, Integer.MAX_VALUE / 2));
    }

    private double wCubic(double tSec) {
        double d = tSec - k;
        return C * d * d * d + wMax; // RFC 9438 (1)
    }

    private int reduce(Tcb t) {
        double cwnd = t.cwnd / (double) t.mss;
        // RFC 9438 4.7 fast convergence
        if (cwnd < wLastMax) {
            wLastMax = cwnd;
            wMax = cwnd * (1 + BETA) / 2;
        } else {
            wLastMax = cwnd;
            wMax = cwnd;
        }
        epochStart = 0;
        return (int) Math.max(2.0 * t.mss, t.cwnd * BETA); // RFC 9438 4.6
    }

    @Override
    public int onFastRetransmit(Tcb t, long now) {
        return reduce(t);
    }

    @Override
    public int onRto(Tcb t, long now) {
        int ss = reduce(t);
        wEst = 0;
        return ss;
    }

    @Override
    public String name() {
        return "cubic";
    }
}
