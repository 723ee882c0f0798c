package io.flowstack.core.netisr;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Decimal fields of a {@code /proc} file read into off-heap memory ({@link SystemIdle},
 * {@link RunDelay}), parsed in place without allocation.
 *
 * <p>Stateless.
 */
final class ProcDecimal {
    /** More digits than a {@code long} always holds: such a field is rejected. */
    static final int MAX_DIGITS = 18;

    private ProcDecimal() {
    }

    /** {@return the index of the first byte at or after {@code from} in {@code s[0, len)} that is not a decimal digit} */
    static int end(MemorySegment s, int from, int len) {
        int i = from;
        byte b;
        while (i < len && (b = s.get(ValueLayout.JAVA_BYTE, i)) >= '0' && b <= '9') {
            i++;
        }
        return i;
    }

    /**
     * {@return the value of the digits {@code s[from, to)}, or -1 if there are none or more than
     * {@value #MAX_DIGITS}}
     */
    static long value(MemorySegment s, int from, int to) {
        if (to <= from || to - from > MAX_DIGITS) {
            return -1;
        }
        long v = 0;
        for (int i = from; i < to; i++) {
            v = v * 10 + (s.get(ValueLayout.JAVA_BYTE, i) - '0');
        }
        return v;
    }
}
