package io.flowstack.tests;

import static io.flowstack.nic.packet.ClassicBpf.SKF_AD_OFF;
import static io.flowstack.nic.packet.ClassicBpf.SKF_AD_PROTOCOL;
import static io.flowstack.nic.packet.ClassicBpf.SKF_NET_OFF;

import io.flowstack.nic.packet.ClassicBpf;
import java.util.List;

/**
 * Runs a classic BPF program the way the kernel runs a fanout program on a received frame
 * ({@code bpf_prog_run_clear_cb} on an skb whose data starts at the network header): the
 * opcodes {@link io.flowstack.nic.packet.ToeplitzSteering} uses, loads relative to the network
 * header ({@code SKF_NET_OFF}) or the ancillary protocol, and the kernel's rule that a load past
 * the end of the packet ends the program with 0.
 *
 * <p>Owned by: the test thread (stateless).
 */
final class ClassicBpfInterpreter {
    private ClassicBpfInterpreter() {
    }

    /** Thrown (and turned into a 0 result) when a load falls outside the packet. */
    private static final class OutOfPacket extends RuntimeException {
        OutOfPacket() {
            super(null, null, false, false);
        }
    }

    /**
     * @param insns    the program
     * @param packet   the frame from its network header on
     * @param protocol {@code skb->protocol} in host order (0x0800 for IPv4)
     * @return the program's return value
     */
    static int run(List<ClassicBpf.Insn> insns, byte[] packet, int protocol) {
        int a = 0;
        int x = 0;
        int[] m = new int[ClassicBpf.MEMWORDS];
        boolean[] stored = new boolean[ClassicBpf.MEMWORDS];
        int pc = 0;
        try {
            for (;;) {
                ClassicBpf.Insn in = insns.get(pc++);
                int code = in.code();
                int k = in.k();
                switch (code & 0x07) {
                    case ClassicBpf.LD -> {
                        int mode = code & 0xe0;
                        int size = code & 0x18;
                        if (mode == ClassicBpf.IMM) {
                            a = k;
                        } else if (mode == ClassicBpf.MEM) {
                            if (!stored[k]) {
                                throw new IllegalStateException("M[" + k + "] read before written at " + (pc - 1));
                            }
                            a = m[k];
                        } else if (mode == ClassicBpf.ABS && k == SKF_AD_OFF + SKF_AD_PROTOCOL) {
                            a = protocol;
                        } else {
                            int off = mode == ClassicBpf.IND ? x + k : k;
                            a = load(packet, off, size);
                        }
                    }
                    case ClassicBpf.LDX -> {
                        int mode = code & 0xe0;
                        if (mode == ClassicBpf.IMM) {
                            x = k;
                        } else if (mode == ClassicBpf.MEM) {
                            if (!stored[k]) {
                                throw new IllegalStateException("M[" + k + "] read before written at " + (pc - 1));
                            }
                            x = m[k];
                        } else if (mode == ClassicBpf.MSH) {
                            x = (load(packet, k, ClassicBpf.B) & 0xf) << 2;
                        } else {
                            throw new IllegalArgumentException("unsupported LDX mode " + Integer.toHexString(code));
                        }
                    }
                    case ClassicBpf.ST -> {
                        m[k] = a;
                        stored[k] = true;
                    }
                    case ClassicBpf.ALU -> {
                        int v = (code & ClassicBpf.X) != 0 ? x : k;
                        a = switch (code & 0xf0) {
                            case ClassicBpf.ADD -> a + v;
                            case ClassicBpf.SUB -> a - v;
                            case ClassicBpf.AND -> a & v;
                            case ClassicBpf.LSH -> a << v;
                            case ClassicBpf.RSH -> a >>> v;
                            case ClassicBpf.MUL -> a * v;
                            case ClassicBpf.MOD -> Integer.remainderUnsigned(a, v);
                            case ClassicBpf.XOR -> a ^ v;
                            default -> throw new IllegalArgumentException("unsupported ALU op " + Integer.toHexString(code));
                        };
                    }
                    case ClassicBpf.JMP -> {
                        int op = code & 0xf0;
                        if (op == ClassicBpf.JA) {
                            pc += k;
                        } else {
                            int v = (code & ClassicBpf.X) != 0 ? x : k;
                            boolean cond = switch (op) {
                                case ClassicBpf.JEQ -> a == v;
                                case ClassicBpf.JGE -> Integer.compareUnsigned(a, v) >= 0;
                                case ClassicBpf.JSET -> (a & v) != 0;
                                default -> throw new IllegalArgumentException("unsupported jump " + Integer.toHexString(code));
                            };
                            pc += cond ? in.jt() : in.jf();
                        }
                    }
                    case ClassicBpf.RET -> {
                        return (code & 0x18) == ClassicBpf.A ? a : k;
                    }
                    case ClassicBpf.MISC -> {
                        if ((code & 0xf8) == ClassicBpf.TXA) {
                            a = x;
                        } else {
                            x = a;
                        }
                    }
                    default -> throw new IllegalArgumentException("unsupported class " + Integer.toHexString(code));
                }
            }
        } catch (OutOfPacket e) {
            return 0;
        }
    }

    private static int load(byte[] p, int off, int size) {
        if (off < SKF_NET_OFF || off >= SKF_AD_OFF) {
            throw new IllegalArgumentException("the steering program loads relative to the network header only");
        }
        int o = off - SKF_NET_OFF;
        int n = size == ClassicBpf.B ? 1 : size == ClassicBpf.H ? 2 : 4;
        if (o < 0 || o + n > p.length) {
            throw new OutOfPacket();
        }
        int v = 0;
        for (int i = 0; i < n; i++) {
            v = (v << 8) | (p[o + i] & 0xff);
        }
        return v;
    }
}
