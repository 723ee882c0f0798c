package io.flowstack.nativeio;

/**
 * Constants and struct offsets of the io_uring ABI, from {@code include/uapi/linux/io_uring.h}
 * (x86_64). The offsets were checked with {@code offsetof} against the machine's
 * {@code linux/io_uring.h}; the ABI is stable, so they hold on every kernel that has io_uring.
 *
 * <pre>
 * struct io_uring_params {            // 120 bytes
 *     __u32 sq_entries;               // 0
 *     __u32 cq_entries;               // 4
 *     __u32 flags;                    // 8   IORING_SETUP_*
 *     __u32 sq_thread_cpu;            // 12
 *     __u32 sq_thread_idle;           // 16  milliseconds
 *     __u32 features;                 // 20  IORING_FEAT_*
 *     __u32 wq_fd;                    // 24
 *     __u32 resv[3];                  // 28
 *     struct io_sqring_offsets sq_off; // 40 (40 bytes)
 *     struct io_cqring_offsets cq_off; // 80 (40 bytes)
 * };
 * struct io_sqring_offsets { __u32 head, tail, ring_mask, ring_entries, flags, dropped, array,
 *                            resv1; __u64 user_addr; };
 * struct io_cqring_offsets { __u32 head, tail, ring_mask, ring_entries, overflow, cqes, flags,
 *                            resv1; __u64 user_addr; };
 * struct io_uring_sqe {               // 64 bytes
 *     __u8 opcode; __u8 flags; __u16 ioprio; __s32 fd;   // 0, 1, 2, 4
 *     __u64 off;                                         // 8
 *     __u64 addr;                                        // 16
 *     __u32 len;                                         // 24
 *     __u32 rw_flags;                                    // 28
 *     __u64 user_data;                                   // 32
 *     __u16 buf_index; __u16 personality; __s32 splice_fd_in; // 40, 42, 44
 *     __u64 addr3; __u64 __pad2[1];                      // 48, 56
 * };
 * struct io_uring_cqe { __u64 user_data; __s32 res; __u32 flags; }; // 16 bytes
 * </pre>
 *
 * <p>Owned by: nobody (constants only).
 */
public final class IoUringLayout {
    // system calls (x86_64)
    /** x86_64 system call number of {@code io_uring_setup(2)}. */
    public static final long SYS_IO_URING_SETUP = 425;
    /** x86_64 system call number of {@code io_uring_enter(2)}. */
    public static final long SYS_IO_URING_ENTER = 426;
    /** x86_64 system call number of {@code io_uring_register(2)}. */
    public static final long SYS_IO_URING_REGISTER = 427;

    // mmap offsets
    /** {@code mmap(2)} offset of the submission queue ring. */
    public static final long IORING_OFF_SQ_RING = 0L;
    /** {@code mmap(2)} offset of the completion queue ring. */
    public static final long IORING_OFF_CQ_RING = 0x8000000L;
    /** {@code mmap(2)} offset of the submission queue entry array. */
    public static final long IORING_OFF_SQES = 0x10000000L;

    // setup flags
    /** {@code IORING_SETUP_SQPOLL}: a kernel thread polls the submission queue. */
    public static final int IORING_SETUP_SQPOLL = 0x2;
    /** {@code IORING_SETUP_SQ_AFF}: pin the SQPOLL thread to {@code sq_thread_cpu}. */
    public static final int IORING_SETUP_SQ_AFF = 0x4;
    /** {@code IORING_SETUP_CQSIZE}: the completion queue size is given in {@code cq_entries}. */
    public static final int IORING_SETUP_CQSIZE = 0x8;
    /** {@code IORING_SETUP_COOP_TASKRUN}: no interrupt of the task to run completion work. */
    public static final int IORING_SETUP_COOP_TASKRUN = 0x100;
    /**
     * {@code IORING_SETUP_TASKRUN_FLAG} (with {@code COOP_TASKRUN}): while completion work waits
     * for the task to enter the kernel, the SQ ring's flags carry {@link #IORING_SQ_TASKRUN}.
     */
    public static final int IORING_SETUP_TASKRUN_FLAG = 0x200;
    /** {@code IORING_SETUP_SINGLE_ISSUER}: only one task submits (the owner thread). */
    public static final int IORING_SETUP_SINGLE_ISSUER = 0x1000;
    /**
     * {@code IORING_SETUP_SUBMIT_ALL}: an entry that fails while it is prepared completes with its
     * error and the rest of the batch is still submitted (without it, submission stops there).
     */
    public static final int IORING_SETUP_SUBMIT_ALL = 0x80;

