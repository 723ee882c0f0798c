package io.flowstack.nic.packet;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A classic BPF program ({@code struct sock_filter[]}, {@code linux/filter.h}) and a small
 * assembler with forward labels, enough for {@link ToeplitzSteering}.
 *
 * <p>An instruction is {@code {u16 code; u8 jt; u8 jf; u32 k}} (8 bytes); jumps are relative
 * forward offsets of at most 255 instructions (the kernel's {@code bpf_check_classic} rejects
 * anything else, like a load from scratch memory that no path stored first).
 *
 * <p>Owned by: the thread that builds it; a built {@link Program} is immutable.
 */
public final class ClassicBpf {
    // instruction classes
    public static final int LD = 0x00;
    public static final int LDX = 0x01;
    public static final int ST = 0x02;
    public static final int ALU = 0x04;
    public static final int JMP = 0x05;
    public static final int RET = 0x06;
    public static final int MISC = 0x07;
    // sizes
    public static final int W = 0x00;
    public static final int H = 0x08;
    public static final int B = 0x10;
    // modes
    public static final int IMM = 0x00;
    public static final int ABS = 0x20;
    public static final int IND = 0x40;
    public static final int MEM = 0x60;
    public static final int MSH = 0xa0;
    // ALU operations
    public static final int ADD = 0x00;
    public static final int SUB = 0x10;
    public static final int MUL = 0x20;
    public static final int AND = 0x50;
    public static final int LSH = 0x60;
    public static final int RSH = 0x70;
    public static final int MOD = 0x90;
    public static final int XOR = 0xa0;
    // jumps
    public static final int JA = 0x00;
    public static final int JEQ = 0x10;
    public static final int JGE = 0x30;
    public static final int JSET = 0x40;
    // sources
    public static final int K = 0x00;
    public static final int X = 0x08;
    public static final int A = 0x10;
    // misc
    public static final int TAX = 0x00;
    public static final int TXA = 0x80;

    /** {@code SKF_AD_OFF}: ancillary data loads. */
    public static final int SKF_AD_OFF = -0x1000;
    /** {@code SKF_AD_PROTOCOL}: {@code skb->protocol} (host order after the load). */
    public static final int SKF_AD_PROTOCOL = 0;
    /** {@code SKF_NET_OFF}: loads relative to the network header. */
    public static final int SKF_NET_OFF = -0x100000;
    /** {@code BPF_MEMWORDS}: scratch memory slots M[0..15]. */
    public static final int MEMWORDS = 16;

    /**
     * One {@code struct sock_filter}.
     *
     * <p>Owned by: nobody (immutable).
     */
    public record Insn(int code, int jt, int jf, int k) {
    }

    /**
     * An assembled program.
     *
     * <p>Owned by: nobody (immutable).
     */
    public record Program(List<Insn> insns) {
        public Program {
            insns = List.copyOf(insns);
        }

        /**
         * A {@code struct sock_fprog} ({@code u16 len}, padding, {@code sock_filter *filter}: 16
         * bytes on x86_64) followed by the instructions, in {@code arena}. The kernel copies the
         * program, so the memory may be freed after the setsockopt.
         */
        public MemorySegment fprog(Arena arena) {
            MemorySegment filter = arena.allocate(8L * insns.size(), 8);
            for (int i = 0; i < insns.size(); i++) {
                Insn in = insns.get(i);
                long o = 8L * i;
                filter.set(ValueLayout.JAVA_SHORT, o, (short) in.code());
                filter.set(ValueLayout.JAVA_BYTE, o + 2, (byte) in.jt());
                filter.set(ValueLayout.JAVA_BYTE, o + 3, (byte) in.jf());
                filter.set(ValueLayout.JAVA_INT, o + 4, in.k());
            }
            MemorySegment prog = arena.allocate(16, 8);
            prog.set(ValueLayout.JAVA_SHORT, 0, (short) insns.size());
            prog.set(ValueLayout.JAVA_LONG, 8, filter.address());
            return prog;
        }
    }

    private record Pending(int code, String jt, String jf, int k) {
    }

    private final List<Pending> code = new ArrayList<>();
    private final Map<String, Integer> labels = new HashMap<>();

    /** Binds {@code label} to the next instruction. */
    public ClassicBpf label(String label) {
        if (labels.putIfAbsent(label, code.size()) != null) {
            throw new IllegalArgumentException("label defined twice: " + label);
        }
        return this;
    }

    /** A non-jump instruction. */
    public ClassicBpf op(int opcode, int k) {
        code.add(new Pending(opcode, null, null, k));
        return this;
    }

    /**
     * A conditional jump: to {@code ifTrue} or {@code ifFalse}, each a label or {@code null}
     * for the next instruction.
     */
    public ClassicBpf jump(int opcode, int k, String ifTrue, String ifFalse) {
        code.add(new Pending(JMP | opcode, ifTrue, ifFalse, k));
        return this;
    }

    /** An unconditional jump to {@code label}. */
    public ClassicBpf ja(String label) {
        code.add(new Pending(JMP | JA, label, null, 0));
        return this;
    }

    /** Resolves the labels. */
    public Program assemble() {
        List<Insn> out = new ArrayList<>(code.size());
        for (int i = 0; i < code.size(); i++) {
            Pending p = code.get(i);
            if (p.code() == (JMP | JA)) {
                out.add(new Insn(p.code(), 0, 0, offset(i, p.jt(), Integer.MAX_VALUE)));
            } else if ((p.code() & 0x07) == JMP) {
                out.add(new Insn(p.code(), offset(i, p.jt(), 255), offset(i, p.jf(), 255), p.k()));
            } else {
                out.add(new Insn(p.code(), 0, 0, p.k()));
            }
        }
        return new Program(out);
    }

    private int offset(int from, String label, int max) {
        if (label == null) {
            return 0;
        }
        Integer to = labels.get(label);
        if (to == null) {
            throw new IllegalStateException("undefined label " + label);
        }
        int off = to - from - 1;
        if (off < 0 || off > max) {
            throw new IllegalStateException("jump from " + from + " to " + label + " (" + to + ") is out of range");
        }
        return off;
    }
}
