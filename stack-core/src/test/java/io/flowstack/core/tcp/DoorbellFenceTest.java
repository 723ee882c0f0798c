package io.flowstack.core.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import org.junit.jupiter.api.Test;

/**
 * The doorbell hand-off as a store-buffering litmus test (issue 11's lost wake-up): the
 * application publishes the send ring's tail and rings ({@link TcpStream#ring}) while the netisr
 * takes the outstanding doorbell ({@link TcpStream#doorbellTaken}) and reads the tail. Forbidden:
 * the ring coalesced into the outstanding doorbell (it read "outstanding") and the netisr, having
 * taken that doorbell, still read the old tail; the bytes would then wait for a timer. Without
 * the fence in {@code ring()} x86 shows this outcome (the tail store still in the store buffer
 * when the flag is read); with it, never. Two threads racing closely, many rounds.
 */
@org.junit.jupiter.api.Timeout(120) // a lost wake-up must fail, not hang the build
class DoorbellFenceTest {
    private static final int ROUNDS = 200_000;

    private volatile int go;
    private volatile int taken;

    @Test
    void aCoalescedDoorbellNeverHidesTheBytesItCovers() throws Exception {
        try (Arena arena = Arena.ofShared()) {
            CountingOwner owner = new CountingOwner(); // its doorbells: the application thread only
            TcpStream st = new TcpStream(owner, 1, new ByteRing(arena, 64), new ByteRing(arena, 64));
            long[] seen = new long[ROUNDS + 1];
            Thread netisr = Thread.ofPlatform().start(() -> {
                for (int i = 1; i <= ROUNDS; i++) {
                    while (go != i) {
                        Thread.onSpinWait();
                    }
                    st.doorbellTaken();
                    seen[i] = st.send.tail();
                    taken = i;
                }
            });
            int hidden = 0;
            int coalesced = 0;
            for (int i = 1; i <= ROUNDS; i++) {
                while (taken != i - 1) {
                    Thread.onSpinWait();
                }
                st.ring(); // an outstanding doorbell, e.g. the read's window update
                go = i;
                st.send.tail(i); // the response's bytes
                int before = owner.doorbells();
                st.ring();
                if (owner.doorbells() == before) {
                    coalesced++;
                    while (taken != i) {
                        Thread.onSpinWait();
                    }
                    if (seen[i] < i) {
                        hidden++;
                    }
                }
            }
            netisr.join();
            assertEquals(0, hidden, "rounds whose bytes the taken doorbell did not show (of "
                    + coalesced + " coalesced rings in " + ROUNDS + ")");
        }
    }
}
