package io.flowstack.core.socket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.tcp.ByteRing;
import io.flowstack.core.tcp.CountingOwner;
import io.flowstack.core.tcp.TcpStream;
import java.lang.foreign.Arena;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * One connection, a reader thread and a writer thread waiting at the same time (as chargen's two
 * threads): the netisr's signal must wake each. With one waiter slot the second to arm hid the
 * first, whose wake-up was lost until its 100 ms park ran out.
 */
@org.junit.jupiter.api.Timeout(120) // a lost wake-up must fail, not hang the build
class DuplexWakeTest {
    private static final long PROMPT_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

    @Test
    void aWaitingReaderAndAWaitingWriterAreBothWoken() throws Exception {
        try (Arena arena = Arena.ofShared()) {
            CountingOwner owner = new CountingOwner();
            TcpStream st = new TcpStream(owner, 1, new ByteRing(arena, 64), new ByteRing(arena, 64));
            st.established = true;
            TcpConnection c = new TcpConnection(st, 1, 1, 2, 2);
            c.readTimeout(5, TimeUnit.SECONDS);
            c.writeTimeout(5, TimeUnit.SECONDS);
            c.write(new byte[64], 0, 64); // the send ring is full: the next write waits

            AtomicLong readAt = new AtomicLong();
            AtomicLong wroteAt = new AtomicLong();
            Thread reader = Thread.ofPlatform().start(() -> {
                c.read(new byte[1], 0, 1);
                readAt.set(System.nanoTime());
            });
            awaitParked(reader);
            Thread writer = Thread.ofPlatform().start(() -> {
                c.write(new byte[1], 0, 1);
                wroteAt.set(System.nanoTime());
            });
            awaitParked(writer); // armed after the reader: with one slot, it took the reader's place

            long t0 = System.nanoTime();
            ByteRing r = st.recv; // the netisr: data in, and the peer acknowledged 8 bytes
            r.write(r.tail(), new byte[] {7}, 0, 1);
            r.tail(r.tail() + 1);
            st.send.head(st.send.head() + 8);
            st.signal();
            reader.join(5000);
            writer.join(5000);
            assertFalse(reader.isAlive() || writer.isAlive());
            assertTrue(readAt.get() - t0 < PROMPT_NANOS, "reader woken in " + (readAt.get() - t0) / 1000 + " us");
            assertTrue(wroteAt.get() - t0 < PROMPT_NANOS, "writer woken in " + (wroteAt.get() - t0) / 1000 + " us");
            assertEquals(0, st.lateWakeups());
        }
    }

    private static void awaitParked(Thread t) {
        io.flowstack.core.testing.Await.until(() -> t.getState() == Thread.State.TIMED_WAITING, t + " to park",
                java.time.Duration.ofSeconds(5));
    }
}
