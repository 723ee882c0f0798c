package io.flowstack.nativeio;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Test and benchmark helper: a network namespace of its own (per-run name, IPv6 disabled before
 * any device exists), entered by the calling thread with {@code setns(2)} (a thread's namespace is
 * its own), and a TAP opened in it with {@code IFF_VNET_HDR}, {@code TUNSETVNETHDRSZ 10} and
 * {@code TUNSETOFFLOAD(CSUM|TSO4|TSO6|TSO_ECN)} as the project opens TAPs (TapNic). Addresses
 * come from 198.18.0.0/15 only. {@link #close()} closes the TAP and deletes the namespace.
 *
 * <p>Owned by: the thread that created it (which is moved into the namespace).
 */
final class TapNetns implements AutoCloseable {
    /** {@code CLONE_NEWNET}. */
    static final int CLONE_NEWNET = 0x40000000;
    /** x86_64 {@code setns(2)}. */
    static final long SYS_SETNS = 308;
    /** CSUM | TSO4 | TSO6 | TSO_ECN. */
    static final long OFFLOADS = Tun.TUN_F_CSUM | Tun.TUN_F_TSO4 | Tun.TUN_F_TSO6 | Tun.TUN_F_TSO_ECN;

    private static final MethodHandle SYSCALL2 = link();

    final String ns;
    final String tap;
    final int fd;
    private boolean closed;

    private TapNetns(String ns, String tap, int fd) {
        this.ns = ns;
        this.tap = tap;
        this.fd = fd;
    }

    @SuppressWarnings("restricted")
    private static MethodHandle link() {
        Linker l = Linker.nativeLinker();
        return l.downcallHandle(l.defaultLookup().find("syscall").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
                        ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG),
                Linker.Option.firstVariadicArg(1));
    }

    /** True when running as root with {@code ip} available. */
    static boolean usable() {
        return "root".equals(System.getProperty("user.name"))
                && new java.io.File("/dev/net/tun").exists()
                && (new java.io.File("/usr/sbin/ip").exists() || new java.io.File("/sbin/ip").exists()
                        || new java.io.File("/usr/bin/ip").exists());
    }

    /**
     * Creates namespace {@code ns}, moves the calling thread into it, opens TAP {@code tap}
     * there (O_NONBLOCK, vnet header, offloads), brings it up with {@code addr}/24.
     */
    static TapNetns open(String ns, String tap, String addrCidr, int txqueuelen) {
        return open(ns, tap, addrCidr, txqueuelen, OFFLOADS);
    }

    /** As {@link #open(String, String, String, int)} with the given {@code TUN_F_*} offloads. */
    static TapNetns open(String ns, String tap, String addrCidr, int txqueuelen, long offloads) {
        run("ip", "netns", "add", ns);
        try {
            run("ip", "netns", "exec", ns, "sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1");
            run("ip", "netns", "exec", ns, "sysctl", "-q", "-w", "net.ipv6.conf.default.disable_ipv6=1");
            enter(ns);
            int fd = Libc.open(Tun.DEVICE, Libc.O_RDWR | Libc.O_NONBLOCK | Libc.O_CLOEXEC);
            try (Arena a = Arena.ofConfined()) {
                MemorySegment ifr = Ifreq.allocate(a, tap);
                Ifreq.flags(ifr, (short) (Tun.IFF_TAP | Tun.IFF_NO_PI | Tun.IFF_VNET_HDR));
                Libc.ioctl(fd, Tun.TUNSETIFF, ifr, "TUNSETIFF", tap);
                MemorySegment size = a.allocateFrom(ValueLayout.JAVA_INT, Tun.VNET_HDR_LEN);
                Libc.ioctl(fd, Tun.TUNSETVNETHDRSZ, size, "TUNSETVNETHDRSZ", tap);
                Libc.ioctl(fd, Tun.TUNSETOFFLOAD, offloads, "TUNSETOFFLOAD", tap);
            } catch (RuntimeException e) {
                Libc.close(fd);
                throw e;
            }
            TapNetns t = new TapNetns(ns, tap, fd);
            try {
                run("ip", "netns", "exec", ns, "ip", "link", "set", tap, "txqueuelen",
                        Integer.toString(txqueuelen));
                run("ip", "netns", "exec", ns, "ip", "addr", "add", addrCidr, "dev", tap);
                run("ip", "netns", "exec", ns, "ip", "link", "set", tap, "up");
            } catch (RuntimeException e) {
                t.close();
                throw e;
            }
            return t;
        } catch (RuntimeException e) {
            runQuietly("ip", "netns", "del", ns);
            throw e;
        }
    }

    /** Moves the calling thread into namespace {@code ns} ({@code setns(2)}). */
    static void enter(String ns) {
        int nsFd = Libc.open("/var/run/netns/" + ns, Libc.O_RDONLY | Libc.O_CLOEXEC);
        try {
            long r = (long) SYSCALL2.invokeExact(SYS_SETNS, (long) nsFd, (long) CLONE_NEWNET);
            if (r != 0) {
                throw new IllegalStateException("setns " + ns + " failed");
            }
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        } finally {
            Libc.close(nsFd);
        }
    }

    /** The kernel side's MAC address of the TAP. */
    byte[] kernelMac() {
        return Netdev.hwAddr(tap);
    }

    /** Runs a command, failing on a non-zero exit. */
    static String run(String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", cmd) + ": " + out);
            }
            return out;
        } catch (IOException e) {
            throw new IllegalStateException(String.join(" ", cmd), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static void runQuietly(String... cmd) {
        try {
            run(cmd);
        } catch (RuntimeException ignored) {
            // cleanup
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        List<RuntimeException> errors = new ArrayList<>();
        try {
            Libc.close(fd);
        } catch (RuntimeException e) {
            errors.add(e);
        }
        runQuietly("ip", "netns", "del", ns);
        if (!errors.isEmpty()) {
            throw errors.get(0);
        }
    }
}
