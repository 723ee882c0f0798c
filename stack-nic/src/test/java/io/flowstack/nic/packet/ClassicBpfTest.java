package io.flowstack.nic.packet;

import static io.flowstack.nic.packet.ClassicBpf.A;
import static io.flowstack.nic.packet.ClassicBpf.JEQ;
import static io.flowstack.nic.packet.ClassicBpf.JMP;
import static io.flowstack.nic.packet.ClassicBpf.K;
import static io.flowstack.nic.packet.ClassicBpf.RET;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.nic.Toeplitz;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

class ClassicBpfTest {

    @Test
    void labelsBecomeRelativeForwardOffsets() {
        ClassicBpf.Program p = new ClassicBpf()
                .jump(JEQ | K, 5, "yes", null)   // 0
                .op(RET | K, 1)                  // 1
                .label("yes")
                .ja("end")                       // 2
                .op(RET | K, 2)                  // 3
                .label("end")
                .op(RET | A, 0)                  // 4
                .assemble();
        assertEquals(new ClassicBpf.Insn(JMP | JEQ | K, 1, 0, 5), p.insns().get(0));
        assertEquals(new ClassicBpf.Insn(JMP, 0, 0, 1), p.insns().get(2));
    }

    @Test
    void badJumpsAreRefused() {
        assertThrows(IllegalStateException.class, () -> new ClassicBpf().ja("nowhere").assemble());
        ClassicBpf far = new ClassicBpf().jump(JEQ | K, 0, "far", null);
        for (int i = 0; i < 300; i++) {
            far.op(RET | K, 0);
        }
        far.label("far").op(RET | K, 1);
        assertThrows(IllegalStateException.class, far::assemble, "conditional jumps reach 255 at most");
        assertThrows(IllegalArgumentException.class, () -> new ClassicBpf().label("x").label("x"));
    }

    @Test
    void fprogIsLaidOutAsStructSockFprog() {
        ClassicBpf.Program p = new ClassicBpf().jump(JEQ | K, 0x0800, null, "r").op(RET | K, 7).label("r")
                .op(RET | K, 0).assemble();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment fprog = p.fprog(arena);
            assertEquals(16, fprog.byteSize());
            assertEquals(3, fprog.get(ValueLayout.JAVA_SHORT, 0));
            MemorySegment filter = MemorySegment.ofAddress(fprog.get(ValueLayout.JAVA_LONG, 8)).reinterpret(24);
            assertEquals((short) (JMP | JEQ | K), filter.get(ValueLayout.JAVA_SHORT, 0));
            assertEquals(0, filter.get(ValueLayout.JAVA_BYTE, 2));
            assertEquals(1, filter.get(ValueLayout.JAVA_BYTE, 3));
            assertEquals(0x0800, filter.get(ValueLayout.JAVA_INT, 4));
            assertEquals(7, filter.get(ValueLayout.JAVA_INT, 12));
        }
    }

    @Test
    void toeplitzProgramFitsTheKernelLimits() {
        for (int q = 1; q <= 8; q++) {
            ClassicBpf.Program p = ToeplitzSteering.program(q, Toeplitz.random(new java.util.SplittableRandom(q)));
            assertTrue(p.insns().size() < 4096, "BPF_MAXINSNS");
            ClassicBpf.Insn last = p.insns().get(p.insns().size() - 1);
            assertEquals(RET | K, last.code(), "ends in a return");
        }
        assertThrows(IllegalArgumentException.class, () -> ToeplitzSteering.program(0, Toeplitz.WOO_PARK));
    }
}
