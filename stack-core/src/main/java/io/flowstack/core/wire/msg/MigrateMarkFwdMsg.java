package io.flowstack.core.wire.msg;

import io.flowstack.core.wire.Bytes;
import java.lang.foreign.MemorySegment;

/**
 * Inter-core message, old owner to new owner: the {@link MigrateMarkMsg} of core
 * {@code source}, behind every frame of {@code bucket} that came from it through the old owner
 * (docs/REBALANCING.md, step 4).
 *
 * <pre>
 * [bucket:int][source:int][reserved:int, 0]
 * </pre>
 *
 * Stateless.
 */
public final class MigrateMarkFwdMsg {
    public static final int TYPE = 7;
    public static final int BUCKET = 0;
    public static final int SOURCE = 4;
    /** Zero: the rebalancing control messages are all 12 bytes long. */
    public static final int RESERVED = 8;
    public static final int LENGTH = 12;

    private MigrateMarkFwdMsg() {}

    public static void write(MemorySegment m, long index, int bucket, int source) {
        Bytes.i32(m, index + BUCKET, bucket);
        Bytes.i32(m, index + SOURCE, source);
        Bytes.i32(m, index + RESERVED, 0);
    }

    public static int bucket(MemorySegment m, long index) {
        return Bytes.i32(m, index + BUCKET);
    }

    public static int source(MemorySegment m, long index) {
        return Bytes.i32(m, index + SOURCE);
    }
}
