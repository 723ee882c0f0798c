package io.flowstack.tools;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** What the process may do, read from {@code /proc/self/status}. */
final class Privileges {
    private Privileges() {
    }

    /** The effective user id (the second number of the {@code Uid:} line), or -1 if unknown. */
    static int effectiveUid() {
        try {
            return effectiveUid(Files.readString(Path.of("/proc/self/status")));
        } catch (IOException e) {
            return -1;
        }
    }

    /** Parses the effective uid out of the text of a {@code /proc/PID/status} file. */
    static int effectiveUid(String status) {
        for (String line : status.split("\n")) {
            if (line.startsWith("Uid:")) {
                String[] f = line.substring(4).trim().split("\\s+");
                if (f.length >= 2 && f[1].matches("\\d+")) {
                    return Integer.parseInt(f[1]);
                }
            }
        }
        return -1;
    }
}