    // per-operation read/write flags (the SQE's rw_flags, as preadv2's flags)
    /**
     * {@code RWF_NOWAIT}: a read or write that would block completes at once with {@code -EAGAIN}
     * instead of waiting on the kernel's internal poll (the file must support it: a TAP does).
     */
    public static final int RWF_NOWAIT = 0x8;

    // features reported by setup
    /** {@code IORING_FEAT_SINGLE_MMAP}: one mapping serves the SQ and CQ rings. */
    public static final int IORING_FEAT_SINGLE_MMAP = 0x1;
    /** {@code IORING_FEAT_NODROP}: completions that overflow the CQ ring are kept, not dropped. */
    public static final int IORING_FEAT_NODROP = 0x2;
    /** {@code IORING_FEAT_SQPOLL_NONFIXED}: SQPOLL works without registered files. */
    public static final int IORING_FEAT_SQPOLL_NONFIXED = 0x80;

    // enter flags
    /** {@code IORING_ENTER_GETEVENTS}: wait for {@code min_complete} completions. */
    public static final int IORING_ENTER_GETEVENTS = 0x1;
    /** {@code IORING_ENTER_SQ_WAKEUP}: wake the sleeping SQPOLL thread. */
    public static final int IORING_ENTER_SQ_WAKEUP = 0x2;

    // SQ ring flags
    /** {@code IORING_SQ_NEED_WAKEUP}: the SQPOLL thread sleeps; wake it with enter. */
    public static final int IORING_SQ_NEED_WAKEUP = 0x1;
    /** {@code IORING_SQ_TASKRUN}: completion work waits for the task's next {@code io_uring_enter}. */
    public static final int IORING_SQ_TASKRUN = 0x4;

    // cancel flags (in the SQE's rw_flags field of IORING_OP_ASYNC_CANCEL)
    /** {@code IORING_ASYNC_CANCEL_ALL}: cancel every request that matches, not only the first. */
    public static final int IORING_ASYNC_CANCEL_ALL = 1;
    /** {@code IORING_ASYNC_CANCEL_FD}: match on the descriptor instead of user_data. */
    public static final int IORING_ASYNC_CANCEL_FD = 2;
    /** {@code IORING_ASYNC_CANCEL_ANY}: match any request. */
    public static final int IORING_ASYNC_CANCEL_ANY = 4;

    // register opcodes
    /** {@code IORING_REGISTER_BUFFERS}: register an iovec array of fixed buffers. */
    public static final int IORING_REGISTER_BUFFERS = 0;
    /** {@code IORING_UNREGISTER_BUFFERS}: drop the fixed buffers. */
    public static final int IORING_UNREGISTER_BUFFERS = 1;

    // opcodes
    /** {@code IORING_OP_NOP}: completes at once with result 0. */
    public static final int IORING_OP_NOP = 0;
    /** {@code IORING_OP_READV}: {@code readv(2)}; addr = iovec array, len = count. */
    public static final int IORING_OP_READV = 1;
    /** {@code IORING_OP_WRITEV}: {@code writev(2)}; addr = iovec array, len = count. */
    public static final int IORING_OP_WRITEV = 2;
    /** {@code IORING_OP_READ_FIXED}: read into a registered buffer (buf_index). */
    public static final int IORING_OP_READ_FIXED = 4;
    /** {@code IORING_OP_WRITE_FIXED}: write from a registered buffer (buf_index). */
    public static final int IORING_OP_WRITE_FIXED = 5;
    /**
     * {@code IORING_OP_POLL_ADD}: completes once with the ready mask when the descriptor has one of
     * the events in the SQE's {@code poll32_events} (the rw_flags field); len 0 is one-shot.
     */
    public static final int IORING_OP_POLL_ADD = 6;
    /** {@code IORING_OP_ASYNC_CANCEL}: cancel operations in flight (rw_flags: cancel flags). */
    public static final int IORING_OP_ASYNC_CANCEL = 14;
    /** {@code IORING_OP_READ}: {@code read(2)}; addr = buffer, len = bytes. */
    public static final int IORING_OP_READ = 22;
    /** {@code IORING_OP_WRITE}: {@code write(2)}; addr = buffer, len = bytes. */
    public static final int IORING_OP_WRITE = 23;

