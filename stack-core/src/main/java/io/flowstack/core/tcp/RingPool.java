package io.flowstack.core.tcp;

import com.sun.management.HotSpotDiagnosticMXBean;
import io.flowstack.core.percore.Ownership;
import io.flowstack.nativeio.NativeException;
import java.lang.management.ManagementFactory;
import java.util.ArrayDeque;
import java.util.function.Consumer;
import java.util.function.IntFunction;
import org.agrona.collections.Int2ObjectHashMap;

/**
 * One core's pool of TCP stream rings. A blocking-API connection's two rings are taken when it
 * opens and given back once both the netisr (TIME_WAIT or CLOSED) and the application
 * (close/abort) are done with them; a callback-API connection's are taken while data flows and
 * given back each time they drain ({@code TcpConnections.returnIdleRings}). Returned rings serve
 * later connections, so neither opening a connection nor moving data allocates or zeroes
 * megabytes on the netisr. The memory held, lent or idle, stays within the core's share of the
 * TCP memory budget: a new ring that would take it over first drops idle rings of other sizes
 * (a pool whose connections switch from one buffer size to another would otherwise keep both
 * sets), and is refused if that is not enough.
 *
 * <p>A ring may be reused only when nothing of its old connection can reach it any more: the
 * TCP layer detaches the ring from the control block when it gives it back
 * ({@code TcpLayer.releaseStream}), the application never touches a stream's rings after
 * closing it, and a callback channel refuses every operation once its rings are returned. A
 * ring returned twice is a bug and throws.
 *
 * <p>Each ring's memory is an anonymous mapping of its own ({@link ByteRing#mapped}), unmapped
 * by a GC-managed arena ({@code Arena.ofAuto}) once the ring is unreachable: an application
 * thread that still holds a closed connection when the stack stops can never touch freed
 * memory, and a dropped idle ring is freed once unreachable. The kernel zeroes a page when it
 * is first touched, so a new ring costs no zeroing on the netisr and holds only the pages its
 * connections used: a keep-alive connection's 4 MiB send ring, lent from offset 0 for each
 * response, keeps one page (docs/BENCHMARKS.md, "Rings zeroed on the netisr"). Before, an
 * {@code Arena} allocation zeroed all of it at the first write. The budget stays within three
 * quarters of the JVM's direct-memory limit ({@link #directMemoryLimit()}) as before, which
 * bounds the rings by the heap's size when nothing else is configured.
 *
 * <p>Owned by: one netisr thread (asserted against its {@link Ownership} when the check is on).
 */
public final class RingPool {
    private final Int2ObjectHashMap<ArrayDeque<ByteRing>> free = new Int2ObjectHashMap<>();
    private final long budget;
    private long lent;
    private long allocated;
    private final Ownership owner;
    private final IntFunction<ByteRing> maker;

    public RingPool(long budgetBytes) {
        this(budgetBytes, null);
    }

    /** A pool whose every operation is checked against {@code owner} (when the check is enabled). */
    public RingPool(long budgetBytes, Ownership owner) {
        this(budgetBytes, owner, ByteRing::mapped);
    }

    /** A pool that makes its rings with {@code maker} (tests: a kernel that refuses the mapping). */
    RingPool(long budgetBytes, Ownership owner, IntFunction<ByteRing> maker) {
        this.budget = budgetBytes;
        this.owner = owner;
        this.maker = maker;
    }

    private void check() {
        if (Ownership.ENABLED && owner != null) {
            owner.check();
        }
    }

    /** Whether {@code bytes} more can be lent within the budget. */
    public boolean canLend(long bytes) {
        check();
        return lent + bytes <= budget;
    }

