package io.flowstack.core;

import static io.flowstack.core.testing.StackHarness.PEER;
import static io.flowstack.core.testing.StackHarness.US;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.socket.UdpPeer;
import io.flowstack.core.socket.UdpSocket;
import io.flowstack.core.stats.Stat;
import io.flowstack.core.testing.Packets;
import io.flowstack.core.testing.StackHarness;
import io.flowstack.nic.FrameBatch;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A NIC's checksum status ({@link FrameBatch#RX_CSUM_VALID}): a frame from a local sender carries
 * a partial checksum (CHECKSUM_PARTIAL: the field holds only the pseudo-header sum, FRAME-IO §2)
 * and the vnet header or the packet ring says so. Such a frame is accepted without verification,
 * on the core that read it and on the core it hops to; the same bytes without the flag are a bad
 * checksum, counted and dropped.
 */
class NicChecksumStatusTest {
    StackHarness h;

    @AfterEach
    void close() {
        if (h != null) {
            assertEquals(0, h.total(Stat.INTERNAL_ERROR));
            h.close();
        }
    }

    /** Replaces the transport checksum at {@code field} by the folded pseudo-header sum, as a local sender leaves it. */
    static byte[] partial(byte[] frame, int proto, int field) {
        int l4 = 14 + 20;
        int l4len = frame.length - l4;
        long sum = ((PEER >>> 16) & 0xFFFF) + (PEER & 0xFFFF) + ((US >>> 16) & 0xFFFF) + (US & 0xFFFF) + proto + l4len;
        while ((sum >> 16) != 0) {
            sum = (sum & 0xFFFF) + (sum >> 16);
        }
        frame[l4 + field] = (byte) (sum >>> 8);
        frame[l4 + field + 1] = (byte) sum;
        return frame;
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void aSynWithAPartialChecksumIsAnsweredOnlyWhenTheNicVouchesForIt(int cores) {
        h = new StackHarness(cores);
        h.arpFromPeer(0);
        h.stack.tcpListen(80, 16);
        for (int port = 40001; port < 40009; port++) { // flows of both cores, read on queue 0
            byte[] syn = partial(h.ipFrame(Packets.ipv4(PEER, US, 6, port, 0, Packets.tcp(PEER, US, port, 80,
                    1000, 0, Packets.SYN, 65535, new byte[0], new byte[0]))), 6, 16);
            long bad = h.total(Stat.TCP_BAD_CHECKSUM);
            h.inject(0, syn.clone());
            assertTrue(h.run().isEmpty(), "unflagged: a bad checksum, no answer");
            assertEquals(bad + 1, h.total(Stat.TCP_BAD_CHECKSUM));

            h.inject(0, syn, FrameBatch.RX_CSUM_VALID);
            List<Packets.Frame> out = h.run();
            assertEquals(1, out.size(), h.stack::countersReport);
            Packets.TcpSeg synAck = Packets.tcpOf(out.get(0));
            assertTrue(synAck.has(Packets.SYN | Packets.ACK));
            assertTrue(synAck.checksumOk(), "what we send is complete");
            assertEquals(bad + 1, h.total(Stat.TCP_BAD_CHECKSUM));
        }
        if (cores > 1) {
            assertTrue(h.total(Stat.HOP_IN) > 0, "some flagged frames crossed to the other core");
        }
    }

    /** USO: one frame of several datagrams from a local sender is cut into them, each delivered. */
    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void aUdpSuperFrameIsCutIntoItsDatagrams(int cores) throws Exception {
        h = new StackHarness(cores, true, b -> {}); // a NIC with offloads: slots for super-frames
        h.arpFromPeer(0);
        try (UdpSocket s = h.stack.udpBind(7)) {
            byte[] payload = new byte[3 * 1000 + 500];
            for (int i = 0; i < payload.length; i++) {
                payload[i] = (byte) (i / 7);
            }
            byte[] frame = partial(h.ipFrame(Packets.ipv4(PEER, US, 17, 0x1234, 0,
                    Packets.udp(PEER, US, 40001, 7, payload))), 17, 6);
            h.nic.q(0).rxFlags.put(frame, FrameBatch.RX_CSUM_VALID);
            h.nic.q(0).gsoSizes.put(frame, 1000);
            h.nic.q(0).inbound.add(frame);
            h.run();
            byte[] buf = new byte[2048];
            UdpPeer from = new UdpPeer();
            for (int d = 0; d < 4; d++) {
                int n = s.receive(buf, 0, buf.length, from, 0, TimeUnit.MILLISECONDS);
                assertEquals(d < 3 ? 1000 : 500, n, h.stack::countersReport);
                assertArrayEquals(java.util.Arrays.copyOfRange(payload, d * 1000, d * 1000 + n),
                        java.util.Arrays.copyOf(buf, n), "datagram " + d);
                assertEquals(40001, from.port);
            }
            assertEquals(4, h.total(Stat.RX_UDP_SUPER_DATAGRAMS));
            assertEquals(1, h.total(Stat.RX_SUPER_FRAMES));
            assertEquals(0, h.total(Stat.UDP_BAD_LENGTH) + h.total(Stat.IP_BAD_LENGTH) + h.total(Stat.UDP_BAD_CHECKSUM));

            // lengths that do not add up: fed whole, dropped by IP under its reason
            byte[] bad = frame.clone();
            bad[14 + 2] = (byte) 0xFF; // total length beyond the frame
            bad[14 + 3] = (byte) 0xFF;
            h.nic.q(0).gsoSizes.put(bad, 1000);
            h.nic.q(0).inbound.add(bad);
            h.run();
            assertEquals(4, h.total(Stat.RX_UDP_SUPER_DATAGRAMS));
            assertEquals(1, h.total(Stat.IP_BAD_LENGTH));
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void aDatagramWithAPartialChecksumIsDeliveredOnlyWhenTheNicVouchesForIt(int cores) throws Exception {
        h = new StackHarness(cores);
        h.arpFromPeer(0);
        try (UdpSocket s = h.stack.udpBind(7)) {
            byte[] buf = new byte[2048];
            UdpPeer from = new UdpPeer();
            for (int port = 40001; port < 40005; port++) {
                byte[] payload = new byte[100];
                java.util.Arrays.fill(payload, (byte) port);
                byte[] frame = partial(h.ipFrame(Packets.ipv4(PEER, US, 17, port, 0,
                        Packets.udp(PEER, US, port, 7, payload))), 17, 6);
                long bad = h.total(Stat.UDP_BAD_CHECKSUM);
                h.inject(0, frame.clone());
                h.run();
                assertEquals(bad + 1, h.total(Stat.UDP_BAD_CHECKSUM));
                h.inject(0, frame, FrameBatch.RX_CSUM_VALID);
                h.run();
                int n = s.receive(buf, 0, buf.length, from, 0, TimeUnit.MILLISECONDS);
                assertEquals(100, n, h.stack::countersReport);
                assertArrayEquals(payload, java.util.Arrays.copyOf(buf, n));
            }
        }
    }
}
