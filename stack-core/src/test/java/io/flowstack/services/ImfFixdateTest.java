package io.flowstack.services;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The allocation-free IMF-fixdate (RFC 9110 5.6.7) agrees with java.time's formatting. */
class ImfFixdateTest {
    private static final DateTimeFormatter IMF =
            DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.US).withZone(ZoneOffset.UTC);

    private static String format(long second) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment m = a.allocate(ImfFixdate.LENGTH);
            ImfFixdate.write(second, m, 0);
            return new String(m.toArray(ValueLayout.JAVA_BYTE), StandardCharsets.US_ASCII);
        }
    }

    @Test
    void matchesJavaTime() {
        assertEquals("Sun, 06 Nov 1994 08:49:37 GMT", format(784111777L)); // RFC 9110's example
        long[] edges = {0, 951782400L /* 2000-02-29 */, 4107542400L /* 2100-03-01 */, 1709251199L, 253402300799L};
        for (long e : edges) {
            assertEquals(IMF.format(Instant.ofEpochSecond(e)), format(e), "second " + e);
        }
        SplittableRandom r = new SplittableRandom(9110);
        for (int i = 0; i < 20_000; i++) {
            long sec = r.nextLong(0, 253402300800L); // up to year 9999
            assertEquals(IMF.format(Instant.ofEpochSecond(sec)), format(sec), "second " + sec);
        }
    }
}
