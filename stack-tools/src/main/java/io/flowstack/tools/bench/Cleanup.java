package io.flowstack.tools.bench;

import java.io.PrintWriter;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * What the bench command created (a TAP, a stack, a server), undone newest first, exactly once,
 * whether the main thread or the Ctrl-C hook gets there first. A failing step is reported and the
 * others still run. Thread-safe.
 */
final class Cleanup implements AutoCloseable {
    /** One undo action. */
    @FunctionalInterface
    interface Action {
        void run() throws Exception;
    }

    private record Step(String what, Action action) {
    }

    private final Deque<Step> steps = new ArrayDeque<>();
    private final PrintWriter err;
    private boolean closed;
    private int failures;

    Cleanup(PrintWriter err) {
        this.err = err;
    }

    synchronized void add(String what, Action action) {
        if (closed) {
            throw new IllegalStateException("cleanup already ran; cannot register " + what);
        }
        steps.push(new Step(what, action));
    }

    synchronized int failures() {
        return failures;
    }

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
                err.println("stack bench: cleanup: " + s.what + " failed: " + e.getMessage());
            }
        }
        err.flush();
    }
}
