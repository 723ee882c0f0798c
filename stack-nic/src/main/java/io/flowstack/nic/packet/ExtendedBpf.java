package io.flowstack.nic.packet;

import static io.flowstack.nic.packet.ClassicBpf.SKF_AD_OFF;
import static io.flowstack.nic.packet.ClassicBpf.SKF_AD_PROTOCOL;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * Translates a classic BPF program into an eBPF socket-filter program (linux/bpf.h encoding)
 * whose computed result is looked up in an array map: {@code return A} becomes
 * {@code return map[A & (entries - 1)]}; {@code return K} (a constant) stays as it is. This is
 * how the multi-queue TAP gets the stack's Toeplitz steering ({@code TUNSETSTEERINGEBPF} takes
 * eBPF only), with the indirection table in a map that the stack updates when it moves a bucket,
 * as a driver updates a NIC's RSS table.
 *
 * <p>The mapping is the kernel's own ({@code bpf_convert_filter} in net/core/filter.c): A in R0,
 * X in R7, a temporary in R8, the context in R6 (which the legacy packet loads require), M[k] at
 * {@code fp - 4 * (16 - k)}; 32-bit ALU and JMP32 compares, as classic BPF is 32-bit; the
 * ancillary load of {@code skb->protocol} becomes a context load and a byte swap. Only what the
 * stack's programs use is supported; anything else throws.
 *
 * <p>Owned by: nobody (stateless).
 */
public final class ExtendedBpf {
    // classes, sizes, modes, ops (linux/bpf_common.h, linux/bpf.h)
    private static final int LD = 0x00, LDX = 0x01, ST = 0x02, STX = 0x03, ALU = 0x04, JMP = 0x05, JMP32 = 0x06,
            ALU64 = 0x07;
    private static final int W = 0x00, H = 0x08, B = 0x10, DW = 0x18;
    private static final int IMM = 0x00, ABS = 0x20, IND = 0x40, MEM = 0x60, MSH = 0xa0;
    private static final int AND = 0x50, LSH = 0x60, NEG = 0x80, MOV = 0xb0, END = 0xd0, ADD = 0x00;
    private static final int JA = 0x00, JNE = 0x50, CALL = 0x80, EXIT = 0x90;
    private static final int SRC_X = 0x08;
    private static final int TO_BE = 0x08;
    private static final int R0 = 0, R1 = 1, R2 = 2, R6 = 6, R7 = 7, R8 = 8, FP = 10;
    private static final int PSEUDO_MAP_FD = 1;
    private static final int FUNC_MAP_LOOKUP_ELEM = 1;
    /** {@code offsetof(struct __sk_buff, protocol)}. */
    private static final int SKB_PROTOCOL = 16;
    private static final int KEY_SLOT = -72; // below the 16 scratch words

    private ExtendedBpf() {
    }

    /** One eBPF instruction. */
    public record Insn(int code, int dst, int src, int off, int imm) {
        long encode() {
            return (code & 0xffL) | ((long) ((dst & 0xf) | ((src & 0xf) << 4)) << 8) | ((off & 0xffffL) << 16)
                    | ((imm & 0xffffffffL) << 32);
        }
    }

