package io.flowstack.core.lint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.spi.ToolProvider;
import org.junit.jupiter.api.Test;

/**
 * The packages of stack-core form layers, each importing only those below it, so they have no
 * cycle (issue 9). Read from the compiled classes with the JDK's {@code jdeps}, so a dependency
 * through a fully qualified name or a lambda counts as much as an import.
 *
 * <p>The layers, lowest first (docs/ARCHITECTURE.md):
 * wire; wire.msg; config; stats; flow; route; percore; arp; ip; forward; udp; tcp; netisr; socket; the API root
 * {@code io.flowstack.core}; {@code io.flowstack.services}.
 */
class PackageLayersTest {
    static final List<String> LAYERS = List.of(
            "io.flowstack.core.wire",
            "io.flowstack.core.wire.msg",
            "io.flowstack.core.config",
            "io.flowstack.core.stats",
            "io.flowstack.core.flow",
            "io.flowstack.core.route",
            "io.flowstack.core.percore",
            "io.flowstack.core.arp",
            "io.flowstack.core.ip",
            "io.flowstack.core.forward",
            "io.flowstack.core.udp",
            "io.flowstack.core.tcp",
            "io.flowstack.core.netisr",
            "io.flowstack.core.socket",
            "io.flowstack.core",
            "io.flowstack.services");

    @Test
    void noPackageDependsOnAHigherOneSoThereIsNoCycle() {
        Map<String, Set<String>> deps = packageDependencies(Path.of("target/classes"));
        List<String> upward = new ArrayList<>();
        for (var e : deps.entrySet()) {
            int from = LAYERS.indexOf(e.getKey());
            assertTrue(from >= 0, () -> "package " + e.getKey() + " is in no layer: add it to LAYERS and the docs");
            for (String to : e.getValue()) {
                int at = LAYERS.indexOf(to);
                if (at > from) {
                    upward.add(e.getKey() + " -> " + to);
                }
            }
        }
        assertEquals(List.of(), upward, "dependencies on a higher layer");
        assertEquals(List.of(), cycles(deps), "package cycles");
    }

    /** The public API packages (module-info exports these, and only these). */
    static final Set<String> API = Set.of("io.flowstack.core", "io.flowstack.core.config",
            "io.flowstack.core.socket", "io.flowstack.core.stats", "io.flowstack.services");

    @Test
    void theBundledServicesUseThePublicApiOnly() {
        Map<String, Set<String>> deps = packageDependencies(Path.of("target/classes"));
        Set<String> used = new TreeSet<>(deps.getOrDefault("io.flowstack.services", Set.of()));
        assertTrue(used.contains("io.flowstack.core.socket"), () -> "jdeps saw no use of the socket API: " + used);
        used.removeAll(API);
        assertEquals(Set.of(), used, "internal packages the services use");
    }

    @Test
    void theCheckFindsACycle() {
        Map<String, Set<String>> g = new TreeMap<>();
        g.put("a", new TreeSet<>(Set.of("b")));
        g.put("b", new TreeSet<>(Set.of("c")));
        g.put("c", new TreeSet<>(Set.of("a")));
        g.put("d", new TreeSet<>(Set.of("a")));
        assertEquals(List.of(List.of("a", "b", "c")), cycles(g));
    }

    /** Package to the other io.flowstack packages its classes use, per {@code jdeps -verbose:package}. */
    static Map<String, Set<String>> packageDependencies(Path classes) {
        assertTrue(Files.isDirectory(classes.resolve("io/flowstack/core")),
                () -> "run from the stack-core module directory after compiling: " + classes.toAbsolutePath());
        ToolProvider jdeps = ToolProvider.findFirst("jdeps").orElseThrow(() -> new AssertionError("no jdeps in this JDK"));
        StringWriter out = new StringWriter();
        // target/classes holds module io.flowstack.core: jdeps resolves its requires on the test class
        // path, and then also lists the packages of io.flowstack.nic and .nativeio, which the pattern
        // leaves out (they use none of stack-core's)
        int rc = jdeps.run(new PrintWriter(out), new PrintWriter(out), "-verbose:package", "-filter:none",
                "--module-path", ModuleExportsTest.modulePathEntries(),
                "-e", "io\\.flowstack\\.(core|services)\\b.*", classes.toString());
        assertEquals(0, rc, out::toString);
        Map<String, Set<String>> deps = new TreeMap<>();
        for (String line : out.toString().split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length >= 3 && f[1].equals("->") && f[0].startsWith("io.flowstack.")) {
                Set<String> to = deps.computeIfAbsent(f[0], k -> new TreeSet<>());
                if (f[2].startsWith("io.flowstack.") && !f[2].equals(f[0]) && LAYERS.contains(f[2])) {
                    to.add(f[2]);
                }
            }
        }
        assertTrue(deps.size() >= 10, () -> "jdeps found too few packages: " + out);
        return deps;
    }

    /** The strongly connected components of more than one package (Tarjan), each sorted. */
    static List<List<String>> cycles(Map<String, Set<String>> g) {
        Map<String, Integer> index = new HashMap<>();
        Map<String, Integer> low = new HashMap<>();
        Deque<String> stack = new ArrayDeque<>();
        Set<String> onStack = new TreeSet<>();
        List<List<String>> out = new ArrayList<>();
        int[] next = {0};
        for (String v : new TreeSet<>(g.keySet())) {
            if (!index.containsKey(v)) {
                strongConnect(v, g, index, low, stack, onStack, out, next);
            }
        }
        return out;
    }

    private static void strongConnect(String v, Map<String, Set<String>> g, Map<String, Integer> index,
                                      Map<String, Integer> low, Deque<String> stack, Set<String> onStack,
                                      List<List<String>> out, int[] next) {
        index.put(v, next[0]);
        low.put(v, next[0]);
        next[0]++;
        stack.push(v);
        onStack.add(v);
        for (String w : g.getOrDefault(v, Set.of())) {
            if (!index.containsKey(w)) {
                strongConnect(w, g, index, low, stack, onStack, out, next);
                low.put(v, Math.min(low.get(v), low.get(w)));
            } else if (onStack.contains(w)) {
                low.put(v, Math.min(low.get(v), index.get(w)));
            }
        }
        if (low.get(v).equals(index.get(v))) {
            List<String> component = new ArrayList<>();
            String w;
            do {
                w = stack.pop();
                onStack.remove(w);
                component.add(w);
            } while (!w.equals(v));
            if (component.size() > 1) {
                component.sort(null);
                out.add(component);
            }
        }
    }
}
