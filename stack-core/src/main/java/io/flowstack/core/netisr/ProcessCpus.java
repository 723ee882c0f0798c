package io.flowstack.core.netisr;

/**
 * The CPUs this process may use, counted once when the class loads (on the thread that builds
 * the stack). Not at pin time: the JVM counts the calling thread's affinity mask, which is one
 * CPU once the thread is pinned, so a thread running two netisrs (a composite agent) would pin
 * its second one to CPU 0.
 *
 * <p>Immutable; any thread.
 */
final class ProcessCpus {
    /** The count, at class load. */
    static final int COUNT = Runtime.getRuntime().availableProcessors();

    private ProcessCpus() {}
}
