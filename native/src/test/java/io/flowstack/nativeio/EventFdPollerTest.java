package io.flowstack.nativeio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class EventFdPollerTest {

    @Test
    void signalMakesReadableAndDrainClears() {
        try (EventFd ev = EventFd.create()) {
            Poller poller = new Poller(2);
            poller.set(0, ev.fd(), Poller.POLLIN);
            assertEquals(0, poller.poll(0), "fresh eventfd must not be readable");

            ev.signal();
            ev.signal();
            assertEquals(1, poller.poll(1000));
            assertTrue(poller.ready(0, Poller.POLLIN));

            ev.drain();
            assertEquals(0, poller.poll(0), "drained eventfd must not be readable");
            assertEquals(0, poller.revents(0));
        }
    }

    @Test
    void pollTimesOutWithZero() {
        try (EventFd ev = EventFd.create()) {
            Poller poller = new Poller(1);
            poller.set(0, ev.fd(), Poller.POLLIN);
            long start = System.nanoTime();
            assertEquals(0, poller.poll(30));
            long waitedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertTrue(waitedMs >= 25, "poll returned after " + waitedMs + " ms");
        }
    }

    @Test
    void signalFromAnotherThreadWakesABlockedPoll() throws Exception {
        try (EventFd ev = EventFd.create()) {
            Poller poller = new Poller(1);
            poller.set(0, ev.fd(), Poller.POLLIN);
            Thread signaller = Thread.ofPlatform().start(ev::signal);
            assertEquals(1, poller.poll(10_000));
            signaller.join();
            ev.drain();
        }
    }

    @Test
    void negativeFdsAreSkippedAndCountIsBounded() {
        try (EventFd ev = EventFd.create()) {
            Poller poller = new Poller(3);
            poller.set(2, ev.fd(), Poller.POLLIN);
            assertEquals(3, poller.count());
            assertEquals(-1, poller.fd(0));
            ev.signal();
            assertEquals(1, poller.poll(1000));
            assertEquals(0, poller.revents(0));
            assertTrue(poller.ready(2, Poller.POLLIN));
            poller.count(2);
            assertEquals(0, poller.poll(0));
            assertThrows(IllegalArgumentException.class, () -> poller.count(4));
            assertThrows(IndexOutOfBoundsException.class, () -> poller.set(3, 0, Poller.POLLIN));
        }
    }

    @Test
    void closedDescriptorIsReportedAsPollnval() {
        EventFd ev = EventFd.create();
        int fd = ev.fd();
        ev.close();
        assertEquals(-1, ev.fd());
        ev.signal(); // after close: a no-op, never a write to a reused descriptor number
        ev.close();  // idempotent
        Poller poller = new Poller(1);
        poller.set(0, fd, Poller.POLLIN);
        // the number may have been reused by a concurrent test; only check it does not throw
        assertTrue(poller.poll(0) >= 0);
    }
}
