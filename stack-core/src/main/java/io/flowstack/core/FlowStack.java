package io.flowstack.core;

import io.flowstack.core.stats.StackSnapshot;
import io.flowstack.core.config.Interfaces;
import io.flowstack.core.config.RouterConfig;
import io.flowstack.core.config.StackConfig;
import io.flowstack.core.percore.Counters;
import io.flowstack.core.flow.FlowHash;
import io.flowstack.core.flow.IndirectionTable;
import io.flowstack.core.netisr.Netisr;
import io.flowstack.core.netisr.NetisrCommand;
import io.flowstack.core.netisr.Rings;
import io.flowstack.core.netisr.SocketHost;
import io.flowstack.core.stats.Stat;
import io.flowstack.core.socket.IcmpEchoSocket;
import io.flowstack.core.socket.StackException;
import io.flowstack.core.socket.TcpConnection;
import io.flowstack.core.socket.TcpHandler;
import io.flowstack.core.socket.TcpListener;
import io.flowstack.core.config.TcpSocketOptions;
import io.flowstack.core.tcp.Isn;
import io.flowstack.core.socket.UdpSocket;
import io.flowstack.core.wire.Ipv4;
import io.flowstack.nic.Nic;
import io.flowstack.nic.NicQueue;
import java.lang.foreign.Arena;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.agrona.concurrent.ringbuffer.OneToOneRingBuffer;

/**
 * One userspace TCP/IP stack instance: an interface (a {@link Nic} with one queue per core),
 * an address, and N netisr threads that own all protocol state.
 *
 * <p>Owned by: the application thread that created it (lifecycle). Socket calls may come from
 * any thread; they reach protocol state only by message.
 *
 * <p>{@link #start} runs each netisr on its own pinned thread. {@link #create} builds the stack
 * without threads: the creating thread then owns every core and drives it with
 * {@link #pollAll(long)} on a fake clock (deterministic tests).
 *
 * <h2>Addresses</h2>
 * The API takes and returns {@link InetAddress} and {@link InetSocketAddress} (IPv4 only: an IPv6
 * address is refused with an {@link IllegalArgumentException} "IPv4 only: ..."); the overloads
 * taking an IPv4 address as an int in network order (198.18.0.1 = 0xC6120001) and a port are the
 * allocation-free forms for hot loops.
 *
 * <h2>Logging</h2>
 * Through {@link System.Logger}, never {@code System.out}: see the package documentation.
 */
public final class FlowStack implements AutoCloseable, SocketHost {
    private final StackConfig config;
    private final Nic nic;
    /** Every interface's NIC, {@code nics.get(0) == nic}. */
    private final List<Nic> nics;
    private final Interfaces interfaces;
    private final Netisr[] cores;
    /** The indirection table as of the last completed move (the cores' replicas converge to it). */
    private volatile IndirectionTable table;
    private final Arena ringArena = Arena.ofShared();
    private io.flowstack.core.netisr.NetisrThreads threads;
    /** The sockets: port tables, binding on every core, connect's choice of local port. */
    private final StackSockets sockets;
    private final StackRoutes routes;
    private volatile boolean started;
    private volatile boolean closed;

    /** The smallest MTU the stack runs with: the datagram every IPv4 host accepts (RFC 791). */
    public static final int MIN_MTU = 576;
    /** The largest: an IPv4 datagram's 16-bit total length. */
    public static final int MAX_MTU = 65535;

    private FlowStack(StackConfig config, List<? extends Nic> nics, RouterConfig router) {
        this.interfaces = StackRoutes.interfaces(config, nics, router);
        this.config = config;
        this.nic = nics.get(0);
        this.nics = List.copyOf(nics);
        IndirectionTable table = new IndirectionTable(config.cores, new FlowHash(RssKeys.of(nics)));
        this.table = table;
        SecureRandom random = new SecureRandom();
        Isn isn = new Isn(random.nextLong(), random.nextLong()); // RFC 6528: a secret per stack
        this.cores = new Netisr[config.cores];
        for (int i = 0; i < config.cores; i++) {
            NicQueue[] queues = new NicQueue[nics.size()];
            for (int k = 0; k < queues.length; k++) {
                queues[k] = nics.get(k).queue(i);
            }
            cores[i] = new Netisr(i, config, queues, interfaces, router.routes(), table, isn);
        }
        @SuppressWarnings("unchecked")
        Rings.Ring<OneToOneRingBuffer>[][] rings = new Rings.Ring[config.cores][config.cores];
        for (int from = 0; from < config.cores; from++) {
            for (int to = 0; to < config.cores; to++) {
                if (from != to) {
                    rings[from][to] = Rings.spsc(ringArena, config.interCoreRingBytes);
                }
            }
        }
        for (Netisr n : cores) {
            n.connect(cores, rings);
        }
        this.sockets = new StackSockets(this);
        this.routes = new StackRoutes(this);
    }

