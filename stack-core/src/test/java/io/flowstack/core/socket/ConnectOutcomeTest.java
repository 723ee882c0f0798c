package io.flowstack.core.socket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.tcp.ByteRing;
import io.flowstack.core.tcp.CountingOwner;
import io.flowstack.core.tcp.TcpStream;
import java.lang.foreign.Arena;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * What a blocking connect reports depends on the exchange, never on when the connecting thread
 * ran: here the netisr's flags are set, in the netisr's order, before the thread looks. A handshake
 * that completed and was then reset (a server that resets a source it refuses, as the metrics
 * service does) used to be reported as "closed during the handshake" when the reset came between
 * the thread's two looks, and returned when it came later.
 */
@org.junit.jupiter.api.Timeout(60)
class ConnectOutcomeTest {
    private static final long WAIT = TimeUnit.SECONDS.toNanos(5);
    private static final int ROUNDS = 100_000;

    private volatile int go;
    private volatile int done;

    @Test
    void aHandshakeThatCompletedReturnsTheConnectionAndItsReadsReportTheReset() {
        try (Arena arena = Arena.ofConfined()) {
            TcpStream st = stream(arena);
            st.established = true; // the SYN-ACK, then the peer's RST (RFC 9293 3.10.7.4)
            st.error = "connection reset by peer";
            st.finished = true;
            TcpConnection c = new TcpConnection(st, 1, 1, 2, 2);
            c.awaitEstablished(WAIT);
            StackException e = assertThrows(StackException.class, () -> c.read(new byte[1], 0, 1));
            assertTrue(e.getMessage().contains("reset"), e.getMessage());
        }
    }

    @Test
    void aResetBeforeTheHandshakeCompletedIsTheConnectsError() {
        try (Arena arena = Arena.ofConfined()) {
            TcpStream st = stream(arena);
            st.error = "connection refused"; // RST in SYN-SENT (RFC 9293 3.10.7.3)
            st.finished = true;
            TcpConnection c = new TcpConnection(st, 1, 1, 0xc6120002, 9101);
            StackException e = assertThrows(StackException.class, () -> c.awaitEstablished(WAIT));
            assertEquals("198.18.0.2:9101: connection refused", e.getMessage());
        }
    }

    @Test
    void anEndWithoutAnErrorBeforeTheHandshakeCompletedIsReportedAsSuch() {
        try (Arena arena = Arena.ofConfined()) {
            TcpStream st = stream(arena);
            st.finished = true;
            TcpConnection c = new TcpConnection(st, 1, 1, 0xc6120002, 9101);
            StackException e = assertThrows(StackException.class, () -> c.awaitEstablished(WAIT));
            assertEquals("connect to 198.18.0.2:9101: connection closed during the handshake", e.getMessage());
        }
    }

    /**
     * The race itself, as a litmus test: a netisr thread completes the handshake and resets it
     * (established, then error, then finished, then the signal) while the connecting thread
     * looks. Every round's handshake completed, so every connect must return.
     */
    @Test
    void aResetRacingTheConnectingThreadNeverUndoesACompletedHandshake() throws Exception {
        try (Arena arena = Arena.ofShared()) {
            TcpStream st = stream(arena);
            TcpConnection c = new TcpConnection(st, 1, 1, 2, 2);
            Thread netisr = Thread.ofPlatform().start(() -> {
                for (int i = 1; i <= ROUNDS; i++) {
                    while (go != i) {
                        Thread.onSpinWait();
                    }
                    st.established = true;
                    st.error = "connection reset by peer";
                    st.finished = true;
                    st.signal();
                    done = i;
                }
            });
            int thrown = 0;
            String first = null;
            for (int i = 1; i <= ROUNDS; i++) {
                st.established = false;
                st.error = null;
                st.finished = false;
                go = i;
                try {
                    c.awaitEstablished(WAIT);
                } catch (StackException e) {
                    thrown++;
                    first = first == null ? e.getMessage() : first;
                }
                while (done != i) {
                    Thread.onSpinWait();
                }
            }
            netisr.join();
            assertEquals(0, thrown, "connects that failed after a completed handshake, of " + ROUNDS
                    + "; the first said: " + first);
        }
    }

    private static TcpStream stream(Arena arena) {
        return new TcpStream(new CountingOwner(), 1, new ByteRing(arena, 64), new ByteRing(arena, 64));
    }
}
