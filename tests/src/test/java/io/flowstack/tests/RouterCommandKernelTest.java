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
 */
@Timeout(240)
class RouterCommandKernelTest {
    private static final Duration RUN = Duration.ofSeconds(60);

    private CliLab lab;

    @AfterEach
    void close() {
        if (lab != null) {
            lab.close(); // kills what still runs, deletes the namespace and every device in it
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
