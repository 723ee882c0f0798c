package io.flowstack.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.tests.NamespaceLab.Result;
import io.flowstack.tools.stats.ControlServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue 2 points 6, 8 and 9 through the command line a user types, not an in-process stack:
 * {@code stack endpoint --tap NAME --addr 198.18.0.2/24 --cores 2 --serve udp-echo:7} on a
 * multi-queue TAP in a private namespace. The kernel pings it and echoes 1, 1472 and 8000-byte
 * datagrams through socat (8000 is fragmented both ways); then SIGTERM, as init systems and
 * {@code kill} send it, stops the endpoint cleanly: exit 143, its per-core counters on stdout,
 * nothing on stderr, its control socket removed.
 */
@Timeout(240)
class EndpointCommandKernelTest {
    private CliLab lab;

    @AfterEach
    void close() {
        if (lab != null) {
            lab.close();
        }
    }

    @Test
    void udpEchoServedFromTheCommandLineAndSigtermStopsItWithPerCoreCounters() {
        lab = CliLab.start(true);
        Path socket = ControlServer.socketFor(lab.tap());
        CliLab.Stack ep = lab.endpoint(Duration.ofSeconds(200), "--serve", "udp-echo:7");
        lab.execOk("ping", "-c", "3", "-i", "0.2", "-W", "5", NamespaceLab.STACK_IP);
        for (int size : new int[] {1, 1472, 8000}) {
            byte[] payload = new byte[size];
            ThreadLocalRandom.current().nextBytes(payload);
            assertArrayEquals(payload, lab.udpExchange(NamespaceLab.STACK_IP, 7, payload),
                    "the " + size + "-byte datagram came back unchanged");
        }

        ep.terminate();
        Result e = ep.await();
        assertFalse(e.timedOut(), e::toString);
        assertEquals(143, e.exit(), () -> "SIGTERM: the JVM's exit status after its shutdown hook: " + e);
        String out = e.stdout();
        assertTrue(out.contains("flowstack endpoint: stopped; per-core counters:"), out);
        String header = out.lines().filter(l -> l.startsWith("counter")).findFirst().orElse("");
        assertTrue(header.contains("core0") && header.contains("core1"), "a column per core: " + header);
        long udpIn = out.lines().filter(l -> l.startsWith("udp_in ")).mapToLong(l -> {
            String[] f = l.trim().split("\\s+");
            return Long.parseLong(f[f.length - 1]);
        }).sum();
        assertEquals(3, udpIn, "the three datagrams, counted: " + out);
        assertTrue(out.contains("ip_fragments_out"), "the 8000-byte answer went out in fragments: " + out);
        assertEquals("", e.stderr(), e::toString);
        assertFalse(Files.exists(socket), "the endpoint removes its control socket");
    }

    /**
     * Issue 13 point 3: a client that connects as soon as the endpoint answers is never refused.
     * A loop in the namespace tries to connect every 50 ms from before the endpoint starts: a
     * SYN that reached a core before its listener would be answered with a RST (connection
     * refused); with receive held until the services listen, every attempt before the first
     * success times out, and none is refused.
     */
    @Test
    void aClientConnectingFromTheFirstAnswerIsNeverRefused() {
        lab = CliLab.start(true);
        String loop = String.join("\n",
                "import socket, sys, time",
                "refused = 0",
                "end = time.time() + 100",
                "while time.time() < end:",
                "    s = socket.socket()",
                "    s.settimeout(0.05)",
                "    try:",
                "        s.connect(('" + NamespaceLab.STACK_IP + "', 80))",
                "        print('connected refused=%d' % refused)",
                "        sys.exit(0)",
                "    except ConnectionRefusedError:",
                "        refused += 1",
                "        time.sleep(0.01)",
                "    except OSError:",
                "        time.sleep(0.01)",
                "    finally:",
                "        s.close()",
                "print('never connected refused=%d' % refused)",
                "sys.exit(1)");
        NamespaceLab.Background client = lab.spawn(Duration.ofSeconds(110), null, "python3", "-c", loop);
        CliLab.Stack ep = lab.endpoint(Duration.ofSeconds(200), "--serve", "http:80");
        Result r = client.await();
        assertEquals(0, r.exit(), r::toString);
        assertEquals("connected refused=0", r.stdout().trim(), "no SYN found a core without its listener");
        ep.terminate();
        String out = ep.await().stdout();
        // the default --warmup ran the http service before the device was read, and said so first
        int warm = out.indexOf("flowstack endpoint: warmed up in ");
        assertTrue(warm >= 0 && warm < out.indexOf("(Ctrl-C to stop)"), () -> "no warm-up line before the banner:\n" + out);
        assertTrue(out.matches("(?s).*warmed up in \\d+\\.\\d s \\([1-9][\\d,]* keep-alive requests, [1-9][\\d,]* "
                + "connections closed, .*"), () -> "the warm-up answered no request:\n" + out);
    }

    /**
     * The warm-up's compiled code survives the start of the endpoint: every service class, and
     * each of their nested classes, is initialized (so linked) before the warm-up, so none is
     * linked later, when the JVM would discard the code that class hierarchy analysis compiled
     * without it. The control socket links {@code MetricsService} after the warm-up, and its
     * overriding {@code busy} and its connection class used to discard the warm-up's HTTP path
     * (docs/BENCHMARKS.md, "The warm-up's code kept"). The JVM's own logs show it: the
     * initialization of each before the warm-up's line, and no compiled method marked for
     * deoptimization because of a service class after it.
     */
    @Test
    void theWarmupLinksEveryServiceClassBeforeItCompilesAnything() {
        lab = CliLab.start(true);
        CliLab.Stack ep = lab.endpoint(List.of("-Xlog:class+init=info,dependencies=info:stdout"),
                Duration.ofSeconds(200), "--serve", "http:80");
        ep.terminate();
        String out = ep.await().stdout();
        int warm = out.indexOf("flowstack endpoint: warmed up in ");
        assertTrue(warm >= 0, () -> "no warm-up line:\n" + NamespaceLab.abbreviate(out, 4000));
        for (String c : List.of("MetricsService", "MetricsService$Scrape", "HttpService", "TcpEchoService",
                "TcpChargenService", "TcpDiscardService", "UdpEchoService")) {
            int init = out.indexOf("Initializing 'io/flowstack/services/" + c + "'");
            assertTrue(init >= 0 && init < warm,
                    () -> c + " not initialized before the warm-up ran:\n" + NamespaceLab.abbreviate(out, 4000));
        }
        String after = out.substring(warm);
        assertFalse(after.contains("dependee = io.flowstack.services."),
                () -> "a service class linked after the warm-up discarded compiled code:\n"
                        + NamespaceLab.abbreviate(after, 4000));
    }
}
