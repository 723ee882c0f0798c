package io.flowstack.core.socket;

import io.flowstack.core.tcp.ByteRing;
import io.flowstack.core.tcp.TcpStream;
import io.flowstack.core.wire.Ipv4;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.util.concurrent.TimeUnit;

/**
 * An established (or establishing) TCP connection as the application sees it: blocking
 * read/write with timeouts, stream views, half-close, close and abort.
 *
 * <p>Used by one reading thread and one writing thread at a time (they may differ). All data
 * moves through the connection's SPSC rings; protocol state stays on the owning netisr.
 */
public final class TcpConnection extends TcpEnds implements AutoCloseable {
    private volatile long readTimeoutNanos = Long.MAX_VALUE;
    private volatile long writeTimeoutNanos = Long.MAX_VALUE;
    private long freedSinceDoorbell;
    private final InputStream in = new In();
    private final OutputStream out = new Out();

    /**
     * Stack internal: made by the stack for an accepted or connecting connection.
     *
     * @param s the connection's stream (its rings and flags)
     * @param localAddr our IPv4 address, as a big-endian int
     * @param localPort our port
     * @param remoteAddr the peer's IPv4 address
     * @param remotePort the peer's port
     */
    public TcpConnection(TcpStream s, int localAddr, int localPort, int remoteAddr, int remotePort) {
        super(s, localAddr, localPort, remoteAddr, remotePort);
    }

    /**
     * Stack internal: the connection's stream.
     *
     * @return the stream
     */
    public TcpStream stream() {
        return s;
    }

    /**
     * Read timeout for {@link #read} and the InputStream; 0 = wait forever.
     *
     * @param timeout the longest wait of one read, or 0 for none
     * @param unit the unit of {@code timeout}
     */
    public void readTimeout(long timeout, TimeUnit unit) {
        readTimeoutNanos = timeout == 0 ? Long.MAX_VALUE : unit.toNanos(timeout);
    }

    /**
     * Write timeout for {@link #write} and the OutputStream: the longest one call waits for
     * send-buffer space; 0 = wait forever.
     *
     * @param timeout the longest wait of one write, or 0 for none
     * @param unit the unit of {@code timeout}
     */
    public void writeTimeout(long timeout, TimeUnit unit) {
        writeTimeoutNanos = timeout == 0 ? Long.MAX_VALUE : unit.toNanos(timeout);
    }

    /**
     * Waits until the handshake completes (for connect). The outcome depends on the exchange
     * alone, not on when this thread runs: a connection whose handshake completed is returned
     * even if a reset or close followed before this thread looked, and its reads report that end.
     *
     * @param timeoutNanos the longest wait, in nanoseconds
     * @throws StackException if the connection is refused, reset or closed before the handshake
     *     completed, or times out (then it is aborted)
     */
    public void awaitEstablished(long timeoutNanos) {
        long deadline = System.nanoTime() + timeoutNanos;
        while (!s.established) {
            if (s.error != null || s.finished) {
                // The netisr sets established before error and finished: read after them, it
                // tells whether the end came after the handshake.
                if (s.established) {
                    return;
                }
                checkError();
                throw new StackException("connect to " + peer() + ": connection closed during the handshake");
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                s.abort = true;
                ringUntilAccepted();
                throw new StackException("connect to " + peer() + ": timed out");
            }
            int token = s.arm(false);
            if (s.established || s.error != null || s.finished) {
                s.disarm(false);
                continue;
            }
            if (s.park(false, Math.min(left, 50_000_000L), token) && (s.established || s.error != null || s.finished)) {
                s.reportIfLate(false, token);
            }
            s.disarm(false);
        }
    }

    private void checkError() {
        String e = s.error;
        if (e != null) {
            throw new StackException(peer() + ": " + e);
        }
    }

    private String peer() {
        return Ipv4.toString(remoteAddr) + ":" + remotePort;
    }

    /**
     * Reads up to {@code len} bytes.
     *
     * @param b the buffer
     * @param off where the bytes go in {@code b}
     * @param len the most bytes to read; 0 returns 0 at once
     * @return bytes read (> 0), or -1 at end of stream (the peer closed its side)
     * @throws StackException on reset, timeout or a closed stack
     */
    public int read(byte[] b, int off, int len) {
        if (len == 0) {
            return 0;
        }
        if (s.closed) {
            throw new StackException("read from " + peer() + ": the connection is closed");
        }
        long deadline = readTimeoutNanos == Long.MAX_VALUE ? Long.MAX_VALUE : System.nanoTime() + readTimeoutNanos;
        ByteRing r = s.recv;
        while (true) {
            long head = r.head();
            long tail = r.tail();
            if (tail > head) {
                int n = (int) Math.min(len, tail - head);
                r.read(head, b, off, n);
                r.head(head + n);
                freedSinceDoorbell += n;
                // tell the netisr about freed space so it can open the window (RFC 9293 3.8.6.2.2)
                if (freedSinceDoorbell >= Math.min(r.capacity() / 4, 65536) || head + n == tail) {
                    freedSinceDoorbell = 0;
                    ringUntilAccepted();
                }
                return n;
            }
            if (s.eof) {
                if (r.tail() > r.head()) {
                    continue;
                }
                return -1;
            }
            checkError();
            if (s.finished) {
                return -1;
            }
            long left = deadline == Long.MAX_VALUE ? 100_000_000L : deadline - System.nanoTime();
            if (left <= 0) {
                throw new StackException("read from " + peer() + ": timed out");
            }
            int token = s.arm(false);
            if (r.tail() > r.head() || s.eof || s.error != null || s.finished) {
                s.disarm(false);
                continue;
            }
            if (s.park(false, Math.min(left, 100_000_000L), token)
                    && (r.tail() > r.head() || s.eof || s.error != null || s.finished)) {
                s.reportIfLate(false, token);
            }
            s.disarm(false);
        }
    }

