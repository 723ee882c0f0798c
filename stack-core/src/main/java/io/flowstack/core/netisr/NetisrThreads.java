package io.flowstack.core.netisr;

import java.util.ArrayList;
import java.util.List;

/**
 * The netisr threads of a started stack, one per core ({@link NetisrThread}), with their
 * {@link CoreParking} when the stack has as many netisrs as CPUs.
 *
 * <p>Owned by: the thread that starts and closes the stack.
 */
public final class NetisrThreads {
    private static final long STOP_WAIT_MILLIS = 10_000;

    private final Netisr[] cores;
    private final CoreParking parking;
    private final List<NetisrThread> bodies = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();

    private NetisrThreads(Netisr[] cores) {
        this.cores = cores;
        this.parking = CoreParking.wanted(cores[0].config()) ? new CoreParking(cores.length) : null;
    }

    /**
     * Starts a daemon thread {@code netisr-i} for each core {@code i}.
     *
     * @param cores the stack's netisrs
     * @return the running threads
     */
    public static NetisrThreads start(Netisr[] cores) {
        NetisrThreads t = new NetisrThreads(cores);
        for (int i = 0; i < cores.length; i++) {
            NetisrThread body = new NetisrThread(i, cores, t.parking);
            Thread thread = new Thread(body, "netisr-" + i);
            thread.setDaemon(true);
            t.bodies.add(body);
            t.threads.add(thread);
        }
        for (Thread thread : t.threads) {
            thread.start();
        }
        return t;
    }

    /** {@return whether the threads park when their load is low (CoreParking)} */
    public boolean parking() {
        return parking != null;
    }

    /**
     * Stops every thread and waits for it (up to 10 s each), then marks each netisr closed. After
     * this no thread touches a netisr: the caller may release them.
     */
    public void stop() {
        for (NetisrThread b : bodies) {
            b.stop();
        }
        boolean interrupted = false;
        for (Thread t : threads) {
            try {
                t.join(STOP_WAIT_MILLIS);
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        for (Netisr n : cores) {
            n.onClose();
        }
        if (parking != null) {
            parking.close();
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
