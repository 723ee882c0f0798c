package io.flowstack.core.testing;

import io.flowstack.core.FlowStack;
import io.flowstack.core.config.TcpSocketOptions;
import io.flowstack.core.socket.TcpChannel;
import io.flowstack.core.socket.TcpHandler;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Allocation-free load generators on the callback API, for the tests that measure what the
 * netisr threads allocate per packet: the client's callbacks run on the client stack's netisrs,
 * so whatever they allocated would count against the stack. Each connection keeps a fixed number
 * of exchanges in flight and checks every answer byte by byte.
 *
 * <p>Owned by: each connection's state by the netisr that owns it; {@link #done()} and
 * {@link #errors()} read it from the test thread (volatile fields).
 */
public final class CallbackLoad {
    private final List<Exchange> conns = new ArrayList<>();

    /**
     * One connection's exchanges: writes {@code request} (up to {@code depth} in flight) and
     * expects {@code responseLength} bytes for each, starting with {@code expectedPrefix} (or, if
     * {@code echoPattern}, each response equal to its request). Owned by: its netisr.
     */
    static final class Exchange implements TcpHandler {
        final MemorySegment request;
        final int requestLength;
        final int responseLength;
        final MemorySegment expected;
        final int expectedLength;
        final long target;
        final int depth;
        long sent;
        int inResponse;
        volatile long done;
        volatile String error;
        volatile boolean open;

        Exchange(MemorySegment request, int responseLength, MemorySegment expected, long target, int depth) {
            this.request = request;
            this.requestLength = (int) request.byteSize();
            this.responseLength = responseLength;
            this.expected = expected;
            this.expectedLength = (int) expected.byteSize();
            this.target = target;
            this.depth = depth;
        }

        @Override
        public void onOpen(TcpChannel ch) {
            open = true;
            for (int i = 0; i < depth; i++) {
                send(ch);
            }
        }

        private void send(TcpChannel ch) {
            if (sent < target) {
                if (ch.write(request, 0, requestLength) != requestLength) {
                    error = "the request did not fit the send buffer";
                    ch.abort();
                    return;
                }
                sent++;
            }
        }

        @Override
        public int onData(TcpChannel ch, MemorySegment data, long offset, int length) {
            int used = 0;
            long d = done;
            while (used < length) {
                int k = Math.min(length - used, responseLength - inResponse);
                int check = Math.min(k, expectedLength - inResponse);
                for (int i = 0; i < check; i++) {
                    if (data.get(ValueLayout.JAVA_BYTE, offset + used + i)
                            != expected.get(ValueLayout.JAVA_BYTE, inResponse + i)) {
                        error = "response byte " + (inResponse + i) + " of exchange " + d + " differs";
                        ch.abort();
                        return length;
                    }
                }
                inResponse += k;
                used += k;
                if (inResponse == responseLength) {
                    inResponse = 0;
                    d++;
                    send(ch);
                }
            }
            done = d;
            if (d == target) {
                ch.close();
            }
            return length;
        }

        @Override
        public void onClosed(TcpChannel ch, String why) {
            if (why != null && done < target) {
                error = "closed: " + why;
            }
        }
    }

    /**
     * Opens {@code connections} connections from {@code client} to {@code server:port}, each doing
     * {@code perConnection} exchanges of {@code request} (at most {@code depth} in flight), and
     * expecting {@code responseLength} bytes for each, beginning with {@code expected}.
     */
    public static CallbackLoad start(FlowStack client, int server, int port, int connections, long perConnection,
                                     int depth, byte[] request, int responseLength, byte[] expected) {
        CallbackLoad load = new CallbackLoad();
        Arena arena = Arena.ofAuto();
        MemorySegment req = arena.allocate(request.length);
        MemorySegment.copy(request, 0, req, ValueLayout.JAVA_BYTE, 0, request.length);
        MemorySegment exp = arena.allocate(expected.length);
        MemorySegment.copy(expected, 0, exp, ValueLayout.JAVA_BYTE, 0, expected.length);
        TcpSocketOptions o = TcpSocketOptions.defaults(client.config()).withNoDelay(true);
        for (int i = 0; i < connections; i++) {
            Exchange e = new Exchange(req, responseLength, exp, perConnection, depth);
            load.conns.add(e);
            client.tcpConnect(server, port, o, e);
        }
        return load;
    }

    /** Exchanges completed over all connections. */
    public long done() {
        long sum = 0;
        for (Exchange e : conns) {
            sum += e.done;
        }
        return sum;
    }

    /** The first error a connection reported, or null. */
    public String errors() {
        for (Exchange e : conns) {
            if (e.error != null) {
                return e.error;
            }
        }
        return null;
    }

    /** Waits until every exchange is done (or an error, which fails). */
    public void await(long total, Duration timeout) {
        Await.until(() -> errors() != null || done() == total, "all " + total + " exchanges (done " + done() + ")",
                timeout);
        if (errors() != null) {
            throw new AssertionError(errors());
        }
    }

    /** Bytes allocated so far by the threads named {@code netisr-*} (every stack's netisrs). */
    public static long netisrAllocated() {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long sum = 0;
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().startsWith("netisr-")) {
                sum += mx.getThreadAllocatedBytes(t.threadId());
            }
        }
        return sum;
    }
}
