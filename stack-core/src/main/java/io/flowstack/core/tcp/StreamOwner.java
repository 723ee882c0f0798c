package io.flowstack.core.tcp;

/**
 * The core that owns a connection, as its {@link TcpStream} reaches it: the netisr implements
 * it. It changes only when the connection's bucket moves (docs/REBALANCING.md).
 *
 * <p>Owned by: its netisr; {@link #postDoorbell} and {@link #releaseLater} are for any thread.
 */
public interface StreamOwner {
    /** The core's index. */
    int core();

    /** Asserts that the caller is the owner's thread (when the ownership check is enabled). */
    void checkOwner();

    /**
     * Any thread: posts a doorbell for connection {@code id} on the core's application ring and
     * wakes the core.
     *
     * @return false if the ring was full (the caller retries)
     */
    boolean postDoorbell(int id);

    /**
     * Any thread: asks the core to return {@code stream}'s rings to its pool once both sides are
     * done with them.
     *
     * @return false if the core's command queue was full
     */
    boolean releaseLater(TcpStream stream);
}
