package io.flowstack.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.testing.Packets;
import io.flowstack.nic.pcap.PcapReader;
import io.flowstack.tools.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.pcap4j.core.PcapDumper;
import org.pcap4j.core.PcapHandle;
import org.pcap4j.core.Pcaps;
import org.pcap4j.packet.namednumber.DataLinkType;

/**
 * {@code stack replay FILE} (issue 5, point 4): a capture synthesized frame by frame with the
 * test-jar's {@link Packets} (ARP, pings plain and fragmented, UDP and TCP to closed ports, a bad
 * checksum, IPv6, and a frame the stack itself sent), whose counters are known exactly, and a
 * capture made by {@code endpoint --pcap} of the kernel pinging the stack and downloading from it.
 * The replay runs in this JVM through the command line.
 */
@Timeout(300)
class ReplayTest {
    static final String STACK = "198.18.0.2";
    static final int US = Packets.ip(STACK);
    static final int PEER = Packets.ip("198.18.0.1");
    /** endpoint's default MAC for 198.18.0.2 (02:00 and the address's octets). */
    static final long US_MAC = 0x02_00_c6_12_00_02L;
    static final long PEER_MAC = 0x02_aa_00_00_00_01L;
    static final long T0 = 1_790_000_000_000_000_000L;
    private static final Pattern COUNTER = Pattern.compile("^([a-z_0-9]+)\\s+(?:\\d+\\s+)*?(\\d+)$", Pattern.MULTILINE);

    @TempDir
    Path dir;

    record Run(int code, String out, String err) {
        @Override
        public String toString() {
            return "exit " + code + "\n--- out ---\n" + CliLab.abbreviate(out, 8000) + "\n--- err ---\n" + err;
        }

        /** The total column of the counters table. */
        Map<String, Long> counters() {
            Map<String, Long> m = new HashMap<>();
            String table = out.substring(out.indexOf("per-core counters:"));
            Matcher c = COUNTER.matcher(table);
            while (c.find()) {
                m.put(c.group(1), Long.parseLong(c.group(2)));
            }
            return m;
        }

        long counter(String name) {
            return counters().getOrDefault(name, 0L);
        }
    }

    static Run replay(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        List<String> all = new ArrayList<>(List.of("replay"));
        all.addAll(List.of(args));
        int code = Main.commandLine(new PrintWriter(out, true), new PrintWriter(err, true))
                .execute(all.toArray(String[]::new));
        return new Run(code, out.toString(), err.toString());
    }

    static void write(Path file, List<byte[]> frames, long stepNanos) throws Exception {
        try (PcapHandle h = Pcaps.openDead(DataLinkType.EN10MB, 262_144, PcapHandle.TimestampPrecision.NANO);
                PcapDumper d = h.dumpOpen(file.toString())) {
            long ts = T0;
            for (byte[] f : frames) {
                Timestamp t = new Timestamp(Math.floorDiv(ts, 1_000_000L));
                t.setNanos((int) Math.floorMod(ts, 1_000_000_000L));
                d.dumpRaw(f, t);
                ts += stepNanos;
            }
        }
    }

    private static byte[] ip(byte[] datagram) {
        return Packets.ethernet(US_MAC, PEER_MAC, Packets.ETH_IPV4, datagram);
    }

