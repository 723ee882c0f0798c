package io.flowstack.core.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link TcpOptionWriter} against the option bytes {@code TcpLayer} writes by hand today (its
 * code transcribed below, {@code legacy*}), for every combination it can write, and parsed back
 * with {@link TcpOptions}.
 */
class TcpOptionWriterTest {
    private static final long TH = 34; // a TCP header after Ethernet and IPv4, as in the tx buffer
    private static final long OPT = TH + Tcp.MIN_HEADER;
    private static final int SIZE = 256;
    private static final int TS_VAL = 0x11223344;
    private static final int TS_ECR = 0x55667788;

    private final Arena arena = Arena.ofConfined();
    private final MemorySegment written = arena.allocate(SIZE);
    private final MemorySegment legacy = arena.allocate(SIZE);
    private final TcpOptions parsed = new TcpOptions();

    @AfterEach
    void close() {
        arena.close();
    }

    private void clear() {
        written.fill((byte) 0xA5); // bytes past the options must be left alone by both
        legacy.fill((byte) 0xA5);
    }

    private static byte[] bytes(MemorySegment s) {
        return s.toArray(ValueLayout.JAVA_BYTE);
    }

    private static byte[] options(MemorySegment s, int len) {
        return s.asSlice(OPT, len).toArray(ValueLayout.JAVA_BYTE);
    }

    private static byte[] b(int... v) {
        byte[] r = new byte[v.length];
        for (int i = 0; i < v.length; i++) {
            r[i] = (byte) v[i];
        }
        return r;
    }

    // ------------------------------------------------------------------ SYN

    @Test
    void synOptionsAreLinuxs() {
        clear();
        long end = TcpOptionWriter.syn(written, OPT, 1460, true, true, TS_VAL, 0, true, 7);
        assertEquals(20, end - OPT);
        assertArrayEquals(b(2, 4, 0x05, 0xB4, 4, 2, 8, 10, 0x11, 0x22, 0x33, 0x44, 0, 0, 0, 0, 1, 3, 3, 7),
                options(written, 20), "MSS, SACK-permitted, TS, NOP, WS");
    }

    @Test
    void everySynCombinationIsWhatSendSynWrites() {
        for (int mask = 0; mask < 8; mask++) {
            boolean sack = (mask & 1) != 0;
            boolean ts = (mask & 2) != 0;
            boolean ws = (mask & 4) != 0;
            for (boolean synAck : new boolean[] {false, true}) {
                int ecr = synAck ? TS_ECR : 0;
                clear();
                long end = TcpOptionWriter.syn(written, OPT, 1448, sack, ts, TS_VAL, ecr, ws, 9);
                int o = legacySyn(legacy, TH, 1448, sack, ts, ws, TS_VAL, ecr, 9);
                String what = "sack " + sack + ", ts " + ts + ", ws " + ws + ", synAck " + synAck;
                assertEquals(o - Tcp.MIN_HEADER, end - OPT, what);
                assertEquals(o - Tcp.MIN_HEADER, TcpOptionWriter.synLength(sack, ts, ws), what);
                assertEquals(0, (end - OPT) % 4, "padded to 32-bit words: " + what);
                assertArrayEquals(bytes(legacy), bytes(written), what);

                parsed.parse(written, TH, o);
                assertEquals(1448, parsed.mss, what);
                assertEquals(sack, parsed.sackPermitted, what);
                assertEquals(ts, parsed.hasTimestamp, what);
                if (ts) {
                    assertEquals(TS_VAL, parsed.tsVal, what);
                    assertEquals(ecr, parsed.tsEcr, what);
                }
                assertEquals(ws ? 9 : -1, parsed.wscale, what);
                assertEquals(0, parsed.sackCount, what);
            }
        }
    }

    @Test
    void synCookieCarriesOnlyTheMss() {
        clear();
        long end = TcpOptionWriter.mss(written, OPT, 536);
        // TcpLayer.sendCookie: kind, length, MSS at t + 20..23, header length 24
        Bytes.u8(legacy, TH + 20, Tcp.OPT_MSS);
        Bytes.u8(legacy, TH + 21, 4);
        Bytes.u16(legacy, TH + 22, 536);
        assertEquals(24 - Tcp.MIN_HEADER, end - OPT);
        assertArrayEquals(bytes(legacy), bytes(written));
        parsed.parse(written, TH, 24);
        assertEquals(536, parsed.mss);
        assertEquals(-1, parsed.wscale);
        assertFalse(parsed.sackPermitted);
        assertFalse(parsed.hasTimestamp);
    }

    @Test
    void windowScaleAboveFourteenParsesAsFourteen() {
        clear();
        long end = TcpOptionWriter.windowScale(written, OPT, 15);
        assertArrayEquals(b(1, 3, 3, 15), options(written, 4));
        parsed.parse(written, TH, (int) (end - TH));
        assertEquals(Tcp.MAX_WSCALE, parsed.wscale, "RFC 7323 2.3");
    }

