package io.flowstack.tools;

import io.flowstack.nic.TapNic;
import picocli.CommandLine.Option;

/**
 * {@code --no-offload}, as a picocli {@code @Mixin} for the commands that open a TAP (endpoint,
 * ping, bench): the slow twin of the default TAP with a vnet header and offloads.
 *
 * <p>Owned by: the command that parses it (immutable after parsing).
 */
public final class OffloadOption {
    /** The option's names, for a command that runs without a TAP to refuse it. */
    public static final String[] NAMES = {"--no-offload"};

    @Option(names = "--no-offload",
            description = "TAP without offloads: one frame of at most the MTU per system call, checksums and "
                    + "segments made by the stack (default: a vnet header with checksum and TCP segmentation "
                    + "offloads, super-frames of up to 64 KiB both ways).")
    public boolean noOffload;

    /** How to open the TAP: with offloads unless {@code --no-offload}. */
    public TapNic.Options tapOptions() {
        return noOffload ? TapNic.Options.NO_OFFLOAD : TapNic.Options.DEFAULT;
    }
}
