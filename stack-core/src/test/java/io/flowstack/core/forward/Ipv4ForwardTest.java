package io.flowstack.core.forward;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.testing.Packets;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link Ipv4Forward#decrementTtl} against a full recomputation of the header checksum (by the
 * test's own 16-bit sum, {@link Packets#checksum}) over random headers and over every checksum
 * value, including RFC 1624's corner cases; {@link Ipv4Forward#completeChecksum} for TCP and UDP
 * against the full checksum.
 */
class Ipv4ForwardTest {
    private static final int TTL = 8;
    private static final int CHECKSUM = 10;

    /** A random IPv4 header of {@code hl} bytes with a correct checksum (TTL {@code ttl}). */
    static byte[] header(SplittableRandom r, int hl, int ttl) {
        byte[] h = new byte[hl];
        for (int i = 0; i < hl; i++) {
            h[i] = (byte) r.nextInt();
        }
        h[0] = (byte) (0x40 | hl / 4);
        h[TTL] = (byte) ttl;
        setChecksum(h, fullChecksum(h));
        return h;
    }

    /** The header checksum a full recomputation gives (RFC 791 3.1), independent of the code under test. */
    static int fullChecksum(byte[] h) {
        byte[] c = h.clone();
        c[CHECKSUM] = 0;
        c[CHECKSUM + 1] = 0;
        return Packets.checksum(c, 0, c.length, 0);
    }

    static void setChecksum(byte[] h, int c) {
        h[CHECKSUM] = (byte) (c >>> 8);
        h[CHECKSUM + 1] = (byte) c;
    }

    static int storedChecksum(byte[] h) {
        return ((h[CHECKSUM] & 0xFF) << 8) | (h[CHECKSUM + 1] & 0xFF);
    }

    /** Runs decrementTtl on {@code h} in off-heap memory; returns the header after. */
    static byte[] decrement(MemorySegment s, byte[] h, int expectTtl) {
        MemorySegment.copy(h, 0, s, ValueLayout.JAVA_BYTE, 3, h.length); // an odd offset
        assertEquals(expectTtl, Ipv4Forward.decrementTtl(s, 3));
        byte[] after = new byte[h.length];
        MemorySegment.copy(s, ValueLayout.JAVA_BYTE, 3, after, 0, h.length);
        return after;
    }

    /** The header with TTL one less and the checksum fully recomputed. */
    static byte[] expected(byte[] h) {
        byte[] e = h.clone();
        e[TTL]--;
        setChecksum(e, fullChecksum(e));
        return e;
    }

