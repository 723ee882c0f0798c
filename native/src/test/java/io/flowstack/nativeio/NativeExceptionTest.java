package io.flowstack.nativeio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

class NativeExceptionTest {

    @Test
    void epermOnTunsetiffNamesCallDeviceErrnoAndHint() {
        NativeException e = new NativeException("TUNSETIFF", "flowtap0", Errno.EPERM);
        assertEquals("TUNSETIFF flowtap0: EPERM (Operation not permitted): needs root or CAP_NET_ADMIN",
                e.getMessage());
        assertEquals(Errno.EPERM, e.errno());
        assertEquals("EPERM", e.errnoName());
        assertEquals("TUNSETIFF", e.call());
        assertEquals("flowtap0", e.object());
    }

    @Test
    void hintsForKnownTapFailures() {
        assertEquals("open /dev/net/tun: ENOENT (No such file or directory): the kernel has no TUN "
                + "support (modprobe tun)", new NativeException("open", "/dev/net/tun", Errno.ENOENT).getMessage());
        assertEquals("TUNSETIFF t0: EBUSY (Device or resource busy): the device is in use by another "
                + "process (single-queue TAPs accept one attach)",
                new NativeException("TUNSETIFF", "t0", Errno.EBUSY).getMessage());
        assertEquals("TUNSETIFF t0: EINVAL (Invalid argument): a device of that name exists with other "
                + "flags (TAP vs TUN, multi-queue)", new NativeException("TUNSETIFF", "t0", Errno.EINVAL).getMessage());
        assertEquals("SIOCGIFMTU nope0: ENODEV (No such device): no such device",
                new NativeException("SIOCGIFMTU", "nope0", Errno.ENODEV).getMessage());
        assertEquals("open /dev/net/tun: EACCES (Permission denied): needs root or CAP_NET_ADMIN",
                new NativeException("open", "/dev/net/tun", Errno.EACCES).getMessage());
        assertEquals("socket AF_PACKET: EPERM (Operation not permitted): needs root or CAP_NET_RAW",
                new NativeException("socket", "AF_PACKET", Errno.EPERM).getMessage());
        assertEquals("socket AF_XDP: EPERM (Operation not permitted): needs root or CAP_NET_RAW",
                new NativeException("socket", "AF_XDP", Errno.EPERM).getMessage());
        assertEquals("bpf(BPF_MAP_CREATE) XSKMAP for xv0: EPERM (Operation not permitted): needs root, or CAP_BPF "
                + "and CAP_NET_ADMIN", new NativeException("bpf(BPF_MAP_CREATE)", "XSKMAP for xv0", Errno.EPERM).getMessage());
        assertEquals("socket AF_INET: EMFILE (Too many open files): too many open files, raise ulimit -n",
                new NativeException("socket", "AF_INET", Errno.EMFILE).getMessage());
        assertEquals("TUNSETIFF t0: E2BIG (Argument list too long): too many queues (a multi-queue TAP "
                + "has at most 256)", new NativeException("TUNSETIFF", "t0", Errno.E2BIG).getMessage());
    }

    @Test
    void noHintNoObjectAndUnknownErrno() {
        assertEquals("open /tmp/x: ENOENT (No such file or directory)",
                new NativeException("open", "/tmp/x", Errno.ENOENT).getMessage());
        assertEquals("SIOCSIFMTU t0: EINVAL (Invalid argument)",
                new NativeException("SIOCSIFMTU", "t0", Errno.EINVAL).getMessage());
        assertEquals("close: EBADF (Bad file descriptor)",
                new NativeException("close", null, Errno.EBADF).getMessage());
        NativeException unknown = new NativeException("ioctl", "x", 123);
        assertEquals("ioctl x: errno 123", unknown.getMessage());
        assertEquals("errno 123", unknown.errnoName());
    }

    @Test
    void errnoTable() {
        assertEquals("EAGAIN", Errno.name(11));
        assertEquals("Resource temporarily unavailable", Errno.description(Errno.EAGAIN));
        assertEquals("ENOBUFS (No buffer space available)", Errno.describe(Errno.ENOBUFS));
        assertEquals("EADDRINUSE", Errno.name(98));
        assertEquals("EOPNOTSUPP", Errno.name(95));
        assertEquals("EPROTONOSUPPORT", Errno.name(93));
        assertEquals("EAFNOSUPPORT", Errno.name(97));
        assertEquals("ENETDOWN", Errno.name(100));
        assertEquals("ENXIO", Errno.name(6));
        assertEquals("errno 0", Errno.name(0));
        assertEquals("errno -3", Errno.name(-3));
        assertEquals("errno 4000", Errno.describe(4000));
        assertNull(Errno.description(4000));
    }
}
