package io.flowstack.core.lint;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.lint.LockFreeScanner.Allowance;
import io.flowstack.core.lint.LockFreeScanner.Report;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The build fails if a lock, a monitor, a CAS or a mutable static appears in the per-flow
 * packages of stack-core (DESIGN.md: "no lock, mutex or CAS on the per-flow path"). Runs in
 * every {@code mvn test}/{@code mvn verify} of stack-core; the scanner's own behaviour is pinned
 * by {@link LockFreeScannerTest}.
 */
class LockFreeSourceTest {
    /** The per-flow packages: everything a netisr runs for a flow. */
    static final List<String> PER_FLOW_PACKAGES = List.of(
            "io.flowstack.core.tcp",
            "io.flowstack.core.udp",
            "io.flowstack.core.ip",
            "io.flowstack.core.arp",
            "io.flowstack.core.wire",
            "io.flowstack.core.flow",
            "io.flowstack.core.percore",
            "io.flowstack.core.netisr");

    /**
     * The documented exceptions, all at the boundary between a netisr and other threads, none
     * on a flow's path. Each names its file and rule; an allowance that stops matching fails the
     * scan (remove it).
     */
    static final List<Allowance> ALLOWANCES = List.of(
            new Allowance("io/flowstack/core/netisr/Rings.java", "agrona-mpsc",
                    "builds the application-to-core ring (Agrona ManyToOneRingBuffer): application threads are"
                            + " its producers and claim space with a CAS on the tail; the netisr only consumes"
                            + " (ordered store of the head, no CAS). The core-to-core rings built here are"
                            + " OneToOneRingBuffer (SPSC, no CAS)."),
            new Allowance("io/flowstack/core/netisr/Netisr.java", "agrona-mpsc",
                    "holds the consumer ends of the application ring (ManyToOneRingBuffer) and of the control"
                            + " command queue (ManyToOneConcurrentArrayQueue): read()/poll() on the netisr"
                            + " take no lock and do no CAS; submit()/appRing() are the producer entry points"
                            + " for application threads (control path and socket doorbells, not flow"
                            + " processing)."),
            new Allowance("io/flowstack/core/tcp/TcpStream.java", "locks",
                    "the application side of a connection's rings parks its own thread (LockSupport.park)"
                            + " until the netisr signals it (LockSupport.unpark after publishing): a wake-up,"
                            + " no lock; the netisr never parks or waits here"),
            new Allowance("io/flowstack/core/percore/Ownership.java", "atomic",
                    "the debug ownership check counts violations in a LongAdder; it is only incremented by"
                            + " a thread that has just broken the ownership rule (tests run with the check"
                            + " on; in production the check is a static final false branch)"));

    @Test
    void perFlowPackagesTakeNoLockAndDoNoCas() {
        Path root = Path.of("src/main/java");
        assertTrue(Files.isDirectory(root.resolve("io/flowstack/core/tcp")),
                () -> "run from the stack-core module directory (surefire does): " + root.toAbsolutePath());
        Report r = new LockFreeScanner(root, PER_FLOW_PACKAGES, ALLOWANCES).scan();
        for (String pkg : PER_FLOW_PACKAGES) {
            String dir = pkg.replace('.', '/') + "/";
            assertTrue(r.scanned().stream().anyMatch(f -> f.startsWith(dir)), () -> "nothing scanned in " + pkg);
        }
        System.out.println("lock-free scan: " + r.scanned().size() + " files, " + r.allowed().size()
                + " documented exceptions");
        r.allowed().forEach(f -> System.out.println("  allowed " + f));
        assertTrue(r.clean(), r::describe);
    }
}
