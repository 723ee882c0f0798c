package io.flowstack.core.fuzz;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.flowstack.core.testing.Packets;
import io.flowstack.core.testing.StackHarness;
import io.flowstack.core.wire.Ethernet;
import java.util.stream.Stream;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * ARP input (RFC 826, RFC 5227): fuzzed ARP packets in well-formed Ethernet frames, to our MAC
 * or broadcast, from the peer's MAC or another.
 *
 * <p>Input: up to 8 packets of a control byte (bit 0: to broadcast, else to our MAC; bit 1: the
 * Ethernet source is the ARP sender hardware address found in the packet, else the peer's) and
 * a length-prefixed ARP packet (at most 64 bytes). Invariants: those of {@link FuzzStack}, and
 * the ARP cache never holds our own address, zero, broadcast or a broadcast, multicast or zero
 * MAC (RFC 826's merge applies only to valid senders).
 */
class ArpFuzzTest {

    static Stream<Arguments> packets() {
        return Stream.of(
                arguments((Object) new FuzzSeeds().u8(1).chunk(Packets.arp(1, StackHarness.PEER_MAC, StackHarness.PEER, 0,
                        StackHarness.US)).build()),
                arguments((Object) new FuzzSeeds().u8(2).chunk(Packets.arp(2, 0x02_00_00_00_00_09L, Packets.ip("198.18.0.9"),
                        StackHarness.US_MAC, StackHarness.US)).u8(3).chunk(Packets.arp(1, 0x02_00_00_00_00_0AL,
                        Packets.ip("198.18.0.10"), 0, Packets.ip("198.18.0.11"))).build()));
    }

    @MethodSource("packets")
    @FuzzTest
    void packets(byte[] input) {
        FuzzStack.runTwice(b -> {}, s -> {
            FuzzInput in = new FuzzInput(input);
            for (int i = 0; i < 8 && in.more(); i++) {
                int ctl = in.u8();
                byte[] arp = in.chunk(64);
                long src = StackHarness.PEER_MAC;
                if ((ctl & 2) != 0 && arp.length >= 14) {
                    src = ((long) (arp[8] & 0xFF) << 40) | ((long) (arp[9] & 0xFF) << 32) | ((long) (arp[10] & 0xFF) << 24)
                            | ((arp[11] & 0xFF) << 16) | ((arp[12] & 0xFF) << 8) | (arp[13] & 0xFF);
                }
                long dst = (ctl & 1) != 0 ? Packets.BROADCAST : StackHarness.US_MAC;
                s.frame(Packets.ethernet(dst, src, Packets.ETH_ARP, arp), 0);
            }
            s.h.stack.call(0, n -> {
                n.arp(0).forEach((ip, mac, expires) -> {
                    assertTrue(ip != 0 && ip != StackHarness.US && ip != -1 && ip != Packets.ip("198.18.0.255"),
                            "no cache entry for " + Integer.toHexString(ip));
                    assertTrue(mac == -1 || (mac != 0 && mac != Ethernet.BROADCAST && (mac & (1L << 40)) == 0),
                            "no cache entry with the MAC " + Long.toHexString(mac));
                });
                return null;
            });
        });
    }
}
