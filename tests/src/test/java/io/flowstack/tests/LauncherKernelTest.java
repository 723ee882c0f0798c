package io.flowstack.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.tests.NamespaceLab.Result;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 2 point 1: the {@code ./stack} launcher, run by bash in a clean environment ({@code env
 * -i}) from a copy of the checkout's layout (the script, a symlink to the built stack-tools, a
 * build stamp), with a PATH that holds only the tools it needs, so which JDK and Maven it can
 * find is decided here: it passes over a JAVA_HOME older than 25 (the floor, the pom's
 * {@code maven.compiler.release}; a JDK 24 and a JDK 17 are faked here) for a JDK 25 or newer,
 * says in one line what is missing when there is none (exit 2), builds when a source is newer
 * than its last build, runs a command that calls the kernel through FFM without any JVM
 * warning, records, assembles, uses and discards the JVM's AOT cache, and runs the commands that
 * run a stack with C2 alone.
 */
@Timeout(120)
class LauncherKernelTest {
    private static final Path REPO = Path.of(System.getProperty("user.dir")).toAbsolutePath().getParent();
    private static final Duration RUN = Duration.ofSeconds(60);
    /** What the script runs besides bash builtins (no java, no mvn). */
    private static final List<String> TOOLS = List.of("bash", "sed", "readlink", "dirname", "find", "flock",
            "mktemp", "date", "touch", "rm", "mkdir", "mv");

    @TempDir
    Path dir;
    private Path root;
    private Path bin;
    private Path oldJdk;
    private Path jdk24;
    private Path oldOnly;
    private Path jvms;
    private final Path newJdk = Path.of(System.getProperty("java.home"));
    private CliLab lab;

    @BeforeEach
    void layout() throws IOException {
        assertTrue(Files.isRegularFile(REPO.resolve("stack")), "the checkout's root is " + REPO);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        root = Files.createDirectory(dir.resolve("checkout"));
        Files.copy(REPO.resolve("stack"), root.resolve("stack"));
        Files.createSymbolicLink(root.resolve("stack-tools"), REPO.resolve("stack-tools"));
        Files.createFile(root.resolve(".stack-build-stamp"));
        bin = Files.createDirectory(dir.resolve("bin"));
        for (String tool : TOOLS) {
            Path found = null;
            for (String d : List.of("/usr/bin", "/bin", "/usr/sbin", "/sbin")) {
                if (Files.isExecutable(Path.of(d, tool))) {
                    found = Path.of(d, tool);
                    break;
                }
            }
            assertTrue(found != null, tool + " is installed");
            Files.createSymbolicLink(bin.resolve(tool), found);
        }
        // a JDK 17 as the machine's default one looks, and a JDK 24, one below the floor: a release
        // file and a java that says its version
        oldJdk = fakeJdk("jdk-17", "17.0.9", "2023-10-17");
        jdk24 = fakeJdk("jdk-24", "24.0.2", "2025-07-15");
        oldOnly = Files.createDirectories(dir.resolve("jvm-old"));
        Files.createSymbolicLink(oldOnly.resolve("java-17"), oldJdk);
        Files.createSymbolicLink(oldOnly.resolve("jdk-24"), jdk24);
        jvms = Files.createDirectories(dir.resolve("jvm"));
        Files.createSymbolicLink(jvms.resolve("java-17"), oldJdk);
        Files.createSymbolicLink(jvms.resolve("jdk-24"), jdk24);
        Files.createSymbolicLink(jvms.resolve("jdk-new"), newJdk);
    }

    /** A directory that looks like a JDK of that version: a release file, a java that says it. */
    private Path fakeJdk(String name, String version, String date) throws IOException {
        Path home = Files.createDirectories(dir.resolve(name));
        Files.writeString(home.resolve("release"), "JAVA_VERSION=\"" + version + "\"\n");
        Path java = Files.createDirectories(home.resolve("bin")).resolve("java");
        Files.writeString(java, "#!/bin/sh\necho 'openjdk version \"" + version + "\" " + date + "' >&2\nexit 1\n");
        Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
        return home;
    }

