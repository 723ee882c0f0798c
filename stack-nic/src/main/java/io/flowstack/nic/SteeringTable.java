package io.flowstack.nic;

import io.flowstack.nativeio.Bpf;
import io.flowstack.nativeio.Libc;
import io.flowstack.nativeio.NativeException;
import io.flowstack.nativeio.Packet;
import io.flowstack.nativeio.Tun;
import io.flowstack.nic.packet.ExtendedBpf;
import io.flowstack.nic.packet.ToeplitzSteering;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Receive-side scaling in the kernel with the stack's own indirection table: an eBPF program, the
 * stack's Toeplitz hash under the stack's key ({@link ToeplitzSteering#tapBucketProgram(Toeplitz)}, translated by
 * {@link ExtendedBpf}) followed by a lookup of the flow's bucket in an array map that holds the
 * table (bucket to queue). It sends every frame to the queue of the core that owns its flow from
 * the first frame on, and {@link #steer} rewrites a bucket's entry when the stack moves the bucket
 * to another core, as a driver rewrites a NIC's RSS table.
 *
 * <p>Two users: the multi-queue TAP ({@link #attachToTap}, {@code TUNSETSTEERINGEBPF}; without it
 * the TAP picks a new flow's queue by the kernel's own hash and learns the owner's queue only from
 * the stack's first reply), and the AF_PACKET fanout group ({@link #attachToFanout},
 * {@code PACKET_FANOUT_EBPF}).
 *
 * <p>Owned by: the thread that opened the NIC (create, attach, close); {@link #steer} is called by
 * the stack's control path, one move at a time.
 */
public final class SteeringTable implements AutoCloseable {
    private final int mapFd;
    private final int entries;
    private final String name;
    private final Toeplitz key;
    private boolean closed;

    private SteeringTable(int mapFd, int entries, String name, Toeplitz key) {
        this.mapFd = mapFd;
        this.entries = entries;
        this.name = name;
        this.key = key;
    }

    /**
     * The table of {@link Toeplitz#BUCKETS} buckets dealt round robin over
     * {@code queues} (the stack's initial table).
     *
     * @param name the NIC's name, for error messages
     * @param queues the number of queues, at least 1
     * @param key the RSS key its program hashes with (the stack's)
     * @return the table; close it when the NIC closes
     * @throws NativeException if the kernel refuses the map
     */
    public static SteeringTable create(String name, int queues, Toeplitz key) {
        int entries = Toeplitz.BUCKETS;
        int map = Bpf.createArrayMap(entries, name + " steering table");
        try {
            for (int b = 0; b < entries; b++) {
                Bpf.updateArray(map, b, b % queues);
            }
        } catch (RuntimeException e) {
            Libc.close(map);
            throw e;
        }
        return new SteeringTable(map, entries, name, key);
    }

    /**
     * Loads the steering program over this table and returns its descriptor (the caller closes
     * it once attached: what it is attached to holds its own reference).
     *
     * @return the program's file descriptor
     * @throws NativeException if the kernel refuses the program (the verifier's reason in the message)
     */
    public int loadProgram() {
        return loadProgram(mapFd, name, key);
    }

    /**
     * The steering program over the table {@code mapFd}, for tests that run it
     * ({@code Bpf.testRun}).
     *
     * @param mapFd the descriptor of a {@code BPF_MAP_TYPE_ARRAY} of
     *     {@link Toeplitz#BUCKETS} 4-byte queue numbers
     * @param name the NIC's name, for error messages
     * @param key the RSS key the program hashes with
     * @return the program's file descriptor; the caller closes it
     * @throws NativeException if the kernel refuses the program
     */
    public static int loadProgram(int mapFd, String name, Toeplitz key) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment insns = ExtendedBpf.encode(
                    ExtendedBpf.translate(ToeplitzSteering.tapBucketProgram(key), mapFd, Toeplitz.BUCKETS), arena);
            return Bpf.loadSocketFilter(insns, name + " steering");
        }
    }

    /**
     * Attaches the program to the TAP through queue descriptor {@code fd}
     * ({@code TUNSETSTEERINGEBPF}).
     *
     * @param fd a descriptor of one of the TAP's queues
     * @throws NativeException if the program cannot be loaded or the ioctl fails
     */
    public void attachToTap(int fd) {
        int prog = loadProgram();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment arg = arena.allocate(ValueLayout.JAVA_INT);
            arg.set(ValueLayout.JAVA_INT, 0, prog);
            Libc.ioctl(fd, Tun.TUNSETSTEERINGEBPF, arg, "TUNSETSTEERINGEBPF", name);
        } finally {
            Libc.close(prog);
        }
    }

    /**
     * Gives program {@code prog} to the {@code PACKET_FANOUT_EBPF} group of socket {@code fd}
     * ({@code PACKET_FANOUT_DATA}).
     *
     * @param fd an AF_PACKET socket that joined a fanout group with mode {@code PACKET_FANOUT_EBPF}
     * @param prog the program's descriptor, from {@link #loadProgram()}
     * @throws NativeException if setsockopt fails
     */
    public void attachToFanout(int fd, int prog) {
        Libc.setsockoptInt(fd, Packet.SOL_PACKET, Packet.PACKET_FANOUT_DATA, prog, "PACKET_FANOUT_DATA");
    }

    /**
     * Frames of flows in {@code bucket} go to {@code queue} from now on.
     *
     * @param bucket the bucket, 0 to {@link Toeplitz#BUCKETS} - 1
     * @param queue the queue its frames go to
     * @throws IllegalArgumentException if {@code bucket} is out of range
     * @throws NativeException if the map update fails
     */
    public void steer(int bucket, int queue) {
        if (bucket < 0 || bucket >= entries) {
            throw new IllegalArgumentException("bucket must be 0.." + (entries - 1) + ", got " + bucket);
        }
        Bpf.updateArray(mapFd, bucket, queue);
    }

    /**
     * {@link Nic#steer} of a NIC whose table is {@code table}, null when it has none.
     *
     * @param table the NIC's table, or null
     * @param bucket the bucket
     * @param queue the queue its frames go to
     * @return false if {@code table} is null, else true once the entry is rewritten
     */
    public static boolean steer(SteeringTable table, int bucket, int queue) {
        if (table == null) {
            return false;
        }
        table.steer(bucket, queue);
        return true;
    }

    /**
     * The queue bucket {@code bucket} is steered to.
     *
     * @param bucket the bucket, 0 to {@link Toeplitz#BUCKETS} - 1
     * @return the queue number in the map
     * @throws NativeException if the lookup fails
     */
    public int queueOf(int bucket) {
        return Bpf.lookupArray(mapFd, bucket);
    }

    /** Closes the table's descriptor (the program, held by what it is attached to, keeps the map). */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            Libc.close(mapFd);
        }
    }
}
