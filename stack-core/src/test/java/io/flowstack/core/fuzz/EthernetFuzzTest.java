package io.flowstack.core.fuzz;

import static org.junit.jupiter.params.provider.Arguments.arguments;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.flowstack.core.testing.Packets;
import io.flowstack.core.testing.StackHarness;
import io.flowstack.nic.FrameBatch;
import java.util.stream.Stream;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Raw frames into Ethernet input (RFC 894): whatever bytes a NIC may deliver, from a runt to a
 * full frame, with or without the NIC's checksum flags, through the MAC filter, the EtherType
 * dispatch and on into ARP and IPv4 (and what lies under them, for the frames that get that far).
 *
 * <p>Input: up to 8 frames, each a flags byte (bit 0: {@link FrameBatch#RX_CSUM_VALID}, bit 1:
 * {@link FrameBatch#RX_CSUM_PARTIAL}) and a length-prefixed frame. Invariants: those of
 * {@link FuzzStack} (no exception, every frame counted, the same counters whatever lies past a
 * frame's end, a ping answered afterwards).
 */
class EthernetFuzzTest {

    static Stream<Arguments> frames() {
        byte[] ping = Packets.ipv4(StackHarness.PEER, StackHarness.US, 1, 1, 0, Packets.icmpEcho(8, 1, 1, new byte[8]));
        byte[] udp = Packets.ipv4(StackHarness.PEER, StackHarness.US, 17, 2, 0,
                Packets.udp(StackHarness.PEER, StackHarness.US, 5000, 7, new byte[] {1, 2, 3}));
        byte[] syn = Packets.ipv4(StackHarness.PEER, StackHarness.US, 6, 3, 0,
                Packets.tcp(StackHarness.PEER, StackHarness.US, 40000, 80, 1, 0, Packets.SYN, 65535, new byte[0], new byte[0]));
        return Stream.of(
                arguments((Object) new FuzzSeeds().u8(0).chunk(Packets.ethernet(Packets.BROADCAST, StackHarness.PEER_MAC,
                        Packets.ETH_ARP, Packets.arp(1, StackHarness.PEER_MAC, StackHarness.PEER, 0, StackHarness.US))).build()),
                arguments((Object) new FuzzSeeds().u8(0).chunk(eth(ping)).u8(1).chunk(eth(udp)).u8(0).chunk(eth(syn)).build()),
                arguments((Object) new FuzzSeeds().u8(0).chunk(Packets.ethernet(StackHarness.US_MAC, StackHarness.PEER_MAC,
                        0x86DD, new byte[40])).u8(0).chunk(new byte[13]).build()));
    }

    static byte[] eth(byte[] datagram) {
        return Packets.ethernet(StackHarness.US_MAC, StackHarness.PEER_MAC, Packets.ETH_IPV4, datagram);
    }

    @MethodSource("frames")
    @FuzzTest
    void frames(byte[] input) {
        FuzzStack.runTwice(b -> {}, s -> {
            FuzzInput in = new FuzzInput(input);
            for (int i = 0; i < 8 && in.more(); i++) {
                int flags = in.u8() & (FrameBatch.RX_CSUM_VALID | FrameBatch.RX_CSUM_PARTIAL);
                s.frame(in.chunk(FuzzStack.MAX_FRAME), flags);
            }
        });
    }
}
