package io.flowstack.core.wire.msg;

import io.flowstack.core.wire.Bytes;
import java.lang.foreign.MemorySegment;

/**
 * Inter-core message, new owner to a third core: update your replica of the indirection table
 * for {@code bucket}, then send the old owner your {@link MigrateMarkMsg} (docs/REBALANCING.md,
 * step 3).
 *
 * <pre>
 * [bucket:int][newOwner:int][oldOwner:int]
 * </pre>
 *
 * Stateless.
 */
public final class MigrateViewMsg {
    public static final int TYPE = 5;
    public static final int BUCKET = 0;
    public static final int NEW_OWNER = 4;
    public static final int OLD_OWNER = 8;
    public static final int LENGTH = 12;

    private MigrateViewMsg() {}

    public static void write(MemorySegment m, long index, int bucket, int newOwner, int oldOwner) {
        Bytes.i32(m, index + BUCKET, bucket);
        Bytes.i32(m, index + NEW_OWNER, newOwner);
        Bytes.i32(m, index + OLD_OWNER, oldOwner);
    }

    public static int bucket(MemorySegment m, long index) {
        return Bytes.i32(m, index + BUCKET);
    }

    public static int newOwner(MemorySegment m, long index) {
        return Bytes.i32(m, index + NEW_OWNER);
    }

    public static int oldOwner(MemorySegment m, long index) {
        return Bytes.i32(m, index + OLD_OWNER);
    }
}
