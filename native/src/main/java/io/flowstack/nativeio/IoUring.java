package io.flowstack.nativeio;

import static io.flowstack.nativeio.IoUringLayout.*;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * One io_uring instance bound through FFM with raw system calls ({@code io_uring_setup},
 * {@code io_uring_enter}, {@code io_uring_register} via {@code syscall(2)}; no liburing): the
 * submission and completion rings and the SQE array mapped with {@code mmap(2)}, and the
 * single-producer / single-consumer protocol on them (the SQ tail and CQ head are stored with
 * release, the SQ head and CQ tail loaded with acquire).
 *
 * <p>Use: {@link #prepare} (or {@link #prepareReadv}, {@link #prepareWritev}, ...) queues an
 * operation in the next free SQE and returns false when the ring is full; {@link #submit}
 * publishes the queued entries and calls {@code io_uring_enter} once for all of them, optionally
 * waiting for completions; {@link #ready()}, {@link #userData(int)}, {@link #result(int)} and
 * {@link #advance(int)} read the completions in place. Nothing is allocated per operation: the
 * buffers and iovecs the operations point at belong to the caller and must stay valid (and
 * unchanged, for writes) until their completion is reaped.
 *
 * <p>With {@link IoUringLayout#IORING_SETUP_SQPOLL} a kernel thread picks up the entries;
 * {@link #submit} then only enters the kernel to wake that thread or to wait. That thread posts
 * the completions of a batch before it publishes the new SQ head, so {@link #prepare} may report
 * a full queue for a moment after every completion is in: retry.
 *
 * <p>A read with nothing to read does <b>not</b> complete with {@code -EAGAIN}, even on an
 * {@code O_NONBLOCK} descriptor: for files that can be polled (eventfds, pipes, sockets, TAPs)
 * the kernel tries at once, and otherwise arms an internal poll and completes the read when data
 * arrives (observed on 6.18 with an eventfd and a TAP). A reader therefore keeps its reads in
 * flight and waits for completions with {@link #submit}{@code (minComplete)}; an operation
 * still in flight is cancelled by {@link #close()}. Unless the read asks for
 * {@code RWF_NOWAIT} ({@link #prepareReadvNoWait}): then it completes with {@code -EAGAIN}
 * inside the submitting call (observed on 6.18 with a TAP).
 *
 * <p>Readiness without a system call: on a ring set up with
 * {@link IoUringLayout#IORING_SETUP_COOP_TASKRUN} and {@link IoUringLayout#IORING_SETUP_TASKRUN_FLAG},
 * a {@link #preparePollIn} that fires later queues its completion as task work for the submitter
 * without interrupting it and sets {@code IORING_SQ_TASKRUN}, which {@link #taskRunPending()}
 * reads; the submitter's next entry into the kernel (any system call's return) posts the
 * completion (observed on 6.18 with an eventfd and a TAP).
 *
 * <p>Errors of setup, mapping and registration throw {@link NativeException} naming the call
 * ({@code io_uring_setup}, {@code mmap}, {@code io_uring_register}); {@code io_uring_enter}
 * retries {@code EINTR}, returns {@code -EAGAIN}/{@code -EBUSY} (out of kernel resources or too
 * many completions pending: reap and retry) and throws for anything else. Per-operation errors are
 * the negative {@link #result(int)} of its completion.
 *
 * <p>Owned by: one thread, which prepares, submits, reaps and closes (the ring is
 * single-producer, single-consumer). It may be created on another thread and handed over before
 * use. Not thread safe.
 */
public final class IoUring implements AutoCloseable {
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG;
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT;
    /** Aligned int access with acquire/release modes: coordinates (segment, offset). */
    private static final VarHandle INT_VH = ValueLayout.JAVA_INT.varHandle();

    private static final Linker.Option ERRNO_OPT = Linker.Option.captureCallState("errno");
    private static final StructLayout STATE_LAYOUT = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO =
            STATE_LAYOUT.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    /** {@code long syscall(long nr, long a1, ..., long a6)} with errno capture. */
    private static final MethodHandle SYSCALL6 = linkSyscall();

    private final int ringFd;
    private final Arena arena;
    private final MemorySegment sqRing;
    private final MemorySegment cqRing;
    private final MemorySegment sqes;
    /** errno capture buffer of this ring (single owner thread). */
    private final MemorySegment state;
    private final int features;
    private final int setupFlags;
    private final boolean sqPoll;

    private final long sqHeadOff;
    private final long sqTailOff;
    private final long sqFlagsOff;
    private final int sqMask;
    private final int sqEntries;
    private final long cqHeadOff;
    private final long cqTailOff;
    private final long cqesOff;
    private final int cqMask;
    private final int cqEntries;

    /** Local copy of the SQ tail: entries prepared (published or not). */
    private int sqTail;
    /** The SQ tail last published to the kernel. */
    private int sqPublished;
    /** Last SQ head seen (entries the kernel consumed). */
    private int sqHeadCache;
    /** Local copy of the CQ head. */
    private int cqHead;
    /** Last CQ tail seen. */
    private int cqTailCache;
    private long enterCalls;
    private boolean closed;

    private IoUring(int ringFd, Arena arena, MemorySegment params, MemorySegment state) {
        this.ringFd = ringFd;
        this.arena = arena;
        this.state = state;
        this.setupFlags = params.get(INT, P_FLAGS);
        this.sqPoll = (setupFlags & IORING_SETUP_SQPOLL) != 0;
        this.features = params.get(INT, P_FEATURES);
        int sqCount = params.get(INT, P_SQ_ENTRIES);
        int cqCount = params.get(INT, P_CQ_ENTRIES);
        long sqArray = params.get(INT, P_SQ_OFF + SQ_OFF_ARRAY) & 0xffffffffL;
        long cqCqes = params.get(INT, P_CQ_OFF + CQ_OFF_CQES) & 0xffffffffL;
        long sqSize = sqArray + 4L * sqCount;
        long cqSize = cqCqes + (long) CQE_SIZE * cqCount;
        int prot = Libc.PROT_READ | Libc.PROT_WRITE;
        int flags = Libc.MAP_SHARED | Libc.MAP_POPULATE;
        if ((features & IORING_FEAT_SINGLE_MMAP) != 0) {
            long size = Math.max(sqSize, cqSize);
            this.sqRing = Libc.mmap(size, prot, flags, ringFd, IORING_OFF_SQ_RING, arena);
            this.cqRing = sqRing;
        } else {
            this.sqRing = Libc.mmap(sqSize, prot, flags, ringFd, IORING_OFF_SQ_RING, arena);
            this.cqRing = Libc.mmap(cqSize, prot, flags, ringFd, IORING_OFF_CQ_RING, arena);
        }
        this.sqes = Libc.mmap((long) SQE_SIZE * sqCount, prot, flags, ringFd, IORING_OFF_SQES,
                arena);
        this.sqHeadOff = params.get(INT, P_SQ_OFF + SQ_OFF_HEAD) & 0xffffffffL;
        this.sqTailOff = params.get(INT, P_SQ_OFF + SQ_OFF_TAIL) & 0xffffffffL;
        this.sqFlagsOff = params.get(INT, P_SQ_OFF + SQ_OFF_FLAGS) & 0xffffffffL;
        this.sqMask = sqRing.get(INT, params.get(INT, P_SQ_OFF + SQ_OFF_RING_MASK) & 0xffffffffL);
        this.sqEntries = sqRing.get(INT,
                params.get(INT, P_SQ_OFF + SQ_OFF_RING_ENTRIES) & 0xffffffffL);
        this.cqHeadOff = params.get(INT, P_CQ_OFF + CQ_OFF_HEAD) & 0xffffffffL;
        this.cqTailOff = params.get(INT, P_CQ_OFF + CQ_OFF_TAIL) & 0xffffffffL;
        this.cqesOff = cqCqes;
        this.cqMask = cqRing.get(INT, params.get(INT, P_CQ_OFF + CQ_OFF_RING_MASK) & 0xffffffffL);
        this.cqEntries = cqRing.get(INT,
                params.get(INT, P_CQ_OFF + CQ_OFF_RING_ENTRIES) & 0xffffffffL);
        // the SQ index array maps ring slot i to SQE i once and for all (as liburing does)
        for (int i = 0; i < sqEntries; i++) {
            sqRing.set(INT, sqArray + 4L * i, i);
        }
        this.sqTail = (int) INT_VH.getAcquire(sqRing, sqTailOff);
        this.sqPublished = sqTail;
        this.sqHeadCache = (int) INT_VH.getAcquire(sqRing, sqHeadOff);
        this.cqHead = (int) INT_VH.getAcquire(cqRing, cqHeadOff);
        this.cqTailCache = cqHead;
    }

    /**
     * A ring of {@code entries} submission entries (rounded up by the kernel to a power of two;
     * the completion ring gets twice as many), without SQPOLL.
     *
     * @param entries the submission queue size, 1..32768
     * @return the new ring
     * @throws NativeException naming {@code io_uring_setup} or {@code mmap}, e.g. {@code EPERM}
     *     when {@code kernel.io_uring_disabled} forbids it, or {@code ENOSYS}
     */
    public static IoUring open(int entries) {
        return open(entries, 0, 0);
    }

    /**
     * A ring of {@code entries} submission entries with the given {@code IORING_SETUP_*} flags.
     *
     * @param entries the submission queue size, 1..32768
     * @param setupFlags {@code IORING_SETUP_*} bits, e.g.
     *     {@link IoUringLayout#IORING_SETUP_SQPOLL} or
     *     {@link IoUringLayout#IORING_SETUP_SINGLE_ISSUER}
     * @param sqThreadIdleMillis with SQPOLL: how long the kernel thread spins without work before
     *     it sleeps (0: the kernel's default of one second)
     * @return the new ring
     * @throws NativeException naming {@code io_uring_setup} or {@code mmap}
     * @throws IllegalArgumentException if {@code entries} is out of range
     */
    public static IoUring open(int entries, int setupFlags, int sqThreadIdleMillis) {
        return open(entries, setupFlags, sqThreadIdleMillis, 0);
    }

    /**
     * A ring as {@link #open(int, int, int)}, with the CPU of the SQPOLL thread.
     *
     * @param entries the submission queue size, 1..32768
     * @param setupFlags {@code IORING_SETUP_*} bits
     * @param sqThreadIdleMillis with SQPOLL: the poll thread's idle time before it sleeps
     * @param sqThreadCpu with {@link IoUringLayout#IORING_SETUP_SQ_AFF}: the CPU the SQPOLL
     *     thread is pinned to
     * @return the new ring
     * @throws NativeException naming {@code io_uring_setup} or {@code mmap}
     * @throws IllegalArgumentException if {@code entries} is out of range
     */
    public static IoUring open(int entries, int setupFlags, int sqThreadIdleMillis,
            int sqThreadCpu) {
        if (entries < 1 || entries > 32768) {
            throw new IllegalArgumentException("entries must be in [1, 32768]: " + entries);
        }
        Arena arena = Arena.ofShared();
        MemorySegment state = arena.allocate(STATE_LAYOUT);
        MemorySegment params = arena.allocate(PARAMS_SIZE, 8);
        params.set(INT, P_FLAGS, setupFlags);
        params.set(INT, P_SQ_THREAD_IDLE, sqThreadIdleMillis);
        params.set(INT, P_SQ_THREAD_CPU, sqThreadCpu);
        int fd;
        try {
            long r = (long) SYSCALL6.invokeExact(state, SYS_IO_URING_SETUP, (long) entries,
                    params.address(), 0L, 0L, 0L, 0L);
            if (r < 0) {
                int e = (int) ERRNO.get(state, 0L);
                arena.close();
                throw new NativeException("io_uring_setup", "entries " + entries + " flags 0x"
                        + Integer.toHexString(setupFlags), e);
            }
            fd = (int) r;
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            arena.close();
            throw rethrow(t);
        }
        try {
            return new IoUring(fd, arena, params, state);
        } catch (RuntimeException e) {
            arena.close();
            Libc.close(fd);
            throw e;
        }
    }

    /**
     * The ring's descriptor.
     *
     * @return the io_uring file descriptor
     */
    public int fd() {
        return ringFd;
    }

    /**
     * The {@code IORING_FEAT_*} bits the kernel reported at setup.
     *
     * @return the feature bits, e.g. {@link IoUringLayout#IORING_FEAT_SINGLE_MMAP}
     */
    public int features() {
        return features;
    }

    /**
     * The submission queue size granted by the kernel.
     *
     * @return the number of SQEs (a power of two)
     */
    public int sqEntries() {
        return sqEntries;
    }

    /**
     * The completion queue size granted by the kernel.
     *
     * @return the number of CQEs (a power of two)
     */
    public int cqEntries() {
        return cqEntries;
    }

    /**
     * Whether a kernel thread polls the submission queue ({@code IORING_SETUP_SQPOLL}).
     *
     * @return true with SQPOLL
     */
    public boolean sqPoll() {
        return sqPoll;
    }

    /**
     * The number of {@code io_uring_enter} calls made so far by {@link #submit} (for system call
     * counts in measurements).
     *
     * @return the call count
     */
    public long enterCalls() {
        return enterCalls;
    }

    /**
     * Free SQEs: how many more operations {@link #prepare} accepts before the kernel consumes
     * some.
     *
     * @return the free submission entries
     */
    public int sqSpace() {
        int free = sqEntries - (sqTail - sqHeadCache);
        if (free == 0) {
            sqHeadCache = (int) INT_VH.getAcquire(sqRing, sqHeadOff);
            free = sqEntries - (sqTail - sqHeadCache);
        }
        return free;
    }

    /**
     * Queues one operation in the next SQE (not yet visible to the kernel: see {@link #submit}).
     * Every field of the SQE is written, so no stale field of an earlier use survives.
     *
     * @param opcode an {@code IORING_OP_*} value, e.g. {@link IoUringLayout#IORING_OP_READV}
     * @param fd the target descriptor
     * @param addr the buffer or iovec array address (native memory that stays valid until the
     *     completion is reaped)
     * @param len the byte count, or the iovec count for READV/WRITEV
     * @param offset the file offset; -1 for the current position (pipes, TAPs, sockets)
     * @param bufIndex the registered buffer index for READ_FIXED/WRITE_FIXED, else 0
     * @param userData a value returned unchanged in the completion
     * @return false if the submission queue is full (reap and submit first)
     */
    public boolean prepare(int opcode, int fd, long addr, int len, long offset, int bufIndex,
            long userData) {
        return prepare(opcode, fd, addr, len, 0, offset, bufIndex, userData);
    }

    /**
     * Queues {@code IORING_OP_ASYNC_CANCEL} of every operation in flight on {@code fd}
     * ({@code IORING_ASYNC_CANCEL_FD | IORING_ASYNC_CANCEL_ALL}). Its completion's result is
     * the number cancelled, or {@code -ENOENT} if there was none; each cancelled operation
     * completes with {@code -ECANCELED} (or its own result if it finished first).
     *
     * @param fd the descriptor whose operations are cancelled
     * @param userData returned in the cancel's own completion
     * @return false if the submission queue is full
     */
    public boolean prepareCancelFd(int fd, long userData) {
        return prepare(IORING_OP_ASYNC_CANCEL, fd, 0L, 0,
                IORING_ASYNC_CANCEL_FD | IORING_ASYNC_CANCEL_ALL, 0L, 0, userData);
    }

    private boolean prepare(int opcode, int fd, long addr, int len, int rwFlags, long offset,
            int bufIndex, long userData) {
        if (sqTail - sqHeadCache == sqEntries) {
            sqHeadCache = (int) INT_VH.getAcquire(sqRing, sqHeadOff);
            if (sqTail - sqHeadCache == sqEntries) {
                return false;
            }
        }
        long base = (long) (sqTail & sqMask) * SQE_SIZE;
        // opcode u8 | flags u8 | ioprio u16 | fd s32, as one little-endian long
        sqes.set(LONG, base, (opcode & 0xffL) | ((long) fd << 32));
        sqes.set(LONG, base + SQE_OFF, offset);
        sqes.set(LONG, base + SQE_ADDR, addr);
        sqes.set(LONG, base + SQE_LEN, (len & 0xffffffffL) | ((long) rwFlags << 32));
        sqes.set(LONG, base + SQE_USER_DATA, userData);
        sqes.set(LONG, base + SQE_BUF_INDEX, bufIndex & 0xffffL); // personality, splice_fd_in 0
        sqes.set(LONG, base + SQE_ADDR3, 0L);
        sqes.set(LONG, base + SQE_ADDR3 + 8, 0L);
        sqTail++;
        return true;
    }

    /**
     * Queues {@code IORING_OP_READV} at the current position.
     *
     * @param fd the descriptor to read
     * @param iovAddress address of {@code iovCount} {@code struct iovec}s in native memory
     * @param iovCount the number of iovecs
     * @param userData returned in the completion
     * @return false if the submission queue is full
     */
    public boolean prepareReadv(int fd, long iovAddress, int iovCount, long userData) {
        return prepare(IORING_OP_READV, fd, iovAddress, iovCount, -1L, 0, userData);
    }

    /**
     * Queues {@code IORING_OP_READV} with {@link IoUringLayout#RWF_NOWAIT}: with nothing to read
     * it completes during the submitting {@code io_uring_enter} with {@code -EAGAIN} rather than
     * staying in flight, so a batch of such reads is the TAP's {@code recvmmsg}.
     *
     * @param fd the descriptor to read
     * @param iovAddress address of {@code iovCount} {@code struct iovec}s in native memory
     * @param iovCount the number of iovecs
     * @param userData returned in the completion
     * @return false if the submission queue is full
     */
    public boolean prepareReadvNoWait(int fd, long iovAddress, int iovCount, long userData) {
        return prepare(IORING_OP_READV, fd, iovAddress, iovCount, RWF_NOWAIT, -1L, 0, userData);
    }

    /**
     * Queues a one-shot {@code IORING_OP_POLL_ADD} for {@code POLLIN} on {@code fd}: it completes
     * (result: the ready mask) inside the submitting call if {@code fd} is readable then, else when
     * it becomes readable. On a ring set up with {@code COOP_TASKRUN | TASKRUN_FLAG} that later
     * completion waits for the submitter's next entry into the kernel and shows meanwhile as
     * {@link #taskRunPending()}, so a spinning owner sees it in memory.
     *
     * @param fd the descriptor to watch
     * @param userData returned in the completion
     * @return false if the submission queue is full
     */
    public boolean preparePollIn(int fd, long userData) {
        return prepare(IORING_OP_POLL_ADD, fd, 0L, 0, Poller.POLLIN, 0L, 0, userData);
    }

    /**
     * Whether the kernel holds completion work for this ring until the submitter enters it
     * ({@code IORING_SQ_TASKRUN} in the SQ ring's flags, a load-acquire; only on a ring set up with
     * {@code IORING_SETUP_TASKRUN_FLAG}). No system call.
     *
     * @return true if an {@code io_uring_enter} would post completions now waiting
     */
    public boolean taskRunPending() {
        return ((int) INT_VH.getAcquire(sqRing, sqFlagsOff) & IORING_SQ_TASKRUN) != 0;
    }

    /**
     * Queues {@code IORING_OP_WRITE} of one buffer at the current position.
     *
     * @param fd the descriptor to write
     * @param address the bytes, in native memory that stays unchanged until the completion
     * @param len the number of bytes
     * @param userData returned in the completion
     * @return false if the submission queue is full
     */
    public boolean prepareWrite(int fd, long address, int len, long userData) {
        return prepare(IORING_OP_WRITE, fd, address, len, -1L, 0, userData);
    }

    /**
     * Queues {@code IORING_OP_WRITEV} at the current position.
     *
     * @param fd the descriptor to write
     * @param iovAddress address of {@code iovCount} {@code struct iovec}s in native memory
     * @param iovCount the number of iovecs
     * @param userData returned in the completion
     * @return false if the submission queue is full
     */
    public boolean prepareWritev(int fd, long iovAddress, int iovCount, long userData) {
        return prepare(IORING_OP_WRITEV, fd, iovAddress, iovCount, -1L, 0, userData);
    }

    /**
     * Queues {@code IORING_OP_READ_FIXED} into (part of) registered buffer {@code bufIndex}.
     *
     * @param fd the descriptor to read
     * @param address where the bytes go, inside the registered buffer
     * @param len the most bytes to read
     * @param bufIndex the index given to {@link #registerBuffers}
     * @param userData returned in the completion
     * @return false if the submission queue is full
     */
    public boolean prepareReadFixed(int fd, long address, int len, int bufIndex, long userData) {
        return prepare(IORING_OP_READ_FIXED, fd, address, len, -1L, bufIndex, userData);
    }

    /**
     * Queues {@code IORING_OP_WRITE_FIXED} from (part of) registered buffer {@code bufIndex}.
     *
     * @param fd the descriptor to write
     * @param address where the bytes start, inside the registered buffer
     * @param len the number of bytes
     * @param bufIndex the index given to {@link #registerBuffers}
     * @param userData returned in the completion
     * @return false if the submission queue is full
     */
    public boolean prepareWriteFixed(int fd, long address, int len, int bufIndex, long userData) {
        return prepare(IORING_OP_WRITE_FIXED, fd, address, len, -1L, bufIndex, userData);
    }

    /**
     * Operations prepared but not yet published by {@link #submit}.
     *
     * @return the count
     */
    public int pending() {
        return sqTail - sqPublished;
    }

    /**
     * Publishes the prepared entries (store-release of the SQ tail) and, unless SQPOLL makes it
     * unnecessary, calls {@code io_uring_enter} once to submit them (with any an earlier call left
     * unconsumed), waiting for at least
     * {@code minComplete} completions if that is positive. With SQPOLL the kernel is entered only
     * to wake a sleeping poll thread or to wait.
     *
     * @param minComplete completions to wait for (0: do not wait)
     * @return the number of entries submitted by this call (with SQPOLL: published), or
     *     {@code -EAGAIN} / {@code -EBUSY} when the kernel asks to reap completions first
     * @throws NativeException naming {@code io_uring_enter} for any other failure
     */
    public int submit(int minComplete) {
        int toSubmit = sqTail - sqPublished;
        if (toSubmit > 0) {
            INT_VH.setRelease(sqRing, sqTailOff, sqTail);
            sqPublished = sqTail;
        }
        int flags = minComplete > 0 ? IORING_ENTER_GETEVENTS : 0;
        if (sqPoll) {
            VarHandle.fullFence(); // order the tail store before the flags load (liburing does too)
            int sqFlags = sqRing.get(INT, sqFlagsOff);
            if ((sqFlags & IORING_SQ_NEED_WAKEUP) != 0) {
                flags |= IORING_ENTER_SQ_WAKEUP;
            }
            if (flags == 0) {
                return toSubmit;
            }
            int r = enter(0, minComplete, flags);
            return r < 0 ? r : toSubmit;
        }
        // Everything published and not yet consumed: a call the kernel cut short (it consumed
        // fewer entries than asked, e.g. -EAGAIN for want of memory, and then does not wait)
        // leaves entries in the ring, which this call submits again rather than waiting for
        // completions that cannot come.
        int unconsumed = sqTail - (int) INT_VH.getAcquire(sqRing, sqHeadOff);
        if (unconsumed == 0 && flags == 0) {
            return 0;
        }
        return enter(unconsumed, minComplete, flags);
    }

    /**
     * {@code io_uring_enter(fd, toSubmit, minComplete, flags, NULL, 0)}; retries {@code EINTR}.
     *
     * @param toSubmit entries to consume from the SQ ring
     * @param minComplete completions to wait for with {@code IORING_ENTER_GETEVENTS}
     * @param flags {@code IORING_ENTER_*} bits
     * @return entries consumed, or {@code -EAGAIN} / {@code -EBUSY}
     * @throws NativeException naming {@code io_uring_enter} for any other failure
     */
    public int enter(int toSubmit, int minComplete, int flags) {
        try {
            for (;;) {
                enterCalls++;
                long r = (long) SYSCALL6.invokeExact(state, SYS_IO_URING_ENTER, (long) ringFd,
                        (long) toSubmit, (long) minComplete, (long) flags, 0L, 0L);
                if (r >= 0) {
                    return (int) r;
                }
                int e = (int) ERRNO.get(state, 0L);
                if (e == Errno.EINTR) {
                    continue;
                }
                if (e == Errno.EAGAIN || e == Errno.EBUSY) {
                    return -e;
                }
                throw new NativeException("io_uring_enter", "ring fd " + ringFd, e);
            }
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * Completions ready to read (load-acquire of the CQ tail). They are read in place with
     * {@link #userData(int)} and {@link #result(int)}, then released with {@link #advance(int)}.
     *
     * @return the number of unread completions
     */
    public int ready() {
        cqTailCache = (int) INT_VH.getAcquire(cqRing, cqTailOff);
        return cqTailCache - cqHead;
    }

    /**
     * The {@code user_data} of the {@code i}-th unread completion.
     *
     * @param i 0 for the oldest unread completion, below {@link #ready()}
     * @return the value given when the operation was prepared
     */
    public long userData(int i) {
        return cqRing.get(LONG, cqesOff + (long) ((cqHead + i) & cqMask) * CQE_SIZE
                + CQE_USER_DATA);
    }

    /**
     * The {@code res} of the {@code i}-th unread completion.
     *
     * @param i 0 for the oldest unread completion, below {@link #ready()}
     * @return the operation's result (bytes transferred), or {@code -errno}
     */
    public int result(int i) {
        return cqRing.get(INT, cqesOff + (long) ((cqHead + i) & cqMask) * CQE_SIZE + CQE_RES);
    }

    /**
     * Releases {@code n} read completions to the kernel (store-release of the CQ head).
     *
     * @param n how many of the oldest unread completions are done with, at most {@link #ready()}
     */
    public void advance(int n) {
        if (n > 0) {
            cqHead += n;
            INT_VH.setRelease(cqRing, cqHeadOff, cqHead);
        }
    }

    /**
     * Registers fixed buffers for READ_FIXED/WRITE_FIXED ({@code IORING_REGISTER_BUFFERS}): the
     * kernel pins the pages once instead of per operation. Control path.
     *
     * @param iovecs {@code count} {@code struct iovec}s ({@link Libc#IOVEC_SIZE} bytes each)
     *     describing the buffers; buffer {@code i} gets index {@code i}
     * @param count the number of buffers
     * @throws NativeException naming {@code io_uring_register}, e.g. {@code ENOMEM} when the
     *     locked-memory limit is too small
     */
    public void registerBuffers(MemorySegment iovecs, int count) {
        if (iovecs.byteSize() < count * Libc.IOVEC_SIZE || !iovecs.isNative()) {
            throw new IllegalArgumentException("need " + count + " native iovecs");
        }
        register(IORING_REGISTER_BUFFERS, iovecs.address(), count, "IORING_REGISTER_BUFFERS");
    }

    /**
     * Drops the fixed buffers ({@code IORING_UNREGISTER_BUFFERS}). Control path.
     *
     * @throws NativeException naming {@code io_uring_register}, e.g. {@code ENXIO} when none are
     *     registered
     */
    public void unregisterBuffers() {
        register(IORING_UNREGISTER_BUFFERS, 0L, 0, "IORING_UNREGISTER_BUFFERS");
    }

    private void register(int opcode, long arg, int nrArgs, String what) {
        try {
            long r = (long) SYSCALL6.invokeExact(state, SYS_IO_URING_REGISTER, (long) ringFd,
                    (long) opcode, arg, (long) nrArgs, 0L, 0L);
            if (r < 0) {
                throw new NativeException("io_uring_register", what,
                        (int) ERRNO.get(state, 0L));
            }
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * Unmaps the rings and closes the ring descriptor; idempotent. Operations still in flight
     * are cancelled by the kernel; their buffers must stay valid until this returns.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        arena.close();
        Libc.close(ringFd);
    }

    @SuppressWarnings("restricted") // the project's native access point for io_uring
    private static MethodHandle linkSyscall() {
        Linker linker = Linker.nativeLinker();
        MemorySegment symbol = linker.defaultLookup().find("syscall")
                .orElseThrow(() -> new UnsatisfiedLinkError("libc symbol not found: syscall"));
        return linker.downcallHandle(symbol,
                FunctionDescriptor.of(LONG, LONG, LONG, LONG, LONG, LONG, LONG, LONG),
                ERRNO_OPT, Linker.Option.firstVariadicArg(1));
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
}
