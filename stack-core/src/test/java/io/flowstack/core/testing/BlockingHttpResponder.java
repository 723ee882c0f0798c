package io.flowstack.core.testing;

import io.flowstack.core.FlowStack;
import io.flowstack.core.socket.StackException;
import io.flowstack.core.socket.TcpConnection;
import io.flowstack.core.socket.TcpListener;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * A minimal HTTP/1.1 responder on the blocking API, for tests of that API's wake-ups (the bundled
 * {@code HttpService} runs on callbacks): an accept thread and a virtual thread per connection,
 * which reads request heads (up to their blank line) and answers each with a fixed 200 carrying a
 * short text body, keeping the connection open until the client closes it.
 *
 * <p>Owned by: the thread that creates it (lifecycle); the listener by the accept thread; each
 * connection by its virtual thread.
 */
public final class BlockingHttpResponder implements AutoCloseable {
    private static final byte[] RESPONSE = ("HTTP/1.1 200 OK\r\nServer: flowstack-test\r\nContent-Type: text/plain\r\n"
            + "Content-Length: 3\r\n\r\nok\n").getBytes(StandardCharsets.US_ASCII);

    private final TcpListener listener;
    private final Thread acceptor;
    private final Set<TcpConnection> open = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    /** Listens on {@code port} of {@code stack} and starts accepting. */
    public BlockingHttpResponder(FlowStack stack, int port) {
        listener = stack.tcpListen(port, 128);
        acceptor = Thread.ofPlatform().daemon().name("blocking-http-" + port + "-accept").start(this::accept);
    }

    private void accept() {
        while (!closed) {
            TcpConnection c;
            try {
                c = listener.accept(1, TimeUnit.SECONDS);
            } catch (StackException e) {
                return; // closed
            }
            if (c != null) {
                open.add(c);
                Thread.ofVirtual().name("blocking-http-conn").start(() -> serve(c));
            }
        }
    }

    private void serve(TcpConnection c) {
        byte[] in = new byte[16384];
        int have = 0;
        try {
            while (true) {
                int n = c.read(in, have, in.length - have);
                if (n < 0) {
                    break;
                }
                have += n;
                int start = 0;
                for (int end; (end = headEnd(in, start, have)) >= 0; start = end) {
                    c.write(RESPONSE, 0, RESPONSE.length);
                }
                System.arraycopy(in, start, in, 0, have - start);
                have -= start;
                if (have == in.length) {
                    break; // a head larger than the buffer: not this responder's business
                }
            }
        } catch (StackException e) {
            // reset or closed: the connection ends
        } finally {
            open.remove(c);
            c.close();
        }
    }

    /** Index after the CR LF CR LF that ends the head starting at {@code from}, or -1. */
    private static int headEnd(byte[] b, int from, int to) {
        for (int i = from; i + 3 < to; i++) {
            if (b[i] == '\r' && b[i + 1] == '\n' && b[i + 2] == '\r' && b[i + 3] == '\n') {
                return i + 4;
            }
        }
        return -1;
    }

    @Override
    public void close() {
        closed = true;
        listener.close();
        for (TcpConnection c : open) {
            c.abort();
        }
        try {
            acceptor.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
