package io.flowstack.nic.pcap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link PcapReader} on damaged files: one clear error naming the file and the record. */
class PcapReaderTest {
    @TempDir
    Path dir;

    /**
     * Found by PcapReaderFuzzTest: a record whose fraction field is 10^9 or more (a nanosecond
     * file) made java.sql.Timestamp's own message, "nanos > 999999999 or < 0", escape.
     */
    @Test
    void aRecordWithATimestampFractionOfASecondOrMoreIsOneClearError() throws IOException {
        ByteBuffer b = ByteBuffer.allocate(24 + 2 * (16 + 60)).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0xA1B23C4D).putShort((short) 2).putShort((short) 4).putInt(0).putInt(0).putInt(65535).putInt(1);
        b.putInt(1_700_000_000).putInt(5).putInt(60).putInt(60).put(new byte[60]);
        b.putInt(1_700_000_001).putInt(1_000_000_000).putInt(60).putInt(60).put(new byte[60]);
        Path file = dir.resolve("bad-timestamp.pcap");
        Files.write(file, b.array());
        try (PcapReader r = PcapReader.open(file)) {
            assertTrue(r.next());
            assertEquals(1_700_000_000_000_000_005L, r.timestampNanos());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::next);
            assertTrue(e.getMessage().startsWith(file + ": record 2 has a bad timestamp"), e.getMessage());
            assertEquals(1, r.records(), "the bad record is not counted");
        }
    }

    /**
     * Found by PcapReaderFuzzTest: an original length of 2^31 or more (unsigned in the file) read
     * as negative; one below the captured length is as wrong. Both give the captured length.
     */
    @Test
    void anOriginalLengthBelowTheCapturedOneIsTheCapturedOne() throws IOException {
        ByteBuffer b = ByteBuffer.allocate(24 + 3 * (16 + 60)).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0xA1B2C3D4).putShort((short) 2).putShort((short) 4).putInt(0).putInt(0).putInt(65535).putInt(1);
        b.putInt(1_700_000_000).putInt(0).putInt(60).putInt(0x8000_0000).put(new byte[60]);
        b.putInt(1_700_000_000).putInt(0).putInt(60).putInt(20).put(new byte[60]);
        b.putInt(1_700_000_000).putInt(0).putInt(60).putInt(1514).put(new byte[60]);
        Path file = dir.resolve("bad-lengths.pcap");
        Files.write(file, b.array());
        try (PcapReader r = PcapReader.open(file)) {
            assertTrue(r.next());
            assertEquals(60, r.originalLength(), "2^31: the captured length");
            assertTrue(r.next());
            assertEquals(60, r.originalLength(), "less than captured: the captured length");
            assertTrue(r.next());
            assertEquals(1514, r.originalLength(), "a cut frame keeps its length on the wire");
        }
    }
}
