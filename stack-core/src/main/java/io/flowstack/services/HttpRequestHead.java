package io.flowstack.services;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * An HTTP/1.1 request head (RFC 9112 2-3, 5-6) found in memory (a receive ring's, as a
 * {@code TcpHandler} is handed them) and parsed with no allocation: the parse leaves offsets and
 * flags in this object's fields, which one instance per core reuses for every request.
 *
 * <p>{@link #headEnd} finds the blank line that ends a head, in place; {@link #parse} copies the
 * head (at most {@link #CAPACITY} bytes, typically under a hundred) into this object's
 * {@link #bytes} and checks there the request line and the header fields the services act on
 * ({@code Host}, {@code Connection}, {@code Content-Length}, {@code Transfer-Encoding},
 * {@code Expect}), setting {@link #status} to 0, or to the status of the refusal (400, 505) with
 * {@link #why}. Parsing an array rather than the segment is cheaper to run and, above all, to
 * compile: on 2 CPUs the JIT's time is taken from the first requests' (docs/BENCHMARKS.md,
 * "Keep-alive's first 5 s").
 *
 * <p>Owned by: the netisr of one core (a service keeps one per core).
 */
final class HttpRequestHead {
    /** {@link #method}: GET. */
    static final int GET = 0;
    /** {@link #method}: HEAD. */
    static final int HEAD = 1;
    /** {@link #method}: any other token. */
    static final int OTHER = 2;

    /** 0 if the head is acceptable, else the status to refuse it with (then the connection closes). */
    int status;
    /** Why it was refused (a constant: no allocation). */
    String why;
    /** GET, HEAD or OTHER. */
    int method;
    /** The method's bytes: {@code bytes[methodOff, methodOff + methodLen)}. */
    int methodOff;
    int methodLen;
    /** The path (RFC 9112 3.2: origin-form, or the path of an absolute-form), without the query, in {@link #bytes}; -1 if the target is neither. */
    int pathOff;
    int pathLen;
    /** The minor version: 0 or 1 (or more: treated as 1). */
    int minor;
    /** RFC 9112 9.3: whether the connection persists after the response. */
    boolean persist;
    /** The Content-Length, or -1 if there was none. */
    long contentLength;
    /** A Transfer-Encoding was present (the body's length is unknown to this parser). */
    boolean transferEncoding;
    /** {@code Expect: 100-continue} with a body. */
    boolean expectContinue;

    /** The longest head {@link #parse} takes: the request line plus the header section, blank line included. */
    static final int CAPACITY = 8192;

    /** The last head parsed, from index 0; the offsets above index it. */
    final byte[] bytes = new byte[CAPACITY];

    private static final ValueLayout.OfByte B = ValueLayout.JAVA_BYTE;

    /**
     * The length of the head at {@code d[off, off + len)} up to and including the blank line
     * that ends it (CRLF CRLF, or LF LF leniently), or -1 if it is not all there. {@code from} is
     * where the search may resume (bytes before it were searched already); {@link #scanned} is
     * where the next search may resume.
     */
    int headEnd(MemorySegment d, long off, int len, int from) {
        for (int i = Math.max(0, from); i < len; i++) {
            if (d.get(B, off + i) == '\n') {
                if (i + 1 < len && d.get(B, off + i + 1) == '\n') {
                    return i + 2;
                }
                if (i + 2 < len && d.get(B, off + i + 1) == '\r' && d.get(B, off + i + 2) == '\n') {
                    return i + 3;
                }
                if (i + 2 >= len) {
                    scanned = i; // look at this LF again when more has arrived
                    return -1;
                }
            }
        }
        scanned = len;
        return -1;
    }

    /** Where the last unsuccessful {@link #headEnd} may resume. */
    int scanned;

    private void reject(int s, String reason) {
        if (status == 0) {
            status = s;
            why = reason;
        }
    }

    /**
     * Parses the head {@code d[off, off + len)} (as {@link #headEnd} delimited it, leading empty
     * lines already skipped; at most {@link #CAPACITY} bytes), after copying it to {@link #bytes}.
     * Sets the fields; {@link #status} is 0 if it can be served.
     */
    void parse(MemorySegment d, long off, int len) {
        if (len < 0 || len > CAPACITY) {
            throw new IllegalArgumentException("a head of " + len + " bytes: the caller bounds it to " + CAPACITY);
        }
        MemorySegment.copy(d, B, off, bytes, 0, len);
        status = 0;
        why = null;
        byte[] h = bytes;
        // RFC 9112 2.2: a CR not followed by LF is refused. Within a line every field is checked
        // for control characters (a CR is one), so one search for each line's LF finds both.
        int lf = indexOf(h, 0, len, (byte) '\n');
        int next = lf + 1;
        requestLine(h, 0, lf > 0 && h[lf - 1] == '\r' ? lf - 1 : lf);
        if (status != 0) {
            return;
        }
        int hosts = 0;
        boolean close = false;
        boolean keepAlive = false;
        contentLength = -1;
        transferEncoding = false;
        boolean expect = false;
        for (int ls = next; ls < len; ls = next) {
            lf = indexOf(h, ls, len, (byte) '\n');
            if (lf < 0) {
                lf = len; // not reached: a head ends with its blank line
            }
            int le = lf > ls && h[lf - 1] == '\r' ? lf - 1 : lf;
            next = lf + 1;
            if (le == ls) {
                break; // the blank line that ends the head
            }
            byte first = h[ls];
            if (first == ' ' || first == '\t') {
                reject(400, "obsolete line folding in the header section"); // RFC 9112 5.2
                return;
            }
            int colon = indexOf(h, ls, le, (byte) ':');
            if (colon <= ls) {
                reject(400, "a header line without a field name and colon");
                return;
            }
            if (!token(h, ls, colon)) {
                reject(400, "bad header field name"); // RFC 9112 5.1: no whitespace before the colon
                return;
            }
            int vs = colon + 1;
            int ve = le;
            while (vs < ve && ows(h[vs])) {
                vs++;
            }
            while (ve > vs && ows(h[ve - 1])) {
                ve--;
            }
            for (int p = vs; p < ve; p++) {
                int ch = h[p] & 0xFF;
                if ((ch < 0x20 && ch != '\t') || ch == 0x7F) {
                    reject(400, ch == '\r' ? "bare CR in the request head" // RFC 9112 2.2
                            : "control character in a header field value"); // RFC 9110 5.5
                    return;
                }
            }
            int nameLen = colon - ls;
            if (equalsIgnoreCase(h, ls, nameLen, "host")) {
                hosts++;
            } else if (equalsIgnoreCase(h, ls, nameLen, "connection")) {
                // RFC 9110 7.6.1: a list of connection options
                for (int p = vs; p >= 0; ) {
                    p = element(h, p, ve);
                    close |= equalsIgnoreCase(h, es, ee - es, "close");
                    keepAlive |= equalsIgnoreCase(h, es, ee - es, "keep-alive");
                }
            } else if (equalsIgnoreCase(h, ls, nameLen, "content-length")) {
                // RFC 9112 6.3 (5): a list of identical values is one value; anything else is refused
                for (int p = vs; p >= 0; ) {
                    p = element(h, p, ve);
                    long n = decimal(h, es, ee - es);
                    if (n < 0 || (contentLength >= 0 && n != contentLength)) {
                        reject(400, "bad Content-Length");
                        return;
                    }
                    contentLength = n;
                }
            } else if (equalsIgnoreCase(h, ls, nameLen, "transfer-encoding")) {
                transferEncoding = true;
            } else if (equalsIgnoreCase(h, ls, nameLen, "expect")) {
                expect |= equalsIgnoreCase(h, vs, ve - vs, "100-continue");
            }
        }
        // RFC 9112 3.2: an HTTP/1.1 request has exactly one Host
        if (minor >= 1 && hosts != 1) {
            reject(400, hosts == 0 ? "HTTP/1.1 request without Host" : "more than one Host");
            return;
        }
        if (hosts > 1) {
            reject(400, "more than one Host");
            return;
        }
        // RFC 9112 6.1: Transfer-Encoding with Content-Length, or in HTTP/1.0, is refused
        if (transferEncoding && (minor == 0 || contentLength >= 0)) {
            reject(400, minor == 0 ? "Transfer-Encoding in an HTTP/1.0 request"
                    : "both Transfer-Encoding and Content-Length");
            return;
        }
        persist = !close && (minor >= 1 || keepAlive); // RFC 9112 9.3
        expectContinue = expect && contentLength > 0;
    }

    /** RFC 9112 3: method SP request-target SP HTTP-version. */
    private void requestLine(byte[] d, int ls, int le) {
        int sp1 = indexOf(d, ls, le, (byte) ' ');
        int sp2 = sp1 < 0 ? -1 : indexOf(d, sp1 + 1, le, (byte) ' ');
        if (sp1 < 0 || sp2 < 0 || indexOf(d, sp2 + 1, le, (byte) ' ') >= 0) {
            reject(400, "the request line is not METHOD SP TARGET SP VERSION");
            return;
        }
        if (!token(d, ls, sp1)) {
            reject(400, "bad method");
            return;
        }
        methodOff = ls;
        methodLen = sp1 - ls;
        method = equals(d, ls, methodLen, "GET") ? GET : equals(d, ls, methodLen, "HEAD") ? HEAD : OTHER;
        int ts = sp1 + 1;
        int te = sp2;
        if (te == ts) {
            reject(400, "bad request target");
            return;
        }
        for (int p = ts; p < te; p++) {
            int ch = d[p] & 0xFF;
            if (ch <= 0x20 || ch >= 0x7F) {
                reject(400, "bad request target");
                return;
            }
        }
        // RFC 9112 2.3: HTTP-version = "HTTP/" DIGIT "." DIGIT
        int v = sp2 + 1;
        if (le - v != 8 || !equals(d, v, 5, "HTTP/") || !digit(d[v + 5]) || d[v + 6] != '.'
                || !digit(d[v + 7])) {
            reject(400, "bad HTTP version");
            return;
        }
        if (d[v + 5] != '1') {
            reject(505, "only HTTP/1.x is supported");
            return;
        }
        minor = d[v + 7] - '0';
        path(d, ts, te);
    }

    /** RFC 9112 3.2.1 origin-form, 3.2.2 absolute-form: sets pathOff/pathLen (-1 if neither). */
    private void path(byte[] d, int ts, int te) {
        int p = ts;
        if (startsWithIgnoreCase(d, ts, te, "http://") || startsWithIgnoreCase(d, ts, te, "https://")) {
            int authority = indexOf(d, ts, te, (byte) '/') + 2;
            int slash = indexOf(d, authority, te, (byte) '/');
            int query = indexOf(d, authority, te, (byte) '?');
            if (slash < 0 || (query >= 0 && query < slash)) {
                pathOff = -1; // an empty path is "/" (RFC 9110 4.2.3)
                pathLen = 1;
                return;
            }
            p = slash;
        }
        if (d[p] != '/') {
            pathOff = -1;
            pathLen = -1;
            return;
        }
        int q = indexOf(d, p, te, (byte) '?');
        pathOff = p;
        pathLen = (q < 0 ? te : q) - p;
    }

    /** Whether the path is {@code s} exactly. */
    boolean pathIs(String s) {
        if (pathOff < 0) {
            return pathLen == 1 && s.equals("/");
        }
        return equals(bytes, pathOff, pathLen, s);
    }

    /** Whether the target had a usable path (origin-form or absolute-form). */
    boolean hasPath() {
        return pathLen >= 0;
    }

    /** The bounds of the list element {@link #element} found last, optional whitespace trimmed. */
    private int es;
    private int ee;

    /**
     * One element of a comma-separated header list (RFC 9110 5.6.1) starting at {@code p}, in a
     * value that ends at {@code ve}: its bounds, without the optional whitespace around it, go to
     * {@link #es} and {@link #ee}.
     *
     * @return where the next element starts, or -1 after the last
     */
    private int element(byte[] d, int p, int ve) {
        int comma = indexOf(d, p, ve, (byte) ',');
        int os = p;
        int oe = comma < 0 ? ve : comma;
        while (os < oe && ows(d[os])) {
            os++;
        }
        while (oe > os && ows(d[oe - 1])) {
            oe--;
        }
        es = os;
        ee = oe;
        return comma < 0 ? -1 : comma + 1;
    }

    /** The number N of a {@code /bytes/N} path (at most 15 digits), -1 if not of that form, -2 if not a number. */
    long bytesN() {
        if (pathOff < 0 || pathLen < 7 || !equals(bytes, pathOff, 7, "/bytes/")) {
            return -1;
        }
        long n = decimal(bytes, pathOff + 7, pathLen - 7);
        return n < 0 ? -2 : n;
    }

    // ------------------------------------------------------------------ bytes

    static int indexOf(byte[] d, int from, int to, byte b) {
        for (int p = from; p < to; p++) {
            if (d[p] == b) {
                return p;
            }
        }
        return -1;
    }

    private static boolean ows(byte b) {
        return b == ' ' || b == '\t';
    }

    private static boolean digit(byte b) {
        return b >= '0' && b <= '9';
    }

    /** A non-negative decimal of 1 to 15 digits, else -1. */
    static long decimal(byte[] d, int off, int len) {
        if (len <= 0 || len > 15) {
            return -1;
        }
        long n = 0;
        for (int i = 0; i < len; i++) {
            byte b = d[off + i];
            if (!digit(b)) {
                return -1;
            }
            n = n * 10 + (b - '0');
        }
        return n;
    }

    /** RFC 9110 5.6.2: token = 1*tchar. */
    static boolean token(byte[] d, int from, int to) {
        if (to <= from) {
            return false;
        }
        for (int p = from; p < to; p++) {
            int ch = d[p] & 0xFF;
            boolean ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')
                    || "!#$%&'*+-.^_`|~".indexOf(ch) >= 0;
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    static boolean equals(byte[] d, int off, int len, String s) {
        if (len != s.length()) {
            return false;
        }
        for (int i = 0; i < len; i++) {
            if (d[off + i] != s.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    /** ASCII case-insensitive comparison with a lower-case {@code s}. */
    static boolean equalsIgnoreCase(byte[] d, int off, int len, String s) {
        if (len != s.length()) {
            return false;
        }
        for (int i = 0; i < len; i++) {
            int ch = d[off + i];
            if (ch >= 'A' && ch <= 'Z') {
                ch += 'a' - 'A';
            }
            if (ch != s.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    private static boolean startsWithIgnoreCase(byte[] d, int from, int to, String s) {
        return to - from >= s.length() && equalsIgnoreCase(d, from, s.length(), s);
    }
}
