package io.flowstack.core.netisr;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.OneToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;

/**
 * Off-heap Agrona ring buffers whose memory is also visible as a {@link MemorySegment}, so
 * protocol code reads messages in place through the wire views (no copy, no allocation).
 */
public final class Rings {
    private Rings() {}

    /** A ring buffer and the segment over the same memory (message index = segment offset). */
    public record Ring<R>(R ring, MemorySegment segment) {}

    public static Ring<OneToOneRingBuffer> spsc(Arena arena, int capacity) {
        MemorySegment seg = arena.allocate(capacity + RingBufferDescriptor.TRAILER_LENGTH, 128);
        return new Ring<>(new OneToOneRingBuffer(new UnsafeBuffer(seg.address(), (int) seg.byteSize())), seg);
    }

    public static Ring<ManyToOneRingBuffer> mpsc(Arena arena, int capacity) {
        MemorySegment seg = arena.allocate(capacity + RingBufferDescriptor.TRAILER_LENGTH, 128);
        return new Ring<>(new ManyToOneRingBuffer(new UnsafeBuffer(seg.address(), (int) seg.byteSize())), seg);
    }
}
