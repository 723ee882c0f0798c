package io.flowstack.core.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.config.StackConfig;
import io.flowstack.core.stats.Stat;
import io.flowstack.core.testing.Packets;
import io.flowstack.core.testing.StackHarness;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * The stack one fuzz execution runs on: a threadless one-core stack on a
 * {@link io.flowstack.core.testing.TestNic} at 198.18.0.2/24 (the peer, 198.18.0.1, known to ARP),
 * on a fake clock, built for the execution and closed after it, so that a finding replays from
 * its input alone. Frames are copied into the netisr's off-heap receive slots as a NIC's are
 * and read by the same {@code Netisr.poll} as on a TAP.
 *
 * <p>After every frame {@link #frame} checks the invariants every target shares: the netisr
 * caught no exception (it counts {@link Stat#INTERNAL_ERROR} and logs it: the logged exception is
 * rethrown here, so the fuzzer sees its stack), and the frame was accounted for (a drop counter
 * or the input counter of the layer that took it moved). {@link #probe} checks that the stack
 * still answers a well-formed ping, so that no input left it broken.
 *
 * <p>Owned by: the fuzzing thread.
 */
public final class FuzzStack implements AutoCloseable {
    /** The longest frame the NIC delivers (MTU 1500, a VLAN tag's room). */
    public static final int MAX_FRAME = 1518;
    /**
     * Counters that say a frame was taken by a layer that accounts for it from there on (ARP,
     * reassembly, ICMP, UDP, TCP); every other outcome is a drop counter.
     */
    static final Set<Stat> TAKEN = EnumSet.of(Stat.ARP_IN_REQUEST, Stat.ARP_IN_REPLY, Stat.FRAG_IN, Stat.ICMP_IN,
            Stat.UDP_IN, Stat.TCP_IN);
    /** Small rings and tables: an execution builds and closes its stack in well under a millisecond. */
    static final Consumer<StackConfig.Builder> SMALL = b -> b.rxBatch(4).tcpMaxTimeWait(64).arpQueueSlots(16)
            .tcpSendBufferBytes(1 << 16).tcpReceiveBufferBytes(1 << 16);

    public final StackHarness h;
    private final Logger netisrLog = Logger.getLogger("io.flowstack.netisr");
    private final Capture capture = new Capture();
    private int ipId = 1;

    /**
     * @param tailFill what each receive slot holds past its frame, 0..255 (see
     *     {@link io.flowstack.core.testing.TestNic.TestQueue#tailFill})
     * @param tweak configuration beyond {@link #SMALL}
     */
    public FuzzStack(int tailFill, Consumer<StackConfig.Builder> tweak) {
        netisrLog.addHandler(capture);
        h = new StackHarness(1, SMALL.andThen(tweak));
        h.nic.q(0).tailFill = tailFill;
        h.arpFromPeer(0);
    }

    /** Records what the netisr logs at ERROR (an internal error and its exception). */
    private static final class Capture extends Handler {
        Throwable first;

        @Override
        public void publish(LogRecord r) {
            if (r.getLevel().intValue() >= Level.SEVERE.intValue() && first == null) {
                first = r.getThrown() != null ? r.getThrown() : new AssertionError(r.getMessage());
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    }

    /**
     * Injects {@code frame} (cut to {@link #MAX_FRAME}) with the NIC flags {@code rxFlags}, runs
     * the stack until idle and returns what it sent; fails if the netisr caught an exception or
     * the frame left no count.
     */
    public List<Packets.Frame> frame(byte[] frame, int rxFlags) {
        byte[] f = frame.length > MAX_FRAME ? java.util.Arrays.copyOf(frame, MAX_FRAME) : frame;
        long before = accounted();
        h.inject(0, f, rxFlags);
        List<Packets.Frame> out = h.run();
        checkNoInternalError();
        assertTrue(accounted() > before, "a frame of " + f.length + " bytes was neither taken by a layer nor counted as a drop");
        return out;
    }

    /** A frame from the peer's MAC to ours carrying {@code datagram} (IPv4). */
    public byte[] ipFrame(byte[] datagram) {
        return h.ipFrame(datagram);
    }

    /** The next IP identification the scripted peer uses. */
    public int nextIpId() {
        return ipId++ & 0xFFFF;
    }

    /** Drops plus the counters of {@link #TAKEN}. */
    long accounted() {
        long sum = 0;
        for (Stat s : Stat.values()) {
            if (s.isDrop() || TAKEN.contains(s)) {
                sum += h.total(s);
            }
        }
        return sum;
    }

    /** Rethrows the first exception the netisr caught and logged; fails on an uncaught-but-counted one. */
    public void checkNoInternalError() {
        if (capture.first != null) {
            throw new AssertionError("the netisr caught an exception", capture.first);
        }
        assertEquals(0, h.total(Stat.INTERNAL_ERROR), "internal errors");
    }

    /** Every counter's total, in {@link Stat} order. */
    public long[] totals() {
        Stat[] all = Stat.values();
        long[] t = new long[all.length];
        for (int i = 0; i < all.length; i++) {
            t[i] = h.total(all[i]);
        }
        return t;
    }

    /**
     * The stack still works: the peer asks ARP again (a fuzzed ARP packet may have taught the
     * stack another MAC for it, as the protocol allows) and pings; exactly one echo reply with
     * the same identifier, sequence number and data must come back to it.
     */
    public void probe() {
        h.arpFromPeer(0);
        byte[] data = "probe after the fuzzed input".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        byte[] ping = h.ipFrame(Packets.ipv4(StackHarness.PEER, StackHarness.US, 1, nextIpId(), 0,
                Packets.icmpEcho(8, 0x4242, 7, data)));
        List<Packets.Frame> replies = new ArrayList<>();
        for (Packets.Frame f : frame(ping, 0)) {
            if (f.type() == Packets.ETH_IPV4 && f.ipProto() == 1 && f.ipDst() == StackHarness.PEER
                    && f.l4()[0] == 0) {
                replies.add(f);
            }
        }
        assertEquals(1, replies.size(), "one echo reply to a well-formed ping after the fuzzed input");
        byte[] reply = replies.get(0).l4();
        assertEquals(Packets.icmpEcho(0, 0x4242, 7, data).length, reply.length, "echo reply length");
        assertTrue(java.util.Arrays.equals(Packets.icmpEcho(0, 0x4242, 7, data), reply), "echo reply content");
        assertEquals(StackHarness.PEER_MAC, replies.get(0).dst(), "the reply goes to the peer's MAC");
    }

    @Override
    public void close() {
        netisrLog.removeHandler(capture);
        h.close();
    }

    /**
     * Runs {@code script} on two stacks whose receive slots hold 0x00 and 0xFF past each frame
     * and fails if their counters differ: a parser that read past a frame's end would see two
     * different inputs. Each stack is probed afterwards ({@link #probe}).
     */
    public static void runTwice(Consumer<StackConfig.Builder> tweak, Consumer<FuzzStack> script) {
        long[][] totals = new long[2][];
        for (int run = 0; run < 2; run++) {
            try (FuzzStack s = new FuzzStack(run == 0 ? 0x00 : 0xFF, tweak)) {
                script.accept(s);
                totals[run] = s.totals();
                s.probe();
            }
        }
        Stat[] all = Stat.values();
        for (int i = 0; i < all.length; i++) {
            assertEquals(totals[0][i], totals[1][i], all[i].key() + " differs with other bytes past the frames' ends");
        }
    }
}