    // ------------------------------------------------------------------ data and ACK segments

    @Test
    void timestampsAreNopNopTs() {
        clear();
        long end = TcpOptionWriter.timestamps(written, OPT, TS_VAL, TS_ECR);
        assertEquals(12, end - OPT);
        assertArrayEquals(b(1, 1, 8, 10, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88), options(written, 12));
    }

    @Test
    void everyDataSegmentsOptionsAreWhatSendDataWrites() {
        int[] left = new int[8];
        int[] right = new int[8];
        for (boolean ts : new boolean[] {false, true}) {
            for (int count = 0; count <= 6; count++) {
                for (int i = 0; i < count; i++) {
                    left[i] = 1000 + 100 * i;
                    right[i] = left[i] + 50;
                }
                // the recent range is each of the ranges in turn, or none of them (merged since)
                for (int recent = 0; recent <= Math.max(count, 0); recent++) {
                    int recentLeft = recent < count ? left[recent] : 7;
                    int recentRight = recent < count ? right[recent] : 9;
                    boolean sack = count > 0;
                    String what = "ts " + ts + ", " + count + " ranges, recent " + recent;
                    clear();
                    long p = OPT;
                    if (ts) {
                        p = TcpOptionWriter.timestamps(written, p, TS_VAL, TS_ECR);
                    }
                    if (sack) {
                        p = TcpOptionWriter.sackRecentFirst(written, p, recentLeft, recentRight, left, right, count,
                                TcpOptionWriter.maxSackBlocks(ts));
                    }
                    int o = legacyData(legacy, TH, ts, sack, TS_VAL, TS_ECR, recentLeft, recentRight, left, right,
                            count);
                    assertEquals(o - Tcp.MIN_HEADER, p - OPT, what);
                    assertEquals(0, (p - OPT) % 4, "padded to 32-bit words: " + what);
                    assertArrayEquals(bytes(legacy), bytes(written), what);
                    int blocks = sack ? Math.min(TcpOptionWriter.maxSackBlocks(ts), count) : 0;
                    assertEquals(legacyOptionBytes(ts, sack, count), TcpOptionWriter.dataLength(ts, blocks), what);
                    assertTrue(TcpOptionWriter.dataLength(ts, blocks) <= TcpOptionWriter.MAX_LENGTH, what);

                    parsed.parse(written, TH, o);
                    assertEquals(ts, parsed.hasTimestamp, what);
                    if (ts) {
                        assertEquals(TS_VAL, parsed.tsVal, what);
                        assertEquals(TS_ECR, parsed.tsEcr, what);
                    }
                    int sent = (int) (p - OPT) - (ts ? 12 : 0);
                    int sentBlocks = sack ? (sent - 4) / 8 : 0;
                    assertEquals(sentBlocks, parsed.sackCount, what);
                    if (sack) {
                        assertEquals(recentLeft, parsed.sackLeft[0], "the most recent block first: " + what);
                        assertEquals(recentRight, parsed.sackRight[0], what);
                        for (int k = 1, i = 0; k < sentBlocks; i++) {
                            if (left[i] == recentLeft) {
                                continue;
                            }
                            assertEquals(left[i], parsed.sackLeft[k], what);
                            assertEquals(right[i], parsed.sackRight[k], what);
                            k++;
                        }
                    }
                    assertEquals(0, parsed.mss, what);
                    assertEquals(-1, parsed.wscale, what);
                }
            }
        }
    }

    @Test
    void sackBlocksInTheOrderGiven() {
        int[] left = {10, 30, 50, 70};
        int[] right = {20, 40, 60, 80};
        for (int count = 1; count <= 4; count++) {
            clear();
            long end = TcpOptionWriter.sack(written, OPT, left, right, count);
            assertEquals(TcpOptionWriter.sackLength(count), end - OPT);
            assertEquals(4 + 8 * count, end - OPT);
            byte[] o = options(written, 4);
            assertArrayEquals(b(1, 1, 5, 2 + 8 * count), o);
            parsed.parse(written, TH, (int) (end - TH));
            assertEquals(count, parsed.sackCount);
            for (int i = 0; i < count; i++) {
                assertEquals(left[i], parsed.sackLeft[i]);
                assertEquals(right[i], parsed.sackRight[i]);
            }
        }
    }

    @Test
    void sackPermittedAloneAndBesideTimestamps() {
        clear();
        long end = TcpOptionWriter.sackPermitted(written, OPT);
        assertArrayEquals(b(1, 1, 4, 2), options(written, 4));
        end = TcpOptionWriter.sackPermittedTimestamps(written, end, TS_VAL, TS_ECR);
        assertEquals(16, end - OPT);
        assertArrayEquals(b(1, 1, 4, 2, 4, 2, 8, 10, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88),
                options(written, 16));
        parsed.parse(written, TH, (int) (end - TH));
        assertTrue(parsed.sackPermitted);
        assertTrue(parsed.hasTimestamp);
        assertEquals(TS_ECR, parsed.tsEcr);
    }

