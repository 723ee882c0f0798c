package io.flowstack.nic.impair;

import io.flowstack.nic.Nic;
import io.flowstack.nic.WrappingNic;
import java.lang.foreign.Arena;
import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * A {@link Nic} that injects faults into the frames of another one: loss, duplication, bit
 * corruption, delay with jitter and reordering, following Linux {@code sch_netem} (tc-netem(8)),
 * which the kernels we test on do not have. The model is smoltcp's {@code phy::FaultInjector}, a
 * device wrapper that fits in front of any device; like it, this wrapper is for tests.
 *
 * <pre>{@code
 * Nic nic = ImpairedNic.wrap(TapNic.open(...), ImpairmentSpec.parse("loss=1%,dir=rx"), System::nanoTime);
 * }</pre>
 *
 * Every queue is wrapped by an {@link ImpairedQueue} (see it for the exact semantics) with its own
 * holding areas and random generator ({@code seed + queueIndex}). One spec applies to RX, TX or
 * both; for different profiles per direction wrap twice, e.g. an RX-only wrapper around a TX-only
 * one. The clock must be the one the queue owner uses for its deadlines
 * ({@link io.flowstack.nic.NicQueue#wakeDeadline()}), normally {@code System::nanoTime}; tests pass
 * a fake one.
 *
 * <p>Owned by: the thread that wraps it (configuration and {@link #close()}); each
 * {@link ImpairedQueue} is owned by the thread that owns the wrapped queue. The wrapper owns the
 * wrapped NIC: {@link #close()} closes it, then frees the holding areas (held frames are
 * discarded).
 */
public final class ImpairedNic extends WrappingNic<ImpairedQueue> {
    private final ImpairmentSpec spec;

    private ImpairedNic(Nic inner, ImpairmentSpec spec, LongSupplier nanoClock) {
        Arena arena = Arena.ofShared();
        ImpairedQueue[] queues = new ImpairedQueue[inner.queueCount()];
        for (int i = 0; i < queues.length; i++) {
            queues[i] = new ImpairedQueue(inner.queue(i), i, spec, nanoClock, arena, inner.mtu());
        }
        super(inner, queues, arena);
        this.spec = spec;
    }

    /**
     * Wraps {@code inner}; its holding areas are allocated now (off-heap, at most
     * {@value ImpairedQueue#MAX_HELD_BYTES} bytes per impaired direction per queue).
     *
     * @param inner     the NIC whose frames are impaired; closed by {@link #close()}
     * @param spec      what to do to the frames
     * @param nanoClock monotonic nanoseconds, read once per receive/transmit call
     */
    public static ImpairedNic wrap(Nic inner, ImpairmentSpec spec, LongSupplier nanoClock) {
        Objects.requireNonNull(inner, "inner");
        Objects.requireNonNull(spec, "spec");
        Objects.requireNonNull(nanoClock, "nanoClock");
        requireNoOffloads(inner, "impairment");
        return new ImpairedNic(inner, spec, nanoClock);
    }

    /** The impairment profile. */
    public ImpairmentSpec spec() {
        return spec;
    }

    @Override
    public String toString() {
        return "ImpairedNic[" + inner + " " + spec + "]";
    }
}
