package io.flowstack.core.tcp;

import java.lang.foreign.MemorySegment;

/**
 * What TCP tells a connection of the callback API, on the netisr that owns it. The socket layer
 * implements it over the application's handler; TCP knows nothing of the application's types
 * (socket depends on tcp, not the reverse).
 *
 * <p>Owned by: the netisr that owns the connection; every method runs on that thread.
 */
public interface TcpUpcalls {
    /** The connection is established (RFC 9293 3.10.7.3 / 3.10.7.4 SYN-RECEIVED). */
    void onOpen();

    /**
     * In-order bytes are in the receive ring at {@code s[off, off + len)}.
     *
     * @return how many of them the application consumed (0..len)
     */
    int onData(MemorySegment s, long off, int len);

    /** The peer's FIN, after every byte before it was consumed. */
    void onPeerClosed();

    /** Acknowledged data freed send-ring space. */
    void onSendSpace();

    /** The connection is over; {@code error} is null after a clean close. */
    void onClosed(String error);

    /** The connection is about to move to another core with its bucket. */
    void onMoveOut();

    /** The connection arrived on its new core; {@code kick} asks the new owner for output. */
    void onMoveIn(TcpStream.Kick kick);

    /** Makes the upcalls of a new callback-API connection (a handler's listener, or a connect). */
    interface Binder {
        /** The upcalls of the connection {@code localAddr:localPort} to {@code remoteAddr:remotePort}. */
        TcpUpcalls bind(TcpStream stream, TcpStream.Kick kick, int localAddr, int localPort, int remoteAddr,
                        int remotePort);
    }
}
