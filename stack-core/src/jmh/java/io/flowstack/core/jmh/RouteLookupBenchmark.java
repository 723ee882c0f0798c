package io.flowstack.core.jmh;

import io.flowstack.core.route.Fib;
import io.flowstack.core.route.RouteKind;
import io.flowstack.core.wire.Ipv4;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The router's longest-prefix match ({@link Fib#lookup}, a DIR-16-8-8 trie) on tables of 10,
 * 1,000 and 100,000 random routes (lengths 16-24 nine times in ten, else 8-15 or 25-32), for
 * destinations anywhere in the address space ({@code any}: most end in the first level) and
 * destinations inside a random route ({@code routed}: a /17 and longer take two or three reads).
 * A batch of 65,536 lookups per call (over 65,536 destinations, so that the working set of the
 * large table exceeds the caches); the score is per lookup. The setup prints the replica's
 * memory: its arrays ({@link Fib#bytes}) and the heap it retained, measured after a GC.
 *
 * <p>Run: {@code stack-core/src/jmh/run RouteLookup}. Results: docs/ROUTER.md, "Route lookup".
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(1)
public class RouteLookupBenchmark {
    private static final int BATCH = 65_536;

    /** Routes in the table. */
    @Param({"10", "1000", "100000"})
    int routes;

    /** Where the destinations are: anywhere, or inside the routes. */
    @Param({"any", "routed"})
    String dst;

    private Fib fib;
    private final int[] destinations = new int[BATCH];

    @Setup(Level.Trial)
    public void setUp() {
        SplittableRandom r = new SplittableRandom(42);
        System.gc();
        long before = usedHeap();
        fib = new Fib();
        int[] prefixes = new int[routes];
        int[] lengths = new int[routes];
        int n = 0;
        while (n < routes) {
            int len = r.nextInt(10) < 9 ? 16 + r.nextInt(9) : r.nextBoolean() ? 8 + r.nextInt(8) : 25 + r.nextInt(8);
            int prefix = r.nextInt() & Ipv4.mask(len);
            if (Ipv4.mask(len) == 0 || fib.route(prefix, len) == null) {
                fib.add(prefix, len, r.nextInt(4), Ipv4.parse("198.18.0.1") + r.nextInt(16), RouteKind.STATIC);
                prefixes[n] = prefix;
                lengths[n] = len;
                n++;
            }
        }
        System.gc();
        long retained = usedHeap() - before;
        for (int i = 0; i < BATCH; i++) {
            if (dst.equals("any")) {
                destinations[i] = r.nextInt();
            } else {
                int k = r.nextInt(routes);
                destinations[i] = prefixes[k] | (r.nextInt() & ~Ipv4.mask(lengths[k]));
            }
        }
        System.out.printf("%n%d routes: %d groups, arrays %,d bytes, heap retained %,d bytes%n", routes,
                fib.table().groupsInUse(), fib.bytes(), retained);
    }

    private static long usedHeap() {
        Runtime rt = Runtime.getRuntime();
        return rt.totalMemory() - rt.freeMemory();
    }

    /** 65,536 lookups; the score is per lookup. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int lookup() {
        int sum = 0;
        for (int d : destinations) {
            sum += fib.lookup(d);
        }
        return sum;
    }
}