    /**
     * The eBPF program: {@code classic}, whose every return goes to
     * {@code return map[value & (entries - 1)]} (0 if the lookup fails).
     *
     * @param mapFd   an array map of {@code entries} ints (the indirection table)
     * @param entries a power of two
     */
    public static List<Insn> translate(ClassicBpf.Program classic, int mapFd, int entries) {
        List<ClassicBpf.Insn> in = classic.insns();
        int n = in.size();
        // pass 1: where each classic instruction starts
        int[] start = new int[n + 1];
        int prologue = 3 + ClassicBpf.MEMWORDS;
        int at = prologue;
        for (int i = 0; i < n; i++) {
            start[i] = at;
            at += size(in.get(i));
        }
        int tail = at;
        start[n] = tail;
        List<Insn> out = new ArrayList<>(tail + 10);
        out.add(new Insn(ALU64 | MOV | SRC_X, R6, R1, 0, 0)); // ctx
        out.add(new Insn(ALU | MOV, R0, 0, 0, 0)); // A = 0
        out.add(new Insn(ALU | MOV, R7, 0, 0, 0)); // X = 0
        for (int k = 0; k < ClassicBpf.MEMWORDS; k++) {
            out.add(new Insn(ST | MEM | W, FP, 0, mem(k), 0)); // M[k] = 0: the verifier wants every slot read written
        }
        for (int i = 0; i < n; i++) {
            ClassicBpf.Insn c = in.get(i);
            int before = out.size();
            emit(out, c, i, start, tail);
            if (out.size() - before != size(c)) {
                throw new IllegalStateException("size of " + c + " miscounted");
            }
        }
        // tail: A = map[A & (entries - 1)]
        out.add(new Insn(ALU | AND, R0, 0, 0, entries - 1));
        out.add(new Insn(STX | MEM | W, FP, R0, KEY_SLOT, 0));
        out.add(new Insn(LD | IMM | DW, R1, PSEUDO_MAP_FD, 0, mapFd));
        out.add(new Insn(0, 0, 0, 0, 0));
        out.add(new Insn(ALU64 | MOV | SRC_X, R2, FP, 0, 0));
        out.add(new Insn(ALU64 | ADD, R2, 0, 0, KEY_SLOT));
        out.add(new Insn(JMP | CALL, 0, 0, 0, FUNC_MAP_LOOKUP_ELEM));
        out.add(new Insn(JMP | JNE, R0, 0, 2, 0));
        out.add(new Insn(ALU | MOV, R0, 0, 0, 0));
        out.add(new Insn(JMP | EXIT, 0, 0, 0, 0));
        out.add(new Insn(LDX | MEM | W, R0, R0, 0, 0));
        out.add(new Insn(JMP | EXIT, 0, 0, 0, 0));
        return out;
    }

    /** The instructions as {@code struct bpf_insn[]} in {@code arena}. */
    public static MemorySegment encode(List<Insn> insns, Arena arena) {
        MemorySegment s = arena.allocate(8L * insns.size(), 8);
        for (int i = 0; i < insns.size(); i++) {
            s.set(ValueLayout.JAVA_LONG, 8L * i, insns.get(i).encode());
        }
        return s;
    }

    private static int mem(int k) {
        return -4 * (ClassicBpf.MEMWORDS - k);
    }

    private static int cls(ClassicBpf.Insn c) {
        return c.code() & 0x07;
    }

    /** eBPF instructions a classic one becomes (must agree with {@link #emit}). */
    private static int size(ClassicBpf.Insn c) {
        int code = c.code();
        return switch (cls(c)) {
            case ClassicBpf.LD -> (code & 0xe0) == ABS && c.k() == SKF_AD_OFF + SKF_AD_PROTOCOL ? 2 : 1;
            case ClassicBpf.LDX -> (code & 0xe0) == MSH ? 6 : 1;
            case ClassicBpf.JMP -> (code & 0xf0) == JA ? 1 : (c.jf() == 0 ? 1 : 2);
            case ClassicBpf.RET -> (code & 0x18) == ClassicBpf.A ? 1 : 2;
            default -> 1;
        };
    }

