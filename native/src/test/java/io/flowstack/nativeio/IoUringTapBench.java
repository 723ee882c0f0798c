package io.flowstack.nativeio;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Measurement harness (a runnable main, test scope): TAP reads and writes of 64 KiB GSO
 * super-frames with offloads on, {@code readv}/{@code writev} one frame per system call (today's
 * TapQueue path) against io_uring with N operations per {@code io_uring_enter} (READV/WRITEV,
 * READ_FIXED/WRITE_FIXED with registered buffers, SQPOLL). Run as root through
 * {@code native/iouring-bench.sh}, which builds it and removes the namespace on every exit.
 *
 * <ul>
 *   <li><b>write</b>: frames with a valid vnet header (NEEDS_CSUM csum_start 34 csum_offset 16,
 *       gso_type TCPV4, gso_size 1448, hdr_len 54) addressed to a foreign MAC, so the kernel
 *       validates the header, builds the skb and drops it early in IP receive. Timed loop.</li>
 *   <li><b>read</b>: a kernel UDP socket with {@code UDP_SEGMENT} 1448 in the same namespace
 *       sends GSO super-frames of frameBytes (USO, gso_size 1448) out through the TAP, whose
 *       queue then holds {@code fill} frames; the reader drains the queue as fast as it can. Only the drain is
 *       timed, so the figure is the consumer's cost per frame, not the generator's.</li>
 * </ul>
 * CPU is the whole process's CPU time ({@code getrusage(RUSAGE_SELF)}, which includes an SQPOLL
 * kernel thread) during the timed part. System calls per frame are counted by
 * the harness (check with {@code strace -c -f}).
 *
 * <p>Arguments: {@code [frameBytes=65536] [runs=3] [writeMillis=2000] [readCycles=40] [fill=2000]
 * [variants=all]}.
 *
 * <p>Owned by: the main thread (moved into the namespace).
 */
public final class IoUringTapBench {
    static final int VNET = Tun.VNET_HDR_LEN;
    static final int MAX_BATCH = 32;

    private final int frameBytes;
    private final TapNetns tn;
    private final Arena arena = Arena.ofConfined();
    /** One contiguous [vnet header | frame] per slot; 64 slots, all registered as fixed buffers. */
    private final MemorySegment slots;
    private final long slotSize;
    /** Two iovecs per slot: header, frame. */
    private final MemorySegment iovs;
    private final int genFd;
    private final MemorySegment genPayload = arena.allocate(65_536, 8);

    IoUringTapBench(int frameBytes, TapNetns tn) {
        this.frameBytes = frameBytes;
        this.tn = tn;
        this.slotSize = (VNET + 65_550 + 4095) & ~4095L;
        this.slots = arena.allocate(slotSize * MAX_BATCH, 4096);
        this.iovs = arena.allocate(2L * Libc.IOVEC_SIZE * MAX_BATCH, 8);
        for (int i = 0; i < MAX_BATCH; i++) {
            long base = slots.address() + i * slotSize;
            iovs.set(ValueLayout.JAVA_LONG, i * 32L, base);
            iovs.set(ValueLayout.JAVA_LONG, i * 32L + 8, VNET);
            iovs.set(ValueLayout.JAVA_LONG, i * 32L + 16, base + VNET);
            iovs.set(ValueLayout.JAVA_LONG, i * 32L + 24, 65_550);
        }
        this.genFd = openGenerator();
    }

    // ------------------------------------------------------------------ frames

