package io.flowstack.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.FlowStack;
import io.flowstack.core.config.StackConfig;
import io.flowstack.core.config.TcpSocketOptions;
import io.flowstack.core.socket.TcpConnection;
import io.flowstack.core.socket.TcpHandler;
import io.flowstack.core.socket.TcpListener;
import io.flowstack.core.wire.Ipv4;
import io.flowstack.nic.MemoryWire;
import java.io.File;
import java.io.IOException;
import java.io.StringWriter;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 9 point 6 and issue 11 point 2: the README's "Use it as a library" section cannot rot.
 * Its Java examples (blocking streams, callbacks) are each compiled, as they stand, against the
 * modules' classes (the test class path: flowstack-core,
 * -nic, -native and their dependencies), with every lint warning an error; the callback server
 * is also run: its handler, as compiled from the README, serves a stack on a {@link MemoryWire}
 * and echoes 256 KiB (more than the send buffer holds at once: back-pressure) intact; and the
 * Maven coordinates it gives name the artifacts and version the poms build.
 */
class ReadmeJavaExampleTest {
    private static final Pattern PUBLIC_CLASS = Pattern.compile("public (?:final )?class (\\w+)");

    @TempDir
    Path dir;

    /** The README's ```java blocks. */
    static List<String> javaBlocks() throws IOException {
        List<String> blocks = new ArrayList<>();
        StringBuilder block = null;
        for (String line : Files.readAllLines(Path.of("../README.md"))) {
            if (block == null && line.equals("```java")) {
                block = new StringBuilder();
            } else if (block != null && line.equals("```")) {
                blocks.add(block.toString());
                block = null;
            } else if (block != null) {
                block.append(line).append('\n');
            }
        }
        return blocks;
    }

    @Test
    void theJavaExamplesCompileAgainstTheCurrentApi() throws IOException {
        List<String> blocks = javaBlocks();
        assertEquals(2, blocks.size(), "two Java examples in the README: blocking streams and callbacks");
        for (String source : blocks) {
            compiles(source);
        }
    }

    /**
     * The callback example's handler (its static {@code TcpHandler} field, loaded from the class
     * compiled from the README) serves every core of a stack on a MemoryWire: a client's 256 KiB
     * come back intact, and the client's FIN is answered by the server's.
     */
    @Test
    void theCallbackExampleRunsAndEchoes() throws Exception {
        String source = javaBlocks().stream().filter(b -> b.contains("TcpHandler")).findFirst()
                .orElseThrow(() -> new AssertionError("no callback example in the README"));
        Path classes = compiles(source);
        Matcher m = PUBLIC_CLASS.matcher(source);
        assertTrue(m.find());
        try (URLClassLoader loader = new URLClassLoader(new URL[] {classes.toUri().toURL()},
                getClass().getClassLoader())) {
            Class<?> example = loader.loadClass(m.group(1));
            TcpHandler handler = null;
            for (var f : example.getDeclaredFields()) {
                if (java.lang.reflect.Modifier.isStatic(f.getModifiers()) && TcpHandler.class.isAssignableFrom(f.getType())) {
                    f.setAccessible(true);
                    handler = (TcpHandler) f.get(null);
                }
            }
            assertTrue(handler != null, "the callback example keeps its handler in a static field");
            int server = Ipv4.parse("198.18.0.2");
            try (MemoryWire wire = MemoryWire.create(2, 4 << 20);
                 FlowStack s = FlowStack.start(StackConfig.builder().cores(2).address(server).prefixLength(24)
                         .mac(0x02_00_00_00_00_02L).pinThreads(false).build(), wire.b());
                 FlowStack c = FlowStack.start(StackConfig.builder().cores(2).address(Ipv4.parse("198.18.0.1"))
                         .prefixLength(24).mac(0x02_00_00_00_00_01L).pinThreads(false).build(), wire.a());
                 TcpListener l = s.tcpListen(7, 128, TcpSocketOptions.defaults(s.config())
                         .withBuffers(64 * 1024, 64 * 1024), handler)) {
                for (int round = 0; round < 4; round++) { // connections land on both cores
                    TcpConnection conn = c.tcpConnect(server, l.port(), 5, TimeUnit.SECONDS);
                    conn.readTimeout(10, TimeUnit.SECONDS);
                    conn.writeTimeout(10, TimeUnit.SECONDS);
                    byte[] data = new byte[256 * 1024];
                    new SplittableRandom(round).nextBytes(data);
                    CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                        conn.write(data, 0, data.length);
                        conn.shutdownOutput();
                    });
                    byte[] back = conn.inputStream().readNBytes(data.length);
                    writer.get(10, TimeUnit.SECONDS);
                    assertTrue(Arrays.equals(data, back), "round " + round + ": the echo differs");
                    assertEquals(-1, conn.read(new byte[1], 0, 1), "the example closes after the client's FIN");
                    conn.close();
                }
            }
        }
    }

    private Path compiles(String source) throws IOException {
        Matcher m = PUBLIC_CLASS.matcher(source);
        assertTrue(m.find(), "the example declares a public class: " + source);
        Path file = dir.resolve(m.group(1) + ".java");
        Files.writeString(file, source);
        Path out = Files.createDirectories(dir.resolve("classes-" + m.group(1)));

        // surefire may run the tests from a manifest-only jar: its property has the real class path
        String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        StringWriter diagnostics = new StringWriter();
        boolean ok = javac.getTask(diagnostics, null, null,
                List.of("--release", "25", "-Xlint:all", "-Werror", "-proc:none", "-cp", classPath,
                        "-d", out.toString()),
                null, javac.getStandardFileManager(null, null, null).getJavaFileObjects(file.toFile())).call();
        assertTrue(ok, "the README's Java example does not compile:\n" + diagnostics + "\n" + source);
        assertTrue(Files.exists(out.resolve(m.group(1) + ".class")));
        assertTrue(classPath.contains("stack-core" + File.separator + "target") || classPath.contains("flowstack-core"),
                "compiled against flowstack-core: " + classPath);
        return out;
    }

    /** The dependency the README shows is one the build makes, at the version it has. */
    @Test
    void theMavenCoordinatesAreTheBuildsOwn() throws IOException {
        String readme = Files.readString(Path.of("../README.md"));
        Matcher dep = Pattern.compile("<groupId>([^<]+)</groupId>\\s*<artifactId>([^<]+)</artifactId>\\s*"
                + "<version>([^<]+)</version>").matcher(readme);
        assertTrue(dep.find(), "the README shows a Maven dependency");
        String rootPom = Files.readString(Path.of("../pom.xml"));
        Matcher root = Pattern.compile("<groupId>([^<]+)</groupId>\\s*<artifactId>flowstack</artifactId>\\s*"
                + "<version>([^<]+)</version>").matcher(rootPom);
        assertTrue(root.find(), "the root pom's coordinates");
        assertEquals(root.group(1), dep.group(1), "groupId");
        assertEquals(root.group(2), dep.group(3), "version");
        assertEquals("flowstack-core", dep.group(2));
        assertTrue(Files.readString(Path.of("../stack-core/pom.xml")).contains("<artifactId>flowstack-core</artifactId>"));
        String flags = rootPom.replaceAll("(?s).*<flowstack.jvm.flags>([^<]*)</flowstack.jvm.flags>.*", "$1");
        for (String flag : flags.split("\\s+(?=-)")) {
            assertTrue(readme.contains(flag.strip()), "the README names the JVM flag " + flag);
        }
    }
}
