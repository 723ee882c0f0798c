package io.flowstack.services;

import io.flowstack.services.AbstractTcpService;
import io.flowstack.core.FlowStack;
import io.flowstack.core.socket.StackException;
import io.flowstack.core.socket.TcpConnection;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

/**
 * TCP character generator (RFC 864, "TCP Based Character Generator Service"): sends lines of
 * 72 printable ASCII characters, each ended by CR LF, until the client closes; input is read
 * and ignored.
 *
 * <p>The lines are RFC 864's "popular pattern": the 95 printable characters {@code ' '} (0x20)
 * to {@code '~'} (0x7E) form a ring; line k holds the 72 characters starting at character
 * {@code k mod 95}. So the output repeats every 95 lines (7030 bytes); it is written from a
 * precomputed buffer of whole cycles.
 *
 * <p>Owned by: the thread that creates it (lifecycle); the accept loop runs on the platform
 * thread {@code chargen-PORT-accept}; each connection has a writer virtual thread
 * {@code chargen-PORT-N} and a second one that reads and drops the input and notices the
 * client's close (end of stream or reset). The writer then stops at its next write and closes
 * gracefully; if it is still blocked 1 s after the client's FIN (the client's window stays
 * closed: nobody reads), the connection is reset. A peer that accepts nothing for
 * {@link #WRITE_TIMEOUT} is given up.
 */
public final class TcpChargenService extends AbstractTcpService {
    /** Characters per line, without CR LF. */
    public static final int LINE_CHARS = 72;
    /** Printable ASCII characters, 0x20 through 0x7E. */
    public static final int PRINTABLE = 95;
    /** Bytes in one full cycle of the pattern: 95 lines of 74 bytes. */
    public static final int CYCLE_BYTES = PRINTABLE * (LINE_CHARS + 2);
    /** How long one write may wait for the peer to open its window. */
    public static final Duration WRITE_TIMEOUT = Duration.ofSeconds(60);

    private static final long STOP_GRACE_NANOS = TimeUnit.SECONDS.toNanos(1);

    /** Four cycles (28120 bytes): each write is one whole number of cycles, so no offset to track. */
    private static final byte[] CYCLES = cycles(4);

    /**
     * Chargen on {@code port}.
     *
     * @param stack the started stack to listen on
     * @param port the TCP port, 1..65535
     * @throws IllegalArgumentException if {@code port} is outside 1..65535
     * @throws StackException if the port is in use or the stack is closed
     */
    public TcpChargenService(FlowStack stack, int port) {
        super(stack, port, "chargen");
        start();
    }

    /**
     * Line {@code k} of the pattern (0-based), without CR LF.
     *
     * @param k the line number; any value, the pattern repeats every 95 lines
     * @return the 72 printable ASCII characters of that line
     */
    public static String line(long k) {
        byte[] b = new byte[LINE_CHARS];
        int first = (int) Math.floorMod(k, (long) PRINTABLE);
        for (int j = 0; j < LINE_CHARS; j++) {
            b[j] = (byte) (' ' + (first + j) % PRINTABLE);
        }
        return new String(b, StandardCharsets.US_ASCII);
    }

    private static byte[] cycles(int n) {
        byte[] b = new byte[n * CYCLE_BYTES];
        int p = 0;
        for (int c = 0; c < n; c++) {
            for (int k = 0; k < PRINTABLE; k++) {
                for (int j = 0; j < LINE_CHARS; j++) {
                    b[p++] = (byte) (' ' + (k + j) % PRINTABLE);
                }
                b[p++] = '\r';
                b[p++] = '\n';
            }
        }
        return b;
    }

    @Override
    void serve(TcpConnection c) {
        c.writeTimeout(WRITE_TIMEOUT.toNanos(), TimeUnit.NANOSECONDS);
        c.readTimeout(1, TimeUnit.SECONDS);
        AtomicBoolean peerDone = new AtomicBoolean();
        AtomicBoolean writerDone = new AtomicBoolean();
        Thread reader = spawn(() -> {
            byte[] sink = new byte[4096];
            boolean eof = false;
            try {
                while (!writerDone.get()) {
                    try {
                        if (c.read(sink, 0, sink.length) < 0) {
                            eof = true; // the client closed
                            break;
                        }
                    } catch (StackException e) {
                        if (!socketTimeout(e)) {
                            break; // reset or gone
                        }
                    }
                }
            } finally {
                peerDone.set(true);
            }
            if (eof) {
                // the writer stops at its next write; if it is stuck on a window the client no
                // longer opens, nobody will read that data: reset
                long deadline = System.nanoTime() + STOP_GRACE_NANOS;
                while (!writerDone.get() && System.nanoTime() < deadline) {
                    LockSupport.parkNanos(10_000_000L);
                }
                if (!writerDone.get()) {
                    c.abort();
                }
            }
        });
        try {
            while (!closing() && !peerDone.get()) {
                c.write(CYCLES, 0, CYCLES.length);
            }
        } finally {
            writerDone.set(true);
            try {
                reader.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        c.close();
    }
}