    // struct io_uring_params
    /** {@code sizeof(struct io_uring_params)}. */
    public static final int PARAMS_SIZE = 120;
    /** Offset of {@code sq_entries} in {@code io_uring_params}. */
    public static final long P_SQ_ENTRIES = 0;
    /** Offset of {@code cq_entries} in {@code io_uring_params}. */
    public static final long P_CQ_ENTRIES = 4;
    /** Offset of {@code flags} in {@code io_uring_params}. */
    public static final long P_FLAGS = 8;
    /** Offset of {@code sq_thread_cpu} in {@code io_uring_params}. */
    public static final long P_SQ_THREAD_CPU = 12;
    /** Offset of {@code sq_thread_idle} in {@code io_uring_params}. */
    public static final long P_SQ_THREAD_IDLE = 16;
    /** Offset of {@code features} in {@code io_uring_params}. */
    public static final long P_FEATURES = 20;
    /** Offset of {@code sq_off} (a {@code struct io_sqring_offsets}) in {@code io_uring_params}. */
    public static final long P_SQ_OFF = 40;
    /** Offset of {@code cq_off} (a {@code struct io_cqring_offsets}) in {@code io_uring_params}. */
    public static final long P_CQ_OFF = 80;

    // struct io_sqring_offsets (relative to P_SQ_OFF)
    /** {@code io_sqring_offsets.head}. */
    public static final long SQ_OFF_HEAD = 0;
    /** {@code io_sqring_offsets.tail}. */
    public static final long SQ_OFF_TAIL = 4;
    /** {@code io_sqring_offsets.ring_mask}. */
    public static final long SQ_OFF_RING_MASK = 8;
    /** {@code io_sqring_offsets.ring_entries}. */
    public static final long SQ_OFF_RING_ENTRIES = 12;
    /** {@code io_sqring_offsets.flags}. */
    public static final long SQ_OFF_FLAGS = 16;
    /** {@code io_sqring_offsets.dropped}. */
    public static final long SQ_OFF_DROPPED = 20;
    /** {@code io_sqring_offsets.array}. */
    public static final long SQ_OFF_ARRAY = 24;

    // struct io_cqring_offsets (relative to P_CQ_OFF)
    /** {@code io_cqring_offsets.head}. */
    public static final long CQ_OFF_HEAD = 0;
    /** {@code io_cqring_offsets.tail}. */
    public static final long CQ_OFF_TAIL = 4;
    /** {@code io_cqring_offsets.ring_mask}. */
    public static final long CQ_OFF_RING_MASK = 8;
    /** {@code io_cqring_offsets.ring_entries}. */
    public static final long CQ_OFF_RING_ENTRIES = 12;
    /** {@code io_cqring_offsets.overflow}. */
    public static final long CQ_OFF_OVERFLOW = 16;
    /** {@code io_cqring_offsets.cqes}. */
    public static final long CQ_OFF_CQES = 20;

    // struct io_uring_sqe
    /** {@code sizeof(struct io_uring_sqe)}. */
    public static final int SQE_SIZE = 64;
    /** Offset of {@code opcode} (u8) in an SQE. */
    public static final long SQE_OPCODE = 0;
    /** Offset of {@code flags} (u8) in an SQE. */
    public static final long SQE_FLAGS = 1;
    /** Offset of {@code ioprio} (u16) in an SQE. */
    public static final long SQE_IOPRIO = 2;
    /** Offset of {@code fd} (s32) in an SQE. */
    public static final long SQE_FD = 4;
    /** Offset of {@code off} (u64) in an SQE. */
    public static final long SQE_OFF = 8;
    /** Offset of {@code addr} (u64) in an SQE. */
    public static final long SQE_ADDR = 16;
    /** Offset of {@code len} (u32) in an SQE. */
    public static final long SQE_LEN = 24;
    /** Offset of {@code rw_flags} (u32) in an SQE. */
    public static final long SQE_RW_FLAGS = 28;
    /** Offset of {@code user_data} (u64) in an SQE. */
    public static final long SQE_USER_DATA = 32;
    /** Offset of {@code buf_index} (u16) in an SQE. */
    public static final long SQE_BUF_INDEX = 40;
    /** Offset of {@code addr3} (u64) in an SQE. */
    public static final long SQE_ADDR3 = 48;

    // struct io_uring_cqe
    /** {@code sizeof(struct io_uring_cqe)} (without {@code IORING_SETUP_CQE32}). */
    public static final int CQE_SIZE = 16;
    /** Offset of {@code user_data} (u64) in a CQE. */
    public static final long CQE_USER_DATA = 0;
    /** Offset of {@code res} (s32: a result, or {@code -errno}) in a CQE. */
    public static final long CQE_RES = 8;
    /** Offset of {@code flags} (u32) in a CQE. */
    public static final long CQE_FLAGS = 12;

    private IoUringLayout() {
    }
}
