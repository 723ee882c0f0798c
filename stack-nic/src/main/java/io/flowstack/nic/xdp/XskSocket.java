package io.flowstack.nic.xdp;

import io.flowstack.nativeio.Libc;
import io.flowstack.nativeio.NativeException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * One AF_XDP socket with its own UMEM and its four rings, set up in the order the kernel
 * requires (Documentation/networking/af_xdp.rst):
 * <ol>
 *   <li>{@code socket(AF_XDP, SOCK_RAW, 0)};</li>
 *   <li>the UMEM: {@code (rxRingSize + txRingSize) * chunkSize} bytes of anonymous, populated
 *       memory, registered with {@code XDP_UMEM_REG} (aligned chunks, no headroom of ours);</li>
 *   <li>{@code XDP_UMEM_FILL_RING} and {@code XDP_RX_RING} of {@code rxRingSize} entries,
 *       {@code XDP_UMEM_COMPLETION_RING} and {@code XDP_TX_RING} of {@code txRingSize};</li>
 *   <li>{@code getsockopt(XDP_MMAP_OFFSETS)} and one shared mapping per ring at its page offset;</li>
 *   <li>{@code bind} with a {@code sockaddr_xdp}: the interface, the queue, and
 *       {@code XDP_USE_NEED_WAKEUP} with {@code XDP_ZEROCOPY} or {@code XDP_COPY}.</li>
 * </ol>
 * The UMEM and the ring mappings belong to the socket's own arena, unmapped by {@link #close()}
 * (and at once if the setup fails, so a zero-copy bind that the driver refuses leaves nothing
 * behind before the copy-mode retry).
 *
 * <p>Owned by: the thread that opens the NIC; its rings then belong to the queue's netisr thread.
 *
 * @param fd the socket
 * @param umem the UMEM
 * @param chunkSize bytes per UMEM chunk
 * @param fill the fill ring (we produce)
 * @param completion the completion ring (we consume)
 * @param rx the RX ring (we consume)
 * @param tx the TX ring (we produce)
 * @param zeroCopy whether the socket is bound in zero-copy mode ({@code XDP_OPTIONS})
 * @param arena owns the UMEM and the ring mappings
 */
