package io.flowstack.core.wire.msg;

import io.flowstack.core.wire.Bytes;
import java.lang.foreign.MemorySegment;

/**
 * Inter-core message to the old owner of {@code bucket}: core {@code source} sends no more
 * frames of the bucket to the old owner; forward this mark to {@code newOwner}
 * (docs/REBALANCING.md, steps 2 and 3).
 *
 * <pre>
 * [bucket:int][source:int][newOwner:int]
 * </pre>
 *
 * Stateless.
 */
public final class MigrateMarkMsg {
    public static final int TYPE = 6;
    public static final int BUCKET = 0;
    public static final int SOURCE = 4;
    public static final int NEW_OWNER = 8;
    public static final int LENGTH = 12;

    private MigrateMarkMsg() {}

    public static void write(MemorySegment m, long index, int bucket, int source, int newOwner) {
        Bytes.i32(m, index + BUCKET, bucket);
        Bytes.i32(m, index + SOURCE, source);
        Bytes.i32(m, index + NEW_OWNER, newOwner);
    }

    public static int bucket(MemorySegment m, long index) {
        return Bytes.i32(m, index + BUCKET);
    }

    public static int source(MemorySegment m, long index) {
        return Bytes.i32(m, index + SOURCE);
    }

    public static int newOwner(MemorySegment m, long index) {
        return Bytes.i32(m, index + NEW_OWNER);
    }
}
