package io.flowstack.core.jmh;

import io.flowstack.core.config.StackConfig;
import io.flowstack.core.netisr.Rings;
import io.flowstack.core.wire.msg.Ipv4FrameMsg;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.TimeUnit;
import org.agrona.concurrent.MessageHandler;
import org.agrona.concurrent.ringbuffer.OneToOneRingBuffer;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Control;

/**
 * One inter-core hop through the project's SPSC ring ({@link Rings#spsc}, an Agrona
 * {@code OneToOneRingBuffer} over off-heap memory, 1 MiB as between two netisrs), done the way
 * {@code Netisr.hop} does it: claim, copy the frame into the ring, commit; the receiver reads the
 * message in place through the ring's segment (here: its first and last 8 bytes, as a header
 * parse would touch them).
 *
 * <ul>
 *   <li>{@code throughput}: one producer thread and one consumer thread spinning, like two busy
 *       netisrs; the auxiliary counters {@code sent} and {@code received} are messages per
 *       second ({@code sendFull}/{@code receiveEmpty}: attempts that found the ring full/empty).</li>
 *   <li>{@code roundTrip}: a ping thread sends one message and spins until the pong thread has
 *       sent it back through a second ring; the time per operation is two hops (one-way hop
 *       latency = half of it).</li>
 * </ul>
 *
 * <p>Run: {@code mvn -Pjmh -o -pl stack-core test-compile exec:exec} (see docs/SMP.md). Owned
 * by: JMH's benchmark threads, one per role as declared by {@code @GroupThreads}.
 */
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED",
        "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class RingHopBenchmark {
    static final int RING_BYTES = 1 << 20; // StackConfig's default interCoreRingBytes
    static final int MSG_TYPE = Ipv4FrameMsg.TYPE; // what Netisr.hop sends

    /** One ring per direction and a source frame, shared by the two threads of a group. */
    @State(Scope.Group)
    public static class Wire {
        @Param({"64", "1514"})
        public int frameBytes;

        Arena arena;
        Rings.Ring<OneToOneRingBuffer> there;
        Rings.Ring<OneToOneRingBuffer> back;

        @Setup(Level.Trial)
        public void setUp() {
            arena = Arena.ofShared();
            there = Rings.spsc(arena, RING_BYTES);
            back = Rings.spsc(arena, RING_BYTES);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            arena.close();
        }
    }

    /** Per-thread state: the frame to copy and a handler that reads a message in place. */
    @State(Scope.Thread)
    public static class Endpoint {
        MemorySegment frame;
        long sink;
        int got;
        MessageHandler touchThere;
        MessageHandler touchBack;

        @Setup(Level.Trial)
        public void setUp(Wire w) {
            frame = Arena.ofAuto().allocate(w.frameBytes, 64);
            for (int i = 0; i < w.frameBytes; i++) {
                frame.set(ValueLayout.JAVA_BYTE, i, (byte) i);
            }
            touchThere = reader(w.there.segment());
            touchBack = reader(w.back.segment());
        }

        private MessageHandler reader(MemorySegment seg) {
            return (type, buffer, index, length) -> {
                sink += seg.get(ValueLayout.JAVA_LONG_UNALIGNED, index)
                        + seg.get(ValueLayout.JAVA_LONG_UNALIGNED, index + length - 8);
                got++;
            };
        }
    }

    /** Messages per second through the ring, counted on each side. */
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    @State(Scope.Thread)
    public static class Counts {
        public long sent;
        public long sendFull;
        public long received;
        public long receiveEmpty;

        @Setup(Level.Iteration)
        public void clear() {
            sent = 0;
            sendFull = 0;
            received = 0;
            receiveEmpty = 0;
        }
    }

    static boolean hop(Rings.Ring<OneToOneRingBuffer> r, MemorySegment frame, int len) {
        OneToOneRingBuffer ring = r.ring();
        int index = ring.tryClaim(MSG_TYPE, len);
        if (index < 0) {
            return false;
        }
        MemorySegment.copy(frame, 0, r.segment(), index, len);
        ring.commit(index);
        return true;
    }

    @Benchmark
    @Group("throughput")
    @GroupThreads(1)
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    public void send(Wire w, Endpoint e, Counts c) {
        if (hop(w.there, e.frame, w.frameBytes)) {
            c.sent++;
        } else {
            c.sendFull++;
        }
    }

    @Benchmark
    @Group("throughput")
    @GroupThreads(1)
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    public long receive(Wire w, Endpoint e, Counts c) {
        int n = w.there.ring().read(e.touchThere, 64); // a netisr drains up to 64 messages per ring and pass
        if (n > 0) {
            c.received += n;
        } else {
            c.receiveEmpty++;
        }
        return e.sink;
    }

    @Benchmark
    @Group("roundTrip")
    @GroupThreads(1)
    @BenchmarkMode({Mode.AverageTime, Mode.SampleTime})
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public int ping(Wire w, Endpoint e, Control ctl) {
        int before = e.got;
        while (!hop(w.there, e.frame, w.frameBytes)) {
            if (ctl.stopMeasurement) {
                return before;
            }
        }
        MessageHandler h = e.touchBack;
        OneToOneRingBuffer back = w.back.ring();
        while (back.read(h, 1) == 0) {
            if (ctl.stopMeasurement) {
                break;
            }
        }
        return e.got;
    }

    @Benchmark
    @Group("roundTrip")
    @GroupThreads(1)
    @BenchmarkMode({Mode.AverageTime, Mode.SampleTime})
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public int pong(Wire w, Endpoint e, Control ctl) {
        OneToOneRingBuffer there = w.there.ring();
        while (there.read(e.touchThere, 1) == 0) {
            if (ctl.stopMeasurement) {
                return e.got;
            }
        }
        while (!hop(w.back, e.frame, w.frameBytes)) {
            if (ctl.stopMeasurement) {
                break;
            }
        }
        return e.got;
    }
}
