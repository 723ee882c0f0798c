package io.flowstack.nativeio;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The few {@code bpf(2)} commands the stack uses (linux/bpf.h): load a program (a socket filter,
 * an XDP program), create and update a map (an array, an XSKMAP), attach a program to an
 * interface with a link ({@code BPF_LINK_CREATE}), and run a program on a test frame. The {@code union bpf_attr}
 * is passed as 128 zeroed bytes with the command's fields at their offsets (the kernel requires
 * every byte past the fields it knows to be zero).
 *
 * <p>Owned by: nobody (stateless; each call acts on the descriptors it is given).
 */
public final class Bpf {
    /** {@code bpf(2)} command: create a map; returns its fd. */
    public static final int BPF_MAP_CREATE = 0;
    /** {@code bpf(2)} command: read the value of a map's key. */
    public static final int BPF_MAP_LOOKUP_ELEM = 1;
    /** {@code bpf(2)} command: create or update a map's key. */
    public static final int BPF_MAP_UPDATE_ELEM = 2;
    /** {@code bpf(2)} command: verify and load a program; returns its fd. */
    public static final int BPF_PROG_LOAD = 5;
    /**
     * {@code bpf(2)} command: run a loaded program on test input ({@code BPF_PROG_RUN} since Linux
     * 5.10).
     */
    public static final int BPF_PROG_TEST_RUN = 10;
    /**
     * Program type of socket filters, also what TUN steering and {@code PACKET_FANOUT_EBPF} take.
     */
    public static final int BPF_PROG_TYPE_SOCKET_FILTER = 1;
    /** Map type: an array indexed by a 4-byte key from 0. */
    public static final int BPF_MAP_TYPE_ARRAY = 2;
    /** Map type: AF_XDP sockets by 4-byte index (a value is the socket's fd on update). */
    public static final int BPF_MAP_TYPE_XSKMAP = 17;
    /** Program type of XDP programs, run by the driver (or the generic hook) on every received frame. */
    public static final int BPF_PROG_TYPE_XDP = 6;
    /** {@code bpf(2)} command: attach a program with a link whose fd holds the attachment; returns it. */
    public static final int BPF_LINK_CREATE = 28;
    /** {@code enum bpf_attach_type}: an XDP program on a network interface. */
    public static final int BPF_XDP = 37;
    /** {@code linux/if_link.h}: attach in the generic (skb) hook, which every device has. */
    public static final int XDP_FLAGS_SKB_MODE = 1 << 1;
    /** {@code linux/if_link.h}: attach in the driver's own hook (native XDP). */
    public static final int XDP_FLAGS_DRV_MODE = 1 << 2;
    private static final int ATTR_BYTES = 128;
    private static final int LOG_BYTES = 64 * 1024;

    private Bpf() {
    }

    /**
     * Loads a {@code BPF_PROG_TYPE_SOCKET_FILTER} program of {@code insns} (8 bytes each).
     *
     * @param insns a native segment of {@code struct bpf_insn}s
     * @param name what the program is for, for error messages (the program itself stays unnamed)
     * @return the program's fd
     * @throws NativeException {@code bpf(BPF_PROG_LOAD) NAME: ERRNO} with the verifier's last log
     *     line in the message when it refused the program
     */
    public static int loadSocketFilter(MemorySegment insns, String name) {
        return loadProgram(BPF_PROG_TYPE_SOCKET_FILTER, 0, insns, name);
    }

