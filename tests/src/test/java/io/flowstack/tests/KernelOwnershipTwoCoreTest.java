package io.flowstack.tests;

import static io.flowstack.tests.KernelLab.KERNEL_IP;
import static io.flowstack.tests.KernelLab.STACK_IP;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.FlowStack;
import io.flowstack.core.percore.Ownership;
import io.flowstack.core.stats.Stat;
import io.flowstack.services.HttpService;
import io.flowstack.core.socket.TcpConnection;
import io.flowstack.core.testing.Packets;
import io.flowstack.tests.NamespaceLab.Background;
import io.flowstack.tests.NamespaceLab.Result;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * Proof of ownership against the Linux kernel (issue 4, point 4): a two-core stack on a two-queue
 * TAP takes 10,000 kernel-initiated HTTP connections ({@code Connection: close}, 64 at a time,
 * on the {@link HttpService}) and opens 10,000 connections of its own to a kernel server (32 at a
 * time, {@link FlowStack#tcpConnect}), while four bulk transfers run (two 50 MB {@code curl}
 * downloads, two stack-initiated 32 MB exchanges each way), all with the ownership check on.
 *
 * <p>Then: no ownership violation, no internal error; every connection the stack opened lived
 * on the core its 4-tuple hashes to, and the per-core tally of those the application saw finish
 * equals that core's active opens; per core the connection table and the ring budget are empty
 * again (a control block can only leave its core's table on that core's thread, which the check
 * asserts); the totals of passive and active opens are exactly the connections made; every
 * inter-core message sent was received.
 *
 * <p>Namespace, TAP and addresses come from {@link KernelLab} (198.18.0.0/15 only, removed even
 * on failure); every kernel command has its own count and time bound. TIME_WAIT is 2 s here, so
 * that the tables can be seen empty at the end.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class KernelOwnershipTwoCoreTest {
    static final int CORES = 2;
    static final int HTTP_PORT = 80;
    static final int ECHO_PORT = 7001;
    static final int BULK_PORT = 7002;
    static final int KERNEL_CONNECTIONS = 10_000;
    static final int STACK_CONNECTIONS = 10_000;
    static final int KERNEL_CONCURRENCY = 64;
    static final int STACK_CONCURRENCY = 32;
    static final int CURL_BYTES = 50_000_000;
    static final int CURLS = 2;
    static final int BULK_BYTES = 32 << 20;
    static final int BULKS = 2;

    /**
     * Kernel client: {@code total} HTTP/1.1 GETs of {@code /}, each on its own connection with
     * {@code Connection: close}, {@code conc} at a time; checks status 200 and the whole body
     * (Content-Length) before EOF. Prints "ok errors seconds"; the first errors go to stderr.
     */
    private static final String HTTP_CLIENT_PY = String.join("\n",
            "import asyncio, sys, time",
            "host, port, total, conc, limit = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])",
            "req = b'GET / HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n'",
            "state = {'next': 0, 'ok': 0}",
            "errors = []",
            "async def one():",
            "    r, w = await asyncio.wait_for(asyncio.open_connection(host, port), 10)",
            "    try:",
            "        w.write(req)",
            "        data = await asyncio.wait_for(r.read(), 10)",
            "    finally:",
            "        w.close()",
            "    head, _, body = data.partition(b'\\r\\n\\r\\n')",
            "    lines = head.split(b'\\r\\n')",
            "    if not lines[0].startswith(b'HTTP/1.1 200 '):",
            "        raise RuntimeError('status %r' % lines[0][:40])",
            "    cl = [l for l in lines[1:] if l.lower().startswith(b'content-length:')]",
            "    if not cl or int(cl[0].split(b':')[1]) != len(body):",
            "        raise RuntimeError('body %d bytes, header %r' % (len(body), cl))",
            "async def worker():",
            "    while state['next'] < total:",
            "        state['next'] += 1",
            "        try:",
            "            await one()",
            "            state['ok'] += 1",
            "        except Exception as e:",
            "            errors.append(repr(e))",
            "async def main():",
            "    await asyncio.wait_for(asyncio.gather(*[worker() for _ in range(conc)]), limit)",
            "t0 = time.monotonic()",
            "try:",
            "    asyncio.run(main())",
            "except asyncio.TimeoutError:",
            "    errors.append('time limit')",
            "print(state['ok'], len(errors), '%.2f' % (time.monotonic() - t0))",
            "for e in errors[:10]:",
            "    print(e, file=sys.stderr)");

    /**
     * Kernel server for the stack's connections: reads 64 bytes, echoes them and closes (the
     * kernel closes first, so TIME-WAIT is on the kernel side), waiting until the transport has
     * flushed and closed before it counts the connection (the last one must not be cut short by
     * the end of the program). Stops after {@code total} connections or {@code limit} seconds;
     * prints "connections errors".
     */
    private static final String ECHO_SERVER_PY = String.join("\n",
            "import asyncio, sys",
            "host, port, total, limit = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])",
            "state = {'n': 0, 'err': 0}",
            "async def handle(r, w):",
            "    try:",
            "        data = await asyncio.wait_for(r.readexactly(64), 10)",
            "        w.write(data)",
            "        await w.drain()",
            "    except Exception as e:",
            "        state['err'] += 1",
            "        print(repr(e), file=sys.stderr)",
            "    finally:",
            "        w.close()",
            "        try:",
            "            await asyncio.wait_for(w.wait_closed(), 10)",
            "        except Exception as e:",
            "            state['err'] += 1",
            "            print('close: ' + repr(e), file=sys.stderr)",
            "        state['n'] += 1",
            "        if state['n'] >= total:",
            "            done.set()",
            "async def main():",
            "    global done",
            "    done = asyncio.Event()",
            "    srv = await asyncio.start_server(handle, host, port, backlog=1024, reuse_address=True)",
            "    try:",
            "        await asyncio.wait_for(done.wait(), limit)",
            "    except asyncio.TimeoutError:",
            "        pass",
            "    srv.close()",
            "    print(state['n'], state['err'])",
            "asyncio.run(main())");

    /**
     * Kernel bulk server: for each of {@code conns} connections (a thread each, blocking
     * sockets), sends {@code size} bytes of the pattern i % 251 while hashing everything received
     * until EOF, then half-closes; prints "bytes sha256" per connection (in completion order).
     * Blocking {@code sendall} returns only once every byte is in the kernel's socket buffer, so
     * the FIN can never overtake data still queued in the process (as it could with an asyncio
     * transport closed before its buffer drained).
     */
    private static final String BULK_SERVER_PY = String.join("\n",
            "import hashlib, socket, sys, threading",
            "host, port, conns, size, limit = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])",
            "period = bytes(i % 251 for i in range(251)) * 1044",
            "ls = socket.socket()",
            "ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)",
            "ls.bind((host, port))",
            "ls.listen(16)",
            "ls.settimeout(limit)",
            "lock = threading.Lock()",
            "def serve(c):",
            "    c.settimeout(limit)",
            "    h = hashlib.sha256()",
            "    got = [0]",
            "    err = []",
            "    def rx():",
            "        try:",
            "            while True:",
            "                b = c.recv(1 << 20)",
            "                if not b:",
            "                    break",
            "                h.update(b)",
            "                got[0] += len(b)",
            "        except Exception as e:",
            "            err.append(repr(e))",
            "    t = threading.Thread(target=rx)",
            "    t.start()",
            "    try:",
            "        left = size",
            "        while left > 0:",
            "            k = min(left, len(period))",
            "            c.sendall(period[:k])",
            "            left -= k",
            "        c.shutdown(socket.SHUT_WR)",
            "    except Exception as e:",
            "        err.append(repr(e))",
            "    t.join()",
            "    c.close()",
            "    with lock:",
            "        print(got[0], ('ERROR ' + err[0]) if err else h.hexdigest(), flush=True)",
            "threads = []",
            "for i in range(conns):",
            "    c, _ = ls.accept()",
            "    th = threading.Thread(target=serve, args=(c,))",
            "    th.start()",
            "    threads.append(th)",
            "for th in threads:",
            "    th.join()");

    private KernelLab lab;
    private HttpService http;
    private ExecutorService pool;

    @BeforeAll
    void startLab() {
        lab = KernelLab.start(CORES, b -> b.tcpTimeWaitNanos(TimeUnit.SECONDS.toNanos(2)));
        http = new HttpService(lab.stack(), HTTP_PORT);
        pool = Executors.newFixedThreadPool(STACK_CONCURRENCY + BULKS * 2 + 2, r -> {
            Thread t = new Thread(r, "kernel-ownership-test");
            t.setDaemon(true);
            return t;
        });
    }

    @AfterAll
    void stopLab() {
        try {
            if (http != null) {
                http.close();
            }
        } finally {
            if (pool != null) {
                pool.shutdownNow();
            }
            KernelLab.finish(lab);
            lab = null;
            http = null;
        }
    }

    private long[] perCore(Stat s) {
        long[] v = new long[CORES];
        for (int c = 0; c < CORES; c++) {
            v[c] = lab.stack().counters(c).get(s);
        }
        return v;
    }

    private Map<Stat, long[]> perCoreSnapshot() {
        Map<Stat, long[]> m = new EnumMap<>(Stat.class);
        for (Stat s : Stat.values()) {
            m.put(s, perCore(s));
        }
        return m;
    }

    private void awaitKernelListening(int port, Background server) {
        lab.await("a kernel listener on port " + port, () -> {
            if (!server.alive()) {
                throw new AssertionError("the kernel server exited early: " + server.await());
            }
            return lab.exec("ss", "-Hltn", "sport = :" + port).stdout().contains(":" + port);
        }, Duration.ofSeconds(10));
    }

    private static MessageDigest sha256() {
        return KernelTcpCases.sha256();
    }

    @Test
    @Timeout(300)
    void tenThousandConnectionsEachWayWithBulkTransfersStayOnTheirCores() throws Exception {
        FlowStack stack = lab.stack();
        int kernel = Packets.ip(KERNEL_IP);
        long violationsBefore = Ownership.violations();
        Map<Stat, long[]> before = perCoreSnapshot();
        Supplier<String> report = lab::report;

        // ---- kernel servers for the stack's connections
        Background echoServer = lab.spawn(Duration.ofSeconds(200), null, "python3", "-c", ECHO_SERVER_PY, KERNEL_IP,
                Integer.toString(ECHO_PORT), Integer.toString(STACK_CONNECTIONS), "180");
        Background bulkServer = lab.spawn(Duration.ofSeconds(200), null, "python3", "-c", BULK_SERVER_PY, KERNEL_IP,
                Integer.toString(BULK_PORT), Integer.toString(BULKS), Integer.toString(BULK_BYTES), "180");
        awaitKernelListening(ECHO_PORT, echoServer);
        awaitKernelListening(BULK_PORT, bulkServer);

        // ---- bulk: kernel downloads from the stack, and the stack exchanges with the kernel
        String curlSha = KernelTcpCases.patternSha256(CURL_BYTES);
        List<Background> curls = new ArrayList<>();
        for (int i = 0; i < CURLS; i++) {
            curls.add(lab.spawn(Duration.ofSeconds(200), null, "bash", "-o", "pipefail", "-c",
                    "curl -sS --max-time 180 -o - http://" + STACK_IP + ":" + HTTP_PORT + "/bytes/" + CURL_BYTES
                            + " | sha256sum"));
        }
        AtomicLongArray finishedOnCore = new AtomicLongArray(CORES); // connections the app saw end, by core
        List<Future<String>> bulks = new ArrayList<>();
        for (int i = 0; i < BULKS; i++) {
            long seed = 1000 + i;
            bulks.add(pool.submit(() -> stackBulk(stack, kernel, seed, finishedOnCore)));
        }

        // ---- 10,000 kernel-initiated connections (HTTP, Connection: close) ...
        Background httpClient = lab.spawn(Duration.ofSeconds(200), null, "python3", "-c", HTTP_CLIENT_PY, STACK_IP,
                Integer.toString(HTTP_PORT), Integer.toString(KERNEL_CONNECTIONS), Integer.toString(KERNEL_CONCURRENCY),
                "180");
        // ---- ... and at the same time 10,000 stack-initiated ones
        long t0 = System.nanoTime();
        AtomicInteger next = new AtomicInteger();
        List<Future<Integer>> clients = new ArrayList<>();
        for (int w = 0; w < STACK_CONCURRENCY; w++) {
            clients.add(pool.submit(() -> {
                int n = 0;
                byte[] req = new byte[64];
                byte[] resp = new byte[64];
                while (next.getAndIncrement() < STACK_CONNECTIONS) {
                    TcpConnection c = stack.tcpConnect(kernel, ECHO_PORT, 10, TimeUnit.SECONDS);
                    try {
                        int owner = stack.coreFor(stack.config().address, kernel, c.localPort(), ECHO_PORT);
                        assertEquals(owner, c.core(), () -> "connection " + c + " lives off its core\n" + report.get());
                        c.readTimeout(10, TimeUnit.SECONDS);
                        c.writeTimeout(10, TimeUnit.SECONDS);
                        req[0] = (byte) n;
                        c.write(req, 0, req.length);
                        int got = 0;
                        while (got < resp.length) {
                            int k = c.read(resp, got, resp.length - got);
                            assertTrue(k > 0, () -> "early EOF from the echo server\n" + report.get());
                            got += k;
                        }
                        assertEquals(req[0], resp[0]);
                        assertEquals(-1, c.read(resp, 0, 1), "the kernel closes after its echo");
                    } catch (Throwable t) {
                        c.abort();
                        throw t;
                    }
                    c.close();
                    lab.await("connection " + c + " to finish", c::finished, Duration.ofSeconds(10));
                    finishedOnCore.incrementAndGet(c.core());
                    n++;
                }
                return n;
            }));
        }
        int stackMade = 0;
        for (Future<Integer> f : clients) {
            stackMade += f.get(200, TimeUnit.SECONDS);
        }
        double stackSecs = (System.nanoTime() - t0) / 1e9;
        Result httpResult = httpClient.await();
        Result echo = echoServer.await();
        assertEquals(0, httpResult.exit(), () -> httpResult + "\n" + report.get());
        String[] h = httpResult.stdout().strip().split(" ");
        assertEquals(Integer.toString(KERNEL_CONNECTIONS), h[0], () -> "kernel HTTP connections that succeeded\n" + httpResult
                + "\n" + report.get());
        assertEquals("0", h[1], () -> "kernel HTTP errors\n" + httpResult);
        assertEquals(STACK_CONNECTIONS, stackMade);
        assertEquals(0, echo.exit(), echo::toString);
        assertEquals(STACK_CONNECTIONS + " 0", echo.stdout().strip(), () -> "kernel echo server\n" + echo);
        System.out.printf("%d kernel-initiated connections in %s s (python asyncio client), %d stack-initiated in %.2f s%n",
                KERNEL_CONNECTIONS, h[2], STACK_CONNECTIONS, stackSecs);

        // ---- bulk results
        for (Background c : curls) {
            Result r = c.await();
            assertEquals(0, r.exit(), () -> r + "\n" + report.get());
            assertEquals(curlSha, r.stdout().strip().split("\\s+")[0], () -> "SHA-256 of a curl download\n" + r);
        }
        List<String> sent = new ArrayList<>();
        for (Future<String> f : bulks) {
            sent.add(f.get(200, TimeUnit.SECONDS));
        }
        Result bulk = bulkServer.await();
        assertEquals(0, bulk.exit(), bulk::toString);
        List<String> received = new ArrayList<>(List.of(bulk.stdout().strip().split("\n")));
        assertEquals(BULKS, received.size(), bulk::toString);
        for (String s : sent) {
            assertTrue(received.remove(s), () -> "the kernel did not receive '" + s + "' intact\n" + bulk);
        }

        // ---- quiescence: TIME_WAIT (2 s) expires, applications have closed, rings went home
        for (int c = 0; c < CORES; c++) {
            int core = c;
            lab.await("core " + c + "'s connection table to be empty",
                    () -> stack.call(core, n -> n.tcp().connections()) == 0, Duration.ofSeconds(30));
            lab.await("core " + c + "'s ring budget to be fully returned",
                    () -> stack.call(core, n -> n.tcp().memoryUsed()) == 0L, Duration.ofSeconds(30));
        }
        Map<Stat, long[]> after = perCoreSnapshot();
        long[] active = new long[CORES];
        long[] passive = new long[CORES];
        StringBuilder table = new StringBuilder(String.format("%-22s %10s %10s%n", "per core (delta)", "core0", "core1"));
        for (Stat s : List.of(Stat.TCP_PASSIVE_OPENS, Stat.TCP_ACTIVE_OPENS, Stat.TCP_CLOSED, Stat.TCP_TIME_WAIT_REUSE,
                Stat.TCP_ESTABLISHED_RESETS, Stat.TCP_RST_OUT, Stat.HOP_OUT, Stat.HOP_IN, Stat.ARP_UPDATE_OUT,
                Stat.RX_FRAMES, Stat.TX_FRAMES)) {
            table.append(String.format("%-22s", s.key()));
            for (int c = 0; c < CORES; c++) {
                table.append(String.format(" %10d", after.get(s)[c] - before.get(s)[c]));
            }
            table.append('\n');
        }
        table.append(String.format("%-22s %10d %10d%n", "app_saw_finished", finishedOnCore.get(0), finishedOnCore.get(1)));
        System.out.print(table);
        for (int c = 0; c < CORES; c++) {
            active[c] = after.get(Stat.TCP_ACTIVE_OPENS)[c] - before.get(Stat.TCP_ACTIVE_OPENS)[c];
            passive[c] = after.get(Stat.TCP_PASSIVE_OPENS)[c] - before.get(Stat.TCP_PASSIVE_OPENS)[c];
            int core = c;
            // every connection this stack opened on core c was seen finished there by its application
            assertEquals(active[c], finishedOnCore.get(c), () -> "core " + core + ": active opens vs connections that"
                    + " finished on it\n" + table);
            assertTrue(active[c] > 0 && passive[c] > 0, () -> "core " + core + " took no part\n" + table);
            long closed = after.get(Stat.TCP_CLOSED)[c] - before.get(Stat.TCP_CLOSED)[c];
            // every connection opened on core c ended on core c (its table is empty, nothing moved)
            assertEquals(active[c] + passive[c], closed, () -> "core " + core + ": opens vs closes\n" + table);
        }
        assertEquals(STACK_CONNECTIONS + BULKS, active[0] + active[1], table::toString);
        assertEquals(KERNEL_CONNECTIONS + CURLS, passive[0] + passive[1], table::toString);

        long hopOut = lab.total(Stat.HOP_OUT);
        long arpOut = lab.total(Stat.ARP_UPDATE_OUT);
        lab.await("every inter-core message to be received",
                () -> lab.total(Stat.HOP_IN) == hopOut + arpOut, Duration.ofSeconds(5));
        assertEquals(lab.total(Stat.ARP_UPDATE_OUT), lab.total(Stat.ARP_UPDATE_IN), report);
        assertEquals(0, lab.total(Stat.HOP_RING_FULL), report);
        assertEquals(0, lab.total(Stat.INTERNAL_ERROR), report);
        assertEquals(violationsBefore, Ownership.violations(), "ownership violations");
        assertEquals(0, Ownership.violations(), "ownership violations in this JVM");
        assertTrue(Ownership.ENABLED, "the ownership check must be on (surefire sets -Dflowstack.ownership.check=true)");
    }

    /**
     * One stack-initiated bulk exchange: sends {@value #BULK_BYTES} pseudo-random bytes while
     * reading the kernel's {@value #BULK_BYTES} pattern bytes; returns "bytes sha256" of what it
     * sent.
     */
    private String stackBulk(FlowStack stack, int kernel, long seed, AtomicLongArray finishedOnCore) throws Exception {
        TcpConnection c = stack.tcpConnect(kernel, BULK_PORT, 10, TimeUnit.SECONDS);
        try {
            assertEquals(stack.coreFor(stack.config().address, kernel, c.localPort(), BULK_PORT), c.core());
            c.readTimeout(60, TimeUnit.SECONDS);
            c.writeTimeout(60, TimeUnit.SECONDS);
            Future<String> writer = pool.submit(() -> {
                SplittableRandom rnd = new SplittableRandom(seed);
                MessageDigest md = sha256();
                byte[] buf = new byte[64 * 1024];
                for (int done = 0; done < BULK_BYTES; done += buf.length) {
                    rnd.nextBytes(buf);
                    md.update(buf);
                    c.write(buf, 0, buf.length);
                }
                c.shutdownOutput();
                return BULK_BYTES + " " + HexFormat.of().formatHex(md.digest());
            });
            byte[] buf = new byte[256 * 1024];
            long got = 0;
            for (int n; (n = c.read(buf, 0, buf.length)) > 0; ) {
                for (int i = 0; i < n; i++) {
                    if (buf[i] != HttpService.patternByte(got + i)) {
                        throw new AssertionError("byte " + (got + i) + " from the kernel is wrong");
                    }
                }
                got += n;
            }
            assertEquals(BULK_BYTES, got, "bytes the stack received");
            String sent = writer.get(120, TimeUnit.SECONDS);
            c.close();
            lab.await("bulk connection to finish", c::finished, Duration.ofSeconds(10));
            finishedOnCore.incrementAndGet(c.core());
            return sent;
        } catch (Throwable t) {
            c.abort();
            throw t;
        }
    }
}
