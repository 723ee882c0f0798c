package io.flowstack.core.tcp;

import io.flowstack.core.percore.CoreContext;
import io.flowstack.core.stats.Stat;
import io.flowstack.core.wire.Ipv4;
import io.flowstack.core.wire.Tcp;
import io.flowstack.core.wire.TcpOptionWriter;
import java.lang.foreign.MemorySegment;

/**
 * SYN cookies (RFC 4987 3.6): when a listener's SYN queue is full, the SYN-ACK's sequence number
 * encodes a 5-bit counter (64 s), an MSS index and a 24-bit MAC, so no state is kept until the
 * ACK returns ({@link TcpOpen} completes it).
 *
 * <p>Owned by: its netisr thread (through {@link TcpLayer}).
 */
final class SynCookies extends TcpPart {
    private final Isn isn;
    /** How long after its last cookie a listener takes cookie ACKs: the two counter periods a cookie is valid for. */
    static final long VALID_NANOS = 128_000_000_000L;
    /** The MSS values a cookie can carry (a 3-bit index). */
    static final int[] COOKIE_MSS = {536, 1200, 1440, 1460, 8960, 1220, 1380, 1400};

    SynCookies(TcpLayer tcp) {
        super(tcp);
        this.isn = tcp.isn;
    }

    int cookieCounter() {
        return (int) (n.now() / 64_000_000_000L); // 64 s
    }

    /**
     * The cookie's MAC over the 4-tuple (the local address {@code local} included), the peer's
     * ISN, the counter and the MSS index: a cookie whose index was changed does not verify (the
     * index travels in clear bits of the sequence number).
     */
    int cookieHash(int src, int local, int sport, int dport, int peerIsn, int counter, int mssIndex) {
        return (int) isn.hash(src, local, ((long) sport << 16) | dport,
                ((long) peerIsn << 32) ^ ((long) counter << 3) ^ mssIndex) & 0xFFFFFF;
    }

    /** Answers the SYN from {@code src:sport} to {@code local:dport} with a cookie SYN-ACK from {@code local}. */
    void sendCookie(MemorySegment s, long th, int local, int src, int sport, int dport, int seq) {
        int peerMss = tcp.opts.mss > 0 ? tcp.opts.mss : TcpOpen.DEFAULT_MSS;
        int idx = 0;
        for (int i = 0; i < COOKIE_MSS.length; i++) {
            if (COOKIE_MSS[i] <= Math.min(peerMss, tcp.open.mtuMss()) && COOKIE_MSS[i] >= COOKIE_MSS[idx]) {
                idx = i;
            }
        }
        int counter = cookieCounter();
        int cookie = ((counter & 0x1F) << 27) | (idx << 24) | cookieHash(src, local, sport, dport, seq, counter, idx);
        n.counters().inc(Stat.TCP_SYN_COOKIES_SENT);
        // SYN-ACK carrying only MSS: the cookie cannot remember window scale, SACK or timestamps.
        MemorySegment tx = n.txBuffer();
        long t = CoreContext.TX_IP + Ipv4.MIN_HEADER;
        int len = Tcp.MIN_HEADER + TcpOptionWriter.MSS_LENGTH;
        Tcp.write(tx, t, dport, sport, cookie, seq + 1, len, Tcp.SYN | Tcp.ACK, 65535);
        TcpOptionWriter.mss(tx, t + Tcp.MIN_HEADER, COOKIE_MSS[idx]);
        Tcp.finishChecksum(tx, t, len, local, src);
        n.counters().inc(Stat.TCP_OUT);
        n.ipSend(tx, CoreContext.TX_IP, len, Ipv4.PROTO_TCP, local, src, true);
    }
}
