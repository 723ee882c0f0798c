package io.flowstack.tools.bench;

import io.flowstack.tools.Exec;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The external commands of {@code bench --compare} ({@code ip}, {@code sysctl}, the bench clients
 * and the kernel's bench server in their namespaces): stdin from /dev/null, stderr merged into
 * stdout, the C locale, every line kept (and handed to a consumer as it arrives), a time limit on
 * each. {@link #shutdown} (from the Ctrl-C hook) stops every process this shell started, with
 * its children, and refuses new ones.
 *
 * <p>Owned by: the compare's thread; {@link #shutdown} and {@link Child#stop} may be called from
 * the shutdown hook.
 */
final class CompareShell {
    private static final File DEV_NULL = new File("/dev/null");

    /** What a finished command did. */
    record Result(List<String> command, int exitCode, boolean timedOut, List<String> output) {
        boolean ok() {
            return !timedOut && exitCode == 0;
        }

        /** "exit 1: last line" or "timed out". */
        String why() {
            String last = "";
            for (int i = output.size() - 1; i >= 0 && last.isEmpty(); i--) {
                last = output.get(i).strip();
            }
            return (timedOut ? "timed out" : "exit " + exitCode) + (last.isEmpty() ? "" : ": " + last);
        }
    }

    /** A command run after {@link #shutdown}: not started. */
    static final class ShutDown extends RuntimeException {
        private static final long serialVersionUID = 1L;

        ShutDown(String command) {
            super("not started, shutting down: " + command);
        }
    }

    /** A process that runs while the caller goes on (a server); its output lines are kept. */
    final class Child {
        private final Process process;
        private final List<String> lines = Collections.synchronizedList(new ArrayList<>());
        private final Thread reader;

        private Child(Process process, String name, Consumer<String> onLine) {
            this.process = process;
            this.reader = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
                        StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = r.readLine()) != null) {
                        if (lines.size() < 1000) {
                            lines.add(line);
                        }
                        onLine.accept(line);
                    }
                } catch (IOException e) {
                    // destroyed: its output ends here
                }
            }, "compare-" + name);
            reader.setDaemon(true);
            reader.start();
        }

        /** True while it runs. */
        boolean alive() {
            return process.isAlive();
        }

        /** Waits at most {@code timeout} for it to end; a {@link Result} (timed out if it did not, and then stopped). */
        Result await(Duration timeout, List<String> command) {
            boolean timedOut = false;
            try {
                if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    timedOut = true;
                    stop();
                }
                reader.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                stop();
                timedOut = true;
            } finally {
                running.remove(this);
            }
            return new Result(command, process.isAlive() ? -1 : process.exitValue(), timedOut, List.copyOf(lines));
        }

        /** SIGTERM to it and its children, SIGKILL after a second; returns when they are gone. */
        void stop() {
            Exec.destroyTree(process.toHandle(), Duration.ofSeconds(1));
            running.remove(this);
        }

        /** Its output so far. */
        List<String> lines() {
            synchronized (lines) {
                return List.copyOf(lines);
            }
        }
    }

    private final Set<Child> running = ConcurrentHashMap.newKeySet();
    private volatile boolean shutDown;

    /** Runs {@code command} to its end or {@code timeout}, quietly. */
    Result run(Duration timeout, String... command) {
        return start("cmd", line -> { }, command).await(timeout, List.of(command));
    }

    /** Starts {@code command}; {@code onLine} sees each output line (on a reader thread). */
    synchronized Child start(String name, Consumer<String> onLine, String... command) {
        if (shutDown) {
            throw new ShutDown(String.join(" ", command));
        }
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(DEV_NULL));
        pb.environment().put("LC_ALL", "C");
        try {
            Child c = new Child(pb.start(), name, onLine);
            running.add(c);
            return c;
        } catch (IOException e) {
            throw new BenchException("cannot run " + command[0] + ": " + e.getMessage(), true);
        }
    }

    /** From the Ctrl-C hook: nothing starts any more, and what runs is stopped. */
    void shutdown() {
        synchronized (this) {
            shutDown = true;
        }
        for (Child c : List.copyOf(running)) {
            c.stop();
        }
    }
}
