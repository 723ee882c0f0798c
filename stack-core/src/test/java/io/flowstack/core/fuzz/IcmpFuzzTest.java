package io.flowstack.core.fuzz;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.flowstack.core.socket.TcpConnection;
import io.flowstack.core.socket.UdpSocket;
import io.flowstack.core.testing.Packets;
import io.flowstack.core.testing.StackHarness;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * ICMP input (RFC 792, RFC 1122 3.2.2, RFC 5927, RFC 1191): fuzzed ICMP messages in correct IPv4
 * datagrams, to a stack with something for errors to be about: a UDP socket that has sent a
 * datagram, an established TCP connection (peer port 40000 to our port 80) with data in flight.
 *
 * <p>Input: up to 8 messages of a control byte (bit 0: fix the ICMP checksum, bit 1: make the
 * message an error quoting the TCP segment in flight, bit 2: one quoting the UDP datagram, both
 * with the fuzzed type, code and next-hop MTU) and a length-prefixed message (at most 1,200
 * bytes); then the application writes 4,000 bytes. Invariants: those of {@link FuzzStack}; every
 * TCP segment the stack sends afterwards carries data or is a bare control segment, and fits
 * the MTU (a next-hop MTU from ICMP lowers the MSS, never to zero).
 */
class IcmpFuzzTest {

    static Stream<Arguments> messages() {
        return Stream.of(
                arguments((Object) new FuzzSeeds().u8(1).chunk(Packets.icmpEcho(8, 1, 1, new byte[16])).build()),
                arguments((Object) new FuzzSeeds().u8(3).chunk(new byte[] {3, 4, 0, 0, 0, 0, 2, 0x40}).u8(5)
                        .chunk(new byte[] {3, 3, 0, 0, 0, 0, 0, 0}).build()),
                arguments((Object) new FuzzSeeds().u8(3).chunk(new byte[] {3, 4, 0, 0, 0, 0, 0, 0x44}).build()));
    }

    @MethodSource("messages")
    @FuzzTest
    void messages(byte[] input) {
        FuzzStack.runTwice(b -> {}, s -> {
            FuzzInput in = new FuzzInput(input);
            // a UDP datagram sent from port 5353 to the peer, and a TCP connection with data in flight
            UdpSocket udp = s.h.stack.udpBind(5353);
            udp.send(new byte[20], 0, 20, StackHarness.PEER, 53);
            byte[] udpSent = null;
            for (Packets.Frame f : s.h.run()) {
                if (f.type() == Packets.ETH_IPV4 && f.ipProto() == 17) {
                    udpSent = f.bytes();
                }
            }
            var listener = s.h.stack.tcpListen(80, 4);
            byte[] synAck = s.frame(s.ipFrame(Packets.ipv4(StackHarness.PEER, StackHarness.US, 6, s.nextIpId(), 0,
                    Packets.tcp(StackHarness.PEER, StackHarness.US, 40000, 80, 100, 0, Packets.SYN, 65535,
                            new byte[] {2, 4, 5, (byte) 0xB4}, new byte[0]))), 0).get(0).bytes();
            int iss = Packets.tcpOf(Packets.parse(synAck)).seq();
            s.frame(s.ipFrame(Packets.ipv4(StackHarness.PEER, StackHarness.US, 6, s.nextIpId(), 0,
                    Packets.tcp(StackHarness.PEER, StackHarness.US, 40000, 80, 101, iss + 1, Packets.ACK, 65535,
                            new byte[0], new byte[0]))), 0);
            TcpConnection c = listener.accept(0, TimeUnit.MILLISECONDS);
            c.write(new byte[1000], 0, 1000);
            byte[] tcpSent = null;
            for (Packets.Frame f : s.h.run()) {
                if (f.type() == Packets.ETH_IPV4 && f.ipProto() == 6) {
                    tcpSent = f.bytes();
                }
            }
            for (int i = 0; i < 8 && in.more(); i++) {
                int ctl = in.u8();
                byte[] m = in.chunk(1200);
                byte[] about = (ctl & 2) != 0 ? tcpSent : (ctl & 4) != 0 ? udpSent : null;
                if (about != null && m.length >= 8) {
                    byte[] quoted = Packets.icmpError(m[0] & 0xFF, m[1] & 0xFF, ((m[6] & 0xFF) << 8) | (m[7] & 0xFF), about);
                    m = quoted;
                } else if ((ctl & 1) != 0 && m.length >= 4) {
                    m[2] = 0;
                    m[3] = 0;
                    int sum = Packets.checksum(m, 0, m.length, 0);
                    m[2] = (byte) (sum >>> 8);
                    m[3] = (byte) sum;
                }
                s.frame(s.ipFrame(Packets.ipv4(StackHarness.PEER, StackHarness.US, 1, s.nextIpId(), 0, m)), 0);
            }
            if (!c.finished()) {
                c.writeTimeout(1, TimeUnit.MILLISECONDS);
                try {
                    c.write(new byte[4000], 0, 4000);
                } catch (io.flowstack.core.socket.StackException e) {
                    // reset by an ICMP error the stack believed, or full: documented
                }
            }
            for (int step = 0; step < 5; step++) {
                for (Packets.Frame f : s.h.advance(300_000_000L)) {
                    assertTrue(f.bytes().length <= FuzzStack.MAX_FRAME, "within the MTU");
                    if (f.type() == Packets.ETH_IPV4 && f.ipProto() == 6) {
                        Packets.TcpSeg seg = Packets.tcpOf(f);
                        assertTrue(seg.data().length > 0 || (seg.flags() & ~Packets.PSH) != 0, "no empty data segment: " + seg);
                    }
                }
            }
            c.close();
            udp.close();
        });
    }
}
