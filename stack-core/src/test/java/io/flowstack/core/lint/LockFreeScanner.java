package io.flowstack.core.lint;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Scans Java sources of the per-flow packages for locks, monitors, CAS and other atomic
 * read-modify-write operations, which DESIGN.md forbids on the per-flow path ("no lock, mutex or
 * CAS on the per-flow path"): a flow's state belongs to one netisr thread and other threads reach
 * it by message only.
 *
 * <p>The scan works on the source text with comments, string literals, text blocks and character
 * literals blanked out (line numbers kept), so a rule name in a comment or a log message never
 * matches. It is a lint, not a proof: it cannot see a lock taken inside a library method; the
 * rules therefore also name the library types known to take one (concurrent collections, the
 * many-producer Agrona queues).
 *
 * <p>Every finding must either be fixed or be listed as an {@link Allowance} with its reason; an
 * allowance that no longer matches anything is reported too, so the list stays honest.
 *
 * <p>Owned by: the calling (test) thread; stateless apart from its constructor arguments.
 */
public final class LockFreeScanner {

    /** One forbidden construct. */
    public record Rule(String id, Pattern pattern, String why) {}

    /** A forbidden construct found in a file. */
    public record Finding(String file, int line, String rule, String text) {
        @Override
        public String toString() {
            return file + ":" + line + ": [" + rule + "] " + text.strip();
        }
    }

    /**
     * A documented exception: rule {@code rule} may match in the file whose path (relative to
     * the source root, '/' separated) is {@code file}.
     */
    public record Allowance(String file, String rule, String reason) {}

    /** The result of a scan. */
    public record Report(List<String> scanned, List<Finding> violations, List<Finding> allowed,
                         List<Allowance> unusedAllowances) {
        public boolean clean() {
            return violations.isEmpty() && unusedAllowances.isEmpty();
        }

        public String describe() {
            StringBuilder b = new StringBuilder();
            if (!violations.isEmpty()) {
                b.append("locks/monitors/CAS on the per-flow path (DESIGN.md: not allowed; fix it, or if it is a"
                        + " ring's own synchronisation document it in LockFreeSourceTest.ALLOWANCES):\n");
                violations.forEach(f -> b.append("  ").append(f).append('\n'));
            }
            if (!unusedAllowances.isEmpty()) {
                b.append("allowances that match nothing any more (remove them):\n");
                unusedAllowances.forEach(a -> b.append("  ").append(a).append('\n'));
            }
            return b.toString();
        }
    }

    /** The rules every per-flow source file is held to. */
    public static final List<Rule> RULES = List.of(
            new Rule("synchronized", Pattern.compile("\\bsynchronized\\b"),
                    "a monitor: two threads contend for it"),
            new Rule("locks", Pattern.compile("\\bjava\\.util\\.concurrent\\.locks\\b"
                    + "|\\b(ReentrantLock|ReentrantReadWriteLock|ReadWriteLock|StampedLock|Semaphore|CountDownLatch"
                    + "|CyclicBarrier|Phaser|Exchanger)\\b"),
                    "a lock or a blocking synchroniser"),
            new Rule("monitor-wait", Pattern.compile("\\.\\s*(wait|notify|notifyAll)\\s*\\("),
                    "Object.wait/notify need a monitor"),
            new Rule("atomic", Pattern.compile("\\bjava\\.util\\.concurrent\\.atomic\\b"
                    + "|\\bAtomic(Integer|Long|Boolean|Reference|IntegerArray|LongArray|ReferenceArray"
                    + "|IntegerFieldUpdater|LongFieldUpdater|ReferenceFieldUpdater|MarkableReference"
                    + "|StampedReference)\\b|\\b(Long|Double)(Adder|Accumulator)\\b"),
                    "an atomic type: its updates are CAS or locked read-modify-writes"),
            new Rule("cas", Pattern.compile("\\.\\s*(compareAndSet\\w*|weakCompareAndSet\\w*|compareAndExchange\\w*"
                    + "|compareAndSwap\\w*|getAndAdd\\w*|getAndIncrement\\w*|getAndDecrement\\w*|incrementAndGet"
                    + "|decrementAndGet|addAndGet|getAndSet\\w*|getAndUpdate|updateAndGet|getAndAccumulate"
                    + "|accumulateAndGet|getAndBitwise\\w*)\\s*\\("),
                    "a CAS or an atomic read-modify-write (VarHandle, Atomic*, Unsafe, Agrona AtomicBuffer)"),
            new Rule("concurrent-collection", Pattern.compile("\\b(ConcurrentHashMap|ConcurrentLinkedQueue"
                    + "|ConcurrentLinkedDeque|ConcurrentSkipList\\w*|\\w*BlockingQueue|\\w*BlockingDeque"
                    + "|SynchronousQueue|LinkedTransferQueue|DelayQueue|CopyOnWrite\\w*)\\b"),
                    "a JDK concurrent collection: CAS or locks inside"),
            new Rule("agrona-mpsc", Pattern.compile("\\b(ManyToOneRingBuffer|ManyToOneConcurrentArrayQueue"
                    + "|ManyToManyConcurrentArrayQueue|ManyToOneConcurrentLinkedQueue|ConcurrentCountersManager)\\b"),
                    "an Agrona many-producer structure: its producers CAS"),
            new Rule("static-mutable", Pattern.compile("^\\s*(?:(?:public|protected|private)\\s+)?static\\s+"
                    + "(?!final\\b|class\\b|interface\\b|enum\\b|record\\b|abstract\\b|sealed\\b|non-sealed\\b|\\{)"
                    + "(?:volatile\\s+|transient\\s+)*[\\w.$<>\\[\\], ?]+?\\s+\\w+\\s*(?:=[^;]*)?;"),
                    "a mutable static field is state shared by every core"));

    private final Path root;
    private final List<String> packages;
    private final List<Allowance> allowances;

    /**
     * @param root       a source root (e.g. {@code src/main/java})
     * @param packages   packages to scan, with their subpackages (e.g. {@code io.flowstack.core.tcp})
     * @param allowances documented exceptions
     */
    public LockFreeScanner(Path root, List<String> packages, List<Allowance> allowances) {
        this.root = root;
        this.packages = List.copyOf(packages);
        this.allowances = List.copyOf(allowances);
    }

    public Report scan() {
        List<String> scanned = new ArrayList<>();
        List<Finding> violations = new ArrayList<>();
        List<Finding> allowed = new ArrayList<>();
        Set<Allowance> used = new LinkedHashSet<>();
        for (String pkg : packages) {
            Path dir = root.resolve(pkg.replace('.', '/'));
            if (!Files.isDirectory(dir)) {
                continue;
            }
            List<Path> files;
            try (Stream<Path> s = Files.walk(dir)) {
                files = s.filter(p -> p.toString().endsWith(".java")).sorted(Comparator.naturalOrder()).toList();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot list " + dir, e);
            }
            for (Path file : files) {
                String rel = root.relativize(file).toString().replace('\\', '/');
                scanned.add(rel);
                for (Finding f : scanFile(rel, read(file))) {
                    Allowance a = allowanceFor(f);
                    if (a == null) {
                        violations.add(f);
                    } else {
                        allowed.add(f);
                        used.add(a);
                    }
                }
            }
        }
        List<Allowance> unused = allowances.stream().filter(a -> !used.contains(a)).toList();
        return new Report(scanned, violations, allowed, unused);
    }

    private Allowance allowanceFor(Finding f) {
        for (Allowance a : allowances) {
            if (a.file().equals(f.file()) && a.rule().equals(f.rule())) {
                return a;
            }
        }
        return null;
    }

    /** Findings of every rule in one source text ({@code name} only labels them). */
    public static List<Finding> scanFile(String name, String source) {
        String code = blankCommentsAndLiterals(source);
        String[] lines = code.split("\n", -1);
        String[] original = source.split("\n", -1);
        List<Finding> out = new ArrayList<>();
        for (int i = 0; i < lines.length; i++) {
            for (Rule r : RULES) {
                Matcher m = r.pattern().matcher(lines[i]);
                if (m.find()) {
                    out.add(new Finding(name, i + 1, r.id(), i < original.length ? original[i] : lines[i]));
                }
            }
        }
        return out;
    }

    /**
     * The source with the contents of comments, string literals, text blocks and character
     * literals replaced by spaces; newlines are kept so line numbers stay valid.
     */
    public static String blankCommentsAndLiterals(String src) {
        StringBuilder b = new StringBuilder(src.length());
        int n = src.length();
        int i = 0;
        while (i < n) {
            char c = src.charAt(i);
            char next = i + 1 < n ? src.charAt(i + 1) : '\0';
            if (c == '/' && next == '/') {
                while (i < n && src.charAt(i) != '\n') {
                    b.append(' ');
                    i++;
                }
            } else if (c == '/' && next == '*') {
                b.append("  ");
                i += 2;
                while (i < n && !(src.charAt(i) == '*' && i + 1 < n && src.charAt(i + 1) == '/')) {
                    b.append(src.charAt(i) == '\n' ? '\n' : ' ');
                    i++;
                }
                if (i < n) {
                    b.append("  ");
                    i += 2;
                }
            } else if (c == '"' && src.startsWith("\"\"\"", i)) {
                b.append("\"\"\"");
                i += 3;
                while (i < n && !src.startsWith("\"\"\"", i)) {
                    if (src.charAt(i) == '\\' && i + 1 < n) {
                        b.append(src.charAt(i + 1) == '\n' ? " \n" : "  ");
                        i += 2;
                        continue;
                    }
                    b.append(src.charAt(i) == '\n' ? '\n' : ' ');
                    i++;
                }
                if (i < n) {
                    b.append("\"\"\"");
                    i += 3;
                }
            } else if (c == '"' || c == '\'') {
                b.append(c);
                i++;
                while (i < n && src.charAt(i) != c && src.charAt(i) != '\n') {
                    if (src.charAt(i) == '\\' && i + 1 < n) {
                        b.append("  ");
                        i += 2;
                        continue;
                    }
                    b.append(' ');
                    i++;
                }
                if (i < n && src.charAt(i) == c) {
                    b.append(c);
                    i++;
                }
            } else {
                b.append(c);
                i++;
            }
        }
        return b.toString();
    }

    private static String read(Path p) {
        try {
            return Files.readString(p, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + p, e);
        }
    }
}
