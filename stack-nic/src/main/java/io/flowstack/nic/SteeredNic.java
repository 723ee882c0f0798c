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

    protected SteeredNic(String name, Q[] queues, int mtu, SteeringTable steering, String steeringProblem) {
        super(name, queues, mtu);
        this.steering = steering;
        this.steeringProblem = steeringProblem;
    }

    /**
     * Whether the kernel steers frames to the queue of the core that owns their flow with a
     * table that follows the stack's bucket moves ({@link SteeringTable}); false without one
     * (a single queue, steering off, another fanout mode) or when the kernel refused the program
     * ({@link #steeringProblem()}).
     */
    public boolean steering() {
        return steering != null;
    }

    /** Why steering is off although asked for, or null. */
    public String steeringProblem() {
        return steeringProblem;
    }

    @Override
    public boolean steer(int bucket, int queue) {
        return SteeringTable.steer(steering, bucket, queue);
    }
}