    /** Fills every slot with [vnet header | Ethernet | IPv4 | TCP | payload] of frameBytes. */
    private void buildFrames() {
        for (int i = 0; i < MAX_BATCH; i++) {
            MemorySegment s = slots.asSlice(i * slotSize, slotSize);
            s.fill((byte) 0);
            boolean gso = frameBytes > 1514;
            s.set(ValueLayout.JAVA_BYTE, 0, (byte) 1); // NEEDS_CSUM
            s.set(ValueLayout.JAVA_BYTE, 1, (byte) (gso ? 1 : 0)); // TCPV4
            s.set(ValueLayout.JAVA_SHORT_UNALIGNED, 2, (short) (gso ? 54 : 0)); // hdr_len
            s.set(ValueLayout.JAVA_SHORT_UNALIGNED, 4, (short) (gso ? 1448 : 0)); // gso_size
            s.set(ValueLayout.JAVA_SHORT_UNALIGNED, 6, (short) 34); // csum_start
            s.set(ValueLayout.JAVA_SHORT_UNALIGNED, 8, (short) 16); // csum_offset
            MemorySegment f = s.asSlice(VNET);
            byte[] eth = {2, 0, 0, 0, 0, (byte) 0x99, 2, 0, 0, 0, 0, 2, 8, 0};
            MemorySegment.copy(eth, 0, f, ValueLayout.JAVA_BYTE, 0, eth.length);
            int ipLen = frameBytes - 14;
            byte[] ip = {0x45, 0, (byte) (ipLen >> 8), (byte) ipLen, 0, 1, 0x40, 0, 64, 6, 0, 0,
                (byte) 198, 18, 77, 2, (byte) 198, 18, 77, 3};
            int sum = 0;
            for (int k = 0; k < 20; k += 2) {
                sum += ((ip[k] & 0xff) << 8) | (ip[k + 1] & 0xff);
            }
            while ((sum >> 16) != 0) {
                sum = (sum & 0xffff) + (sum >> 16);
            }
            sum = ~sum & 0xffff;
            ip[10] = (byte) (sum >> 8);
            ip[11] = (byte) sum;
            MemorySegment.copy(ip, 0, f, ValueLayout.JAVA_BYTE, 14, 20);
            byte[] tcp = {0x13, (byte) 0x89, (byte) 0xc0, 0x00, 0, 0, 0, 1, 0, 0, 0, 1, 0x50, 0x18,
                (byte) 0xff, (byte) 0xff, 0, 0, 0, 0};
            MemorySegment.copy(tcp, 0, f, ValueLayout.JAVA_BYTE, 34, 20);
            // pseudo-header sum (not inverted) in the checksum field, as NEEDS_CSUM wants
            int l4 = ipLen - 20;
            int ps = (198 << 8 | 18) + (77 << 8 | 2) + (198 << 8 | 18) + (77 << 8 | 3) + 6 + l4;
            while ((ps >> 16) != 0) {
                ps = (ps & 0xffff) + (ps >> 16);
            }
            f.set(ValueLayout.JAVA_BYTE, 50, (byte) (ps >> 8));
            f.set(ValueLayout.JAVA_BYTE, 51, (byte) ps);
            for (int k = 54; k < frameBytes; k += 8) {
                if (k + 8 <= frameBytes) {
                    f.set(ValueLayout.JAVA_LONG_UNALIGNED, k, 0x0123456789abcdefL ^ k);
                }
            }
            iovs.set(ValueLayout.JAVA_LONG, i * 32L + 24, frameBytes);
        }
    }

    /** Sets every slot's frame iovec back to the full receive size. */
    private void readIovs() {
        for (int i = 0; i < MAX_BATCH; i++) {
            iovs.set(ValueLayout.JAVA_LONG, i * 32L + 24, 65_550);
        }
    }

    // ------------------------------------------------------------------ generator

    /** {@code SOL_UDP}. */
    static final int SOL_UDP = 17;
    /** {@code UDP_SEGMENT}: the GSO segment size of a UDP socket's sends. */
    static final int UDP_SEGMENT = 103;
    /** UDP payload that makes a frameBytes Ethernet frame (14 + 20 + 8 + payload). */
    private int udpPayload() {
        return readFrameBytes - 42;
    }

    /**
     * Read-side frame size: at most 65,535, since the kernel keeps an skb whole only while its
     * length with the Ethernet header is below {@code gso_max_size} (65,536; gso_features_check);
     * kernel TCP's own largest super-frame through a TAP is 65,226 B (FRAME-IO §2), the default.
     */
    private final int readFrameBytes = Math.min(Integer.getInteger("bench.readFrame", 65_226), 65_535);

