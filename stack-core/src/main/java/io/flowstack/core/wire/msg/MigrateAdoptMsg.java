package io.flowstack.core.wire.msg;

import io.flowstack.core.wire.Bytes;
import java.lang.foreign.MemorySegment;

/**
 * Inter-core message, old owner to new owner: bucket {@code bucket} of the indirection table
 * moves to the receiver; its control blocks wait in the sender's migration queue
 * (docs/REBALANCING.md, step 1).
 *
 * <pre>
 * [bucket:int][from:int]
 * </pre>
 *
 * Stateless.
 */
public final class MigrateAdoptMsg {
    public static final int TYPE = 4;
    public static final int BUCKET = 0;
    /** The old owner (the sender). */
    public static final int FROM = 4;
    public static final int LENGTH = 8;

    private MigrateAdoptMsg() {}

    public static void write(MemorySegment m, long index, int bucket, int from) {
        Bytes.i32(m, index + BUCKET, bucket);
        Bytes.i32(m, index + FROM, from);
    }

    public static int bucket(MemorySegment m, long index) {
        return Bytes.i32(m, index + BUCKET);
    }

    public static int from(MemorySegment m, long index) {
        return Bytes.i32(m, index + FROM);
    }
}