    /**
     * Builds a stack whose cores are driven by the calling thread ({@link #pollAll}).
     *
     * @param config the stack's configuration; {@code config.cores} must equal the NIC's queue
     *     count
     * @param nic the open NIC, one queue per core; the stack does not close it
     * @return the stack, its cores owned by the calling thread
     * @throws IllegalArgumentException if the NIC's queue count differs from the cores, or the MTU
     *     is outside {@value #MIN_MTU}..{@value #MAX_MTU}
     */
    public static FlowStack create(StackConfig config, Nic nic) {
        return new FlowStack(config, List.of(nic), RouterConfig.ENDPOINT);
    }

    /**
     * Builds a stack and starts one netisr thread per core.
     *
     * @param config the stack's configuration; {@code config.cores} must equal the NIC's queue
     *     count
     * @param nic the open NIC, one queue per core; the stack does not close it
     * @return the running stack
     * @throws IllegalArgumentException as {@link #create(StackConfig, Nic)}
     */
    public static FlowStack start(StackConfig config, Nic nic) {
        return start(config, List.of(nic), RouterConfig.ENDPOINT);
    }

    /**
     * Builds a stack with several interfaces (a router, or a multihomed host) whose cores are
     * driven by the calling thread ({@link #pollAll}).
     *
     * @param config the stack's configuration and interface 0's addresses
     * @param nics the open NICs, interface {@code i} on {@code nics.get(i)}, each with one queue per
     *     core; the stack does not close them
     * @param router the other interfaces' addresses, the static routes, whether to forward
     * @return the stack, its cores owned by the calling thread
     * @throws IllegalArgumentException if the NICs and interfaces disagree, a queue count differs
     *     from the cores, an MTU is out of range, or two subnets overlap
     */
    public static FlowStack create(StackConfig config, List<? extends Nic> nics, RouterConfig router) {
        return new FlowStack(config, nics, router);
    }

    /**
     * Builds a stack with several interfaces and starts one netisr thread per core.
     *
     * @param config the stack's configuration and interface 0's addresses
     * @param nics the open NICs, interface {@code i} on {@code nics.get(i)}
     * @param router the other interfaces' addresses, the static routes, whether to forward
     * @return the running stack
     * @throws IllegalArgumentException as {@link #create(StackConfig, List, RouterConfig)}
     */
    public static FlowStack start(StackConfig config, List<? extends Nic> nics, RouterConfig router) {
        FlowStack s = new FlowStack(config, nics, router);
        s.startThreads();
        return s;
    }

    /**
     * {@link #start(StackConfig, List, RouterConfig)} with receive held: no core reads a NIC (so
     * none answers ARP or ping) until {@link #openReceive}, so that a server's listeners are in
     * place on every core before the first frame is read.
     *
     * @param config the stack's configuration and interface 0's addresses
     * @param nics the open NICs, interface {@code i} on {@code nics.get(i)}
     * @param router the other interfaces' addresses, the static routes, whether to forward
     * @return the running stack, reading nothing yet
     */
    public static FlowStack startHeld(StackConfig config, List<? extends Nic> nics, RouterConfig router) {
        FlowStack s = new FlowStack(config, nics, router);
        for (Netisr n : s.cores) {
            n.holdReceive(); // before the threads start
        }
        s.startThreads();
        return s;
    }

    /** Opens receive on every core of a stack from {@link #startHeld}; returns once every core reads its NICs. */
    public void openReceive() {
        callAll(n -> {
            n.openReceive();
            return null;
        });
    }

    /** {@return the stack's interfaces, interface 0 the configuration's (any thread; immutable)} */
    public Interfaces interfaces() {
        return interfaces;
    }

    /** {@return the route table: add, remove and list routes at run time (any thread)} */
    public StackRoutes routes() {
        return routes;
    }