    /**
     * Writes all {@code len} bytes, blocking while the send buffer is full.
     *
     * @param b the bytes
     * @param off where they start in {@code b}
     * @param len the number of bytes
     * @throws StackException if the output is shut down, the connection is reset or closed, or the
     *     write timeout expires
     */
    public void write(byte[] b, int off, int len) {
        long deadline = writeTimeoutNanos == Long.MAX_VALUE ? Long.MAX_VALUE : System.nanoTime() + writeTimeoutNanos;
        ByteRing r = s.send;
        while (len > 0) {
            if (s.shutdownOutput || s.closed) {
                throw new StackException("write to " + peer() + ": output is shut down");
            }
            checkError();
            if (s.finished) {
                throw new StackException("write to " + peer() + ": connection closed");
            }
            long tail = r.tail();
            int space = (int) (r.capacity() - (tail - r.head()));
            if (space > 0) {
                int n = Math.min(space, len);
                r.write(tail, b, off, n);
                r.tail(tail + n);
                off += n;
                len -= n;
                ringUntilAccepted();
                continue;
            }
            long left = deadline == Long.MAX_VALUE ? 100_000_000L : deadline - System.nanoTime();
            if (left <= 0) {
                throw new StackException("write to " + peer() + ": timed out");
            }
            int token = s.arm(true);
            if (r.capacity() - (r.tail() - r.head()) > 0 || s.error != null || s.finished) {
                s.disarm(true);
                continue;
            }
            // woken at a threshold of free space (TcpStream.writeWakeSpace), not at every freed byte:
            // a park that times out with less free is not a lost wake-up
            if (s.park(true, Math.min(left, 100_000_000L), token) && s.writerWakeDue()) {
                s.reportIfLate(true, token);
            }
            s.disarm(true);
        }
    }

    private void ringUntilAccepted() {
        while (!s.ring()) {
            if (s.finished) {
                return;
            }
            Thread.onSpinWait();
        }
    }

    /** Sends FIN after the data already written (half-close). */
    public void shutdownOutput() {
        if (!s.shutdownOutput) {
            s.shutdownOutput = true;
            ringUntilAccepted();
        }
    }

    /**
     * Graceful close: FIN after pending data. If received data was left unread, the
     * connection is reset instead (RFC 1122 4.2.2.13, as Linux does).
     */
    @Override
    public void close() {
        if (s.closed) {
            return;
        }
        if (s.recv.tail() > s.recv.head() && !s.finished) {
            abort();
            return;
        }
        s.closed = true;
        ringUntilAccepted();
        releaseIfFinished();
    }

    /** Abortive close: RST now, unsent data discarded (RFC 9293 3.10.5 ABORT). */
    public void abort() {
        if (s.closed && s.abort) {
            return;
        }
        s.abort = true;
        s.closed = true;
        ringUntilAccepted();
        releaseIfFinished();
    }

    /**
     * The netisr returns the rings to its pool once the connection is done and the application
     * closed; if the netisr finished first it cannot see the close, so tell it (it ignores a
     * second return).
     */
    private void releaseIfFinished() {
        if (s.finished) {
            s.owner().releaseLater(s);
        }
    }

    /**
     * True once the connection is fully gone (closed, reset or timed out).
     *
     * @return true when no more data can move either way
     */
    public boolean finished() {
        return s.finished;
    }

    /**
     * The connection's data as an {@link InputStream}, reading with {@link #read}.
     *
     * @return the stream, the same on every call; a timeout is a {@link SocketTimeoutException},
     *     other failures {@link IOException}s; closing it closes the connection
     */
    public InputStream inputStream() {
        return in;
    }

    /**
     * The connection as an {@link OutputStream}, writing with {@link #write}.
     *
     * @return the stream, the same on every call; failures are {@link IOException}s; closing it
     *     shuts down the output (FIN), not the connection
     */
    public OutputStream outputStream() {
        return out;
    }

    @Override
    public String toString() {
        return "tcp " + Ipv4.toString(localAddr) + ":" + localPort + " <-> " + peer();
    }

    private final class In extends InputStream {
        private final byte[] one = new byte[1];

        @Override
        public int read() throws IOException {
            int n = read(one, 0, 1);
            return n < 0 ? -1 : one[0] & 0xFF;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            try {
                return TcpConnection.this.read(b, off, len);
            } catch (StackException e) {
                if (e.getMessage().endsWith("timed out")) {
                    throw new SocketTimeoutException(e.getMessage());
                }
                throw new IOException(e.getMessage(), e);
            }
        }

        @Override
        public int available() {
            return s.closed ? 0 : s.recv.size(); // after close the rings may serve another connection
        }

        @Override
        public void close() {
            TcpConnection.this.close();
        }
    }

    private final class Out extends OutputStream {
        private final byte[] one = new byte[1];

        @Override
        public void write(int b) throws IOException {
            one[0] = (byte) b;
            write(one, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            try {
                TcpConnection.this.write(b, off, len);
            } catch (StackException e) {
                throw new IOException(e.getMessage(), e);
            }
        }

        @Override
        public void close() {
            shutdownOutput();
        }
    }
}
