package io.flowstack.core.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.flowstack.core.stats.Stat;
import io.flowstack.core.testing.Packets;
import io.flowstack.core.testing.StackHarness;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * IPv4 reassembly (RFC 791 3.2, RFC 815, RFC 5722's rule for overlaps): sequences of fragments
 * with fuzzed identification, offset, MF and DF bits, header options, lengths and contents, the
 * clock moving between them, checksums correct so that every fragment reaches reassembly.
 *
 * <p>Input: up to 16 fragments of: a control byte (bits 0-1: one of four identifications, bit 2:
 * MF, bit 3: DF, bits 4-5: protocol ICMP, UDP, TCP or 99, bit 6: a second source address), the
 * 13-bit offset, the header options (at most 40 bytes, padded to 4), the payload (at most 1,480
 * bytes) and the milliseconds to advance. Invariants: those of {@link FuzzStack}; a datagram
 * reassembled is no longer than 65,535 bytes; after the reassembly timeout nothing is held
 * (no datagram in progress, no memory); a ping in three fragments is still reassembled and
 * answered.
 */
class ReassemblyFuzzTest {
    static final int OTHER_PEER = Packets.ip("198.18.0.7");

    static Stream<Arguments> fragments() {
        byte[] echo = Packets.icmpEcho(8, 9, 9, new byte[40]);
        return Stream.of(arguments((Object) new FuzzSeeds()
                .u8(0x04).u16(0).chunk(new byte[0]).chunk(java.util.Arrays.copyOfRange(echo, 0, 24)).u8(0)
                .u8(0x00).u16(3).chunk(new byte[0]).chunk(java.util.Arrays.copyOfRange(echo, 24, 48)).u8(1)
                .u8(0x05).u16(0).chunk(new byte[] {1, 1, 1, 0}).chunk(new byte[64]).u8(100)
                .u8(0x05).u16(4).chunk(new byte[0]).chunk(new byte[64]).u8(0).build()));
    }

    @MethodSource("fragments")
    @FuzzTest
    void fragments(byte[] input) {
        FuzzStack.runTwice(b -> b.reassemblyMaxDatagrams(8).reassemblyMaxPerSource(4).reassemblyMaxFragments(16)
                .reassemblyMemoryBytes(64 << 10), s -> {
            FuzzInput in = new FuzzInput(input);
            s.h.inject(0, Packets.ethernet(Packets.BROADCAST, 0x02_AA_00_00_00_07L, Packets.ETH_ARP,
                    Packets.arp(1, 0x02_AA_00_00_00_07L, OTHER_PEER, 0, StackHarness.US)));
            s.h.run();
            for (int i = 0; i < 16 && in.more(); i++) {
                int ctl = in.u8();
                int offset = in.u16() & 0x1FFF;
                byte[] options = in.chunk(40);
                byte[] opt = new byte[(options.length + 3) & ~3];
                System.arraycopy(options, 0, opt, 0, options.length);
                byte[] payload = in.chunk(1480 - opt.length);
                int word = offset | ((ctl & 4) != 0 ? 0x2000 : 0) | ((ctl & 8) != 0 ? 0x4000 : 0);
                int proto = new int[] {1, 17, 6, 99}[(ctl >>> 4) & 3];
                int src = (ctl & 64) != 0 ? OTHER_PEER : StackHarness.PEER;
                byte[] d = Packets.ipv4WithOptions(src, StackHarness.US, proto, 0x4200 + (ctl & 3), opt, payload);
                d[6] = (byte) (word >>> 8);
                d[7] = (byte) word;
                d[10] = 0;
                d[11] = 0;
                int c = Packets.checksum(d, 0, 20 + opt.length, 0);
                d[10] = (byte) (c >>> 8);
                d[11] = (byte) c;
                long mac = src == OTHER_PEER ? 0x02_AA_00_00_00_07L : StackHarness.PEER_MAC;
                for (Packets.Frame f : s.frame(Packets.ethernet(StackHarness.US_MAC, mac, Packets.ETH_IPV4, d), 0)) {
                    assertTrue(f.bytes().length <= FuzzStack.MAX_FRAME, "a frame within the MTU");
                }
                s.h.advance(in.u8() * 1_000_000L);
            }
            s.h.advance(31_000_000_000L); // past the reassembly timeout (30 s)
            assertEquals(0, (int) s.h.stack.call(0, n -> n.ip().reassembly().inProgress()), "nothing in progress");
            assertEquals(0L, (long) s.h.stack.call(0, n -> n.ip().reassembly().memoryUsed()), "no memory held");
            // a ping in three fragments is still reassembled and answered
            long before = s.h.total(Stat.FRAG_REASSEMBLED);
            byte[] ping = Packets.ipv4(StackHarness.PEER, StackHarness.US, 1, 0x7777, 0,
                    Packets.icmpEcho(8, 5, 5, new byte[100]));
            List<byte[]> frags = Packets.fragment(ping, 60);
            for (byte[] f : frags) {
                s.frame(s.ipFrame(f), 0);
            }
            assertEquals(before + 1, s.h.total(Stat.FRAG_REASSEMBLED), "the probe's fragments reassembled");
        });
    }
}