    private static byte[] data(int n, int salt) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * 7 + salt);
        }
        return b;
    }

    /** The synthesized conversation: what the peer sends to the stack, plus one frame the stack sent. */
    static List<byte[]> conversation() {
        List<byte[]> f = new ArrayList<>();
        f.add(Packets.ethernet(Packets.BROADCAST, PEER_MAC, Packets.ETH_ARP, Packets.arp(1, PEER_MAC, PEER, 0, US)));
        for (int seq = 1; seq <= 3; seq++) {
            f.add(ip(Packets.ipv4(PEER, US, 1, 100 + seq, 0, Packets.icmpEcho(8, 0x4242, seq, data(56, seq)))));
        }
        // the stack's own reply to the first ping, as a capture holds it: skipped, never fed
        f.add(Packets.ethernet(PEER_MAC, US_MAC, Packets.ETH_IPV4,
                Packets.ipv4(US, PEER, 1, 7, 0, Packets.icmpEcho(0, 0x4242, 1, data(56, 1)))));
        byte[] big = Packets.ipv4(PEER, US, 1, 200, 0, Packets.icmpEcho(8, 0x4242, 4, data(4000, 4)));
        for (byte[] frag : Packets.fragment(big, 1500)) {
            f.add(ip(frag));
        }
        f.add(ip(Packets.ipv4(PEER, US, 17, 300, 0, Packets.udp(PEER, US, 40000, 9999, data(20, 5)))));
        f.add(ip(Packets.ipv4(PEER, US, 6, 301, 0,
                Packets.tcp(PEER, US, 40001, 80, 1000, 0, Packets.SYN, 64240, new byte[0], new byte[0]))));
        byte[] bad = ip(Packets.ipv4(PEER, US, 1, 302, 0, Packets.icmpEcho(8, 0x4242, 9, data(8, 9))));
        bad[14 + 10] ^= 0x01; // IPv4 header checksum
        f.add(bad);
        f.add(Packets.ethernet(US_MAC, PEER_MAC, 0x86DD, new byte[40]));
        return f;
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void aSynthesizedCaptureMovesExactlyTheExpectedCounters(int cores) throws Exception {
        Path file = dir.resolve("synth.pcap");
        Path out = dir.resolve("out.pcap");
        List<byte[]> frames = conversation();
        write(file, frames, 1_000_000L);
        Run r = replay(file.toString(), "--addr", STACK + "/24", "--cores", Integer.toString(cores),
                "--out", out.toString(), "--trace");
        assertEquals(Main.OK, r.code(), r::toString);
        assertEquals("", r.err(), r::toString);
        int n = frames.size();
        assertTrue(r.out().contains(n + " frames over "), r::toString);
        assertTrue(r.out().contains((n - 1) + " fed to the stack"), r::toString);
        assertTrue(r.out().contains("1 sent by it in the capture skipped"), r::toString);
        Map<String, Long> c = r.counters();
        Map<String, Long> expected = new HashMap<>(Map.ofEntries(
                Map.entry("rx_frames", (long) n - 1),
                Map.entry("arp_in_request", 1L),
                Map.entry("arp_out_reply", 1L),
                Map.entry("icmp_in_echo", 4L),
                Map.entry("icmp_out_echo_reply", 4L),
                Map.entry("frag_in", 3L),
                Map.entry("frag_reassembled", 1L),
                Map.entry("ip_fragments_out", 3L),
                Map.entry("udp_no_port", 1L),
                Map.entry("icmp_out_unreach", 1L),
                Map.entry("tcp_in", 1L),
                Map.entry("tcp_no_socket", 1L),
                Map.entry("tcp_rst_out", 1L),
                Map.entry("ip_bad_checksum", 1L),
                Map.entry("eth_unknown_type", 1L)));
        expected.forEach((k, v) -> assertEquals(v, c.getOrDefault(k, 0L), () -> k + "\n" + r));
        assertEquals(0L, c.getOrDefault("internal_error", 0L), r::toString);
        // replies: 3 + 3 fragments of the big one, ARP reply, port unreachable, RST
        long sent = 3 + 3 + 1 + 1 + 1;
        assertEquals(sent, c.get("tx_frames"), r::toString);
        assertTrue(r.out().contains("the stack sent " + sent + " frames"), r::toString);
        assertTrue(r.out().contains(" ip_bad_checksum"), "the trace names the drop: " + r);

        // the responses file: what the stack answered, on the capture's clock
        List<byte[]> replies = new ArrayList<>();
        List<byte[]> fragments = new ArrayList<>();
        try (PcapReader reader = PcapReader.open(out)) {
            while (reader.next()) {
                assertTrue(reader.timestampNanos() >= T0, "capture clock");
                Packets.Frame fr = Packets.parse(reader.frame());
                assertEquals(US_MAC, fr.src());
                if (fr.type() == Packets.ETH_IPV4 && fr.ipProto() == 1 && fr.isFragment()) {
                    fragments.add(fr.datagram());
                } else if (fr.type() == Packets.ETH_IPV4 && fr.ipProto() == 1 && fr.l4()[0] == 0) {
                    replies.add(fr.l4());
                }
            }
        }
        assertEquals(3, fragments.size(), "the 4000-byte reply in three fragments");
        replies.add(Arrays.copyOfRange(Packets.reassemble(fragments), 20, 20 + 8 + 4000));
        assertEquals(4, replies.size());
        for (int seq = 1; seq <= 3; seq++) {
            byte[] icmp = replies.get(seq - 1);
            assertEquals(seq, ByteBuffer.wrap(icmp).getShort(6));
            assertEquals(8 + 56, icmp.length);
        }
        byte[] bigReply = replies.get(3);
        assertEquals(8 + 4000, bigReply.length);
        assertEquals(0, Packets.checksum(bigReply, 0, bigReply.length, 0));
        assertEquals(4, ByteBuffer.wrap(bigReply).getShort(6));
        assertEquals(List.of(), Tshark.problems(out), "the responses are well formed");
    }

    @Test
    void aCaptureOfTheKernelPingingAndDownloadingReplaysCleanly() throws Exception {
        Path file = dir.resolve("endpoint.pcap");
        try (CliLab lab = CliLab.start(false)) {
            PcapCaptureTest.captureSession(lab, 1, dir.resolve("body"), "--pcap", file.toString());
        }
        int fromKernelTcp = Tshark.fields(file, "ip.src == 198.18.0.1 && tcp", "frame.number").size();
        int fromKernel = Tshark.fields(file, "eth.src != 02:00:c6:12:00:02", "frame.number").size();
        // the capture holds the whole download (the stack's TCP payload) and the kernel's side of it
        // (handshake, request, ACKs, FIN); how many ACKs the kernel sends for 1 MB depends on its ACK
        // coalescing, which the machine's timing moves (90 to several hundred)
        long downloaded = Tshark.fields(file, "ip.src == " + STACK + " && tcp.len > 0", "tcp.len").stream()
                .mapToLong(Long::parseLong).sum();
        assertTrue(downloaded >= PcapCaptureTest.BODY, "the download's bytes in the capture: " + downloaded);
        assertTrue(fromKernelTcp > 4, "the kernel's side of the download: " + fromKernelTcp);
        Run r = replay(file.toString(), "--addr", STACK + "/24", "--cores", "2");
        assertEquals(Main.OK, r.code(), r::toString);
        assertTrue(r.out().contains(fromKernel + " fed to the stack"), r::toString);
        assertEquals(3, r.counter("icmp_in_echo"), r::toString);
        assertEquals(3, r.counter("icmp_out_echo_reply"), "ping requests answered\n" + r);
        assertEquals(fromKernelTcp, r.counter("tcp_in"), "TCP segments processed\n" + r);
        assertEquals(0, r.counter("internal_error"), r::toString);
        assertEquals(0, r.counter("ip_bad_checksum") + r.counter("tcp_bad_checksum") + r.counter("eth_truncated"),
                r::toString);
        // a fresh stack knows no connection: each segment is answered with a reset (RFC 9293 3.10.7.1)
        assertEquals(fromKernelTcp, r.counter("tcp_no_socket"), r::toString);
    }

    @Test
    void errorsAreOneLineWithExitTwo() throws Exception {
        Run missing = replay(dir.resolve("nope.pcap").toString(), "--addr", STACK + "/24");
        assertEquals(Main.USAGE, missing.code(), missing::toString);
        assertEquals(1, missing.err().strip().lines().count(), missing::toString);
        assertTrue(missing.err().startsWith("stack replay: cannot read ") && missing.err().contains("no such file"),
                missing::toString);

        Path text = dir.resolve("text.pcap");
        java.nio.file.Files.writeString(text, "not a capture at all, just some text\n");
        Run garbage = replay(text.toString(), "--addr", STACK + "/24");
        assertEquals(Main.USAGE, garbage.code(), garbage::toString);
        assertEquals(1, garbage.err().strip().lines().count(), garbage::toString);
        assertTrue(garbage.err().contains("as a capture"), garbage::toString);

        Run outAll = replay(text.toString(), "--addr", STACK + "/24", "--out-all");
        assertEquals(Main.USAGE, outAll.code(), outAll::toString);
        assertTrue(outAll.err().contains("--out-all needs --out"), outAll::toString);

        Path empty = dir.resolve("empty.pcap");
        write(empty, List.of(), 1);
        Run none = replay(empty.toString(), "--addr", STACK + "/24");
        assertEquals(Main.OK, none.code(), none::toString);
        assertTrue(none.out().contains("holds no frames"), none::toString);
    }
}