record XskSocket(int fd, MemorySegment umem, int chunkSize, XskRing fill, XskRing completion, XskRing rx,
                 XskRing tx, boolean zeroCopy, Arena arena) {

    /**
     * Opens and binds one socket (see the class comment).
     *
     * @param ifname the interface, for messages
     * @param ifindex its index
     * @param queue the device's receive queue to bind to
     * @param options the ring sizes (powers of two)
     * @param chunkSize bytes per chunk (2048 or 4096)
     * @param zeroCopy true to bind with {@code XDP_ZEROCOPY}, false for {@code XDP_COPY}
     * @return the bound socket
     * @throws NativeException naming the failed call
     */
    static XskSocket open(String ifname, int ifindex, int queue, XdpNic.Options options, int chunkSize,
                          boolean zeroCopy) {
        int rxSize = options.rxRingSize();
        int txSize = options.txRingSize();
        int frames = rxSize + txSize;
        int fd;
        try {
            fd = Libc.socket(XdpLayout.AF_XDP, Libc.SOCK_RAW | Libc.SOCK_CLOEXEC, 0);
        } catch (NativeException e) {
            throw new NativeException("socket", "AF_XDP", e.errno()); // named, with the CAP_NET_RAW hint
        }
        Arena arena = Arena.ofShared();
        try {
            String what = ifname + " queue " + queue;
            MemorySegment umem = Libc.mmap((long) frames * chunkSize, Libc.PROT_READ | Libc.PROT_WRITE,
                    Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS | Libc.MAP_POPULATE, -1, 0, arena);
            MemorySegment reg = XdpLayout.umemReg(arena.allocate(XdpLayout.UMEM_REG_SIZE, 8), umem, chunkSize);
            Libc.setsockopt(fd, XdpLayout.SOL_XDP, XdpLayout.XDP_UMEM_REG, reg, XdpLayout.UMEM_REG_SIZE,
                    "XDP_UMEM_REG", what);
            setInt(fd, XdpLayout.XDP_UMEM_FILL_RING, rxSize, "XDP_UMEM_FILL_RING", what);
            setInt(fd, XdpLayout.XDP_UMEM_COMPLETION_RING, txSize, "XDP_UMEM_COMPLETION_RING", what);
            setInt(fd, XdpLayout.XDP_RX_RING, rxSize, "XDP_RX_RING", what);
            setInt(fd, XdpLayout.XDP_TX_RING, txSize, "XDP_TX_RING", what);
            MemorySegment off = arena.allocate(XdpLayout.MMAP_OFFSETS_SIZE, 8);
            Libc.getsockopt(fd, XdpLayout.SOL_XDP, XdpLayout.XDP_MMAP_OFFSETS, off, XdpLayout.MMAP_OFFSETS_SIZE,
                    "XDP_MMAP_OFFSETS");
            XskRing rx = ring(fd, off, XdpLayout.OFF_RX, XdpLayout.XDP_PGOFF_RX_RING, rxSize,
                    XdpLayout.DESC_SIZE, false, arena);
            XskRing tx = ring(fd, off, XdpLayout.OFF_TX, XdpLayout.XDP_PGOFF_TX_RING, txSize,
                    XdpLayout.DESC_SIZE, true, arena);
            XskRing fill = ring(fd, off, XdpLayout.OFF_FILL, XdpLayout.XDP_UMEM_PGOFF_FILL_RING, rxSize,
                    XdpLayout.ADDR_SIZE, true, arena);
            XskRing completion = ring(fd, off, XdpLayout.OFF_COMPLETION, XdpLayout.XDP_UMEM_PGOFF_COMPLETION_RING,
                    txSize, XdpLayout.ADDR_SIZE, false, arena);
            int flags = XdpLayout.XDP_USE_NEED_WAKEUP | (zeroCopy ? XdpLayout.XDP_ZEROCOPY : XdpLayout.XDP_COPY);
            MemorySegment addr = XdpLayout.sockaddrXdp(arena.allocate(XdpLayout.SOCKADDR_XDP_SIZE, 8), flags,
                    ifindex, queue);
            Libc.bind(fd, addr, XdpLayout.SOCKADDR_XDP_SIZE, what + (zeroCopy ? " (zero-copy)" : " (copy mode)"));
            MemorySegment opts = arena.allocate(4, 4);
            Libc.getsockopt(fd, XdpLayout.SOL_XDP, XdpLayout.XDP_OPTIONS, opts, 4, "XDP_OPTIONS");
            boolean zc = (opts.get(ValueLayout.JAVA_INT, 0) & XdpLayout.XDP_OPTIONS_ZEROCOPY) != 0;
            return new XskSocket(fd, umem, chunkSize, fill, completion, rx, tx, zc, arena);
        } catch (RuntimeException e) {
            arena.close();
            Libc.close(fd);
            throw e;
        }
    }

    /** Unmaps the rings and the UMEM, then closes the socket (which leaves the XSKMAP). */
    void close() {
        try {
            arena.close();
        } finally {
            Libc.close(fd);
        }
    }

    private static void setInt(int fd, int option, int value, String name, String what) {
        try (Arena tmp = Arena.ofConfined()) {
            Libc.setsockopt(fd, XdpLayout.SOL_XDP, option, tmp.allocateFrom(ValueLayout.JAVA_INT, value), 4, name, what);
        }
    }

    private static XskRing ring(int fd, MemorySegment offsets, int at, long pgoff, int size, int entryBytes,
                                boolean producer, Arena arena) {
        XdpLayout.RingOffsets o = XdpLayout.RingOffsets.read(offsets, at);
        MemorySegment map = Libc.mmap(o.mapLength(size, entryBytes), Libc.PROT_READ | Libc.PROT_WRITE,
                Libc.MAP_SHARED | Libc.MAP_POPULATE, fd, pgoff, arena);
        return new XskRing(map, o, size, entryBytes, producer);
    }

    /**
     * The kernel's drop counters for this socket ({@code getsockopt(XDP_STATISTICS)}; running
     * totals). Control path: it allocates.
     *
     * @return the counters
     */
    XdpLayout.Statistics statistics() {
        try (Arena tmp = Arena.ofConfined()) {
            MemorySegment s = tmp.allocate(XdpLayout.STATISTICS_SIZE, 8);
            Libc.getsockopt(fd, XdpLayout.SOL_XDP, XdpLayout.XDP_STATISTICS, s, XdpLayout.STATISTICS_SIZE,
                    "XDP_STATISTICS");
            return XdpLayout.Statistics.read(s);
        }
    }
}
