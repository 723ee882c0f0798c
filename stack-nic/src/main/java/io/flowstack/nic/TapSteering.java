package io.flowstack.nic;

import io.flowstack.nativeio.Bpf;
import io.flowstack.nativeio.Libc;
import io.flowstack.nativeio.NativeException;
import io.flowstack.nativeio.Tun;
import io.flowstack.nic.packet.ExtendedBpf;
import io.flowstack.nic.packet.ToeplitzSteering;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Receive-side scaling for a multi-queue TAP: an eBPF steering program
 * ({@code TUNSETSTEERINGEBPF}) that sends every frame the kernel writes to the queue of the core
 * that owns its flow, from its first frame on (without it the TAP picks a new flow's queue by
 * the kernel's own hash and learns the right one only from the stack's first reply, so a SYN
 * lands on the wrong core half of the time). The program is the stack's Toeplitz hash
 * ({@link ToeplitzSteering#tapBucketProgram()}, translated by {@link ExtendedBpf}) followed by a
 * lookup of the bucket in an array map: the indirection table, which {@link #steer} updates when
 * the stack moves a bucket, as a driver rewrites a NIC's RSS table.
 *
 * <p>Owned by: the thread that opened the TAP (attach, close); {@link #steer} is called by the
 * stack's control path (one move at a time).
 */
public final class TapSteering implements AutoCloseable {
    private final int mapFd;
    private final int entries;
    private boolean closed;

    private TapSteering(int mapFd, int entries) {
        this.mapFd = mapFd;
        this.entries = entries;
    }

    /**
     * Loads the program with a table of {@link ToeplitzSteering#TABLE_SIZE} buckets dealt round
     * robin over {@code queues} (the stack's initial table) and attaches it to the TAP through
     * queue descriptor {@code fd}.
     *
     * @throws NativeException if the kernel refuses the map, the program or the ioctl
     */
    public static TapSteering attach(int fd, String name, int queues) {
        int entries = ToeplitzSteering.TABLE_SIZE;
        int map = Bpf.createArrayMap(entries, name + " steering table");
        int prog = -1;
        try {
            for (int b = 0; b < entries; b++) {
                Bpf.updateArray(map, b, b % queues);
            }
            prog = loadProgram(map, name);
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment arg = arena.allocate(ValueLayout.JAVA_INT);
                arg.set(ValueLayout.JAVA_INT, 0, prog);
                Libc.ioctl(fd, Tun.TUNSETSTEERINGEBPF, arg, "TUNSETSTEERINGEBPF", name);
            }
        } catch (RuntimeException e) {
            Libc.close(map);
            throw e;
        } finally {
            if (prog >= 0) {
                Libc.close(prog); // the TAP holds its own reference
            }
        }
        return new TapSteering(map, entries);
    }

    /**
     * Loads the steering program over the table {@code mapFd} (an array map of
     * {@link ToeplitzSteering#TABLE_SIZE} ints) and returns its descriptor: for {@link #attach},
     * and for tests that run it on frames ({@code Bpf.testRun}).
     */
    public static int loadProgram(int mapFd, String name) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment insns = ExtendedBpf.encode(
                    ExtendedBpf.translate(ToeplitzSteering.tapBucketProgram(), mapFd, ToeplitzSteering.TABLE_SIZE), arena);
            return Bpf.loadSocketFilter(insns, name + " steering");
        }
    }

    /** Frames of flows in {@code bucket} go to {@code queue} from now on. */
    public void steer(int bucket, int queue) {
        if (bucket < 0 || bucket >= entries) {
            throw new IllegalArgumentException("bucket must be 0.." + (entries - 1) + ", got " + bucket);
        }
        Bpf.updateArray(mapFd, bucket, queue);
    }

    /** The queue bucket {@code bucket} is steered to. */
    public int queueOf(int bucket) {
        return Bpf.lookupArray(mapFd, bucket);
    }

    /** Closes the table's descriptor (the program, held by the TAP, keeps the map). */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            Libc.close(mapFd);
        }
    }
}
