package io.flowstack.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.nic.pcap.PcapReader;
import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.function.UnaryOperator;
import org.pcap4j.core.PcapDumper;
import org.pcap4j.core.PcapHandle;
import org.pcap4j.core.Pcaps;
import org.pcap4j.packet.namednumber.DataLinkType;

/**
 * tshark (Wireshark 4.0 in Debian 12) as the independent judge of a capture file: checksum
 * validation on, malformed frames and expert errors listed, TCP streams followed.
 */
final class Tshark {
    /** Validate the IPv4, TCP and UDP checksums (off by default in Wireshark). */
    static final List<String> CHECKSUMS = List.of("-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE",
            "-o", "udp.check_checksum:TRUE");
    /** Frames that are malformed or carry an expert error (a bad checksum is one). */
    static final String PROBLEMS = "_ws.malformed || _ws.expert.severity >= error";

    private Tshark() {
    }

    /** Runs {@code tshark ARGS} in the test's namespace (it only reads files); fails unless it exits 0. */
    static String run(String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add("tshark");
        cmd.addAll(Arrays.asList(args));
        CliLab.Result r = CliLab.run(cmd, Duration.ofSeconds(120));
        assertEquals(0, r.exit(), () -> "tshark failed (is it installed? apt-get install tshark): " + r);
        return r.stdout();
    }

    /** Lines of {@code tshark -r FILE [checksums] -Y FILTER -T fields -e ...}. */
    static List<String> fields(Path file, String filter, String... fields) {
        return fields(file, List.of(), filter, fields);
    }

    /** {@link #fields(Path, String, String...)} with more options first (e.g. {@code -d} decode-as rules). */
    static List<String> fields(Path file, List<String> options, String filter, String... fields) {
        List<String> args = new ArrayList<>(List.of("-r", file.toString()));
        args.addAll(CHECKSUMS);
        args.addAll(options);
        if (filter != null) {
            args.addAll(List.of("-Y", filter));
        }
        args.addAll(List.of("-T", "fields"));
        for (String f : fields) {
            args.addAll(List.of("-e", f));
        }
        return run(args.toArray(String[]::new)).lines().filter(l -> !l.isBlank()).toList();
    }

    /** The frames tshark finds malformed or in error, one line each (number, protocols, expert messages). */
    static List<String> problems(Path file) {
        return problems(file, List.of());
    }

    /**
     * {@link #problems(Path)} with more options, e.g. {@code -d tcp.port==N,data} so that random
     * payload is not taken for an application protocol (Thrift's heuristic finds "errors" in it).
     */
    static List<String> problems(Path file, List<String> options) {
        return fields(file, options, PROBLEMS, "frame.number", "frame.protocols", "_ws.expert.message");
    }

    /** Number of frames in the file as tshark counts them. */
    static int frames(Path file) {
        return fields(file, List.of(), null, "frame.number").size();
    }

    /**
     * The bytes each side of TCP stream {@code stream} sent, reassembled by tshark
     * ({@code -z follow,tcp,raw}): [0] from the node that sent first (the client), [1] from the other.
     */
    static byte[][] follow(Path file, int stream) {
        String out = run("-r", file.toString(), "-q", "-z", "follow,tcp,raw," + stream);
        ByteArrayOutputStream[] sides = {new ByteArrayOutputStream(), new ByteArrayOutputStream()};
        boolean inBody = false;
        for (String line : out.split("\n")) {
            if (line.startsWith("Node 1:")) {
                inBody = true;
                continue;
            }
            if (!inBody || line.startsWith("====") || line.isBlank()) {
                continue;
            }
            int side = line.startsWith("\t") ? 1 : 0;
            sides[side].writeBytes(HexFormat.of().parseHex(line.strip()));
        }
        return new byte[][] {sides[0].toByteArray(), sides[1].toByteArray()};
    }

    /** Copies a pcap file record by record through {@code edit} (which may change a frame in place). */
    static void copy(Path from, Path to, UnaryOperator<byte[]> edit) throws Exception {
        try (PcapReader r = PcapReader.open(from);
                PcapHandle h = Pcaps.openDead(DataLinkType.EN10MB, 262_144, PcapHandle.TimestampPrecision.NANO);
                PcapDumper d = h.dumpOpen(to.toString())) {
            while (r.next()) {
                long ts = r.timestampNanos();
                Timestamp t = new Timestamp(Math.floorDiv(ts, 1_000_000L));
                t.setNanos((int) Math.floorMod(ts, 1_000_000_000L));
                d.dumpRaw(edit.apply(r.frame()), t);
            }
        }
        assertTrue(from.toFile().length() > 0);
    }
}
