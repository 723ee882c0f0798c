package io.flowstack.nativeio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/** {@link Madvise#dontNeed}: a private anonymous mapping's pages are given back and read as zeros. */
class MadviseTest {
    @Test
    void dontNeedFreesThePagesOfAnAnonymousMapping() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment m = Libc.mmap(64 << 10, Libc.PROT_READ | Libc.PROT_WRITE,
                    Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS, -1, 0, a);
            m.fill((byte) 0x5a);
            assertTrue(Madvise.dontNeed(m));
            for (long i = 0; i < m.byteSize(); i += 1024) {
                assertEquals(0, m.get(ValueLayout.JAVA_BYTE, i), "byte " + i);
            }
            m.set(ValueLayout.JAVA_BYTE, 5, (byte) 1); // still mapped: usable again
            assertEquals(1, m.get(ValueLayout.JAVA_BYTE, 5));
            assertThrows(IllegalArgumentException.class, () -> Madvise.dontNeed(m.asSlice(8)));
        }
    }
}
