package io.flowstack.nativeio;

import java.lang.foreign.AddressLayout;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.lang.ref.Reference;
import java.util.Objects;

/**
 * Static downcall wrappers over glibc and raw Linux system calls (x86_64), each linked with
 * {@code errno} capture.
 *
 * <p>Two kinds of call live here:
 * <ul>
 *   <li><b>Hot path</b> ({@link #read}, {@link #write}, {@link #readv}, {@link #writev},
 *       {@link #send}, {@link #poll}): bound through {@code syscall(2)} rather than the glibc
 *       wrappers (which are cancellation points and cost ~40 ns more in a multi-threaded process,
 *       FRAME-IO §5). They never throw on a failed call and never allocate: they return the byte
 *       count, or {@code -errno} (a negative number) on failure. {@code EINTR} is retried. They
 *       are not linked as {@code critical}, so they are safe on blocking descriptors too.</li>
 *   <li><b>Control path</b> (open, ioctl, socket, bind, setsockopt, mmap, ...): throw
 *       {@link NativeException} naming the call, the object and the errno.</li>
 * </ul>
 *
 * <p>Memory segments passed to any call must be native (off-heap) segments.
 *
 * <p>Owned by: nobody; every method is thread safe. The errno capture buffer is per thread.
 */
public final class Libc {
    // open(2) flags
    /** {@code open(2)} flag: open for reading only. */
    public static final int O_RDONLY = 0;
    /** {@code open(2)} flag: open for writing only. */
    public static final int O_WRONLY = 1;
    /** {@code open(2)} flag: open for reading and writing. */
    public static final int O_RDWR = 2;
    /**
     * {@code open(2)} and {@code fcntl(2)} file status flag: non-blocking I/O (reads and writes
     * return {@code EAGAIN} instead of waiting).
     */
    public static final int O_NONBLOCK = 0x800;
    /** {@code open(2)} flag: close the descriptor on {@code execve(2)}. */
    public static final int O_CLOEXEC = 0x80000;

    // fcntl(2)
    /** {@code fcntl(2)} command: get the file status flags. */
    public static final int F_GETFL = 3;
    /** {@code fcntl(2)} command: set the file status flags. */
    public static final int F_SETFL = 4;

    // socket(2)
    /** {@code socket(2)} domain: local sockets, {@code unix(7)}. */
    public static final int AF_UNIX = 1;
    /** {@code socket(2)} domain: IPv4, {@code ip(7)}. */
    public static final int AF_INET = 2;
    /** {@code socket(2)} domain: IPv6, {@code ipv6(7)}. */
    public static final int AF_INET6 = 10;
    /** {@code socket(2)} domain: kernel netlink, {@code netlink(7)}. */
    public static final int AF_NETLINK = 16;
    /** {@code socket(2)} domain: link-level packets, {@code packet(7)}. */
    public static final int AF_PACKET = 17;
    /** {@code socket(2)} type: connection-oriented byte stream. */
    public static final int SOCK_STREAM = 1;
    /** {@code socket(2)} type: datagrams. */
    public static final int SOCK_DGRAM = 2;
    /** {@code socket(2)} type: raw frames (for {@code AF_PACKET}, with the link-level header). */
    public static final int SOCK_RAW = 3;
    /** {@code socket(2)} type flag: the new socket is non-blocking ({@code O_NONBLOCK}). */
    public static final int SOCK_NONBLOCK = 0x800;
    /** {@code socket(2)} type flag: close the socket on {@code execve(2)}. */
    public static final int SOCK_CLOEXEC = 0x80000;
    /** {@code setsockopt(2)} level of the generic socket options, {@code socket(7)}. */
    public static final int SOL_SOCKET = 1;
    /** {@code socket(7)} option: send buffer size, bounded by {@code net.core.wmem_max}. */
    public static final int SO_SNDBUF = 7;
    /** {@code socket(7)} option: receive buffer size, bounded by {@code net.core.rmem_max}. */
    public static final int SO_RCVBUF = 8;
    /**
     * {@code socket(7)} option: send buffer size beyond {@code wmem_max} ({@code CAP_NET_ADMIN}).
     */
    public static final int SO_SNDBUFFORCE = 32;
    /**
     * {@code socket(7)} option: receive buffer size beyond {@code rmem_max}
     * ({@code CAP_NET_ADMIN}).
     */
    public static final int SO_RCVBUFFORCE = 33;
    /** {@code send(2)} flag: do not block for this call. */
    public static final int MSG_DONTWAIT = 0x40;

    // mmap(2)
    /** {@code mmap(2)} protection: pages may be read. */
    public static final int PROT_READ = 1;
    /** {@code mmap(2)} protection: pages may be written. */
    public static final int PROT_WRITE = 2;
    /** {@code mmap(2)} flag: share the mapping (with the kernel, for a packet ring). */
    public static final int MAP_SHARED = 0x01;
    /** {@code mmap(2)} flag: private copy-on-write mapping. */
    public static final int MAP_PRIVATE = 0x02;
    /** {@code mmap(2)} flag: memory not backed by a file ({@code fd} -1). */
    public static final int MAP_ANONYMOUS = 0x20;
    /** {@code mmap(2)} flag: lock the pages in memory, like {@code mlock(2)}. */
    public static final int MAP_LOCKED = 0x2000;
    /** {@code mmap(2)} flag: fault the pages in now rather than on first touch. */
    public static final int MAP_POPULATE = 0x8000;

