package io.flowstack.core.forward;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.testing.Packets;
import io.flowstack.core.testing.Tso;
import java.io.ByteArrayOutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link SoftGso}: super-frames of random sizes and segment sizes cut into segments whose IPv4
 * and TCP checksums verify (by the test's own sums), whose payloads concatenate to the
 * original's, with sequence numbers, IDs and flags as Linux's tcp_gso_segment sets them; equal
 * byte for byte to the test NIC's independent segmentation ({@link Tso}) where the two apply.
 */
class SoftGsoTest {
    static final int SRC = Packets.ip("198.18.0.1");
    static final int DST = Packets.ip("198.19.0.1");
    static final int ETH = 14;
    static final int CWR = 0x80;
    static final int ECE = 0x40;

    /** A super-frame and where its parts are. */
    record Super(byte[] frame, int ihl, int thl) {
        int head() {
            return ETH + ihl + thl;
        }

        int payload() {
            return frame.length - head();
        }
    }

    static int u16(byte[] b, int o) {
        return ((b[o] & 0xFF) << 8) | (b[o + 1] & 0xFF);
    }

    static int i32(byte[] b, int o) {
        return (u16(b, o) << 16) | u16(b, o + 2);
    }

    static void put16(byte[] b, int o, int v) {
        b[o] = (byte) (v >>> 8);
        b[o + 1] = (byte) v;
    }

    static long pseudo(int tcpLen) {
        return (SRC >>> 16) + (SRC & 0xFFFF) + (DST >>> 16) + (DST & 0xFFFF) + 6 + tcpLen;
    }

    /**
     * A super-frame with {@code payload} octets, a complete TCP checksum, DF set or not, IPv4
     * options ({@code ipOpts}) and TCP options (timestamps) maybe.
     */
    static Super superFrame(SplittableRandom r, int payload, int tcpFlags, boolean df, int id, byte[] ipOpts) {
        byte[] data = new byte[payload];
        r.nextBytes(data);
        byte[] tcpOpts = r.nextBoolean() ? new byte[] {1, 1, 8, 10, 1, 2, 3, 4, 5, 6, 7, 8} : new byte[0];
        byte[] tcp = Packets.tcp(SRC, DST, 40000, 5001, r.nextInt(), r.nextInt(), tcpFlags, 501, tcpOpts, data);
        byte[] ip = Packets.ipv4WithOptions(SRC, DST, 6, id, ipOpts, tcp);
        if (df) {
            put16(ip, 6, 0x4000);
            put16(ip, 10, 0);
            put16(ip, 10, Packets.checksum(ip, 0, 20 + ipOpts.length, 0));
        }
        byte[] frame = Packets.ethernet(0x02_00_00_00_00_01L, 0x02_00_00_00_00_02L, Packets.ETH_IPV4, ip);
        return new Super(frame, 20 + ipOpts.length, 20 + tcpOpts.length);
    }

    /** The super-frame with its TCP checksum field holding only the pseudo-header sum (NEEDS_CSUM). */
    static byte[] partial(Super sf) {
        byte[] f = sf.frame().clone();
        int field = ETH + sf.ihl() + 16;
        put16(f, field, ~Packets.checksum(new byte[0], 0, 0, pseudo(f.length - ETH - sf.ihl())) & 0xFFFF);
        return f;
    }

    static List<byte[]> segment(Arena a, byte[] frame, int gsoSize, int flags, int expectResult) {
        MemorySegment in = a.allocate(frame.length + 5);
        MemorySegment.copy(frame, 0, in, ValueLayout.JAVA_BYTE, 5, frame.length);
        MemorySegment out = a.allocate(Math.min(frame.length, 200 + gsoSize) + 2);
        List<byte[]> segs = new ArrayList<>();
        int n = SoftGso.segment(in, 5, frame.length, gsoSize, flags, out, 2, (s, off, len) -> {
            assertEquals(2, off);
            byte[] b = new byte[len];
            MemorySegment.copy(s, ValueLayout.JAVA_BYTE, off, b, 0, len);
            segs.add(b);
        });
        if (expectResult != Integer.MIN_VALUE) {
            assertEquals(expectResult, n);
        }
        assertEquals(Math.max(0, n), segs.size(), "the count returned is the segments sunk");
        return segs;
    }

    /** Checks every segment of {@code sf} and that their payloads concatenate to the original's. */
    static void check(Super sf, List<byte[]> segs, int gsoSize, boolean fixedId) {
        byte[] o = sf.frame();
        int ip = ETH;
        int tcp = ETH + sf.ihl();
        int head = sf.head();
        assertEquals(Math.max(1, (sf.payload() + gsoSize - 1) / gsoSize), segs.size(), "segments");
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        int flags = o[tcp + 13] & 0xFF;
        for (int i = 0; i < segs.size(); i++) {
            byte[] s = segs.get(i);
            boolean last = i == segs.size() - 1;
            int len = s.length - head;
            if (!last) {
                assertEquals(gsoSize, len, "every segment but the last carries gso_size octets");
            }
            assertTrue(len <= gsoSize && (len > 0 || sf.payload() == 0));
            assertArrayEquals(Arrays.copyOfRange(o, 0, ETH), Arrays.copyOfRange(s, 0, ETH), "Ethernet header copied");
            assertEquals(s.length - ETH, u16(s, ip + 2), "IPv4 total length");
            assertEquals(fixedId ? u16(o, ip + 4) : (u16(o, ip + 4) + i) & 0xFFFF, u16(s, ip + 4), "IPv4 ID");
            assertEquals(0, Packets.checksum(s, ip, sf.ihl(), 0), "IPv4 header checksum");
            for (int k = 0; k < sf.ihl(); k++) {
                if (k != 2 && k != 3 && k != 4 && k != 5 && k != 10 && k != 11) {
                    assertEquals(o[ip + k], s[ip + k], "IPv4 header octet " + k + " copied");
                }
            }
            assertEquals(i32(o, tcp + 4) + data.size(), i32(s, tcp + 4), "sequence number advances");
            int want = flags;
            if (i > 0) {
                want &= ~CWR;
            }
            if (!last) {
                want &= ~(Packets.FIN | Packets.PSH);
            }
            assertEquals(want, s[tcp + 13] & 0xFF, "TCP flags of segment " + i);
            assertEquals(0, Packets.checksum(s, tcp, s.length - tcp, pseudo(s.length - tcp)), "TCP checksum");
            for (int k = 0; k < sf.thl(); k++) {
                if (k < 4 || k > 7 && k != 13 && k != 16 && k != 17) {
                    assertEquals(o[tcp + k], s[tcp + k], "TCP header octet " + k + " copied");
                }
            }
            data.write(s, head, len);
        }
        assertArrayEquals(Arrays.copyOfRange(o, head, o.length), data.toByteArray(), "the payload, in order");
    }

    @Test
    void randomSuperFramesAndSegmentSizesGiveValidSegmentsCarryingThePayload() {
        SplittableRandom r = new SplittableRandom(9293);
        try (Arena a = Arena.ofConfined()) {
            for (int i = 0; i < 400; i++) {
                byte[] ipOpts = i % 4 == 3 ? new byte[] {(byte) 130, 11, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0} : new byte[0];
                int max = 65535 - 20 - ipOpts.length - 32;
                int payload = i < 20 ? i : (i % 5 == 0 ? max - r.nextInt(50) : r.nextInt(max + 1));
                int mss = i % 7 == 0 ? 1 + r.nextInt(64) * (1 + r.nextInt(20)) : 536 + r.nextInt(9000 - 536);
                if (payload / mss > 4000) {
                    mss = payload / 4000 + 1; // bounds the test's run time, not the code's
                }
                int flags = Packets.ACK | (r.nextBoolean() ? Packets.PSH : 0) | (r.nextInt(4) == 0 ? Packets.FIN : 0)
                        | (r.nextInt(4) == 0 ? CWR | ECE : 0);
                boolean df = r.nextBoolean();
                int id = i % 3 == 0 ? 0xFFFF - r.nextInt(3) : r.nextInt(0x10000); // IDs that wrap
                Super sf = superFrame(r, payload, flags, df, id, ipOpts);
                boolean partial = r.nextBoolean();
                byte[] in = partial ? partial(sf) : sf.frame();
                List<byte[]> segs = segment(a, in, mss, partial ? SoftGso.CSUM_PARTIAL : 0, Integer.MIN_VALUE);
                check(sf, segs, mss, false);
            }
        }
    }

    @Test
    void cwrOnlyOnTheFirstFinAndPshOnlyOnTheLast() {
        SplittableRandom r = new SplittableRandom(3168);
        try (Arena a = Arena.ofConfined()) {
            Super sf = superFrame(r, 10 * 1448 + 100, Packets.ACK | Packets.PSH | Packets.FIN | CWR | ECE, false, 7, new byte[0]);
            List<byte[]> segs = segment(a, partial(sf), 1448, SoftGso.CSUM_PARTIAL, 11);
            int tcp = ETH + sf.ihl() + 13;
            assertEquals(Packets.ACK | Packets.PSH | Packets.FIN | ECE, segs.get(10)[tcp] & 0xFF, "last: FIN, PSH, no CWR");
            assertEquals(Packets.ACK | CWR | ECE, segs.get(0)[tcp] & 0xFF, "first: CWR, no FIN or PSH");
            for (int i = 1; i < 10; i++) {
                assertEquals(Packets.ACK | ECE, segs.get(i)[tcp] & 0xFF, "middle: ACK and ECE only");
            }
            check(sf, segs, 1448, false);
        }
    }

    @Test
    void equalsTheTestNicsSegmentation() {
        SplittableRandom r = new SplittableRandom(4);
        try (Arena a = Arena.ofConfined()) {
            for (int i = 0; i < 100; i++) {
                Super sf = superFrame(r, r.nextInt(65000), Packets.ACK | Packets.PSH, true, r.nextInt(0x10000), new byte[0]);
                int mss = 500 + r.nextInt(8000);
                List<byte[]> ours = segment(a, partial(sf), mss, SoftGso.CSUM_PARTIAL, Integer.MIN_VALUE);
                List<byte[]> theirs = Tso.segment(sf.frame(), sf.head(), mss);
                if (sf.payload() == 0) {
                    assertEquals(1, ours.size());
                    continue;
                }
                assertEquals(theirs.size(), ours.size());
                for (int k = 0; k < ours.size(); k++) {
                    assertArrayEquals(theirs.get(k), ours.get(k), "segment " + k);
                }
            }
        }
    }

    @Test
    void segmentsAboveASmallerMtuAreFragmentedFromTheSink() {
        // DF clear, segments of 1448 + 40 octets towards an MTU of 576: the sink hands each
        // segment to the Fragmenter with a third buffer, as ip_finish_output_gso does
        SplittableRandom r = new SplittableRandom(1191);
        try (Arena a = Arena.ofConfined()) {
            Super sf = superFrame(r, 5 * 1448 + 7, Packets.ACK | Packets.PSH, false, 99, new byte[0]);
            byte[] f = partial(sf);
            MemorySegment in = a.allocate(f.length);
            MemorySegment.copy(f, 0, in, ValueLayout.JAVA_BYTE, 0, f.length);
            MemorySegment segBuf = a.allocate(2048);
            MemorySegment fragBuf = a.allocate(ETH + 576);
            List<List<byte[]>> fragsPerSegment = new ArrayList<>();
            int n = SoftGso.segment(in, 0, f.length, 1448, SoftGso.CSUM_PARTIAL, segBuf, 0, (s, off, len) -> {
                List<byte[]> frags = new ArrayList<>();
                int k = Fragmenter.fragment(s, off + ETH, len - ETH, 576, fragBuf, 0, (fs, foff, flen) -> {
                    byte[] d = new byte[flen - ETH];
                    MemorySegment.copy(fs, ValueLayout.JAVA_BYTE, foff + ETH, d, 0, d.length);
                    frags.add(d);
                });
                if (k == Fragmenter.FITS) {
                    byte[] d = new byte[len - ETH]; // the last, short segment fits as it is
                    MemorySegment.copy(s, ValueLayout.JAVA_BYTE, off + ETH, d, 0, d.length);
                    frags.add(d);
                } else {
                    assertEquals(frags.size(), k);
                    assertTrue(k > 1);
                }
                fragsPerSegment.add(frags);
            });
            assertEquals(6, n);
            List<byte[]> reassembled = new ArrayList<>();
            for (List<byte[]> frags : fragsPerSegment) {
                byte[] d = FragmenterTest.reassembleAll(frags);
                reassembled.add(Arrays.copyOf(new byte[ETH], ETH + d.length));
                System.arraycopy(sf.frame(), 0, reassembled.getLast(), 0, ETH);
                System.arraycopy(d, 0, reassembled.getLast(), ETH, d.length);
            }
            check(sf, reassembled, 1448, false);
        }
    }

    @Test
    void fixedIdKeepsTheIdOnlyWithDontFragment() {
        SplittableRandom r = new SplittableRandom(6864);
        try (Arena a = Arena.ofConfined()) {
            Super df = superFrame(r, 5000, Packets.ACK, true, 1234, new byte[0]);
            List<byte[]> segs = segment(a, partial(df), 1000, SoftGso.CSUM_PARTIAL | SoftGso.FIXED_ID, 5);
            check(df, segs, 1000, true);
            Super noDf = superFrame(r, 5000, Packets.ACK, false, 1234, new byte[0]);
            assertEquals(List.of(), segment(a, partial(noDf), 1000, SoftGso.CSUM_PARTIAL | SoftGso.FIXED_ID, SoftGso.MALFORMED),
                    "a non-atomic datagram must not repeat its ID (RFC 6864 4.1)");
        }
    }

    @Test
    void aCorruptCompleteChecksumIsRefusedAndAPartialOneRecomputed() {
        SplittableRandom r = new SplittableRandom(1122);
        try (Arena a = Arena.ofConfined()) {
            Super sf = superFrame(r, 9000, Packets.ACK, true, 1, new byte[0]);
            byte[] corrupt = sf.frame().clone();
            corrupt[corrupt.length - 100] ^= 0x10;
            assertEquals(List.of(), segment(a, corrupt, 1448, 0, SoftGso.BAD_CHECKSUM), "not laundered");
            // a partial field holding a sum over a different length (as some senders leave it)
            byte[] odd = sf.frame().clone();
            put16(odd, ETH + sf.ihl() + 16, ~Packets.checksum(new byte[0], 0, 0, pseudo(0)) & 0xFFFF);
            check(sf, segment(a, odd, 1448, SoftGso.CSUM_PARTIAL, 7), 1448, false);
        }
    }

    @Test
    void malformedSuperFramesAreRefusedWithoutWriting() {
        SplittableRandom r = new SplittableRandom(13);
        try (Arena a = Arena.ofConfined()) {
            Super sf = superFrame(r, 3000, Packets.ACK, true, 1, new byte[0]);
            byte[] f = partial(sf);
            int ip = ETH;
            int tcp = ETH + sf.ihl();
            byte[] udp = f.clone();
            udp[ip + 9] = 17;
            byte[] fragment = f.clone();
            put16(fragment, ip + 6, 0x2000);
            byte[] shortThl = f.clone();
            shortThl[tcp + 12] = 0x40;
            byte[] tiny = f.clone();
            put16(tiny, ip + 2, 40);
            tiny[tcp + 12] = (byte) 0xF0; // a 60-octet TCP header in a 40-octet datagram
            byte[] truncated = Arrays.copyOf(f, f.length - 1);
            byte[] arp = f.clone();
            put16(arp, 12, 0x0806);
            byte[] v6 = f.clone();
            v6[ip] = 0x65;
            for (byte[] bad : List.of(udp, fragment, shortThl, tiny, truncated, arp, v6)) {
                assertEquals(List.of(), segment(a, bad, 1000, SoftGso.CSUM_PARTIAL, SoftGso.MALFORMED));
            }
            assertEquals(List.of(), segment(a, f, 0, SoftGso.CSUM_PARTIAL, SoftGso.MALFORMED), "gso_size 0");
            MemorySegment in = a.allocate(f.length);
            MemorySegment.copy(f, 0, in, ValueLayout.JAVA_BYTE, 0, f.length);
            assertThrows(IllegalArgumentException.class,
                    () -> SoftGso.segment(in, 0, f.length, 1000, SoftGso.CSUM_PARTIAL, a.allocate(1000), 0, (s, o, l) -> { }),
                    "a buffer below one segment");
        }
    }

    @Test
    void allocatesNothingPerCall() {
        SplittableRandom r = new SplittableRandom(64);
        try (Arena a = Arena.ofConfined()) {
            Super sf = superFrame(r, 4 * 1448, Packets.ACK | Packets.PSH, true, 1, new byte[0]);
            byte[] f = sf.frame();
            MemorySegment in = a.allocate(f.length);
            MemorySegment.copy(f, 0, in, ValueLayout.JAVA_BYTE, 0, f.length);
            MemorySegment out = a.allocate(2048);
            long[] sunk = new long[1];
            FragmentSink sink = (s, off, len) -> sunk[0] += len;
            long allocated = Allocations.perBatch(() -> {
                for (int i = 0; i < Allocations.CALLS; i++) {
                    SoftGso.segment(in, 0, f.length, 1448, (i & 1) == 0 ? SoftGso.CSUM_PARTIAL : 0, out, 0, sink);
                }
            });
            assertEquals(0, allocated, "100,000 super-frames cut allocate nothing");
            assertTrue(sunk[0] > 10L * Allocations.CALLS * 4 * 1448, "every run cut every super-frame");
        }
    }
}
