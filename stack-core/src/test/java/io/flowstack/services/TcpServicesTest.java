package io.flowstack.services;

import io.flowstack.services.TcpEchoService;
import io.flowstack.services.TcpDiscardService;
import io.flowstack.services.TcpChargenService;
import io.flowstack.core.testing.TwoStacks;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.socket.StackException;
import io.flowstack.core.socket.TcpConnection;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** RFC 862 echo, RFC 863 discard and RFC 864 chargen over two stacks joined by a MemoryWire. */
class TcpServicesTest {

    static byte[] sha256(byte[] b) throws Exception {
        return MessageDigest.getInstance("SHA-256").digest(b);
    }

    static void await(BooleanSupplier condition, String what) {
        io.flowstack.core.testing.Await.until(condition, what);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void echoReturnsOneMegabyteIntactAndClosesAfterTheClient(int cores) throws Exception {
        try (TwoStacks s = new TwoStacks(cores); TcpEchoService echo = new TcpEchoService(s.server, 7)) {
            assertEquals(7, echo.port());
            byte[] data = new byte[1 << 20];
            new SplittableRandom(7).nextBytes(data);
            TcpConnection c = s.connect(7);
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                for (int off = 0; off < data.length; off += 10_000) { // odd sizes: no alignment luck
                    c.write(data, off, Math.min(10_000, data.length - off));
                }
                c.shutdownOutput();
            });
            byte[] back;
            try {
                back = c.inputStream().readNBytes(data.length);
            } catch (Exception e) {
                throw new AssertionError(e + s.counters(), e);
            }
            writer.get(10, TimeUnit.SECONDS);
            assertEquals(data.length, back.length);
            assertArrayEquals(sha256(data), sha256(back), "echoed bytes");
            assertEquals(-1, c.read(new byte[1], 0, 1), "echo closes after the client's FIN");
            c.close();
            await(() -> echo.openConnections() == 0, "the echo connection to end");
            assertEquals(1, echo.accepted());
            assertEquals(0, s.internalErrors());
        }
    }

    @Test
    void echoServesConnectionsConcurrently() throws Exception {
        try (TwoStacks s = new TwoStacks(2); TcpEchoService echo = new TcpEchoService(s.server, 7)) {
            TcpConnection[] cs = new TcpConnection[8];
            for (int i = 0; i < cs.length; i++) {
                cs[i] = s.connect(7);
            }
            for (int round = 0; round < 3; round++) {
                for (int i = 0; i < cs.length; i++) {
                    byte[] msg = ("conn " + i + " round " + round + "\n").getBytes(StandardCharsets.US_ASCII);
                    cs[i].write(msg, 0, msg.length);
                    assertArrayEquals(msg, cs[i].inputStream().readNBytes(msg.length));
                }
            }
            assertEquals(cs.length, echo.openConnections());
            for (TcpConnection c : cs) {
                c.close();
            }
            await(() -> echo.openConnections() == 0, "the echo connections to end");
        }
    }

    @Test
    void discardCountsEveryByteAndSendsNothing() throws Exception {
        try (TwoStacks s = new TwoStacks(2); TcpDiscardService discard = new TcpDiscardService(s.server, 9)) {
            byte[] data = new byte[3_000_000];
            new SplittableRandom(9).nextBytes(data);
            for (int i = 0; i < 2; i++) {
                TcpConnection c = s.connect(9);
                c.write(data, 0, data.length);
                c.shutdownOutput();
                assertEquals(-1, c.read(new byte[16], 0, 16), "no data, then the service's FIN");
                c.close();
            }
            assertEquals(2L * data.length, discard.bytes());
            await(() -> discard.openConnections() == 0, "the discard connections to end");
            assertEquals(0, s.internalErrors());
        }
    }

    /** Line k of RFC 864's pattern, computed independently of the service. */
    static String rfc864Line(int k) {
        String printable = " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`"
                + "abcdefghijklmnopqrstuvwxyz{|}~";
        assertEquals(95, printable.length());
        String ring = printable + printable;
        return ring.substring(k % 95, k % 95 + 72);
    }

    @Test
    void chargenSendsRfc864LinesUntilTheClientCloses() throws Exception {
        try (TwoStacks s = new TwoStacks(1); TcpChargenService chargen = new TcpChargenService(s.server, 19)) {
            TcpConnection c = s.connect(19);
            InputStream in = c.inputStream();
            int lines = 95 * 3 + 10; // past the first cycles and a write boundary (4 cycles)
            byte[] got = in.readNBytes(lines * 74);
            for (int k = 0; k < lines; k++) {
                String line = new String(got, k * 74, 74, StandardCharsets.US_ASCII);
                assertEquals(rfc864Line(k) + "\r\n", line, "line " + k);
            }
            assertEquals(" !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefg",
                    rfc864Line(0), "RFC 864's first line starts with the space");
            assertEquals(rfc864Line(94), TcpChargenService.line(94));
            // input is ignored
            byte[] junk = "ignored\r\n".getBytes(StandardCharsets.US_ASCII);
            c.write(junk, 0, junk.length);
            byte[] more = in.readNBytes(74 * 200);
            assertEquals(74 * 200, more.length);
            assertEquals(1, chargen.openConnections());
            c.close(); // unread data: a reset, which ends the service's connection
            await(() -> chargen.openConnections() == 0, "the chargen connection to end");
            // a client that half-closes is done too: the service stops and closes
            TcpConnection d = s.connect(19);
            d.inputStream().readNBytes(74 * 10);
            d.shutdownOutput();
            await(() -> chargen.openConnections() == 0, "chargen to stop after the client's FIN");
            byte[] buf = new byte[65536];
            try {
                while (d.read(buf, 0, buf.length) >= 0) {
                    // drain what was queued before the service stopped, up to its FIN
                }
            } catch (StackException e) {
                // or its reset, since this client did not read and its window stayed closed
                assertTrue(e.getMessage().contains("reset"), e.getMessage());
            }
            d.close();
            // a client that half-closes and keeps reading gets the queued lines and a FIN
            TcpConnection e = s.connect(19);
            e.inputStream().readNBytes(74 * 10);
            e.shutdownOutput();
            long total = 0;
            int n;
            while ((n = e.read(buf, 0, buf.length)) >= 0) {
                total += n;
            }
            assertEquals(0, (74 * 10 + total) % 74, "whole lines, then the FIN");
            e.close();
            assertEquals(0, s.internalErrors());
        }
    }

    @Test
    void closeStopsAcceptingAndClosesOpenConnections() throws Exception {
        try (TwoStacks s = new TwoStacks(2)) {
            TcpEchoService echo = new TcpEchoService(s.server, 7);
            TcpConnection c = s.connect(7);
            byte[] msg = "x".getBytes(StandardCharsets.US_ASCII);
            c.write(msg, 0, 1);
            assertArrayEquals(msg, c.inputStream().readNBytes(1));
            echo.close();
            assertEquals(-1, c.read(new byte[1], 0, 1), "the service closed the open connection");
            c.close();
            StackException e = assertThrows(StackException.class, () -> s.connect(7));
            assertTrue(e.getMessage().contains("refused"), e.getMessage());
            try (TcpEchoService again = new TcpEchoService(s.server, 7)) {
                TcpConnection d = s.connect(7);
                d.write(msg, 0, 1);
                assertArrayEquals(msg, d.inputStream().readNBytes(1));
                d.close();
            }
            assertThrows(StackException.class, () -> {
                try (TcpDiscardService a = new TcpDiscardService(s.server, 9);
                     TcpDiscardService b = new TcpDiscardService(s.server, 9)) {
                    // the second one cannot listen
                }
            });
        }
    }

    @Test
    void idleConnectionsAreClosed() throws Exception {
        try (TwoStacks s = new TwoStacks(1);
             TcpEchoService echo = new TcpEchoService(s.server, 7, java.time.Duration.ofMillis(300))) {
            TcpConnection c = s.connect(7);
            long t0 = System.nanoTime();
            assertEquals(-1, c.read(new byte[1], 0, 1), "closed by the service when idle");
            assertTrue(System.nanoTime() - t0 >= TimeUnit.MILLISECONDS.toNanos(250));
            c.close();
        }
    }

    /** A client that sends but never reads is given up once the echoes wait for the write timeout. */
    @Test
    void echoGivesUpAPeerThatTakesNothing() throws Exception {
        try (TwoStacks s = new TwoStacks(1, 4 << 20, b -> b.tcpSendBufferBytes(65536).tcpReceiveBufferBytes(65536));
             TcpEchoService echo = new TcpEchoService(s.server, 7, java.time.Duration.ofSeconds(30),
                     java.time.Duration.ofMillis(300))) {
            TcpConnection c = s.connect(7);
            byte[] chunk = new byte[16384];
            long t0 = System.nanoTime();
            StackException e = assertThrows(StackException.class, () -> {
                for (int i = 0; i < 10_000; i++) { // 160 MB: far more than every buffer on the way holds
                    c.write(chunk, 0, chunk.length);
                }
            });
            assertTrue(e.getMessage().contains("reset"), e.getMessage());
            assertTrue(System.nanoTime() - t0 >= TimeUnit.MILLISECONDS.toNanos(250), "not before the write timeout");
            await(() -> echo.openConnections() == 0, "the echo connection to end");
            c.close();
        }
    }
}