    // x86_64 system call numbers
    /** x86_64 system call number of {@code read(2)}. */
    public static final long SYS_READ = 0;
    /** x86_64 system call number of {@code write(2)}. */
    public static final long SYS_WRITE = 1;
    /** x86_64 system call number of {@code poll(2)}. */
    public static final long SYS_POLL = 7;
    /** {@code pread64} on x86-64. */
    public static final long SYS_PREAD64 = 17;
    /** x86_64 system call number of {@code readv(2)}. */
    public static final long SYS_READV = 19;
    /** x86_64 system call number of {@code ppoll(2)}. */
    public static final long SYS_PPOLL = 271;
    /** x86_64 system call number of {@code sched_setscheduler(2)}. */
    public static final long SYS_SCHED_SETSCHEDULER = 144;
    /** {@code sched_setscheduler} policy: run only on CPU time no other thread wants. */
    public static final int SCHED_IDLE = 5;
    /** x86_64 system call number of {@code writev(2)}. */
    public static final long SYS_WRITEV = 20;
    /** x86_64 system call number of {@code sendto(2)} (which {@code send(2)} is). */
    public static final long SYS_SENDTO = 44;
    /** x86_64 system call number of {@code bpf(2)}, which glibc does not wrap. */
    public static final long SYS_BPF = 321;

    /** {@code struct iovec}: {@code void *iov_base} at 0, {@code size_t iov_len} at 8. */
    public static final long IOVEC_SIZE = 16;
    /** Offset of {@code iov_base} in {@code struct iovec}. */
    public static final long IOVEC_BASE = 0;
    /** Offset of {@code iov_len} in {@code struct iovec}. */
    public static final long IOVEC_LEN = 8;

    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT;
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG;
    private static final AddressLayout PTR = ValueLayout.ADDRESS;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final Linker.Option ERRNO_OPT = Linker.Option.captureCallState("errno");
    private static final StructLayout STATE_LAYOUT = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO =
            STATE_LAYOUT.varHandle(MemoryLayout.PathElement.groupElement("errno"));

