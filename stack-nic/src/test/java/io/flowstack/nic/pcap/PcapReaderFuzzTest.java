package io.flowstack.nic.pcap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code stack replay}'s reader ({@link PcapReader}, libpcap through Pcap4J): fuzzed files. Only
 * the Java side is instrumented (libpcap's parser is native: the fuzzer is blind to its
 * branches, but not to what it hands back).
 *
 * <p>Invariants: {@link PcapReader#open} and {@link PcapReader#next} fail only with
 * {@link IllegalArgumentException} naming the file; every record read has its bytes, at most
 * 262,144 of them (libpcap's largest snapshot length), a count that goes up by one and an
 * original length of at least the bytes captured; the reader stops within the records the file can hold.
 */
class PcapReaderFuzzTest {
    static Path dir;
    static Path file;

    @BeforeAll
    static void create() throws IOException {
        dir = Files.createTempDirectory("fuzz-pcap");
        file = dir.resolve("input.pcap");
    }

    @AfterAll
    static void delete() throws IOException {
        Files.deleteIfExists(file);
        Files.deleteIfExists(dir);
    }

    static byte[] pcap(int magic, int records) {
        ByteBuffer b = ByteBuffer.allocate(24 + records * (16 + 60)).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(magic).putShort((short) 2).putShort((short) 4).putInt(0).putInt(0).putInt(65535).putInt(1);
        for (int i = 0; i < records; i++) {
            b.putInt(1_700_000_000 + i).putInt(i * 1000).putInt(60).putInt(60 + i);
            b.put(new byte[60]);
        }
        return b.array();
    }

    static Stream<Arguments> files() {
        return Stream.of(arguments((Object) pcap(0xA1B2C3D4, 2)), arguments((Object) pcap(0xA1B23C4D, 1)),
                arguments((Object) pcap(0xA1B2C3D4, 0)));
    }

    @MethodSource("files")
    @FuzzTest
    void files(byte[] input) throws IOException {
        Files.write(file, input);
        PcapReader r;
        try {
            r = PcapReader.open(file);
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage().contains(file.toString()), "names the file: " + e.getMessage());
            return;
        }
        try (r) {
            long records = 0;
            while (true) {
                boolean more;
                try {
                    more = r.next();
                } catch (IllegalArgumentException e) {
                    assertTrue(e.getMessage().contains(file.toString()), "names the file: " + e.getMessage());
                    break;
                }
                if (!more) {
                    break;
                }
                records++;
                assertEquals(records, r.records(), "records counted");
                assertNotNull(r.frame(), "a record has its bytes");
                assertTrue(r.frame().length <= 262_144, "at most the largest snapshot length");
                assertTrue(r.originalLength() >= r.frame().length, "no shorter on the wire than captured");
                assertTrue(records <= input.length / 16, "no more records than headers fit in the file");
            }
        }
    }
}
