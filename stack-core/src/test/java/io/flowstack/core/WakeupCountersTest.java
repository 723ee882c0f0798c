package io.flowstack.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.netisr.Netisr;
import io.flowstack.core.socket.TcpConnection;
import io.flowstack.core.socket.TcpListener;
import io.flowstack.core.stats.Stat;
import io.flowstack.core.tcp.ByteRing;
import io.flowstack.core.tcp.CountingOwner;
import io.flowstack.core.tcp.TcpStream;
import io.flowstack.core.testing.TwoStacks;
import io.flowstack.core.wire.msg.TcpDoorbellMsg;
import java.lang.foreign.Arena;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The lost-wake-up counters count what they say, deterministically: each test loses one wake-up
 * on purpose (publishes without the doorbell, the eventfd signal or the unpark the protocol
 * requires) and expects exactly one count, after the same work done by the rules counted none.
 */
@org.junit.jupiter.api.Timeout(120) // a lost wake-up must fail, not hang the build
class WakeupCountersTest {

    static void await(BooleanSupplier condition, String what) {
        io.flowstack.core.testing.Await.until(condition, what);
    }

    /**
     * Bytes published in the send ring without a doorbell wait for a timer (here the delayed
     * ACK of one received byte), which sends them and counts {@code tcp_doorbell_late} if the
     * application announced them (its ring coalesced into a doorbell already taken: lost); not
     * if it has not rung yet (a writer preempted between its publish and its ring, whose doorbell
     * is still coming: CI once counted that as lost).
     */
    @ParameterizedTest(name = "announced={0}")
    @ValueSource(booleans = {true, false})
    void bytesPublishedWithoutADoorbellAreCountedByTheTimerThatSendsThem(boolean announced) throws Exception {
        // A delayed ACK long enough to publish the bytes below well after the input that armed
        // it, and shorter than the server's loss probe (2 SRTT + 200 ms, RFC 8985 7.2), whose
        // arrival would send them first.
        // (and no quick ACKs, which would acknowledge that byte at once)
        try (TwoStacks s = new TwoStacks(1, 4 << 20, b -> b.tcpDelayedAckNanos(TimeUnit.MILLISECONDS.toNanos(120))
                .tcpQuickAcks(0));
             TcpListener l = s.server.tcpListen(90, 8)) {
            TcpConnection c = s.connect(90);
            TcpConnection server = l.accept(5, TimeUnit.SECONDS);
            c.write(new byte[] {1, 2, 3}, 0, 3); // by the rules: sent at once, nothing counted
            byte[] got = new byte[3];
            for (int k = 0; k < 3; ) {
                k += server.read(got, k, 3 - k);
            }
            await(() -> c.stream().send.head() == 3, "the client's bytes acknowledged");
            assertEquals(0, s.client.total(Stat.TCP_DOORBELL_LATE));

            server.write(new byte[] {9}, 0, 1); // one segment: the client arms its delayed ACK
            await(() -> c.stream().recv.size() == 1, "the server's byte at the client");
            // the client's netisr has ended that pass (its output had nothing to send) and sleeps
            await(() -> s.client.netisr(0).sleeping(), "the client's netisr asleep after that pass");
            ByteRing send = c.stream().send;
            long tail = send.tail();
            send.write(tail, new byte[] {4, 5}, 0, 2);
            send.tail(tail + 2);
            if (!announced) { // a writer between its publish and its ring: its doorbell is coming
                for (int k = 0; k < 2; ) {
                    k += server.read(got, k, 2 - k); // the delayed ACK's timer sends them meanwhile
                }
                assertEquals(0, s.client.total(Stat.TCP_DOORBELL_LATE), s.counters());
                assertTrue(c.stream().ring());
                c.abort();
                server.abort();
                return;
            }
            // a ring that found a doorbell outstanding, which the netisr had taken before the
            // bytes were visible (the lost doorbell): only the delayed ACK's timer finds them
            c.stream().announce();
            for (int k = 0; k < 2; ) {
                k += server.read(got, k, 2 - k);
            }
            assertArrayEquals(new byte[] {4, 5}, java.util.Arrays.copyOf(got, 2));
            assertEquals(1, s.client.total(Stat.TCP_DOORBELL_LATE), s.counters());
            c.abort();
            server.abort();
        }
    }

    /**
     * A message committed on a sleeping netisr's application ring without waking it is found
     * when the sleep times out: {@code wakeup_late}. The same message posted by the rules (with
     * the wake) is not counted.
     */
    @Test
    void aMessageCommittedWithoutTheWakeIsCountedWhenTheSleepTimesOut() throws Exception {
        try (TwoStacks s = new TwoStacks(1)) {
            Netisr n = s.server.netisr(0);
            for (int i = 0; i < 20; i++) {
                await(n::sleeping, "the netisr asleep");
                assertTrue(n.postDoorbell(0)); // an unknown connection: ignored, but taken
                await(() -> n.appRing().size() == 0, "the doorbell taken");
            }
            assertEquals(0, s.server.total(Stat.WAKEUP_LATE), s.counters());

            await(n::sleeping, "the netisr asleep");
            ManyToOneRingBuffer ring = n.appRing();
            int index = ring.tryClaim(TcpDoorbellMsg.TYPE, TcpDoorbellMsg.LENGTH);
            assertTrue(index >= 0);
            TcpDoorbellMsg.write(n.appRingSegment(), index, 0);
            ring.commit(index); // and no wake()
            await(() -> ring.size() == 0, "the message taken after the sleep timed out");
            await(() -> s.server.total(Stat.WAKEUP_LATE) == 1, "the lost wake-up counted");
        }
    }

    /**
     * A blocking read whose data is published without the unpark wakes only when its park times
     * out, and reports it ({@link TcpStream#reportIfLate}): once, with a doorbell. With the
     * signal, a read reports nothing.
     */
    @Test
    void aReadWhoseDataCameWithoutTheUnparkReportsItself() throws Exception {
        try (Arena arena = Arena.ofShared()) {
            CountingOwner owner = new CountingOwner();
            TcpStream st = new TcpStream(owner, 1, new ByteRing(arena, 4096), new ByteRing(arena, 4096));
            st.established = true;
            TcpConnection c = new TcpConnection(st, 1, 1, 2, 2);
            c.readTimeout(5, TimeUnit.SECONDS);

            assertEquals(1, readOne(c, st, true), "a read woken by the rules");
            assertEquals(0, st.lateWakeups());
            assertEquals(2, readOne(c, st, false), "a read whose unpark was lost");
            assertEquals(1, st.lateWakeups(), "the read reported its lost wake-up");
            assertFalse(st.doorbellPending() && owner.doorbells() == 0, "and rang for it");
        }
    }

    /** Starts a read, publishes one byte {@code value} once it parks, with or without the signal. */
    private static int readOne(TcpConnection c, TcpStream st, boolean signal) throws Exception {
        int value = signal ? 1 : 2;
        int[] got = new int[1];
        Thread reader = Thread.ofPlatform().start(() -> {
            byte[] b = new byte[1];
            c.read(b, 0, 1);
            got[0] = b[0];
        });
        await(() -> reader.getState() == Thread.State.TIMED_WAITING, "the reader parked");
        ByteRing r = st.recv;
        long tail = r.tail();
        r.write(tail, new byte[] {(byte) value}, 0, 1);
        r.tail(tail + 1);
        if (signal) {
            st.signal();
        }
        reader.join(5000);
        assertFalse(reader.isAlive());
        st.doorbellTaken(); // as the netisr would: the read rang to free its window
        return got[0];
    }
}
