package io.flowstack.tools.bench;

import io.flowstack.tools.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The machine a comparison ran on, for its report: CPUs online, the CPU's model name and the
 * kernel release ({@code uname -r}), read from /proc.
 *
 * @param cpus    processors available to the JVM ({@code nproc})
 * @param cpu     the first {@code model name} of /proc/cpuinfo ("unknown" if none)
 * @param kernel  /proc/sys/kernel/osrelease, as {@code uname -r} prints it
 * @param java    the JVM's version
 */
public record CompareMachine(int cpus, String cpu, String kernel, String java) {

    /** This machine. */
    public static CompareMachine detect() {
        return new CompareMachine(Runtime.getRuntime().availableProcessors(), cpuModel(read("/proc/cpuinfo")),
                read("/proc/sys/kernel/osrelease").strip(), Runtime.version().toString());
    }

    /** The first {@code model name : ...} of a /proc/cpuinfo text, or "unknown". */
    static String cpuModel(String cpuinfo) {
        for (String line : cpuinfo.split("\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).strip().equals("model name")) {
                String m = line.substring(colon + 1).strip();
                return m.isEmpty() ? "unknown" : m;
            }
        }
        return "unknown";
    }

    private static String read(String path) {
        try {
            return Files.readString(Path.of(path));
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }

    /** "2 CPUs (AMD EPYC), Linux 6.18.44, Java 25.0.1". */
    public String describe() {
        return cpus + " CPU" + (cpus == 1 ? "" : "s") + " (" + cpu + "), Linux " + kernel + ", Java " + java;
    }

    Json.Obj toJson() {
        return Json.obj().put("nproc", cpus).put("cpu", cpu).put("kernel", kernel).put("java", java);
    }
}
