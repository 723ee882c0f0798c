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

    /** CAP_NET_ADMIN: network configuration, TAP devices (linux/capability.h). */
    static final int CAP_NET_ADMIN = 12;
    /** CAP_SYS_ADMIN: among much else, network namespaces (setns, the mounts of ip netns). */
    static final int CAP_SYS_ADMIN = 21;

    /** The effective capability set (the {@code CapEff:} line, a bit per capability), or -1 if unknown. */
    static long effectiveCapabilities() {
        try {
            return effectiveCapabilities(Files.readString(Path.of("/proc/self/status")));
        } catch (IOException e) {
            return -1;
        }
    }

    /** Parses the effective capability set out of the text of a {@code /proc/PID/status} file; -1 if absent. */
    static long effectiveCapabilities(String status) {
        for (String line : status.split("\n")) {
            if (line.startsWith("CapEff:")) {
                String hex = line.substring(7).trim();
                if (hex.matches("[0-9a-fA-F]{1,16}")) {
                    return Long.parseUnsignedLong(hex, 16);
                }
            }
        }
        return -1;
    }

    /** True if {@code caps} (from {@link #effectiveCapabilities}) holds capability number {@code cap}. */
    static boolean has(long caps, int cap) {
        return caps != -1 && (caps & (1L << cap)) != 0;
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
