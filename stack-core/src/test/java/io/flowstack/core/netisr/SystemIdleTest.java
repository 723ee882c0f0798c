package io.flowstack.core.netisr;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** {@link SystemIdle}: the idle and iowait fields of /proc/stat's first line, parsed in place. */
class SystemIdleTest {

    private static long parse(String text) {
        try (Arena a = Arena.ofConfined()) {
            byte[] b = text.getBytes(StandardCharsets.US_ASCII);
            MemorySegment s = a.allocate(Math.max(1, b.length));
            MemorySegment.copy(b, 0, s, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, b.length);
            return SystemIdle.parse(s, b.length);
        }
    }

    @Test
    void idlePlusIowaitOfTheAggregateLine() {
        assertEquals(4705 + 12, parse("cpu  10132153 290696 3084719 4705 12 0 25195 0 0 0\ncpu0 1 2 3 4 5\n"));
        assertEquals(9, parse("cpu 1 2 3 4 5"));
    }

    @Test
    void anythingElseIsUnknown() {
        assertEquals(-1, parse("cpu0 1 2 3 4 5 6"), "a per-CPU line");
        assertEquals(-1, parse("intr 1 2 3 4 5"));
        assertEquals(-1, parse("cpu  1 2 3 4"), "cut short before iowait");
        assertEquals(-1, parse("cpu  1 2 x 4 5"));
        assertEquals(-1, parse(""));
    }

    @Test
    void theMachinesIdleTimeIsReadAndNeverGoesBack() {
        try (SystemIdle idle = new SystemIdle()) {
            long a = idle.idleTicks();
            long b = a;
            for (int i = 0; i < 1000; i++) { // read again and again: the same buffer, parsed afresh
                b = Math.max(b, idle.idleTicks());
            }
            assertTrue(a >= 0, "read /proc/stat: " + a);
            assertTrue(b >= a, a + " then " + b);
        }
    }
}
