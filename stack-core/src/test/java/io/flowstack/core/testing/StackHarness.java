package io.flowstack.core.testing;

import io.flowstack.core.FlowStack;
import io.flowstack.core.config.StackConfig;
import io.flowstack.core.stats.Stat;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * A threadless stack on a {@link TestNic} driven by the test thread on a fake clock: inject
 * frames, run every core until idle, collect what it transmitted. Owned by: the test thread.
 */
public final class StackHarness implements AutoCloseable {
    public static final long US_MAC = 0x02_00_00_00_00_02L;
    public static final long PEER_MAC = 0x02_AA_00_00_00_01L;
    public static final int US = Packets.ip("198.18.0.2");
    public static final int PEER = Packets.ip("198.18.0.1");

    public final TestNic nic;
    public final FlowStack stack;
    public long now = 1_000_000_000L;

    public StackHarness(int cores) {
        this(cores, b -> {});
    }

    public StackHarness(int cores, Consumer<StackConfig.Builder> tweak) {
        this(cores, false, tweak);
    }

    /** A harness whose NIC has transmit offloads ({@link TestNic#TestNic(int, int, boolean)}) if asked. */
    public StackHarness(int cores, boolean offloads, Consumer<StackConfig.Builder> tweak) {
        StackConfig.Builder b = StackConfig.builder().cores(cores).address(US).prefixLength(24).mac(US_MAC)
                .pinThreads(false).clock(() -> now);
        tweak.accept(b);
        this.nic = new TestNic(cores, 1500, offloads);
        this.stack = FlowStack.create(b.build(), nic);
    }

    /** Injects a frame on queue {@code q}. */
    public void inject(int q, byte[] frame) {
        nic.q(q).inbound.add(frame);
    }

    /** Injects a frame on queue {@code q} with the NIC's {@link io.flowstack.nic.FrameBatch} flags. */
    public void inject(int q, byte[] frame, int rxFlags) {
        nic.q(q).rxFlags.put(frame, rxFlags);
        nic.q(q).inbound.add(frame);
    }

    /** Runs every core until no core has work, then returns (and clears) what was sent. */
    public List<Packets.Frame> run() {
        for (int i = 0; i < 1000; i++) {
            if (stack.pollAll(now) == 0 && i > 0) {
                break;
            }
        }
        List<Packets.Frame> out = new ArrayList<>();
        for (byte[] f : nic.drain()) {
            out.add(Packets.parse(f));
        }
        return out;
    }

    /** Advances the fake clock and runs. */
    public List<Packets.Frame> advance(long nanos) {
        now += nanos;
        return run();
    }

    public long total(Stat s) {
        return stack.total(s);
    }

    /** Sends an ARP request from the peer for our address and returns the stack's output. */
    public List<Packets.Frame> arpFromPeer(int q) {
        inject(q, Packets.ethernet(Packets.BROADCAST, PEER_MAC, Packets.ETH_ARP,
                Packets.arp(1, PEER_MAC, PEER, 0, US)));
        return run();
    }

    public byte[] ipFrame(byte[] datagram) {
        return Packets.ethernet(US_MAC, PEER_MAC, Packets.ETH_IPV4, datagram);
    }

    /**
     * Reads exactly {@code n} bytes that are already in {@code c}'s receive buffer (1 ms timeout:
     * on a threadless stack nothing more can arrive while the test thread waits).
     */
    public static byte[] readNow(io.flowstack.core.socket.TcpConnection c, int n) {
        byte[] b = new byte[n];
        c.readTimeout(1, java.util.concurrent.TimeUnit.MILLISECONDS);
        int off = 0;
        while (off < n) {
            int k = c.read(b, off, n - off);
            if (k <= 0) {
                throw new AssertionError("only " + off + " of " + n + " bytes were there to read");
            }
            off += k;
        }
        return b;
    }

    @Override
    public void close() {
        stack.close();
    }
}
