package io.flowstack.tools.stats;

import io.flowstack.core.FlowStack;
import io.flowstack.core.stats.ConnectionQuery;
import io.flowstack.core.stats.StackSnapshot;
import io.flowstack.services.MetricsService;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The control socket of a running endpoint: an AF_UNIX stream socket (no network port) in the
 * run directory, e.g. {@code /run/flowstack/fs0.sock}, that answers {@code stack stats}.
 *
 * <p>Protocol (version 1): the client sends one request line, {@code text}, {@code json}
 * (each optionally followed by {@code connections}, {@code state=S}, {@code sport=N},
 * {@code dport=N}, {@code port=N}, {@code limit=N}: {@link #query}),
 * {@code prometheus}, {@code load}, {@code move CORE BUCKET[,BUCKET...]} or
 * {@code balance WINDOW_MS} ({@link Rebalance}), or on a router {@code route add P/L via G},
 * {@code route del P/L} or {@code route show} ({@link RouteRequests}, answered by the
 * {@link RouteControl} set with {@link #routeControl}; an endpoint answers
 * {@code error: not a router}) (LF-terminated, at most {@value #MAX_REQUEST}
 * bytes); the server answers
 * {@code ok} and a line feed followed by the report, or one line {@code error: MESSAGE}, then
 * closes. Every report is built from {@link FlowStack#snapshot()}, which reads each core on its
 * own netisr by message: the server never touches protocol state itself.
 *
 * <p>Owned by: the thread that starts it (lifecycle: {@link #start}, {@link #close}). Its accept
 * loop runs on the daemon platform thread {@code stats-control-NAME}; each client on its own
 * virtual thread; at most {@value #MAX_CLIENTS} at once, more are answered with an error.
 */
public final class ControlServer implements AutoCloseable {
    /** The default run directory of control sockets; {@code FLOWSTACK_RUN_DIR} overrides it. */
    public static final String DEFAULT_RUN_DIR = "/run/flowstack";
    static final int MAX_REQUEST = 1024;
    static final int MAX_CLIENTS = 16;
    /** How long a client may take to send its request line. */
    static final long CLIENT_TIMEOUT_MILLIS = 5_000;
    private static final long ACCEPT_RETRY_NANOS = 100_000_000L;

    private final FlowStack stack;
    private final Path path;
    private final ServerSocketChannel server;
    private final Thread acceptor;
    private final AtomicInteger clients = new AtomicInteger();
    private final ControlAccess access;
    /** Closes clients that sent no request in time: one daemon thread, {@code stats-control-NAME-timeouts}. */
    private final java.util.concurrent.ScheduledExecutorService timeouts;
    /** Clients refused for their credentials (any thread). */
    private final AtomicInteger refused = new AtomicInteger();
    private volatile boolean closing;
    /** The router's routes for the {@code route} requests; null for an endpoint. */
    private volatile RouteControl routes;
    /** The devices' own counters (AF_XDP), read at each report; none by default. */
    private volatile java.util.function.Supplier<List<DeviceCounters>> devices = List::of;

    private ControlServer(FlowStack stack, Path path, ServerSocketChannel server, String name, ControlAccess access) {
        this.access = access;
        this.stack = stack;
        this.path = path;
        this.server = server;
        this.acceptor = Thread.ofPlatform().daemon().name("stats-control-" + name).unstarted(this::acceptLoop);
        this.timeouts = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().daemon().name("stats-control-" + name + "-timeouts").factory());
    }

    /** The run directory: {@code $FLOWSTACK_RUN_DIR} if set, else {@value #DEFAULT_RUN_DIR}. */
    public static Path runDir() {
        String d = System.getenv("FLOWSTACK_RUN_DIR");
        return Path.of(d != null && !d.isBlank() ? d : DEFAULT_RUN_DIR);
    }

    /** The control socket of the instance {@code name}: {@code RUNDIR/NAME.sock}. */
    public static Path socketFor(String name) {
        if (name.isEmpty() || name.contains("/") || name.equals(".") || name.equals("..")) {
            throw new IllegalArgumentException("'" + name + "' is not an instance name (no '/', not empty)");
        }
        return runDir().resolve(name + ".sock");
    }

    /**
     * Binds the control socket at {@code path} (creating its directory) and starts answering. A
     * socket file left by a dead instance is replaced; one that a live instance answers on is not.
     *
     * @throws InUseException       if another instance serves {@code path}
     * @throws UncheckedIOException  if the socket cannot be created
     */
    public static ControlServer start(FlowStack stack, Path path, String name) {
        return start(stack, path, name, ControlAccess.ownerOnly());
    }

    /**
     * {@link #start(FlowStack, Path, String)} with {@code access}: the socket's mode and group and
     * the clients it answers ({@link ControlAccess}).
     *
     * @param stack the stack it reports on
     * @param path where the socket goes
     * @param name the instance name (its accept thread's name)
     * @param access who may connect and ask
     * @return the running server
     */
    public static ControlServer start(FlowStack stack, Path path, String name, ControlAccess access) {
        try {
            if (path.getParent() != null) {
                Files.createDirectories(path.getParent());
            }
            if (Files.exists(path)) {
                if (answers(path)) {
                    throw new InUseException("another running instance answers on " + path
                            + ": stop it or give this one another --name");
                }
                Files.deleteIfExists(path); // stale: its instance is gone
            }
            ServerSocketChannel ch = access.bind(path);
            ControlServer s = new ControlServer(stack, path, ch, name, access);
            s.warmUp();
            s.acceptor.start();
            return s;
        } catch (IOException e) {
            throw new UncheckedIOException("control socket " + path + ": " + e.getMessage(), e);
        }
    }

    /** Another running instance answers on the socket path given. */
    public static final class InUseException extends IllegalStateException {
        private static final long serialVersionUID = 1L;

        InUseException(String message) {
            super(message);
        }
    }

    /** Whether an instance answers on {@code path} (a connect succeeds). */
    public static boolean answers(Path path) {
        if (!Files.exists(path)) {
            return false;
        }
        try (SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(path))) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Makes this instance a router for the control protocol: the {@code route} requests go to
     * {@code control} (null: none, they are answered {@code error: not a router}).
     */
    public void routeControl(RouteControl control) {
        this.routes = control;
    }

    /** Where the socket is. */
    public Path path() {
        return path;
    }

    /** {@return clients refused for their credentials so far} */
    public int refused() {
        return refused.get();
    }

    private void acceptLoop() {
        String lastError = null;
        while (!closing) {
            SocketChannel c;
            try {
                c = server.accept();
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException | RuntimeException e) {
                // EMFILE and the like: say it once, wait a little, keep serving (issue 13 point 6)
                if (!closing && !String.valueOf(e.getMessage()).equals(lastError)) {
                    lastError = String.valueOf(e.getMessage());
                    System.err.println("flowstack: control socket " + path + ": " + e.getMessage() + " (still serving)");
                }
                java.util.concurrent.locks.LockSupport.parkNanos(ACCEPT_RETRY_NANOS);
                continue;
            }
            String refusal = access.refusal(c);
            if (refusal != null) {
                refused.incrementAndGet();
                reply(c, refusal);
                continue;
            }
            if (clients.incrementAndGet() > MAX_CLIENTS) {
                clients.decrementAndGet();
                reply(c, "error: too many clients at once (" + MAX_CLIENTS + "), try again\n");
                continue;
            }
            // a platform thread (at most MAX_CLIENTS): a virtual thread's blocking I/O needs the JVM's
            // poller, whose lazy set-up failed for good when its first use met EMFILE (issue 13 point 6)
            Thread.ofPlatform().daemon().name("stats-control-client").start(() -> {
                try {
                    serve(c);
                } finally {
                    closeQuietly(c); // even after an Error: a descriptor never leaks
                    clients.decrementAndGet();
                }
            });
        }
    }

    private void serve(SocketChannel c) {
        String request;
        // an idle client is cut off: it holds one of the MAX_CLIENTS slots
        java.util.concurrent.ScheduledFuture<?> cutOff = timeouts.schedule(() -> closeQuietly(c),
                CLIENT_TIMEOUT_MILLIS, java.util.concurrent.TimeUnit.MILLISECONDS);
        try {
            request = readLine(c);
        } catch (IOException e) {
            closeQuietly(c);
            return;
        } finally {
            cutOff.cancel(false);
        }
        reply(c, answer(request));
    }

    /**
     * Every kind of request once, answers dropped, before the first client: each loads the
     * classes its answer needs. A class is read from a file when first used (the launcher runs
     * from target/classes), and one whose loading met EMFILE stays unloadable for the JVM's life:
     * without this, running out of descriptors once broke the control socket for good.
     */
    private void warmUp() {
        for (String request : new String[] {"text connections", "json connections", "prometheus", "load",
            "route show", "move x y", "balance x", "nonsense"}) {
            answer(request);
        }
    }

    /**
     * The answer to one request line (as {@link #readLine} returns it): {@code ok}, a line feed
     * and the report, or one line {@code error: MESSAGE} (a malformed request, or one the stack
     * refused); {@code error: the stack did not answer: ...} only for a failure of the stack.
     */
    String answer(String request) {
        try {
            if (RouteRequests.isRoute(request)) {
                return "ok\n" + RouteRequests.handle(routes, request);
            } else if (request.startsWith("move ") || request.startsWith("balance ")) {
                return "ok\n" + Rebalance.handle(stack, request);
            } else {
                String[] words = request.split(" +");
                checkRequest(words[0]);
                ConnectionQuery q = query(words);
                return "ok\n" + render(words[0], stack.snapshot(q), devices.get());
            }
        } catch (IllegalArgumentException e) {
            return "error: " + e.getMessage() + "\n";
        } catch (RuntimeException e) {
            return "error: the stack did not answer: " + e.getMessage() + "\n";
        }
    }

    /** Throws IllegalArgumentException unless {@code request} is one the protocol knows. */
    static void checkRequest(String request) {
        if (!request.equals("text") && !request.equals("json") && !request.equals("prometheus") && !request.equals("load")) {
            throw new IllegalArgumentException("unknown request '" + request
                    + "': send text, json, prometheus, load, move CORE BUCKET[,BUCKET...], balance WINDOW_MS, "
                    + "route add P/L via G, route del P/L or route show");
        }
    }

    /** Rows listed when {@code connections} or a filter is asked without {@code limit=N}. */
    public static final int DEFAULT_LIMIT = 1000;
    /** The most rows one report lists (about 200 bytes of text each). */
    public static final int MAX_LIMIT = 1_000_000;

    /**
     * The connections a request lists: none for a bare {@code text} or {@code json} (the summary
     * counts them by state and core); after the format, {@code connections} lists them and
     * {@code state=S}, {@code sport=N}, {@code dport=N}, {@code port=N} select some (ss's
     * filters), at most {@code limit=N} ({@value #DEFAULT_LIMIT} by default).
     *
     * @throws IllegalArgumentException for an unknown word or a bad value
     */
    static ConnectionQuery query(String[] words) {
        if (!words[0].equals("text") && !words[0].equals("json")) {
            if (words.length > 1) {
                throw new IllegalArgumentException("'" + words[0] + "' takes no arguments");
            }
            return ConnectionQuery.NONE;
        }
        boolean list = false;
        String state = null;
        int sport = -1;
        int dport = -1;
        int port = -1;
        int limit = DEFAULT_LIMIT;
        for (int i = 1; i < words.length; i++) {
            String w = words[i];
            int eq = w.indexOf('=');
            String key = eq < 0 ? w : w.substring(0, eq);
            String value = eq < 0 ? null : w.substring(eq + 1);
            if (key.equals("connections") && value == null) {
                list = true;
                continue;
            }
            if (value == null) {
                throw new IllegalArgumentException("unknown argument '" + w
                        + "': connections, state=S, sport=N, dport=N, port=N or limit=N");
            }
            switch (key) {
                case "state" -> state = ConnectionQuery.stateNamed(value);
                case "sport" -> sport = number(key, value, 0, 65535);
                case "dport" -> dport = number(key, value, 0, 65535);
                case "port" -> port = number(key, value, 0, 65535);
                case "limit" -> limit = number(key, value, 1, MAX_LIMIT);
                default -> throw new IllegalArgumentException("unknown argument '" + w
                        + "': connections, state=S, sport=N, dport=N, port=N or limit=N");
            }
            list = true;
        }
        return list ? new ConnectionQuery(state, sport, dport, port, limit) : ConnectionQuery.NONE;
    }

    private static int number(String key, String value, int min, int max) {
        try {
            int v = Integer.parseInt(value);
            if (v >= min && v <= max) {
                return v;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(key + " must be " + min + ".." + max + ", got '" + value + "'");
    }

    /**
     * Sets where the devices' own counters come from ({@link DeviceCounters}: an AF_XDP interface's
     * mode and kernel drop counters), added to the text and JSON reports.
     *
     * @param source called on the control thread for every report
     */
    public void devices(java.util.function.Supplier<List<DeviceCounters>> source) {
        this.devices = source;
    }

    /** The report {@code request} asks for. */
    static String render(String request, StackSnapshot s) {
        return render(request, s, List.of());
    }

    /** The report {@code request} asks for, with the devices' own counters. */
    static String render(String request, StackSnapshot s, List<DeviceCounters> devices) {
        return switch (request) {
            case "text" -> StatsFormat.text(s, devices);
            case "json" -> StatsFormat.json(s, devices) + "\n";
            case "prometheus" -> MetricsService.prometheus(s);
            case "load" -> {
                StringBuilder b = new StringBuilder();
                StatsFormat.load(b, s);
                yield b.toString();
            }
            default -> {
                checkRequest(request);
                throw new AssertionError(request);
            }
        };
    }

    /** Reads the request line (without the LF); a request longer than MAX_REQUEST is cut off. */
    static String readLine(SocketChannel c) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(MAX_REQUEST);
        while (b.hasRemaining()) {
            if (c.read(b) < 0) {
                break;
            }
            byte[] a = b.array();
            for (int i = 0; i < b.position(); i++) {
                if (a[i] == '\n') {
                    return requestLine(a, i);
                }
            }
        }
        return requestLine(b.array(), b.position());
    }

    /** The request line in the first {@code n} bytes of {@code a} (no LF among them): ASCII, stripped. */
    static String requestLine(byte[] a, int n) {
        return new String(a, 0, Math.min(n, MAX_REQUEST), StandardCharsets.US_ASCII).strip();
    }

    private static void reply(SocketChannel c, String text) {
        try (c) {
            ByteBuffer b = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
            while (b.hasRemaining()) {
                c.write(b);
            }
        } catch (IOException e) {
            // the client went away: nothing to tell it
        }
    }

    private static void closeQuietly(SocketChannel c) {
        try {
            c.close();
        } catch (IOException e) {
            // already gone
        }
    }

    /** Stops answering and removes the socket file. Idempotent. */
    @Override
    public void close() {
        if (closing) {
            return;
        }
        closing = true;
        try {
            server.close();
        } catch (IOException e) {
            // closing anyway
        }
        try {
            acceptor.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        timeouts.shutdownNow();
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            System.err.println("flowstack: cannot remove control socket " + path + ": " + e.getMessage());
        }
    }
}
