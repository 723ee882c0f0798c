package io.flowstack.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.tests.NamespaceLab.Result;
import io.flowstack.tools.stats.ControlServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The control socket's accept loop survives running out of file descriptors (issue 13 point 6):
 * a running {@code stack endpoint} gets a soft {@code RLIMIT_NOFILE} of its open descriptors
 * plus {@value #SPARE} ({@code prlimit --pid}), {@value #CLIENTS} clients connect to its control
 * socket at once. Those within the limit are accepted and wait for their request; for the rest
 * {@code accept} fails with EMFILE, which the endpoint reports once on stderr, and keeps serving.
 * Nothing throws. Once the clients are gone and the limit is back, {@code stack stats} is
 * answered, and ping still is. Before: the classes a request first needs could not be loaded
 * under EMFILE and stayed unloadable (the control socket was dead for good), and root, named by
 * its uid when the user lookup had no descriptor, was refused.
 */
@Timeout(180)
class ControlSocketEmfileKernelTest {
    static final int SPARE = 3;
    static final int CLIENTS = 12;

    /**
     * argv: socket path, count, seconds. Connects count clients at once, then reads what each is
     * told within the seconds (nothing: the server waits for its request), one line per client:
     * "said LINE" or "silent"; then closes them all.
     */
    private static final String HOLD_PY = String.join("\n",
            "import socket, sys, time",
            "socks = []",
            "for i in range(int(sys.argv[2])):",
            "    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)",
            "    s.connect(sys.argv[1])",
            "    socks.append(s)",
            "end = time.monotonic() + float(sys.argv[3])",
            "for s in socks:",
            "    s.settimeout(max(0.01, end - time.monotonic()))",
            "    try:",
            "        print('said ' + s.recv(4096).decode().strip())",
            "    except socket.timeout:",
            "        print('silent')",
            "for s in socks:",
            "    s.close()");

    private CliLab lab;

    @AfterEach
    void cleanUp() {
        if (lab != null) {
            lab.close();
        }
    }

    @Test
    void acceptKeepsServingThroughEmfile() throws IOException {
        lab = CliLab.start(true);
        Path socket = ControlServer.socketFor(lab.tap());
        CliLab.Stack ep = lab.endpoint(Duration.ofSeconds(150));
        long pid = javaPid(lab.tap());
        long tid = liveTid(pid);
        String original = CliLab.run(List.of("prlimit", "--pid", Long.toString(tid), "--nofile", "--raw",
                "--noheadings", "--output", "SOFT,HARD"), Duration.ofSeconds(10)).stdout().strip();
        String[] limits = original.split("\\s+");
        int open;
        try (Stream<Path> fds = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            open = (int) fds.count();
        }
        Result lowered = CliLab.run(List.of("prlimit", "--pid", Long.toString(tid),
                "--nofile=" + (open + SPARE) + ":" + limits[1]), Duration.ofSeconds(10));
        assertEquals(0, lowered.exit(), lowered::toString);
        try {
            Result held = CliLab.run(List.of("python3", "-c", HOLD_PY, socket.toString(), Integer.toString(CLIENTS),
                    "2"), Duration.ofSeconds(30));
            // accepted within the limit (waiting for their request), the rest in the listen backlog
            assertEquals(CLIENTS, held.stdout().lines().filter(l -> l.equals("silent")).count(), held::toString);
            ep.awaitStderr("(still serving)", Duration.ofSeconds(20));
        } finally {
            Result restored = CliLab.run(List.of("prlimit", "--pid", Long.toString(tid),
                    "--nofile=" + limits[0] + ":" + limits[1]), Duration.ofSeconds(10));
            assertEquals(0, restored.exit(), () -> restored + "\nthe endpoint: " + ep.stop());
        }
        assertTrue(ep.stderrSoFar().contains("Too many open files"), ep::stderrSoFar);
        assertTrue(!ep.stderrSoFar().contains("Exception"), ep::stderrSoFar);
        Result stats = lab.stack(Duration.ofSeconds(60), "stats", "--name", lab.tap()).await();
        assertEquals(0, stats.exit(), () -> "stats after EMFILE: " + stats + "\n" + ep.stderrSoFar());
        assertTrue(stats.stdout().contains("Counters"), stats::toString);
        Result ping = lab.exec(Duration.ofSeconds(20), "ping", "-n", "-c", "2", "-i", "0.2", "-W", "2",
                NamespaceLab.STACK_IP);
        assertEquals(0, ping.exit(), ping::toString);
        ep.stop();
    }

    /** The endpoint's JVM: the process whose command line runs the tools' Main on this TAP. */
    private static long javaPid(String tap) {
        Result r = CliLab.run(List.of("pgrep", "-f", "io.flowstack.tools.Main endpoint --tap " + tap + " "),
                Duration.ofSeconds(10));
        String[] pids = r.stdout().strip().split("\\s+");
        assertEquals(1, pids.length, () -> "one endpoint JVM: " + r);
        return Long.parseLong(pids[0]);
    }

    /**
     * A live thread of process {@code pid} to name to {@code prlimit} (limits are the process's):
     * netisr 0's thread. The process id itself names the launcher's first thread, which may have
     * ended (prlimit then fails with ESRCH).
     */
    private static long liveTid(long pid) throws IOException {
        try (Stream<Path> tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
            for (Path t : tasks.toList()) {
                if (Files.readString(t.resolve("comm")).strip().equals("netisr-0")) {
                    return Long.parseLong(t.getFileName().toString());
                }
            }
        }
        throw new AssertionError("no netisr-0 thread in process " + pid);
    }
}
