package io.flowstack.core.tcp;

import io.flowstack.core.wire.Bytes;
import io.flowstack.core.wire.Tcp;
import java.lang.foreign.MemorySegment;

/**
 * The options of one received segment, parsed into a reusable holder (no allocation).
 * Malformed options end parsing (RFC 9293 3.2: "must be prepared to handle an illegal option
 * length ... without crashing"; the segment is still processed with what was parsed).
 *
 * <p>Owned by: one netisr thread (one instance per core).
 */
public final class TcpOptions {
    public static final int MAX_SACK_BLOCKS = 4;
    public int mss; // 0 if absent
    public int wscale = -1; // -1 if absent
    public boolean sackPermitted;
    public boolean hasTimestamp;
    public int tsVal;
    public int tsEcr;
    public int sackCount;
    public final int[] sackLeft = new int[MAX_SACK_BLOCKS];
    public final int[] sackRight = new int[MAX_SACK_BLOCKS];

    public void parse(MemorySegment s, long tcp, int headerLength) {
        mss = 0;
        wscale = -1;
        sackPermitted = false;
        hasTimestamp = false;
        sackCount = 0;
        long p = tcp + Tcp.MIN_HEADER;
        long end = tcp + headerLength;
        while (p < end) {
            int kind = Bytes.u8(s, p);
            if (kind == Tcp.OPT_EOL) {
                return;
            }
            if (kind == Tcp.OPT_NOP) {
                p++;
                continue;
            }
            if (p + 1 >= end) {
                return;
            }
            int len = Bytes.u8(s, p + 1);
            if (len < 2 || p + len > end) {
                return;
            }
            switch (kind) {
                case Tcp.OPT_MSS -> {
                    if (len == 4) {
                        mss = Bytes.u16(s, p + 2);
                    }
                }
                case Tcp.OPT_WSCALE -> {
                    if (len == 3) {
                        wscale = Math.min(14, Bytes.u8(s, p + 2)); // RFC 7323 2.3: clamp to 14
                    }
                }
                case Tcp.OPT_SACK_PERMITTED -> sackPermitted = len == 2;
                case Tcp.OPT_TIMESTAMP -> {
                    if (len == 10) {
                        hasTimestamp = true;
                        tsVal = Bytes.i32(s, p + 2);
                        tsEcr = Bytes.i32(s, p + 6);
                    }
                }
                case Tcp.OPT_SACK -> {
                    int blocks = (len - 2) / 8;
                    for (int i = 0; i < blocks && sackCount < MAX_SACK_BLOCKS; i++) {
                        sackLeft[sackCount] = Bytes.i32(s, p + 2 + 8L * i);
                        sackRight[sackCount] = Bytes.i32(s, p + 6 + 8L * i);
                        sackCount++;
                    }
                }
                default -> { }
            }
            p += len;
        }
    }
}
