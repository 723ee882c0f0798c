package io.flowstack.tools.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;

/**
 * The state of one client run that its connections share: the stop flag (read on every
 * transaction or write, written once), the reason, and the problems found. Thread-safe.
 */
final class Control {
    static final int MAX_PROBLEMS = 10;

    private volatile boolean stopped;
    private volatile String reason;
    private volatile boolean corrupt;
    private final List<String> problems = new ArrayList<>();
    /** Stream to the server: bytes confirmed by the servers' trailers. */
    final LongAdder serverBytes = new LongAdder();

    boolean stopped() {
        return stopped;
    }

    /** Stops the run; the first reason given is kept. */
    synchronized void stop(String why) {
        if (!stopped) {
            reason = why;
            stopped = true;
        }
    }

    String reason() {
        return reason;
    }

    /** Records a problem (the first {@value #MAX_PROBLEMS} are kept). */
    synchronized void problem(String what) {
        if (problems.size() < MAX_PROBLEMS) {
            problems.add(what);
        }
    }

    /** Data that did not match the pattern, or a count the server did not confirm. */
    void corrupt(String what) {
        corrupt = true;
        problem(what);
    }

    boolean corrupted() {
        return corrupt;
    }

    synchronized List<String> problems() {
        return List.copyOf(problems);
    }
}
