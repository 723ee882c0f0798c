package io.flowstack.nic.xdp;

import io.flowstack.nativeio.Bpf;
import io.flowstack.nativeio.Errno;
import io.flowstack.nativeio.Libc;
import io.flowstack.nativeio.NativeException;
import io.flowstack.nic.packet.ExtendedBpf;
import java.lang.foreign.Arena;
import java.util.List;

/**
 * The XDP program that hands every received frame to the AF_XDP socket of its receive queue,
 * hand-assembled (no compiler, no libbpf), and its attachment to an interface:
 * <pre>
 *   return bpf_redirect_map(&amp;xsks, ctx-&gt;rx_queue_index, XDP_PASS);
 * </pre>
 * {@code bpf_redirect_map} (helper 51) looks the queue up in the XSKMAP and returns
 * {@code XDP_REDIRECT}, or its flags' low bits ({@code XDP_PASS}: the kernel's stack gets the
 * frame) when the queue has no socket, so nothing is lost while the sockets are being bound.
 * {@code ctx} is {@code struct xdp_md}, whose {@code rx_queue_index} is the {@code u32} at 16.
 *
 * <p>Attachment is a {@code BPF_LINK_CREATE} link ({@code BPF_XDP}): the program stays attached
 * exactly as long as the link's fd is open, so a stack that ends, even killed, leaves no program
 * on the interface. Driver (native) mode is tried first; if the driver has none, generic (skb)
 * mode, which every device has ({@link Mode}).
 *
 * <p>Owned by: nobody (stateless).
 */
public final class XdpProgram {
    /** Where the program runs. */
    public enum Mode {
        /** In the driver's receive path, on its own buffers ({@code XDP_FLAGS_DRV_MODE}). */
        DRIVER("driver", Bpf.XDP_FLAGS_DRV_MODE),
        /** In the generic hook, on an skb the kernel already built ({@code XDP_FLAGS_SKB_MODE}). */
        GENERIC("generic", Bpf.XDP_FLAGS_SKB_MODE);

        private final String label;
        private final int flags;

        Mode(String label, int flags) {
            this.label = label;
            this.flags = flags;
        }

        /** {@code driver} or {@code generic}. */
        public String label() {
            return label;
        }

        /** The {@code XDP_FLAGS_*} of the link. */
        public int flags() {
            return flags;
        }
    }

    /** {@code enum xdp_action}: pass the frame to the kernel's stack. */
    static final int XDP_PASS = 2;
    /** {@code BPF_FUNC_redirect_map}. */
    static final int FUNC_REDIRECT_MAP = 51;
    /** {@code offsetof(struct xdp_md, rx_queue_index)}. */
    static final int XDP_MD_RX_QUEUE_INDEX = 16;
    private static final int LDX_MEM_W = 0x61; // BPF_LDX | BPF_MEM | BPF_W
    private static final int LD_IMM_DW = 0x18; // BPF_LD | BPF_IMM | BPF_DW: a 64-bit immediate, two slots
    private static final int MOV64_K = 0xb7; // BPF_ALU64 | BPF_MOV | BPF_K
    private static final int CALL = 0x85; // BPF_JMP | BPF_CALL
    private static final int EXIT = 0x95; // BPF_JMP | BPF_EXIT
    private static final int PSEUDO_MAP_FD = 1;

    private XdpProgram() {
    }

    /**
     * The program's instructions for the XSKMAP {@code mapFd}.
     *
     * @param mapFd the XSKMAP (its fd is replaced by the map at load time)
     * @return six instructions (the map load takes two)
     */
    public static List<ExtendedBpf.Insn> insns(int mapFd) {
        return List.of(
                new ExtendedBpf.Insn(LDX_MEM_W, 2, 1, XDP_MD_RX_QUEUE_INDEX, 0), // r2 = ctx->rx_queue_index
                new ExtendedBpf.Insn(LD_IMM_DW, 1, PSEUDO_MAP_FD, 0, mapFd), // r1 = &xsks
                new ExtendedBpf.Insn(0, 0, 0, 0, 0),
                new ExtendedBpf.Insn(MOV64_K, 3, 0, 0, XDP_PASS), // r3 = XDP_PASS (the miss action)
                new ExtendedBpf.Insn(CALL, 0, 0, 0, FUNC_REDIRECT_MAP), // r0 = bpf_redirect_map(r1, r2, r3)
                new ExtendedBpf.Insn(EXIT, 0, 0, 0, 0));
    }

    /**
     * Loads the program ({@code BPF_PROG_TYPE_XDP}) for the XSKMAP {@code mapFd}.
     *
     * @param mapFd the XSKMAP
     * @param ifname the interface, for error messages
     * @return the program's fd
     * @throws NativeException if the kernel refuses it
     */
    public static int load(int mapFd, String ifname) {
        try (Arena arena = Arena.ofConfined()) {
            return Bpf.loadProgram(Bpf.BPF_PROG_TYPE_XDP, Bpf.BPF_XDP, ExtendedBpf.encode(insns(mapFd), arena),
                    "XDP redirect to AF_XDP for " + ifname);
        }
    }

    /**
     * A program attached with a link.
     *
     * <p>Owned by: the thread that opened the NIC.
     *
     * @param linkFd the link; closing it detaches the program
     * @param mode where it runs
     * @param driverProblem why driver mode was refused (when {@code mode} is generic after a try), or null
     */
    public record Attachment(int linkFd, Mode mode, String driverProblem) {
    }

    /**
     * Attaches {@code progFd} to {@code ifindex}: in {@code wanted} mode, or, when {@code wanted}
     * is null, in driver mode and, if the driver refuses, generic mode.
     *
     * @param progFd the program
     * @param ifindex the interface's index
     * @param ifname its name, for messages
     * @param wanted the mode to use, or null to try driver then generic
     * @return the link
     * @throws NativeException if the kernel refuses (e.g. {@code EBUSY}: another XDP program is attached)
     */
    public static Attachment attach(int progFd, int ifindex, String ifname, Mode wanted) {
        if (wanted != null) {
            return new Attachment(link(progFd, ifindex, ifname, wanted), wanted, null);
        }
        try {
            return new Attachment(link(progFd, ifindex, ifname, Mode.DRIVER), Mode.DRIVER, null);
        } catch (NativeException e) {
            if (e.errno() == Errno.EBUSY || e.errno() == Errno.EEXIST || e.errno() == Errno.EPERM) {
                throw e; // another program is there, or no privilege: generic mode would say the same
            }
            return new Attachment(link(progFd, ifindex, ifname, Mode.GENERIC), Mode.GENERIC, e.getMessage());
        }
    }

    private static int link(int progFd, int ifindex, String ifname, Mode mode) {
        return Bpf.linkCreate(progFd, ifindex, Bpf.BPF_XDP, mode.flags(), ifname + " (XDP, " + mode.label() + " mode)");
    }

    /**
     * Detaches: closes the link's fd (the kernel detaches the program when its last reference
     * goes).
     *
     * @param attachment the attachment
     */
    public static void detach(Attachment attachment) {
        Libc.close(attachment.linkFd());
    }
}
