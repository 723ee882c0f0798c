package io.flowstack.nic.pcap;

import java.nio.file.Path;
import java.util.Objects;

/**
 * What a {@link PcapNic} captures and where it writes it.
 *
 * <h2>Files (the rules of {@code tcpdump -w FILE -C SIZE -W N})</h2>
 * <ul>
 *   <li>{@code fileBytes == 0}: one file, {@code FILE}, without a size limit ({@code files} must be
 *       0).</li>
 *   <li>{@code fileBytes > 0}, {@code files == 0}: a new file whenever the current one would grow
 *       beyond {@code fileBytes}: {@code FILE}, {@code FILE1}, {@code FILE2}, ... without a limit on
 *       their number (tcpdump {@code -C} alone).</li>
 *   <li>{@code fileBytes > 0}, {@code files = N}: a ring of N files {@code FILE0} ..
 *       {@code FILE<N-1>}, the number zero-padded to the width of {@code N-1} (tcpdump {@code -C}
 *       with {@code -W}); after the last the first is truncated and written again, so the oldest
 *       frames are overwritten and the capture never takes more than {@code N * fileBytes} bytes
 *       on disk.</li>
 * </ul>
 * A file never exceeds {@code fileBytes} unless a single frame record does not fit in an empty
 * file. Sizes count the pcap file header (24 bytes) and each record (16 bytes plus the frame).
 *
 * <h2>Format</h2>
 * Classic libpcap format, link type {@code EN10MB} (Ethernet), nanosecond timestamps (magic
 * {@code a1b23c4d}), snap length {@value #SNAP_LENGTH}: every frame is written whole. The pcap
 * format has no per-record direction; a frame's direction is told by its MACs (the stack's MAC
 * as source: sent by the stack), which is what {@code stack replay} uses.
 *
 * <p>Owned by: nobody (immutable).
 *
 * @param file       the capture file (or the base name of the rotated files)
 * @param fileBytes  size limit of one file in bytes, 0 for none
 * @param files      number of files in the ring, 0 for no ring (see above)
 * @param direction  which frames are captured
 * @param ringBytes  bytes of the off-heap ring between each queue's owner and the writer
 *                   (rounded up to a power of two); a frame that finds it full is not captured
 *                   and is counted
 */
public record PcapSpec(Path file, long fileBytes, int files, Direction direction, int ringBytes) {
    /** The snap length written in the file header; longer frames are cut (never happens on a TAP). */
    public static final int SNAP_LENGTH = 262_144;
    /** Default ring between a queue and the writer: 8 MiB (about 60 ms at 1 Gbit/s). */
    public static final int DEFAULT_RING_BYTES = 8 << 20;
    /**
     * Smallest ring accepted (1 MiB, the CLI's smallest --pcap-buffer): its largest record (an
     * eighth, 128 KiB) holds a 64 KiB GSO super-frame or a frame of any MTU up to 65,535.
     */
    public static final int MIN_RING_BYTES = 1 << 20;
    /** Largest ring accepted. */
    public static final int MAX_RING_BYTES = 1 << 30;
    /** Smallest {@code fileBytes}: a file header plus one full-size Ethernet record. */
    public static final long MIN_FILE_BYTES = 24 + 16 + 1518;

    /** The frames a capture takes. */
    public enum Direction {
        /** Frames the stack receives (from the wrapped NIC's {@code receive}). */
        RX(true, false),
        /** Frames the stack sends (accepted by the wrapped NIC's {@code transmit}). */
        TX(false, true),
        /** Both. */
        BOTH(true, true);

        private final boolean rx;
        private final boolean tx;

        Direction(boolean rx, boolean tx) {
            this.rx = rx;
            this.tx = tx;
        }

        public boolean rx() {
            return rx;
        }

        public boolean tx() {
            return tx;
        }
    }

    public PcapSpec {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(direction, "direction");
        if (fileBytes < 0) {
            throw new IllegalArgumentException("the file size limit must be >= 0, got " + fileBytes);
        }
        if (fileBytes > 0 && fileBytes < MIN_FILE_BYTES) {
            throw new IllegalArgumentException("the file size limit must be 0 (none) or >= " + MIN_FILE_BYTES
                    + " bytes (a header and one full frame), got " + fileBytes);
        }
        if (files < 0) {
            throw new IllegalArgumentException("the number of files must be >= 0, got " + files);
        }
        if (files > 0 && fileBytes == 0) {
            throw new IllegalArgumentException("a ring of " + files + " files needs a file size limit");
        }
        if (ringBytes < MIN_RING_BYTES || ringBytes > MAX_RING_BYTES) {
            throw new IllegalArgumentException("the capture ring must be " + MIN_RING_BYTES + ".." + MAX_RING_BYTES
                    + " bytes, got " + ringBytes);
        }
    }

    /** One file without limit, both directions, the default ring. */
    public static PcapSpec of(Path file) {
        return new PcapSpec(file, 0, 0, Direction.BOTH, DEFAULT_RING_BYTES);
    }

    /** This spec with a size limit per file and a ring of {@code files} files (0: no ring). */
    public PcapSpec withRotation(long fileBytes, int files) {
        return new PcapSpec(file, fileBytes, files, direction, ringBytes);
    }

    public PcapSpec withDirection(Direction d) {
        return new PcapSpec(file, fileBytes, files, d, ringBytes);
    }

    public PcapSpec withRingBytes(int bytes) {
        return new PcapSpec(file, fileBytes, files, direction, bytes);
    }

    /** Whether files rotate at all. */
    public boolean rotates() {
        return fileBytes > 0;
    }

    /**
     * The name of file number {@code index} (0-based, in creation order), as tcpdump names them:
     * with a ring, {@code FILE} plus {@code index mod files} zero-padded to the digits of
     * {@code files - 1} (a ring of one file is just {@code FILE}); without a ring, {@code FILE} for
     * the first and {@code FILE<index>} for the others; without rotation always {@code FILE}.
     */
    public Path fileName(long index) {
        if (!rotates()) {
            return file;
        }
        long n = files > 0 ? index % files : index;
        // tcpdump's MakeFilename: as many digits as N-1 has (none for -W 1), the bare name for 0
        int width = files > 1 ? Integer.toString(files - 1).length() : 0;
        if (n == 0 && width == 0) {
            return file;
        }
        String digits = Long.toString(n);
        return file.resolveSibling(file.getFileName() + "0".repeat(Math.max(0, width - digits.length())) + digits);
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder(file.toString());
        if (rotates()) {
            b.append(" (files of ").append(fileBytes).append(" B");
            b.append(files > 0 ? ", ring of " + files + ")" : ", no limit on their number)");
        }
        if (direction != Direction.BOTH) {
            b.append(' ').append(direction.name().toLowerCase(java.util.Locale.ROOT)).append(" only");
        }
        return b.toString();
    }
}
