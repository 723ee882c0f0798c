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
 * destroyed (SIGTERM, then SIGKILL after one second).
 *
 * <p>Owned by: one command thread; {@link #destroyRunning()} may be called from a shutdown hook.
 */
final class Exec {
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

    private volatile Process current;

    /** Runs {@code command}; {@code echo} receives each output line as it is read. */
    Result run(Duration timeout, Consumer<String> echo, String... command) {
        ProcessBuilder pb = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(DEV_NULL));
        pb.environment().put("LC_ALL", "C");
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new UserError("cannot run " + command[0] + ": " + e.getMessage());
        }
        current = p;
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
                p.destroy();
                if (!p.waitFor(1, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    p.waitFor(1, TimeUnit.SECONDS);
                }
            }
            reader.join(2000);
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            timedOut = true;
        } finally {
            current = null;
        }
        int code = p.isAlive() ? -1 : p.exitValue();
        return new Result(List.of(command), code, timedOut, timeout, List.copyOf(lines));
    }

    /** Runs {@code command} without echoing its output. */
    Result quiet(Duration timeout, String... command) {
        return run(timeout, line -> { }, command);
    }

    /** Kills the command that is running now, if any (from a shutdown hook). */
    void destroyRunning() {
        Process p = current;
        if (p != null && p.isAlive()) {
            p.destroyForcibly();
        }
    }

    /** True if {@code program} is an executable file in a PATH directory (or in /sbin, /usr/sbin). */
    static boolean onPath(String program) {
        String path = System.getenv().getOrDefault("PATH", "") + File.pathSeparator + "/usr/sbin:/sbin";
        for (String dir : path.split(File.pathSeparator)) {
            if (!dir.isEmpty() && new File(dir, program).canExecute()) {
                return true;
            }
        }
        return false;
    }
}
