package io.flowstack.core.service;

import io.flowstack.core.FlowStack;
import io.flowstack.core.StackConfig;
import io.flowstack.core.netisr.Stat;
import io.flowstack.core.socket.TcpConnection;
import io.flowstack.core.wire.Ipv4;
import io.flowstack.nic.MemoryWire;
import java.util.concurrent.TimeUnit;

/** A server stack (198.18.0.2, on wire side b) and a client stack (198.18.0.1, side a), threaded. */
final class TwoStacks implements AutoCloseable {
    static final int SERVER = Ipv4.parse("198.18.0.2");

    final MemoryWire wire;
    final FlowStack server;
    final FlowStack client;

    TwoStacks(int cores) {
        wire = MemoryWire.create(cores, 4 << 20);
        server = FlowStack.start(config(cores, "198.18.0.2", 0x02_00_00_00_00_02L), wire.b());
        client = FlowStack.start(config(cores, "198.18.0.1", 0x02_00_00_00_00_01L), wire.a());
    }

    private static StackConfig config(int cores, String addr, long mac) {
        return StackConfig.builder().cores(cores).address(Ipv4.parse(addr)).prefixLength(24).mac(mac)
                .pinThreads(false).build();
    }

    /** A client connection to the server's {@code port}, with 10 s read and write timeouts. */
    TcpConnection connect(int port) {
        TcpConnection c = client.tcpConnect(SERVER, port, 5, TimeUnit.SECONDS);
        c.readTimeout(10, TimeUnit.SECONDS);
        c.writeTimeout(10, TimeUnit.SECONDS);
        return c;
    }

    long internalErrors() {
        return server.total(Stat.INTERNAL_ERROR) + client.total(Stat.INTERNAL_ERROR);
    }

    /** Both stacks' counters, for assertion messages. */
    String counters() {
        return "\nserver:\n" + server.countersReport() + "client:\n" + client.countersReport();
    }

    @Override
    public void close() {
        client.close();
        server.close();
        wire.close();
    }
}
