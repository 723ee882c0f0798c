package io.flowstack.core.jmh;

import io.flowstack.core.wire.Checksum;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
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

/**
 * The Internet checksum over off-heap memory (what TCP and UDP input verify and output computes
 * for every segment): {@link Checksum#sum} (8-byte loads in the machine's order, four
 * accumulators) against {@link #words32}, the loop the stack used before it (4-byte big-endian
 * loads, one accumulator), at a small segment, a full Ethernet segment and a 64 KiB super-frame.
 *
 * <p>Run: {@code stack-core/src/jmh/run Checksum}. Results: docs/BENCHMARKS.md.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class ChecksumBenchmark {
    private static final ValueLayout.OfInt BE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfShort BE_SHORT =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    /** Bytes summed: a 64-byte segment, a 1460-byte MSS, a 64 KiB GSO super-frame. */
    @Param({"64", "1460", "65535"})
    int bytes;

    private Arena arena;
    private MemorySegment data;

    @Setup(Level.Trial)
    public void setUp() {
        arena = Arena.ofShared();
        data = arena.allocate(65536 + 8, 64);
        SplittableRandom r = new SplittableRandom(1);
        for (long i = 0; i < data.byteSize(); i++) {
            data.set(ValueLayout.JAVA_BYTE, i, (byte) r.nextInt());
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    /** Today's checksum. */
    @Benchmark
    public int sum() {
        return Checksum.finish(Checksum.sum(data, 0, bytes, 0));
    }

    /** The previous loop, kept here as the baseline. */
    @Benchmark
    public int words32() {
        return Checksum.finish(words32(data, 0, bytes, 0));
    }

    static long words32(MemorySegment s, long off, int len, long acc) {
        long p = off;
        long end = off + len;
        while (end - p >= 4) {
            acc += s.get(BE_INT, p) & 0xFFFFFFFFL;
            p += 4;
        }
        if (end - p >= 2) {
            acc += s.get(BE_SHORT, p) & 0xFFFF;
            p += 2;
        }
        if (p < end) {
            acc += (long) (s.get(ValueLayout.JAVA_BYTE, p) & 0xFF) << 8;
        }
        return acc;
    }
}
