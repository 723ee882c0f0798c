package io.flowstack.tools.bench;

import io.flowstack.tools.Exec;
import io.flowstack.core.FlowStack;
import io.flowstack.core.config.StackConfig;
import io.flowstack.nic.Nic;
import io.flowstack.nic.TapNic;
import io.flowstack.nic.packet.PacketNic;
import io.flowstack.tools.Teardown;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The two topologies of {@code bench --compare}, built for one run and named after it
 * ({@code fscmp-PID-ID-*} namespaces, {@code fcID*} links; PID this process's, ID six random hex
 * digits):
 * <ul>
 *   <li>client namespace {@code fscmp-PID-ID-c} (IPv6 off): the kernel side of the stack's device
 *       ({@value #KERNEL_SIDE_IP}/24) and one end of a veth pair ({@value #CLIENT_VETH_IP}/24),
 *       where every bench client runs;</li>
 *   <li>the stack ({@value #STACK_IP}/24) in this process, behind a TAP {@code fcIDt} moved into
 *       the client namespace, or with {@code packet} on AF_PACKET over a veth pair whose stack end
 *       {@code fcIDp} stays in the root namespace (no IPv4 address, IPv6 off before it comes up,
 *       promiscuous through the stack's socket: the root kernel discards its frames) and whose
 *       kernel end {@code fcIDq} is in the client namespace with its default offloads
 *       (partial checksums and super-frames, which the stack takes, docs/AF_PACKET.md); the bench server
 *       (callback or blocking API) on it;</li>
 *   <li>server namespace {@code fscmp-PID-ID-k} (IPv6 off): the other end of the veth pair
 *       ({@value #KERNEL_SERVER_IP}/24) and the kernel's bench server, a JVM of its own.</li>
 * </ul>
 * Every step registers its undo with the {@link Teardown} as soon as it is done, so a failure or
 * Ctrl-C at any point removes exactly what exists; {@link #removeStale} removes the namespaces
 * of a run whose process is gone (killed with SIGKILL), and with them its links. Addresses:
 * 198.18.0.0/15 only.
 *
 * <p>Owned by: the compare's thread.
 */
final class CompareLab {
    static final String STACK_IP = "198.18.0.2";
    static final String KERNEL_SIDE_IP = "198.18.0.1";
    static final String CLIENT_VETH_IP = "198.19.0.1";
    static final String KERNEL_SERVER_IP = "198.19.0.2";
    static final int PREFIX = 24;
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(15);
    private static final Duration SERVER_START = Duration.ofSeconds(30);
    private static final String SERVER_READY = "flowstack bench server:";
    private static final Pattern OURS = Pattern.compile("fscmp-(\\d+)-[0-9a-f]{6}-[ck]");

    private final String id;
    private final boolean packet;
    private final TapNic.Options tapOptions;
    private final CompareShell shell;
    private final CompareShell cleanupShell;
    private final Teardown teardown;
    private final PrintWriter log;

    /**
     * @param id           six hex digits naming this run's namespaces and links
     * @param packet       AF_PACKET over a veth instead of a TAP
     * @param tapOptions   how to open the TAP (offloads, or {@code --no-offload})
     * @param shell        runs the set-up commands (stopped by Ctrl-C)
     * @param cleanupShell runs the undo commands (also after Ctrl-C)
     * @param teardown     where every undo is registered
     * @param log          where each set-up step is told
     */
    CompareLab(String id, boolean packet, TapNic.Options tapOptions, CompareShell shell, CompareShell cleanupShell,
               Teardown teardown, PrintWriter log) {
        this.id = id;
        this.packet = packet;
        this.tapOptions = tapOptions;
        this.shell = shell;
        this.cleanupShell = cleanupShell;
        this.teardown = teardown;
        this.log = log;
    }

    /** The namespace of the clients. */
    String clientNs() {
        return "fscmp-" + ProcessHandle.current().pid() + "-" + id + "-c";
    }

    /** The namespace of the kernel's server. */
    String serverNs() {
        return "fscmp-" + ProcessHandle.current().pid() + "-" + id + "-k";
    }

    /** The stack's device: the TAP, or the stack's end of the packet veth (root namespace). */
    String stackDevice() {
        return "fc" + id + (packet ? "p" : "t");
    }

    private String kernelSideOfStack() {
        return packet ? "fc" + id + "q" : stackDevice();
    }

    /** Every namespace this run makes. */
    List<String> namespaces() {
        return List.of(clientNs(), serverNs());
    }

    /** Every link this run may leave in the root namespace. */
    List<String> rootLinks() {
        return List.of(stackDevice(), "fc" + id + "q", "fc" + id + "a", "fc" + id + "b");
    }

    /** "namespaces fscmp-PID-ID-c, fscmp-PID-ID-k; tap fcIDt; veth fcIDa/fcIDb". */
    String describe() {
        return "namespaces " + clientNs() + " (clients), " + serverNs() + " (kernel server); "
                + (packet ? "veth " + stackDevice() + "/" + kernelSideOfStack() + " (stack, AF_PACKET)"
                : "tap " + stackDevice() + " (stack)") + "; veth fc" + id + "a/fc" + id + "b (kernel)";
    }

    /**
     * Deletes the namespaces of earlier runs whose process no longer runs (killed before it could
     * clean up), after stopping the processes still in them (its clients and kernel server), which
     * deletes their links too; says so on {@code log}. Nothing else is touched.
     */
    static void removeStale(CompareShell shell, PrintWriter log) {
        Path dir = Path.of("/run/netns");
        if (!Files.isDirectory(dir)) {
            return;
        }
        List<String> stale = new ArrayList<>();
        try (Stream<Path> names = Files.list(dir)) {
            for (Path p : names.toList()) {
                Matcher m = OURS.matcher(p.getFileName().toString());
                if (m.matches() && ProcessHandle.of(Long.parseLong(m.group(1))).map(h -> !h.isAlive()).orElse(true)) {
                    stale.add(p.getFileName().toString());
                }
            }
        } catch (IOException | RuntimeException e) {
            return; // nothing to tidy that we can see
        }
        for (String ns : stale) {
            // its clients and kernel server outlived it: stop them, or the namespace lives on unnamed
            for (String pid : shell.run(COMMAND_TIMEOUT, "ip", "netns", "pids", ns).output()) {
                if (pid.strip().matches("\\d+")) {
                    ProcessHandle.of(Long.parseLong(pid.strip())).ifPresent(h -> Exec.destroyTree(h, Duration.ofSeconds(1)));
                }
            }
            CompareShell.Result r = shell.run(COMMAND_TIMEOUT, "ip", "netns", "del", ns);
            log.println("  removed namespace " + ns + " of a run that was killed" + (r.ok() ? "" : ": FAILED, " + r.why()));
        }
        log.flush();
    }

    /** Creates both namespaces and the kernel's veth pair. */
    void setUpNamespaces() {
        for (String ns : namespaces()) {
            // the undo first: a Ctrl-C that stops 'ip netns add' may leave the namespace made
            teardown.add("delete namespace " + ns, () -> deleteNamespace(ns));
            sh("ip", "netns", "add", ns);
            sh("ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1");
            sh("ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1");
            sh("ip", "-n", ns, "link", "set", "lo", "up");
        }
        String a = "fc" + id + "a";
        String b = "fc" + id + "b";
        sh("ip", "link", "add", a, "netns", clientNs(), "type", "veth", "peer", "name", b, "netns", serverNs());
        sh("ip", "-n", clientNs(), "addr", "add", CLIENT_VETH_IP + "/" + PREFIX, "dev", a);
        sh("ip", "-n", serverNs(), "addr", "add", KERNEL_SERVER_IP + "/" + PREFIX, "dev", b);
        sh("ip", "-n", clientNs(), "link", "set", a, "up");
        sh("ip", "-n", serverNs(), "link", "set", b, "up");
    }

    /**
     * Opens the stack's device, moves or configures its kernel side in the client namespace
     * and returns it (registered for closing). Offload warnings of AF_PACKET go to {@code warn}.
     */
    Nic openStackDevice(int cores, PrintWriter warn) {
        if (!packet) {
            TapNic nic = TapNic.open(stackDevice(), cores, tapOptions);
            teardown.add("close tap " + stackDevice(), nic::close);
            sh("ip", "link", "set", stackDevice(), "netns", clientNs());
            configureKernelSide();
            return nic;
        }
        String p = stackDevice();
        String q = kernelSideOfStack();
        teardown.add("delete veth " + p, () -> deleteRootLink(p)); // first, as the namespaces
        sh("ip", "link", "add", p, "type", "veth", "peer", "name", q);
        sh("ip", "link", "set", q, "netns", clientNs());
        sh("sysctl", "-qw", "net.ipv6.conf." + p + ".disable_ipv6=1"); // before it is up: no autoconfiguration
        sh("ip", "link", "set", p, "up");
        configureKernelSide();
        // the kernel's end keeps its default offloads (partial checksums, super-frames): the
        // stack takes them as a local kernel sends them (docs/AF_PACKET.md); --no-offload
        // opens the sockets without the virtio-net header
        PacketNic nic = PacketNic.open(p, cores, PacketNic.Options.DEFAULT.withPromiscuous(true)
                .withOffloads(tapOptions.offload()));
        teardown.add("close AF_PACKET on " + p, nic::close);
        for (String w : nic.offloadWarnings()) {
            warn.println("stack bench: warning: " + w);
        }
        warn.flush();
        return nic;
    }

    private void configureKernelSide() {
        String k = kernelSideOfStack();
        sh("ip", "-n", clientNs(), "addr", "add", KERNEL_SIDE_IP + "/" + PREFIX, "dev", k);
        sh("ip", "-n", clientNs(), "link", "set", k, "up");
    }

    /** Starts the stack on {@code nic} and its bench server on {@code port}; both registered for stopping. */
    BenchServer startStackServer(StackConfig config, Nic nic, boolean blocking, int port) {
        FlowStack stack = FlowStack.start(config, nic);
        teardown.add("stop the stack", stack::close);
        BenchServer server = BenchServer.start(new Net.Stack(stack, blocking), port);
        teardown.add("stop the stack's bench server", server::close);
        return server;
    }

    /**
     * Starts the kernel's bench server in the server namespace (at most {@code lifetime}) and
     * waits until it listens.
     */
    void startKernelServer(List<String> java, int port, Duration lifetime) {
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", serverNs()));
        cmd.addAll(java);
        cmd.addAll(List.of("bench", "--server", "--kernel", "--bind", KERNEL_SERVER_IP, "--port",
                Integer.toString(port), "--duration", lifetime.toSeconds() + "s"));
        CountDownLatch ready = new CountDownLatch(1);
        CompareShell.Child server = shell.start("kernel-server", line -> {
            if (line.startsWith(SERVER_READY)) {
                ready.countDown();
            }
        }, cmd.toArray(String[]::new));
        teardown.add("stop the kernel's bench server", server::stop);
        try {
            long deadline = System.nanoTime() + SERVER_START.toNanos();
            while (!ready.await(100, TimeUnit.MILLISECONDS)) {
                if (!server.alive() || System.nanoTime() - deadline > 0) {
                    List<String> l = server.lines();
                    throw new BenchException("the kernel's bench server in " + serverNs() + " did not start"
                            + (l.isEmpty() ? "" : ": " + l.get(l.size() - 1)));
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BenchException("interrupted while the kernel's bench server started");
        }
    }

    /** What is left of this run after the cleanup: namespaces and root-namespace links (empty: nothing). */
    List<String> leftovers() {
        List<String> left = new ArrayList<>();
        for (String ns : namespaces()) {
            if (Files.exists(Path.of("/run/netns", ns))) {
                left.add("namespace " + ns);
            }
        }
        for (String l : rootLinks()) {
            if (Files.exists(Path.of("/sys/class/net", l))) {
                left.add("link " + l);
            }
        }
        return left;
    }

    private void sh(String... command) {
        log.println("  $ " + String.join(" ", command));
        log.flush();
        CompareShell.Result r = shell.run(COMMAND_TIMEOUT, command);
        teardown.parkIfSignalled();
        if (!r.ok()) {
            throw new BenchException("set-up failed: '" + String.join(" ", command) + "' " + r.why());
        }
    }

    private void deleteNamespace(String ns) {
        if (!Files.exists(Path.of("/run/netns", ns))) {
            return;
        }
        CompareShell.Result r = cleanupShell.run(COMMAND_TIMEOUT, "ip", "netns", "del", ns);
        if (!r.ok()) {
            throw new IllegalStateException("ip netns del " + ns + ": " + r.why());
        }
    }

    private void deleteRootLink(String link) {
        if (!Files.exists(Path.of("/sys/class/net", link))) {
            return; // gone with its peer's namespace
        }
        CompareShell.Result r = cleanupShell.run(COMMAND_TIMEOUT, "ip", "link", "del", link);
        if (!r.ok() && Files.exists(Path.of("/sys/class/net", link))) {
            throw new IllegalStateException("ip link del " + link + ": " + r.why());
        }
    }
}
