package io.flowstack.nic;

/**
 * A NIC on a kernel device whose receive steering may follow the stack's bucket moves: the
 * {@link SteeringTable} of the multi-queue TAP and of AF_PACKET's fanout, or none (then
 * {@link #steeringProblem()} may say why).
 *
 * <p>Owned by: the thread that opened the NIC, as {@link AbstractNic}.
 *
 * @param <Q> the NIC's queue type
 */
public abstract class SteeredNic<Q extends NicQueue> extends AbstractNic<Q> {
    /** The steering table, or null without one. */
    protected final SteeringTable steering;
    private final String steeringProblem;
    private final Toeplitz rssKey;

    /**
     * A NIC whose kernel side may steer frames with the stack's flow hash.
     *
     * @param name the device's name
     * @param queues the queue pairs, queue {@code i} for netisr core {@code i}
     * @param mtu the IPv4 MTU the device carries, in bytes
     * @param steering the steering table, or null without one
     * @param steeringProblem why steering is off although asked for, or null
     * @param rssKey the key the steering hashes with (kept with steering off too, so the stack's
     *     hash is the one asked for)
     */
    protected SteeredNic(String name, Q[] queues, int mtu, SteeringTable steering, String steeringProblem,
                         Toeplitz rssKey) {
        super(name, queues, mtu);
        this.steering = steering;
        this.steeringProblem = steeringProblem;
        this.rssKey = rssKey;
    }

    @Override
    public Toeplitz rssKey() {
        return rssKey;
    }

    /**
     * Whether the kernel steers frames to the queue of the core that owns their flow with a
     * table that follows the stack's bucket moves ({@link SteeringTable}); false without one
     * (a single queue, steering off, another fanout mode) or when the kernel refused the program
     * ({@link #steeringProblem()}).
     *
     * @return true if a steering table is attached
     */
    public boolean steering() {
        return steering != null;
    }

    /**
     * Why steering is off although asked for, or null.
     *
     * @return the kernel's reason, or null if steering is on or was not asked for
     */
    public String steeringProblem() {
        return steeringProblem;
    }

    @Override
    public boolean steer(int bucket, int queue) {
        return SteeringTable.steer(steering, bucket, queue);
    }
}