    @AfterEach
    void close() {
        if (lab != null) {
            lab.close();
        }
    }

    /** {@code env -i PATH=bin JAVA_HOME=javaHome FLOWSTACK_JVM_DIR=jvmDir bash checkout/stack args}. */
    private List<String> launcher(Path javaHome, Path jvmDir, String... args) {
        return launcherWith(List.of(), javaHome, jvmDir, args);
    }

    /** {@link #launcher} with more {@code NAME=VALUE} variables in the environment. */
    private List<String> launcherWith(List<String> env, Path javaHome, Path jvmDir, String... args) {
        List<String> cmd = new ArrayList<>(List.of("env", "-i", "PATH=" + bin, "HOME=" + dir,
                "JAVA_HOME=" + javaHome, "FLOWSTACK_JVM_DIR=" + jvmDir));
        cmd.addAll(env);
        cmd.addAll(List.of(bin.resolve("bash").toString(), root.resolve("stack").toString()));
        cmd.addAll(List.of(args));
        return cmd;
    }

    private static List<String> lines(String text) {
        return text.lines().filter(l -> !l.isBlank()).toList();
    }

    /** The JDKs below 25 it found, a JAVA_HOME 24 among them, are named in the one line. */
    @Test
    void withoutAJdk25ItSaysWhatIsMissingInOneLineAndExits2() {
        Result r = NamespaceLab.run(launcher(jdk24, oldOnly, "--help"), RUN, null);
        assertEquals(2, r.exit(), r::toString);
        assertEquals("", r.stdout(), r::toString);
        List<String> err = lines(r.stderr());
        assertEquals(1, err.size(), r::toString);
        String line = err.get(0);
        assertTrue(line.startsWith("stack: needs a JDK >= 25 (JAVA_HOME=" + jdk24 + " is 24, "), line);
        assertTrue(line.contains(oldJdk + " is 17") && line.contains(jdk24 + " is 24"), line);
        assertTrue(line.endsWith("install JDK 25 or newer (e.g. temurin-25-jdk) or set JAVA_HOME to it"), line);
    }

    /**
     * A JAVA_HOME 24 is passed over for the JDK 25 among the installed ones (and 24 is newer than
     * 17, so it is not taken for being the newest below the floor): the help runs, with no warning.
     */
    @Test
    void aJavaHome24IsPassedOverForAJdk25AndHelpPrintsNoWarning() {
        assertTrue(Runtime.version().feature() >= 25, "the test JVM is a JDK the launcher may take");
        for (Path javaHome : List.of(jdk24, oldJdk)) {
            Result r = NamespaceLab.run(launcher(javaHome, jvms, "--help"), RUN, null);
            assertEquals(0, r.exit(), r::toString);
            assertEquals("", r.stderr(), "nothing but the help: no JVM warning, no build");
            for (String command : List.of("demo", "endpoint", "bench", "stats", "ping", "replay", "rebalance")) {
                assertTrue(r.stdout().contains(command), command + " in " + r.stdout());
            }
        }
    }

    /** JAVA_HOME 25 is taken as it is, even with only older JDKs installed. */
    @Test
    void aJavaHome25IsTaken() {
        Result r = NamespaceLab.run(launcher(newJdk, oldOnly, "--help"), RUN, null);
        assertEquals(0, r.exit(), r::toString);
        assertEquals("", r.stderr(), r::toString);
        assertTrue(r.stdout().contains("endpoint"), r::toString);
    }

    @Test
    void aSourceNewerThanTheLastBuildIsBuiltFirst() throws IOException {
        Path stamp = root.resolve(".stack-build-stamp");
        Path source = Files.createDirectories(root.resolve("stack-new/src/main/java")).resolve("New.java");
        Files.writeString(source, "class New {}\n");
        Files.setLastModifiedTime(stamp, FileTime.from(Instant.now().minusSeconds(60)));
        // no mvn on PATH: the launcher says so when it decides to build, and only then
        Result r = NamespaceLab.run(launcher(newJdk, jvms, "--help"), RUN, null);
        assertEquals(2, r.exit(), r::toString);
        assertEquals(List.of("stack: Maven (mvn) is needed to build flowstack: install it (apt-get install maven)"),
                lines(r.stderr()));
        Files.setLastModifiedTime(stamp, FileTime.from(Instant.now().plusSeconds(1)));
        Result built = NamespaceLab.run(launcher(newJdk, jvms, "--help"), RUN, null);
        assertEquals(0, built.exit(), "the stamp is newer than every source: no build" + built);
    }

