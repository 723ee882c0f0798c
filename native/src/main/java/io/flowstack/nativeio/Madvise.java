package io.flowstack.nativeio;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * {@code madvise(2)} for the stack's own anonymous private mappings ({@link Libc#mmap}): giving
 * their pages back to the kernel while the mapping stays. Stateless; any thread.
 */
public final class Madvise {
    /** {@code MADV_DONTNEED}: the pages are freed; the next touch of a private anonymous page reads zeros. */
    public static final int MADV_DONTNEED = 4;
    /** The page size these calls work in. */
    public static final long PAGE = 4096;

    private static final MethodHandle MADVISE = Linker.nativeLinker().downcallHandle(
            Linker.nativeLinker().defaultLookup().find("madvise")
                    .orElseThrow(() -> new UnsatisfiedLinkError("libc symbol not found: madvise")),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG,
                    ValueLayout.JAVA_INT));

    private Madvise() {}

    /**
     * {@code madvise(m, m.byteSize(), MADV_DONTNEED)}: frees {@code m}'s pages. The segment must
     * start on a page and belong to a private anonymous mapping of ours, whose contents then read
     * as zeros; its length is rounded up to whole pages by the kernel.
     *
     * @param m the memory, page-aligned
     * @return false if the kernel refused (e.g. {@code EINVAL} for an unaligned start): nothing was freed
     * @throws IllegalArgumentException if {@code m} does not start on a page
     */
    public static boolean dontNeed(MemorySegment m) {
        if (m.address() % PAGE != 0) {
            throw new IllegalArgumentException("not page-aligned: 0x" + Long.toHexString(m.address()));
        }
        try {
            return (int) MADVISE.invokeExact(m, m.byteSize(), MADV_DONTNEED) == 0;
        } catch (Throwable t) {
            throw new IllegalStateException("madvise", t);
        }
    }
}
