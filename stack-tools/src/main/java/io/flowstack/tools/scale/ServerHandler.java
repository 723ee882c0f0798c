package io.flowstack.tools.scale;

import io.flowstack.core.socket.TcpChannel;
import io.flowstack.core.socket.TcpHandler;
import java.lang.foreign.MemorySegment;

/**
 * The server side of the scaling benchmark, on the non-blocking API: {@link ScaleBench.Test#RR}
 * echoes every byte (as much as the send buffer takes; the rest stays unconsumed, so the window
 * closes), {@link ScaleBench.Test#CONN} answers one request with one response and closes (the
 * server closes first, like HTTP with {@code Connection: close}, so TIME_WAIT is on the server).
 *
 * <p>Owned by: no thread: it holds no state of its own (per-connection state lives in
 * {@link TcpChannel#attachment}, which only the connection's netisr touches), so one instance
 * serves the listener on every core.
 */
final class ServerHandler implements TcpHandler {
    private final ScaleBench.Test test;
    private final MemorySegment response;

    /** Request bytes received on one CONN connection. */
    private static final class Conn {
        int got;
        boolean answered;
    }

    ServerHandler(ScaleBench.Test test, MemorySegment response) {
        this.test = test;
        this.response = response;
    }

    @Override
    public void onOpen(TcpChannel ch) {
        ch.attachment = new Conn();
    }

    @Override
    public int onData(TcpChannel ch, MemorySegment data, long offset, int length) {
        if (test == ScaleBench.Test.RR) {
            return ch.write(data, offset, length); // echo; what does not fit is offered again
        }
        Conn c = (Conn) ch.attachment;
        c.got += length;
        if (!c.answered && c.got >= response.byteSize()) {
            c.answered = true;
            ch.write(response, 0, (int) response.byteSize());
            ch.close(); // FIN after the response
        }
        return length;
    }

    @Override
    public void onWritable(TcpChannel ch) {
        // RR: the unconsumed request bytes are offered again by onData
    }
}
