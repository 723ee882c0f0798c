package io.flowstack.core.percore;

/**
 * Debug ownership check (DragonFly asserts that tcp_input runs on the socket's port; so do we).
 *
 * <p>Enabled by the system property {@code flowstack.ownership.check=true} (on in tests). When
 * disabled the check is a static final false branch that the JIT removes.
 * Owned by: the thread that creates it, until {@link #claim()} hands it to the running netisr.
 */
public final class Ownership {
    public static final boolean ENABLED = Boolean.getBoolean("flowstack.ownership.check");
    private static final java.util.concurrent.atomic.LongAdder VIOLATIONS =
            new java.util.concurrent.atomic.LongAdder();

    private final String what;
    private volatile Thread owner;

    public Ownership(String what) {
        this.what = what;
        this.owner = Thread.currentThread();
    }

    /** Makes the calling thread the owner (called once when a netisr thread starts). */
    public void claim() {
        owner = Thread.currentThread();
    }

    public Thread owner() {
        return owner;
    }

    /** Throws {@link OwnershipViolation} if the calling thread is not the owner (when enabled). */
    public void check() {
        if (ENABLED) {
            Thread t = Thread.currentThread();
            if (t != owner) {
                VIOLATIONS.increment();
                throw new OwnershipViolation(what + " is owned by " + owner.getName()
                        + " but was touched by " + t.getName());
            }
        }
    }

    /** Violations detected since the JVM started (any thread). */
    public static long violations() {
        return VIOLATIONS.sum();
    }

    /** Thrown when a thread touches protocol state it does not own. */
    public static final class OwnershipViolation extends IllegalStateException {
        public OwnershipViolation(String message) {
            super(message);
        }
    }
}
