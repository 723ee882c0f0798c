package io.flowstack.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.testing.Packets;
import io.flowstack.nativeio.Netdev;
import io.flowstack.nic.NicQueue;
import io.flowstack.nic.TxFrame;
import io.flowstack.nic.pcap.PcapReader;
import io.flowstack.nic.xdp.XdpQueue;
import io.flowstack.tests.NamespaceLab.Background;
import java.io.ByteArrayOutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * An {@link io.flowstack.nic.xdp.XdpNic} in copy mode sends a TCP super-frame whole through its
 * queue's companion AF_PACKET socket ({@code PACKET_VNET_HDR}) and the kernel delivers it intact
 * (root, {@link XdpVethLab}: a veth whose other end is in a namespace of this run, 198.18.0.0/15
 * only, IPv6 off, everything deleted also after a failure).
 *
 * <p>The queue sends, as its owner thread: a 100-byte TCP segment through the XDP TX ring, then a
 * {@link TxFrame} built as the router builds one (Ethernet, IPv4 and TCP headers whose checksum
 * field holds the pseudo-header sum of the whole segment, 3 x 1,448 bytes of payload in two slices,
 * {@code checksum(14 + 20, 16).gso(GSO_TCPV4, 1448)}), then another small segment through the ring.
 * tcpdump on the other end captures them, and the test checks, in capture order:
 * <ul>
 *   <li>the first small segment came first: {@code transmit(TxFrame)} kicked the TX ring before
 *       writing the super-frame (else it would have waited on the ring until the end);</li>
 *   <li>the super-frame: either one GSO packet (the veth's default: it takes GSO skbs and passes
 *       them to its peer whole), byte for byte what was sent, whose partial checksum completes to
 *       a valid one; or (the XDP end with {@code tx off, tso off}, segmented in software) three
 *       segments of 1,448 bytes whose sequence numbers follow, whose IPv4 and TCP checksums are
 *       valid and whose payloads concatenate to the original;</li>
 *   <li>the last small segment came last;</li>
 * </ul>
 * and that the queue advertises {@code TX_GATHER | TX_TSO4} (not {@code TX_CSUM}) and counted
 * three frames sent, no drop and no error.
 *
 * <p>Owned by: the JUnit test thread, which is the queue's owner (no stack runs on the NIC).
 */
@Timeout(120)
class XdpGsoKernelTest {
    private static final Duration T = Duration.ofSeconds(20);
    private static final long FOREIGN_MAC = 0x02_00_00_00_00_99L; // the peer's kernel drops it as "other host"
    private static final int SPORT = 40000;
    private static final int DPORT = 5999;
    private static final int MSS = 1448;
    private static final int SEQ = 0x10000000;
    private static final int HEADERS = 14 + 20 + 20;

    @ParameterizedTest(name = "softwareSegmentation={0}")
    @ValueSource(booleans = {false, true})
    void aSuperFrameLeavesThroughTheCompanionSocketIntact(boolean softwareSegmentation) throws Exception {
        try (XdpVethLab lab = XdpVethLab.start(softwareSegmentation); Arena arena = Arena.ofConfined()) {
            XdpQueue q = lab.nic().queue(0);
            assertEquals("driver/copy", lab.nic().modeLabel(), lab::report);
            assertNull(lab.nic().superFrameProblem(), lab::report);
            assertEquals(NicQueue.TX_GATHER | NicQueue.TX_TSO4, q.txOffloads(), lab::report);
            long mac = mac(lab.xdpEnd());
            int src = Packets.ip(NamespaceLab.STACK_IP);
            int dst = Packets.ip(NamespaceLab.KERNEL_IP);
            byte[] payload = new byte[3 * MSS];
            for (int i = 0; i < payload.length; i++) {
                payload[i] = (byte) (i * 31 + i / 256);
            }
            byte[] before = segment(mac, src, dst, 1, SEQ - 100, filled(100, (byte) 0xbb), false);
            byte[] whole = segment(mac, src, dst, 2, SEQ, payload, true);
            byte[] after = segment(mac, src, dst, 3, SEQ + payload.length, filled(100, (byte) 0xaa), false);

            Path pcap = Files.createTempFile("flowstack-xdp-gso-", ".pcap");
            lab.deleteOnClose(pcap);
            try (Background dump = lab.spawn(T, null, "timeout", Long.toString(T.toSeconds() + 1), "tcpdump",
                    "-Z", "root", "-i", lab.kernelEnd(), "-Q", "in", "-s", "0", "-U", "-w", pcap.toString(),
                    "tcp port " + DPORT)) {
                lab.await("tcpdump to listen", () -> dump.stderrSoFar().contains("listening on") || !dump.alive(),
                        Duration.ofSeconds(10));
                assertTrue(dump.alive(), dump::stderrSoFar);

                MemorySegment b = native_(arena, before);
                MemorySegment a = native_(arena, after);
                MemorySegment head = native_(arena, Arrays.copyOf(whole, HEADERS));
                MemorySegment body = native_(arena, payload);
                assertTrue(q.transmit(b, 0, before.length), lab::report);
                TxFrame f = new TxFrame().headers(head, 0, HEADERS).append(body, 0, MSS)
                        .append(body, MSS, 2 * MSS).checksum(14 + 20, 16).gso(TxFrame.GSO_TCPV4, MSS);
                assertTrue(q.transmit(f), lab::report);
                assertTrue(q.transmit(a, 0, after.length), lab::report);
                q.flushTx(); // the netisr kicks the ring at the end of its pass

                // the capture holds all three frames once it reaches the smaller of the two forms
                long atLeast = 24 + 2 * (16 + before.length) + 16 + whole.length;
                lab.await("the capture to hold every frame", () -> size(pcap) >= atLeast, T);
                dump.stop();
            }
            List<byte[]> got = frames(pcap);
            assertTrue(got.size() >= 3, () -> got.size() + " frames captured\n" + lab.report());
            assertArrayEquals(before, got.get(0), "the segment queued before the super-frame came first");
            assertArrayEquals(after, got.get(got.size() - 1), "the segment queued after it came last");
            List<byte[]> middle = got.subList(1, got.size() - 1);
            if (middle.size() == 1) {
                System.out.println("softwareSegmentation=" + softwareSegmentation + ": the peer got one GSO packet of "
                        + middle.get(0).length + " bytes");
                assertFalse(softwareSegmentation, "segmented in software: no super-frame reaches the peer");
                assertArrayEquals(whole, middle.get(0), "the super-frame, byte for byte");
                assertEquals(0, Packets.checksum(completed(whole), 14 + 20, whole.length - 14 - 20,
                        pseudoHeader(src, dst, whole.length - 14 - 20)), "its partial checksum completes to a valid one");
            } else {
                System.out.println("softwareSegmentation=" + softwareSegmentation + ": the peer got " + middle.size()
                        + " segments");
                assertSegments(middle, payload, src, dst);
            }
            assertEquals(3, q.txFrames(), lab::report);
            assertEquals(2 * before.length + whole.length, q.txBytes(), lab::report);
            assertEquals(0, q.txDrops() + q.txErrors() + q.txKickErrors(), lab::report);
        }
    }

