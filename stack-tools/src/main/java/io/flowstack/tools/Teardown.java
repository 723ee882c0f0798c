package io.flowstack.tools;

import java.io.PrintWriter;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.CountDownLatch;
import java.util.function.BiConsumer;

/**
 * Everything a command created, undone in reverse order exactly once: on the normal path
 * ({@link #close()}), on failure (the same call in a {@code finally}) and, when built with
 * signal actions, on SIGINT/SIGTERM (a JVM shutdown hook that runs the same steps). A failing
 * step is reported and the others still run. The one teardown of the commands: {@link #onSignal}
 * is their shutdown hook and {@link #closeAll} their close-in-reverse-order.
 *
 * <p>Owned by: the command's thread, which registers the steps; {@link #add} and
 * {@link #close} are synchronized, so a signal (the hook thread) that arrives while the main
 * thread is cleaning up waits for it instead of racing it.
 */
public final class Teardown implements AutoCloseable {

    /** One undo action. */
    @FunctionalInterface
    public interface Action {
        void run() throws Exception;
    }

    /** A registered shutdown hook; {@link #close} removes it (nothing to do once the JVM shuts down). */
    public interface SignalHook extends AutoCloseable {
        @Override
        void close();
    }

    private record Step(String what, Action action) {
    }

    private final Deque<Step> steps = new ArrayDeque<>();
    private final String name;
    private final PrintWriter err;
    private final SignalHook hook;
    private final Runnable beforeSignalCleanup;
    private final Runnable afterSignalCleanup;
    private volatile boolean signalled;
    private boolean closed;
    private int failures;
    private Throwable failure;

    /**
     * A teardown that also runs on SIGINT/SIGTERM.
     *
     * @param name               command name, for messages and the hook thread's name
     * @param err                where failures of steps are reported
     * @param beforeSignalCleanup runs in the shutdown hook before the steps (e.g. "stopping...")
     * @param afterSignalCleanup  runs in the shutdown hook after the steps (e.g. print counters)
     */
    public Teardown(String name, PrintWriter err, Runnable beforeSignalCleanup, Runnable afterSignalCleanup) {
        this.name = name;
        this.err = err;
        this.beforeSignalCleanup = beforeSignalCleanup;
        this.afterSignalCleanup = afterSignalCleanup;
        this.hook = onSignal(name, this::onShutdown);
    }

    /** A teardown without a shutdown hook of its own (the command's hook calls {@link #close}). */
    public Teardown(String name, PrintWriter err) {
        this.name = name;
        this.err = err;
        this.beforeSignalCleanup = null;
        this.afterSignalCleanup = null;
        this.hook = null;
    }

    /**
     * Runs {@code action} in a JVM shutdown hook (SIGINT, SIGTERM) named {@code name-shutdown};
     * closing the returned handle removes the hook again, or does nothing if the JVM is already
     * shutting down (the hook then runs, or ran).
     */
    public static SignalHook onSignal(String name, Runnable action) {
        Thread t = new Thread(action, name + "-shutdown");
        Runtime.getRuntime().addShutdownHook(t);
        return () -> {
            try {
                Runtime.getRuntime().removeShutdownHook(t);
            } catch (IllegalStateException shuttingDown) {
                // the hook runs (or ran) and finds everything done
            }
        };
    }

    /**
     * Closes {@code resources} last first (the reverse of the order they were opened in, as
     * try-with-resources does), skipping nulls; every one is closed even if another fails, and
     * the first failure is thrown with the later ones suppressed (a checked exception wrapped in
     * an {@link IllegalStateException}).
     */
    public static void closeAll(AutoCloseable... resources) {
        Deque<Step> steps = new ArrayDeque<>();
        for (AutoCloseable r : resources) {
            if (r != null) {
                steps.push(new Step(r.toString(), r::close));
            }
        }
        Throwable first = unwind(steps, null);
        if (first instanceof RuntimeException e) {
            throw e;
        }
        if (first instanceof Error e) {
            throw e;
        }
        if (first != null) {
            throw new IllegalStateException("close failed: " + first.getMessage(), first);
        }
    }

    /**
     * Runs and removes every step, newest first; a failure is handed to {@code onFailure} (if
     * any) and the next step runs. Returns the first failure with the later ones suppressed, or
     * null.
     */
    private static Throwable unwind(Deque<Step> steps, BiConsumer<Step, Throwable> onFailure) {
        Throwable first = null;
        while (!steps.isEmpty()) {
            Step s = steps.pop();
            try {
                s.action.run();
            } catch (Exception | Error e) {
                if (onFailure != null) {
                    onFailure.accept(s, e);
                }
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        return first;
    }

    /** Registers an undo action; it runs before every action registered earlier. */
    public synchronized void add(String what, Action action) {
        if (closed) {
            throw new IllegalStateException("teardown already ran; cannot register " + what);
        }
        steps.push(new Step(what, action));
    }

    /** True once a SIGINT/SIGTERM (JVM shutdown) started the cleanup. */
    public boolean signalled() {
        return signalled;
    }

    /**
     * After SIGINT/SIGTERM the shutdown hook owns the cleanup, the output and the exit code: the
     * calling thread then just waits for the JVM to halt, so that it prints nothing in between
     * (no half-finished step, no exception from a resource the hook already closed).
     */
    public void parkIfSignalled() {
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
    public synchronized int failures() {
        return failures;
    }

    /** The first undo action's failure, the later ones suppressed in it; null if none failed. */
    public synchronized Throwable failure() {
        return failure;
    }

    /** Runs every undo action, newest first; idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        Throwable first = unwind(steps, (s, e) -> {
            failures++;
            err.println("stack " + name + ": cleanup: " + s.what + " failed: " + Main.oneLine(String.valueOf(e.getMessage())));
        });
        if (failure == null) {
            failure = first;
        }
        err.flush();
        if (hook != null && !signalled) {
            hook.close();
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
