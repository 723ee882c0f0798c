package io.flowstack.tools;

import io.flowstack.core.socket.StackException;
import io.flowstack.nativeio.Errno;
import io.flowstack.nativeio.NativeException;
import io.flowstack.nativeio.Netdev;
import io.flowstack.nativeio.Tun;
import io.flowstack.tools.bench.BenchException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The one place where an exception that ends a command becomes what the user reads: one line
 * saying what is wrong and what to do, and the exit code. {@link Main} prints it as
 * {@code stack <command>: <line>}.
 *
 * <p>Errno failures of the kernel calls that set a device up ({@link NativeException}) are
 * worded here for the command line: which option to change, which command to run. For a TAP
 * that the kernel refused ({@code TUNSETIFF}: {@code EINVAL}) the existing device is looked at
 * in sysfs to say why (not a TAP, a TUN, single- or multi-queue).
 *
 * <p>Owned by: nobody (stateless).
 */
public final class ErrorText {
    /** What a command's failure prints and how it exits. */
    public record Problem(int exitCode, String line) {
    }

    private static final Path SYS_NET = Path.of("/sys/class/net");

    private ErrorText() {
    }

    /**
     * The line and exit code for {@code e}, or null if it is none of the known usage,
     * environment or stack errors (then it is a bug and deserves its stack trace).
     */
    public static Problem of(Exception e) {
        return switch (e) {
            case UserError u -> new Problem(Main.USAGE, oneLine(u.getMessage()));
            case NativeException n -> new Problem(Main.USAGE, oneLine(nativeMessage(n)));
            case IllegalArgumentException i -> new Problem(Main.USAGE, oneLine(i.getMessage()));
            case BenchException b -> new Problem(b.environment() ? Main.USAGE : Main.FAILURE, oneLine(b.getMessage()));
            case StackException s -> new Problem(Main.FAILURE, oneLine(s.getMessage()));
            case UncheckedIOException u -> new Problem(Main.FAILURE, oneLine(u.getMessage()));
            default -> null;
        };
    }

    /** {@code s} on one line: line breaks become "; ". */
    public static String oneLine(String s) {
        return s == null ? "(no message)" : s.strip().replaceAll("\\s*\\R\\s*", "; ");
    }

    /**
     * A failed kernel call in the words of the command line: the devices and privileges it is
     * about, and what to do. Calls without specific advice keep the native message
     * ({@code CALL OBJECT: ERRNO (text): hint}).
     */
    static String nativeMessage(NativeException e) {
        String call = e.call();
        String object = e.object();
        int errno = e.errno();
        String code = " (" + call + ": " + e.errnoName() + ")";
        boolean denied = errno == Errno.EPERM || errno == Errno.EACCES;
        if ("open".equals(call) && NativeException.TUN_DEVICE.equals(object)) {
            if (denied) {
                return "cannot open " + object + code + ": TAP devices need root or CAP_NET_ADMIN: run it with sudo";
            }
            if (errno == Errno.ENOENT || errno == Errno.ENODEV || errno == Errno.ENXIO) {
                return "no " + object + code + ": the kernel's TUN/TAP driver is missing: load it (sudo modprobe tun); "
                        + "in a container, pass the device in (e.g. docker run --device /dev/net/tun)";
            }
        }
        if ("TUNSETIFF".equals(call) && object != null) {
            String why = tapAdvice(object, errno);
            if (why != null) {
                return "cannot open TAP " + object + code + ": " + why;
            }
        }
        if (denied && ("AF_PACKET".equals(object) || call.startsWith("PACKET_"))) {
            return "AF_PACKET sockets need root or CAP_NET_RAW" + code + ": run it with sudo";
        }
        if (denied) {
            return e.getMessage() + ": run it with sudo";
        }
        return e.getMessage();
    }

    /** Why TUNSETIFF on the TAP {@code name} failed and what to do, or null if unknown. */
    private static String tapAdvice(String name, int errno) {
        switch (errno) {
            case Errno.EPERM, Errno.EACCES -> {
                String owner = sysfs(name, "owner");
                if (owner != null && !owner.equals("-1")) {
                    return "it belongs to uid " + owner + " (ip tuntap add ... user " + owner
                            + "): run as that user or as root, or choose another --tap name";
                }
                return "creating or opening a TAP needs root or CAP_NET_ADMIN: run it with sudo";
            }
            case Errno.EBUSY -> {
                return "another process has it open (a single-queue TAP takes one): stop that process or choose "
                        + "another --tap name";
            }
            case Errno.EINVAL -> {
                if (!sameDevice(name)) {
                    return "a device of that name exists with other flags (TAP or TUN, single- or multi-queue): "
                            + "choose another --tap name";
                }
                String flags = sysfs(name, "tun_flags");
                if (flags == null) {
                    return name + " exists and is not a TAP device (see ip -d link show " + name
                            + "): choose another --tap name";
                }
                int f;
                try {
                    f = Integer.decode(flags);
                } catch (NumberFormatException bad) {
                    return null;
                }
                if ((f & Tun.IFF_TUN) != 0) {
                    return "it is a TUN device (IP packets), not a TAP (Ethernet frames): choose another --tap "
                            + "name, or delete it: sudo ip link del " + name;
                }
                if ((f & Tun.IFF_MULTI_QUEUE) == 0) {
                    return "it is a single-queue TAP, and more than one core needs a queue per core: use "
                            + "--cores 1, or recreate it multi-queue: sudo ip link del " + name
                            + " && sudo ip tuntap add dev " + name + " mode tap multi_queue";
                }
                return "it is a multi-queue TAP, and one core opens it single-queue: use --cores 2 or more, "
                        + "or recreate it single-queue: sudo ip link del " + name + " && sudo ip tuntap add dev "
                        + name + " mode tap";
            }
            default -> {
                return null;
            }
        }
    }

    /**
     * Whether sysfs shows this network namespace's device {@code name} (sysfs is the namespace's
     * only when it was mounted there, as {@code ip netns exec} does): the ifindex must match.
     */
    private static boolean sameDevice(String name) {
        try {
            if (!Netdev.exists(name)) {
                return false;
            }
            String index = sysfs(name, "ifindex");
            return index != null && Integer.parseInt(index) == Netdev.index(name);
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** The stripped content of /sys/class/net/NAME/FILE, or null if unreadable. */
    private static String sysfs(String name, String file) {
        try {
            return Files.readString(SYS_NET.resolve(name).resolve(file)).strip();
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }
}
