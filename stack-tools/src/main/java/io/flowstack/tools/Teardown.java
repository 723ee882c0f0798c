package io.flowstack.tools;

import java.io.PrintWriter;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.CountDownLatch;

/**
 * Everything a command created, undone in reverse order exactly once: on the normal path
 * ({@link #close()}), on failure (the same call in a {@code finally}) and on SIGINT/SIGTERM
 * (a JVM shutdown hook that runs the same steps). A failing step is reported and the others
 * still run.
 *
 * <p>Thread safety: {@link #add} and {@link #close} are synchronized, so a signal that arrives
 * while the main thread is cleaning up waits for it instead of racing it.
 */
final class Teardown implements AutoCloseable {

    /** One undo action. */
    @FunctionalInterface
    interface Action {
        void run() throws Exception;
    }

    private record Step(String what, Action action) {
    }

    private final Deque<Step> steps = new ArrayDeque<>();
    private final PrintWriter err;
    private final Thread hook;
    private final Runnable beforeSignalCleanup;
    private final Runnable afterSignalCleanup;
    private volatile boolean signalled;
    private boolean closed;
    private int failures;

    /**
     * @param name               command name, for messages and the hook thread's name
     * @param err                where failures of steps are reported
     * @param beforeSignalCleanup runs in the shutdown hook before the steps (e.g. "stopping...")
     * @param afterSignalCleanup  runs in the shutdown hook after the steps (e.g. print counters)
     */
    Teardown(String name, PrintWriter err, Runnable beforeSignalCleanup, Runnable afterSignalCleanup) {
        this.err = err;
        this.beforeSignalCleanup = beforeSignalCleanup;
        this.afterSignalCleanup = afterSignalCleanup;
        this.hook = new Thread(this::onShutdown, name + "-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
    }

    /** Registers an undo action; it runs before every action registered earlier. */
    synchronized void add(String what, Action action) {
        if (closed) {
            throw new IllegalStateException("teardown already ran; cannot register " + what);
        }
        steps.push(new Step(what, action));
    }

    /** True once a SIGINT/SIGTERM (JVM shutdown) started the cleanup. */
    boolean signalled() {
        return signalled;
    }

    /**
     * After SIGINT/SIGTERM the shutdown hook owns the cleanup, the output and the exit code: the
     * calling thread then just waits for the JVM to halt, so that it prints nothing in between
     * (no half-finished step, no exception from a resource the hook already closed).
     */
    void parkIfSignalled() {
        if (signalled) {
            try {
                new CountDownLatch(1).await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            throw new IllegalStateException("interrupted by a signal");
        }
    }

    /** Number of undo actions that failed (reported on {@code err} as they failed). */
    synchronized int failures() {
        return failures;
    }

    /** Runs every undo action, newest first; idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        while (!steps.isEmpty()) {
            Step s = steps.pop();
            try {
                s.action.run();
            } catch (Exception | Error e) {
                failures++;
                err.println("cleanup: " + s.what + " failed: " + Main.oneLine(String.valueOf(e.getMessage())));
            }
        }
        err.flush();
        if (!signalled) {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shutdownInProgress) {
                // the hook runs anyway and finds nothing left to do
            }
        }
    }

    private void onShutdown() {
        boolean first;
        synchronized (this) {
            first = !closed;
        }
        if (!first) {
            return;
        }
        signalled = true;
        beforeSignalCleanup.run();
        close();
        afterSignalCleanup.run();
        err.flush();
    }
}
