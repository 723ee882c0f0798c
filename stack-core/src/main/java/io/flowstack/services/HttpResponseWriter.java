package io.flowstack.services;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;

/**
 * Builds HTTP/1.1 responses (RFC 9112 4, 6) in one core's reusable off-heap buffer from
 * preformatted fragments (status line and fixed fields, content types, connection options), the
 * core's Date (RFC 9110 6.6.1, formatted by {@link #refreshDate} at most once a second) and the
 * body, with no allocation; the services then write the buffer to the connection in one call.
 *
 * <p>Owned by: the netisr of one core (a service keeps one per core).
 */
final class HttpResponseWriter {
    /** {@link #head}: no Connection field. */
    static final int CONN_NONE = 0;
    /** {@link #head}: {@code Connection: close}. */
    static final int CONN_CLOSE = 1;
    /** {@link #head}: {@code Connection: keep-alive} (an HTTP/1.0 client that asked for it). */
    static final int CONN_KEEP_ALIVE = 2;

    static final MemorySegment TYPE_HTML = fragment("\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: ");
    static final MemorySegment TYPE_TEXT = fragment("\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ");
    static final MemorySegment TYPE_OCTETS = fragment("\r\nContent-Type: application/octet-stream\r\nContent-Length: ");
    private static final MemorySegment S200 = status("200 OK");
    private static final MemorySegment S400 = status("400 Bad Request");
    private static final MemorySegment S404 = status("404 Not Found");
    private static final MemorySegment S405 = status("405 Method Not Allowed");
    private static final MemorySegment S408 = status("408 Request Timeout");
    private static final MemorySegment S431 = status("431 Request Header Fields Too Large");
    private static final MemorySegment S505 = status("505 HTTP Version Not Supported");
    private static final MemorySegment ALLOW = fragment("\r\nAllow: GET, HEAD");
    private static final MemorySegment CLOSE = fragment("\r\nConnection: close");
    private static final MemorySegment KEEP_ALIVE = fragment("\r\nConnection: keep-alive");
    private static final MemorySegment END = fragment("\r\n\r\n");

    /** The response being built: {@code buf[0, length)}. */
    final MemorySegment buf;
    int length;
    private final MemorySegment date;
    private long dateSecond = Long.MIN_VALUE;

    HttpResponseWriter(Arena arena, int capacity, long epochSecond) {
        this.buf = arena.allocate(capacity, 64);
        this.date = arena.allocate(ImfFixdate.LENGTH);
        refreshDate(epochSecond);
    }

    /** Formats the Date if the second changed (the services call this on their tick). */
    void refreshDate(long epochSecond) {
        if (epochSecond != dateSecond) {
            dateSecond = epochSecond;
            ImfFixdate.write(epochSecond, date, 0);
        }
    }

    /** The reason phrase's fragment of {@code status}. */
    static MemorySegment statusLine(int status) {
        return switch (status) {
            case 200 -> S200;
            case 400 -> S400;
            case 404 -> S404;
            case 405 -> S405;
            case 408 -> S408;
            case 431 -> S431;
            case 505 -> S505;
            default -> throw new IllegalArgumentException("no status line for " + status);
        };
    }

    /**
     * Starts a response: status line, {@code Server}, {@code Date}, {@code Content-Type}
     * ({@code type}, a fragment of this class or of {@link #fragment}), {@code Content-Length},
     * {@code Allow} if {@code allow}, the connection option and the blank line.
     */
    void head(int status, MemorySegment type, long contentLength, boolean allow, int connection) {
        length = 0;
        put(statusLine(status));
        put(date);
        put(type);
        decimal(contentLength);
        if (allow) {
            put(ALLOW);
        }
        if (connection == CONN_CLOSE) {
            put(CLOSE);
        } else if (connection == CONN_KEEP_ALIVE) {
            put(KEEP_ALIVE);
        }
        put(END);
    }

    /** Appends {@code src[off, off + n)}. */
    void put(MemorySegment src, long off, int n) {
        MemorySegment.copy(src, off, buf, length, n);
        length += n;
    }

    /** Appends {@code src[off, off + n)}. */
    void put(byte[] src, int off, int n) {
        MemorySegment.copy(src, off, buf, ValueLayout.JAVA_BYTE, length, n);
        length += n;
    }

    /** Appends a whole fragment. */
    void put(MemorySegment fragment) {
        put(fragment, 0, (int) fragment.byteSize());
    }

    /** Appends the ASCII characters of {@code s} (a constant: no allocation). */
    void ascii(String s) {
        for (int i = 0; i < s.length(); i++) {
            buf.set(ValueLayout.JAVA_BYTE, length++, (byte) s.charAt(i));
        }
    }

    /** Appends {@code v} &ge; 0 in decimal. */
    void decimal(long v) {
        int digits = 1;
        for (long x = v; x >= 10; x /= 10) {
            digits++;
        }
        for (int i = digits - 1; i >= 0; i--) {
            buf.set(ValueLayout.JAVA_BYTE, length + i, (byte) ('0' + v % 10));
            v /= 10;
        }
        length += digits;
    }

    /** Bytes {@link #head} writes before the body, for a Content-Length of {@code contentLength}. */
    static int headLength(int status, MemorySegment type, long contentLength, boolean allow, int connection) {
        int digits = 1;
        for (long x = contentLength; x >= 10; x /= 10) {
            digits++;
        }
        return (int) (statusLine(status).byteSize() + ImfFixdate.LENGTH + type.byteSize() + digits
                + (allow ? ALLOW.byteSize() : 0)
                + (connection == CONN_CLOSE ? CLOSE.byteSize() : connection == CONN_KEEP_ALIVE ? KEEP_ALIVE.byteSize() : 0)
                + END.byteSize());
    }

    /** The status line and fixed fields up to the Date's value. */
    private static MemorySegment status(String statusAndReason) {
        return fragment("HTTP/1.1 " + statusAndReason + "\r\nServer: flowstack\r\nDate: ");
    }

    /** {@code s} in UTF-8, off-heap for the life of the process (read-only by convention, shared by the cores). */
    static MemorySegment fragment(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        MemorySegment m = Arena.global().allocate(b.length);
        MemorySegment.copy(b, 0, m, ValueLayout.JAVA_BYTE, 0, b.length);
        return m.asReadOnly();
    }
}
