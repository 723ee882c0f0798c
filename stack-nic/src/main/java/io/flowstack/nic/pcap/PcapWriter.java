package io.flowstack.nic.pcap;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Timestamp;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;
import org.agrona.concurrent.ControlledMessageHandler;
import org.agrona.concurrent.ControlledMessageHandler.Action;
import org.pcap4j.core.NotOpenException;
import org.pcap4j.core.PcapDumper;
import org.pcap4j.core.PcapHandle;
import org.pcap4j.core.PcapNativeException;
import org.pcap4j.core.Pcaps;
import org.pcap4j.packet.namednumber.DataLinkType;

/**
 * The consumer side of a {@link PcapNic}: drains the capture rings of all queues and writes the
 * frames with Pcap4J ({@code pcap_dump} on a dead handle of link type {@code EN10MB} with
 * nanosecond timestamps), rotating files as the {@link PcapSpec} says.
 *
 * <h2>Order</h2>
 * Each ring is in timestamp order (one producer, one clock); the writer merges the rings by
 * timestamp: it always writes the oldest head record. A record is held back while another ring is
 * empty and the record is younger than {@value #GRACE_NANOS} ns, because that ring's owner may be
 * about to commit an older frame; so the file is in time order except for a producer delayed
 * longer than that between reading the clock and committing (then one record is out of order,
 * which readers accept). {@link #drain(boolean) drain(true)} writes everything at once (no
 * producer may run then).
 *
 * <h2>Ownership</h2>
 * Owned by: the capture-writer thread ({@code pcap-writer-NAME}) when the {@link PcapNic} runs
 * one, else by the thread that calls {@link PcapNic#drain()}; after {@link #close()} by the
 * closing thread. Only the owner touches the Pcap4J handle, the dumper and the files. The
 * counter getters may be called from any thread. The writer allocates (Pcap4J needs a
 * {@code byte[]} per record; arrays are reused per length up to 16 KiB); the netisr threads never
 * do.
 *
 * <h2>Errors</h2>
 * A file that cannot be opened, or a flush that fails (disk full), stops the capture: the error is
 * kept ({@link #error()}), later records are consumed and counted in {@link #lost()}, and the
 * stack runs on.
 */
final class PcapWriter {
    /** How long a record may wait for a possibly older one from an empty ring. */
    public static final long GRACE_NANOS = 5_000_000L;
    /** Bytes of a pcap file header. */
    public static final int FILE_HEADER = 24;
    /** Bytes of a pcap record header. */
    public static final int RECORD_HEADER = 16;
    private static final long FLUSH_NANOS = 200_000_000L;
    private static final int CACHED_LENGTHS = 16 * 1024;
    private static final long NONE = Long.MIN_VALUE;