    /**
     * Loads a program of type {@code type} with {@code bpf(BPF_PROG_LOAD)}, license GPL, the
     * verifier's log on. {@code union bpf_attr}'s load fields: {@code prog_type}@0,
     * {@code insn_cnt}@4, {@code insns}@8, {@code license}@16, {@code log_level}@24,
     * {@code log_size}@28, {@code log_buf}@32, {@code expected_attach_type}@68.
     *
     * @param type e.g. {@link #BPF_PROG_TYPE_XDP}
     * @param expectedAttachType the {@code expected_attach_type} (e.g. {@link #BPF_XDP}), or 0
     * @param insns a native segment of {@code struct bpf_insn}s
     * @param name what the program is for, for error messages (the program itself stays unnamed)
     * @return the program's fd
     * @throws NativeException {@code bpf(BPF_PROG_LOAD) NAME: ERRNO} with the verifier's last log
     *     line in the message when it refused the program
     */
    public static int loadProgram(int type, int expectedAttachType, MemorySegment insns, String name) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment attr = arena.allocate(ATTR_BYTES, 8);
            MemorySegment license = arena.allocateFrom("GPL");
            MemorySegment log = arena.allocate(LOG_BYTES);
            attr.set(ValueLayout.JAVA_INT, 0, type);
            attr.set(ValueLayout.JAVA_INT, 4, (int) (insns.byteSize() / 8));
            attr.set(ValueLayout.JAVA_LONG, 8, insns.address());
            attr.set(ValueLayout.JAVA_LONG, 16, license.address());
            attr.set(ValueLayout.JAVA_INT, 24, 1); // log_level: the verifier says why it refuses
            attr.set(ValueLayout.JAVA_INT, 28, LOG_BYTES);
            attr.set(ValueLayout.JAVA_LONG, 32, log.address());
            attr.set(ValueLayout.JAVA_INT, 68, expectedAttachType);
            int fd = Libc.bpf(BPF_PROG_LOAD, attr);
            if (fd < 0) {
                String text = log.getString(0).strip();
                String last = text.isEmpty() ? "" : text.substring(text.lastIndexOf('\n') + 1);
                throw new NativeException("bpf(BPF_PROG_LOAD)", name + (last.isEmpty() ? "" : " (" + last + ")"), -fd);
            }
            return fd;
        }
    }

    /**
     * Attaches program {@code progFd} to the interface {@code ifindex} with
     * {@code bpf(BPF_LINK_CREATE)} ({@code prog_fd}@0, {@code target_ifindex}@4,
     * {@code attach_type}@8, {@code flags}@12). The attachment lives as long as the returned link
     * fd: closing it (or the process ending) detaches the program.
     *
     * @param progFd the program
     * @param ifindex the interface
     * @param attachType e.g. {@link #BPF_XDP}
     * @param flags for XDP, {@link #XDP_FLAGS_DRV_MODE} or {@link #XDP_FLAGS_SKB_MODE}
     * @param name what is attached where, for error messages
     * @return the link's fd
     * @throws NativeException if the kernel refuses, e.g. {@code EOPNOTSUPP} for a driver without
     *     native XDP, {@code EBUSY} if another program is attached in that mode
     */
    public static int linkCreate(int progFd, int ifindex, int attachType, int flags, String name) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment attr = arena.allocate(ATTR_BYTES, 8);
            attr.set(ValueLayout.JAVA_INT, 0, progFd);
            attr.set(ValueLayout.JAVA_INT, 4, ifindex);
            attr.set(ValueLayout.JAVA_INT, 8, attachType);
            attr.set(ValueLayout.JAVA_INT, 12, flags);
            int fd = Libc.bpf(BPF_LINK_CREATE, attr);
            if (fd < 0) {
                throw new NativeException("bpf(BPF_LINK_CREATE)", name, -fd);
            }
            return fd;
        }
    }

    /**
     * Creates an array map of {@code entries} 4-byte values (4-byte keys) with
     * {@code bpf(BPF_MAP_CREATE)}.
     *
     * @param entries the number of entries (keys 0 to {@code entries - 1}), all 0 at first
     * @param name what the map is for, for error messages (the map itself stays unnamed)
     * @return the map's file descriptor; the caller closes it
     * @throws NativeException if {@code bpf(BPF_MAP_CREATE)} fails, e.g. {@code EPERM} without
     *     {@code CAP_BPF} (or {@code CAP_SYS_ADMIN})
     */
    public static int createArrayMap(int entries, String name) {
        return createIntMap(BPF_MAP_TYPE_ARRAY, entries, name);
    }

    /**
     * Creates a map of type {@code type} with 4-byte keys and values ({@code map_type}@0,
     * {@code key_size}@4, {@code value_size}@8, {@code max_entries}@12), e.g. an
     * {@link #BPF_MAP_TYPE_XSKMAP}.
     *
     * @param type the map type
     * @param entries the number of entries
     * @param name what the map is for, for error messages
     * @return the map's file descriptor; the caller closes it
     * @throws NativeException if {@code bpf(BPF_MAP_CREATE)} fails
     */
    public static int createIntMap(int type, int entries, String name) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment attr = arena.allocate(ATTR_BYTES, 8);
            attr.set(ValueLayout.JAVA_INT, 0, type);
            attr.set(ValueLayout.JAVA_INT, 4, 4); // key_size
            attr.set(ValueLayout.JAVA_INT, 8, 4); // value_size
            attr.set(ValueLayout.JAVA_INT, 12, entries);
            int fd = Libc.bpf(BPF_MAP_CREATE, attr);
            if (fd < 0) {
                throw new NativeException("bpf(BPF_MAP_CREATE)", name, -fd);
            }
            return fd;
        }
    }

    /**
     * {@code map[key] = value} for a map of 4-byte keys and values ({@code bpf(BPF_MAP_UPDATE_ELEM)},
     * {@code BPF_ANY}): an array of ints, or an XSKMAP (the value is an AF_XDP socket's fd).
     *
     * @param mapFd the map's file descriptor
     * @param key the index, 0 to the map's entries - 1
     * @param value the new value
     * @throws NativeException if {@code bpf(BPF_MAP_UPDATE_ELEM)} fails, e.g. {@code E2BIG} for a
     *     key out of range
     */
    public static void updateArray(int mapFd, int key, int value) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment k = arena.allocate(ValueLayout.JAVA_INT);
            MemorySegment v = arena.allocate(ValueLayout.JAVA_INT);
            k.set(ValueLayout.JAVA_INT, 0, key);
            v.set(ValueLayout.JAVA_INT, 0, value);
            MemorySegment attr = arena.allocate(ATTR_BYTES, 8);
            attr.set(ValueLayout.JAVA_INT, 0, mapFd);
            attr.set(ValueLayout.JAVA_LONG, 8, k.address());
            attr.set(ValueLayout.JAVA_LONG, 16, v.address());
            attr.set(ValueLayout.JAVA_LONG, 24, 0L); // BPF_ANY
            int r = Libc.bpf(BPF_MAP_UPDATE_ELEM, attr);
            if (r < 0) {
                throw new NativeException("bpf(BPF_MAP_UPDATE_ELEM)", "key " + key, -r);
            }
        }
    }

    /**
     * {@code map[key]} of an array map of ints ({@code bpf(BPF_MAP_LOOKUP_ELEM)}).
     *
     * @param mapFd the map's file descriptor
     * @param key the index, 0 to the map's entries - 1
     * @return the value
     * @throws NativeException if {@code bpf(BPF_MAP_LOOKUP_ELEM)} fails, e.g. {@code ENOENT} for a
     *     key out of range
     */
    public static int lookupArray(int mapFd, int key) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment k = arena.allocate(ValueLayout.JAVA_INT);
            MemorySegment v = arena.allocate(ValueLayout.JAVA_INT);
            k.set(ValueLayout.JAVA_INT, 0, key);
            MemorySegment attr = arena.allocate(ATTR_BYTES, 8);
            attr.set(ValueLayout.JAVA_INT, 0, mapFd);
            attr.set(ValueLayout.JAVA_LONG, 8, k.address());
            attr.set(ValueLayout.JAVA_LONG, 16, v.address());
            int r = Libc.bpf(BPF_MAP_LOOKUP_ELEM, attr);
            if (r < 0) {
                throw new NativeException("bpf(BPF_MAP_LOOKUP_ELEM)", "key " + key, -r);
            }
            return v.get(ValueLayout.JAVA_INT, 0);
        }
    }

    /**
     * Runs a socket-filter program once on {@code frame} (an Ethernet frame: the kernel builds an
     * skb from it as if received) with {@code BPF_PROG_TEST_RUN}; returns the program's result.
     *
     * @param progFd the program's file descriptor
     * @param frame the frame, Ethernet header first
     * @return the program's return value ({@code retval})
     * @throws NativeException if {@code bpf(BPF_PROG_TEST_RUN)} fails, e.g. {@code EPERM} when
     *     the caller may not use {@code bpf(2)}
     */
    public static int testRun(int progFd, byte[] frame) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment data = arena.allocate(Math.max(frame.length, 1));
            MemorySegment.copy(frame, 0, data, ValueLayout.JAVA_BYTE, 0, frame.length);
            MemorySegment attr = arena.allocate(ATTR_BYTES, 8);
            attr.set(ValueLayout.JAVA_INT, 0, progFd);
            attr.set(ValueLayout.JAVA_INT, 8, frame.length); // data_size_in
            attr.set(ValueLayout.JAVA_LONG, 16, data.address()); // data_in
            attr.set(ValueLayout.JAVA_INT, 32, 1); // repeat
            int r = Libc.bpf(BPF_PROG_TEST_RUN, attr);
            if (r < 0) {
                throw new NativeException("bpf(BPF_PROG_TEST_RUN)", "fd " + progFd, -r);
            }
            return attr.get(ValueLayout.JAVA_INT, 4); // retval
        }
    }
}
