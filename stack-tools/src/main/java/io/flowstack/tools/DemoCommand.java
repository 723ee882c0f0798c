package io.flowstack.tools;

import io.flowstack.core.FlowStack;
import io.flowstack.core.StackConfig;
import io.flowstack.core.netisr.Stat;
import io.flowstack.core.service.HttpService;
import io.flowstack.core.service.TcpEchoService;
import io.flowstack.core.service.UdpEchoService;
import io.flowstack.core.wire.Ethernet;
import io.flowstack.core.wire.Ipv4;
import io.flowstack.nic.TapNic;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code stack demo}: the whole stack against the Linux kernel in a private network namespace,
 * in a few seconds, leaving nothing behind.
 *
 * <p>It makes a namespace {@code fsdemo-XXXXXX} (IPv6 off, so no autoconfiguration noise), a
 * two-queue TAP {@code fsdXXXXXX} moved into it with 198.18.0.1/24 on the kernel side, and a
 * two-core stack on 198.18.0.2/24 serving UDP echo on port 7, TCP echo on port 7 and HTTP on
 * port 80. The kernel then pings it (plain and fragmented), does a UDP echo round trip, fetches
 * 10 MB over HTTP with curl (checking the body's SHA-256) and shows its neighbour entry.
 * Everything is removed on success, on failure and on Ctrl-C.
 */
@Command(
        name = "demo",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        header = "Shows the stack working against the Linux kernel, in a private network namespace.",
        description = {
            "Creates a network namespace fsdemo-XXXXXX (IPv6 disabled) holding a 2-queue TAP "
                    + "fsdXXXXXX with 198.18.0.1/24 on the kernel side, starts the stack on 198.18.0.2/24 "
                    + "with 2 cores serving udp-echo:7, echo:7 and http:80, then runs from the kernel side:",
            "  1. ping -c 5 -i 0.2 198.18.0.2",
            "  2. ping -c 3 -s 4000 198.18.0.2 (fragmented both ways)",
            "  3. a 1000-byte UDP echo round trip (python3), reply checked byte for byte",
            "  4. curl http://198.18.0.2/bytes/10000000 over TCP: status, size, throughput,",
            "     and the body's SHA-256 against the pattern of /bytes (byte i = i %% 251)",
            "  5. ip neigh: the kernel's ARP entry for the stack",
            "and prints a summary and the stack's per-core counters. Everything it creates is removed "
                    + "afterwards, also on failure and on Ctrl-C. Only 198.18.0.0/15 is used.",
            "",
            "Needs root (network namespaces and TAP devices), iproute2, iputils-ping, procps (sysctl), "
                    + "python3, curl and sha256sum (coreutils).",
            ""
        },
        footerHeading = "%nExamples:%n",
        footer = {
            "  sudo ./stack demo",
            "  ./stack demo        # as root",
            "",
            "Exit codes: 0 every step passed, 1 a step failed, 2 not root or a tool is missing."
        })
final class DemoCommand implements Callable<Integer> {
    static final String KERNEL_ADDR = "198.18.0.1";
    static final String STACK_ADDR = "198.18.0.2";
    static final int PREFIX = 24;
    static final int CORES = 2;
    static final int ECHO_PORT = 7;
    static final int UDP_PAYLOAD = 1000;
    static final int HTTP_PORT = 80;
    static final long HTTP_BYTES = 10_000_000;
    static final int STEPS = 5;
    private static final Duration SETUP_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration STEP_TIMEOUT = Duration.ofSeconds(20);

    /** The required tools: program, Debian package. */
    private static final String[][] TOOLS = {
        {"ip", "iproute2"}, {"ping", "iputils-ping"}, {"sysctl", "procps"}, {"python3", "python3"},
        {"curl", "curl"}, {"sha256sum", "coreutils"}
    };

    /**
     * UDP echo client, run inside the namespace: sends random bytes, waits up to 2 s for the
     * reply, checks that it comes from the server's address and port and is identical.
     */
    static final String UDP_CLIENT = """
            import os, socket, sys, time
            host, port, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
            payload = os.urandom(size)
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.settimeout(2.0)
            t0 = time.perf_counter()
            s.sendto(payload, (host, port))
            try:
                data, peer = s.recvfrom(65535)
            except socket.timeout:
                print("udp echo: no reply from %s:%d within 2 s" % (host, port))
                sys.exit(1)
            rtt = (time.perf_counter() - t0) * 1000.0
            if peer != (host, port):
                print("udp echo: reply from %s:%d, expected %s:%d" % (peer[0], peer[1], host, port))
                sys.exit(1)
            if data != payload:
                print("udp echo: reply of %d bytes differs from the %d bytes sent" % (len(data), size))
                sys.exit(1)
            print("udp echo: %d bytes from %s:%d, identical, rtt %.3f ms" % (len(data), peer[0], peer[1], rtt))
            """;

    @Spec
    CommandSpec spec;

    private final Exec exec = new Exec();
    private PrintWriter out;
    private Teardown teardown;

    /** One line of the summary. */
    record StepResult(String name, boolean ok, String detail) {
    }

    @Override
    public Integer call() {
        checkEnvironment();
        out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        String id = HexFormat.of().formatHex(randomBytes(3));
        String ns = "fsdemo-" + id;
        String tapName = "fsd" + id;
        int stackAddr = Ipv4.parse(STACK_ADDR);
        StackConfig config = StackConfig.builder()
                .cores(CORES)
                .address(stackAddr)
                .prefixLength(PREFIX)
                .mac(Macs.fromAddress(stackAddr))
                .build();
        String mac = Ethernet.macToString(config.mac);

        FlowStack[] stackRef = new FlowStack[1];
        teardown = new Teardown("demo", err,
                () -> {
                    exec.destroyRunning();
                    out.println();
                    out.println("flowstack demo: interrupted, removing the stack, the tap and namespace " + ns);
                    out.flush();
                },
                () -> {
                    out.println("flowstack demo: cleaned up" + (namespaceExists(ns) ? ", but namespace " + ns
                            + " is still there: ip netns del " + ns : ""));
                    out.flush();
                });
        List<StepResult> results = new ArrayList<>();
        try {
            out.println("flowstack demo: namespace " + ns + ", tap " + tapName + " (" + CORES + " queues)");
            out.println("  kernel side  " + KERNEL_ADDR + "/" + PREFIX + " in " + ns);
            out.println("  stack        " + STACK_ADDR + "/" + PREFIX + " mac " + mac + " cores " + CORES
                    + ", serving udp-echo:" + ECHO_PORT + " echo:" + ECHO_PORT + " http:" + HTTP_PORT);
            out.println();
            out.println("setup");
            setup("ip", "netns", "add", ns);
            teardown.add("delete namespace " + ns, () -> {
                Exec.Result r = exec.quiet(SETUP_TIMEOUT, "ip", "netns", "del", ns);
                if (!r.ok()) {
                    throw new IllegalStateException("ip netns del " + ns + ": " + r.status() + ": " + r.lastLine());
                }
            });
            // before the TAP arrives, so that it never gets IPv6 autoconfiguration (FRAME-IO §8.3)
            setup("ip", "netns", "exec", ns, "sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1");
            setup("ip", "netns", "exec", ns, "sysctl", "-q", "-w", "net.ipv6.conf.default.disable_ipv6=1");
            out.println("  $ (open TAP " + tapName + " with " + CORES + " queues in this namespace)");
            TapNic nic = TapNic.open(tapName, CORES, TapNic.Options.DEFAULT);
            teardown.add("close tap " + tapName, nic::close);
            setup("ip", "link", "set", tapName, "netns", ns);
            setup("ip", "-n", ns, "addr", "add", KERNEL_ADDR + "/" + PREFIX, "dev", tapName);
            setup("ip", "-n", ns, "link", "set", tapName, "up");
            setup("ip", "-n", ns, "link", "set", "lo", "up");
            out.println("  $ (start the stack: " + STACK_ADDR + "/" + PREFIX + ", " + CORES + " cores, udp-echo:"
                    + ECHO_PORT + " echo:" + ECHO_PORT + " http:" + HTTP_PORT + ")");
            FlowStack stack = FlowStack.start(config, nic);
            stackRef[0] = stack;
            teardown.add("stop the stack", stack::close);
            UdpEchoService echo = new UdpEchoService(stack, ECHO_PORT);
            teardown.add("stop udp-echo:" + ECHO_PORT, echo::close);
            TcpEchoService tcpEcho = new TcpEchoService(stack, ECHO_PORT);
            teardown.add("stop echo:" + ECHO_PORT, tcpEcho::close);
            HttpService http = new HttpService(stack, HTTP_PORT);
            teardown.add("stop http:" + HTTP_PORT, http::close);
            out.println();

            results.add(pingStep(1, ns, "ping 5 x 56 B", "5 echo requests of 56 bytes", stack,
                    "ping", "-c", "5", "-i", "0.2", STACK_ADDR));
            results.add(pingStep(2, ns, "ping 3 x 4000 B (fragmented)",
                    "3 echo requests of 4000 bytes, fragmented both ways", stack,
                    "ping", "-c", "3", "-s", "4000", STACK_ADDR));
            results.add(udpStep(3, ns));
            results.add(httpStep(4, ns, stack));
            results.add(neighbourStep(5, ns, tapName, mac));
        } catch (RuntimeException e) {
            teardown.parkIfSignalled(); // a signal during setup: the hook cleans up and reports
            teardown.close();
            if (e instanceof SetupFailed) {
                err.println("stack demo: setup failed: " + e.getMessage());
                err.flush();
                return Main.FAILURE;
            }
            throw e;
        }

        teardown.close();
        teardown.parkIfSignalled();
        boolean nsGone = !namespaceExists(ns);
        boolean allOk = results.stream().allMatch(StepResult::ok);

        out.println("summary");
        out.printf("  %-30s %-6s %s%n", "step", "result", "detail");
        for (StepResult r : results) {
            out.printf("  %-30s %-6s %s%n", r.name, r.ok ? "ok" : "FAILED", r.detail);
        }
        out.println();
        out.println("per-core counters of the stack (" + STACK_ADDR + "/" + PREFIX + ", " + CORES + " cores)");
        out.print(stackRef[0].countersReport());
        out.println();
        boolean clean = nsGone && teardown.failures() == 0;
        out.println("cleanup: stack stopped, tap " + tapName + " closed, namespace " + ns
                + (nsGone ? " deleted" : " NOT deleted (run: ip netns del " + ns + ")"));
        long passed = results.stream().filter(StepResult::ok).count();
        if (allOk && clean) {
            out.println("flowstack demo: ok, all " + results.size() + " steps passed");
            out.flush();
            return Main.OK;
        }
        out.flush();
        err.println("stack demo: " + (allOk ? "cleanup failed" : "FAILED: " + passed + " of " + results.size()
                + " steps passed"));
        err.flush();
        return Main.FAILURE;
    }

    /** Root check and required tools; a missing one is a usage/environment error (exit 2). */
    private static void checkEnvironment() {
        int euid = Privileges.effectiveUid();
        if (euid != 0) {
            throw new UserError("needs root (network namespaces and TAP devices need CAP_NET_ADMIN "
                    + "and CAP_SYS_ADMIN): run sudo ./stack demo, or run it as root");
        }
        for (String[] tool : TOOLS) {
            if (!Exec.onPath(tool[0])) {
                throw new UserError(tool[0] + " not found: install it (apt-get install " + tool[1] + ")");
            }
        }
    }

    /** Runs one setup command, echoing it; a failure aborts the demo. */
    private void setup(String... command) {
        out.println("  $ " + String.join(" ", command));
        out.flush();
        Exec.Result r = exec.quiet(SETUP_TIMEOUT, command);
        teardown.parkIfSignalled();
        if (!r.ok()) {
            throw new SetupFailed("'" + String.join(" ", command) + "' " + r.status()
                    + (r.lastLine().isEmpty() ? "" : ": " + r.lastLine()));
        }
    }

    /** Runs a step's command with live output under a header. */
    private Exec.Result step(int n, String header, String shownCommand, String... command) {
        out.println("[" + n + "/" + STEPS + "] " + header);
        out.println("$ " + shownCommand);
        out.flush();
        Exec.Result r = exec.run(STEP_TIMEOUT, line -> {
            if (!teardown.signalled()) {
                out.println("  " + line);
                out.flush();
            }
        }, command);
        teardown.parkIfSignalled();
        if (!r.ok()) {
            out.println("  (" + r.status() + ")");
        }
        out.println();
        out.flush();
        return r;
    }

    private StepResult pingStep(int n, String ns, String name, String header, FlowStack stack, String... ping) {
        long reassembledBefore = stack.total(Stat.FRAG_REASSEMBLED);
        long fragmentsBefore = stack.total(Stat.IP_FRAGMENTS_OUT);
        String[] command = concat(new String[] {"ip", "netns", "exec", ns}, ping);
        Exec.Result r = step(n, "ping from the kernel: " + header, String.join(" ", command), command);
        PingStats p = PingStats.parse(r.output());
        if (p == null) {
            return new StepResult(name, false, "no ping statistics (" + r.status() + ")");
        }
        boolean ok = r.ok() && p.transmitted() > 0 && p.received() == p.transmitted();
        StringBuilder d = new StringBuilder();
        d.append(p.received()).append('/').append(p.transmitted()).append(" replies, ")
                .append(p.lossPercent()).append(" loss");
        if (p.rttAvgMs() != null) {
            d.append(", rtt min/avg/max ").append(p.rttMinMs()).append('/').append(p.rttAvgMs()).append('/')
                    .append(p.rttMaxMs()).append(" ms");
        }
        long reassembled = stack.total(Stat.FRAG_REASSEMBLED) - reassembledBefore;
        long fragments = stack.total(Stat.IP_FRAGMENTS_OUT) - fragmentsBefore;
        if (reassembled > 0 || fragments > 0) {
            d.append("; stack reassembled ").append(reassembled).append(", sent ").append(fragments)
                    .append(" fragments");
        }
        return new StepResult(name, ok, d.toString());
    }

    private StepResult udpStep(int n, String ns) {
        String port = Integer.toString(ECHO_PORT);
        String size = Integer.toString(UDP_PAYLOAD);
        String[] command = {"ip", "netns", "exec", ns, "python3", "-c", UDP_CLIENT, STACK_ADDR, port, size};
        Exec.Result r = step(n, "UDP echo round trip: " + UDP_PAYLOAD + " bytes to " + STACK_ADDR + ":" + port,
                "ip netns exec " + ns + " python3 -c '<udp echo client>' " + STACK_ADDR + " " + port + " " + size,
                command);
        String name = "udp echo " + UDP_PAYLOAD + " B";
        if (!r.ok()) {
            return new StepResult(name, false, r.lastLine().isEmpty() ? r.status() : r.lastLine());
        }
        Matcher m = Pattern.compile("rtt ([0-9.]+) ms").matcher(r.lastLine());
        return new StepResult(name, true, "identical reply" + (m.find() ? ", rtt " + m.group(1) + " ms" : ""));
    }

    /**
     * curl of {@code /bytes/N} from the kernel side: the write-out (status, size, time, speed)
     * goes to stderr, the body through {@code sha256sum}; both come back merged.
     */
    private StepResult httpStep(int n, String ns, FlowStack stack) {
        String url = "http://" + STACK_ADDR + (HTTP_PORT == 80 ? "" : ":" + HTTP_PORT) + "/bytes/" + HTTP_BYTES;
        String script = "curl -sS --max-time 15 -w '%{stderr}curl: http %{http_code} size %{size_download} "
                + "time %{time_total} speed %{speed_download}\\n' " + url + " | sha256sum";
        String[] command = {"ip", "netns", "exec", ns, "sh", "-c", script};
        long retransmitsBefore = stack.total(Stat.TCP_RETRANSMITS);
        Exec.Result r = step(n, "HTTP over TCP: curl fetches " + HTTP_BYTES / 1_000_000 + " MB, body checked by SHA-256",
                "ip netns exec " + ns + " sh -c \"" + script + "\"", command);
        String name = "http GET " + HTTP_BYTES / 1_000_000 + " MB (curl)";
        String expected = patternSha256(HTTP_BYTES);
        HttpOutcome o = HttpOutcome.parse(r.output());
        if (o == null) {
            return new StepResult(name, false, "no curl write-out (" + r.status() + ")"
                    + (r.lastLine().isEmpty() ? "" : ": " + r.lastLine()));
        }
        boolean shaOk = expected.equals(o.sha256());
        boolean ok = r.ok() && o.status() == 200 && o.size() == HTTP_BYTES && shaOk;
        StringBuilder d = new StringBuilder();
        d.append("status ").append(o.status()).append(", ").append(o.size()).append(" B");
        d.append(shaOk ? ", sha256 ok" : ", sha256 " + (o.sha256() == null ? "missing" : "MISMATCH (got "
                + o.sha256().substring(0, Math.min(16, o.sha256().length())) + "..., expected "
                + expected.substring(0, 16) + "...)"));
        d.append(String.format(Locale.ROOT, ", %.1f MB/s (%.0f Mbit/s) in %.3f s", o.bytesPerSecond() / 1e6,
                o.bytesPerSecond() * 8 / 1e6, o.seconds()));
        long retransmits = stack.total(Stat.TCP_RETRANSMITS) - retransmitsBefore;
        if (retransmits > 0) {
            d.append("; ").append(retransmits).append(" retransmitted segments");
        }
        return new StepResult(name, ok, d.toString());
    }

    /** SHA-256 (hex) of the first {@code n} bytes of the /bytes pattern, byte i = (byte) (i % 251). */
    static String patternSha256(long n) {
        byte[] chunk = new byte[251 * 4096];
        for (int i = 0; i < chunk.length; i++) {
            chunk[i] = (byte) (i % 251);
        }
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (long left = n; left > 0; ) {
                int k = (int) Math.min(left, chunk.length);
                sha.update(chunk, 0, k); // chunk is a whole number of periods: the next one starts at phase 0
                left -= k;
            }
            return HexFormat.of().formatHex(sha.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** What the curl step printed: the write-out line and sha256sum's line. */
    record HttpOutcome(int status, long size, double seconds, double bytesPerSecond, String sha256) {
        private static final Pattern WRITE_OUT = Pattern.compile(
                "curl: http (\\d{3}) size (\\d+) time ([0-9.]+) speed ([0-9.]+)");
        private static final Pattern SHA = Pattern.compile("^([0-9a-f]{64})\\s+-$");

        /** Null if the write-out line is missing. */
        static HttpOutcome parse(List<String> lines) {
            Matcher w = null;
            String sha = null;
            for (String line : lines) {
                Matcher m = WRITE_OUT.matcher(line);
                if (m.find()) {
                    w = m;
                }
                Matcher h = SHA.matcher(line.strip());
                if (h.find()) {
                    sha = h.group(1);
                }
            }
            if (w == null) {
                return null;
            }
            return new HttpOutcome(Integer.parseInt(w.group(1)), Long.parseLong(w.group(2)),
                    Double.parseDouble(w.group(3)), Double.parseDouble(w.group(4)), sha);
        }
    }

    private StepResult neighbourStep(int n, String ns, String tapName, String mac) {
        String[] command = {"ip", "-n", ns, "neigh"};
        Exec.Result r = step(n, "the kernel's neighbour (ARP) entry for the stack", String.join(" ", command), command);
        String name = "kernel neighbour entry";
        for (String line : r.output()) {
            String[] f = line.trim().split("\\s+");
            if (f.length > 0 && f[0].equals(STACK_ADDR)) {
                String lladdr = null;
                for (int i = 0; i + 1 < f.length; i++) {
                    if (f[i].equals("lladdr")) {
                        lladdr = f[i + 1];
                    }
                }
                String state = f[f.length - 1];
                boolean ok = r.ok() && mac.equalsIgnoreCase(lladdr) && !state.equals("FAILED")
                        && !state.equals("INCOMPLETE");
                return new StepResult(name, ok, STACK_ADDR + " lladdr " + lladdr + " " + state
                        + (mac.equalsIgnoreCase(lladdr) ? "" : " (expected " + mac + ")"));
            }
        }
        return new StepResult(name, false, "no entry for " + STACK_ADDR + " on " + tapName + " (" + r.status() + ")");
    }

    private static boolean namespaceExists(String ns) {
        return Files.exists(Path.of("/run/netns", ns));
    }

    private static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        new SecureRandom().nextBytes(b);
        return b;
    }

    private static String[] concat(String[] a, String[] b) {
        String[] r = new String[a.length + b.length];
        System.arraycopy(a, 0, r, 0, a.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    /** A setup command failed; the message names the command, its status and its last output line. */
    static final class SetupFailed extends RuntimeException {
        private static final long serialVersionUID = 1L;

        SetupFailed(String message) {
            super(message);
        }
    }

    /**
     * The summary of iputils ping output: "5 packets transmitted, 5 received, 0% packet loss" and
     * "rtt min/avg/max/mdev = 0.046/0.078/0.112/0.023 ms" (the rtt line is missing when nothing came back).
     */
    record PingStats(int transmitted, int received, String lossPercent, String rttMinMs, String rttAvgMs,
                     String rttMaxMs) {
        private static final Pattern COUNTS = Pattern.compile(
                "(\\d+) packets transmitted, (\\d+) (?:packets )?received.*?([0-9.]+%) packet loss");
        private static final Pattern RTT = Pattern.compile(
                "(?:rtt|round-trip) min/avg/max(?:/mdev|/stddev)? = ([0-9.]+)/([0-9.]+)/([0-9.]+)");

        /** Parses ping's output lines; null if there is no statistics line. */
        static PingStats parse(List<String> lines) {
            Matcher counts = null;
            Matcher rtt = null;
            for (String line : lines) {
                Matcher c = COUNTS.matcher(line);
                if (c.find()) {
                    counts = c;
                }
                Matcher t = RTT.matcher(line);
                if (t.find()) {
                    rtt = t;
                }
            }
            if (counts == null) {
                return null;
            }
            return new PingStats(Integer.parseInt(counts.group(1)), Integer.parseInt(counts.group(2)),
                    counts.group(3),
                    rtt != null ? rtt.group(1) : null, rtt != null ? rtt.group(2) : null,
                    rtt != null ? rtt.group(3) : null);
        }
    }
}
