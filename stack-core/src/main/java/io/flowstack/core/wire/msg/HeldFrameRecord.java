package io.flowstack.core.wire.msg;

import io.flowstack.core.wire.Bytes;
import java.lang.foreign.MemorySegment;

/**
 * Not a ring message: a record of a netisr's hold buffer, where the new owner of a bucket that
 * is still settling keeps an {@link Ipv4FrameMsg} or {@link DatagramMsg} until its source's
 * mark arrives (docs/REBALANCING.md). Records follow each other, each padded to 8 bytes.
 *
 * <pre>
 * [bucket:int][source:int][msgType:int][frameLength:int][frame (frameLength), padded to 8]
 * </pre>
 *
 * Stateless.
 */
public final class HeldFrameRecord {
    public static final int BUCKET = 0;
    /** The core whose NIC queue read the frame. */
    public static final int SOURCE = 4;
    /** {@link Ipv4FrameMsg#TYPE}, {@link Ipv4FrameMsg#TYPE_CSUM_VALID} or {@link DatagramMsg#TYPE}. */
    public static final int MSG_TYPE = 8;
    public static final int FRAME_LENGTH = 12;
    public static final int FRAME = 16;
    /** Bytes before the frame. */
    public static final int HEADER_LEN = FRAME;

    private HeldFrameRecord() {}

    /** Bytes a record of a {@code frameLength}-byte frame takes, padding included. */
    public static int size(int frameLength) {
        return HEADER_LEN + ((frameLength + 7) & ~7);
    }

    /** Writes the record: the fields, then {@code s[off, off + len)} as the frame. */
    public static void write(MemorySegment m, long at, int bucket, int source, int msgType,
                             MemorySegment s, long off, int len) {
        Bytes.i32(m, at + BUCKET, bucket);
        Bytes.i32(m, at + SOURCE, source);
        Bytes.i32(m, at + MSG_TYPE, msgType);
        Bytes.i32(m, at + FRAME_LENGTH, len);
        MemorySegment.copy(s, off, m, at + FRAME, len);
    }

    public static int bucket(MemorySegment m, long at) {
        return Bytes.i32(m, at + BUCKET);
    }

    public static int source(MemorySegment m, long at) {
        return Bytes.i32(m, at + SOURCE);
    }

    public static int msgType(MemorySegment m, long at) {
        return Bytes.i32(m, at + MSG_TYPE);
    }

    public static int frameLength(MemorySegment m, long at) {
        return Bytes.i32(m, at + FRAME_LENGTH);
    }
}