    private void startThreads() {
        if (config.jitIdlePriority) {
            io.flowstack.nativeio.JitThreads.idle(); // a compilation a netisr asks for must not preempt it
        }
        started = true;
        threads = io.flowstack.core.netisr.NetisrThreads.start(cores);
    }

    /**
     * Runs one poll pass of every core at {@code nowNanos} (threadless mode only).
     *
     * @param nowNanos the time the cores see, in nanoseconds of the configuration's clock
     * @return the work done (frames, messages and timers handled), 0 when idle
     * @throws IllegalStateException if the stack was built with {@link #start}
     */
    public int pollAll(long nowNanos) {
        if (started) {
            throw new IllegalStateException("pollAll is for stacks built with create(), not start()");
        }
        int work = 0;
        for (Netisr n : cores) {
            work += n.poll(nowNanos);
        }
        return work;
    }

    /**
     * The stack's configuration (any thread).
     *
     * @return the configuration the stack was built with
     */
    public StackConfig config() {
        return config;
    }

    /**
     * The stack's IPv4 address (the one {@link StackConfig#address} holds as an int).
     *
     * @return the address
     */
    public InetAddress localAddress() {
        return config.inetAddress();
    }

    /**
     * The NIC the stack runs on (any thread).
     *
     * @return the NIC given at construction
     */
    public Nic nic() {
        return nic;
    }

    /**
     * Number of cores (netisrs), equal to the NIC's queue count.
     *
     * @return the number of cores
     */
    public int cores() {
        return cores.length;
    }

    /**
     * Core {@code core}'s netisr (for its identity, its rings and its cross-thread entry points).
     *
     * @param core the core number, {@code 0 <= core < cores()}
     * @return its netisr; its protocol state may be touched only on its own thread
     */
    public Netisr netisr(int core) {
        return cores[core];
    }

    /**
     * Core {@code core}'s counters.
     *
     * @param core the core number
     * @return its counters, readable from any thread
     */
    public Counters counters(int core) {
        return cores[core].counters();
    }

    /**
     * Whether the stack is open (any thread).
     *
     * @return false once {@link #close()} has begun
     */
    public boolean running() {
        return !closed;
    }

    /**
     * Sum of one counter over all cores.
     *
     * @param s the counter
     * @return its sum over the cores at about this instant (each read without stopping the cores)
     */
    public long total(Stat s) {
        long t = 0;
        for (Netisr n : cores) {
            t += n.counters().get(s);
        }
        return t;
    }

    /**
     * The core that owns the flow (local, remote, lport, rport).
     *
     * @param local the local IPv4 address, as a big-endian int
     * @param remote the remote IPv4 address
     * @param lport the local port
     * @param rport the remote port
     * @return the core whose bucket holds the flow now
     */
    public int coreFor(int local, int remote, int lport, int rport) {
        return table.core(table.hash().hash4(local, remote, lport, rport));
    }

    /**
     * The indirection table as of the last completed bucket move (any thread).
     *
     * @return the table, immutable
     */
    public IndirectionTable table() {
        return table;
    }

    /**
     * Moves bucket {@code bucket} of the indirection table to core {@code target} at run time,
     * with every connection it holds, and waits (up to 5 s) until the move is complete: no frame
     * of a moved flow is lost or overtaken on the way (docs/REBALANCING.md). Moves are done one
     * at a time.
     *
     * @param bucket the bucket, {@code 0 <= bucket < table().size()}
     * @param target the core to move it to
     * @return the core that had the bucket
     * @throws StackException if a core refused the move (the message says why) or did not finish it in time
     * @throws IllegalArgumentException if {@code bucket} or {@code target} is out of range
     * @throws IllegalStateException if the stack was built with {@link #create} (no threads)
     */
    public synchronized int moveBucket(int bucket, int target) {
        if (!started) {
            throw new IllegalStateException("a stack without threads moves buckets with moveBucketAsync and pollAll");
        }
        return BucketMover.moveAndWait(this, bucket, target);
    }

