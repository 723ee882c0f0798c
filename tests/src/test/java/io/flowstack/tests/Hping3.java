package io.flowstack.tests;

import io.flowstack.tests.NamespaceLab.Result;

/**
 * What the flood tests must know of hping3 (Debian's 3.0.0-alpha2). It sends each packet from its
 * SIGALRM handler, and that handler calls {@code malloc} and {@code free} (sendtcp.c) while the
 * main loop may be inside the allocator itself: not async-signal-safe, and now and then the heap
 * is corrupted and glibc aborts the tool ({@code corrupted size vs. prev_size}, exit 134 through
 * timeout(1); upstream antirez/hping#36 "Hping causes core dump"). That is the tool's defect, not
 * the stack's: a test repeats a flood whose hping3 died of a signal, once.
 *
 * <p>In {@code --flood} mode the main loop sends too, and the handler still fires once per
 * {@code -i} interval (1 s by default): {@link #FLOOD} sets that interval to 1,000 s so no alarm
 * comes during a bounded flood and the race cannot happen.
 *
 * <p>Stateless.
 */
final class Hping3 {
    /** {@code --flood} with its periodic SIGALRM moved out of reach of a flood of seconds. */
    static final String[] FLOOD = {"hping3", "-q", "--flood", "-i", "1000"};

    private Hping3() {
    }

    /**
     * Whether hping3 died of SIGABRT, SIGBUS or SIGSEGV (timeout(1) exits 128 + the signal): the
     * race above, or another crash of the tool.
     */
    static boolean crashed(Result r) {
        return !r.timedOut() && (r.exit() == 128 + 6 || r.exit() == 128 + 7 || r.exit() == 128 + 11);
    }
}
