package io.flowstack.nic;

import java.lang.foreign.Arena;

/**
 * A NIC that wraps another one queue by queue (impairment, capture): the same device name, MTU
 * and steering as the wrapped NIC (frames are steered before the wrapper sees them); closing it
 * releases the wrapper ({@link #releaseWrapper()}), then closes the wrapped NIC, then frees the
 * wrapper's off-heap memory.
 *
 * <p>Owned by: the thread that opened it, as {@link AbstractNic}.
 *
 * @param <Q> the wrapper's queue type
 */
public abstract class WrappingNic<Q extends NicQueue> extends AbstractNic<Q> {
    /** The wrapped NIC. */
    protected final Nic inner;
    /** The wrapper's off-heap memory (its queues' areas), freed last by {@link #close()}. */
    protected final Arena arena;

    /**
     * Refuses a NIC with offloads: a wrapper copies and holds frames of at most the MTU and knows
     * nothing of partial checksums or super-frames (open the TAP with
     * {@link TapNic.Options#NO_OFFLOAD}).
     *
     * @param inner the NIC to wrap
     * @param what the wrapper's name for the message
     * @throws IllegalArgumentException if a queue of {@code inner} has offloads
     */
    protected static void requireNoOffloads(Nic inner, String what) {
        for (int i = 0; i < inner.queueCount(); i++) {
            NicQueue q = inner.queue(i);
            if (q.txOffloads() != 0 || q.maxReceiveFrame() != 0) {
                throw new IllegalArgumentException(what + " needs a NIC without offloads: " + inner.name()
                        + " has them (open the TAP with --no-offload / TapNic.Options.NO_OFFLOAD)");
            }
        }
    }

    /**
     * A NIC that wraps {@code inner}, with its own queues over the inner ones.
     *
     * @param inner the wrapped NIC (its name and MTU are this one's)
     * @param queues the wrapper's queue pairs, queue {@code i} for netisr core {@code i}
     * @param arena the wrapper's off-heap memory, freed last on close
     */
    protected WrappingNic(Nic inner, Q[] queues, Arena arena) {
        super(inner.name(), queues, inner.mtu());
        this.inner = inner;
        this.arena = arena;
    }

    /**
     * The wrapped NIC.
     *
     * @return the NIC given at construction
     */
    public Nic inner() {
        return inner;
    }

    /** The wrapped NIC's steering (frames are steered before this wrapper sees them). */
    @Override
    public boolean steer(int bucket, int queue) {
        return inner.steer(bucket, queue);
    }

    /** The wrapped NIC's key (its steering hashes before this wrapper sees a frame). */
    @Override
    public Toeplitz rssKey() {
        return inner.rssKey();
    }

    @Override
    protected final void release() {
        try {
            releaseWrapper();
        } finally {
            try {
                inner.close();
            } finally {
                arena.close();
            }
        }
    }

    /** Stops what the wrapper runs before the wrapped NIC closes (nothing by default). */
    protected void releaseWrapper() {
    }
}