    /**
     * The JVM's AOT cache: a run with {@code FLOWSTACK_AOT=record} (the only way one is recorded)
     * leaves a training configuration named by its PID; the next command
     * assembles the cache from it, once, saying so on stderr; later JVMs open it (their own
     * {@code -Xlog:aot} says so), except with {@code FLOWSTACK_AOT=0}; a cache older than a jar
     * of the class path is removed, not used.
     */
    @Test
    void theAotCacheIsRecordedAssembledOpenedAndDiscardedWhenAJarIsNewer() throws IOException {
        Path aotDir = root.resolve(".stack-aot");
        Path cache = aotDir.resolve("flowstack.aot");
        Result rec = NamespaceLab.run(launcherWith(List.of("FLOWSTACK_AOT=record"), newJdk, jvms, "--version"), RUN, null);
        assertEquals(0, rec.exit(), rec::toString);
        assertTrue(rec.stdout().startsWith("flowstack "), rec::toString);
        List<Path> configs;
        try (var files = Files.list(aotDir)) {
            configs = files.filter(f -> f.getFileName().toString().matches("training\\.\\d+\\.config")).toList();
        }
        assertEquals(1, configs.size(), () -> "one training configuration: " + configs);
        assertFalse(Files.exists(cache), "not assembled yet");

        Result assemble = NamespaceLab.run(launcher(newJdk, jvms, "--version"), RUN, null);
        assertEquals(0, assemble.exit(), assemble::toString);
        assertEquals(List.of("stack: assembling the JVM's AOT cache from the training run (once)..."),
                lines(assemble.stderr()), assemble::toString);
        assertTrue(Files.size(cache) > 1_000_000, () -> "the cache: " + cache);
        assertFalse(Files.exists(configs.get(0)), "the configuration is consumed");

        String opened = "Opened AOT cache " + cache;
        List<String> logAot = List.of("FLOWSTACK_JAVA_OPTS=-Xlog:aot=info");
        Result used = NamespaceLab.run(launcherWith(logAot, newJdk, jvms, "--version"), RUN, null);
        assertEquals(0, used.exit(), used::toString);
        assertTrue(used.stdout().contains(opened), used::toString);
        Result off = NamespaceLab.run(launcherWith(List.of("FLOWSTACK_AOT=0", logAot.get(0)), newJdk, jvms, "--version"),
                RUN, null);
        assertEquals(0, off.exit(), off::toString);
        assertFalse(off.stdout().contains("AOT cache"), off::toString);

        Files.setLastModifiedTime(cache, FileTime.from(Instant.now().minusSeconds(24 * 3600 * 365L)));
        Result stale = NamespaceLab.run(launcherWith(logAot, newJdk, jvms, "--version"), RUN, null);
        assertEquals(0, stale.exit(), stale::toString);
        assertFalse(stale.stdout().contains(opened), stale::toString);
        assertFalse(Files.exists(cache), "a cache older than a jar is removed");
        assertEquals("", stale.stderr(), stale::toString);
    }

    /**
     * The commands that run a stack for seconds or more compile with C2 alone
     * ({@code -XX:-TieredCompilation}, docs/BENCHMARKS.md "C2 alone"); the short ones keep tiered
     * compilation; {@code FLOWSTACK_JAVA_OPTS} comes after the launcher's options and overrides
     * them. The JVM's own final flags say which ({@code -XX:+PrintFlagsFinal}).
     */
    @Test
    void theCommandsThatRunAStackCompileWithC2AloneAndTheShortOnesTiered() {
        for (String command : List.of("endpoint", "router", "demo", "bench", "scale")) {
            assertEquals("false", tieredCompilation(List.of(), command), command);
        }
        for (String command : List.of("stats", "route", "rebalance", "ping", "replay")) {
            assertEquals("true", tieredCompilation(List.of(), command), command);
        }
        assertEquals("true", tieredCompilation(List.of("-XX:+TieredCompilation"), "endpoint"), "overridden");
    }

