package io.flowstack.nic.pcap;

import io.flowstack.nic.Nic;
import io.flowstack.nic.WrappingNic;
import java.lang.foreign.Arena;
import java.time.Instant;
import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * A {@link Nic} that writes every frame of another one to pcap files, like {@code tcpdump -w} on
 * the interface, without slowing the stack down: the frames are copied by the queue owners into
 * per-queue off-heap rings and written by a separate thread with Pcap4J.
 *
 * <pre>{@code
 * Nic nic = PcapNic.wrap(TapNic.open("fs0", 2), PcapSpec.of(Path.of("fs0.pcap")).withRotation(10_000_000, 5),
 *         PcapNic.wallClock());
 * }</pre>
 *
 * <h2>Threads and what each owns</h2>
 * <ul>
 *   <li><b>Queue owners</b> (the netisr threads): each {@link PcapQueue} is owned by the thread
 *       that owns the wrapped queue; it is the single producer of that queue's capture ring (an
 *       Agrona {@code OneToOneRingBuffer} in off-heap memory), copies each frame with a timestamp
 *       and its direction into it, never blocks and never allocates; a frame that finds the ring
 *       full is dropped from the capture and counted ({@link #dropped()}).</li>
 *   <li><b>The capture writer</b> ({@code pcap-writer-NAME}, a daemon platform thread started by
 *       {@link #wrap}): the single consumer of every ring; owns the {@link PcapWriter}, i.e. the
 *       Pcap4J handle, the open dumper and the files. It merges the rings by timestamp and
 *       rotates files. Without a thread ({@link #wrapWithoutThread}) the thread that calls
 *       {@link #drain()} owns the writer instead (threadless stacks, {@code stack replay}).</li>
 *   <li><b>The creating thread</b>: configuration and {@link #close()}, which stops the writer,
 *       writes what the rings still hold and closes the file, then closes the wrapped NIC. Call
 *       it after the queue owners have stopped (as for every NIC).</li>
 * </ul>
 *
 * <h2>Clock</h2>
 * The timestamps come from {@code epochNanos}, read by the queue owners (once per receive call
 * that returned frames, once per transmitted frame). Protocol code never reads it: the wrapper
 * does, as {@code ImpairedNic} reads its clock. {@link #wallClock()} is the normal choice (a
 * monotonic clock anchored to the wall clock once, so the timestamps never go backwards); a
 * threadless stack passes its fake clock.
 */
public final class PcapNic extends WrappingNic<PcapQueue> {
    private final PcapSpec spec;
    private final PcapWriter writer;
    private final Thread thread;
    private volatile boolean running = true;

    private PcapNic(Nic inner, PcapSpec spec, LongSupplier epochNanos, boolean withThread) {
        Arena arena = Arena.ofShared();
        PcapQueue[] queues = new PcapQueue[inner.queueCount()];
        try {
            for (int i = 0; i < queues.length; i++) {
                queues[i] = new PcapQueue(inner.queue(i), i, spec, epochNanos, arena);
            }
            this.writer = new PcapWriter(spec, queues, epochNanos);
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
        super(inner, queues, arena);
        this.spec = spec;
        if (withThread) {
            thread = new Thread(() -> writer.run(() -> running), "pcap-writer-" + inner.name());
            thread.setDaemon(true);
            thread.start();
        } else {
            thread = null;
        }
    }

    /**
     * Wraps {@code inner} and starts the capture-writer thread. The first file is created now.
     *
     * @param inner      the NIC whose frames are captured; closed by {@link #close()}
     * @param spec       files, rotation, direction and ring size
     * @param epochNanos nanoseconds since 1970-01-01T00:00Z, read by the queue owners
     * @throws IllegalArgumentException if the first file cannot be created or libpcap is missing
     *     (the message names the file and the reason); {@code inner} is left open then
     */
    public static PcapNic wrap(Nic inner, PcapSpec spec, LongSupplier epochNanos) {
        requireNoOffloads(Objects.requireNonNull(inner, "inner"), "capture");
        return new PcapNic(Objects.requireNonNull(inner, "inner"), Objects.requireNonNull(spec, "spec"),
                Objects.requireNonNull(epochNanos, "epochNanos"), true);
    }

    /**
     * Wraps {@code inner} without a writer thread: the caller, owning the wrapped queues too (a
     * threadless stack), writes the captured frames with {@link #drain()}.
     */
    public static PcapNic wrapWithoutThread(Nic inner, PcapSpec spec, LongSupplier epochNanos) {
        requireNoOffloads(Objects.requireNonNull(inner, "inner"), "capture");
        return new PcapNic(Objects.requireNonNull(inner, "inner"), Objects.requireNonNull(spec, "spec"),
                Objects.requireNonNull(epochNanos, "epochNanos"), false);
    }

    /**
     * Nanoseconds since the epoch from {@link System#nanoTime()}, anchored to the wall clock when
     * this is called: cheap, monotonic (a wall clock step does not reorder the capture), and
     * right to the microsecond or so for the length of a capture.
     */
    public static LongSupplier wallClock() {
        Instant now = Instant.now();
        long base = System.nanoTime();
        long epoch = now.getEpochSecond() * 1_000_000_000L + now.getNano();
        return () -> epoch + (System.nanoTime() - base);
    }

    /**
     * Writes every frame the rings hold now, in time order (no writer thread only; the caller
     * must own the queues, so that no frame is being captured meanwhile).
     *
     * @return the number of frames written
     */
    public int drain() {
        if (thread != null) {
            throw new IllegalStateException("this capture has a writer thread; drain() is for wrapWithoutThread");
        }
        return writer.drain(true);
    }

    public PcapSpec spec() {
        return spec;
    }

    /** Frames put into the rings, all queues. */
    public long captured() {
        long sum = 0;
        for (PcapQueue q : queues) {
            sum += q.captured();
        }
        return sum;
    }

    /** Frames dropped from the capture because a ring was full, all queues. */
    public long dropped() {
        long sum = 0;
        for (PcapQueue q : queues) {
            sum += q.dropped();
        }
        return sum;
    }

    /** Frames written to the files. */
    public long written() {
        return writer.written();
    }

    /** Files opened so far (a ring counts each reuse). */
    public long files() {
        return writer.files();
    }

    /** Frames not written because the capture failed ({@link #error()}). */
    public long lost() {
        return writer.lost();
    }

    /** Why the capture stopped writing, or null. */
    public String error() {
        return writer.error();
    }

    /**
     * One line for the end of a run, e.g. {@code capture fs0.pcap: 1523 frames written (2 files),
     * 0 dropped (ring full)}, with the error if the capture failed.
     */
    public String summary() {
        StringBuilder b = new StringBuilder("capture ").append(spec).append(": ")
                .append(written()).append(" frames written");
        if (spec.rotates()) {
            b.append(" (").append(files()).append(files() == 1 ? " file" : " files").append(')');
        }
        b.append(", ").append(dropped()).append(" dropped (ring full)");
        if (dropped() > 0) {
            b.append(" - the writer fell behind: a larger buffer, or a capture of less traffic, keeps more");
        }
        if (error() != null) {
            b.append(", ").append(lost()).append(" lost; capture failed: ").append(error());
        }
        return b.toString();
    }

    /**
     * Stops the writer thread, writes the frames left in the rings, closes the file and then the
     * wrapped NIC ({@link WrappingNic}). Call after the queue owners have stopped.
     */
    @Override
    protected void releaseWrapper() {
        running = false;
        if (thread != null) {
            boolean interrupted = false;
            while (true) {
                try {
                    thread.join();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
        writer.close();
    }

    @Override
    public String toString() {
        return "PcapNic[" + inner + " " + spec + "]";
    }
}