    /** Per-thread errno capture buffer, freed by the GC with its thread. */
    private static final ThreadLocal<MemorySegment> STATE =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(STATE_LAYOUT));

    // long syscall(long nr, long a1, long address, long a3): raw address, no segment
    private static final MethodHandle SYSCALL_FD_ADDR_LEN = link("syscall",
            FunctionDescriptor.of(LONG, LONG, LONG, LONG, LONG), 1);
    // long syscall(long nr, long fd, void *buf, long len, long flags, void *addr, long addrlen)
    private static final MethodHandle SYSCALL_SENDTO = link("syscall",
            FunctionDescriptor.of(LONG, LONG, LONG, PTR, LONG, LONG, PTR, LONG), 1);
    // long syscall(long nr, long a1, long address, long a3) without errno: no capture segment to
    // slice, so nothing is allocated even where the JIT does not remove it (EventFd.signal)
    private static final MethodHandle SYSCALL_RAW = LINKER.downcallHandle(
            LIBC.find("syscall").orElseThrow(() -> new UnsatisfiedLinkError("libc symbol not found: syscall")),
            FunctionDescriptor.of(LONG, LONG, LONG, LONG, LONG), Linker.Option.firstVariadicArg(1));
    // long syscall(long nr, long fd, void *buf, long len, long a4): read, write, readv, writev, pread64
    private static final MethodHandle SYSCALL_FD_PTR_LEN_OFF = link("syscall",
            FunctionDescriptor.of(LONG, LONG, LONG, PTR, LONG, LONG), 1);
    // long syscall(long nr, void *fds, long nfds, long timeout)
    private static final MethodHandle SYSCALL_POLL = link("syscall",
            FunctionDescriptor.of(LONG, LONG, PTR, LONG, LONG), 1);
    // long syscall(long nr, void *fds, long nfds, void *timespec, long sigmask, long sigsetsize)
    private static final MethodHandle SYSCALL_PPOLL = link("syscall",
            FunctionDescriptor.of(LONG, LONG, PTR, LONG, PTR, LONG, LONG), 1);
    private static final MethodHandle OPEN = link("open", FunctionDescriptor.of(INT, PTR, INT), -1);
    private static final MethodHandle CLOSE = link("close", FunctionDescriptor.of(INT, INT), -1);
    private static final MethodHandle IOCTL_PTR = link("ioctl",
            FunctionDescriptor.of(INT, INT, LONG, PTR), 2);
    private static final MethodHandle IOCTL_LONG = link("ioctl",
            FunctionDescriptor.of(INT, INT, LONG, LONG), 2);
    private static final MethodHandle FCNTL = link("fcntl",
            FunctionDescriptor.of(INT, INT, INT, INT), 2);
    private static final MethodHandle SOCKET = link("socket",
            FunctionDescriptor.of(INT, INT, INT, INT), -1);
    private static final MethodHandle BIND = link("bind",
            FunctionDescriptor.of(INT, INT, PTR, INT), -1);
    private static final MethodHandle SETSOCKOPT = link("setsockopt",
            FunctionDescriptor.of(INT, INT, INT, INT, PTR, INT), -1);
    private static final MethodHandle GETSOCKOPT = link("getsockopt",
            FunctionDescriptor.of(INT, INT, INT, INT, PTR, PTR), -1);
    private static final MethodHandle MMAP = link("mmap",
            FunctionDescriptor.of(PTR, PTR, LONG, INT, INT, INT, LONG), -1);
    private static final MethodHandle MUNMAP = link("munmap",
            FunctionDescriptor.of(INT, PTR, LONG), -1);
    private static final MethodHandle IF_NAMETOINDEX = link("if_nametoindex",
            FunctionDescriptor.of(INT, PTR), -1);
    private static final MethodHandle GETRANDOM = link("getrandom",
            FunctionDescriptor.of(LONG, PTR, LONG, INT), -1);
    private static final MethodHandle EVENTFD = link("eventfd",
            FunctionDescriptor.of(INT, INT, INT), -1);
    private static final MethodHandle SCHED_SETAFFINITY = link("sched_setaffinity",
            FunctionDescriptor.of(INT, INT, LONG, PTR), -1);
    private static final MethodHandle SCHED_GETAFFINITY = link("sched_getaffinity",
            FunctionDescriptor.of(INT, INT, LONG, PTR), -1);
    private static final MethodHandle SCHED_GETCPU = link("sched_getcpu",
            FunctionDescriptor.of(INT), -1);

    private Libc() {
    }

    @SuppressWarnings("restricted") // this class is the project's native access point
    private static MethodHandle link(String name, FunctionDescriptor fd, int firstVariadic) {
        MemorySegment symbol = LIBC.find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError("libc symbol not found: " + name));
        Linker.Option[] options = firstVariadic >= 0
                ? new Linker.Option[] {ERRNO_OPT, Linker.Option.firstVariadicArg(firstVariadic)}
                : new Linker.Option[] {ERRNO_OPT};
        return LINKER.downcallHandle(symbol, fd, options);
    }

    /** The calling thread's errno capture buffer. */
    private static MemorySegment state() {
        return STATE.get();
    }

    private static int errno(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException("unexpected exception from a downcall", t);
    }

    private static void checkLength(MemorySegment buf, long len) {
        if (len < 0 || len > buf.byteSize()) {
            throw new IndexOutOfBoundsException(
                    "length " + len + " outside segment of " + buf.byteSize() + " bytes");
        }
    }

    // ------------------------------------------------------------------ hot path

    /**
     * {@code read(fd, buf, len)} through {@code syscall(SYS_read)}. Never throws for a failed
     * call, never allocates, retries {@code EINTR}.
     *
     * @param fd the file descriptor
     * @param buf a native segment to read into, from its start
     * @param len the most bytes to read, at most {@code buf.byteSize()}
     * @return bytes read (0 at end of file), or {@code -errno} (e.g. {@code -Errno.EAGAIN} when a
     *     non-blocking descriptor has nothing to read)
     * @throws IndexOutOfBoundsException if {@code len} exceeds the segment (a programming error)
     */
    public static int read(int fd, MemorySegment buf, long len) {
        checkLength(buf, len);
        return (int) fdPtrLen(SYS_READ, fd, buf, len);
    }

    /**
     * {@code write(fd, address, len)} for a caller that ignores failures (an eventfd's signal, on a
     * non-blocking descriptor: never EINTR): no errno is captured, so the call allocates nothing
     * in any JIT state (with the capture, an interpreted or partly compiled call slices a segment).
     *
     * @param fd the file descriptor
     * @param address the bytes' native address
     * @param len the number of bytes
     * @return bytes written, or -1
     */
    public static long writeRaw(int fd, long address, long len) {
        try {
            return (long) SYSCALL_RAW.invokeExact(SYS_WRITE, (long) fd, address, len);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * {@code write(fd, buf, len)} through {@code syscall(SYS_write)}; same contract as
     * {@link #read}.
     *
     * @param fd the file descriptor
     * @param buf a native segment holding the bytes, from its start
     * @param len the number of bytes to write, at most {@code buf.byteSize()}
     * @return bytes written, or {@code -errno} (e.g. {@code -Errno.EAGAIN}, {@code -Errno.ENOBUFS})
     * @throws IndexOutOfBoundsException if {@code len} exceeds the segment (a programming error)
     */
    public static int write(int fd, MemorySegment buf, long len) {
        checkLength(buf, len);
        return (int) fdPtrLen(SYS_WRITE, fd, buf, len);
    }

    /**
     * {@code read} into {@code buf[offset, offset + len)}. It takes a slice (so the arena stays
     * checked); the C2 JIT scalar-replaces it in a hot caller, but lower tiers allocate it.
     *
     * @param fd the file descriptor
     * @param buf a native segment to read into
     * @param offset where in {@code buf} the bytes go
     * @param len the most bytes to read
     * @return bytes read (0 at end of file), or {@code -errno}
     * @throws IndexOutOfBoundsException if {@code [offset, offset + len)} is not inside {@code buf}
     */
    public static int read(int fd, MemorySegment buf, long offset, long len) {
        return (int) fdPtrLen(SYS_READ, fd, buf.asSlice(offset, len), len);
    }

    /**
     * {@code pread64(fd, buf, len, position)}: reads from a file position without moving the
     * file's offset (a {@code /proc} file read again from 0 is generated afresh). EINTR is retried.
     *
     * @param fd the file descriptor
     * @param buf a native segment of at least {@code len} bytes
     * @param len the most bytes to read
     * @param position where in the file to read from
     * @return bytes read (0 at end of file), or {@code -errno}
     */
    public static int pread(int fd, MemorySegment buf, long len, long position) {
        return (int) fdPtrLen(SYS_PREAD64, fd, buf, len, position);
    }

    /**
     * {@code write} of {@code buf[offset, offset + len)}, passing the raw address so that no
     * slice is made: allocation free in every JIT tier. {@code buf} must be a native segment whose
     * arena stays open for the duration of the call (a frame owned by the calling thread); a
     * concurrent close of a shared arena is not detected and at worst makes the write fail with
     * {@code -EFAULT} or send stale bytes. Same result contract as {@link #read}.
     *
     * @param fd the file descriptor
     * @param buf a native segment holding the bytes
     * @param offset where in {@code buf} the bytes start
     * @param len the number of bytes to write
     * @return bytes written, or {@code -errno}
     * @throws IndexOutOfBoundsException if {@code [offset, offset + len)} is not inside {@code buf}
     * @throws IllegalArgumentException if {@code buf} is a heap segment
     */
    public static int write(int fd, MemorySegment buf, long offset, long len) {
        Objects.checkFromIndexSize(offset, len, buf.byteSize());
        if (!buf.isNative()) {
            throw new IllegalArgumentException("write needs a native segment");
        }
        MemorySegment st = state();
        try {
            for (;;) {
                long r = (long) SYSCALL_FD_ADDR_LEN.invokeExact(st, SYS_WRITE, (long) fd,
                        buf.address() + offset, len);
                if (r >= 0) {
                    return (int) r;
                }
                int e = errno(st);
                if (e != Errno.EINTR) {
                    return -e;
                }
            }
        } catch (Throwable t) {
            throw rethrow(t);
        } finally {
            Reference.reachabilityFence(buf);
        }
    }

    /**
     * {@code readv(fd, iov, count)}; {@code iov} holds {@code count} {@code struct iovec}s
     * ({@link #IOVEC_SIZE} bytes each). Same contract as {@link #read}.
     *
     * @param fd the file descriptor
     * @param iov a native segment of {@code count} iovecs pointing at native memory
     * @param count the number of iovecs
     * @return total bytes read (0 at end of file), or {@code -errno}
     * @throws IndexOutOfBoundsException if {@code iov} is smaller than {@code count} iovecs
     */
    public static int readv(int fd, MemorySegment iov, int count) {
        checkLength(iov, count * IOVEC_SIZE);
        return (int) fdPtrLen(SYS_READV, fd, iov, count);
    }

    /**
     * {@code writev(fd, iov, count)}; same contract as {@link #readv}.
     *
     * @param fd the file descriptor
     * @param iov a native segment of {@code count} iovecs pointing at native memory
     * @param count the number of iovecs
     * @return total bytes written, or {@code -errno}
     * @throws IndexOutOfBoundsException if {@code iov} is smaller than {@code count} iovecs
     */
    public static int writev(int fd, MemorySegment iov, int count) {
        checkLength(iov, count * IOVEC_SIZE);
        return (int) fdPtrLen(SYS_WRITEV, fd, iov, count);
    }

    /**
     * {@code send(fd, buf, len, flags)} (as {@code sendto} with no address). {@code buf} may be
     * {@link MemorySegment#NULL} with {@code len} 0, e.g. to kick an AF_PACKET TX ring. Same
     * contract as {@link #read}.
     *
     * @param fd a socket
     * @param buf a native segment holding the bytes, or {@link MemorySegment#NULL}
     * @param len the number of bytes to send
     * @param flags {@code send(2)} flags, e.g. {@link #MSG_DONTWAIT}
     * @return bytes sent, or {@code -errno}
     * @throws IndexOutOfBoundsException if {@code len} exceeds {@code buf}
     */
    public static int send(int fd, MemorySegment buf, long len, int flags) {
        if (!buf.equals(MemorySegment.NULL)) {
            checkLength(buf, len);
        }
        MemorySegment st = state();
        try {
            for (;;) {
                long r = (long) SYSCALL_SENDTO.invokeExact(st, SYS_SENDTO, (long) fd, buf, len,
                        (long) flags, MemorySegment.NULL, 0L);
                if (r >= 0) {
                    return (int) r;
                }
                int e = errno(st);
                if (e != Errno.EINTR) {
                    return -e;
                }
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * {@code poll(fds, nfds, timeoutMillis)} on a {@code struct pollfd} array. Does not retry
     * {@code EINTR} (returns {@code -EINTR}), so a caller can re-check its state.
     *
     * @param fds a native array of {@code nfds} 8-byte {@code struct pollfd}
     *     ({@code int fd; short events; short revents}); the kernel sets each {@code revents}
     * @param nfds the number of entries
     * @param timeoutMillis the longest wait in milliseconds; 0 returns at once, -1 waits without
     *     limit
     * @return number of ready descriptors, 0 on timeout, or {@code -errno}
     * @throws IndexOutOfBoundsException if {@code fds} is smaller than {@code nfds} entries
     */
    public static int poll(MemorySegment fds, int nfds, int timeoutMillis) {
        checkLength(fds, nfds * 8L);
        MemorySegment st = state();
        try {
            long r = (long) SYSCALL_POLL.invokeExact(st, SYS_POLL, fds, (long) nfds,
                    (long) timeoutMillis);
            return r >= 0 ? (int) r : -errno(st);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * {@code ppoll(fds, nfds, timespec, NULL)}: {@link #poll} with a timeout in nanoseconds (a
     * {@code struct timespec}, 16 bytes, that the caller fills), no signal mask. Does not retry
     * {@code EINTR}.
     *
     * @param fds a native array of {@code nfds} 8-byte {@code struct pollfd}
     * @param nfds the number of entries
     * @param timespec {@code struct timespec {long tv_sec; long tv_nsec;}}: the longest wait
     * @return number of ready descriptors, 0 on timeout, or {@code -errno}
     * @throws IndexOutOfBoundsException if {@code fds} is smaller than {@code nfds} entries or
     *     {@code timespec} smaller than 16 bytes
     */
    public static int ppoll(MemorySegment fds, int nfds, MemorySegment timespec) {
        checkLength(fds, nfds * 8L);
        checkLength(timespec, 16);
        MemorySegment st = state();
        try {
            long r = (long) SYSCALL_PPOLL.invokeExact(st, SYS_PPOLL, fds, (long) nfds, timespec, 0L, 8L);
            return r >= 0 ? (int) r : -errno(st);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * {@code sched_setscheduler(tid, policy, {priority 0})} for one thread of this process.
     *
     * @param tid the thread id (as in {@code /proc/self/task})
     * @param policy e.g. {@link #SCHED_IDLE}
     * @return 0, or {@code -errno}
     */
    public static int schedSetScheduler(int tid, int policy) {
        MemorySegment st = state();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment param = arena.allocate(8, 8); // struct sched_param {int sched_priority;}, zeroed
            long r = (long) SYSCALL_FD_ADDR_LEN.invokeExact(st, SYS_SCHED_SETSCHEDULER, (long) tid, (long) policy,
                    param.address());
            return r >= 0 ? 0 : -errno(st);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static long fdPtrLen(long nr, int fd, MemorySegment ptr, long len) {
        return fdPtrLen(nr, fd, ptr, len, 0);
    }

    /** {@code syscall(nr, fd, ptr, len, a4)}, EINTR retried; a system call of three arguments ignores {@code a4}. */
    private static long fdPtrLen(long nr, int fd, MemorySegment ptr, long len, long a4) {
        MemorySegment st = state();
        try {
            for (;;) {
                long r = (long) SYSCALL_FD_PTR_LEN_OFF.invokeExact(st, nr, (long) fd, ptr, len, a4);
                if (r >= 0) {
                    return r;
                }
                int e = errno(st);
                if (e != Errno.EINTR) {
                    return -e;
                }
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    // ------------------------------------------------------------------ control path

    /**
     * {@code open(path, flags)} (no mode: never creates files).
     *
     * @param path the file to open, e.g. {@code /dev/net/tun}
     * @param flags {@code open(2)} flags, e.g. {@code O_RDWR | O_NONBLOCK | O_CLOEXEC}
     * @return the file descriptor
     * @throws NativeException naming the path, e.g. {@code open /dev/net/tun: ENOENT (...)}
     */
    public static int open(String path, int flags) {
        MemorySegment st = state();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cpath = arena.allocateFrom(path);
            for (;;) {
                int fd = (int) OPEN.invokeExact(st, cpath, flags);
                if (fd >= 0) {
                    return fd;
                }
                int e = errno(st);
                if (e != Errno.EINTR) {
                    throw new NativeException("open", path, e);
                }
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * {@code close(fd)}. {@code EINTR} is not retried (Linux has released the descriptor anyway).
     *
     * @param fd the descriptor to close
     * @throws NativeException e.g. {@code EBADF} for a descriptor that is not open
     */
    public static void close(int fd) {
        MemorySegment st = state();
        int r;
        try {
            r = (int) CLOSE.invokeExact(st, fd);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        if (r < 0) {
            int e = errno(st);
            if (e != Errno.EINTR) {
                throw new NativeException("close", "fd " + fd, e);
            }
        }
    }

    /**
     * {@code bpf(cmd, attr, sizeof attr)} through {@code syscall(SYS_bpf)}.
     *
     * @param cmd the {@code bpf(2)} command, e.g. {@link Bpf#BPF_MAP_CREATE}
     * @param attr the command's {@code union bpf_attr}, a native segment whose size is passed as
     *     the attribute size
     * @return the call's non-negative result (a new fd for the load and create commands), or
     *     {@code -errno}
     */
    public static int bpf(int cmd, MemorySegment attr) {
        return (int) fdPtrLen(SYS_BPF, cmd, attr, attr.byteSize());
    }

    /**
     * {@code ioctl(fd, request, arg)} with a pointer argument.
     *
     * @param fd the descriptor the request applies to
     * @param request the request code, e.g. {@link Tun#TUNSETIFF}
     * @param arg the native memory the argument pointer points at (read and/or written by the
     *     kernel)
     * @param callName the request's name for error messages, e.g. {@code TUNSETIFF}
     * @param object   what the request acts on for error messages, e.g. the device name
     * @return the non-negative result of the ioctl
     * @throws NativeException {@code callName object: ERRNO (...)[: hint]}
     */
    public static int ioctl(int fd, long request, MemorySegment arg, String callName, String object) {
        MemorySegment st = state();
        try {
            for (;;) {
                int r = (int) IOCTL_PTR.invokeExact(st, fd, request, arg);
                if (r >= 0) {
                    return r;
                }
                int e = errno(st);
                if (e != Errno.EINTR) {
                    throw new NativeException(callName, object, e);
                }
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * {@code ioctl(fd, request, value)} with an integer argument passed by value.
     *
     * @param fd the file descriptor
     * @param request the request code, e.g. {@link Tun#TUNSETOFFLOAD}
     * @param value the argument
     * @param callName the request's name for error messages
     * @param object what the request acts on for error messages, e.g. the device name
     * @return the non-negative result of the ioctl
     * @throws NativeException if the ioctl fails (other than {@code EINTR}, which is retried)
     */
    public static int ioctl(int fd, long request, long value, String callName, String object) {
        MemorySegment st = state();
        try {
            for (;;) {
                int r = (int) IOCTL_LONG.invokeExact(st, fd, request, value);
                if (r >= 0) {
                    return r;
                }
                int e = errno(st);
                if (e != Errno.EINTR) {
                    throw new NativeException(callName, object, e);
                }
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static int fcntl(int fd, int cmd, int arg, String callName) {
        MemorySegment st = state();
        try {
            for (;;) {
                int r = (int) FCNTL.invokeExact(st, fd, cmd, arg);
                if (r >= 0) {
                    return r;
                }
                int e = errno(st);
                if (e != Errno.EINTR) {
                    throw new NativeException(callName, "fd " + fd, e);
                }
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * Sets {@code O_NONBLOCK} on {@code fd} with {@code fcntl(F_GETFL/F_SETFL)}.
     *
     * @param fd the file descriptor
     * @throws NativeException if {@code fcntl(2)} fails
     */
    public static void setNonBlocking(int fd) {
        int flags = fcntl(fd, F_GETFL, 0, "fcntl(F_GETFL)");
        if ((flags & O_NONBLOCK) == 0) {
            fcntl(fd, F_SETFL, flags | O_NONBLOCK, "fcntl(F_SETFL)");
        }
    }

    /**
     * The file status flags of {@code fd} ({@code fcntl(F_GETFL)}).
     *
     * @param fd the file descriptor
     * @return the flags, e.g. with {@link #O_NONBLOCK} set
     * @throws NativeException if {@code fcntl(2)} fails
     */
    public static int fileStatusFlags(int fd) {
        return fcntl(fd, F_GETFL, 0, "fcntl(F_GETFL)");
    }

    /**
     * {@code socket(domain, type, protocol)}.
     *
     * @param domain the address family, e.g. {@link #AF_PACKET}
     * @param type the socket type, optionally or-ed with {@link #SOCK_NONBLOCK} and
     *     {@link #SOCK_CLOEXEC}
     * @param protocol the protocol, e.g. {@code htons(ETH_P_ALL)} for {@code AF_PACKET}
     * @return the new socket's descriptor
     * @throws NativeException e.g. {@code socket AF_PACKET: EPERM (...)}
     */
    public static int socket(int domain, int type, int protocol) {
        MemorySegment st = state();
        int fd;
        try {
            fd = (int) SOCKET.invokeExact(st, domain, type, protocol);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        if (fd < 0) {
            throw new NativeException("socket", domainName(domain), errno(st));
        }
        return fd;
    }

    private static String domainName(int domain) {
        return switch (domain) {
            case AF_UNIX -> "AF_UNIX";
            case AF_INET -> "AF_INET";
            case AF_INET6 -> "AF_INET6";
            case AF_NETLINK -> "AF_NETLINK";
            case AF_PACKET -> "AF_PACKET";
            default -> "domain " + domain;
        };
    }

    /**
     * {@code bind(fd, addr, len)}.
     *
     * @param fd the socket
     * @param addr a native segment holding the socket address, e.g. a {@code struct sockaddr_ll}
     * @param len the address length in bytes
     * @param object what is bound, for error messages (e.g. the interface name)
     * @throws NativeException if {@code bind(2)} fails
     * @throws IndexOutOfBoundsException if {@code len} exceeds {@code addr}
     */
    public static void bind(int fd, MemorySegment addr, int len, String object) {
        checkLength(addr, len);
        MemorySegment st = state();
        int r;
        try {
            r = (int) BIND.invokeExact(st, fd, addr, len);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        if (r < 0) {
            throw new NativeException("bind", object, errno(st));
        }
    }

    /**
     * {@code setsockopt(fd, level, name, val, len)}.
     *
     * @param fd the socket
     * @param level the option's level, e.g. {@link #SOL_SOCKET} or {@link Packet#SOL_PACKET}
     * @param name the option, e.g. {@link Packet#PACKET_RX_RING}
     * @param val a native segment holding the option's value
     * @param len the value's length in bytes
     * @param callName the option's name for error messages, e.g. {@code PACKET_RX_RING}
     * @throws NativeException if {@code setsockopt(2)} fails
     * @throws IndexOutOfBoundsException if {@code len} exceeds {@code val}
     */
    public static void setsockopt(int fd, int level, int name, MemorySegment val, int len,
                                  String callName) {
        setsockopt(fd, level, name, val, len, callName, null);
    }

    /**
     * {@code setsockopt} with an object (e.g. the interface name) for error messages.
     *
     * @param fd the socket
     * @param level the option's level, e.g. {@link #SOL_SOCKET} or {@link Packet#SOL_PACKET}
     * @param name the option, e.g. {@link Packet#PACKET_RX_RING}
     * @param val a native segment holding the option's value
     * @param len the value's length in bytes
     * @param callName the option's name for error messages
     * @param object what the socket is for, for error messages, or null
     * @throws NativeException if {@code setsockopt(2)} fails
     * @throws IndexOutOfBoundsException if {@code len} exceeds {@code val}
     */
    public static void setsockopt(int fd, int level, int name, MemorySegment val, int len,
                                  String callName, String object) {
        checkLength(val, len);
        MemorySegment st = state();
        int r;
        try {
            r = (int) SETSOCKOPT.invokeExact(st, fd, level, name, val, len);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        if (r < 0) {
            throw new NativeException(callName, object, errno(st));
        }
    }

    /**
     * {@code setsockopt} of one {@code int} value.
     *
     * @param fd the socket
     * @param level the option's level
     * @param name the option
     * @param value the {@code int} value
     * @param callName the option's name for error messages
     * @throws NativeException if {@code setsockopt(2)} fails
     */
    public static void setsockoptInt(int fd, int level, int name, int value, String callName) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = arena.allocateFrom(INT, value);
            setsockopt(fd, level, name, v, 4, callName, null);
        }
    }

    /**
     * Sets a socket's send or receive buffer to {@code bytes}: {@code SO_SNDBUFFORCE} /
     * {@code SO_RCVBUFFORCE} (past {@code wmem_max} / {@code rmem_max}, with
     * {@code CAP_NET_ADMIN}), else, refused with {@code EPERM}, {@code SO_SNDBUF} /
     * {@code SO_RCVBUF}, which the kernel caps at the sysctl's maximum.
     *
     * @param fd the socket
     * @param send true for the send buffer, false for the receive buffer
     * @param bytes the size asked for
     * @throws NativeException if {@code setsockopt(2)} fails otherwise
     */
    public static void setSocketBuffer(int fd, boolean send, int bytes) {
        try {
            setsockoptInt(fd, SOL_SOCKET, send ? SO_SNDBUFFORCE : SO_RCVBUFFORCE, bytes,
                    send ? "SO_SNDBUFFORCE" : "SO_RCVBUFFORCE");
        } catch (NativeException e) {
            if (e.errno() != Errno.EPERM) {
                throw e;
            }
            setsockoptInt(fd, SOL_SOCKET, send ? SO_SNDBUF : SO_RCVBUF, bytes, send ? "SO_SNDBUF" : "SO_RCVBUF");
        }
    }

    /**
     * {@code getsockopt(fd, level, name, val, &len)} with {@code len} initially {@code len}
     * (some options, such as PACKET_HDRLEN, also read their input from {@code val}).
     *
     * @param fd the socket
     * @param level the option's level
     * @param name the option
     * @param val a native segment the kernel writes the value to
     * @param len the buffer length passed in {@code optlen}
     * @param callName the option's name for error messages
     * @return the option length the kernel reported
     * @throws NativeException if {@code getsockopt(2)} fails
     * @throws IndexOutOfBoundsException if {@code len} exceeds {@code val}
     */
    public static int getsockopt(int fd, int level, int name, MemorySegment val, int len,
                                 String callName) {
        checkLength(val, len);
        MemorySegment st = state();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment lenSeg = arena.allocateFrom(INT, len);
            int r = (int) GETSOCKOPT.invokeExact(st, fd, level, name, val, lenSeg);
            if (r < 0) {
                throw new NativeException(callName, null, errno(st));
            }
            return lenSeg.get(INT, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * {@code getsockopt} of one {@code int}, passing {@code input} in the value buffer first
     * (pass 0 when the option takes no input).
     *
     * @param fd the socket
     * @param level the option's level
     * @param name the option
     * @param input the value placed in the buffer before the call
     * @param callName the option's name for error messages
     * @return the {@code int} the kernel wrote
     * @throws NativeException if {@code getsockopt(2)} fails
     */
    public static int getsockoptInt(int fd, int level, int name, int input, String callName) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = arena.allocateFrom(INT, input);
            getsockopt(fd, level, name, v, 4, callName);
            return v.get(INT, 0);
        }
    }

    /**
     * {@code mmap(NULL, len, prot, flags, fd, off)}, returned as a segment of {@code len} bytes
     * whose memory is unmapped when {@code arena} closes.
     *
     * @param len the mapping's length in bytes
     * @param prot protection, e.g. {@code PROT_READ | PROT_WRITE}
     * @param flags mapping flags, e.g. {@link #MAP_SHARED}
     * @param fd the descriptor to map (e.g. an AF_PACKET socket with a ring), or -1 with
     *     {@link #MAP_ANONYMOUS}
     * @param off the offset in the file, a multiple of the page size
     * @param arena the arena whose closing unmaps the memory ({@code munmap(2)})
     * @return the mapping as a segment of {@code len} bytes
     * @throws NativeException on MAP_FAILED
     */
    @SuppressWarnings("restricted") // gives the mapping its real size and an munmap cleanup
    public static MemorySegment mmap(long len, int prot, int flags, int fd, long off, Arena arena) {
        MemorySegment st = state();
        MemorySegment base;
        try {
            base = (MemorySegment) MMAP.invokeExact(st, MemorySegment.NULL, len, prot, flags, fd, off);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        if (base.address() == -1L) {
            throw new NativeException("mmap", "fd " + fd + " length " + len, errno(st));
        }
        final long address = base.address();
        return base.reinterpret(len, arena, s -> munmapQuietly(address, len));
    }

    private static void munmapQuietly(long address, long len) {
        try {
            int ignored = (int) MUNMAP.invokeExact(state(), MemorySegment.ofAddress(address), len);
        } catch (Throwable t) {
            // a cleanup action must not throw; munmap of our own mapping cannot fail usefully
        }
    }

    /**
     * {@code if_nametoindex(name)}.
     *
     * @param name the interface name, e.g. {@code eth0}
     * @return the interface index (> 0)
     * @throws NativeException {@code if_nametoindex NAME: ENODEV (No such device): no such device}
     *     when there is no such interface in this network namespace
     */
    public static int ifNameToIndex(String name) {
        MemorySegment st = state();
        int index;
        try (Arena arena = Arena.ofConfined()) {
            index = (int) IF_NAMETOINDEX.invokeExact(st, arena.allocateFrom(name));
        } catch (Throwable t) {
            throw rethrow(t);
        }
        if (index == 0) {
            int e = errno(st);
            throw new NativeException("if_nametoindex", name, e == 0 ? Errno.ENODEV : e);
        }
        return index;
    }

    /**
     * Fills {@code buf} with random bytes from {@code getrandom(2)} (the urandom pool).
     *
     * @param buf the native segment to fill, all of it
     * @throws NativeException if {@code getrandom(2)} fails (other than {@code EINTR}, which is
     *     retried)
     */
    public static void getrandom(MemorySegment buf) {
        MemorySegment st = state();
        long done = 0;
        long size = buf.byteSize();
        try {
            while (done < size) {
                long r = (long) GETRANDOM.invokeExact(st, buf.asSlice(done), size - done, 0);
                if (r < 0) {
                    int e = errno(st);
                    if (e == Errno.EINTR) {
                        continue;
                    }
                    throw new NativeException("getrandom", null, e);
                }
                done += r;
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * {@code eventfd(initval, flags)}.
     *
     * @param initval the counter's initial value
     * @param flags {@code EFD_NONBLOCK}, {@code EFD_CLOEXEC}, {@code EFD_SEMAPHORE}, or-ed (see
     *     {@link EventFd})
     * @return the new descriptor
     * @throws NativeException if {@code eventfd(2)} fails
     */
    public static int eventfd(int initval, int flags) {
        MemorySegment st = state();
        int fd;
        try {
            fd = (int) EVENTFD.invokeExact(st, initval, flags);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        if (fd < 0) {
            throw new NativeException("eventfd", null, errno(st));
        }
        return fd;
    }

    /**
     * {@code sched_setaffinity(pid, mask.byteSize(), mask)}.
     *
     * @param pid the thread id (0 for the calling thread)
     * @param mask a native {@code cpu_set_t}: bit {@code i} set for CPU {@code i}; its size is
     *     passed as {@code cpusetsize}
     * @return 0, or {@code -errno}
     */
    public static int schedSetAffinity(int pid, MemorySegment mask) {
        MemorySegment st = state();
        try {
            int r = (int) SCHED_SETAFFINITY.invokeExact(st, pid, mask.byteSize(), mask);
            return r == 0 ? 0 : -errno(st);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * {@code sched_getaffinity(pid, mask.byteSize(), mask)}.
     *
     * @param pid the thread id (0 for the calling thread)
     * @param mask a native {@code cpu_set_t} the kernel fills: bit {@code i} set for each allowed
     *     CPU {@code i}
     * @return 0, or {@code -errno}
     */
    public static int schedGetAffinity(int pid, MemorySegment mask) {
        MemorySegment st = state();
        try {
            int r = (int) SCHED_GETAFFINITY.invokeExact(st, pid, mask.byteSize(), mask);
            return r >= 0 ? 0 : -errno(st);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * {@code sched_getcpu()}: the CPU the calling thread runs on, or {@code -errno}.
     *
     * @return the CPU number, or {@code -errno}
     */
    public static int schedGetCpu() {
        MemorySegment st = state();
        try {
            int r = (int) SCHED_GETCPU.invokeExact(st);
            return r >= 0 ? r : -errno(st);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    // ------------------------------------------------------------------ appended: AF_PACKET back-end

    /** {@code SO_ERROR} (SOL_SOCKET): the pending socket error, cleared by reading it. */
    public static final int SO_ERROR = 4;
    /** x86_64 {@code getsockopt} system call number. */
    public static final long SYS_GETSOCKOPT = 55;

    // long syscall(long nr, long fd, long level, long optname, long optval, long optlen): raw addresses
    private static final MethodHandle SYSCALL_GETSOCKOPT_ADDR = link("syscall",
            FunctionDescriptor.of(LONG, LONG, LONG, LONG, LONG, LONG, LONG), 1);

    /**
     * Reads and clears the pending error of socket {@code fd} ({@code getsockopt(SO_ERROR)}),
     * without allocating: {@code scratch} (a native segment of at least 8 bytes, owned by the
     * caller) holds the value and the length. A socket with a pending error (e.g. ENETDOWN after
     * its interface went down) makes {@code poll()} report POLLERR until the error is read.
     * Hot-path contract: never throws for a failed call.
     *
     * @param fd the socket
     * @param scratch a caller-owned native segment of at least 8 bytes, overwritten
     * @return the pending errno (0 if none), or {@code -errno} if getsockopt itself failed
     * @throws IllegalArgumentException if {@code scratch} is a heap segment
     * @throws IndexOutOfBoundsException if {@code scratch} is smaller than 8 bytes
     */
    public static int socketError(int fd, MemorySegment scratch) {
        checkLength(scratch, 8);
        if (!scratch.isNative()) {
            throw new IllegalArgumentException("socketError needs a native segment");
        }
        scratch.set(INT, 0, 0);
        scratch.set(INT, 4, 4);
        MemorySegment st = state();
        try {
            long r = (long) SYSCALL_GETSOCKOPT_ADDR.invokeExact(st, SYS_GETSOCKOPT, (long) fd, (long) SOL_SOCKET,
                    (long) SO_ERROR, scratch.address(), scratch.address() + 4);
            return r < 0 ? -errno(st) : scratch.get(INT, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        } finally {
            Reference.reachabilityFence(scratch);
        }
    }
}