    private static final VarHandle WRITTEN;
    private static final VarHandle WRITTEN_BYTES;
    private static final VarHandle FILES;
    private static final VarHandle LOST;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            WRITTEN = l.findVarHandle(PcapWriter.class, "written", long.class);
            WRITTEN_BYTES = l.findVarHandle(PcapWriter.class, "writtenBytes", long.class);
            FILES = l.findVarHandle(PcapWriter.class, "files", long.class);
            LOST = l.findVarHandle(PcapWriter.class, "lost", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final PcapSpec spec;
    private final PcapQueue[] queues;
    private final LongSupplier clock;
    private final PcapHandle handle;
    private final byte[][] byLength = new byte[CACHED_LENGTHS + 1][];
    private final Timestamp timestamp = new Timestamp(0);
    /** Timestamp of each ring's head record, {@link #NONE} if not peeked or empty. */
    private final long[] heads;
    private final ControlledMessageHandler[] peekers;
    private final ControlledMessageHandler[] writers;
    private PcapDumper dumper;
    private long fileIndex = -1;
    private long fileBytes;
    private long fileRecords;
    private long peeked;
    private boolean dirty;
    private long lastFlush;
    private volatile String error;
    private long written;
    private long writtenBytes;
    private long files;
    private long lost;

    /**
     * Opens the first file now, so that a bad path fails before the stack starts.
     *
     * @throws IllegalArgumentException naming the file and the reason if it cannot be created
     */
    PcapWriter(PcapSpec spec, PcapQueue[] queues, LongSupplier epochNanos) {
        this.spec = spec;
        this.queues = queues;
        this.clock = epochNanos;
        this.heads = new long[queues.length];
        java.util.Arrays.fill(heads, NONE);
        this.peekers = new ControlledMessageHandler[queues.length];
        this.writers = new ControlledMessageHandler[queues.length];
        for (int q = 0; q < queues.length; q++) {
            final int k = q;
            final MemorySegment m = queues[q].ringMemory();
            peekers[q] = (type, buffer, index, length) -> {
                peeked = m.get(ValueLayout.JAVA_LONG_UNALIGNED, index);
                return Action.ABORT; // leave it in the ring
            };
            writers[q] = (type, buffer, index, length) -> {
                writeRecord(m, index, length);
                heads[k] = NONE;
                return Action.COMMIT;
            };
        }
        Path first = spec.fileName(0);
        Path dir = first.toAbsolutePath().getParent();
        if (dir != null && !Files.isDirectory(dir)) {
            throw new IllegalArgumentException("cannot write the capture " + first + ": directory " + dir
                    + " does not exist");
        }
        try {
            this.handle = Pcaps.openDead(DataLinkType.EN10MB, PcapSpec.SNAP_LENGTH, PcapHandle.TimestampPrecision.NANO);
        } catch (PcapNativeException | RuntimeException | UnsatisfiedLinkError e) {
            throw new IllegalArgumentException("cannot start the capture: libpcap is not usable (" + e.getMessage()
                    + "); install it (Debian: apt-get install libpcap0.8)", e);
        }
        try {
            openNext();
        } catch (RuntimeException e) {
            handle.close();
            throw e;
        }
        if (error != null) {
            handle.close();
            throw new IllegalArgumentException(error);
        }
        lastFlush = System.nanoTime();
    }

    // ------------------------------------------------------------------ draining (owner)

    /**
     * Writes the records that may be written now, oldest first.
     *
     * @param all write every record in the rings, without waiting for older ones (call only when
     *            no producer runs, or when the order across queues does not matter any more)
     * @return the number of records consumed
     */
    int drain(boolean all) {
        int done = 0;
        final int n = queues.length;
        while (true) {
            int oldest = -1;
            boolean someEmpty = false;
            for (int q = 0; q < n; q++) {
                if (heads[q] == NONE) {
                    heads[q] = peek(q);
                }
                if (heads[q] == NONE) {
                    someEmpty = true;
                } else if (oldest < 0 || heads[q] - heads[oldest] < 0) {
                    oldest = q;
                }
            }
            if (oldest < 0) {
                break;
            }
            if (!all && someEmpty && n > 1 && clock.getAsLong() - heads[oldest] < GRACE_NANOS) {
                break; // an empty ring's owner may still commit an older frame
            }
            if (queues[oldest].ring().controlledRead(writers[oldest], 1) == 0) {
                heads[oldest] = NONE; // only padding was consumed; peek again
                continue;
            }
            done++;
        }
        long now = System.nanoTime();
        if (dirty && (all || now - lastFlush > FLUSH_NANOS)) {
            flush();
            lastFlush = now;
        }
        return done;
    }

    /** The head record's timestamp of ring {@code q}, or {@link #NONE} if the ring is empty. */
    private long peek(int q) {
        for (int attempt = 0; attempt < 2; attempt++) { // a wrap-around padding record costs one read
            peeked = NONE;
            queues[q].ring().controlledRead(peekers[q], 1);
            if (peeked != NONE) {
                return peeked;
            }
            if (queues[q].ring().size() == 0) {
                return NONE;
            }
        }
        return NONE;
    }

    private void writeRecord(MemorySegment m, int index, int length) {
        int caplen = length - PcapQueue.RECORD_HEADER;
        int record = RECORD_HEADER + caplen;
        if (error != null) {
            LOST.setOpaque(this, lost + 1);
            return;
        }
        if (spec.rotates() && fileRecords > 0 && fileBytes + record > spec.fileBytes()) {
            openNext();
            if (error != null) {
                LOST.setOpaque(this, lost + 1);
                return;
            }
        }
        long ts = m.get(ValueLayout.JAVA_LONG_UNALIGNED, index);
        byte[] b = bytes(caplen);
        MemorySegment.copy(m, ValueLayout.JAVA_BYTE, index + PcapQueue.RECORD_HEADER, b, 0, caplen);
        timestamp.setTime(Math.floorDiv(ts, 1_000_000L));
        timestamp.setNanos((int) Math.floorMod(ts, 1_000_000_000L));
        try {
            dumper.dumpRaw(b, timestamp);
        } catch (NotOpenException e) {
            fail("capture file closed: " + e.getMessage());
            LOST.setOpaque(this, lost + 1);
            return;
        }
        fileBytes += record;
        fileRecords++;
        dirty = true;
        WRITTEN.setOpaque(this, written + 1);
        WRITTEN_BYTES.setOpaque(this, writtenBytes + record);
    }

    private byte[] bytes(int length) {
        if (length > CACHED_LENGTHS) {
            return new byte[length];
        }
        byte[] b = byLength[length];
        if (b == null) {
            b = new byte[length];
            byLength[length] = b;
        }
        return b;
    }

    /** Closes the current file (if any) and opens the next one (truncating an old ring member). */
    private void openNext() {
        closeDumper();
        long next = fileIndex + 1;
        Path p = spec.fileName(next);
        try {
            dumper = handle.dumpOpen(p.toString());
        } catch (PcapNativeException | NotOpenException e) {
            fail("cannot write the capture " + p + ": " + e.getMessage());
            return;
        }
        fileIndex = next;
        fileBytes = FILE_HEADER;
        fileRecords = 0;
        dirty = true;
        FILES.setOpaque(this, files + 1);
    }

    private void flush() {
        if (dumper == null) {
            return;
        }
        try {
            dumper.flush();
            dirty = false;
        } catch (PcapNativeException | NotOpenException e) {
            fail("cannot write the capture " + spec.fileName(fileIndex) + ": " + e.getMessage());
        }
    }

    private void closeDumper() {
        if (dumper != null) {
            flush(); // on failure it closes the dumper itself
        }
        if (dumper != null) {
            dumper.close();
            dumper = null;
        }
    }

    private void fail(String message) {
        if (error == null) {
            error = message;
        }
        if (dumper != null) {
            dumper.close();
            dumper = null;
        }
    }

    /** The writer thread's loop: drains until {@code running} turns false. */
    void run(java.util.function.BooleanSupplier running) {
        long idleSince = System.nanoTime();
        while (running.getAsBoolean()) {
            int n = drain(false);
            long now = System.nanoTime();
            if (n > 0) {
                idleSince = now;
                continue;
            }
            // 1 ms while traffic flows; 20 ms after 1 s of silence (an 8 MiB ring holds ~60 ms at 1 Gbit/s)
            LockSupport.parkNanos(now - idleSince > 1_000_000_000L ? 20_000_000L : 1_000_000L);
        }
    }

    /** Writes what is left in the rings, flushes and closes the file and the handle; idempotent. */
    void close() {
        if (handle.isOpen()) {
            drain(true);
            closeDumper();
            handle.close();
        }
    }

    // ------------------------------------------------------------------ counters (any thread)

    /** Frames written to the files. */
    public long written() {
        return (long) WRITTEN.getOpaque(this);
    }

    /** Bytes of the records written (pcap record headers included, file headers not). */
    public long writtenBytes() {
        return (long) WRITTEN_BYTES.getOpaque(this);
    }

    /** Files opened so far (with a ring: also counts the ones overwritten). */
    public long files() {
        return (long) FILES.getOpaque(this);
    }

    /** Frames taken from the rings but not written because the capture had failed. */
    public long lost() {
        return (long) LOST.getOpaque(this);
    }

    /** The error that stopped the capture, or null. */
    public String error() {
        return error;
    }

    /** The file being written (owner; after close, the last one). */
    Path currentFile() {
        return spec.fileName(Math.max(0, fileIndex));
    }
}
