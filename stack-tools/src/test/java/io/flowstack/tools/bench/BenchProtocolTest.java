package io.flowstack.tools.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.tools.Json;
import io.flowstack.tools.bench.BenchProtocol.Header;
import io.flowstack.tools.bench.BenchProtocol.ProtocolException;
import io.flowstack.tools.bench.BenchProtocol.Trailer;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The wire protocol, the data pattern and the JSON helper. */
class BenchProtocolTest {

    @Test
    void headersRoundTripAndHaveTheDocumentedLayout() throws Exception {
        for (Header h : List.of(Header.toServer(), Header.fromServer(0), Header.fromServer(1L << 40),
                Header.rr(1, 1), Header.rr(100, 200_000), Header.crr(1, BenchProtocol.MAX_MESSAGE))) {
            byte[] b = h.encode();
            assertEquals(BenchProtocol.HEADER_BYTES, b.length);
            assertEquals(h, BenchProtocol.decode(b));
        }
        // docs/BENCHMARKS.md: "FSB1", mode, 3 zero bytes, then sizes big-endian
        assertEquals("46534231030000000000006400000001", HexFormat.of().formatHex(Header.rr(100, 1).encode()));
        assertEquals("46534231020000000000000000001000", HexFormat.of().formatHex(Header.fromServer(4096).encode()));
    }

    @Test
    void badHeadersAreRejected() {
        byte[] b = Header.rr(1, 1).encode();
        b[0] = 'X';
        assertTrue(assertThrows(ProtocolException.class, () -> BenchProtocol.decode(b)).getMessage().contains("magic"));
        byte[] mode = Header.rr(1, 1).encode();
        mode[4] = 9;
        assertThrows(ProtocolException.class, () -> BenchProtocol.decode(mode));
        byte[] zero = Header.rr(1, 1).encode();
        zero[11] = 0; // request size 0
        assertThrows(ProtocolException.class, () -> BenchProtocol.decode(zero));
        byte[] big = Header.crr(BenchProtocol.MAX_MESSAGE, 1).encode();
        big[8] = 0x7f;
        assertThrows(ProtocolException.class, () -> BenchProtocol.decode(big));
    }

    @Test
    void trailersRoundTrip() throws Exception {
        Trailer t = new Trailer(BenchProtocol.STATUS_OK, 123_456_789_012L);
        assertEquals(t, Trailer.decode(t.encode()));
        assertTrue(t.intact());
        assertFalse(new Trailer(BenchProtocol.STATUS_CORRUPT, 1).intact());
        assertThrows(ProtocolException.class, () -> Trailer.decode(Header.toServer().encode()));
    }

    @Test
    void patternMatchesAtAnyOffsetAndCatchesOneBadByte() {
        MemorySegment pattern = BenchProtocol.pattern(Arena.ofAuto(), 1000);
        assertEquals(BenchProtocol.patternLength(1000), pattern.byteSize());
        byte[] stream = new byte[10_000];
        for (int i = 0; i < stream.length; i++) {
            stream[i] = BenchProtocol.patternByte(i);
        }
        assertArrayEquals(java.util.Arrays.copyOf(BenchProtocol.patternArray(10), 10), java.util.Arrays.copyOf(stream, 10));
        MemorySegment s = MemorySegment.ofArray(stream);
        for (int pos = 0; pos < 9000; pos += 997) {
            assertTrue(BenchProtocol.matches(s, pos, 1000, pattern, pos), "at " + pos);
            assertFalse(BenchProtocol.matches(s, pos, 1000, pattern, pos + 1), "shifted at " + pos);
        }
        assertTrue(BenchProtocol.matchesLong(s, 17, 9000, pattern, 17));
        stream[5000] ^= 1;
        assertFalse(BenchProtocol.matchesLong(s, 17, 9000, pattern, 17));
        assertTrue(BenchProtocol.matchesLong(s, 17, 4983, pattern, 17));
        assertEquals((byte) 250, BenchProtocol.patternByte(250));
        assertEquals((byte) 0, BenchProtocol.patternByte(251));
        assertEquals((byte) 0, pattern.get(ValueLayout.JAVA_BYTE, 251));
    }

    @Test
    void jsonWritesAndParsesBack() {
        Json.Obj o = Json.obj().put("s", "a \"quoted\"\\ line\n\ttab").put("i", 12345678901L).put("d", 0.5)
                .put("big", 9.4e9).put("small", 1.25e-7).put("t", true).put("n", null)
                .put("list", List.of(1L, "x", Json.obj().put("k", false))).put("nan", Double.NaN);
        Map<String, Object> m = Json.parseObject(o.toString());
        assertEquals("a \"quoted\"\\ line\n\ttab", m.get("s"));
        assertEquals(12345678901L, m.get("i"));
        assertEquals(0.5, (Double) m.get("d"), 0);
        assertEquals(9.4e9, ((Number) m.get("big")).doubleValue(), 0);
        assertEquals(1.25e-7, ((Number) m.get("small")).doubleValue(), 1e-12);
        assertEquals(Boolean.TRUE, m.get("t"));
        assertTrue(m.containsKey("n"));
        assertNull(m.get("n"));
        assertNull(m.get("nan"));
        assertEquals(List.of(1L, "x", Map.of("k", false)), m.get("list"));
        assertEquals(Map.of("a", List.of()), Json.parse(" {\"a\" : [ ] } "));
        assertThrows(IllegalArgumentException.class, () -> Json.parse("{\"a\":1,}"));
        assertThrows(IllegalArgumentException.class, () -> Json.parse("{\"a\":1} x"));
        assertThrows(IllegalArgumentException.class, () -> Json.parse("[1 2]"));
        assertEquals("\u00e9", Json.parse("\"\\u00e9\""));
    }
}
