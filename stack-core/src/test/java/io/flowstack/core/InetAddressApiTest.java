package io.flowstack.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.config.StackConfig;
import io.flowstack.core.config.TcpSocketOptions;
import io.flowstack.core.percore.Ownership;
import io.flowstack.core.socket.IcmpEchoSocket;
import io.flowstack.core.socket.IcmpEchoSocket.Reply;
import io.flowstack.core.socket.StackException;
import io.flowstack.core.socket.TcpChannel;
import io.flowstack.core.socket.TcpConnection;
import io.flowstack.core.socket.TcpHandler;
import io.flowstack.core.socket.TcpListener;
import io.flowstack.core.socket.UdpIcmpError;
import io.flowstack.core.socket.UdpPeer;
import io.flowstack.core.socket.UdpSocket;
import io.flowstack.core.stats.StackSnapshot;
import io.flowstack.core.stats.Stat;
import io.flowstack.nic.MemoryWire;
import java.io.ByteArrayOutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The {@link InetAddress}/{@link InetSocketAddress} overloads of the API, between two threaded
 * stacks (2 cores each) on a {@link MemoryWire}, configured only through those overloads: TCP
 * connect/accept/echo (blocking and callback), UDP send/receive, ping, and the refusal of IPv6.
 */
class InetAddressApiTest {
    private static final InetAddress CLIENT = addr("198.18.0.1");
    private static final InetAddress SERVER = addr("198.18.0.2");
    private static final InetAddress V6 = addr("2001:db8::2");
    private static final int CORES = 2;

    private MemoryWire wire;
    private FlowStack server;
    private FlowStack client;
    private long violations;