    /** Three segments of {@value #MSS} bytes, in order, valid checksums, the original payload. */
    private static void assertSegments(List<byte[]> segs, byte[] payload, int src, int dst) {
        assertEquals(3, segs.size(), "the super-frame was cut into gso_size segments");
        ByteArrayOutputStream joined = new ByteArrayOutputStream();
        for (int i = 0; i < segs.size(); i++) {
            Packets.Frame fr = Packets.parse(segs.get(i));
            assertEquals(HEADERS + MSS, segs.get(i).length, "segment " + i);
            assertTrue(fr.ipChecksumOk(), "IPv4 checksum of segment " + i);
            assertEquals(src, fr.ipSrc());
            assertEquals(dst, fr.ipDst());
            Packets.TcpSeg t = Packets.tcpOf(fr);
            assertTrue(t.checksumOk(), "TCP checksum of segment " + i);
            assertEquals(SEQ + i * MSS, t.seq(), "sequence number of segment " + i);
            assertEquals(SPORT, t.sport());
            assertEquals(DPORT, t.dport());
            joined.writeBytes(t.data());
        }
        assertArrayEquals(payload, joined.toByteArray(), "the payloads concatenate to the original");
    }

    /**
     * An Ethernet + IPv4 + TCP frame from the XDP end to a foreign MAC: the TCP checksum finished,
     * or with {@code partial} the folded pseudo-header sum a device completes ({@code NEEDS_CSUM}).
     */
    private static byte[] segment(long srcMac, int src, int dst, int id, int seq, byte[] data, boolean partial) {
        byte[] tcp = Packets.tcp(src, dst, SPORT, DPORT, seq, 1, Packets.ACK | Packets.PSH, 65535, new byte[0], data);
        if (partial) {
            int sum = ~Packets.checksum(new byte[0], 0, 0, pseudoHeader(src, dst, tcp.length)) & 0xFFFF;
            ByteBuffer.wrap(tcp).putShort(16, (short) sum);
        }
        return Packets.ethernet(FOREIGN_MAC, srcMac, Packets.ETH_IPV4, Packets.ipv4(src, dst, 6, id, 0x4000, tcp));
    }

    private static long pseudoHeader(int src, int dst, int l4Length) {
        return (src >>> 16) + (src & 0xFFFF) + (dst >>> 16) + (dst & 0xFFFF) + 6 + l4Length;
    }

    /** {@code frame} with its TCP checksum completed as a device does: ~fold(sum from csum_start). */
    private static byte[] completed(byte[] frame) {
        byte[] c = frame.clone();
        int start = 14 + 20;
        int sum = Packets.checksum(c, start, c.length - start, 0); // the field holds the pseudo-header sum
        ByteBuffer.wrap(c).putShort(start + 16, (short) sum);
        return c;
    }

    private static byte[] filled(int n, byte b) {
        byte[] a = new byte[n];
        Arrays.fill(a, b);
        return a;
    }

    private static MemorySegment native_(Arena arena, byte[] bytes) {
        MemorySegment s = arena.allocate(bytes.length);
        MemorySegment.copy(bytes, 0, s, ValueLayout.JAVA_BYTE, 0, bytes.length);
        return s;
    }

    private static long mac(String ifname) {
        long m = 0;
        for (byte x : Netdev.hwAddr(ifname)) {
            m = (m << 8) | (x & 0xFF);
        }
        return m;
    }

    private static long size(Path p) {
        try {
            return Files.size(p);
        } catch (java.io.IOException e) {
            return 0;
        }
    }

    private static List<byte[]> frames(Path pcap) {
        List<byte[]> out = new ArrayList<>();
        try (PcapReader r = PcapReader.open(pcap)) {
            while (r.next()) {
                out.add(r.frame());
            }
        }
        return out;
    }
}
