package io.flowstack.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.flowstack.tools.stats.ControlServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Two Linux hosts on either side of {@code stack router} (issue 12 point 4), every device and
 * namespace this run's own:
 * <pre>
 *   host A (ns A) 198.18.1.2/24 --[A's link]-- router 198.18.1.1/24 | 198.18.2.1/24 --[B's link]-- host B (ns B) 198.18.2.2/24
 * </pre>
 * The router runs as the {@code stack} command in the namespace of a {@link CliLab}, with the
 * ownership check on. A's link is a TAP opened by the router and then moved into A's namespace
 * (as {@code stack demo} moves its TAP); B's link is a TAP moved likewise, or a veth pair whose
 * router end the router reads with AF_PACKET ({@link Link#PACKET}) or AF_XDP ({@link Link#XDP}: the
 * veth has one receive queue per core, and B's end sends with TX checksumming off, since AF_XDP
 * cannot flag a partial checksum, docs/AF_XDP.md). Each host routes everything
 * through the router. {@link #close()} stops the router and deletes the three namespaces (which
 * takes the devices with them), also after a failure.
 *
 * <p>Owned by: the test thread that started it.
 */
final class RouterLab implements AutoCloseable {
    static final String A = "198.18.1.2";
    static final String B = "198.18.2.2";
    static final String R_A = "198.18.1.1";
    static final String R_B = "198.18.2.1";
    static final Duration RUN = Duration.ofMinutes(5);

    /** What B's link is. */
    enum Link { TAP, PACKET, XDP }

    final CliLab r;
    final String nsA;
    final String nsB;
    final String devA;
    final String devB;
    final String name;
    private CliLab.Stack router;
    private final List<String> namespaces = new ArrayList<>();

    private RouterLab(CliLab r) {
        this.r = r;
        String hex = r.namespace().substring(r.namespace().lastIndexOf('-') + 1);
        this.nsA = r.namespace() + "a";
        this.nsB = r.namespace() + "b";
        this.devA = r.tap();
        this.devB = "fr" + hex;
        this.name = "rt" + hex;
    }

    /**
     * Builds the topology and starts the router with {@code cores} cores; B's link has MTU
     * {@code mtuB} on both ends.
     */
    static RouterLab start(int cores, Link link, int mtuB, String... extra) {
        CliLab r = CliLab.start(cores > 1);
        RouterLab lab = new RouterLab(r);
        try {
            lab.setUp(cores, link, mtuB, extra);
            return lab;
        } catch (Throwable t) {
            try {
                lab.close();
            } catch (Throwable s) {
                t.addSuppressed(s);
            }
            throw t;
        }
    }

    private void setUp(int cores, Link link, int mtuB, String... extra) {
        r.execOk("ip", "addr", "flush", "dev", devA); // the CliLab's TAP becomes A's link
        r.execOk("ip", "link", "set", devA, "down");
        for (String ns : List.of(nsA, nsB)) {
            host("ip", "netns", "add", ns);
            namespaces.add(ns);
            in(ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1");
            in(ns, "sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1");
            in(ns, "ip", "link", "set", "lo", "up");
        }
        String peerB = devB;
        String ifB;
        if (link == Link.TAP) {
            List<String> add = new ArrayList<>(List.of("ip", "tuntap", "add", "dev", devB, "mode", "tap"));
            if (cores > 1) {
                add.add("multi_queue");
            }
            r.execOk(add.toArray(String[]::new));
            r.execOk("ip", "link", "set", devB, "mtu", Integer.toString(mtuB));
            ifB = "tap:" + devB;
        } else {
            peerB = devB + "p";
            String q = Integer.toString(cores);
            r.execOk("ip", "link", "add", devB, "mtu", Integer.toString(mtuB), "numrxqueues", q, "numtxqueues", q,
                    "type", "veth", "peer", "name", peerB, "mtu", Integer.toString(mtuB), "numrxqueues", q,
                    "numtxqueues", q);
            r.execOk("ip", "link", "set", devB, "up");
            ifB = (link == Link.XDP ? "xdp:" : "packet:") + devB;
        }
        r.deleteOnClose(ControlServer.socketFor(name));
        List<String> args = new ArrayList<>(List.of("router", "--if", "tap:" + devA + "=" + R_A + "/24",
                "--if", ifB + "=" + R_B + "/24", "--cores", Integer.toString(cores), "--no-pin", "--name", name));
        args.addAll(List.of(extra));
        router = r.stack(List.of("-Dflowstack.ownership.check=true"), RUN, args.toArray(String[]::new));
        router.awaitOutput("(Ctrl-C to stop)", Duration.ofSeconds(90));
        // the router holds the devices open: now they move to their hosts (as stack demo moves its TAP)
        r.execOk("ip", "link", "set", devA, "netns", nsA);
        r.execOk("ip", "link", "set", peerB, "netns", nsB);
        hostSide(nsA, devA, A + "/24", R_A);
        hostSide(nsB, peerB, B + "/24", R_B);
        if (link == Link.XDP) {
            in(nsB, "ethtool", "-K", peerB, "tx", "off"); // full checksums: AF_XDP has no partial-checksum flag
        }
    }

    private void hostSide(String ns, String dev, String cidr, String gateway) {
        in(ns, "ip", "addr", "add", cidr, "dev", dev);
        in(ns, "ip", "link", "set", dev, "up");
        in(ns, "ip", "route", "add", "default", "via", gateway);
    }

    /** Runs {@code cmd} in namespace {@code ns}; fails the test unless it exits 0. */
    NamespaceLab.Result in(String ns, String... cmd) {
        NamespaceLab.Result res = inNs(ns, Duration.ofSeconds(30), cmd);
        assertEquals(0, res.exit(), () -> res + "\n" + report());
        return res;
    }

    /** Runs {@code cmd} in namespace {@code ns}, whatever its exit, killed after {@code timeout}. */
    NamespaceLab.Result inNs(String ns, Duration timeout, String... cmd) {
        List<String> c = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        c.addAll(List.of(cmd));
        return CliLab.run(c, timeout);
    }

    private static void host(String... cmd) {
        NamespaceLab.Result res = CliLab.run(List.of(cmd), Duration.ofSeconds(30));
        assertEquals(0, res.exit(), res::toString);
    }

    /** {@code stack stats --name NAME} (text), from the router's namespace. */
    String stats() {
        CliLab.Stack s = r.stack(Duration.ofSeconds(60), "stats", "--name", name);
        NamespaceLab.Result res = s.await();
        assertEquals(0, res.exit(), res::toString);
        return res.stdout();
    }

    /** {@code stack route ARGS} against this router. */
    NamespaceLab.Result route(String... args) {
        List<String> a = new ArrayList<>(List.of("route"));
        a.addAll(List.of(args));
        a.addAll(List.of("--name", name));
        return r.stack(Duration.ofSeconds(60), a.toArray(String[]::new)).await();
    }

    /** The value of counter {@code counter} in the total column of {@link #stats()}'s text, 0 if absent. */
    static long counter(String stats, String counter) {
        for (String line : stats.split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length >= 2 && f[0].equals(counter)) {
                return Long.parseLong(f[f.length - 1]);
            }
        }
        return 0;
    }

    String report() {
        return r.report() + ", ns " + nsA + ", " + nsB + (router != null ? "\nrouter stdout:\n" + router.stdoutSoFar()
                + "\nrouter stderr:\n" + router.stderrSoFar() : "");
    }

    /** Kills the router with SIGKILL (no clean-up of its own) and waits until it is gone. */
    void killRouter() {
        NamespaceLab.Result k = CliLab.run(List.of("kill", "-KILL", Long.toString(router.pid())), Duration.ofSeconds(10));
        assertEquals(0, k.exit(), k::toString);
        router.await();
        router = null;
    }

    /** Stops the router (its counters on stdout) and returns what it printed. */
    NamespaceLab.Result stopRouter() {
        NamespaceLab.Result res = router.stop();
        router = null;
        return res;
    }

    @Override
    public void close() {
        List<Throwable> failures = new ArrayList<>();
        if (router != null) {
            try {
                router.stop();
            } catch (Throwable t) {
                failures.add(t);
            }
        }
        for (String ns : namespaces) {
            NamespaceLab.Result res = CliLab.run(List.of("ip", "netns", "del", ns), Duration.ofSeconds(30));
            if (res.exit() != 0) {
                failures.add(new AssertionError("ip netns del " + ns + ": " + res));
            }
        }
        try {
            r.close();
        } catch (Throwable t) {
            failures.add(t);
        }
        if (!failures.isEmpty()) {
            AssertionError e = new AssertionError("router lab cleanup failed");
            failures.forEach(e::addSuppressed);
            throw e;
        }
    }
}