    /**
     * An empty ring (head = tail = 0) of {@code capacity} bytes: a returned one if there is one,
     * else a new allocation, for which idle rings of other sizes are dropped if the pool would
     * otherwise hold more than the budget; null if that is not enough or the JVM refuses the
     * native memory (its direct-memory limit), which the caller treats like an exhausted budget.
     */
    public ByteRing take(int capacity) {
        check();
        ArrayDeque<ByteRing> q = free.get(capacity);
        ByteRing r = q == null ? null : q.pollFirst();
        if (r == null) {
            if (allocated + capacity > budget && !dropIdle(allocated + capacity - budget)) {
                return null;
            }
            try {
                r = maker.apply(capacity);
            } catch (NativeException e) {
                return null; // mmap: ENOMEM, the kernel's refusal; refuse the ring, don't die
            }
            allocated += capacity;
        } else {
            r.reset();
        }
        r.inPool = false;
        lent += capacity;
        return r;
    }

    /**
     * Drops idle rings (largest first) until {@code bytes} are no longer allocated; false if the
     * idle rings are fewer than that. Their pages go back at once ({@link ByteRing#release}):
     * nothing else would make the GC, which unmaps them, run soon.
     */
    private boolean dropIdle(long bytes) {
        long dropped = 0;
        while (dropped < bytes) {
            int largest = -1;
            for (Int2ObjectHashMap<ArrayDeque<ByteRing>>.EntryIterator it = free.entrySet().iterator(); it.hasNext(); ) {
                it.next();
                if (!it.getValue().isEmpty() && it.getIntKey() > largest) {
                    largest = it.getIntKey();
                }
            }
            if (largest < 0) {
                return false;
            }
            free.get(largest).pollFirst().release(); // its pages now; its mapping when the GC finds it
            allocated -= largest;
            dropped += largest;
        }
        return true;
    }

    /** The ring's connection is done with it (both sides): it may serve another connection. */
    public void give(ByteRing r) {
        check();
        if (r.inPool) {
            throw new IllegalStateException("ring returned twice");
        }
        r.inPool = true;
        lent -= r.capacity();
        ArrayDeque<ByteRing> q = free.get(r.capacity());
        if (q == null) {
            q = new ArrayDeque<>();
            free.put(r.capacity(), q);
        }
        q.addFirst(r); // LIFO: the most recently used ring is the warmest in the caches
    }

    /**
     * The ring leaves this core with its connection (rebalancing): no longer lent or counted here.
     * Its memory stays valid (a GC-managed arena) and is counted by the pool that adopts it.
     */
    public void emigrate(ByteRing r) {
        check();
        lent -= r.capacity();
        allocated -= r.capacity();
    }

    /** A ring arrives with a connection from another core: lent from this pool from now on. */
    public void immigrate(ByteRing r) {
        check();
        lent += r.capacity();
        allocated += r.capacity();
    }

    /** The most bytes this pool lends (the core's share of the TCP memory budget). */
    public long budget() {
        return budget;
    }

    /** Bytes currently lent to connections. */
    public long lent() {
        return lent;
    }

    /** Bytes allocated (lent or idle in the pool): never above the budget once rings are lent within it. */
    public long allocated() {
        return allocated;
    }

    /** Visits every idle ring in the pool (tests; not on the data path). */
    public void forEachIdle(Consumer<ByteRing> visitor) {
        check();
        for (ArrayDeque<ByteRing> q : free.values()) {
            q.forEach(visitor);
        }
    }

    /** Drops the idle rings: their pages go now, their mappings when the GC finds them unreachable. */
    public void close() {
        for (ArrayDeque<ByteRing> q : free.values()) {
            q.forEach(ByteRing::release);
        }
        free.clear();
    }

    /**
     * The JVM's limit on native memory allocated through arenas and direct buffers:
     * {@code -XX:MaxDirectMemorySize} when set, else (as the JVM does) the maximum heap size.
     */
    public static long directMemoryLimit() {
        try {
            HotSpotDiagnosticMXBean hs = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
            long v = Long.parseLong(hs.getVMOption("MaxDirectMemorySize").getValue());
            if (v > 0) {
                return v;
            }
        } catch (RuntimeException | LinkageError e) {
            // not a HotSpot JVM: fall back to the documented default
        }
        return Runtime.getRuntime().maxMemory();
    }
}
