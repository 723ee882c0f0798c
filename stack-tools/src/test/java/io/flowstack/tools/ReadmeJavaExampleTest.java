package io.flowstack.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.io.StringWriter;
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
 * -nic, -native and their dependencies), with every lint warning an error; and the Maven
 * coordinates it gives name the artifacts and version the poms build.
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

    private void compiles(String source) throws IOException {
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