    /**
     * Starts moving bucket {@code bucket} to core {@code target} (any thread, returns at once);
     * {@code done} runs on a netisr with null when the move is complete, or with the reason it
     * was refused. For stacks without threads, drive it with {@link #pollAll}.
     *
     * @param bucket the bucket
     * @param target the core to move it to
     * @param done called once with null on success or the reason of the refusal
     */
    public void moveBucketAsync(int bucket, int target, java.util.function.Consumer<String> done) {
        IndirectionTable t = table;
        int from = t.owner(bucket);
        java.util.function.Consumer<String> publish = error -> {
            if (error == null) {
                table = table.withBucket(bucket, target); // moves are one at a time: no lost update
                try {
                    for (Nic c : nics) {
                        c.steer(bucket, target); // the NICs' RSS tables follow (TAP steering map)
                    }
                } catch (RuntimeException e) {
                    // the frames of the bucket keep arriving on the old queue and hop: slower, still right
                }
            }
            done.accept(error);
        };
        if (!cores[from].submit(n -> n.moveBucket(bucket, target, publish))) {
            done.accept("netisr-" + from + " command queue is full");
        }
    }

    /**
     * Frames each core processed per bucket so far: {@code result[core][bucket]} (any thread).
     *
     * @return a new array of one row per core, one column per bucket
     */
    public long[][] bucketPackets() {
        return StackReports.bucketPackets(cores, table.size());
    }