    @Test
    void fullestOptionsFitTheHeader() {
        assertEquals(4 + 32, TcpOptionWriter.dataLength(false, TcpOptionWriter.maxSackBlocks(false)));
        assertEquals(12 + 28, TcpOptionWriter.dataLength(true, TcpOptionWriter.maxSackBlocks(true)));
        assertEquals(20, TcpOptionWriter.synLength(true, true, true));
        assertEquals(0, TcpOptionWriter.dataLength(false, 0));
    }

    // ------------------------------------------------------------------ TcpLayer's code, transcribed

    /**
     * The option part of {@code TcpLayer.sendSyn} as it is written today ({@code sack}, {@code ts},
     * {@code ws}: the options it decided to send); returns the header length {@code o}.
     */
    private static int legacySyn(MemorySegment tx, long th, int mss, boolean sack, boolean ts, boolean ws,
                                 int tsNow, int tsEcr, int rcvWscale) {
        int o = 20;
        Bytes.u8(tx, th + o, Tcp.OPT_MSS);
        Bytes.u8(tx, th + o + 1, 4);
        Bytes.u16(tx, th + o + 2, mss);
        o += 4;
        if (sack && ts) {
            Bytes.u8(tx, th + o, Tcp.OPT_SACK_PERMITTED);
            Bytes.u8(tx, th + o + 1, 2);
            o += 2;
        } else if (sack) {
            Bytes.u8(tx, th + o, Tcp.OPT_NOP);
            Bytes.u8(tx, th + o + 1, Tcp.OPT_NOP);
            Bytes.u8(tx, th + o + 2, Tcp.OPT_SACK_PERMITTED);
            Bytes.u8(tx, th + o + 3, 2);
            o += 4;
        }
        if (ts) {
            if (!sack) {
                Bytes.u8(tx, th + o, Tcp.OPT_NOP);
                Bytes.u8(tx, th + o + 1, Tcp.OPT_NOP);
                o += 2;
            }
            Bytes.u8(tx, th + o, Tcp.OPT_TIMESTAMP);
            Bytes.u8(tx, th + o + 1, 10);
            Bytes.i32(tx, th + o + 2, tsNow);
            Bytes.i32(tx, th + o + 6, tsEcr);
            o += 10;
        }
        if (ws) {
            Bytes.u8(tx, th + o, Tcp.OPT_NOP);
            Bytes.u8(tx, th + o + 1, Tcp.OPT_WSCALE);
            Bytes.u8(tx, th + o + 2, 3);
            Bytes.u8(tx, th + o + 3, rcvWscale);
            o += 4;
        }
        return o;
    }

    /** {@code TcpLayer.optionBytes}. */
    private static int legacyOptionBytes(boolean tsOk, boolean sackOk, int oooCount) {
        int o = tsOk ? 12 : 0;
        if (sackOk && oooCount > 0) {
            o += 4 + 8 * Math.min(tsOk ? 3 : 4, oooCount);
        }
        return o;
    }

    /**
     * The option part of {@code TcpLayer.sendData} ({@code t.ooo} as {@code lastLeft},
     * {@code lastRight}, {@code left}, {@code right}, {@code count}); returns {@code o}.
     */
    private static int legacyData(MemorySegment tx, long th, boolean tsOk, boolean sackOk, int tsNow, int tsRecent,
                                  int lastLeft, int lastRight, int[] left, int[] right, int count) {
        int o = 20;
        if (tsOk) {
            Bytes.u8(tx, th + o, Tcp.OPT_NOP);
            Bytes.u8(tx, th + o + 1, Tcp.OPT_NOP);
            Bytes.u8(tx, th + o + 2, Tcp.OPT_TIMESTAMP);
            Bytes.u8(tx, th + o + 3, 10);
            Bytes.i32(tx, th + o + 4, tsNow);
            Bytes.i32(tx, th + o + 8, tsRecent);
            o += 12;
        }
        if (sackOk && count > 0) {
            int max = tsOk ? 3 : 4;
            int blocks = Math.min(max, count + 0);
            Bytes.u8(tx, th + o, Tcp.OPT_NOP);
            Bytes.u8(tx, th + o + 1, Tcp.OPT_NOP);
            Bytes.u8(tx, th + o + 2, Tcp.OPT_SACK);
            Bytes.u8(tx, th + o + 3, 2 + 8 * blocks);
            long b = th + o + 4;
            Bytes.i32(tx, b, lastLeft);
            Bytes.i32(tx, b + 4, lastRight);
            int written = 1;
            for (int i = 0; i < count && written < blocks; i++) {
                if (left[i] == lastLeft) {
                    continue;
                }
                Bytes.i32(tx, b + 8L * written, left[i]);
                Bytes.i32(tx, b + 8L * written + 4, right[i]);
                written++;
            }
            if (written < blocks) {
                Bytes.u8(tx, th + o + 3, 2 + 8 * written);
                blocks = written;
            }
            o += 4 + 8 * blocks;
        }
        return o;
    }
}
