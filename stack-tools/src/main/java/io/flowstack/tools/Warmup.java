package io.flowstack.tools;

import io.flowstack.core.FlowStack;
import io.flowstack.core.config.StackConfig;
import io.flowstack.core.config.TcpSocketOptions;
import io.flowstack.core.socket.TcpChannel;
import io.flowstack.core.socket.TcpConnection;
import io.flowstack.core.socket.TcpHandler;
import io.flowstack.nic.MemoryWire;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The endpoint's warm-up: before its device opens, the services it will run serve a private
 * client over a {@link MemoryWire} with offloads (super-frames and partial checksums, as a TAP
 * with a vnet header), for a bounded time, so that the JIT compiles their hot paths (TCP in both
 * directions, the services' callbacks, HTTP keep-alive, {@code Connection: close} and bulk
 * responses) before the first real request instead of during the first seconds of load.
 *
 * <p>Nothing of it leaves the process: two stacks of the endpoint's core count joined by the
 * wire, addresses in 198.18.0.0/15 that no device carries, both closed before the endpoint's own
 * stack starts.
 *
 * <p>Owned by: the command's thread, which runs it to the end; its client threads are its own
 * and stop at the deadline.
 */
final class Warmup {
    private static final int SERVER = 0xC6_12_FF_02; // 198.18.255.2
    private static final int CLIENT = 0xC6_12_FF_01;
    private static final byte[] KEEP_ALIVE = "GET / HTTP/1.1\r\nHost: warmup\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] CLOSE = "GET / HTTP/1.1\r\nHost: warmup\r\nConnection: close\r\n\r\n"
            .getBytes(StandardCharsets.US_ASCII);
    private static final byte[] BULK = "GET /bytes/67108864 HTTP/1.1\r\nHost: warmup\r\n\r\n"
            .getBytes(StandardCharsets.US_ASCII);

    /** Keep-alive connections kept busy, one request in flight on each. */
    private static final int KEEP_ALIVE_CONNECTIONS = 32;
    /** {@code Connection: close} exchanges in flight. */
    private static final int CLOSE_CONNECTIONS = 16;

    /** The MTU of the wire when the endpoint's is its device's (a TAP's default). */
    static final int DEFAULT_MTU = 1500;

    private Warmup() {
    }

    /**
     * What a warm-up did: keep-alive requests answered, {@code Connection: close} exchanges
     * completed, bulk bytes moved (downloads, echo, discard, chargen), and its time.
     */
    record Result(long requests, long connections, long bytes, long nanos) {
        @Override
        public String toString() {
            return String.format(java.util.Locale.ROOT, "warmed up in %.1f s (%,d keep-alive requests, %,d "
                    + "connections closed, %,d MB of bulk data)", nanos / 1e9, requests, connections, bytes / 1_000_000);
        }
    }

    /** Whether {@code serve} has a service the warm-up exercises. */
    static boolean exercises(List<ServiceSpec> serve) {
        return serve.stream().anyMatch(Warmup::exercised);
    }

    /** A TCP service a client can drive: all but metrics (whose requests are few and refused by default). */
    private static boolean exercised(ServiceSpec s) {
        return s.kind().tcp() && s.kind() != ServiceSpec.Kind.METRICS;
    }

