package io.flowstack.nic;

import java.util.function.Consumer;

/**
 * What every {@link Nic} has alike: its name, its queue pairs, its MTU and a {@link #close()}
 * that releases the NIC once ({@link #release()}), however often it is called.
 *
 * <p>Owned by: the thread that opened the NIC (configuration and {@link #close()}); each queue
 * is owned by one netisr thread once the stack starts. Close only after the queue owners have
 * stopped.
 *
 * @param <Q> the NIC's queue type
 */
public abstract class AbstractNic<Q extends NicQueue> implements Nic {
    private final String name;
    /** The queue pairs, queue {@code i} for netisr core {@code i}. */
    protected final Q[] queues;
    private final int mtu;
    private boolean closed;

    /**
     * A NIC of the given queues.
     *
     * @param name the device's name (for messages and statistics)
     * @param queues the queue pairs, queue {@code i} for netisr core {@code i}
     * @param mtu the IPv4 MTU the device carries, in bytes
     */
    protected AbstractNic(String name, Q[] queues, int mtu) {
        this.name = name;
        this.queues = queues;
        this.mtu = mtu;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int queueCount() {
        return queues.length;
    }

    @Override
    public Q queue(int index) {
        return queues[index];
    }

    @Override
    public int mtu() {
        return mtu;
    }

    /** Releases the NIC the first time it is called ({@link #release()}); idempotent. */
    @Override
    public final void close() {
        if (closed) {
            return;
        }
        closed = true;
        release();
    }

    /**
     * Whether {@link #close()} was called.
     *
     * @return true once closed
     */
    public final boolean closed() {
        return closed;
    }

    /** Releases what the NIC holds; runs once, from the first {@link #close()}. */
    protected abstract void release();

    /**
     * Closes every one of {@code items} that is not null with {@code close}, in order, even if
     * one fails. Returns {@code failure} (when not null: the failure that made the caller clean
     * up), else the first close's failure, with the later failures suppressed in it; null if
     * nothing failed.
     *
     * @param <T> the type of the items
     * @param failure the failure that made the caller clean up, or null
     * @param items the items to close (null entries are skipped)
     * @param close how one item is closed
     * @return the failure to throw, or null if there is none
     */
    protected static <T> RuntimeException closeEach(RuntimeException failure, T[] items, Consumer<T> close) {
        for (T item : items) {
            if (item == null) {
                continue;
            }
            try {
                close.accept(item);
            } catch (RuntimeException e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        return failure;
    }
}
