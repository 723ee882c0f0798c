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
 * IPv4 input (RFC 791, RFC 1122 3.2.1): fuzzed datagrams, header and options included, in
 * Ethernet frames to our MAC; on request the fuzzed header is given a correct checksum, our
 * address as destination or a total length that matches, so that the fuzzer gets past each
 * check and into options, fragments and the transports.
 *
 * <p>Input: up to 8 datagrams of a control byte (bit 0: fix the header checksum, bit 1: total
 * length = the bytes given, bit 2: destination = us, bit 3: source = the peer, bit 4: the NIC
 * vouches for the transport checksum) and a length-prefixed datagram. Invariants: those of
 * {@link FuzzStack}.
 */
class Ipv4FuzzTest {

    static Stream<Arguments> datagrams() {
        byte[] ping = Packets.ipv4(StackHarness.PEER, StackHarness.US, 1, 1, 0, Packets.icmpEcho(8, 1, 1, new byte[8]));
        byte[] withOptions = Packets.ipv4WithOptions(StackHarness.PEER, StackHarness.US, 1, 2,
                new byte[] {7, 7, 4, 0, 0, 0, 0, 0, 1, 1, 1, 0}, Packets.icmpEcho(8, 1, 2, new byte[8]));
        byte[] udp = Packets.ipv4(StackHarness.PEER, StackHarness.US, 17, 3, 0,
                Packets.udp(StackHarness.PEER, StackHarness.US, 5000, 9, new byte[4]));
        byte[] fragment = Packets.ipv4(StackHarness.PEER, StackHarness.US, 1, 4, 0x2000, new byte[16]);
        return Stream.of(arguments((Object) new FuzzSeeds().u8(0).chunk(ping).u8(0x0F).chunk(withOptions).build()),
                arguments((Object) new FuzzSeeds().u8(0x1F).chunk(udp).u8(0x0F).chunk(fragment).build()));
    }

    @MethodSource("datagrams")
    @FuzzTest
    void datagrams(byte[] input) {
        FuzzStack.runTwice(b -> {}, s -> {
            FuzzInput in = new FuzzInput(input);
            for (int i = 0; i < 8 && in.more(); i++) {
                int ctl = in.u8();
                byte[] d = in.chunk(FuzzStack.MAX_FRAME - 14);
                fix(d, ctl);
                s.frame(s.ipFrame(d), (ctl & 16) != 0 ? FrameBatch.RX_CSUM_VALID : 0);
            }
        });
    }

    /** Applies the control byte's fixes to a fuzzed datagram {@code d} (in place). */
    static void fix(byte[] d, int ctl) {
        if (d.length < 20) {
            return;
        }
        if ((ctl & 2) != 0) {
            d[2] = (byte) (d.length >>> 8);
            d[3] = (byte) d.length;
        }
        if ((ctl & 4) != 0) {
            putInt(d, 16, StackHarness.US);
        }
        if ((ctl & 8) != 0) {
            putInt(d, 12, StackHarness.PEER);
        }
        if ((ctl & 1) != 0) {
            int hl = Math.min(d.length, Math.max(20, (d[0] & 0x0F) * 4));
            d[10] = 0;
            d[11] = 0;
            int c = Packets.checksum(d, 0, hl, 0);
            d[10] = (byte) (c >>> 8);
            d[11] = (byte) c;
        }
    }

    static void putInt(byte[] d, int at, int v) {
        d[at] = (byte) (v >>> 24);
        d[at + 1] = (byte) (v >>> 16);
        d[at + 2] = (byte) (v >>> 8);
        d[at + 3] = (byte) v;
    }
}
