package io.flowstack.nic;

/**
 * A frame source and sink with one or more queue pairs (one RX/TX pair per netisr core).
 *
 * <p>Owned by: the thread that opened it (configuration and {@link #close()}); each
 * {@link NicQueue} is owned by exactly one netisr thread once the stack starts.
 */
public interface Nic extends AutoCloseable {

    /** Device name, e.g. {@code flowtap0}. */
    String name();

    /** Number of RX/TX queue pairs; queue {@code i} is used by netisr core {@code i}. */
    int queueCount();

    /** Queue pair {@code index}, {@code 0 <= index < queueCount()}. */
    NicQueue queue(int index);

    /** Layer-3 MTU of the link (1500 for Ethernet). */
    int mtu();

    /** Closes every queue and releases the device (a non-persistent TAP disappears). */
    @Override
    void close();
}
