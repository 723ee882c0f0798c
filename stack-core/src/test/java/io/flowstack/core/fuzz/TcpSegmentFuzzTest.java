package io.flowstack.core.fuzz;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.flowstack.core.testing.Packets;
import io.flowstack.core.testing.StackHarness;
import io.flowstack.core.wire.TcpOptions;
import io.flowstack.nic.FrameBatch;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.stream.Stream;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The TCP header and its options (RFC 9293 3.1-3.2, RFC 7323, RFC 2018): fuzzed segments in
 * correct IPv4 datagrams to a listener (port 80) or a closed port, and each header's options
 * parsed alone by {@link TcpOptions#parse} from off-heap memory.
 *
 * <p>Input: up to 8 segments of a control byte (bit 0: fix the checksum, bit 1: the NIC vouches
 * for it, bit 2: destination port 80) and a length-prefixed segment (header, options, data; at
 * most 1,480 bytes). Invariants: those of {@link FuzzStack}; the parser reads nothing past the
 * header (the same result whatever follows it) and agrees with {@link #reference}, an
 * independent reading of RFC 9293 3.2 (an option that does not fit, or a length below 2, ends
 * the list; an option of the wrong length is skipped; window scale above 14 is 14, RFC 7323 2.3).
 */
class TcpSegmentFuzzTest {

    static Stream<Arguments> segments() {
        byte[] opts = new byte[] {2, 4, 5, (byte) 0xB4, 1, 3, 3, 7, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 1, 5, 10,
            0, 0, 0, 1, 0, 0, 0, 2};
        byte[] syn = Packets.tcp(StackHarness.PEER, StackHarness.US, 40000, 80, 1, 0, Packets.SYN, 65535, opts, new byte[0]);
        byte[] bad = Packets.tcp(StackHarness.PEER, StackHarness.US, 40001, 80, 1, 0, Packets.SYN, 65535,
                new byte[] {2, 0, 3, 1, 3, 15, 2, 4, 0, 1, 5, 40, 0, 0}, new byte[0]);
        byte[] ack = Packets.tcp(StackHarness.PEER, StackHarness.US, 40002, 81, 1, 1, Packets.ACK, 512, new byte[0],
                new byte[10]);
        return Stream.of(arguments((Object) new FuzzSeeds().u8(5).chunk(syn).u8(5).chunk(bad).u8(1).chunk(ack).build()));
    }

    @MethodSource("segments")
    @FuzzTest
    void segments(byte[] input) {
        FuzzStack.runTwice(b -> {}, s -> {
            s.h.stack.tcpListen(80, 4);
            FuzzInput in = new FuzzInput(input);
            for (int i = 0; i < 8 && in.more(); i++) {
                int ctl = in.u8();
                byte[] t = in.chunk(1480);
                if (t.length >= 20) {
                    if ((ctl & 4) != 0) {
                        t[2] = 0;
                        t[3] = 80;
                    }
                    checkOptions(t);
                    if ((ctl & 1) != 0) {
                        t[16] = 0;
                        t[17] = 0;
                        long pseudo = (StackHarness.PEER >>> 16) + (StackHarness.PEER & 0xFFFF) + (StackHarness.US >>> 16)
                                + (StackHarness.US & 0xFFFF) + 6 + t.length;
                        int c = Packets.checksum(t, 0, t.length, pseudo);
                        t[16] = (byte) (c >>> 8);
                        t[17] = (byte) c;
                    }
                }
                s.frame(s.ipFrame(Packets.ipv4(StackHarness.PEER, StackHarness.US, 6, s.nextIpId(), 0, t)),
                        (ctl & 2) != 0 ? FrameBatch.RX_CSUM_VALID : 0);
            }
        });
    }

    /** Parses {@code t}'s options (its data offset cut to its length) with 0x00 and 0xFF past the header; compares. */
    static void checkOptions(byte[] t) {
        int hl = Math.min(((t[12] & 0xFF) >>> 4) * 4, t.length);
        if (hl < 20) {
            return;
        }
        int[] ref = reference(t, hl);
        for (int fill : new int[] {0x00, 0xFF}) {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment m = a.allocate(hl + 64);
                m.fill((byte) fill);
                MemorySegment.copy(t, 0, m, ValueLayout.JAVA_BYTE, 0, hl);
                TcpOptions o = new TcpOptions();
                o.parse(m, 0, hl);
                int[] got = new int[ref.length];
                got[0] = o.mss;
                got[1] = o.wscale;
                got[2] = o.sackPermitted ? 1 : 0;
                got[3] = o.hasTimestamp ? 1 : 0;
                got[4] = o.hasTimestamp ? o.tsVal : 0;
                got[5] = o.hasTimestamp ? o.tsEcr : 0;
                got[6] = o.sackCount;
                for (int k = 0; k < o.sackCount; k++) {
                    got[7 + 2 * k] = o.sackLeft[k];
                    got[8 + 2 * k] = o.sackRight[k];
                }
                assertArrayEquals(ref, got, "options of a " + hl + "-byte header, " + fill + " past it");
                assertTrue(o.wscale >= -1 && o.wscale <= 14, "window scale within RFC 7323 2.3's bound");
                assertTrue(o.sackCount >= 0 && o.sackCount <= TcpOptions.MAX_SACK_BLOCKS);
            }
        }
        assertEquals(15, ref.length);
    }

    /**
     * RFC 9293 3.2 read independently: mss, wscale, sackPermitted, hasTimestamp, tsVal, tsEcr,
     * sackCount, then up to 4 SACK blocks (left, right).
     */
    static int[] reference(byte[] t, int hl) {
        int[] r = new int[15];
        r[1] = -1;
        int p = 20;
        while (p < hl) {
            int kind = t[p] & 0xFF;
            if (kind == 0) {
                break;
            }
            if (kind == 1) {
                p++;
                continue;
            }
            if (p + 1 >= hl) {
                break;
            }
            int len = t[p + 1] & 0xFF;
            if (len < 2 || p + len > hl) {
                break;
            }
            if (kind == 2 && len == 4) {
                r[0] = u16(t, p + 2);
            } else if (kind == 3 && len == 3) {
                r[1] = Math.min(14, t[p + 2] & 0xFF);
            } else if (kind == 4) {
                r[2] = len == 2 ? 1 : 0;
            } else if (kind == 8 && len == 10) {
                r[3] = 1;
                r[4] = i32(t, p + 2);
                r[5] = i32(t, p + 6);
            } else if (kind == 5) {
                for (int b = 0; b < (len - 2) / 8 && r[6] < 4; b++) {
                    r[7 + 2 * r[6]] = i32(t, p + 2 + 8 * b);
                    r[8 + 2 * r[6]] = i32(t, p + 6 + 8 * b);
                    r[6]++;
                }
            }
            p += len;
        }
        return r;
    }

    static int u16(byte[] b, int at) {
        return ((b[at] & 0xFF) << 8) | (b[at + 1] & 0xFF);
    }

    static int i32(byte[] b, int at) {
        return (u16(b, at) << 16) | u16(b, at + 2);
    }
}
