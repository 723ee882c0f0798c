package io.flowstack.services;

import io.flowstack.core.FlowStack;
import io.flowstack.core.config.TcpSocketOptions;
import io.flowstack.core.socket.TcpChannel;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * HTTP/1.1 connection handling shared by the HTTP services, on the callback API: request framing
 * (RFC 9112 2.2 leading empty lines, the head up to its blank line, the head-size limit, request
 * bodies with Content-Length dropped), pipelining with back-pressure, responses from a per-core
 * {@link HttpResponseWriter}, bodies streamed from memory on {@code onWritable}, timeouts and
 * the lingering close. A subclass answers one parsed head at a time ({@link #answer}).
 *
 * <p>A partial request stays in the receive buffer until the rest arrives (the search for its
 * end resumes where it stopped). Only a head that straddles the end of the receive ring (a
 * callback sees the ring's bytes up to its end, then the rest from its start) is copied into a
 * buffer of the connection, allocated once, the first time that happens.
 *
 * <p>Owned by: the thread that creates the service (lifecycle); each connection, and each core's
 * parser and response buffer ({@link Local}), by the netisr of that core.
 */
abstract class AbstractHttpService extends AbstractTcpService {
    /** Bound of the request line plus the header section, blank line included. */
    static final int MAX_HEAD = HttpRequestHead.CAPACITY;
    /** Bytes per write of a body. */
    static final int CHUNK = 251 * 512; // 128512
    /** Response buffer per core: the largest small response (a 405 may repeat a method as long as a head). */
    private static final int OUT_BYTES = MAX_HEAD + 4096;
    static final long LINGER_NANOS = TimeUnit.SECONDS.toNanos(2);
    private static final String TOO_LARGE = "the request line and header section exceed " + MAX_HEAD + " bytes";

    final long idleNanos;
    final long writeNanos;
    /** The absolute deadline of a request (accept or first byte to response head); 0: none. */
    final long requestNanos;
    final Local[] locals;

    /** A core's parser and response buffer. Owned by: that core's netisr. */
    static final class Local {
        final HttpRequestHead head = new HttpRequestHead();
        final HttpResponseWriter out;

        Local(Arena arena) {
            out = new HttpResponseWriter(arena, OUT_BYTES, System.currentTimeMillis() / 1000);
        }
    }

    /** One connection's progress. Owned by: the netisr that owns the connection. */
    static class HttpConn extends Conn {
        /** The body being written: {@code bodyLeft} more bytes of {@code body}, from {@code bodyPos}. */
        MemorySegment body;
        /** 0: the body is {@code body} itself; else a pattern of this period repeated ({@code body} holds a chunk and a period). */
        int period;
        long bodyPos;
        long bodyLeft;
        /** The current response closes the connection once written. */
        boolean closeAfter;
        /** Request body bytes still to drop (Content-Length). */
        long skip;
        /** A complete request waits for send space (the write timeout runs). */
        boolean blocked;
        /** Bytes of an incomplete request head are waiting (for 408). */
        boolean partial;
        /** The client's FIN arrived while a response was pending. */
        boolean peerDone;
        /** Where the search for the end of the pending head resumes (relative to its start). */
        int scanned;
        /** A head cut by the end of the receive ring: {@code carry[0, carryLen)} precede the ring's bytes. */
        MemorySegment carry;
        int carryLen;
        /**
         * When (stack clock) the current request's response head is due: set at accept and at
         * the first byte of each later request, not moved by the bytes that follow, cleared
         * when the head is written; 0 when no request runs (or the service sets no deadline).
         */
        long requestDue;

        HttpConn(TcpChannel ch) {
            super(ch);
        }
    }

    AbstractHttpService(FlowStack stack, int port, String kind, TcpSocketOptions options, Duration idle,
                        Duration write, Local[] locals) {
        this(stack, port, kind, options, idle, write, Duration.ZERO, locals);
    }

    /**
     * A service whose requests each have {@code request} (if positive) from the accept or their
     * first byte to their response head; the deadlines are swept every eighth of the shortest
     * timeout.
     */
    AbstractHttpService(FlowStack stack, int port, String kind, TcpSocketOptions options, Duration idle,
                        Duration write, Duration request, Local[] locals) {
        // set before listening: callbacks start at once
        this.idleNanos = idle.toNanos();
        this.writeNanos = write.toNanos();
        long req = Math.max(0, request.toNanos());
        this.requestNanos = req;
        this.locals = locals;
        long shortest = Math.min(idle.toNanos(), write.toNanos());
        super(stack, port, kind, options, (req > 0 ? Math.min(shortest, req) : shortest) / 8);
    }

    /** One {@link Local} per core of {@code stack}, in an automatic arena (freed with the service). */
    static Local[] locals(FlowStack stack) {
        Local[] ls = new Local[stack.cores()];
        Arena arena = Arena.ofAuto();
        for (int i = 0; i < ls.length; i++) {
            ls[i] = new Local(arena);
        }
        return ls;
    }

    /**
     * Answers the request {@link Local#head} describes (its bytes in {@link HttpRequestHead#bytes})
     * if the send buffer has room for what must go out at once, then calls {@link #served},
     * {@link #reject} or {@link #startBody}; returns false (nothing written) if there is no room yet.
     */
    abstract boolean answer(HttpConn s, Local l, Core c);

    /** Whether the connection's next requests must wait (besides a body being written). */
    boolean busy(HttpConn s) {
        return false;
    }

    @Override
    void ticked(Core c) {
        locals[c.index].out.refreshDate(System.currentTimeMillis() / 1000); // formats once a second
    }

    @Override
    Conn open(TcpChannel ch, Core c) {
        HttpConn s = newConn(ch);
        if (requestNanos > 0) {
            s.requestDue = c.now + requestNanos; // the first request's time runs from the accept
        }
        due(s, c.now + idleNanos);
        return s;
    }

    /** A new connection's state. */
    HttpConn newConn(TcpChannel ch) {
        return new HttpConn(ch);
    }

    // ------------------------------------------------------------------ input

    @Override
    final int data(Conn conn, Core c, MemorySegment d, long off, int len) {
        HttpConn s = (HttpConn) conn;
        Local l = locals[c.index];
        if (s.carryLen == 0) {
            return process(s, l, c, d, off, len, true);
        }
        // a head cut by the ring's end: complete it in the carry buffer, serve it from there
        int before = s.carryLen;
        int k = Math.min(len, MAX_HEAD - before);
        MemorySegment.copy(d, off, s.carry, before, k);
        s.carryLen = before + k;
        int used = process(s, l, c, s.carry, 0, s.carryLen, false);
        if (s.mode != SERVING) {
            s.carryLen = 0;
            return len;
        }
        if (used == s.carryLen) {
            s.carryLen = 0; // back to serving in place
            return k == len ? k : k + process(s, l, c, d, off + k, len - k, true);
        }
        if (used > 0) {
            MemorySegment.copy(s.carry, used, s.carry, 0, s.carryLen - used);
            s.carryLen -= used;
        }
        return k;
    }

    /**
     * Serves the complete requests in {@code d[off, off + len)}; returns the bytes consumed. An
     * incomplete head stays unconsumed (or, cut by the ring's end, moves to the carry buffer).
     */
    private int process(HttpConn s, Local l, Core c, MemorySegment d, long off, int len, boolean ring) {
        int used = 0;
        while (used < len) {
            if (s.mode != SERVING) {
                return len; // closing: the rest is drained
            }
            if (requestNanos > 0 && s.requestDue == 0 && s.skip == 0) {
                s.requestDue = c.now + requestNanos; // the first byte of a request: its time runs
                due(s, s.deadline);
            }
            if (s.bodyLeft > 0 || busy(s)) {
                return used; // the next requests wait for this response (back-pressure)
            }
            if (s.skip > 0) {
                int k = (int) Math.min(s.skip, len - used);
                s.skip -= k;
                used += k;
                s.scanned = 0;
                due(s, c.now + idleNanos);
                continue;
            }
            byte b = d.get(ValueLayout.JAVA_BYTE, off + used);
            if (b == '\n' || b == '\r') { // RFC 9112 2.2: empty lines before a request line are ignored
                if (b == '\r') {
                    if (used + 1 == len) {
                        break; // wait for the LF
                    }
                    if (d.get(ValueLayout.JAVA_BYTE, off + used + 1) != '\n') {
                        reject(s, l, c, 400, "bare CR before the request line");
                        return len;
                    }
                    used++;
                }
                used++;
                s.scanned = 0;
                continue;
            }
            HttpRequestHead h = l.head;
            int headLen = h.headEnd(d, off + used, len - used, s.scanned);
            if (headLen < 0) {
                s.scanned = h.scanned;
                if (len - used >= MAX_HEAD) {
                    reject(s, l, c, 431, TOO_LARGE);
                    return len;
                }
                break;
            }
            if (headLen > MAX_HEAD) {
                reject(s, l, c, 431, TOO_LARGE);
                return len;
            }
            h.parse(d, off + used, headLen);
            if (h.status != 0) {
                reject(s, l, c, h.status, h.why);
                return len;
            }
            if (!answer(s, l, c)) {
                s.scanned = 0;
                s.partial = false;
                if (!s.blocked) {
                    s.blocked = true; // offered again when the peer acknowledges: the write timeout runs
                    due(s, c.now + writeNanos);
                }
                return used;
            }
            s.blocked = false;
            used += headLen;
            s.scanned = 0;
        }
        s.partial = used < len;
        if (s.partial && ring && off + len == d.byteSize() && s.mode == SERVING) {
            // cut by the end of the ring: the rest will come at its start, so keep this part aside
            if (s.carry == null) {
                s.carry = Arena.ofAuto().allocate(MAX_HEAD);
            }
            MemorySegment.copy(d, off + used, s.carry, 0, len - used);
            s.carryLen = len - used;
            used = len;
        }
        return used;
    }

    // ------------------------------------------------------------------ output

    /**
     * Sets the connection's deadline to {@code at}, or to its request's due time if that comes
     * first (the request deadline is absolute: nothing moves it later).
     */
    static void due(HttpConn s, long at) {
        s.deadline = s.requestDue != 0 && (at == 0 || s.requestDue - at < 0) ? s.requestDue : at;
    }

    /** Whether the send buffer has room for {@code bytes} now. */
    static boolean room(HttpConn s, int bytes) {
        return s.ch.writable() >= bytes;
    }

    /** Writes the response built in {@code w} (room checked: all of it is taken). */
    static void send(HttpConn s, HttpResponseWriter w) {
        s.ch.write(w.buf, 0, w.length);
    }

    /**
     * After a complete response: wait for the next request (dropping the {@code requestBody}
     * bytes of the request's body first), or close (lingering) if not {@code keep}. Returns true.
     */
    final boolean served(HttpConn s, Core c, boolean keep, long requestBody) {
        s.requestDue = 0; // the response head is out
        if (!keep) {
            linger(s, c, LINGER_NANOS);
            return true;
        }
        if (requestBody > 0) {
            s.skip = requestBody; // RFC 9112 6.3: the body is read (and dropped) to find the next request
        }
        s.deadline = c.now + idleNanos;
        return true;
    }

    /**
     * Starts writing a response body of {@code n} bytes from {@code body} ({@code period} 0: the
     * segment itself; else a pattern of that period repeated, {@code body} holding a chunk and a
     * period) after its head went out; then, as {@link #served}. Returns true.
     */
    final boolean startBody(HttpConn s, Core c, MemorySegment body, int period, long n, boolean keep,
                            long requestBody) {
        s.requestDue = 0; // the response head is out
        if (keep && requestBody > 0) {
            s.skip = requestBody; // dropped once the response is out
        }
        s.body = body;
        s.period = period;
        s.bodyLeft = n;
        s.bodyPos = 0;
        s.closeAfter = !keep;
        s.deadline = c.now + writeNanos;
        body(s, c);
        return true;
    }

    /** Writes the body until the send buffer is full (onWritable continues) or it is done. */
    private void body(HttpConn s, Core c) {
        while (s.bodyLeft > 0) {
            long from = s.period == 0 ? s.bodyPos : s.bodyPos % s.period;
            int want = (int) Math.min(CHUNK, s.bodyLeft);
            int n = s.ch.write(s.body, from, want);
            s.bodyPos += n;
            s.bodyLeft -= n;
            if (n > 0) {
                due(s, c.now + writeNanos);
            }
            if (n < want) {
                return;
            }
        }
        s.body = null;
        if (s.closeAfter) {
            linger(s, c, LINGER_NANOS);
        } else if (s.peerDone) {
            finish(s);
        } else {
            due(s, c.now + idleNanos); // the next requests are offered again right after
        }
    }

    /** Refuses the request with {@code status} (a short text body), then closes (lingering). */
    final void reject(HttpConn s, Local l, Core c, int status, String why) {
        String reason = switch (status) {
            case 400 -> "Bad Request";
            case 408 -> "Request Timeout";
            case 431 -> "Request Header Fields Too Large";
            case 505 -> "HTTP Version Not Supported";
            default -> throw new IllegalArgumentException("not a refusal: " + status);
        };
        int body = 3 + 1 + reason.length() + 2 + why.length() + 1;
        int conn = HttpResponseWriter.CONN_CLOSE;
        if (room(s, HttpResponseWriter.headLength(status, HttpResponseWriter.TYPE_TEXT, body, false, conn) + body)) {
            HttpResponseWriter w = l.out;
            w.head(status, HttpResponseWriter.TYPE_TEXT, body, false, conn);
            w.decimal(status);
            w.ascii(" ");
            w.ascii(reason);
            w.ascii(": ");
            w.ascii(why);
            w.ascii("\n");
            send(s, w);
        } // else the peer does not read: nothing to tell it
        s.bodyLeft = 0;
        s.carryLen = 0;
        linger(s, c, LINGER_NANOS);
    }

    @Override
    final void writable(Conn conn, Core c) {
        HttpConn s = (HttpConn) conn;
        if (s.bodyLeft > 0) {
            body(s, c); // then TCP offers the pipelined requests again
        }
    }

    @Override
    void peerClosed(Conn conn, Core c) {
        HttpConn s = (HttpConn) conn;
        if (s.bodyLeft > 0 || busy(s)) {
            s.peerDone = true; // the response goes out whole, then the connection closes
            return;
        }
        if (s.carryLen > 0) {
            reject(s, locals[c.index], c, 400, "the connection ended in the middle of a request");
        }
        finish(s); // the client is done
    }

    /**
     * A request's deadline passed before its response head was written (the peer sent it too
     * slowly, or took no response): the connection is reset (RFC 9112 9.5: a server may close
     * a connection on a timeout; a reset frees it at once, with nothing left to drain).
     */
    void requestExpired(HttpConn s, Core c) {
        kill(s);
    }

    @Override
    void expired(Conn conn, Core c) {
        HttpConn s = (HttpConn) conn;
        if (s.requestDue != 0 && c.now - s.requestDue >= 0) {
            requestExpired(s, c);
        } else if (s.blocked || s.bodyLeft > 0) {
            kill(s); // the peer took nothing for the write timeout
        } else if (s.partial || s.carryLen > 0) {
            reject(s, locals[c.index], c, 408, "the request was not complete within the idle timeout");
        } else {
            finish(s); // keep-alive idle (or a request body that stopped coming)
        }
    }
}
