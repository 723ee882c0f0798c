package io.flowstack.core.forward;

import io.flowstack.core.wire.Ethernet;
import java.lang.foreign.MemorySegment;

/**
 * Receives the frames that {@link Fragmenter} and {@link SoftGso} write one by one into the
 * caller's buffer.
 *
 * <p>Owned by: the thread that calls {@code Fragmenter.fragment} or {@code SoftGso.segment}
 * (the calls are synchronous; the frame is the sink's only for the duration of the call).
 */
@FunctionalInterface
public interface FragmentSink {
    /**
     * One output frame. The memory is reused for the next frame as soon as this returns: the sink
     * transmits or copies it before returning.
     *
     * @param s the caller's buffer
     * @param off the start of the frame: {@link Ethernet#HEADER_LEN} bytes of link header (the
     *     caller's to fill for {@link Fragmenter}; the super-frame's copy for {@link SoftGso}),
     *     then the IPv4 datagram
     * @param len the frame's length: {@link Ethernet#HEADER_LEN} plus the datagram's total length
     */
    void fragment(MemorySegment s, long off, int len);
}
