package io.flowstack.core.forward;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.testing.Packets;
import io.flowstack.core.wire.Ethernet;
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
 * {@link Fragmenter}: the fragments, reassembled by the test's own code, give back the datagram
 * byte for byte, for MTUs 576, 1280 and 1500 and datagrams of 577..65,535 octets, with and
 * without options, and for a datagram that is itself a fragment; each fragment obeys RFC 791
 * 3.1-3.2 (size, 8-octet multiples, MF, copied options only after the first, checksum).
 */
class FragmenterTest {
    static final int SRC = Packets.ip("198.18.0.1");
    static final int DST = Packets.ip("198.19.0.1");
    static final int[] MTUS = {576, 1280, 1500};

    // Options (RFC 791 3.1): type octet (copied flag 0x80), length octet, data.
    static final byte[] NOP = {1};
    static byte[] option(int type, int len, SplittableRandom r) {
        byte[] o = new byte[len];
        r.nextBytes(o);
        o[0] = (byte) type;
        o[1] = (byte) len;
        return o;
    }

    /** Random options, at most 40 octets with their padding: a mix of copied and not copied. */
    static byte[] options(SplittableRandom r) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int budget = 4 + r.nextInt(37);
        while (true) {
            byte[] o = switch (r.nextInt(7)) {
                case 0 -> NOP;
                case 1 -> option(7, 3 + 4 * (1 + r.nextInt(3)), r);      // record route, not copied
                case 2 -> option(68, 4 + 4 * r.nextInt(3), r);           // timestamp, not copied
                case 3 -> option(130, 11, r);                            // security, copied
                case 4 -> option(131, 3 + 4 * (1 + r.nextInt(2)), r);    // loose source route, copied
                case 5 -> option(136, 4, r);                             // stream id, copied
                default -> option(137, 7, r);                            // strict source route, copied
            };
            if (b.size() + o.length > budget) {
                break;
            }
            b.writeBytes(o);
        }
        if (r.nextBoolean() && b.size() < 40) {
            b.write(0); // End of Option List, then (maybe) junk that must not be read as options
        }
        byte[] opts = Arrays.copyOf(b.toByteArray(), (b.size() + 3) & ~3);
        if (opts.length > 40) {
            return Arrays.copyOf(opts, 0);
        }
        return opts;
    }

    /** The options a fragment after the first carries, computed here independently. */
    static byte[] copiedOptions(byte[] datagram) {
        int hl = (datagram[0] & 0xF) * 4;
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (int i = 20; i < hl; ) {
            int type = datagram[i] & 0xFF;
            if (type == 0) {
                break;
            }
            int len = type == 1 ? 1 : datagram[i + 1] & 0xFF;
            if ((type & 0x80) != 0) {
                b.write(datagram, i, len);
            }
            i += len;
        }
        return Arrays.copyOf(b.toByteArray(), (b.size() + 3) & ~3);
    }

    static byte[] datagram(SplittableRandom r, int total, byte[] opts, int fragWord) {
        byte[] payload = new byte[total - 20 - opts.length];
        r.nextBytes(payload);
        byte[] d = Packets.ipv4WithOptions(SRC, DST, 17, r.nextInt(0x10000), opts, payload);
        d[1] = (byte) r.nextInt(); // TOS
        d[8] = (byte) (1 + r.nextInt(255)); // TTL
        d[6] = (byte) (fragWord >>> 8);
        d[7] = (byte) fragWord;
        setHeaderChecksum(d);
        return d;
    }

    static int u16(byte[] b, int o) {
        return ((b[o] & 0xFF) << 8) | (b[o + 1] & 0xFF);
    }

    static void put16(byte[] b, int o, int v) {
        b[o] = (byte) (v >>> 8);
        b[o + 1] = (byte) v;
    }

    static void setHeaderChecksum(byte[] d) {
        int hl = (d[0] & 0xF) * 4;
        put16(d, 10, 0);
        put16(d, 10, Packets.checksum(d, 0, hl, 0));
    }

    /** Runs the fragmenter; returns each fragment datagram (without its link headroom). */
    static List<byte[]> fragment(Arena a, byte[] d, int mtu, int expectResult) {
        MemorySegment in = a.allocate(d.length + 7);
        MemorySegment.copy(d, 0, in, ValueLayout.JAVA_BYTE, 7, d.length);
        MemorySegment out = a.allocate(Ethernet.HEADER_LEN + mtu + 3);
        List<byte[]> frags = new ArrayList<>();
        int n = Fragmenter.fragment(in, 7, d.length, mtu, out, 3, (s, off, len) -> {
            assertEquals(out, s);
            assertEquals(3, off);
            byte[] f = new byte[len - Ethernet.HEADER_LEN];
            MemorySegment.copy(s, ValueLayout.JAVA_BYTE, off + Ethernet.HEADER_LEN, f, 0, f.length);
            frags.add(f);
        });
        if (expectResult != Integer.MIN_VALUE) {
            assertEquals(expectResult, n);
        }
        assertEquals(Math.max(0, n), frags.size(), "the count returned is the fragments sunk");
        return frags;
    }

    /**
     * Checks each fragment of {@code d} against RFC 791 and reassembles them (in the order
     * given), returning the datagram they make: the first one's header with the total length,
     * offset and MF the fragments say, and the data at the offsets they say.
     */
    static byte[] checkAndReassemble(byte[] d, List<byte[]> frags, int mtu) {
        int hl = (d[0] & 0xF) * 4;
        int word = u16(d, 6);
        int base = word & 0x1FFF;
        byte[] copiedHeader = copiedOptions(d);
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        for (int i = 0; i < frags.size(); i++) {
            byte[] f = frags.get(i);
            int fhl = (f[0] & 0xF) * 4;
            boolean last = i == frags.size() - 1;
            assertTrue(f.length <= mtu, "fragment within the MTU");
            assertEquals(f.length, u16(f, 2), "total length");
            assertEquals(0, Packets.checksum(f, 0, fhl, 0), "header checksum");
            assertEquals(0x40, f[0] & 0xF0, "version");
            int fw = u16(f, 6);
            assertEquals(0, fw & 0xC000, "DF and reserved clear");
            assertEquals(last ? (word & 0x2000) : 0x2000, fw & 0x2000, "MF on all but the true last");
            assertEquals(base + data.size() / 8, fw & 0x1FFF, "offset relative to the datagram's own");
            int dataLen = f.length - fhl;
            if (!last) {
                assertEquals(0, dataLen % 8, "a multiple of 8 octets but the last");
                assertTrue(fhl + dataLen + 8 > mtu, "as large as the MTU allows");
            }
            assertTrue(dataLen > 0);
            for (int k : new int[] {1, 4, 5, 8, 9, 12, 13, 14, 15, 16, 17, 18, 19}) {
                assertEquals(d[k], f[k], "header octet " + k + " copied");
            }
            if (i == 0) {
                assertEquals(hl, fhl, "the first fragment carries every option");
                assertArrayEquals(Arrays.copyOfRange(d, 20, hl), Arrays.copyOfRange(f, 20, fhl));
            } else {
                assertArrayEquals(copiedHeader, Arrays.copyOfRange(f, 20, fhl), "only copied options, padded");
            }
            data.write(f, fhl, dataLen);
        }
        byte[] first = frags.get(0);
        byte[] r = new byte[hl + data.size()];
        System.arraycopy(first, 0, r, 0, hl);
        System.arraycopy(data.toByteArray(), 0, r, hl, data.size());
        put16(r, 2, r.length);
        put16(r, 6, (u16(first, 6) & 0x1FFF) | (u16(frags.get(frags.size() - 1), 6) & 0x2000));
        setHeaderChecksum(r);
        return r;
    }

    @Test
    void reassemblesToTheOriginalForEveryMtuAndSizeWithAndWithoutOptions() {
        SplittableRandom r = new SplittableRandom(791);
        List<Integer> sizes = new ArrayList<>();
        for (int size = 577; size <= 3100; size++) {
            sizes.add(size);
        }
        for (int i = 0; i < 150; i++) {
            sizes.add(3101 + r.nextInt(65535 - 3100));
        }
        sizes.add(65535);
        sizes.add(65534);
        try (Arena a = Arena.ofConfined()) {
            for (int mtu : MTUS) {
                for (int size : sizes) {
                    for (boolean withOptions : new boolean[] {false, true}) {
                        byte[] d = datagram(r, size, withOptions ? options(r) : new byte[0], 0);
                        int expected = size <= mtu ? Fragmenter.FITS : Integer.MIN_VALUE;
                        List<byte[]> frags = fragment(a, d, mtu, expected);
                        if (size <= mtu) {
                            continue;
                        }
                        assertArrayEquals(d, checkAndReassemble(d, frags, mtu), () -> "MTU " + mtu + " size " + size);
                    }
                }
            }
        }
    }

    @Test
    void aFragmentFragmentedAgainReassemblesToTheOriginal() {
        SplittableRandom r = new SplittableRandom(1812);
        try (Arena a = Arena.ofConfined()) {
            for (int i = 0; i < 300; i++) {
                int size = 1501 + r.nextInt(65535 - 1500);
                byte[] d = datagram(r, size, i % 2 == 0 ? options(r) : new byte[0], 0);
                List<byte[]> firstPass = fragment(a, d, 1500, Integer.MIN_VALUE);
                assertArrayEquals(d, checkAndReassemble(d, firstPass, 1500));
                int mtu = i % 3 == 0 ? 68 : (i % 3 == 1 ? 576 : 1280);
                List<byte[]> all = new ArrayList<>();
                for (byte[] f : firstPass) {
                    List<byte[]> second = fragment(a, f, mtu, Integer.MIN_VALUE);
                    if (second.isEmpty()) {
                        all.add(f); // it fits the smaller MTU already
                        continue;
                    }
                    // each re-fragmented fragment reassembles to itself (offsets and MF kept)
                    assertArrayEquals(f, checkAndReassemble(f, second, mtu));
                    all.addAll(second);
                }
                // and the whole lot to the original, offsets relative to the original's start
                assertArrayEquals(d, reassembleAll(all), "MTU 1500 then " + mtu + ", size " + size);
            }
        }
    }

    /** Reassembles fragments of one datagram at the offsets they carry (no checks of their own). */
    static byte[] reassembleAll(List<byte[]> frags) {
        byte[] data = new byte[65536];
        int end = 0;
        byte[] first = null;
        boolean sawLast = false;
        for (byte[] f : frags) {
            int fhl = (f[0] & 0xF) * 4;
            int off = (u16(f, 6) & 0x1FFF) * 8;
            System.arraycopy(f, fhl, data, off, f.length - fhl);
            end = Math.max(end, off + f.length - fhl);
            if (off == 0) {
                first = f;
            }
            sawLast |= (u16(f, 6) & 0x2000) == 0;
        }
        assertTrue(sawLast && first != null);
        int hl = (first[0] & 0xF) * 4;
        byte[] r = new byte[hl + end];
        System.arraycopy(first, 0, r, 0, hl);
        System.arraycopy(data, 0, r, hl, end);
        put16(r, 2, r.length);
        put16(r, 6, 0);
        setHeaderChecksum(r);
        return r;
    }

    @Test
    void aMiddleFragmentKeepsMfOnItsLastPiece() {
        SplittableRandom r = new SplittableRandom(5);
        try (Arena a = Arena.ofConfined()) {
            byte[] d = datagram(r, 4000, new byte[0], 0x2000 | 185); // offset 1480, MF
            List<byte[]> frags = fragment(a, d, 576, 8);
            for (byte[] f : frags) {
                assertEquals(0x2000, u16(f, 6) & 0x2000, "MF on every piece of a middle fragment");
            }
            assertEquals(185, u16(frags.get(0), 6) & 0x1FFF);
            assertArrayEquals(d, checkAndReassemble(d, frags, 576));
        }
    }

    @Test
    void theSmallestMtuWithTheLargestHeader() {
        SplittableRandom r = new SplittableRandom(68);
        try (Arena a = Arena.ofConfined()) {
            byte[] opts = new byte[40];
            System.arraycopy(option(130, 11, r), 0, opts, 0, 11);         // copied
            System.arraycopy(option(7, 27, r), 0, opts, 11, 27);          // not copied
            opts[38] = 1;
            opts[39] = 0;
            byte[] d = datagram(r, 1000, opts, 0);
            List<byte[]> frags = fragment(a, d, 68, Integer.MIN_VALUE);
            assertEquals(8, frags.get(0).length - 60, "8 data octets after a 60-octet header");
            assertEquals(32, (frags.get(1)[0] & 0xF) * 4, "20 + 11 copied, padded to 32");
            assertArrayEquals(d, checkAndReassemble(d, frags, 68));
        }
    }

    @Test
    void dontFragmentFitsAndMalformedAreRefusedWithoutWriting() {
        SplittableRandom r = new SplittableRandom(9);
        try (Arena a = Arena.ofConfined()) {
            byte[] df = datagram(r, 2000, new byte[0], 0x4000);
            assertEquals(List.of(), fragment(a, df, 1500, Fragmenter.DONT_FRAGMENT));
            byte[] dfSmall = datagram(r, 1500, new byte[0], 0x4000);
            assertEquals(List.of(), fragment(a, dfSmall, 1500, Fragmenter.FITS));

            byte[] badOption = datagram(r, 2000, new byte[] {(byte) 130, 1, 0, 0}, 0); // length 1
            assertEquals(List.of(), fragment(a, badOption, 576, Fragmenter.MALFORMED));
            byte[] overrun = datagram(r, 2000, new byte[] {1, 1, (byte) 131, 9}, 0); // runs past the header
            assertEquals(List.of(), fragment(a, overrun, 576, Fragmenter.MALFORMED));
            byte[] noLength = datagram(r, 2000, new byte[] {1, 1, 1, (byte) 131}, 0); // no length octet
            assertEquals(List.of(), fragment(a, noLength, 576, Fragmenter.MALFORMED));

            byte[] beyond = datagram(r, 2000, new byte[0], 8000); // 64,000 + 1,980 > 65,535
            assertEquals(List.of(), fragment(a, beyond, 576, Fragmenter.MALFORMED));

            byte[] v6 = datagram(r, 2000, new byte[0], 0);
            v6[0] = 0x65;
            assertEquals(List.of(), fragment(a, v6, 576, Fragmenter.MALFORMED));
            byte[] shortIhl = datagram(r, 2000, new byte[0], 0);
            shortIhl[0] = 0x44;
            assertEquals(List.of(), fragment(a, shortIhl, 576, Fragmenter.MALFORMED));

            byte[] d = datagram(r, 2000, new byte[0], 0);
            MemorySegment in = a.allocate(d.length);
            MemorySegment.copy(d, 0, in, ValueLayout.JAVA_BYTE, 0, d.length);
            MemorySegment out = a.allocate(2000);
            FragmentSink none = (s, off, len) -> { throw new AssertionError("nothing sunk"); };
            assertEquals(Fragmenter.MALFORMED, Fragmenter.fragment(in, 0, 1999, 576, out, 0, none), "truncated");
            assertEquals(Fragmenter.MALFORMED, Fragmenter.fragment(in, 0, 19, 576, out, 0, none));
            assertThrows(IllegalArgumentException.class, () -> Fragmenter.fragment(in, 0, d.length, 67, out, 0, none));
            assertThrows(IllegalArgumentException.class,
                    () -> Fragmenter.fragment(in, 0, d.length, 1500, a.allocate(1500), 0, none), "buffer below MTU + 14");
        }
    }

    @Test
    void allocatesNothingPerCall() {
        SplittableRandom r = new SplittableRandom(21);
        try (Arena a = Arena.ofConfined()) {
            byte[] d = datagram(r, 1500, options(r), 0);
            MemorySegment in = a.allocate(d.length);
            MemorySegment.copy(d, 0, in, ValueLayout.JAVA_BYTE, 0, d.length);
            MemorySegment out = a.allocate(Ethernet.HEADER_LEN + 576);
            long[] sunk = new long[1];
            FragmentSink sink = (s, off, len) -> sunk[0] += len;
            long allocated = Allocations.perBatch(() -> {
                for (int i = 0; i < Allocations.CALLS; i++) {
                    Fragmenter.fragment(in, 0, d.length, 576, out, 0, sink);
                }
            });
            assertEquals(0, allocated, "100,000 datagrams fragmented allocate nothing");
            assertTrue(sunk[0] > 10L * Allocations.CALLS * 3 * 500, "every run fragmented every datagram");
        }
    }
}
