package io.flowstack.core.socket;

import java.lang.foreign.MemorySegment;

/**
 * The non-blocking TCP API: callbacks run on the netisr that owns the connection (the fast
 * path: no thread hop, no wake-up). A callback must not block; it may call the
 * {@link TcpChannel} methods. An exception thrown by a callback aborts that connection (counted
 * under {@code tcp_handler_errors}); it never reaches the netisr.
 */
public interface TcpHandler {
    /**
     * The connection is established (accepted, or a connect completed).
     *
     * @param ch the connection
     */
    default void onOpen(TcpChannel ch) {}

    /**
     * In-order bytes {@code data[offset, offset + length)}, valid only during the call.
     *
     * @param ch the connection
     * @param data the receive buffer's memory
     * @param offset where the bytes start in {@code data}
     * @param length the number of bytes, at least 1
     * @return how many bytes were consumed; unconsumed bytes stay in the receive buffer (the
     *     window closes accordingly) and are offered again after new data arrives or send space
     *     frees up
     */
    int onData(TcpChannel ch, MemorySegment data, long offset, int length);

    /**
     * Send-buffer space became free after a {@link TcpChannel#write} accepted less than asked.
     *
     * @param ch the connection
     */
    default void onWritable(TcpChannel ch) {}

    /**
     * The peer sent FIN: no more data will arrive.
     *
     * @param ch the connection
     */
    default void onPeerClosed(TcpChannel ch) {}

    /**
     * The connection is about to move to another core with its bucket of the indirection table
     * (rebalancing): runs on the old owner, the last callback there. {@link TcpChannel#core()}
     * still names the old core. A handler that keeps per-core state detaches the connection here.
     *
     * @param ch the connection
     */
    default void onMoveOut(TcpChannel ch) {}

    /**
     * The connection arrived on its new core: runs on the new owner before any other callback
     * there ({@link TcpChannel#core()} names the new core). Callbacks of one connection never run
     * concurrently: the move happens-before this call.
     *
     * @param ch the connection
     */
    default void onMoveIn(TcpChannel ch) {}

    /**
     * The connection is gone; {@code error} is null for an orderly close.
     *
     * @param ch the connection
     * @param error why it ended (e.g. a reset or timeout), or null
     */
    default void onClosed(TcpChannel ch, String error) {}
}
