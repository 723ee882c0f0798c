package io.flowstack.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.tests.NamespaceLab.Result;
import io.flowstack.tools.stats.ControlServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue 12 point 1 against the kernel, {@code stack router} as a separate JVM in a
 * {@link CliLab} namespace (random names, addresses in 198.18.0.0/15, everything deleted
 * afterwards): what goes wrong while it sets up is one line on stderr and exit 2, and what it
 * had already made is undone. An interface that does not exist, named after a TAP the router
 * created, leaves no TAP behind; an instance name in use (a running endpoint's) is refused
 * before any device is made; {@code stack route} against that endpoint says it is not a router.
 * And a router between two TAPs moved into hosts' namespaces forwards and takes route changes.
 */
@Timeout(240)
class RouterCommandKernelTest {
    private static final Duration RUN = Duration.ofSeconds(60);

    private CliLab lab;
    private CliLab hostA;
    private CliLab hostB;

    @AfterEach
    void close() {
        try {
            if (lab != null) {
                lab.close(); // kills what still runs (the router: its TAPs go with it), deletes the namespace
            }
        } finally {
            try {
                if (hostA != null) {
                    hostA.close();
                }
            } finally {
                if (hostB != null) {
                    hostB.close();
                }
            }
        }
    }

    /** Exit 2, nothing on stdout, exactly one line on stderr starting with {@code command: } and holding every fragment. */
    private static void assertOneLine(Result r, String command, String... says) {
        assertFalse(r.timedOut(), r::toString);
        assertEquals(2, r.exit(), r::toString);
        assertEquals("", r.stdout(), r::toString);
        List<String> lines = r.stderr().lines().toList();
        assertEquals(1, lines.size(), () -> "one line on stderr: " + r);
        assertTrue(lines.get(0).startsWith(command + ": "), r::toString);
        for (String s : says) {
            assertTrue(lines.get(0).contains(s), () -> "'" + s + "' missing: " + r);
        }
    }

    private boolean linkExists(String name) {
        return lab.exec(RUN, "ip", "link", "show", name).exit() == 0;
    }

    /**
     * Two TAPs, each moved into a host's namespace once the router opened them (as {@code stack
     * demo} does): the hosts ping each other and the router's far address through it, a TTL of 1
     * is time exceeded from the router, {@code stack route} lists, removes (then the network is
     * unreachable, from the router) and adds routes, and SIGTERM stops it with its counters and
     * removes its control socket.
     */
    @Test
    void twoTapsMovedToHostsForwardAndTakeRouteChanges() {
        lab = CliLab.start(true);
        hostA = CliLab.start(true);
        hostB = CliLab.start(true);
        String id = lab.tap().substring(2);
        String ra = "ra" + id;
        String rb = "rb" + id;
        Path socket = ControlServer.socketFor(ra);
        lab.deleteOnClose(socket);
        CliLab.Stack router = lab.stack(Duration.ofSeconds(200), "router", "--if", "tap:" + ra + "=198.18.1.1/24",
                "--if", "tap:" + rb + "=198.18.2.1/24", "--cores", "2", "--no-pin",
                "--route", "198.18.9.0/24", "via", "198.18.2.2");
        router.awaitOutput("(Ctrl-C to stop)", Duration.ofSeconds(90));
        lab.execOk("ip", "link", "set", ra, "netns", hostA.namespace());
        lab.execOk("ip", "link", "set", rb, "netns", hostB.namespace());
        for (Object[] h : new Object[][] {{hostA, ra, "198.18.1.2/24", "198.18.1.1"}, {hostB, rb, "198.18.2.2/24", "198.18.2.1"}}) {
            CliLab host = (CliLab) h[0];
            host.execOk("ip", "addr", "add", (String) h[2], "dev", (String) h[1]);
            host.execOk("ip", "link", "set", (String) h[1], "up");
            host.execOk("ip", "route", "add", "198.18.0.0/15", "via", (String) h[3]);
        }

        hostA.execOk("ping", "-c", "3", "-i", "0.2", "-W", "5", "198.18.2.2");
        hostB.execOk("ping", "-c", "2", "-i", "0.2", "-W", "5", "198.18.1.1");
        Result ttl = hostA.exec(RUN, "ping", "-c", "1", "-W", "5", "-t", "1", "198.18.2.2");
        assertTrue(ttl.stdout().contains("From 198.18.1.1") && ttl.stdout().contains("Time to live exceeded"), ttl::toString);

        Result show = lab.stack(RUN, "route", "show", "--name", ra).await();
        assertEquals(0, show.exit(), show::toString);
        assertEquals(List.of("prefix         via         interface   kind",
                "198.18.1.0/24  -           " + ra + "  connected",
                "198.18.2.0/24  -           " + rb + "  connected",
                "198.18.9.0/24  198.18.2.2  " + rb + "  static"), show.stdout().lines().toList(), show::toString);
        Result del = lab.stack(RUN, "route", "del", "198.18.9.0/24", "--name", ra).await();
        assertEquals("deleted 198.18.9.0/24 via 198.18.2.2", del.stdout().strip(), del::toString);
        Result unreachable = hostA.exec(RUN, "ping", "-c", "1", "-W", "5", "198.18.9.9");
        assertTrue(unreachable.stdout().contains("From 198.18.1.1") && unreachable.stdout().contains("Destination Net "
                + "Unreachable"), unreachable::toString);
        Result add = lab.stack(RUN, "route", "add", "default", "via", "198.18.2.2", "--name", ra).await();
        assertEquals("added default via 198.18.2.2 on " + rb, add.stdout().strip(), add::toString);

        router.terminate();
        Result r = router.await();
        assertFalse(r.timedOut(), r::toString);
        assertEquals(143, r.exit(), () -> "SIGTERM: the JVM's exit status after its shutdown hook: " + r);
        assertTrue(r.stdout().contains("flowstack router: stopped; per-core counters:"), r::toString);
        assertTrue(r.stdout().lines().anyMatch(l -> l.startsWith("fwd_out ")), r::toString);
        assertTrue(r.stdout().lines().anyMatch(l -> l.startsWith("fwd_ttl_exceeded ")), r::toString);
        assertEquals("", r.stderr(), r::toString);
        assertFalse(Files.exists(socket), "the router removes its control socket");
    }

    @Test
    void aMissingInterfaceAfterATapItCreatedLeavesNothingBehind() {
        lab = CliLab.start(true);
        String id = lab.tap().substring(2);
        String tap = "fr" + id;
        String missing = "fn" + id;
        Path socket = ControlServer.socketFor(tap);
        lab.deleteOnClose(socket);
        Result r = lab.stack(RUN, "router", "--if", "tap:" + tap + "=198.18.1.1/24", "--if",
                "packet:" + missing + "=198.18.2.1/24", "--cores", "2", "--no-pin").await();
        assertOneLine(r, "stack router", "no interface " + missing + " in this network namespace (see ip link)");
        assertFalse(linkExists(tap), "the TAP the router created is gone with it");
        assertFalse(Files.exists(socket), "no control socket");
    }

    @Test
    void anInstanceNameInUseIsRefusedBeforeAnyDeviceAndAnEndpointIsNoRouter() {
        lab = CliLab.start(true);
        CliLab.Stack ep = lab.endpoint(Duration.ofSeconds(200));
        String tap = "fr" + lab.tap().substring(2);
        Result r = lab.stack(RUN, "router", "--if", "tap:" + tap + "=198.18.1.1/24", "--if",
                "tap:fs" + lab.tap().substring(2) + "=198.18.2.1/24", "--cores", "1", "--name", lab.tap()).await();
        assertOneLine(r, "stack router", "another running instance answers on " + ControlServer.socketFor(lab.tap()),
                "another --name");
        assertFalse(linkExists(tap), "no TAP made");

        Result show = lab.stack(RUN, "route", "show", "--name", lab.tap()).await();
        assertEquals(1, show.exit(), show::toString);
        assertEquals("stack route show: the instance at " + ControlServer.socketFor(lab.tap()) + " answered: not a router",
                show.stderr().strip(), show::toString);
        Result add = lab.stack(RUN, "route", "add", "198.18.9.0/24", "via", "198.18.0.1", "--name", lab.tap()).await();
        assertEquals(1, add.exit(), add::toString);
        assertTrue(add.stderr().strip().endsWith("answered: not a router"), add::toString);

        ep.terminate();
        Result e = ep.await();
        assertEquals(143, e.exit(), e::toString);
        assertTrue(e.stdout().contains("flowstack endpoint: stopped"), e::toString);
    }
}