    private static void emit(List<Insn> out, ClassicBpf.Insn c, int i, int[] start, int tail) {
        int code = c.code();
        int k = c.k();
        int mode = code & 0xe0;
        int size = code & 0x18;
        switch (cls(c)) {
            case ClassicBpf.LD -> {
                if (mode == ABS && k == SKF_AD_OFF + SKF_AD_PROTOCOL) {
                    out.add(new Insn(LDX | MEM | W, R0, R6, SKB_PROTOCOL, 0)); // __be16 in a u32
                    out.add(new Insn(ALU | END | TO_BE, R0, 0, 0, 16));
                } else if (mode == ABS && k >= SKF_AD_OFF && k < SKF_AD_OFF + 64) {
                    throw new IllegalArgumentException("ancillary load " + (k - SKF_AD_OFF) + " not supported");
                } else if (mode == ABS) {
                    out.add(new Insn(LD | ABS | size, 0, 0, 0, k));
                } else if (mode == IND) {
                    out.add(new Insn(LD | IND | size, 0, R7, 0, k));
                } else if (mode == IMM) {
                    out.add(new Insn(ALU | MOV, R0, 0, 0, k));
                } else if (mode == MEM) {
                    out.add(new Insn(LDX | MEM | W, R0, FP, mem(k), 0));
                } else {
                    throw new IllegalArgumentException("classic load mode " + Integer.toHexString(code));
                }
            }
            case ClassicBpf.LDX -> {
                if (mode == IMM) {
                    out.add(new Insn(ALU | MOV, R7, 0, 0, k));
                } else if (mode == MEM) {
                    out.add(new Insn(LDX | MEM | W, R7, FP, mem(k), 0));
                } else if (mode == MSH && size == B) {
                    out.add(new Insn(ALU64 | MOV | SRC_X, R8, R0, 0, 0));
                    out.add(new Insn(LD | ABS | B, 0, 0, 0, k));
                    out.add(new Insn(ALU | AND, R0, 0, 0, 0xf));
                    out.add(new Insn(ALU | LSH, R0, 0, 0, 2));
                    out.add(new Insn(ALU64 | MOV | SRC_X, R7, R0, 0, 0));
                    out.add(new Insn(ALU64 | MOV | SRC_X, R0, R8, 0, 0));
                } else {
                    throw new IllegalArgumentException("classic LDX mode " + Integer.toHexString(code));
                }
            }
            case ClassicBpf.ST -> out.add(new Insn(STX | MEM | W, FP, R0, mem(k), 0));
            case 0x03 -> out.add(new Insn(STX | MEM | W, FP, R7, mem(k), 0)); // STX
            case ClassicBpf.ALU -> {
                int op = code & 0xf0;
                if (op == NEG) {
                    out.add(new Insn(ALU | NEG, R0, 0, 0, 0));
                } else if ((code & SRC_X) != 0) {
                    out.add(new Insn(ALU | op | SRC_X, R0, R7, 0, 0));
                } else {
                    out.add(new Insn(ALU | op, R0, 0, 0, k));
                }
            }
            case ClassicBpf.JMP -> {
                int op = code & 0xf0;
                int next = start[i] + size(c);
                if (op == JA) {
                    out.add(new Insn(JMP | JA, 0, 0, start[i + 1 + k] - next, 0));
                    return;
                }
                int t = start[i + 1 + c.jt()];
                int condAt = start[i];
                if ((code & SRC_X) != 0) {
                    out.add(new Insn(JMP32 | op | SRC_X, R0, R7, t - (condAt + 1), 0));
                } else {
                    out.add(new Insn(JMP32 | op, R0, 0, t - (condAt + 1), k));
                }
                if (c.jf() != 0) {
                    out.add(new Insn(JMP | JA, 0, 0, start[i + 1 + c.jf()] - next, 0));
                }
            }
            case ClassicBpf.RET -> {
                if ((code & 0x18) != ClassicBpf.A) {
                    // a constant result is returned as it is, not looked up: the verifier tracks a
                    // constant map key precisely, and paths that differ only there stop pruning
                    out.add(new Insn(ALU | MOV, R0, 0, 0, k));
                    out.add(new Insn(JMP | EXIT, 0, 0, 0, 0));
                } else {
                    out.add(new Insn(JMP | JA, 0, 0, tail - (start[i] + size(c)), 0));
                }
            }
            case ClassicBpf.MISC -> {
                if ((code & 0xf8) == ClassicBpf.TXA) {
                    out.add(new Insn(ALU | MOV | SRC_X, R0, R7, 0, 0));
                } else {
                    out.add(new Insn(ALU | MOV | SRC_X, R7, R0, 0, 0));
                }
            }
            default -> throw new IllegalArgumentException("classic instruction " + Integer.toHexString(code));
        }
    }
}