    /**
     * Runs the services of {@code serve} that a client can exercise (http, echo, discard, chargen)
     * for {@code nanos} on a private pair of stacks.
     */
    static Result run(List<ServiceSpec> serve, int cores, int mtu, long nanos) throws InterruptedException {
        ServiceSpec.loadServiceClasses(); // before anything is compiled: no later class discards it
        long start = System.nanoTime();
        long deadline = start + nanos;
        AtomicLong requests = new AtomicLong();
        AtomicLong connections = new AtomicLong();
        AtomicLong bytes = new AtomicLong();
        List<AutoCloseable> services = new ArrayList<>();
        List<Thread> clients = new ArrayList<>();
        // closed in reverse: the client stack, the server stack, then the wire's rings
        try (MemoryWire wire = MemoryWire.createWithOffloads(cores, 4 << 20, mtu);
             FlowStack server = FlowStack.start(config(SERVER, 0x02_00_00_00_ff_02L, cores, mtu), wire.b());
             FlowStack client = FlowStack.start(config(CLIENT, 0x02_00_00_00_ff_01L, cores, mtu), wire.a())) {
            try {
                for (ServiceSpec s : serve) {
                    if (exercised(s)) {
                        services.add(s.start(server));
                    }
                }
                for (ServiceSpec s : serve) {
                    drive(s, client, deadline, clients, requests, connections, bytes);
                }
                for (Thread t : clients) { // each ends at the deadline (its reads time out then)
                    t.join(TimeUnit.NANOSECONDS.toMillis(Math.max(0, deadline - System.nanoTime())) + 2_000);
                }
            } finally {
                for (AutoCloseable s : services) { // before the stacks close
                    try {
                        s.close();
                    } catch (Exception e) {
                        // a listener the stack already dropped: nothing left to stop
                    }
                }
            }
        }
        return new Result(requests.get(), connections.get(), bytes.get(), System.nanoTime() - start);
    }

    /** Starts the clients of service {@code s} on {@code client} (none for one not exercised). */
    private static void drive(ServiceSpec s, FlowStack client, long deadline, List<Thread> clients, AtomicLong requests,
                              AtomicLong connections, AtomicLong bytes) {
        int port = s.port();
        switch (s.kind()) {
            case HTTP -> {
                TcpSocketOptions options = TcpSocketOptions.defaults(client.config());
                for (int i = 0; i < KEEP_ALIVE_CONNECTIONS; i++) {
                    client.tcpConnect(SERVER, port, options, new Exchange(KEEP_ALIVE, deadline, requests, null, null));
                }
                Semaphore open = new Semaphore(CLOSE_CONNECTIONS);
                clients.add(loop(deadline, () -> {
                    if (open.tryAcquire(10, TimeUnit.MILLISECONDS)) {
                        try {
                            client.tcpConnect(SERVER, port, options,
                                    new Exchange(CLOSE, deadline, connections, null, open));
                        } catch (RuntimeException e) {
                            open.release(); // refused before it existed: no onClosed will give it back
                            throw e;
                        }
                    }
                }));
                client.tcpConnect(SERVER, port, options, new Exchange(BULK, deadline, new AtomicLong(), bytes, null));
            }
            case ECHO -> clients.add(client(client, port, deadline, c -> echo(c, deadline, bytes)));
            case DISCARD -> clients.add(client(client, port, deadline, c -> upload(c, deadline, bytes)));
            case CHARGEN -> clients.add(client(client, port, deadline, c -> download(c, deadline, bytes)));
            default -> {
            }
        }
    }

    private static StackConfig config(int address, long mac, int cores, int mtu) {
        return StackConfig.builder().cores(cores).address(address).prefixLength(24).mac(mac).mtu(mtu)
                .pinThreads(false).busyPoll(false).build();
    }

    private interface Session {
        void run(TcpConnection c) throws Exception;
    }

