package io.flowstack.core.tcp;

/**
 * A {@link StreamOwner} for tests that drive one {@link TcpStream} by hand, playing the netisr
 * themselves: it accepts every doorbell and release and counts the doorbells.
 *
 * <p>Owned by: the test; {@link #doorbells} is written by the application thread that rings.
 */
public final class CountingOwner implements StreamOwner {
    private volatile int doorbells;

    /** The doorbells posted so far. */
    public int doorbells() {
        return doorbells;
    }

    @Override
    public int core() {
        return 0;
    }

    @Override
    public void checkOwner() {
    }

    @Override
    public boolean postDoorbell(int id) {
        doorbells++; // one application thread rings at a time
        return true;
    }

    @Override
    public boolean releaseLater(TcpStream stream) {
        return true;
    }
}
