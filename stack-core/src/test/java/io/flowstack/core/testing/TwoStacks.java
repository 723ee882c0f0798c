package io.flowstack.core.testing;

import io.flowstack.core.FlowStack;
import io.flowstack.core.config.StackConfig;
import io.flowstack.core.stats.Stat;
import io.flowstack.core.socket.TcpConnection;
import io.flowstack.core.wire.Ipv4;
import io.flowstack.nic.MemoryWire;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A server stack (198.18.0.2, on wire side b) and a client stack (198.18.0.1, side a), threaded,
 * joined by a {@link MemoryWire} (queue i of one side is queue i of the other).
 *
 * <p>Owned by: the test thread that creates it (lifecycle); the stacks run their own netisrs.
 */
public final class TwoStacks implements AutoCloseable {
    public static final int CLIENT = Ipv4.parse("198.18.0.1");
    public static final int SERVER = Ipv4.parse("198.18.0.2");

    public final MemoryWire wire;
    public final FlowStack server;
    public final FlowStack client;

    public TwoStacks(int cores) {
        this(cores, 4 << 20, b -> {});
    }

    /** Stacks of {@code cores} cores on a wire of {@code wireBytes} per queue, both configured by {@code tweak}. */
    public TwoStacks(int cores, int wireBytes, Consumer<StackConfig.Builder> tweak) {
        wire = MemoryWire.create(cores, wireBytes);
        server = FlowStack.start(config(cores, "198.18.0.2", 0x02_00_00_00_00_02L, tweak), wire.b());
        client = FlowStack.start(config(cores, "198.18.0.1", 0x02_00_00_00_00_01L, tweak), wire.a());
    }

    private static StackConfig config(int cores, String addr, long mac, Consumer<StackConfig.Builder> tweak) {
        StackConfig.Builder b = StackConfig.builder().cores(cores).address(Ipv4.parse(addr)).prefixLength(24).mac(mac)
                .pinThreads(false);
        tweak.accept(b);
        return b.build();
    }

    /** A client connection to the server's {@code port}, with 10 s read and write timeouts. */
    public TcpConnection connect(int port) {
        TcpConnection c = client.tcpConnect(SERVER, port, 5, TimeUnit.SECONDS);
        c.readTimeout(10, TimeUnit.SECONDS);
        c.writeTimeout(10, TimeUnit.SECONDS);
        return c;
    }

    public long internalErrors() {
        return server.total(Stat.INTERNAL_ERROR) + client.total(Stat.INTERNAL_ERROR);
    }

    /** Both stacks' counters, for assertion messages. */
    public String counters() {
        return "\nserver:\n" + server.countersReport() + "client:\n" + client.countersReport();
    }

    @Override
    public void close() {
        client.close();
        server.close();
        wire.close();
    }
}
