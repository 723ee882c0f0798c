package io.flowstack.tests;

import io.flowstack.core.config.StackConfig;
import io.flowstack.nic.TapNic;
import io.flowstack.nic.impair.ImpairedNic;
import io.flowstack.nic.impair.ImpairedQueue;
import io.flowstack.nic.impair.ImpairmentSpec;
import java.util.function.UnaryOperator;

/**
 * A Linux kernel peer for the stack, like {@link KernelLab} (a fresh namespace holding the kernel
 * side of a multi-queue TAP at {@value NamespaceLab#KERNEL_IP}/24, the stack at
 * {@value NamespaceLab#STACK_IP}/24), but with the stack's TAP wrapped in an {@link ImpairedNic}
 * (loss, reordering, duplication, corruption, delay: the netem the test kernels do not have), for
 * the fault and abuse tests ({@code KernelFault*}, {@code KernelAbuse*}).
 *
 * <p>The namespace is {@code fst-<pid>-<8 hex>} like {@link KernelLab}'s, so that either fixture
 * removes the other's leftovers of a crashed run, the TAP {@code fi<8 hex>}. Naming, timeouts and
 * cleanup (here: background commands, the services, the stack, the NIC, then the namespace) are
 * {@link NamespaceLab}'s and {@link StackLab}'s.
 *
 * <p>Owned by: the test thread that started it.
 */
public final class ImpairedKernelLab extends StackLab {
    private final ImpairmentSpec spec;
    private final String tap;
    private ImpairedNic impaired;

    private ImpairedKernelLab(int cores, ImpairmentSpec spec) {
        super(KernelLab.NS_PREFIX, "impaired-lab", cores);
        this.spec = spec;
        this.tap = "fi" + runHex();
    }

    /**
     * Creates the namespace and TAP, wraps the TAP in an {@link ImpairedNic} with {@code spec}
     * (or not at all if {@code spec} is null) and starts the stack on {@code cores} cores.
     * {@code tune} may change the stack configuration (address, prefix, MAC and cores are set
     * here).
     */
    public static ImpairedKernelLab start(int cores, ImpairmentSpec spec, UnaryOperator<StackConfig.Builder> tune) {
        return open(new ImpairedKernelLab(cores, spec), lab -> lab.setUp(tune));
    }

    private void setUp(UnaryOperator<StackConfig.Builder> tune) {
        TapNic tapNic = useNic(TapNic.open(tap, cores(), TapNic.Options.NO_OFFLOAD)); // impairment copies MTU frames
        host("ip", "link", "set", tap, "netns", namespace());
        bringUp(tap);
        if (spec != null) {
            impaired = useNic(ImpairedNic.wrap(tapNic, spec, System::nanoTime)); // closes the TAP too
        }
        startStack(tune);
    }

    // ------------------------------------------------------------------ accessors

    public String tap() {
        return tap;
    }

    /** The impairment counters summed over the queues (all zero without an impairment). */
    public Impairments impairments() {
        long[] c = new long[9];
        if (impaired != null) {
            for (int i = 0; i < impaired.queueCount(); i++) {
                ImpairedQueue q = impaired.queue(i);
                c[0] += q.rxDropped();
                c[1] += q.rxDuplicated();
                c[2] += q.rxCorrupted();
                c[3] += q.rxDelayed();
                c[4] += q.txDropped();
                c[5] += q.txDuplicated();
                c[6] += q.txCorrupted();
                c[7] += q.txDelayed();
                c[8] += q.heldOverflow();
            }
        }
        return new Impairments(c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8]);
    }

    /** What the {@link ImpairedNic} did, summed over its queues (RX = towards the stack). */
    public record Impairments(long rxDropped, long rxDuplicated, long rxCorrupted, long rxDelayed,
                              long txDropped, long txDuplicated, long txCorrupted, long txDelayed,
                              long heldOverflow) {
        @Override
        public String toString() {
            return "rx dropped " + rxDropped + ", duplicated " + rxDuplicated + ", corrupted " + rxCorrupted
                    + ", delayed " + rxDelayed + "; tx dropped " + txDropped + ", duplicated " + txDuplicated
                    + ", corrupted " + txCorrupted + ", delayed " + txDelayed + "; held overflow " + heldOverflow;
        }
    }

    @Override
    public String report() {
        return "stack " + cores() + " core(s), ns " + namespace() + ", tap " + tap
                + (spec != null ? ", impairment " + spec + "\n  " + impairments() : ", no impairment") + "\n"
                + stack().countersReport();
    }

    /**
     * A counter of the namespace's kernel from {@code /proc/net/snmp} or {@code /proc/net/netstat},
     * e.g. {@code kernelCounter("Tcp", "InCsumErrors")}.
     */
    public long kernelCounter(String group, String name) {
        Result r = execOk("cat", "/proc/net/snmp", "/proc/net/netstat");
        String[] lines = r.stdout().split("\n");
        for (int i = 0; i + 1 < lines.length; i++) {
            String[] keys = lines[i].strip().split("\\s+");
            String[] values = lines[i + 1].strip().split("\\s+");
            if (keys[0].equals(group + ":") && values[0].equals(group + ":") && keys.length == values.length) {
                for (int k = 1; k < keys.length; k++) {
                    if (keys[k].equals(name)) {
                        return Long.parseLong(values[k]);
                    }
                }
            }
        }
        throw new AssertionError("no kernel counter " + group + " " + name + " in " + r);
    }
}
