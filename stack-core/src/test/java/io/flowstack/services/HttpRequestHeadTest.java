package io.flowstack.services;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The in-place request head parser (RFC 9112), on off-heap bytes at an offset, as a ring hands them. */
class HttpRequestHeadTest {
    private final Arena arena = Arena.ofAuto();
    private final HttpRequestHead h = new HttpRequestHead();
    private MemorySegment seg;
    private static final int AT = 100; // the head does not start at 0, as in a ring

    private int load(String head) {
        byte[] b = head.getBytes(StandardCharsets.ISO_8859_1);
        seg = arena.allocate(AT + b.length + 16);
        MemorySegment.copy(b, 0, seg, ValueLayout.JAVA_BYTE, AT, b.length);
        return b.length;
    }

    private void parse(String head) {
        int len = load(head);
        assertEquals(len, h.headEnd(seg, AT, len, 0), "the whole head up to its blank line");
        h.parse(seg, AT, len);
    }

    @Test
    void aKeepAliveHttp10RequestWithABody() {
        parse("GET /bytes/7?x=1 HTTP/1.0\r\nConnection: foo, Keep-Alive\r\nContent-Length: 5, 5\r\n\r\n");
        assertEquals(0, h.status, h.why);
        assertEquals(HttpRequestHead.GET, h.method);
        assertEquals(0, h.minor);
        assertTrue(h.persist, "RFC 9112 9.3: HTTP/1.0 with keep-alive persists");
        assertEquals(5, h.contentLength);
        assertEquals(7, h.bytesN());
        assertFalse(h.pathIs("/"));
    }

    @Test
    void theParsedHeadIsACopyThatOutlivesTheRingBytes() {
        parse("GET /bytes/12 HTTP/1.1\r\nHost: a\r\n\r\n");
        seg.fill((byte) 'x'); // the ring's bytes are consumed and overwritten
        assertEquals(12, h.bytesN(), "the path is read from the parser's own copy");
        assertEquals("GET", new String(h.bytes, h.methodOff, h.methodLen, StandardCharsets.ISO_8859_1));
    }

    @Test
    void aHeadLongerThanTheCapacityIsTheCallersError() {
        MemorySegment big = arena.allocate(HttpRequestHead.CAPACITY + 1);
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> h.parse(big, 0, HttpRequestHead.CAPACITY + 1));
        assertTrue(e.getMessage().contains("8192"), e.getMessage());
    }

    @Test
    void http11PersistsUnlessClose() {
        parse("HEAD / HTTP/1.1\r\nHost: a\r\n\r\n");
        assertEquals(0, h.status);
        assertEquals(HttpRequestHead.HEAD, h.method);
        assertTrue(h.persist);
        assertTrue(h.pathIs("/"));
        assertEquals(-1, h.contentLength);
        parse("GET / HTTP/1.1\nHost: a\nconnection: CLOSE\n\n"); // bare LF lines are accepted
        assertEquals(0, h.status);
        assertFalse(h.persist);
    }

    @Test
    void absoluteFormTargetsGiveTheirPath() {
        parse("GET http://h/bytes/3 HTTP/1.1\r\nHost: h\r\n\r\n");
        assertEquals(3, h.bytesN());
        parse("GET HTTPS://h?q HTTP/1.1\r\nHost: h\r\n\r\n");
        assertTrue(h.pathIs("/"), "an empty path is /");
        parse("GET relative HTTP/1.1\r\nHost: h\r\n\r\n");
        assertEquals(0, h.status);
        assertFalse(h.hasPath());
    }

    @Test
    void refusals() {
        String[][] cases = {
            {"GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n", "400"},
            {"GET / HTTP/2.0\r\nHost: a\r\n\r\n", "505"},
            {"GET / HTTP/1.1\r\n\r\n", "400"},
            {"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", "400"},
            {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1, 2\r\n\r\n", "400"},
            {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", "400"},
            {"GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", "400"},
            {"GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", "400"},
            {"GET / HTTP/1.1\r\nHost : a\r\n\r\n", "400"},
            {"G(T / HTTP/1.1\r\nHost: a\r\n\r\n", "400"},
            {"GET  / HTTP/1.1\r\nHost: a\r\n\r\n", "400"},
        };
        for (String[] c : cases) {
            parse(c[0]);
            assertEquals(Integer.parseInt(c[1]), h.status, c[0]);
        }
    }

    @Test
    void theHeadEndIsFoundAcrossCallsFromWhereTheSearchStopped() {
        String head = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
        int len = load(head);
        assertEquals(-1, h.headEnd(seg, AT, len - 2, 0), "not all there yet");
        int resume = h.scanned;
        assertTrue(resume > 0 && resume < len - 2, "resumes near the end: " + resume);
        assertEquals(len, h.headEnd(seg, AT, len, resume));
    }
}