    @Test
    void equalsAFullRecomputationForRandomHeadersWithAndWithoutOptions() {
        SplittableRandom r = new SplittableRandom(1624);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(64);
            for (int i = 0; i < 200_000; i++) {
                int hl = 20 + 4 * r.nextInt(11);
                int ttl = 1 + r.nextInt(255);
                byte[] h = header(r, hl, ttl);
                byte[] after = decrement(s, h, ttl - 1);
                assertArrayEquals(expected(h), after, () -> "header " + java.util.HexFormat.of().formatHex(h));
                assertEquals(0, Packets.checksum(after, 0, hl, 0), "verifies");
            }
        }
    }

    @Test
    void everyChecksumValueAndEveryTtl() {
        // Sweeping the 16-bit ID through all 65,536 values walks the stored checksum through all
        // values a full computation gives, so both sides of every wrap are covered.
        SplittableRandom r = new SplittableRandom(3);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(64);
            for (int ttl : new int[] {1, 2, 64, 128, 255}) {
                byte[] h = header(r, 20, ttl);
                boolean sawZero = false;
                for (int id = 0; id <= 0xFFFF; id++) {
                    h[4] = (byte) (id >>> 8);
                    h[5] = (byte) id;
                    setChecksum(h, fullChecksum(h));
                    byte[] e = expected(h);
                    sawZero |= storedChecksum(e) == 0;
                    assertArrayEquals(e, decrement(s, h, ttl - 1), "TTL " + ttl + " ID " + id);
                }
                assertTrue(sawZero, "the sweep reaches a result of 0x0000");
            }
            for (int ttl = 1; ttl <= 255; ttl++) {
                for (int proto = 0; proto < 256; proto += 17) {
                    byte[] h = header(r, 24, ttl);
                    h[9] = (byte) proto;
                    setChecksum(h, fullChecksum(h));
                    assertArrayEquals(expected(h), decrement(s, h, ttl - 1));
                }
            }
        }
    }

    /** Sets the ID so that the header's words (checksum excluded) sum to 0xFFFF: its checksum is 0x0000. */
    static void sumToAllOnes(byte[] h) {
        h[4] = 0;
        h[5] = 0;
        int folded = 0xFFFF - fullChecksum(h); // fold of the sum without the ID, 1..0xFFFF
        int id = 0xFFFF - folded;
        h[4] = (byte) (id >>> 8);
        h[5] = (byte) id;
        assertEquals(0, fullChecksum(h));
        setChecksum(h, 0);
    }

    @Test
    void rfc1624CornerCases() {
        SplittableRandom r = new SplittableRandom(1141);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(64);
            for (int i = 0; i < 1000; i++) {
                int hl = 20 + 4 * r.nextInt(11);
                int ttl = 2 + r.nextInt(254);
                // RFC 1624 section 3: the new checksum is 0x0000 (equation 2 would give 0xFFFF)
                byte[] h = header(r, hl, ttl - 1);
                sumToAllOnes(h);
                h[TTL] = (byte) ttl;
                setChecksum(h, fullChecksum(h));
                byte[] after = decrement(s, h, ttl - 1);
                assertEquals(0x0000, storedChecksum(after), "a result of +0 stays 0x0000");
                assertArrayEquals(expected(h), after);

                // the old checksum is 0x0000
                byte[] z = header(r, hl, ttl);
                sumToAllOnes(z);
                assertEquals(0x0000, storedChecksum(z));
                assertArrayEquals(expected(z), decrement(s, z, ttl - 1));

                // RFC 1624 section 4: the old checksum is 0xFFFF (-0, valid for that header, never computed)
                byte[] m = z.clone();
                setChecksum(m, 0xFFFF);
                assertEquals(0, Packets.checksum(m, 0, hl, 0), "0xFFFF verifies as well");
                byte[] after2 = decrement(s, m, ttl - 1);
                assertArrayEquals(expected(z), after2, "same result as a full recomputation");
            }
        }
    }

    @Test
    void ttlZeroIsLeftAloneAndOneGoesToZero() {
        SplittableRandom r = new SplittableRandom(7);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(64);
            byte[] h = header(r, 20, 0);
            assertArrayEquals(h, decrement(s, h, -1), "unchanged");
            byte[] one = header(r, 20, 1);
            byte[] after = decrement(s, one, 0);
            assertEquals(0, after[TTL]);
            assertArrayEquals(expected(one), after);
        }
    }

    /** A frame with a TCP or UDP datagram whose checksum field holds the pseudo-header sum only. */
    private record Partial(byte[] frame, byte[] complete, int csumStart, int csumOffset) {}

    private static Partial partial(SplittableRandom r, boolean udp) {
        int src = Packets.ip("198.18.0.1");
        int dst = Packets.ip("198.19.7.9");
        byte[] data = new byte[r.nextInt(3000)];
        r.nextBytes(data);
        byte[] l4 = udp ? Packets.udp(src, dst, 1000 + r.nextInt(60000), 53, data)
                : Packets.tcp(src, dst, 40000, 80, r.nextInt(), r.nextInt(), Packets.ACK | Packets.PSH, 512,
                        new byte[] {1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2}, data);
        byte[] ip = Packets.ipv4(src, dst, udp ? 17 : 6, r.nextInt(0x10000), 0, l4);
        byte[] frame = Packets.ethernet(0x02_00_00_00_00_01L, 0x02_00_00_00_00_02L, Packets.ETH_IPV4, ip);
        int csumStart = 14 + 20;
        int csumOffset = udp ? 6 : 16;
        byte[] complete = frame.clone();
        // NEEDS_CSUM: the field holds the folded pseudo-header sum, not inverted (virtio 5.1.6.2)
        long pseudo = (src >>> 16) + (src & 0xFFFF) + (dst >>> 16) + (dst & 0xFFFF) + (udp ? 17 : 6) + l4.length;
        int folded = ~Packets.checksum(new byte[0], 0, 0, pseudo) & 0xFFFF;
        frame[csumStart + csumOffset] = (byte) (folded >>> 8);
        frame[csumStart + csumOffset + 1] = (byte) folded;
        return new Partial(frame, complete, csumStart, csumOffset);
    }

    @Test
    void completesPartialTcpAndUdpChecksumsAsAFullComputation() {
        SplittableRandom r = new SplittableRandom(512);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(4000);
            for (int i = 0; i < 4000; i++) {
                boolean udp = (i & 1) != 0;
                Partial p = partial(r, udp);
                MemorySegment.copy(p.frame(), 0, s, ValueLayout.JAVA_BYTE, 1, p.frame().length);
                assertTrue(Ipv4Forward.completeChecksum(s, 1, p.frame().length, p.csumStart(), p.csumOffset()));
                byte[] after = new byte[p.frame().length];
                MemorySegment.copy(s, ValueLayout.JAVA_BYTE, 1, after, 0, after.length);
                int field = p.csumStart() + p.csumOffset();
                int full = ((p.complete()[field] & 0xFF) << 8) | (p.complete()[field + 1] & 0xFF);
                int got = ((after[field] & 0xFF) << 8) | (after[field + 1] & 0xFF);
                assertEquals(full == 0 ? 0xFFFF : full, got, "the full checksum (a zero sent as 0xFFFF)");
                after[field] = p.complete()[field];
                after[field + 1] = p.complete()[field + 1];
                assertArrayEquals(p.complete(), after, "nothing else changed");
            }
        }
    }

    @Test
    void aComputedZeroIsStoredAsAllOnes() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(16);
            // words 0x0000 (the field) and 0xFFFF: the sum is 0xFFFF, its complement 0x0000
            s.set(ValueLayout.JAVA_BYTE, 2, (byte) 0xFF);
            s.set(ValueLayout.JAVA_BYTE, 3, (byte) 0xFF);
            assertTrue(Ipv4Forward.completeChecksum(s, 0, 4, 0, 0));
            assertEquals((byte) 0xFF, s.get(ValueLayout.JAVA_BYTE, 0));
            assertEquals((byte) 0xFF, s.get(ValueLayout.JAVA_BYTE, 1));
        }
    }

    @Test
    void offsetsOutsideTheFrameAreRefusedAndChangeNothing() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(100);
            s.fill((byte) 0x5A);
            assertFalse(Ipv4Forward.completeChecksum(s, 0, 60, 40, 19), "field's second byte past the end");
            assertFalse(Ipv4Forward.completeChecksum(s, 0, 60, 61, 0));
            assertFalse(Ipv4Forward.completeChecksum(s, 0, 60, -1, 0));
            assertFalse(Ipv4Forward.completeChecksum(s, 0, 60, 0, -2));
            assertFalse(Ipv4Forward.completeChecksum(s, 0, 60, Integer.MAX_VALUE, Integer.MAX_VALUE));
            for (int i = 0; i < 100; i++) {
                assertEquals((byte) 0x5A, s.get(ValueLayout.JAVA_BYTE, i));
            }
            assertTrue(Ipv4Forward.completeChecksum(s, 0, 60, 40, 18), "the last possible field");
        }
    }

    @Test
    void allocatesNothingPerCall() {
        SplittableRandom r = new SplittableRandom(11);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(4000);
            byte[] h = header(r, 24, 255);
            Partial p = partial(r, false);
            MemorySegment.copy(p.frame(), 0, s, ValueLayout.JAVA_BYTE, 100, p.frame().length);
            int len = p.frame().length;
            long[] sink = new long[1];
            long allocated = Allocations.perBatch(() -> {
                for (int i = 0; i < Allocations.CALLS; i++) {
                    if ((i & 0xFF) == 0) {
                        MemorySegment.copy(h, 0, s, ValueLayout.JAVA_BYTE, 0, h.length);
                    }
                    sink[0] += Ipv4Forward.decrementTtl(s, 0);
                    sink[0] += Ipv4Forward.completeChecksum(s, 100, len, p.csumStart(), p.csumOffset()) ? 1 : 0;
                }
            });
            assertEquals(0, allocated, "100,000 TTL decrements and checksum completions allocate nothing");
            assertTrue(sink[0] > 0);
        }
    }
}