    /**
     * Runs {@code fn} on core {@code core}'s netisr and returns its result (waits up to 5 s). In
     * threadless mode it runs on the caller, which owns every core.
     *
     * @param core the core number
     * @param fn the function, run on that core's netisr thread
     * @param <T> the result type
     * @return what {@code fn} returned
     * @throws StackException if the stack is closed, the core's command queue is full, the wait is
     *     interrupted or times out, or {@code fn} threw (as the cause)
     */
    public <T> T call(int core, Function<Netisr, T> fn) {
        if (closed) {
            throw new StackException("the stack is closed");
        }
        if (!started) {
            return fn.apply(cores[core]);
        }
        CompletableFuture<T> f = new CompletableFuture<>();
        NetisrCommand cmd = n -> {
            try {
                f.complete(fn.apply(n));
            } catch (Throwable t) {
                f.completeExceptionally(t);
            }
        };
        if (!cores[core].submit(cmd)) {
            throw new StackException("netisr-" + core + " command queue is full");
        }
        try {
            return f.get(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StackException("interrupted waiting for netisr-" + core, e);
        } catch (ExecutionException e) {
            throw new StackException("netisr-" + core + ": " + e.getCause(), e.getCause());
        } catch (TimeoutException e) {
            throw new StackException("netisr-" + core + " did not answer within 5 s");
        }
    }

    /**
     * Registers {@code ticker} on core {@code core}: its netisr calls it on its 10 ms tick with
     * the stack clock's time in nanoseconds, on the netisr thread (so it may touch state that
     * core's callbacks own). Waits until registered (as {@link #call}). The ticker must not block.
     *
     * @param core the core number
     * @param ticker the hook; registering the same one twice on a core has no effect
     * @throws StackException as {@link #call} does
     */
    public void addTicker(int core, java.util.function.LongConsumer ticker) {
        call(core, n -> {
            n.tickers().add(ticker);
            return null;
        });
    }

    /**
     * Unregisters {@code ticker} from core {@code core} (waits, as {@link #call}); after this
     * returns the netisr does not call it again.
     *
     * @param core the core number
     * @param ticker the hook given to {@link #addTicker}
     * @return whether it was registered there
     * @throws StackException as {@link #call} does
     */
    public boolean removeTicker(int core, java.util.function.LongConsumer ticker) {
        return call(core, n -> n.tickers().remove(ticker));
    }

    /**
     * Runs {@code fn} on every core, one after the other.
     *
     * @param fn the function, run on each core's netisr thread in turn; its results are dropped
     * @throws StackException as {@link #call} does, for the first core that fails
     */
    public void callAll(Function<Netisr, ?> fn) {
        for (int i = 0; i < cores.length; i++) {
            call(i, fn);
        }
    }

    // ------------------------------------------------------------------ UDP sockets

    /**
     * Binds a UDP socket to {@code port} on the stack's address, or to an ephemeral port chosen
     * at random (RFC 6056 Algorithm 1) when {@code port} is 0. The binding is replicated to
     * every core before this returns.
     *
     * @param port the UDP port, or 0 for an ephemeral one (49152-65535)
     * @return the bound socket
     * @throws StackException if the port is already bound
     * @throws IllegalArgumentException if {@code port} is outside 0..65535
     */
    public UdpSocket udpBind(int port) {
        return sockets.udpBind(port);
    }

    /**
     * Binds a UDP socket to {@code local}, like {@code DatagramChannel.bind}: its address must be
     * the stack's own or the wildcard 0.0.0.0 (the stack has one address), its port 0 for an
     * ephemeral one; see {@link #udpBind(int)}.
     *
     * @param local the address (the stack's own or 0.0.0.0) and port (0: ephemeral) to bind
     * @return the bound socket
     * @throws IllegalArgumentException "IPv4 only: ..." for an IPv6 address
     * @throws StackException if the address is not the stack's (EADDRNOTAVAIL) or the port is bound
     */
    public UdpSocket udpBind(InetSocketAddress local) {
        int addr = Ipv4.of(local);
        if (addr != 0 && addr != config.address) {
            throw new StackException("cannot bind UDP to " + Ipv4.toString(addr) + ": the stack's address is "
                    + Ipv4.toString(config.address) + " (EADDRNOTAVAIL)");
        }
        return udpBind(local.getPort());
    }

    // ------------------------------------------------------------------ ICMP echo (ping)

    /**
     * Opens an ICMP echo client with an identifier chosen at random among those not in use
     * (RFC 792: the identifier matches replies to their requests), bound on every core before
     * this returns. Each core's receive ring is {@code udpReceiveBufferBytes} but at least 1 MiB,
     * so that a reply of the largest size fits.
     *
     * @return the open echo client
     * @throws StackException if the stack is closed or all 65536 identifiers are in use
     */
    public IcmpEchoSocket icmpEchoOpen() {
        return sockets.icmpEchoOpen();
    }

    // ------------------------------------------------------------------ TCP sockets

    /**
     * Listens on TCP {@code port}: the listener is replicated to every core before this returns.
     *
     * @param port the TCP port, 1..65535
     * @param backlog per-core bound of the accept queue
     * @return the listener
     * @throws StackException if the port is already in use
     * @throws IllegalArgumentException if {@code port} is outside 1..65535
     */
    public TcpListener tcpListen(int port, int backlog) {
        return tcpListen(port, backlog, TcpSocketOptions.defaults(config));
    }

    /**
     * Listens with per-socket options applied to every accepted connection.
     *
     * @param port the TCP port, 1..65535
     * @param backlog per-core bound of the accept queue
     * @param options the options of every accepted connection
     * @return the listener
     * @throws IllegalArgumentException if {@code port} is outside 1..65535
     * @throws StackException if the port is already in use or the stack is closed
     */
    public TcpListener tcpListen(int port, int backlog, TcpSocketOptions options) {
        return tcpListen(port, backlog, options, null);
    }

    /**
     * Listens with the non-blocking API: every accepted connection's events go to
     * {@code handler} on the netisr that owns it (no accept queue, no application thread).
     *
     * @param port the TCP port, 1..65535
     * @param backlog per-core bound of the accept queue (unused with a handler)
     * @param options the options of every accepted connection
     * @param handler the callbacks of every accepted connection, or null for the blocking API
     *     (accept queue)
     * @return the listener
     * @throws IllegalArgumentException if {@code port} is outside 1..65535
     * @throws StackException if the port is already in use or the stack is closed
     */
    public TcpListener tcpListen(int port, int backlog, TcpSocketOptions options, TcpHandler handler) {
        return sockets.tcpListen(port, backlog, options, handler);
    }

    /**
     * Opens a TCP connection to {@code remote:port} (blocking until established). The local port
     * is chosen at random (RFC 6056) among those whose 4-tuple hashes to the core chosen for the
     * connection, so that the connection is born on the core that owns it.
     *
     * @param remote the peer's IPv4 address, as a big-endian int
     * @param port the peer's TCP port, 1..65535
     * @param timeout how long to wait for the connection to be established
     * @param unit the unit of {@code timeout}
     * @return the established connection, with the stack's default options
     * @throws StackException "connection refused", "timed out", or no free port
     */
    public TcpConnection tcpConnect(int remote, int port, long timeout, TimeUnit unit) {
        return tcpConnect(remote, port, timeout, unit, false, null);
    }

    /**
     * Opens a TCP connection to {@code remote:port} with TCP_NODELAY and a congestion control of
     * the caller's choice, blocking until it is established.
     *
     * @param remote the peer's IPv4 address, as a big-endian int
     * @param port the peer's TCP port, 1..65535
     * @param timeout how long to wait for the connection to be established
     * @param unit the unit of {@code timeout}
     * @param nodelay TCP_NODELAY
     * @param congestion the congestion control algorithm, or null for the stack's default
     * @return the established connection
     * @throws IllegalArgumentException if {@code port} is out of range or {@code congestion} is
     *     unknown
     * @throws StackException "connection refused", "timed out", or no free port
     */
    public TcpConnection tcpConnect(int remote, int port, long timeout, TimeUnit unit, boolean nodelay,
                                    String congestion) {
        TcpSocketOptions o = TcpSocketOptions.defaults(config).withNoDelay(nodelay);
        return tcpConnect(remote, port, timeout, unit, congestion == null ? o : o.withCongestionControl(congestion));
    }

    /**
     * Connects with per-socket options. The local port is drawn at random (RFC 6056 Algorithm 1)
     * among ports whose 4-tuple hashes to the core chosen (round-robin) for the connection; after
     * 64 tries it falls back to any free port, on whichever core that port's tuple hashes to.
     *
     * @param remote the peer's IPv4 address, as a big-endian int
     * @param port the peer's TCP port, 1..65535
     * @param timeout how long to wait for the connection to be established
     * @param unit the unit of {@code timeout}
     * @param options the connection's options
     * @return the established connection
     * @throws IllegalArgumentException if {@code port} is outside 1..65535
     * @throws StackException if the stack is closed, the connection is refused, times out or hits a
     *     stack limit, or no local port is free
     */
    public TcpConnection tcpConnect(int remote, int port, long timeout, TimeUnit unit, TcpSocketOptions options) {
        return sockets.tcpConnect(remote, port, timeout, unit, options);
    }

    /**
     * Non-blocking connect: returns at once; {@code handler.onOpen} runs on the owning netisr
     * when the connection is established, or {@code onClosed} with the error.
     *
     * @param remote the peer's IPv4 address, as a big-endian int
     * @param port the peer's TCP port, 1..65535
     * @param options the connection's options
     * @param handler the connection's callbacks, run on its netisr
     * @throws IllegalArgumentException if {@code port} is outside 1..65535
     * @throws StackException if a stack limit refuses it or no local port is free
     */
    public void tcpConnect(int remote, int port, TcpSocketOptions options, TcpHandler handler) {
        sockets.tcpConnect(remote, port, options, handler);
    }

    /**
     * Opens a TCP connection to {@code remote} (blocking until established), as
     * {@link #tcpConnect(int, int, long, TimeUnit)}.
     *
     * @param remote the peer: its IPv4 address and port
     * @param timeout how long to wait for the handshake
     * @param unit the unit of {@code timeout}
     * @return the established connection
     * @throws IllegalArgumentException "IPv4 only: ..." for an IPv6 address, an unresolved
     *     address, or port 0
     * @throws StackException "connection refused", "timed out", or no free port
     */
    public TcpConnection tcpConnect(InetSocketAddress remote, long timeout, TimeUnit unit) {
        return tcpConnect(Ipv4.of(remote), remote.getPort(), timeout, unit);
    }

    /**
     * Opens a TCP connection to {@code remote} with Nagle's algorithm off if {@code nodelay} and
     * the congestion control named {@code congestion} (null: the stack's default), as
     * {@link #tcpConnect(int, int, long, TimeUnit, boolean, String)}.
     *
     * @param remote the peer: its IPv4 address and port
     * @param timeout how long to wait for the handshake
     * @param unit the unit of {@code timeout}
     * @param nodelay true to turn Nagle's algorithm off (TCP_NODELAY)
     * @param congestion the congestion control's name, or null for the stack's default
     * @return the established connection
     * @throws IllegalArgumentException "IPv4 only: ..." for an IPv6 address, an unresolved
     *     address, or port 0
     */
    public TcpConnection tcpConnect(InetSocketAddress remote, long timeout, TimeUnit unit, boolean nodelay,
                                    String congestion) {
        return tcpConnect(Ipv4.of(remote), remote.getPort(), timeout, unit, nodelay, congestion);
    }

    /**
     * Opens a TCP connection to {@code remote} with per-socket options, as
     * {@link #tcpConnect(int, int, long, TimeUnit, TcpSocketOptions)}.
     *
     * @param remote the peer: its IPv4 address and port
     * @param timeout how long to wait for the handshake
     * @param unit the unit of {@code timeout}
     * @param options the connection's socket options
     * @return the established connection
     * @throws IllegalArgumentException "IPv4 only: ..." for an IPv6 address, an unresolved
     *     address, or port 0
     */
    public TcpConnection tcpConnect(InetSocketAddress remote, long timeout, TimeUnit unit, TcpSocketOptions options) {
        return tcpConnect(Ipv4.of(remote), remote.getPort(), timeout, unit, options);
    }

    /**
     * Non-blocking connect to {@code remote}, as {@link #tcpConnect(int, int, TcpSocketOptions, TcpHandler)}.
     *
     * @param remote the peer: its IPv4 address and port
     * @param options the connection's socket options
     * @param handler the connection's callbacks, run on its owning netisr
     * @throws IllegalArgumentException "IPv4 only: ..." for an IPv6 address, an unresolved
     *     address, or port 0
     */
    public void tcpConnect(InetSocketAddress remote, TcpSocketOptions options, TcpHandler handler) {
        tcpConnect(Ipv4.of(remote), remote.getPort(), options, handler);
    }

    /**
     * Non-blocking connect from code already running on netisr {@code core} (inside a
     * {@link TcpHandler} callback or a command submitted to that core), from a local port the
     * caller chose; {@code handler.onOpen} or {@code onClosed} follow on the same netisr.
     *
     * @param core the calling netisr's core
     * @param remote the peer's IPv4 address, as a big-endian int
     * @param port the peer's TCP port, 1..65535
     * @param localPort the local port, 1..65535
     * @param options the connection's options
     * @param handler the connection's callbacks, run on this netisr
     * @return false if the 4-tuple is in use, or its bucket is not on {@code core} (try another port)
     * @throws StackException when a stack limit (connections, TCP memory) refuses it
     */
    public boolean tcpConnectOnNetisr(int core, int remote, int port, int localPort, TcpSocketOptions options,
                                      TcpHandler handler) {
        return sockets.tcpConnectOnNetisr(core, remote, port, localPort, options, handler);
    }

    /**
     * {@link #tcpConnectOnNetisr(int, int, int, int, TcpSocketOptions, TcpHandler)} to
     * {@code remote}. A convenience that reads the address out of {@code remote}; a handler that
     * opens connections in its steady state passes the int form, which allocates nothing.
     *
     * @param core the netisr the caller runs on
     * @param remote the peer: its IPv4 address and port
     * @param localPort the local port, chosen by the caller
     * @param options the connection's socket options
     * @param handler the connection's callbacks, run on its owning netisr
     * @return false if the 4-tuple is in use, or its bucket is not on {@code core}
     * @throws IllegalArgumentException "IPv4 only: ..." for an IPv6 address or an unresolved address
     */
    public boolean tcpConnectOnNetisr(int core, InetSocketAddress remote, int localPort, TcpSocketOptions options,
                                      TcpHandler handler) {
        return tcpConnectOnNetisr(core, Ipv4.of(remote), remote.getPort(), localPort, options, handler);
    }

    // ------------------------------------------------------------------ lifecycle

    /** Stops every netisr thread and frees the stack's memory. The NIC stays open (caller owns it). */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (threads != null) {
            threads.stop();
        }
        sockets.closeAll();
        for (Netisr n : cores) {
            n.release();
        }
        ringArena.close();
    }

    /**
     * A snapshot of every core (counters, connections, ARP replica), each taken on its own netisr
     * with {@link #call}, one core after the other. Control path: allocates, never touches
     * protocol state from the calling thread.
     *
     * @return the snapshot
     * @throws StackException if a core does not answer (see {@link #call})
     */
    public StackSnapshot snapshot() {
        return snapshot(io.flowstack.core.stats.ConnectionQuery.ALL);
    }

    /**
     * {@link #snapshot()} that lists only the connections {@code query} selects, at most its
     * limit per core; every connection is still counted by state and core. What
     * {@code stack stats} asks for: its summary lists none, so a stack with a million
     * connections answers without copying a million rows.
     *
     * @param query which connections to list
     * @return the snapshot
     * @throws StackException if a core does not answer (see {@link #call})
     */
    public StackSnapshot snapshot(io.flowstack.core.stats.ConnectionQuery query) {
        return StackReports.snapshot(this, query);
    }

    /**
     * Per-core counters as a table: one row per non-zero counter, one column per core.
     *
     * @return the table as text, with a total column; lines end with the platform's line separator
     */
    public String countersReport() {
        return StackReports.counters(cores);
    }
}
