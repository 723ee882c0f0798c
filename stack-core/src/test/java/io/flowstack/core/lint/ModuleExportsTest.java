package io.flowstack.core.lint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.lang.module.Configuration;
import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleDescriptor.Exports;
import java.lang.module.ModuleFinder;
import java.lang.module.ResolvedModule;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The module descriptors export the API packages only: stack-core's internals (wire, flow,
 * percore, arp, ip, udp, tcp, netisr) stay unexported, and the FFM bindings of the native module are
 * exported to the project's own modules only. The tests run on the class path, so the descriptors
 * are read from the compiled classes and resolved here, as a modular application's launch would.
 */
class ModuleExportsTest {
    static final Set<String> CORE_API = Set.of(
            "io.flowstack.core",
            "io.flowstack.core.config",
            "io.flowstack.core.socket",
            "io.flowstack.core.stats",
            "io.flowstack.services");

    static final Set<String> NIC_API = Set.of(
            "io.flowstack.nic",
            "io.flowstack.nic.impair",
            "io.flowstack.nic.packet",
            "io.flowstack.nic.pcap");

    @Test
    void stackCoreExportsExactlyTheApiPackagesToEveryone() {
        ModuleDescriptor core = ModuleFinder.of(Path.of("target/classes")).find("io.flowstack.core")
                .orElseThrow(() -> new AssertionError("no module io.flowstack.core in target/classes"))
                .descriptor();
        assertEquals(new TreeSet<>(CORE_API), exports(core, false), "unqualified exports of io.flowstack.core");
        assertEquals(Set.of(), exports(core, true), "qualified exports of io.flowstack.core");
        assertEquals(Set.of(), core.opens(), "opens of io.flowstack.core");
        Set<String> internal = new TreeSet<>(core.packages());
        internal.removeAll(CORE_API);
        assertEquals(new TreeSet<>(Set.of("io.flowstack.core.arp", "io.flowstack.core.flow", "io.flowstack.core.ip",
                "io.flowstack.core.netisr", "io.flowstack.core.percore", "io.flowstack.core.tcp",
                "io.flowstack.core.udp", "io.flowstack.core.wire", "io.flowstack.core.wire.msg")),
                internal, "internal packages of io.flowstack.core (a new package is internal unless added to CORE_API)");
    }

    @Test
    void theModulesResolveAndNativeIsExportedToTheProjectOnly() {
        Configuration cf = ModuleLayer.boot().configuration()
                .resolve(dependencyModules(), ModuleFinder.of(), Set.of("io.flowstack.core"));
        Map<String, ModuleDescriptor> ours = new TreeMap<>();
        for (ResolvedModule m : cf.modules()) {
            if (m.name().startsWith("io.flowstack.")) {
                ours.put(m.name(), m.reference().descriptor());
            }
        }
        assertEquals(Set.of("io.flowstack.core", "io.flowstack.nativeio", "io.flowstack.nic"), ours.keySet());

        ModuleDescriptor nativeio = ours.get("io.flowstack.nativeio");
        assertEquals(Set.of(), exports(nativeio, false), "unqualified exports of io.flowstack.nativeio");
        for (Exports e : nativeio.exports()) {
            assertEquals(Set.of("io.flowstack.nic", "io.flowstack.core"), e.targets(), () -> "targets of " + e);
        }
        assertEquals(new TreeSet<>(nativeio.packages()), exports(nativeio, true), "packages exported to the project");

        ModuleDescriptor nic = ours.get("io.flowstack.nic");
        assertEquals(new TreeSet<>(NIC_API), exports(nic, false), "unqualified exports of io.flowstack.nic");
        assertEquals(Set.of(), exports(nic, true), "qualified exports of io.flowstack.nic");
        assertTrue(cf.findModule("org.pcap4j.core").isPresent(), "Pcap4J resolves as a module (slf4j.api found)");
    }

    /** Packages of {@code d} exported to everyone ({@code qualified} false) or to named modules. */
    private static Set<String> exports(ModuleDescriptor d, boolean qualified) {
        return d.exports().stream().filter(e -> e.isQualified() == qualified).map(Exports::source)
                .collect(Collectors.toCollection(TreeSet::new));
    }

    /**
     * The modules on the test class path: this module's target/classes, the other modules' classes
     * or jars and the third-party jars (the test classes, not a module, are left out).
     */
    private static ModuleFinder dependencyModules() {
        Path[] entries = Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .filter(s -> !s.isEmpty())
                .map(Path::of)
                .filter(p -> p.toString().endsWith(".jar") || Files.isRegularFile(p.resolve("module-info.class")))
                .toArray(Path[]::new);
        return ModuleFinder.of(entries);
    }
}