    /**
     * An endpoint's periodic and idle code (the netisr package, every {@code tick}, Agrona's
     * collections and queues) compiles after a twentieth of C2's calls
     * ({@code -XX:CompileCommand=CompileThresholdScaling}, docs/BENCHMARKS.md "Periodic code
     * compiled early"), quietly; no other command gets it.
     */
    @Test
    void anEndpointCompilesItsPeriodicCodeEarly() {
        String endpoint = finalFlags(List.of(), "endpoint");
        for (String pattern : List.of("io.flowstack.core.netisr.*::*", "*::tick", "org.agrona.*::*")) {
            assertTrue(endpoint.contains("CompileThresholdScaling," + pattern + ",0.05"), () -> pattern + ": " + endpoint);
        }
        assertTrue(Pattern.compile("\\bccstrlist CompileCommand\\s+=\\s+quiet\\b").matcher(endpoint).find(), endpoint);
        for (String command : List.of("router", "bench", "stats")) {
            String flags = finalFlags(List.of(), command);
            assertFalse(flags.contains("CompileThresholdScaling,"), () -> command + ": " + flags);
        }
    }

    /** The JVM's final value of TieredCompilation for {@code ./stack COMMAND --help}. */
    private String tieredCompilation(List<String> javaOpts, String command) {
        String flags = finalFlags(javaOpts, command);
        Matcher m = Pattern.compile("\\bbool TieredCompilation\\s+=\\s+(true|false)\\b").matcher(flags);
        assertTrue(m.find(), () -> command + ": no TieredCompilation among the flags: " + flags);
        return m.group(1);
    }

    /** What {@code -XX:+PrintFlagsFinal} prints for {@code ./stack COMMAND --help}. */
    private String finalFlags(List<String> javaOpts, String command) {
        List<String> opts = new ArrayList<>(javaOpts);
        opts.add("-XX:+PrintFlagsFinal");
        Result r = NamespaceLab.run(launcherWith(List.of("FLOWSTACK_JAVA_OPTS=" + String.join(" ", opts)), newJdk,
                jvms, command, "--help"), RUN, null);
        assertEquals(0, r.exit(), r::toString);
        return r.stdout();
    }

    /**
     * A command that opens /dev/net/tun and asks for a TAP (FFM open and ioctl) as root without
     * CAP_NET_ADMIN, in a private namespace: the kernel refuses, and the one line saying so is all
     * that reaches the terminal (native access is enabled, so the JVM warns of nothing).
     */
    @Test
    void aCommandThatCallsTheKernelThroughFfmPrintsOnlyItsOwnLine() {
        lab = CliLab.start(false);
        String tap = "fl" + Long.toHexString(System.nanoTime() & 0xFFFFFFL);
        List<String> cmd = new ArrayList<>(List.of("setpriv", "--bounding-set=-net_admin,-net_raw",
                "--inh-caps=-net_admin,-net_raw"));
        cmd.addAll(launcher(newJdk, jvms, "endpoint", "--tap", tap, "--addr", CliLab.STACK_CIDR, "--cores", "1"));
        Result r = lab.exec(RUN, cmd.toArray(String[]::new));
        assertEquals(2, r.exit(), r::toString);
        List<String> err = lines(r.stderr());
        assertEquals(1, err.size(), "one line, no JVM warning: " + r);
        assertTrue(err.get(0).contains("TUNSETIFF: EPERM") && err.get(0).contains("CAP_NET_ADMIN"), err.get(0));
        assertFalse(lab.exec("ip", "link", "show", tap).exit() == 0, "no TAP was left behind");
    }
}