    /**
     * The generator: a kernel UDP socket in the namespace with {@code UDP_SEGMENT 1448}, connected
     * to 198.18.77.2 (a permanent neighbour behind the TAP). Each send leaves as one UDP GSO
     * super-frame (USO, gso_type 5) through the TAP: locally generated GSO skbs keep their size
     * when the TAP has the offload, unlike AF_PACKET injection, whose skbs are marked DODGY and
     * software-segmented because a TAP has no tx-gso-robust.
     */
    @SuppressWarnings("restricted")
    private int openGenerator() {
        TapNetns.run("ip", "netns", "exec", tn.ns, "ip", "neigh", "add", "198.18.77.2", "lladdr",
                "02:00:00:00:00:02", "dev", tn.tap, "nud", "permanent");
        int fd = Libc.socket(Libc.AF_INET, Libc.SOCK_DGRAM | Libc.SOCK_NONBLOCK | Libc.SOCK_CLOEXEC, 0);
        Libc.setsockoptInt(fd, SOL_UDP, UDP_SEGMENT, 1448, "UDP_SEGMENT");
        Libc.setsockoptInt(fd, Libc.SOL_SOCKET, Libc.SO_SNDBUFFORCE, 256 << 20, "SO_SNDBUFFORCE");
        try (Arena a = Arena.ofConfined()) {
            MemorySegment sin = a.allocate(16, 4);
            sin.set(ValueLayout.JAVA_SHORT, 0, (short) Libc.AF_INET);
            sin.set(ValueLayout.JAVA_BYTE, 2, (byte) 0x13);
            sin.set(ValueLayout.JAVA_BYTE, 3, (byte) 0x89); // port 5001
            byte[] dst = {(byte) 198, 18, 77, 2};
            MemorySegment.copy(dst, 0, sin, ValueLayout.JAVA_BYTE, 4, 4);
            java.lang.foreign.Linker l = java.lang.foreign.Linker.nativeLinker();
            java.lang.invoke.MethodHandle connect = l.downcallHandle(l.defaultLookup().find("connect").orElseThrow(),
                    java.lang.foreign.FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                            ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
            int r = (int) connect.invokeExact(fd, sin, 16);
            if (r != 0) {
                throw new IllegalStateException("connect failed");
            }
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
        return fd;
    }

    private int lastSendError;

    /** Queues up to {@code n} frames towards the reader; returns how many the TAP took. */
    private int fill(int n) {
        MemorySegment payload = genPayload;
        int ok = 0;
        for (int i = 0; i < n; i++) {
            int r = Libc.send(genFd, payload, udpPayload(), Libc.MSG_DONTWAIT);
            if (r > 0) {
                ok++;
            } else if (r == -Errno.EAGAIN) {
                i--;
                Thread.onSpinWait();
            } else {
                lastSendError = r;
                break; // ENOBUFS: the TAP queue is full
            }
        }
        return ok;
    }

    // ------------------------------------------------------------------ variants

    record Variant(String name, boolean write, int batch, boolean fixed, boolean sqpoll) {
    }

    private IoUring ring;
    private Variant ringFor;

    private IoUring ring(Variant v) {
        if (ring != null && ringFor.batch == v.batch && ringFor.fixed == v.fixed && ringFor.sqpoll == v.sqpoll) {
            return ring;
        }
        if (ring != null) {
            ring.close();
        }
        ring = v.sqpoll
                ? IoUring.open(MAX_BATCH, IoUringLayout.IORING_SETUP_SQPOLL | IoUringLayout.IORING_SETUP_SQ_AFF,
                        20, sqAff())
                : IoUring.open(MAX_BATCH, IoUringLayout.IORING_SETUP_SINGLE_ISSUER, 0);
        if (v.fixed) {
            MemorySegment reg = arena.allocate(Libc.IOVEC_SIZE * MAX_BATCH, 8);
            for (int i = 0; i < MAX_BATCH; i++) {
                reg.set(ValueLayout.JAVA_LONG, i * 16L, slots.address() + i * slotSize);
                reg.set(ValueLayout.JAVA_LONG, i * 16L + 8, slotSize);
            }
            ring.registerBuffers(reg, MAX_BATCH);
        }
        ringFor = v;
        return ring;
    }

    private static int sqAffCpu = 0;

    private static int sqAff() {
        return sqAffCpu;
    }

    /** readv/writev: one frame per system call. Stops at EAGAIN (read) or the deadline (write). */
    private long plain(boolean write, long deadline, long[] out) {
        int fd = tn.fd;
        long frames = 0;
        long bytes = 0;
        long calls = 0;
        long addr = iovs.address();
        MemorySegment iov = iovs.asSlice(0, 2 * Libc.IOVEC_SIZE);
        if (write) {
            while (true) {
                for (int k = 0; k < 64; k++) {
                    int r = Libc.writev(fd, iov, 2);
                    calls++;
                    if (r > 0) {
                        frames++;
                        bytes += r - VNET;
                    }
                }
                if (System.nanoTime() >= deadline) {
                    break;
                }
            }
        } else {
            while (true) {
                int r = Libc.readv(fd, iov, 2);
                calls++;
                if (r <= 0) {
                    break;
                }
                frames++;
                bytes += r - VNET;
            }
        }
        out[0] = bytes;
        out[1] = calls;
        return frames;
    }

    /** io_uring writes: batch WRITEV/WRITE_FIXED per io_uring_enter (or per SQPOLL publish). */
    private long uringWrite(Variant v, long deadline, long[] out) {
        IoUring r = ring(v);
        int fd = tn.fd;
        int n = v.batch;
        long frames = 0;
        long bytes = 0;
        long enters0 = r.enterCalls();
        int len = VNET + frameBytes;
        do {
            for (int i = 0; i < n; i++) {
                // with SQPOLL the kernel posts completions before it publishes the SQ head
                while (!(v.fixed
                        ? r.prepareWriteFixed(fd, slots.address() + i * slotSize, len, i, i)
                        : r.prepareWritev(fd, iovs.address() + i * 32L, 2, i))) {
                    Thread.onSpinWait();
                }
            }
            r.submit(v.sqpoll ? 0 : n);
            int got = 0;
            while (got < n) {
                int ready = r.ready();
                if (ready == 0) {
                    if (v.sqpoll) {
                        Thread.onSpinWait();
                    } else {
                        r.submit(n - got);
                    }
                    continue;
                }
                for (int i = 0; i < ready; i++) {
                    int res = r.result(i);
                    if (res > 0) {
                        frames++;
                        bytes += res - VNET;
                    }
                }
                r.advance(ready);
                got += ready;
            }
        } while (System.nanoTime() < deadline);
        out[0] = bytes;
        out[1] = r.enterCalls() - enters0;
        return frames;
    }

    /** Slots whose read is not in flight (user_data = slot). */
    private final int[] free = new int[MAX_BATCH];
    private int freeCount;

    /**
     * io_uring reads: up to batch READV/READ_FIXED in flight; each io_uring_enter submits the
     * re-armed reads and waits for at least one completion, until {@code target} frames are read.
     * A read on the empty TAP stays armed in the kernel (no EAGAIN), so at the end the reads still
     * in flight are cancelled, to leave the next fill to the next measurement untouched.
     */
    private long uringRead(Variant v, long target, long[] out) {
        IoUring r = ring(v);
        int fd = tn.fd;
        long frames = 0;
        long bytes = 0;
        long enters0 = r.enterCalls();
        freeCount = 0;
        for (int i = 0; i < v.batch; i++) {
            free[freeCount++] = i;
        }
        int inFlight = 0;
        while (frames < target) {
            while (freeCount > 0) {
                int i = free[--freeCount];
                while (!(v.fixed
                        ? r.prepareReadFixed(fd, slots.address() + i * slotSize, (int) slotSize, i, i)
                        : r.prepareReadv(fd, iovs.address() + i * 32L, 2, i))) {
                    Thread.onSpinWait(); // SQPOLL: the SQ head lags the completions
                }
                inFlight++;
            }
            int ready = r.ready();
            if (ready == 0) {
                if (v.sqpoll) {
                    r.submit(0);
                    while (r.ready() == 0) {
                        Thread.onSpinWait();
                    }
                } else {
                    r.submit(1);
                }
                ready = r.ready();
            }
            for (int k = 0; k < ready; k++) {
                int res = r.result(k);
                if (res <= 0) {
                    throw new IllegalStateException("read completion " + res);
                }
                frames++;
                bytes += res - VNET;
                free[freeCount++] = (int) r.userData(k);
            }
            r.advance(ready);
            inFlight -= ready;
        }
        long enters = r.enterCalls() - enters0;
        // untimed part follows in the caller's accounting only through 'calls': cancel the rest
        if (inFlight > 0) {
            r.prepareCancelFd(fd, 1L << 40);
            r.submit(0);
            int left = inFlight + 1;
            long giveUp = System.nanoTime() + 2_000_000_000L;
            while (left > 0) {
                int ready = r.ready();
                if (ready == 0) {
                    if (System.nanoTime() > giveUp) {
                        // never seen without SQPOLL; closing the ring cancels whatever is left
                        System.out.println("  (" + left + " completions missing after the cancel: ring closed)");
                        ring.close();
                        ring = null;
                        ringFor = null;
                        break;
                    }
                    r.submit(0);
                    Thread.onSpinWait();
                    continue;
                }
                for (int k = 0; k < ready; k++) {
                    if (r.userData(k) != 1L << 40 && r.result(k) > 0) {
                        extraFrames++; // finished before the cancel: a frame of this fill
                    }
                }
                r.advance(ready);
                left -= ready;
            }
        }
        out[0] = bytes;
        out[1] = enters;
        return frames;
    }

    private long extraFrames;

    private long move(Variant v, long deadline, long target, long[] out) {
        long f;
        if (v.batch == 0) {
            f = plain(v.write, deadline, out);
        } else {
            f = v.write ? uringWrite(v, deadline, out) : uringRead(v, target, out);
        }
        totalFrames += f;
        totalCalls += out[1];
        return f;
    }

    /** Every frame moved and every readv/writev/io_uring_enter counted, warm-up included (for strace). */
    private long totalFrames;
    private long totalCalls;

    // ------------------------------------------------------------------ measurement

    record Result(double fps, double gbitps, double callsPerFrame, double cpuSecPerGB, double cpuShare,
            double framesPerCpuSec) {
    }

    private static final java.lang.invoke.MethodHandle GETRUSAGE = linkGetrusage();
    private static final MemorySegment RUSAGE = Arena.global().allocate(144, 8);

    @SuppressWarnings("restricted")
    private static java.lang.invoke.MethodHandle linkGetrusage() {
        java.lang.foreign.Linker l = java.lang.foreign.Linker.nativeLinker();
        return l.downcallHandle(l.defaultLookup().find("getrusage").orElseThrow(),
                java.lang.foreign.FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                        ValueLayout.ADDRESS));
    }

    /**
     * CPU time of the whole process in nanoseconds, {@code getrusage(RUSAGE_SELF)} user + system:
     * every thread, exited ones and an SQPOLL kernel thread (an io thread of this process)
     * included.
     */
    static long processCpuNanos() {
        try {
            int r = (int) GETRUSAGE.invokeExact(0, RUSAGE);
            if (r != 0) {
                throw new IllegalStateException("getrusage failed");
            }
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
        long us = RUSAGE.get(ValueLayout.JAVA_LONG, 0) * 1_000_000L + RUSAGE.get(ValueLayout.JAVA_LONG, 8)
                + RUSAGE.get(ValueLayout.JAVA_LONG, 16) * 1_000_000L + RUSAGE.get(ValueLayout.JAVA_LONG, 24);
        return us * 1000L;
    }

    Result measureWrite(Variant v, long millis) {
        buildFrames();
        long[] out = new long[2];
        long cpu0 = processCpuNanos();
        long t0 = System.nanoTime();
        long frames = move(v, t0 + millis * 1_000_000L, 0, out);
        long t1 = System.nanoTime();
        long cpu = processCpuNanos() - cpu0;
        return result(frames, out[0], out[1], t1 - t0, cpu);
    }

    Result measureRead(Variant v, int cycles, int fill) {
        buildFrames();
        readIovs();
        long[] out = new long[2];
        long frames = 0;
        long bytes = 0;
        long calls = 0;
        long nanos = 0;
        long cpu = 0;
        for (int c = 0; c < cycles; c++) {
            // the generator uses slot 0 as its frame: rebuild it (a read may have overwritten it)
            buildFrames();
            readIovs();
            int queued = fill(fill);
            long cpu0 = processCpuNanos();
            long t0 = System.nanoTime();
            long f = move(v, Long.MAX_VALUE, queued, out);
            long t1 = System.nanoTime();
            cpu += processCpuNanos() - cpu0;
            nanos += t1 - t0;
            frames += f;
            bytes += out[0];
            calls += out[1];
            if (f < queued) {
                // frames left over (e.g. a short read raced): drain them untimed
                move(new Variant("drain", false, 0, false, false), 0, 0, out);
            }
        }
        return result(frames, bytes, calls, nanos, cpu);
    }

    static Result result(long frames, long bytes, long calls, long nanos, long cpuNanos) {
        double sec = nanos / 1e9;
        double gb = bytes / 1e9;
        return new Result(frames / sec, bytes * 8 / 1e9 / sec, frames == 0 ? 0 : (double) calls / frames,
                gb == 0 ? 0 : cpuNanos / 1e9 / gb, cpuNanos / 1e9 / sec,
                cpuNanos == 0 ? 0 : frames / (cpuNanos / 1e9));
    }

    /** Checks that the reader gets GSO super-frames: returns "n frames, max len, gso_type". */
    String probeRead() {
        buildFrames();
        readIovs();
        int queued = fill(16);
        int max = 0;
        int gso = -1;
        int got = 0;
        MemorySegment iov = iovs.asSlice(32, 2 * Libc.IOVEC_SIZE);
        for (;;) {
            int r = Libc.readv(tn.fd, iov, 2);
            if (r <= 0) {
                break;
            }
            got++;
            max = Math.max(max, r - VNET);
            gso = slots.get(ValueLayout.JAVA_BYTE, slotSize + 1);
        }
        buildFrames();
        return "queued " + queued + " (send stopped by " + Errno.name(-lastSendError) + "), read " + got + ", largest " + max + " B, gso_type " + gso;
    }

    // ------------------------------------------------------------------ main

    public static void main(String[] args) throws Exception {
        int frameBytes = args.length > 0 ? Integer.parseInt(args[0]) : 65_536;
        int runs = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        long writeMillis = args.length > 2 ? Long.parseLong(args[2]) : 2000;
        int cycles = args.length > 3 ? Integer.parseInt(args[3]) : 40;
        int fill = args.length > 4 ? Integer.parseInt(args[4]) : 2000;
        String only = args.length > 5 ? args[5] : "all";
        String prefix = System.getProperty("bench.prefix", "fs-iou-" + ProcessHandle.current().pid());
        int benchCpu = Integer.getInteger("bench.cpu", 1);
        sqAffCpu = Integer.getInteger("bench.sqcpu", 0);
        pin(benchCpu);

        List<Variant> variants = new ArrayList<>();
        for (boolean w : new boolean[] {true, false}) {
            String d = w ? "write" : "read";
            String p = w ? "writev" : "readv";
            variants.add(new Variant(d + " " + p + " (1/call)", w, 0, false, false));
            for (int b : new int[] {1, 8, 32}) {
                variants.add(new Variant(d + " uring " + (w ? "WRITEV" : "READV") + " b" + b, w, b, false, false));
            }
            variants.add(new Variant(d + " uring " + (w ? "WRITE" : "READ") + "_FIXED b32", w, 32, true, false));
            variants.add(new Variant(d + " uring SQPOLL " + (w ? "WRITEV" : "READV") + " b32", w, 32, false, true));
        }
        variants.removeIf(v -> !only.equals("all") && !v.name.contains(only));

        String tapName = "fsiou" + Long.toString(ProcessHandle.current().pid() % 100000, 36);
        System.out.printf(Locale.ROOT, "netns %s, tap %s, frame %d B, %d runs, write %d ms, read %d cycles x %d frames%n",
                prefix, tapName, frameBytes, runs, writeMillis, cycles, fill);
        try (TapNetns tn = TapNetns.open(prefix, tapName, "198.18.77.1/24", fill + 1000,
                TapNetns.OFFLOADS | Tun.TUN_F_USO4 | Tun.TUN_F_USO6)) {
            IoUringTapBench b = new IoUringTapBench(frameBytes, tn);
            boolean sqpollOk = true;
            try {
                IoUring.open(4, IoUringLayout.IORING_SETUP_SQPOLL, 10).close();
            } catch (NativeException e) {
                sqpollOk = false;
                System.out.println("SQPOLL refused: " + e.getMessage());
            }
            if (!sqpollOk) {
                variants.removeIf(Variant::sqpoll);
            }
            if (Boolean.getBoolean("bench.ethtool")) {
                System.out.println(TapNetns.run("ip", "netns", "exec", tn.ns, "ethtool", "-k", tn.tap));
            }
            System.out.println("read probe: " + b.probeRead());
            // warm-up (JIT), discarded
            for (Variant v : variants) {
                if (v.write) {
                    b.measureWrite(v, 300);
                } else {
                    b.measureRead(v, v.sqpoll ? 1 : 5, Math.min(fill, 500));
                }
            }
            Map<String, List<Result>> all = new LinkedHashMap<>();
            for (int run = 1; run <= runs; run++) {
                for (Variant v : variants) {
                    // SQPOLL reads crawl on this shared 2-vCPU machine: fewer cycles bound the time
                    Result r = v.write ? b.measureWrite(v, writeMillis)
                            : b.measureRead(v, v.sqpoll ? Math.max(1, cycles / 10) : cycles, fill);
                    all.computeIfAbsent(v.name, k -> new ArrayList<>()).add(r);
                    System.out.printf(Locale.ROOT,
                            "run %d %-32s %9.0f frames/s %6.2f Gbit/s %5.3f calls/frame %5.3f CPU s/GB %4.2f CPUs"
                            + " %9.0f frames/CPU-s%n",
                            run, v.name, r.fps, r.gbitps, r.callsPerFrame, r.cpuSecPerGB, r.cpuShare,
                            r.framesPerCpuSec);
                }
            }
            System.out.println();
            System.out.println("| variant | frames/s | Gbit/s | syscalls/frame | CPU s/GB | frames per CPU-s | CPUs busy |");
            System.out.println("| --- | --- | --- | --- | --- | --- | --- |");
            for (Map.Entry<String, List<Result>> e : all.entrySet()) {
                List<Result> rs = e.getValue();
                System.out.printf(Locale.ROOT, "| %s | %s | %s | %.3f | %s | %s | %s |%n", e.getKey(),
                        range(rs, Result::fps, "%.0f"), range(rs, Result::gbitps, "%.2f"),
                        rs.get(0).callsPerFrame, range(rs, Result::cpuSecPerGB, "%.3f"),
                        range(rs, Result::framesPerCpuSec, "%.0f"),
                        range(rs, Result::cpuShare, "%.2f"));
            }
            if (b.ring != null) {
                b.ring.close();
            }
            System.out.printf(Locale.ROOT, "%ntotal: %d frames moved, %d readv/writev/io_uring_enter calls counted"
                    + " by the harness (warm-up and the cancels' enters not all included)%n", b.totalFrames, b.totalCalls);
            Libc.close(b.genFd);
        }
    }

    static String range(List<Result> rs, java.util.function.ToDoubleFunction<Result> f, String fmt) {
        double[] v = rs.stream().mapToDouble(f).sorted().toArray();
        double med = v[v.length / 2];
        return String.format(Locale.ROOT, fmt + " [" + fmt + "–" + fmt + "]", med, v[0], v[v.length - 1]);
    }

    static void pin(int cpu) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment mask = a.allocate(128, 8);
            mask.set(ValueLayout.JAVA_BYTE, cpu / 8, (byte) (1 << (cpu % 8)));
            Libc.schedSetAffinity(0, mask);
        } catch (RuntimeException e) {
            System.out.println("pinning to CPU " + cpu + " failed: " + e.getMessage());
        }
    }
}
