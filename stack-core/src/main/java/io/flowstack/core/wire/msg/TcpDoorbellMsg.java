package io.flowstack.core.wire.msg;

import io.flowstack.core.wire.Bytes;
import java.lang.foreign.MemorySegment;

/**
 * Application message: a TCP connection's rings or flags changed; the owning netisr looks at
 * it (coalesced by the stream: at most one is outstanding).
 *
 * <pre>
 * [id:int]
 * </pre>
 *
 * Stateless.
 */
public final class TcpDoorbellMsg {
    public static final int TYPE = 11;
    /** The connection's id (its stream's). */
    public static final int ID = 0;
    public static final int LENGTH = 4;

    private TcpDoorbellMsg() {}

    public static void write(MemorySegment m, long index, int id) {
        Bytes.i32(m, index + ID, id);
    }

    public static int id(MemorySegment m, long index) {
        return Bytes.i32(m, index + ID);
    }
}
