package io.flowstack.core.testing;

import io.flowstack.nativeio.Madvise;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * How many pages of a memory range are resident, by {@code mincore(2)}: whether
 * the memory was ever touched, which a test of a lazily mapped buffer asserts. Stateless.
 */
public final class ResidentPages {
    /** The page size {@code mincore} reports in. */
    public static final int PAGE = (int) Madvise.PAGE;

    private static final MethodHandle MINCORE = Linker.nativeLinker().downcallHandle(
            Linker.nativeLinker().defaultLookup().find("mincore").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG,
                    ValueLayout.ADDRESS));

    private ResidentPages() {}

    /**
     * {@return the resident pages among those {@code m} overlaps}
     *
     * @throws IllegalStateException if {@code mincore} fails (e.g. the range is not mapped)
     */
    public static int of(MemorySegment m) {
        long start = m.address() & -PAGE;
        long end = (m.address() + m.byteSize() + PAGE - 1) & -PAGE;
        int pages = (int) ((end - start) / PAGE);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment vec = a.allocate(pages);
            int r = (int) MINCORE.invokeExact(MemorySegment.ofAddress(start), end - start, vec);
            if (r != 0) {
                throw new IllegalStateException("mincore failed for " + m);
            }
            int resident = 0;
            for (int i = 0; i < pages; i++) {
                resident += vec.get(ValueLayout.JAVA_BYTE, i) & 1;
            }
            return resident;
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}
