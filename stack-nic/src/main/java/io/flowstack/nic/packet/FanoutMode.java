package io.flowstack.nic.packet;

import io.flowstack.nativeio.Packet;
import java.util.Locale;

/**
 * How the kernel spreads the received frames of an interface over the per-core AF_PACKET
 * sockets of one {@link PacketNic} ({@code PACKET_FANOUT} modes, packet(7)). The measured hop
 * rates of each mode against the stack's own flow hash are in docs/AF_PACKET.md.
 *
 * <p>Owned by: nobody (immutable).
 */
public enum FanoutMode {
    /** The kernel's symmetric flow hash ({@code __skb_get_hash_symmetric}), not our Toeplitz. */
    HASH(Packet.PACKET_FANOUT_HASH),
    /** Round robin: every flow is spread over every socket. */
    LB(Packet.PACKET_FANOUT_LB),
    /**
     * The CPU that runs the receive path: socket {@code cpu % n}. On a veth that is the CPU of the
     * sender, so frames the kernel sends in reply to ours (ACKs, answers) come back to the core
     * that transmitted.
     */
    CPU(Packet.PACKET_FANOUT_CPU),
    /** Random. */
    RND(Packet.PACKET_FANOUT_RND),
    /** The device's RX queue ({@code skb_get_queue_mapping}): the NIC's own RSS. */
    QM(Packet.PACKET_FANOUT_QM),
    /**
     * The stack's own flow hash in the kernel, which sends each frame to the queue of the core that
     * owns its flow, so frames do not hop: an eBPF program with the indirection table in a map
     * ({@code SteeringTable}, {@code PACKET_FANOUT_EBPF}; it follows the stack's bucket moves), or
     * where the kernel refuses eBPF the classic program ({@link ToeplitzSteering},
     * {@code PACKET_FANOUT_CBPF}, the kernel type given here).
     */
    TOEPLITZ(Packet.PACKET_FANOUT_CBPF);

    private final int kernelType;

    FanoutMode(int kernelType) {
        this.kernelType = kernelType;
    }

    /** The {@code PACKET_FANOUT_*} type value. */
    public int kernelType() {
        return kernelType;
    }

    /** Lower-case name as used on the command line ({@code hash}, {@code cpu}, ...). */
    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses a command-line name, any case. */
    public static FanoutMode parse(String text) {
        for (FanoutMode m : values()) {
            if (m.name().equalsIgnoreCase(text.strip())) {
                return m;
            }
        }
        throw new IllegalArgumentException("'" + text + "' is not a fanout mode: use toeplitz, cpu, hash, lb, rnd or qm");
    }
}
