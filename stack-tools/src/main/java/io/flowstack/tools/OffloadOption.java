package io.flowstack.tools;

import io.flowstack.nic.TapNic;
import picocli.CommandLine.Option;

/**
 * {@code --no-offload} and {@code --tap-io}, as a picocli {@code @Mixin} for the commands that
 * open a TAP (endpoint, router, ping, bench): the slow twin of the default TAP with a vnet header
 * and offloads, and how many frames a system call on the TAP carries.
 *
 * <p>Owned by: the command that parses it (immutable after parsing).
 */
public final class OffloadOption {
    /** The option's names, for a command that runs without a TAP to refuse it. */
    public static final String[] NAMES = {"--no-offload"};

    @Option(names = "--no-offload",
            description = "No offloads: a TAP takes one frame of at most the MTU per system call, checksums and "
                    + "segments made by the stack (default: a vnet header with checksum and TCP segmentation "
                    + "offloads, super-frames of up to 64 KiB both ways); AF_PACKET likewise; AF_XDP without "
                    + "software GRO and without the companion socket that sends super-frames whole.")
    public boolean noOffload;

    /** {@code --tap-io}'s values. */
    public enum TapIo {
        /** One {@code readv} or {@code writev} per frame. */
        syscall,
        /** Reads and small writes batched through an io_uring, many frames per system call. */
        batch
    }

    @Option(names = "--tap-io", paramLabel = "MODE",
            description = "How the TAP's frames cross into the kernel: syscall (one readv/writev per frame) or "
                    + "batch (an io_uring per queue: a batch of reads and the pass's small writes with one system "
                    + "call each). Default: ${DEFAULT-VALUE}.")
    public TapIo tapIo = TapIo.batch;

    /** How to open the TAP: with offloads unless {@code --no-offload}, batched as {@code --tap-io} says. */
    public TapNic.Options tapOptions() {
        return tapOptions(!noOffload);
    }

    /**
     * How to open the TAP with offloads on or off (a capture or impairment turns them off),
     * batched as {@code --tap-io} says.
     *
     * @param offloads whether to ask for the vnet header and offloads
     * @return the options
     */
    public TapNic.Options tapOptions(boolean offloads) {
        return (offloads ? TapNic.Options.DEFAULT : TapNic.Options.NO_OFFLOAD).withBatchIo(tapIo == TapIo.batch);
    }
}
