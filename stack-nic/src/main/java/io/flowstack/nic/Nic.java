package io.flowstack.nic;

/**
 * A frame source and sink with one or more queue pairs (one RX/TX pair per netisr core).
 *
 * <p>Owned by: the thread that opened it (configuration and {@link #close()}); each
 * {@link NicQueue} is owned by exactly one netisr thread once the stack starts.
 */
public interface Nic extends AutoCloseable {

    /**
     * Device name, e.g. {@code flowtap0}.
     *
     * @return the name of the network interface
     */
    String name();

    /**
     * Number of RX/TX queue pairs; queue {@code i} is used by netisr core {@code i}.
     *
     * @return the queue pair count, at least 1
     */
    int queueCount();

    /**
     * Queue pair {@code index}, {@code 0 <= index < queueCount()}.
     *
     * @param index the queue number
     * @return the queue pair; the same object on every call
     */
    NicQueue queue(int index);

    /**
     * Layer-3 MTU of the link (1500 for Ethernet).
     *
     * @return the MTU in bytes, without the Ethernet header
     */
    int mtu();

    /**
     * Points the NIC's receive steering for flows of indirection-table bucket {@code bucket} at
     * queue {@code queue} (a NIC's RSS table; the multi-queue TAP's steering map), after the stack
     * moved the bucket to that queue's core. Control path only.
     *
     * @param bucket the indirection-table bucket
     * @param queue the queue (and core) its frames should now arrive on
     * @return false if this NIC has no such table (frames of the bucket then keep arriving where
     *     they did and hop)
     */
    default boolean steer(int bucket, int queue) {
        return false;
    }

    /**
     * The RSS key the NIC's receive steering hashes flows with, which the stack's own flow hash
     * must then use too (so a flow's frames arrive on its owner's queue); null if the NIC steers
     * by no key of ours (the stack then chooses one at random when it starts).
     *
     * @return the key, or null
     */
    default Toeplitz rssKey() {
        return null;
    }

    /** Closes every queue and releases the device (a non-persistent TAP disappears). */
    @Override
    void close();
}
