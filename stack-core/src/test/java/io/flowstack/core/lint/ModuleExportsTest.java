package io.flowstack.core.lint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.lang.module.Configuration;
import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleDescriptor.Exports;
import java.lang.module.ModuleFinder;
import java.lang.module.ResolvedModule;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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
            "io.flowstack.nic.pcap",
            "io.flowstack.nic.xdp");

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
        assertEquals(new TreeSet<>(Set.of("io.flowstack.core.arp", "io.flowstack.core.flow", "io.flowstack.core.forward", "io.flowstack.core.ip",
                "io.flowstack.core.netisr", "io.flowstack.core.percore", "io.flowstack.core.route", "io.flowstack.core.tcp",
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

    /**
     * A modular application's view: a program in the unnamed module, the three modules and their
     * dependencies on the module path (native access for io.flowstack.nativeio only, denied elsewhere).
     * It runs two stacks on a MemoryWire and echoes a datagram through the API; a program that
     * imports an internal package does not compile.
     */
    @Test
    void anApplicationOnTheModulePathUsesTheApiButCannotSeeTheInternals(@TempDir Path dir)
            throws IOException, InterruptedException {
        Configuration cf = ModuleLayer.boot().configuration()
                .resolve(dependencyModules(), ModuleFinder.of(), Set.of("io.flowstack.core"));
        String modulePath = cf.modules().stream()
                .map(m -> Path.of(m.reference().location().orElseThrow()).toString())
                .collect(Collectors.joining(File.pathSeparator));

        Path app = dir.resolve("App.java");
        Files.writeString(app, """
                import io.flowstack.core.FlowStack;
                import io.flowstack.core.config.StackConfig;
                import io.flowstack.core.socket.UdpPeer;
                import io.flowstack.core.socket.UdpSocket;
                import io.flowstack.nic.MemoryWire;
                import io.flowstack.services.UdpEchoService;
                import java.util.concurrent.TimeUnit;

                public class App {
                    static StackConfig config(int addr, long mac) {
                        return StackConfig.builder().cores(1).address(addr).prefixLength(24).mac(mac)
                                .pinThreads(false).build();
                    }

                    public static void main(String[] args) {
                        int server = 0xC6120002, client = 0xC6120001; // 198.18.0.2, 198.18.0.1
                        try (MemoryWire wire = MemoryWire.create(1, 1 << 20);
                             FlowStack s = FlowStack.start(config(server, 0x020000000002L), wire.b());
                             FlowStack c = FlowStack.start(config(client, 0x020000000001L), wire.a());
                             UdpEchoService echo = new UdpEchoService(s, 7);
                             UdpSocket sock = c.udpBind(0)) {
                            byte[] out = "hello".getBytes();
                            sock.send(out, 0, out.length, server, 7);
                            byte[] in = new byte[64];
                            int n = sock.receive(in, 0, in.length, new UdpPeer(), 5, TimeUnit.SECONDS);
                            System.out.println("echoed " + new String(in, 0, n) + " from module "
                                    + FlowStack.class.getModule().getName());
                        }
                    }
                }
                """);
        Result ok = java(dir, modulePath, app);
        assertEquals(0, ok.exit(), ok.output());
        assertTrue(ok.output().contains("echoed hello from module io.flowstack.core"), ok.output());

        Path peek = dir.resolve("Peek.java");
        Files.writeString(peek, """
                import io.flowstack.core.netisr.Netisr;

                public class Peek {
                    public static void main(String[] args) {
                        System.out.println(Netisr.class);
                    }
                }
                """);
        Result refused = java(dir, modulePath, peek);
        assertTrue(refused.exit() != 0 && refused.output().contains("package io.flowstack.core.netisr is not visible"),
                refused.output());

        // the netisr's side of the sockets is not the application's: it cannot deliver into a
        // socket's rings or offer a listener a connection (the netisr is their only producer)
        Path forge = dir.resolve("Forge.java");
        Files.writeString(forge, """
                import io.flowstack.core.socket.TcpListener;
                import io.flowstack.core.socket.UdpSocket;

                public class Forge {
                    static boolean deliver(UdpSocket s) {
                        return s.deliver(0, 0, 0, 0, 0, null, 0, 0);
                    }

                    static boolean offer(TcpListener l) {
                        return l.offer(0, null);
                    }

                    public static void main(String[] args) {
                    }
                }
                """);
        Result forged = java(dir, modulePath, forge);
        assertTrue(forged.exit() != 0 && forged.output().contains("deliver(int,int,int,int,int,MemorySegment,long,int) has private access")
                && forged.output().contains("offer(int,TcpConnection) has private access"), forged.output());
    }

    private record Result(int exit, String output) {}

    /** Runs {@code source} with the source launcher as an application of the modules on {@code modulePath}. */
    private static Result java(Path dir, String modulePath, Path source) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--module-path", modulePath, "--add-modules", "io.flowstack.core",
                // the FFM downcalls are all in io.flowstack.nativeio; Agrona (an automatic module) needs
                // jdk.internal.misc on JDK 25
                "--enable-native-access=io.flowstack.nativeio", "--illegal-native-access=deny",
                "--add-exports", "java.base/jdk.internal.misc=org.agrona",
                source.toString()));
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        p.getOutputStream().close();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("timed out: " + cmd);
        }
        return new Result(p.exitValue(), new String(p.getInputStream().readAllBytes()));
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
        Path[] entries = Arrays.stream(modulePathEntries().split(File.pathSeparator))
                .filter(s -> !s.isEmpty())
                .map(Path::of)
                .filter(p -> p.toString().endsWith(".jar") || Files.isRegularFile(p.resolve("module-info.class")))
                .toArray(Path[]::new);
        return ModuleFinder.of(entries);
    }

    /**
     * The test class path as a module path: without Jazzer's jars (fuzz tests only,
     * docs/FUZZING.md), which as automatic modules split a package ({@code jazzer} and
     * {@code jazzer.junit} both hold {@code com.code_intelligence.jazzer.junit}) and would not
     * resolve; nothing of the project's needs them.
     */
    static String modulePathEntries() {
        return Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .filter(s -> !s.contains(File.separator + "com" + File.separator + "code-intelligence" + File.separator))
                .collect(Collectors.joining(File.pathSeparator));
    }
}
