package io.flowstack.core.fuzz;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.flowstack.core.socket.UdpPeer;
import io.flowstack.core.socket.UdpSocket;
import io.flowstack.core.testing.Packets;
import io.flowstack.core.testing.StackHarness;
import io.flowstack.nic.FrameBatch;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * UDP input (RFC 768, RFC 1122 4.1.3): fuzzed UDP headers and payloads in correct IPv4
 * datagrams, to a bound socket (port 9), to a closed port (an ICMP port unreachable) or any.
 *
 * <p>Input: up to 8 datagrams of a control byte (bits 0-1: checksum as given, correct, zero
 * (none) or correct with the NIC vouching; bit 2: destination port 9; bit 3: length field =
 * the bytes given) and a length-prefixed UDP datagram (header and data, at most 1,472 bytes).
 * Invariants: those of {@link FuzzStack}; the socket receives exactly the datagrams whose
 * length field is at least 8 and at most what IP carried and whose checksum verifies (or is
 * zero, or the NIC vouched), with the data the length field covers, in order.
 */
class UdpFuzzTest {

    static Stream<Arguments> datagrams() {
        byte[] u = Packets.udp(StackHarness.PEER, StackHarness.US, 5000, 9, "hello".getBytes());
        byte[] closed = Packets.udp(StackHarness.PEER, StackHarness.US, 5000, 10, new byte[3]);
        return Stream.of(arguments((Object) new FuzzSeeds().u8(0).chunk(u).u8(1).chunk(closed).u8(2).chunk(u).build()));
    }

    @MethodSource("datagrams")
    @FuzzTest
    void datagrams(byte[] input) {
        FuzzStack.runTwice(b -> {}, s -> {
            FuzzInput in = new FuzzInput(input);
            UdpSocket socket = s.h.stack.udpBind(9);
            java.util.List<byte[]> expected = new java.util.ArrayList<>();
            for (int i = 0; i < 8 && in.more(); i++) {
                int ctl = in.u8();
                byte[] u = in.chunk(1472);
                int mode = ctl & 3;
                if (u.length >= 8) {
                    if ((ctl & 4) != 0) {
                        u[2] = 0;
                        u[3] = 9;
                    }
                    if ((ctl & 8) != 0) {
                        u[4] = (byte) (u.length >>> 8);
                        u[5] = (byte) u.length;
                    }
                    if (mode == 1 || mode == 3) {
                        u[6] = 0;
                        u[7] = 0;
                        long pseudo = (StackHarness.PEER >>> 16) + (StackHarness.PEER & 0xFFFF) + (StackHarness.US >>> 16)
                                + (StackHarness.US & 0xFFFF) + 17 + u.length;
                        int c = Packets.checksum(u, 0, u.length, pseudo);
                        c = c == 0 ? 0xFFFF : c;
                        u[6] = (byte) (c >>> 8);
                        u[7] = (byte) c;
                    } else if (mode == 2) {
                        u[6] = 0;
                        u[7] = 0;
                    }
                    int dport = ((u[2] & 0xFF) << 8) | (u[3] & 0xFF);
                    int length = ((u[4] & 0xFF) << 8) | (u[5] & 0xFF);
                    // RFC 768: the length may be less than IP carried (the rest is ignored), not more
                    if (dport == 9 && length >= 8 && length <= u.length && (mode == 3 || checksumOk(u, length))) {
                        expected.add(Arrays.copyOfRange(u, 8, length));
                    }
                }
                s.frame(s.ipFrame(Packets.ipv4(StackHarness.PEER, StackHarness.US, 17, s.nextIpId(), 0, u)),
                        mode == 3 ? FrameBatch.RX_CSUM_VALID : 0);
            }
            byte[] buf = new byte[2048];
            UdpPeer from = new UdpPeer();
            for (byte[] e : expected) {
                int n = socket.receive(buf, 0, buf.length, from, 1, TimeUnit.MILLISECONDS);
                assertEquals(e.length, n, "the datagram's length");
                assertArrayEquals(e, Arrays.copyOf(buf, n), "the datagram's data");
            }
            assertEquals(-1, socket.receive(buf, 0, buf.length, from, 1, TimeUnit.MILLISECONDS), "no other datagram");
            socket.close();
        });
    }

    /** RFC 768: the checksum over the pseudo-header and the first {@code length} bytes, or none (zero). */
    static boolean checksumOk(byte[] u, int length) {
        if (u[6] == 0 && u[7] == 0) {
            return true;
        }
        long pseudo = (StackHarness.PEER >>> 16) + (StackHarness.PEER & 0xFFFF) + (StackHarness.US >>> 16)
                + (StackHarness.US & 0xFFFF) + 17 + length;
        return Packets.checksum(u, 0, length, pseudo) == 0;
    }
}