    private static InetAddress addr(String text) {
        try {
            return InetAddress.getByName(text); // literals: no name lookup
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static StackConfig config(InetAddress address, long mac) {
        return StackConfig.builder().cores(CORES).address(address).netmask(addr("255.255.255.0"))
                .gateway(addr("198.18.0.254")).mac(mac).pinThreads(false).build();
    }

    @BeforeEach
    void start() {
        violations = Ownership.violations();
        wire = MemoryWire.create(CORES, 1 << 20);
        server = FlowStack.start(config(SERVER, 0x02_00_00_00_00_02L), wire.b());
        client = FlowStack.start(config(CLIENT, 0x02_00_00_00_00_01L), wire.a());
    }

    @AfterEach
    void stop() {
        long internal = server.total(Stat.INTERNAL_ERROR) + client.total(Stat.INTERNAL_ERROR);
        client.close();
        server.close();
        wire.close();
        assertEquals(0, internal, "internal errors");
        assertEquals(violations, Ownership.violations());
    }

    @Test
    void builderTakesInetAddresses() {
        StackConfig c = server.config();
        assertEquals(0xC6120002, c.address);
        assertEquals(24, c.prefixLength);
        assertEquals(0xC61200FE, c.gateway);
        assertEquals(SERVER, c.inetAddress());
        assertEquals(SERVER, server.localAddress());
        assertEquals(addr("198.18.0.254"), c.inetGateway());
        assertEquals(addr("255.255.255.0"), c.inetNetmask());
        assertNull(StackConfig.builder().address(SERVER).build().inetGateway(), "no gateway configured");
        assertEquals(20, StackConfig.builder().address(SERVER).netmask(addr("255.255.240.0")).build().prefixLength);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> StackConfig.builder().netmask(addr("255.0.255.0")));
        assertTrue(e.getMessage().startsWith("not a network mask"), e.getMessage());
    }

    @Test
    void blockingConnectAcceptAndEchoBySocketAddress() throws Exception {
        try (TcpListener l = server.tcpListen(9000, 16)) {
            assertEquals(new InetSocketAddress(SERVER, 9000), l.localSocketAddress());
            CompletableFuture<InetSocketAddress[]> served = CompletableFuture.supplyAsync(() -> {
                try (TcpConnection c = l.accept(10, TimeUnit.SECONDS)) {
                    c.readTimeout(10, TimeUnit.SECONDS);
                    byte[] b = c.inputStream().readNBytes(5);
                    c.write(b, 0, b.length);
                    c.shutdownOutput();
                    assertEquals(-1, c.read(new byte[1], 0, 1));
                    return new InetSocketAddress[] {c.localSocketAddress(), c.remoteSocketAddress()};
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            TcpConnection c = client.tcpConnect(new InetSocketAddress(SERVER, 9000), 5, TimeUnit.SECONDS);
            c.readTimeout(10, TimeUnit.SECONDS);
            c.write("hello".getBytes(StandardCharsets.US_ASCII), 0, 5);
            assertEquals("hello", new String(c.inputStream().readAllBytes(), StandardCharsets.US_ASCII));
            assertEquals(new InetSocketAddress(SERVER, 9000), c.remoteSocketAddress());
            assertEquals(new InetSocketAddress(CLIENT, c.localPort()), c.localSocketAddress());
            StackSnapshot snap = client.snapshot();
            assertTrue(snap.connections().stream().anyMatch(i -> i.localSocketAddress().equals(c.localSocketAddress())
                    && i.remoteSocketAddress().equals(c.remoteSocketAddress())), () -> snap.connections().toString());
            assertTrue(snap.cores().stream().flatMap(k -> k.arp().stream()).anyMatch(a -> SERVER.equals(a.inetAddress())),
                    "the server's ARP entry by address");
            c.close();
            InetSocketAddress[] ends = served.get(10, TimeUnit.SECONDS);
            assertEquals(new InetSocketAddress(SERVER, 9000), ends[0]);
            assertEquals(c.localSocketAddress(), ends[1], "the server sees the client's end");
        }
        // the other blocking overloads reach the same connect
        try (TcpListener l = server.tcpListen(9001, 16)) {
            InetSocketAddress to = new InetSocketAddress(SERVER, 9001);
            try (TcpConnection a = client.tcpConnect(to, 5, TimeUnit.SECONDS, true, "newreno");
                 TcpConnection b = client.tcpConnect(to, 5, TimeUnit.SECONDS,
                         TcpSocketOptions.defaults(client.config()).withNoDelay(true))) {
                assertEquals(to, a.remoteSocketAddress());
                assertEquals(to, b.remoteSocketAddress());
                TcpConnection s1 = l.accept(5, TimeUnit.SECONDS);
                TcpConnection s2 = l.accept(5, TimeUnit.SECONDS);
                assertNotNull(s1);
                assertNotNull(s2);
                s1.close();
                s2.close();
            }
        }
        assertEquals(3, server.total(Stat.TCP_PASSIVE_OPENS));
    }

    /** Echoes with the callback API; records the channel's ends when it opens. */
    private static final class Echo implements TcpHandler {
        final CompletableFuture<InetSocketAddress[]> ends = new CompletableFuture<>();

        @Override
        public void onOpen(TcpChannel ch) {
            ends.complete(new InetSocketAddress[] {ch.localSocketAddress(), ch.remoteSocketAddress()});
        }

        @Override
        public int onData(TcpChannel ch, MemorySegment data, long offset, int length) {
            return ch.write(data, offset, length);
        }

        @Override
        public void onPeerClosed(TcpChannel ch) {
            ch.close();
        }
    }

    /**
     * Sends {@code text} once open, collects the echo, half-closes after it all came back; done
     * when the server's FIN answers (onClosed would wait out TIME-WAIT, RFC 9293 3.6.1).
     */
    private static final class Talker implements TcpHandler {
        final byte[] text;
        final ByteArrayOutputStream got = new ByteArrayOutputStream();
        final CompletableFuture<InetSocketAddress[]> ends = new CompletableFuture<>();
        final CompletableFuture<Void> peerClosed = new CompletableFuture<>();

        Talker(String text) {
            this.text = text.getBytes(StandardCharsets.US_ASCII);
        }

        @Override
        public void onOpen(TcpChannel ch) {
            ends.complete(new InetSocketAddress[] {ch.localSocketAddress(), ch.remoteSocketAddress()});
            assertEquals(text.length, ch.write(text, 0, text.length));
        }

        @Override
        public int onData(TcpChannel ch, MemorySegment data, long offset, int length) {
            got.write(data.asSlice(offset, length).toArray(ValueLayout.JAVA_BYTE), 0, length);
            if (got.size() == text.length) {
                ch.shutdownOutput(); // FIN; the echo server answers with its own
            }
            return length;
        }

        @Override
        public void onPeerClosed(TcpChannel ch) {
            ch.close();
            peerClosed.complete(null);
        }

        @Override
        public void onClosed(TcpChannel ch, String error) {
            if (error != null) {
                peerClosed.completeExceptionally(new AssertionError(error));
            }
        }
    }

    @Test
    void callbackConnectAndChannelAddresses() throws Exception {
        Echo echo = new Echo();
        InetSocketAddress to = new InetSocketAddress(SERVER, 7);
        try (TcpListener l = server.tcpListen(7, 16, TcpSocketOptions.defaults(server.config()), echo)) {
            Talker t = new Talker("over the callback API");
            client.tcpConnect(to, TcpSocketOptions.defaults(client.config()), t);
            t.peerClosed.get(10, TimeUnit.SECONDS);
            assertEquals("over the callback API", t.got.toString(StandardCharsets.US_ASCII));
            InetSocketAddress[] mine = t.ends.get();
            assertEquals(CLIENT, mine[0].getAddress());
            assertEquals(to, mine[1]);
            InetSocketAddress[] theirs = echo.ends.get(10, TimeUnit.SECONDS);
            assertEquals(to, theirs[0]);
            assertEquals(mine[0], theirs[1]);

            // from a netisr, on a local port chosen by the caller
            int lport = 40000;
            int core = client.coreFor(client.config().address, server.config().address, lport, 7);
            Talker u = new Talker("from the netisr");
            boolean started = client.call(core, n -> client.tcpConnectOnNetisr(core, to, lport,
                    TcpSocketOptions.defaults(client.config()), u));
            assertTrue(started);
            u.peerClosed.get(10, TimeUnit.SECONDS);
            assertEquals("from the netisr", u.got.toString(StandardCharsets.US_ASCII));
            assertEquals(new InetSocketAddress(CLIENT, lport), u.ends.get()[0]);
        }
    }

    @Test
    void udpSendAndReceiveWithSocketAddresses() {
        try (UdpSocket srv = server.udpBind(new InetSocketAddress(SERVER, 5000));
             UdpSocket cli = client.udpBind(new InetSocketAddress(0))) {
            assertEquals(new InetSocketAddress(SERVER, 5000), srv.localSocketAddress());
            assertEquals(CLIENT, cli.localSocketAddress().getAddress());
            assertTrue(cli.localSocketAddress().getPort() >= 49152, "ephemeral port (RFC 6056)");
            byte[] buf = new byte[2000];
            UdpPeer from = new UdpPeer();
            for (int i = 0; i < 20; i++) {
                byte[] out = ("datagram " + i).getBytes(StandardCharsets.US_ASCII);
                assertTrue(cli.send(out, 0, out.length, srv.localSocketAddress()));
                int n = srv.receive(buf, 0, buf.length, from, 5, TimeUnit.SECONDS);
                assertArrayEquals(out, Arrays.copyOf(buf, n));
                assertEquals(cli.localSocketAddress(), from.socketAddress());
                assertTrue(srv.send(buf, 0, n, from.socketAddress()), "reply to the sender's address");
                assertEquals(n, cli.receive(buf, 0, buf.length, from, 5, TimeUnit.SECONDS));
                assertEquals(new InetSocketAddress(SERVER, 5000), from.socketAddress());
            }
            // to a port nobody bound: port unreachable (RFC 1122 4.1.3.1), reported to the sender
            assertTrue(cli.send(new byte[] {1}, 0, 1, new InetSocketAddress(SERVER, 5001)));
            UdpIcmpError e = assertThrows(UdpIcmpError.class,
                    () -> cli.receive(buf, 0, buf.length, from, 5, TimeUnit.SECONDS));
            assertEquals(new InetSocketAddress(SERVER, 5001), e.destinationSocketAddress());
        }
        StackException e = assertThrows(StackException.class,
                () -> server.udpBind(new InetSocketAddress(CLIENT, 5002)));
        assertTrue(e.getMessage().contains("EADDRNOTAVAIL"), e.getMessage());
    }

    @Test
    void pingByInetAddress() {
        try (IcmpEchoSocket ping = client.icmpEchoOpen()) {
            Reply r = new Reply();
            for (int seq = 1; seq <= 5; seq++) {
                assertTrue(ping.send(SERVER, seq, 56));
                assertTrue(ping.receive(r, 5, TimeUnit.SECONDS), "reply " + seq);
                assertTrue(r.isReply);
                assertEquals(seq, r.seq);
                assertEquals(SERVER, r.fromAddress());
                assertEquals(-1, r.badByte);
            }
        }
    }

    @Test
    void ipv6IsRefusedEverywhere() {
        InetSocketAddress v6 = new InetSocketAddress(V6, 80);
        TcpSocketOptions o = TcpSocketOptions.defaults(client.config());
        Echo h = new Echo();
        Consumer<org.junit.jupiter.api.function.Executable> refused = call -> {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
            assertTrue(e.getMessage().startsWith("IPv4 only: 2001:db8:0:0:0:0:0:2"), e.getMessage());
        };
        refused.accept(() -> StackConfig.builder().address(V6));
        refused.accept(() -> StackConfig.builder().gateway(V6));
        refused.accept(() -> StackConfig.builder().netmask(V6));
        refused.accept(() -> client.tcpConnect(v6, 1, TimeUnit.SECONDS));
        refused.accept(() -> client.tcpConnect(v6, 1, TimeUnit.SECONDS, false, null));
        refused.accept(() -> client.tcpConnect(v6, 1, TimeUnit.SECONDS, o));
        refused.accept(() -> client.tcpConnect(v6, o, h));
        refused.accept(() -> client.tcpConnectOnNetisr(0, v6, 40001, o, h)); // refused before the owner check
        refused.accept(() -> client.udpBind(new InetSocketAddress(V6, 0)));
        try (UdpSocket u = client.udpBind(0); IcmpEchoSocket p = client.icmpEchoOpen()) {
            refused.accept(() -> u.send(new byte[1], 0, 1, v6));
            refused.accept(() -> p.send(V6, 1, 56));
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> client.tcpConnect(InetSocketAddress.createUnresolved("example.invalid", 80), 1, TimeUnit.SECONDS));
        assertTrue(e.getMessage().startsWith("unresolved address"), e.getMessage());
        assertEquals(0, client.total(Stat.TCP_ACTIVE_OPENS), "nothing was sent");
    }
}
