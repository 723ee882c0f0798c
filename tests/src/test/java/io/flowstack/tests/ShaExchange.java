package io.flowstack.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.flowstack.core.socket.TcpConnection;
import io.flowstack.core.testing.Packets;
import io.flowstack.tests.NamespaceLab.Background;
import io.flowstack.tests.NamespaceLab.Result;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Bulk TCP both ways at once between the stack (client) and a kernel server, checked by SHA-256:
 * the kernel sends a file with {@code sendfile} while hashing everything it receives; the stack
 * sends a seeded pseudo-random stream while hashing everything it receives. Stateless.
 */
final class ShaExchange {
    /**
     * Kernel server: binds argv[3]:argv[1], accepts one connection, sends the file argv[2] while
     * hashing what it receives until EOF, then prints "bytes sha256".
     */
    static final String SERVER_PY = String.join("\n",
            "import hashlib, socket, sys, threading",
            "port, path, addr = int(sys.argv[1]), sys.argv[2], sys.argv[3]",
            "ls = socket.socket()",
            "ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)",
            "ls.bind((addr, port))",
            "ls.listen(1)",
            "print('listening', flush=True)",
            "ls.settimeout(60)",
            "c, _ = ls.accept()",
            "c.settimeout(60)",
            "h = hashlib.sha256()",
            "got = [0, None]",
            "def rx():",
            "    try:",
            "        while True:",
            "            b = c.recv(1 << 20)",
            "            if not b:",
            "                break",
            "            h.update(b)",
            "            got[0] += len(b)",
            "    except Exception as e:",
            "        got[1] = repr(e)",
            "t = threading.Thread(target=rx)",
            "t.start()",
            "with open(path, 'rb') as f:",
            "    c.sendfile(f)",
            "c.shutdown(socket.SHUT_WR)",
            "t.join()",
            "c.close()",
            "if got[1]:",
            "    sys.exit('receive failed: ' + got[1])",
            "print(got[0], h.hexdigest())");

    private ShaExchange() {
    }

    /** What one exchange moved, how long it took, and the core that owned the connection. */
    record Outcome(long received, double seconds, int core) {}

    /**
     * Runs the exchange: {@code prefix} is prepended to the server's command (e.g. {@code ip netns
     * exec B} for a host behind a router), which binds {@code serverIp}; {@code file} of
     * {@code fileBytes} bytes with SHA-256 {@code fileSha} is what the kernel sends, and the stack
     * sends {@code sendBytes}. Fails the test on any mismatch.
     */
    static Outcome run(StackLab lab, String serverIp, int port, Path file, long fileBytes, String fileSha,
                       long sendBytes, Duration timeout, String... prefix) throws Exception {
        String[] cmd = new String[prefix.length + 6];
        System.arraycopy(prefix, 0, cmd, 0, prefix.length);
        System.arraycopy(new String[] {"python3", "-u", "-c", SERVER_PY, Integer.toString(port), file.toString()},
                0, cmd, prefix.length, 6);
        String[] full = java.util.Arrays.copyOf(cmd, cmd.length + 1);
        full[cmd.length] = serverIp;
        ExecutorService pool = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "sha-exchange-writer");
            t.setDaemon(true);
            return t;
        });
        try (Background server = lab.spawn(timeout, null, full)) {
            lab.await("the kernel server to listen", () -> server.stdoutSoFar().contains("listening") || !server.alive(),
                    Duration.ofSeconds(20));
            long t0 = System.nanoTime();
            TcpConnection c = lab.stack().tcpConnect(Packets.ip(serverIp), port, 5, TimeUnit.SECONDS);
            try {
                c.readTimeout(60, TimeUnit.SECONDS);
                c.writeTimeout(60, TimeUnit.SECONDS);
                long seed = ThreadLocalRandom.current().nextLong();
                Future<String> sent = pool.submit(() -> {
                    SplittableRandom rnd = new SplittableRandom(seed);
                    MessageDigest md = sha256();
                    byte[] buf = new byte[64 * 1024];
                    for (long done = 0; done < sendBytes; ) {
                        int k = (int) Math.min(buf.length, sendBytes - done);
                        rnd.nextBytes(buf);
                        md.update(buf, 0, k);
                        c.write(buf, 0, k);
                        done += k;
                    }
                    c.shutdownOutput();
                    return HexFormat.of().formatHex(md.digest());
                });
                MessageDigest md = sha256();
                byte[] buf = new byte[256 * 1024];
                long received = 0;
                try {
                    for (int n; (n = c.read(buf, 0, buf.length)) > 0; ) {
                        md.update(buf, 0, n);
                        received += n;
                    }
                } catch (RuntimeException e) {
                    throw new AssertionError("stack read failed after " + received + " bytes\n" + lab.report(), e);
                }
                String sentSha = sent.get(timeout.toSeconds(), TimeUnit.SECONDS);
                double secs = (System.nanoTime() - t0) / 1e9;
                c.close();
                Result r = server.await();
                assertEquals(0, r.exit(), () -> r + "\n" + lab.report());
                long got = received;
                assertEquals(fileBytes, got, () -> "bytes the stack received\n" + lab.report());
                assertEquals(fileSha, HexFormat.of().formatHex(md.digest()), "SHA-256 of what the stack received");
                String last = r.stdout().strip().lines().reduce((a, b) -> b).orElse("");
                assertEquals(sendBytes + " " + sentSha, last, "bytes and SHA-256 of what the kernel received");
                lab.await("the client connection to finish", c::finished, Duration.ofSeconds(10));
                return new Outcome(received, secs, c.core());
            } catch (Throwable t) {
                c.abort(); // no half-finished transfer left behind
                throw t;
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private static MessageDigest sha256() {
        return KernelTcpCases.sha256();
    }
}
