package io.flowstack.tools;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Runs external commands (ip, ping, python3) with a timeout: stdin from /dev/null, stderr merged
 * into stdout, every line handed to a consumer as it arrives (live output) and kept for parsing,
 * the C locale so that output can be parsed. A command still running at its timeout is
 * destroyed with its child processes (SIGTERM, then SIGKILL after one second).
 *
 * <p>Owned by: one command thread; {@link #shutdown} may be called from a shutdown hook: from
 * then on no command starts.
 */
public final class Exec {
    private static final File DEV_NULL = new File("/dev/null");

    /** The outcome of one command. */
    record Result(List<String> command, int exitCode, boolean timedOut, Duration timeout, List<String> output) {
        boolean ok() {
            return !timedOut && exitCode == 0;
        }

        /** "exit 1" or "timed out after 20 s". */
        String status() {
            if (!timedOut) {
                return "exit " + exitCode;
            }
            long ms = timeout.toMillis();
            return "timed out after " + (ms % 1000 == 0 ? ms / 1000 + " s" : ms + " ms");
        }

        /** The last non-blank output line, or "" (what failed, usually). */
        String lastLine() {
            for (int i = output.size() - 1; i >= 0; i--) {
                if (!output.get(i).isBlank()) {
                    return output.get(i).strip();
                }
            }
            return "";
        }
    }

    /** {@link #run} after {@link #shutdown}: no command starts once a signal started the cleanup. */
    static final class ShutDown extends RuntimeException {
        private static final long serialVersionUID = 1L;

        ShutDown(String command) {
            super("not started, shutting down: " + command);
        }
    }

    private final Object lock = new Object();
    private Process current; // guarded by lock
    private boolean shutDown; // guarded by lock

    /**
     * Runs {@code command}; {@code echo} receives each output line as it is read (a carriage
     * return ends a line too, so a progress meter that redraws its line gives one line each time).
     *
     * @throws ShutDown after {@link #shutdown}
     */
    Result run(Duration timeout, Consumer<String> echo, String... command) {
        ProcessBuilder pb = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(DEV_NULL));
        pb.environment().put("LC_ALL", "C");
        Process p;
        synchronized (lock) {
            if (shutDown) {
                throw new ShutDown(String.join(" ", command));
            }
            try {
                p = pb.start();
            } catch (IOException e) {
                throw new UserError("cannot run " + command[0] + ": " + e.getMessage());
            }
            current = p;
        }
        List<String> lines = Collections.synchronizedList(new ArrayList<>());
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    lines.add(line);
                    echo.accept(line);
                }
            } catch (IOException e) {
                // the process was destroyed: its output ends here
            }
        }, "exec-" + command[0]);
        reader.setDaemon(true);
        reader.start();
        boolean timedOut = false;
        try {
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                timedOut = true;
                destroyTree(p.toHandle(), Duration.ofSeconds(1));
            }
            reader.join(2000);
        } catch (InterruptedException e) {
            destroyTree(p.toHandle(), Duration.ZERO);
            Thread.currentThread().interrupt();
            timedOut = true;
        } finally {
            synchronized (lock) {
                current = null;
            }
        }
        int code = p.isAlive() ? -1 : p.exitValue();
        return new Result(List.of(command), code, timedOut, timeout, List.copyOf(lines));
    }

    /** Runs {@code command} without echoing its output. */
    Result quiet(Duration timeout, String... command) {
        return run(timeout, line -> { }, command);
    }

    /**
     * From a shutdown hook: no command starts any more, and the one running now, if any, is
     * destroyed with its child processes (SIGTERM; SIGKILL for what is left after {@code grace}).
     * Returns when they are gone (or after {@code grace} and one more second).
     */
    void shutdown(Duration grace) {
        Process p;
        synchronized (lock) {
            shutDown = true;
            p = current;
        }
        if (p != null) {
            destroyTree(p.toHandle(), grace);
        }
    }

    /**
     * SIGTERM to {@code root} and its descendants (found first: once the root is gone they are
     * no longer its descendants), SIGKILL to those still there after {@code grace}; waits at most
     * one more second for them to go.
     */
    public static void destroyTree(ProcessHandle root, Duration grace) {
        List<ProcessHandle> all = new ArrayList<>(root.descendants().toList());
        all.add(root);
        all.forEach(ProcessHandle::destroy);
        long deadline = System.nanoTime() + grace.toNanos();
        for (ProcessHandle h : all) {
            awaitExit(h, deadline);
        }
        all.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
        long killDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
        for (ProcessHandle h : all) {
            awaitExit(h, killDeadline);
        }
    }

    private static void awaitExit(ProcessHandle h, long deadline) {
        long left = deadline - System.nanoTime();
        if (left <= 0 || !h.isAlive()) {
            return;
        }
        try {
            h.onExit().get(left, TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException e) {
            // still there: the caller kills it
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** True if {@code program} is an executable file in a PATH directory (or in /sbin, /usr/sbin). */
    public static boolean onPath(String program) {
        String path = System.getenv().getOrDefault("PATH", "") + File.pathSeparator + "/usr/sbin:/sbin";
        for (String dir : path.split(File.pathSeparator)) {
            if (!dir.isEmpty() && new File(dir, program).canExecute()) {
                return true;
            }
        }
        return false;
    }
}
