package io.flowstack.core.wire;

import java.lang.foreign.MemorySegment;

/**
 * The options of one received segment, parsed into a reusable holder (no allocation).
 * Malformed options end parsing (RFC 9293 3.2: "must be prepared to handle an illegal option
 * length ... without crashing"; the segment is still processed with what was parsed).
 *
 * <p>{@link TcpOptionWriter} writes what this parses.
 *
 * <p>Owned by: one netisr thread (one instance per core).
 */
public final class TcpOptions {
    public static final int MAX_SACK_BLOCKS = 4;
    public int mss; // 0 if absent
    public int wscale = -1; // -1 if absent
    /** The window scale option asked for more than 14 and {@link #wscale} is 14 (RFC 7323 2.3). */
    public boolean wscaleClamped;
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
        wscaleClamped = false;
        sackPermitted = false;
        hasTimestamp = false;
        sackCount = 0;
        long p = tcp + Tcp.OPTIONS;
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
            int len = Bytes.u8(s, p + Tcp.OPT_LENGTH_AT);
            if (len < 2 || p + len > end) {
                return;
            }
            switch (kind) {
                case Tcp.OPT_MSS -> {
                    if (len == Tcp.OPT_MSS_LEN) {
                        mss = Bytes.u16(s, p + Tcp.OPT_VALUE_AT);
                    }
                }
                case Tcp.OPT_WSCALE -> {
                    if (len == Tcp.OPT_WSCALE_LEN) {
                        // RFC 7323 2.3: "SHOULD log the error but MUST use 14" (counted where it is used)
                        int shift = Bytes.u8(s, p + Tcp.OPT_VALUE_AT);
                        wscale = Math.min(Tcp.MAX_WSCALE, shift);
                        wscaleClamped = shift > Tcp.MAX_WSCALE;
                    }
                }
                case Tcp.OPT_SACK_PERMITTED -> sackPermitted = len == Tcp.OPT_SACK_PERMITTED_LEN;
                case Tcp.OPT_TIMESTAMP -> {
                    if (len == Tcp.OPT_TIMESTAMP_LEN) {
                        hasTimestamp = true;
                        tsVal = Bytes.i32(s, p + Tcp.OPT_TS_VAL_AT);
                        tsEcr = Bytes.i32(s, p + Tcp.OPT_TS_ECR_AT);
                    }
                }
                case Tcp.OPT_SACK -> {
                    int blocks = (len - Tcp.OPT_SACK_HEADER_LEN) / Tcp.SACK_BLOCK_LEN;
                    for (int i = 0; i < blocks && sackCount < MAX_SACK_BLOCKS; i++) {
                        long b = p + Tcp.OPT_SACK_HEADER_LEN + (long) Tcp.SACK_BLOCK_LEN * i;
                        sackLeft[sackCount] = Bytes.i32(s, b);
                        sackRight[sackCount] = Bytes.i32(s, b + 4);
                        sackCount++;
                    }
                }
                default -> { }
            }
            p += len;
        }
    }
}
