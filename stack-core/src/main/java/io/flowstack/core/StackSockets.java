package io.flowstack.core;

import io.flowstack.core.config.StackConfig;
import io.flowstack.core.config.TcpSocketOptions;
import io.flowstack.core.netisr.Netisr;
import io.flowstack.core.socket.IcmpEchoSocket;
import io.flowstack.core.socket.StackException;
import io.flowstack.core.socket.TcpConnection;
import io.flowstack.core.socket.TcpHandler;
import io.flowstack.core.socket.TcpListener;
import io.flowstack.core.socket.UdpSocket;
import io.flowstack.core.tcp.TcpLimitException;
import io.flowstack.core.tcp.TcpListenerState;
import io.flowstack.core.tcp.TcpStream;
import io.flowstack.core.tcp.TcpUpcalls;
import io.flowstack.core.wire.Ipv4;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The stack's sockets: which UDP ports, TCP listening ports and ICMP echo identifiers are taken,
 * how a socket is bound on every core and unbound when it closes, and how a connect chooses its
 * local port (RFC 6056) so that the connection is born on the core that owns it.
 * {@link FlowStack}'s socket calls are this class's.
 *
 * <p>Owned by: the stack; any application thread may call it (the port tables are concurrent
 * maps, the cores are reached by {@link FlowStack#call}).
 */
final class StackSockets {
    private static final int EPHEMERAL_UDP_FIRST = 49152;
    private static final int EPHEMERAL_TCP_FIRST = 32768;

    private final FlowStack stack;
    private final StackConfig config;
    private final int cores;
    private final SecureRandom random = new SecureRandom();
    private final ConcurrentHashMap<Integer, UdpSocket> udpPorts = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<Integer, TcpListener> tcpPorts = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<Integer, IcmpEchoSocket> echoIds = new ConcurrentHashMap<>();
    private final AtomicInteger nextConnectCore = new AtomicInteger();

    StackSockets(FlowStack stack) {
        this.stack = stack;
        this.config = stack.config();
        this.cores = stack.cores();
    }

    private void checkOpen() {
        if (!stack.running()) {
            throw new StackException("the stack is closed");
        }
    }

    // ------------------------------------------------------------------ UDP

    UdpSocket udpBind(int port) {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("UDP port must be 0..65535, got " + port);
        }
        checkOpen();
        UdpSocket s;
        if (port == 0) {
            s = null;
            int range = 65536 - EPHEMERAL_UDP_FIRST;
            int start = random.nextInt(range);
            for (int i = 0; i < range && s == null; i++) {
                s = newUdpSocket(EPHEMERAL_UDP_FIRST + (start + i) % range);
            }
            if (s == null) {
                throw new StackException("no free ephemeral UDP port (49152-65535 all bound)");
            }
        } else {
            s = newUdpSocket(port);
            if (s == null) {
                throw new StackException("UDP port " + port + " on " + Ipv4.toString(config.address)
                        + " is already bound (EADDRINUSE): choose another port or close the other socket");
            }
        }
        UdpSocket bound = s;
        stack.callAll(n -> {
            n.udp().bind(bound.port(), bound.receiver());
            return null;
        });
        return bound;
    }

    /** A socket on {@code port} entered in the port table, or null if the port is taken (made only if free). */
    private UdpSocket newUdpSocket(int port) {
        UdpSocket[] made = new UdpSocket[1];
        udpPorts.computeIfAbsent(port, p ->
                made[0] = new UdpSocket(stack, p, cores, config.udpReceiveBufferBytes, this::unbindUdp));
        return made[0];
    }

    /** Removes a socket's binding from every core (its close callback). */
    private void unbindUdp(UdpSocket s) {
        if (stack.running()) {
            stack.callAll(n -> {
                n.udp().unbind(s.port());
                return null;
            });
        }
        udpPorts.remove(s.port(), s);
    }

    // ------------------------------------------------------------------ ICMP echo

    IcmpEchoSocket icmpEchoOpen() {
        checkOpen();
        int ringBytes = Math.max(1 << 20, config.udpReceiveBufferBytes);
        int start = random.nextInt(65536);
        for (int i = 0; i < 65536; i++) {
            int id = (start + i) & 0xFFFF;
            if (echoIds.containsKey(id)) {
                continue;
            }
            IcmpEchoSocket s = new IcmpEchoSocket(stack, id, cores, ringBytes, this::unbindEcho);
            if (echoIds.putIfAbsent(id, s) == null) {
                stack.callAll(n -> {
                    n.icmp().bindEcho(id, s.receiver());
                    return null;
                });
                return s;
            }
        }
        throw new StackException("no free ICMP echo identifier (all 65536 in use)");
    }

    /** Removes an echo client's identifier from every core (its close callback). */
    private void unbindEcho(IcmpEchoSocket s) {
        if (stack.running()) {
            stack.callAll(n -> {
                n.icmp().unbindEcho(s.id());
                return null;
            });
        }
        echoIds.remove(s.id(), s);
    }

    // ------------------------------------------------------------------ TCP

    TcpListener tcpListen(int port, int backlog, TcpSocketOptions options, TcpHandler handler) {
        checkTcpPort(port);
        checkOpen();
        TcpListener l = new TcpListener(stack, port, cores, backlog, this::unlistenTcp);
        TcpUpcalls.Binder binder = handler == null ? null : HandlerUpcalls.binder(handler);
        if (tcpPorts.putIfAbsent(port, l) != null) {
            throw new StackException("TCP port " + port + " on " + Ipv4.toString(config.address)
                    + " is already in use (EADDRINUSE): choose another port or close the other listener");
        }
        stack.callAll(n -> {
            n.tcp().listen(new TcpListenerState(port, l.acceptor(), config.tcpSynBacklog, options, binder));
            return null;
        });
        return l;
    }

    /** Removes a listener from every core (its close callback). */
    private void unlistenTcp(TcpListener l) {
        if (stack.running()) {
            stack.callAll(n -> {
                n.tcp().unlisten(l.port());
                return null;
            });
        }
        tcpPorts.remove(l.port(), l);
    }

    /** Blocking connect: the connection once established (see {@link FlowStack#tcpConnect}). */
    TcpConnection tcpConnect(int remote, int port, long timeout, TimeUnit unit, TcpSocketOptions options) {
        checkTcpPort(port);
        checkOpen();
        Opened o = open(remote, port, options, null);
        TcpConnection c = new TcpConnection(o.stream, o.localAddr, o.localPort, remote, port);
        try {
            c.awaitEstablished(unit.toNanos(timeout));
        } catch (StackException e) {
            c.abort(); // gives the rings back (the caller never sees this connection)
            throw e;
        }
        return c;
    }

    /** Callback-API connect: returns once TCP sent the SYN; the handler hears the rest. */
    void tcpConnect(int remote, int port, TcpSocketOptions options, TcpHandler handler) {
        checkTcpPort(port);
        open(remote, port, options, HandlerUpcalls.binder(handler));
    }

    /** Connect from code running on netisr {@code core}, from the caller's local port. */
    boolean tcpConnectOnNetisr(int core, int remote, int port, int localPort, TcpSocketOptions options,
                               TcpHandler handler) {
        Netisr n = stack.netisr(core);
        n.checkOwner();
        return connectOn(n, n.tcp().sourceFor(remote), remote, port, localPort, options,
                HandlerUpcalls.binder(handler)) != null;
    }

    /** A connection TCP opened, and the local address and port it got. */
    private record Opened(TcpStream stream, int localAddr, int localPort) {}

    /**
     * Active open from the address of the interface the route to {@code remote} leaves by
     * (RFC 1122 3.3.4.3; the only address of a stack with one interface) and a local port drawn
     * at random (RFC 6056 Algorithm 1) among the ports whose 4-tuple hashes to the core chosen
     * (round-robin) for the connection; after 64 tries per core it takes any free port, on
     * whichever core that port's tuple hashes to.
     */
    private Opened open(int remote, int port, TcpSocketOptions options, TcpUpcalls.Binder binder) {
        int core = Math.floorMod(nextConnectCore.getAndIncrement(), cores);
        // every core's route table replica is the same: the chosen core's answers
        int local = stack.interfaces().count() == 1 ? config.address
                : stack.call(core, n -> n.tcp().sourceFor(remote));
        int range = 65536 - EPHEMERAL_TCP_FIRST;
        int start = random.nextInt(range);
        for (int i = 0, tried = 0; i < range && tried < 4096; i++) {
            int lport = EPHEMERAL_TCP_FIRST + (start + i) % range;
            int owner = stack.coreFor(local, remote, lport, port);
            if ((owner != core && i < 64 * cores) || tcpPorts.containsKey(lport)) {
                continue; // prefer a port that lands on the chosen core; fall back after a while
            }
            tried++;
            TcpStream s = stack.call(owner, n -> connectOn(n, local, remote, port, lport, options, binder));
            if (s != null) {
                return new Opened(s, local, lport);
            }
            // 4-tuple in use on that core: try another port
        }
        throw new StackException("connect to " + Ipv4.toString(remote) + ":" + port
                + ": no free local port (EADDRNOTAVAIL)");
    }

    /** TCP's active open on {@code n} (its thread), with TCP's limit refusal as the API's exception. */
    private static TcpStream connectOn(Netisr n, int local, int remote, int port, int localPort,
                                       TcpSocketOptions options, TcpUpcalls.Binder binder) {
        try {
            return n.tcp().connect(local, remote, port, localPort, options, binder);
        } catch (TcpLimitException e) {
            throw new StackException(e.getMessage());
        }
    }

    private static void checkTcpPort(int port) {
        if (port <= 0 || port > 65535) {
            throw new IllegalArgumentException("TCP port must be 1..65535, got " + port);
        }
    }

    // ------------------------------------------------------------------ lifecycle

    /** Closes every socket still open (the stack is closing). */
    void closeAll() {
        for (UdpSocket s : new ArrayList<>(udpPorts.values())) {
            s.close();
        }
        for (TcpListener l : new ArrayList<>(tcpPorts.values())) {
            l.close();
        }
        for (IcmpEchoSocket s : new ArrayList<>(echoIds.values())) {
            s.close();
        }
    }
}
