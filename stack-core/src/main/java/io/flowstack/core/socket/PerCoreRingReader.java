package io.flowstack.core.socket;

import io.flowstack.core.netisr.Rings;
import org.agrona.concurrent.MessageHandler;
import org.agrona.concurrent.ringbuffer.OneToOneRingBuffer;

/**
 * Reads one message at a time from a socket's per-core receive rings (one SPSC ring per core,
 * fed by that core's netisr), round robin so that no core's ring starves the others.
 *
 * <p>Owned by: the socket's receiving thread (the rings' one consumer).
 */
final class PerCoreRingReader {
    private final Rings.Ring<OneToOneRingBuffer>[] rings;
    private final MessageHandler[] handlers;
    private int next;

    /** {@code handlers[i]} handles the messages of {@code rings[i]}. */
    PerCoreRingReader(Rings.Ring<OneToOneRingBuffer>[] rings, MessageHandler[] handlers) {
        this.rings = rings;
        this.handlers = handlers;
    }

    /** Hands the next message of the next ring that has one to its handler; false if all are empty. */
    boolean readOne() {
        int n = rings.length;
        for (int i = 0; i < n; i++) {
            int k = (next + i) % n;
            OneToOneRingBuffer r = rings[k].ring();
            // A read that meets the wrap-around padding record consumes it and returns 0
            // messages: read once more from the start of the ring.
            if (r.read(handlers[k], 1) > 0 || (r.size() > 0 && r.read(handlers[k], 1) > 0)) {
                next = (k + 1) % n;
                return true;
            }
        }
        return false;
    }
}