    private static Thread client(FlowStack stack, int port, long deadline, Session session) {
        return loop(deadline, () -> {
            TcpConnection c = stack.tcpConnect(SERVER, port, 2, TimeUnit.SECONDS);
            try {
                c.readTimeout(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                session.run(c);
            } finally {
                c.abort();
            }
        });
    }

    private interface Step {
        void run() throws Exception;
    }

    /** A daemon thread that repeats {@code step} until the deadline; any failure ends that repetition. */
    private static Thread loop(long deadline, Step step) {
        Thread t = new Thread(() -> {
            while (System.nanoTime() - deadline < 0) {
                try {
                    step.run();
                } catch (Exception e) {
                    // a read timeout at the deadline, or a connection the server closed: try again
                }
            }
        }, "warmup-client");
        t.setDaemon(true);
        t.start();
        return t;
    }

    /**
     * Counts the HTTP/1.1 responses (each with a {@code Content-Length}, as the http service
     * sends them) in the bytes of one connection. Owned by the connection's netisr.
     */
    private static final class Responses {
        private final byte[] head = new byte[8192];
        private int headLength;
        /** Body bytes still to come, or -1 while in a head. */
        private long body = -1;

        /** Consumes {@code data[offset, offset + length)}; returns the responses it completed. */
        int consume(MemorySegment data, long offset, int length) {
            int done = 0;
            int i = 0;
            while (i < length) {
                if (body < 0) {
                    byte b = data.get(ValueLayout.JAVA_BYTE, offset + i++);
                    if (headLength == head.length) {
                        throw new IllegalStateException("response head over " + head.length + " bytes");
                    }
                    head[headLength++] = b;
                    if (b == '\n' && headLength >= 4 && head[headLength - 2] == '\r' && head[headLength - 3] == '\n'
                            && head[headLength - 4] == '\r') {
                        body = contentLength(head, headLength);
                        headLength = 0;
                    }
                } else {
                    int take = (int) Math.min(body, length - i);
                    i += take;
                    body -= take;
                }
                if (body == 0) {
                    body = -1;
                    done++;
                }
            }
            return done;
        }
    }

    /**
     * One HTTP client connection on the client stack's netisr: keep-alive (without {@code open}:
     * the next request as each response ends, until the deadline, each response counted in
     * {@code done}, and its bytes in {@code bytes} if given) or {@code Connection: close} (with
     * {@code open}: one exchange, counted in {@code done} when the connection is closed, which
     * gives the driver its permit back for the next).
     */
    private static final class Exchange implements TcpHandler {
        private final byte[] request;
        private final long deadline;
        private final AtomicLong done;
        private final AtomicLong bytes;
        private final Semaphore open;
        private final Responses responses = new Responses();

        Exchange(byte[] request, long deadline, AtomicLong done, AtomicLong bytes, Semaphore open) {
            this.request = request;
            this.deadline = deadline;
            this.done = done;
            this.bytes = bytes;
            this.open = open;
        }

        @Override
        public void onOpen(TcpChannel ch) {
            ch.write(request, 0, request.length);
        }

        @Override
        public int onData(TcpChannel ch, MemorySegment data, long offset, int length) {
            int n = responses.consume(data, offset, length);
            if (bytes != null) {
                bytes.addAndGet(length);
            }
            if (n > 0 && open == null) {
                done.addAndGet(n);
                if (System.nanoTime() - deadline < 0) {
                    ch.write(request, 0, request.length);
                } else {
                    ch.close();
                }
            }
            return length;
        }

        @Override
        public void onPeerClosed(TcpChannel ch) {
            ch.close();
        }

        @Override
        public void onClosed(TcpChannel ch, String error) {
            if (open != null) {
                done.incrementAndGet();
                open.release();
            }
        }
    }

    private static void echo(TcpConnection c, long deadline, AtomicLong bytes) {
        byte[] out = new byte[1024];
        byte[] in = new byte[1024];
        while (System.nanoTime() - deadline < 0) {
            c.write(out, 0, out.length);
            int got = 0;
            while (got < out.length) {
                int r = c.read(in, got, in.length - got);
                if (r <= 0) {
                    return;
                }
                got += r;
            }
            bytes.addAndGet(got);
        }
    }

    private static void upload(TcpConnection c, long deadline, AtomicLong bytes) {
        byte[] out = new byte[1 << 16];
        while (System.nanoTime() - deadline < 0) {
            c.write(out, 0, out.length);
            bytes.addAndGet(out.length);
        }
    }

    private static void download(TcpConnection c, long deadline, AtomicLong bytes) {
        byte[] in = new byte[1 << 16];
        while (System.nanoTime() - deadline < 0) {
            int r = c.read(in, 0, in.length);
            if (r <= 0) {
                return;
            }
            bytes.addAndGet(r);
        }
    }

    private static long contentLength(byte[] b, int headEnd) {
        String head = new String(b, 0, headEnd, StandardCharsets.US_ASCII).toLowerCase(java.util.Locale.ROOT);
        int at = head.indexOf("\r\ncontent-length:");
        if (at < 0) {
            throw new IllegalStateException("no Content-Length");
        }
        int end = head.indexOf("\r\n", at + 2);
        return Long.parseLong(head.substring(at + 17, end).trim());
    }
}
