package io.flowstack.core.lint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.lint.LockFreeScanner.Allowance;
import io.flowstack.core.lint.LockFreeScanner.Finding;
import io.flowstack.core.lint.LockFreeScanner.Report;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The lock-free source scan catches what it must and ignores comments, strings and other packages. */
class LockFreeScannerTest {
    @TempDir
    Path root;

    private Path write(String rel, String text) throws IOException {
        Path p = root.resolve(rel);
        Files.createDirectories(p.getParent());
        Files.writeString(p, text);
        return p;
    }

    private Report scanTcp(List<Allowance> allowances) {
        return new LockFreeScanner(root, List.of("io.flowstack.core.tcp"), allowances).scan();
    }

    private static List<String> rules(List<Finding> fs) {
        return fs.stream().map(Finding::rule).toList();
    }

    @Test
    void aSynchronizedMethodInTcpFailsTheScan() throws IOException {
        write("io/flowstack/core/tcp/Bad.java", """
                package io.flowstack.core.tcp;

                final class Bad {
                    private int n;
                    synchronized void touch() {
                        n++;
                    }
                }
                """);
        Report r = scanTcp(List.of());
        assertFalse(r.clean(), "a synchronized method must fail the scan");
        assertEquals(1, r.violations().size(), r::describe);
        Finding f = r.violations().get(0);
        assertEquals("io/flowstack/core/tcp/Bad.java", f.file());
        assertEquals(5, f.line());
        assertEquals("synchronized", f.rule());
        assertTrue(r.describe().contains("Bad.java:5"), r::describe);
    }

    @Test
    void aSynchronizedBlockIsCaughtToo() {
        List<Finding> fs = LockFreeScanner.scanFile("X.java", "class X { void f(Object o) { synchronized (o) { } } }");
        assertEquals(List.of("synchronized"), rules(fs));
    }

    @Test
    void locksAtomicsAndCasAreCaught() {
        String src = String.join("\n",
                "import java.util.concurrent.locks.ReentrantLock;",
                "import java.util.concurrent.atomic.AtomicLong;",
                "class X {",
                "  final ReentrantLock lock = new ReentrantLock();",
                "  final AtomicLong count = new AtomicLong();",
                "  boolean f(java.lang.invoke.VarHandle vh) { return vh.compareAndSet(this, 0L, 1L); }",
                "  long g(java.lang.invoke.VarHandle vh) { return vh.getAndAdd(this, 1L); }",
                "  long h() { return count.incrementAndGet(); }",
                "  final java.util.concurrent.ConcurrentHashMap<Long, Object> m = null;",
                "  final org.agrona.concurrent.ManyToOneConcurrentArrayQueue<Object> q = null;",
                "  void w() throws Exception { this.wait(); }",
                "  static int shared;",
                "}");
        List<Finding> fs = LockFreeScanner.scanFile("X.java", src);
        assertEquals(List.of("locks", "atomic", "locks", "atomic", "cas", "cas", "cas", "concurrent-collection",
                "agrona-mpsc", "monitor-wait", "static-mutable"), rules(fs), fs::toString);
        assertEquals(List.of(1, 2, 4, 5, 6, 7, 8, 9, 10, 11, 12), fs.stream().map(Finding::line).toList());
    }

    @Test
    void commentsStringsAndCharsAreIgnored() {
        String src = String.join("\n",
                "/** Not synchronized; never takes a ReentrantLock or does compareAndSet(...). */",
                "class X {",
                "  // synchronized (this) { }",
                "  /* AtomicLong.getAndAdd( */ int a = 1;",
                "  String s = \"synchronized ReentrantLock .compareAndSet(\";",
                "  String t = \"escaped \\\" synchronized\";",
                "  char c = '\"'; int b = 2; // a quote char must not start a string",
                "  String u = \"\"\"",
                "      text block: synchronized",
                "      \"\"\";",
                "  static final int CONSTANT = 1;",
                "  static class Nested {}",
                "  static void method() {}",
                "  static <T> T generic(T t) { return t; }",
                "  static { }",
                "}");
        List<Finding> fs = LockFreeScanner.scanFile("X.java", src);
        assertTrue(fs.isEmpty(), fs::toString);
        String blanked = LockFreeScanner.blankCommentsAndLiterals(src);
        assertEquals(src.split("\n", -1).length, blanked.split("\n", -1).length, "line numbers are kept");
        assertTrue(blanked.contains("int b = 2;"), "code after a char literal is still scanned: " + blanked);
    }

    @Test
    void codeAfterAStringIsStillScanned() {
        List<Finding> fs = LockFreeScanner.scanFile("X.java",
                "class X { String s = \"a\"; synchronized void f() {} }");
        assertEquals(List.of("synchronized"), rules(fs));
    }

    @Test
    void otherPackagesAreNotScanned() throws IOException {
        write("io/flowstack/core/socket/Boundary.java",
                "package io.flowstack.core.socket; final class Boundary { synchronized void f() {} }");
        Report r = scanTcp(List.of());
        assertTrue(r.clean(), r::describe);
        assertTrue(r.scanned().isEmpty(), r.scanned()::toString);
    }

    @Test
    void subpackagesAreScanned() throws IOException {
        write("io/flowstack/core/tcp/cc/Deep.java",
                "package io.flowstack.core.tcp.cc; final class Deep { synchronized void f() {} }");
        assertEquals(1, scanTcp(List.of()).violations().size());
    }

    @Test
    void anAllowanceCoversOnlyItsFileAndRule() throws IOException {
        write("io/flowstack/core/tcp/Ring.java",
                "package io.flowstack.core.tcp; final class Ring { org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer r;"
                        + " synchronized void f() {} }");
        write("io/flowstack/core/tcp/Other.java",
                "package io.flowstack.core.tcp; final class Other { org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer r; }");
        Allowance a = new Allowance("io/flowstack/core/tcp/Ring.java", "agrona-mpsc", "test");
        Report r = scanTcp(List.of(a));
        assertEquals(1, r.allowed().size(), r::describe);
        // files in name order: Other.java (not covered), then Ring.java (only agrona-mpsc covered)
        assertEquals(List.of("agrona-mpsc", "synchronized"), rules(r.violations()), r::describe);
        assertEquals("io/flowstack/core/tcp/Other.java", r.violations().get(0).file());
        assertEquals("io/flowstack/core/tcp/Ring.java", r.violations().get(1).file());
    }

    @Test
    void anAllowanceThatMatchesNothingFailsTheScan() throws IOException {
        write("io/flowstack/core/tcp/Clean.java", "package io.flowstack.core.tcp; final class Clean { }");
        Allowance stale = new Allowance("io/flowstack/core/tcp/Gone.java", "synchronized", "was needed once");
        Report r = scanTcp(List.of(stale));
        assertTrue(r.violations().isEmpty());
        assertFalse(r.clean(), "a stale allowance must fail");
        assertTrue(r.describe().contains("Gone.java"), r::describe);
    }
}
