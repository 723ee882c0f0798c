package io.flowstack.nic.pcap;

import java.io.EOFException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Timestamp;
import java.util.concurrent.TimeoutException;
import org.pcap4j.core.NotOpenException;
import org.pcap4j.core.PcapHandle;
import org.pcap4j.core.PcapNativeException;
import org.pcap4j.core.Pcaps;
import org.pcap4j.packet.namednumber.DataLinkType;

/**
 * Reads an Ethernet pcap file record by record with Pcap4J ({@code pcap_open_offline} with
 * nanosecond precision, so microsecond files are scaled), for {@code stack replay} and tests.
 *
 * <pre>{@code
 * try (PcapReader r = PcapReader.open(path)) {
 *     while (r.next()) {
 *         use(r.frame(), r.timestampNanos());
 *     }
 * }
 * }</pre>
 *
 * <p>Owned by: the thread that opened it (not thread safe). Each {@link #next()} allocates the
 * frame's array (Pcap4J does).
 */
public final class PcapReader implements AutoCloseable {
    private final Path path;
    private final PcapHandle handle;
    private byte[] frame;
    private long timestamp;
    private int originalLength;
    private long records;

    private PcapReader(Path path, PcapHandle handle) {
        this.path = path;
        this.handle = handle;
    }

    /**
     * Opens {@code path}; it must be a pcap file (or pcapng with one interface, which libpcap
     * reads too) of link type Ethernet.
     *
     * @throws IllegalArgumentException naming the file and what is wrong with it
     */
    public static PcapReader open(Path path) {
        if (!Files.isReadable(path)) {
            throw new IllegalArgumentException("cannot read " + path + ": "
                    + (Files.exists(path) ? "permission denied" : "no such file"));
        }
        PcapHandle h;
        try {
            h = Pcaps.openOffline(path.toString(), PcapHandle.TimestampPrecision.NANO);
        } catch (PcapNativeException e) {
            throw new IllegalArgumentException("cannot read " + path + " as a capture: " + e.getMessage(), e);
        } catch (RuntimeException | UnsatisfiedLinkError e) {
            throw new IllegalArgumentException("cannot read " + path + ": libpcap is not usable (" + e.getMessage()
                    + "); install it (Debian: apt-get install libpcap0.8)", e);
        }
        if (!DataLinkType.EN10MB.equals(h.getDlt())) {
            String dlt = String.valueOf(h.getDlt());
            h.close();
            throw new IllegalArgumentException(path + " is not an Ethernet capture (link type " + dlt
                    + "): capture on the TAP or with the stack's --pcap");
        }
        return new PcapReader(path, h);
    }

    /**
     * Reads the next record.
     *
     * @return false at the end of the file
     * @throws IllegalArgumentException if the file is damaged (the message names the record)
     */
    public boolean next() {
        try {
            frame = handle.getNextRawPacketEx();
        } catch (IllegalArgumentException e) {
            throw badTimestamp(e); // Pcap4J makes the record's Timestamp as it reads it
        } catch (EOFException e) {
            frame = null;
            return false;
        } catch (TimeoutException e) { // never for a file
            throw new IllegalStateException("timeout reading " + path, e);
        } catch (PcapNativeException e) {
            throw new IllegalArgumentException(path + ": record " + (records + 1) + " cannot be read (truncated file?): "
                    + e.getMessage(), e);
        } catch (NotOpenException e) {
            throw new IllegalStateException(path + " is closed", e);
        }
        records++;
        Timestamp ts;
        try {
            ts = handle.getTimestamp();
        } catch (IllegalArgumentException e) {
            records--;
            throw badTimestamp(e);
        }
        timestamp = Math.floorDiv(ts.getTime(), 1000L) * 1_000_000_000L + ts.getNanos();
        Integer orig = handle.getOriginalLength();
        // a damaged header may claim less than was captured, or (unsigned) 2^31 or more, which
        // reads as negative: no record is shorter on the wire than its captured bytes
        // (PcapReaderFuzzTest found a negative one)
        originalLength = orig != null && orig >= frame.length ? orig : frame.length;
        return true;
    }

    /**
     * java.sql.Timestamp refuses a fraction of a second of 10^9 or more, which a damaged record
     * header can hold: the error names the file and the record (PcapReaderFuzzTest found that
     * Timestamp's own message, {@code nanos > 999999999 or < 0}, came out instead).
     */
    private IllegalArgumentException badTimestamp(IllegalArgumentException e) {
        return new IllegalArgumentException(path + ": record " + (records + 1) + " has a bad timestamp ("
                + e.getMessage() + "): damaged file?", e);
    }

    /** The current record's bytes (its captured part). */
    public byte[] frame() {
        return frame;
    }

    /** The current record's timestamp, nanoseconds since the epoch. */
    public long timestampNanos() {
        return timestamp;
    }

    /**
     * The frame's length on the wire; more than {@code frame().length} if the capture cut it,
     * never less (a record that claims less, or 2^31 or more, gives {@code frame().length}).
     */
    public int originalLength() {
        return originalLength;
    }

    /** Records read so far (the current one is number {@code records()}). */
    public long records() {
        return records;
    }

    public Path path() {
        return path;
    }

    @Override
    public void close() {
        handle.close();
    }
}
