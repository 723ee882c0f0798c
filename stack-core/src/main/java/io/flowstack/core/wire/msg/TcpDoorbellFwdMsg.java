package io.flowstack.core.wire.msg;

import io.flowstack.core.wire.Bytes;
import java.lang.foreign.MemorySegment;

/**
 * Inter-core message: a {@link TcpDoorbellMsg} that reached the old owner of a connection that
 * moved, forwarded to its new owner (never dropped: docs/REBALANCING.md).
 *
 * <pre>
 * [id:int][reserved:int, 0][reserved:int, 0]
 * </pre>
 *
 * Sent like the rebalancing control messages (12 bytes, in order behind any the ring refused).
 * Stateless.
 */
public final class TcpDoorbellFwdMsg {
    public static final int TYPE = 8;
    /** The connection's id (its stream's). */
    public static final int ID = 0;
    public static final int RESERVED = 4;
    public static final int LENGTH = 12;

    private TcpDoorbellFwdMsg() {}

    public static void write(MemorySegment m, long index, int id) {
        Bytes.i32(m, index + ID, id);
        Bytes.i32(m, index + RESERVED, 0);
        Bytes.i32(m, index + RESERVED + 4, 0);
    }

    public static int id(MemorySegment m, long index) {
        return Bytes.i32(m, index + ID);
    }
}
