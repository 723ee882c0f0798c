package io.flowstack.services;

import io.flowstack.core.FlowStack;
import io.flowstack.core.socket.StackException;
import io.flowstack.core.socket.TcpChannel;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * TCP character generator (RFC 864, "TCP Based Character Generator Service"): sends lines of
 * 72 printable ASCII characters, each ended by CR LF, until the client closes; input is consumed
 * and ignored.
 *
 * <p>The lines are RFC 864's "popular pattern": the 95 printable characters {@code ' '} (0x20)
 * to {@code '~'} (0x7E) form a ring; line k holds the 72 characters starting at character
 * {@code k mod 95}. So the output repeats every 95 lines (7030 bytes); it is written from one
 * precomputed off-heap buffer of whole cycles, from the connection's position in the cycle.
 *
 * <p>Owned by: the thread that creates it (lifecycle); each connection by the netisr that owns
 * it, where every callback runs: the send buffer is filled when the connection opens and again
 * on every {@code onWritable}. When the client closes its side (FIN), the service completes the
 * line it is in, then closes gracefully; if that line is not taken within 1 s of the client's FIN
 * (the client's window stays closed: nobody reads), the connection is reset. A peer that accepts
 * nothing for {@link #WRITE_TIMEOUT} is given up (reset).
 */
public final class TcpChargenService extends AbstractTcpService {
    /** Characters per line, without CR LF. */
    public static final int LINE_CHARS = 72;
    /** Printable ASCII characters, 0x20 through 0x7E. */
    public static final int PRINTABLE = 95;
    /** Bytes in one full cycle of the pattern: 95 lines of 74 bytes. */
    public static final int CYCLE_BYTES = PRINTABLE * (LINE_CHARS + 2);
    /** How long the service waits for the peer to take any data. */
    public static final Duration WRITE_TIMEOUT = Duration.ofSeconds(60);

    private static final int LINE_BYTES = LINE_CHARS + 2;
    private static final long STOP_GRACE_NANOS = TimeUnit.SECONDS.toNanos(1);
    /** Four cycles (28120 bytes), off-heap: a write may start at any phase and still be 3 cycles long. */
    private static final MemorySegment CYCLES = cycles(4);

    private final long writeNanos;

    /** A chargen connection: its position in the output, and whether the client is done. */
    private static final class Chargen extends Conn {
        long pos;
        boolean stopping;

        Chargen(TcpChannel ch) {
            super(ch);
        }
    }

    /**
     * Chargen on {@code port}.
     *
     * @param stack the started stack to listen on
     * @param port the TCP port, 1..65535
     * @throws IllegalArgumentException if {@code port} is outside 1..65535
     * @throws StackException if the port is in use or the stack is closed
     */
    public TcpChargenService(FlowStack stack, int port) {
        this.writeNanos = WRITE_TIMEOUT.toNanos(); // set before listening: callbacks start at once
        super(stack, port, "chargen", STOP_GRACE_NANOS / 4);
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

    private static MemorySegment cycles(int n) {
        MemorySegment b = Arena.global().allocate((long) n * CYCLE_BYTES);
        long p = 0;
        for (int c = 0; c < n; c++) {
            for (int k = 0; k < PRINTABLE; k++) {
                for (int j = 0; j < LINE_CHARS; j++) {
                    b.set(ValueLayout.JAVA_BYTE, p++, (byte) (' ' + (k + j) % PRINTABLE));
                }
                b.set(ValueLayout.JAVA_BYTE, p++, (byte) '\r');
                b.set(ValueLayout.JAVA_BYTE, p++, (byte) '\n');
            }
        }
        return b;
    }

    @Override
    Conn open(TcpChannel ch, Core c) {
        return new Chargen(ch);
    }

    @Override
    void started(Conn s, Core c) {
        fill((Chargen) s, c);
    }

    /**
     * Writes until the send buffer is full (then onWritable continues) or, once stopping, up to
     * the end of the current line.
     */
    private void fill(Chargen g, Core c) {
        long before = g.pos;
        while (true) {
            int phase = (int) (g.pos % CYCLE_BYTES);
            int want = (int) (CYCLES.byteSize() - phase);
            if (g.stopping) {
                long lineEnd = (g.pos + LINE_BYTES - 1) / LINE_BYTES * LINE_BYTES;
                want = (int) (lineEnd - g.pos);
                if (want == 0) {
                    finish(g); // whole lines, then FIN
                    return;
                }
            }
            int n = g.ch.write(CYCLES, phase, want);
            g.pos += n;
            if (n < want) {
                break; // onWritable continues
            }
        }
        if (!g.stopping && g.pos != before) {
            g.deadline = c.now + writeNanos; // the write timeout runs from the last progress
        }
    }

    @Override
    int data(Conn s, Core c, MemorySegment d, long off, int len) {
        return len; // RFC 864: input is ignored
    }

    @Override
    void writable(Conn s, Core c) {
        fill((Chargen) s, c);
    }

    @Override
    void peerClosed(Conn s, Core c) {
        Chargen g = (Chargen) s;
        g.stopping = true;
        g.deadline = c.now + STOP_GRACE_NANOS; // then reset: nobody reads
        fill(g, c);
    }

    @Override
    void expired(Conn s, Core c) {
        kill(s); // no progress for WRITE_TIMEOUT, or the last line not taken within the grace
    }
}
