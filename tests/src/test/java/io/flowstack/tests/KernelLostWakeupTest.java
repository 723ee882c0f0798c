package io.flowstack.tests;

import static io.flowstack.tests.KernelLab.STACK_IP;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.config.TcpSocketOptions;
import io.flowstack.core.socket.TcpChannel;
import io.flowstack.core.socket.TcpHandler;
import io.flowstack.core.socket.TcpListener;
import io.flowstack.core.stats.Stat;
import io.flowstack.core.testing.BlockingHttpResponder;
import io.flowstack.tests.NamespaceLab.Result;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Issue 11's latency defect against the kernel: {@code wrk -t1 -c1} (one request in flight,
 * thousands of rounds) on a blocking-streams HTTP responder ({@link BlockingHttpResponder}) and on a {@link TcpHandler} HTTP
 * responder (callbacks on the netisr). Every round needs each wake-up between the netisr and the
 * server; a lost one waits for a timer and is counted: {@code wakeup_late},
 * {@code tcp_doorbell_late} and {@code tcp_app_wakeup_late} must not move.
 */
class KernelLostWakeupTest {
    private static final Stat[] LATE = {Stat.WAKEUP_LATE, Stat.TCP_DOORBELL_LATE, Stat.TCP_APP_WAKEUP_LATE};
    private static final Pattern WRK_TOTAL = Pattern.compile("(\\d+) requests in ");
    private static final byte[] RESPONSE = ("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok")
            .getBytes(StandardCharsets.US_ASCII);

    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    @Timeout(90)
    void oneConnectionRoundsLoseNoWakeUp(int cores) {
        KernelLab lab = KernelLab.start(cores);
        try (BlockingHttpResponder http = new BlockingHttpResponder(lab.stack(), 80);
             TcpListener callbacks = lab.stack().tcpListen(81, 64, TcpSocketOptions.defaults(lab.stack().config()),
                     new Responder())) {
            wrkOneConnection(lab, 80, "an HTTP responder on blocking streams");
            wrkOneConnection(lab, 81, "a TcpHandler responder (callbacks)");
            lab.assertHealthy();
        } finally {
            KernelLab.finish(lab);
        }
    }

    private static void wrkOneConnection(KernelLab lab, int port, String what) {
        long[] before = new long[LATE.length];
        for (int i = 0; i < LATE.length; i++) {
            before[i] = lab.total(LATE[i]);
        }
        Result r = lab.exec(Duration.ofSeconds(30), null, "wrk", "-t1", "-c1", "-d3s", "--latency",
                "http://" + STACK_IP + ":" + port + "/");
        System.out.println("wrk -t1 -c1, " + lab.cores() + " core(s), " + what + ":\n" + r.stdout());
        assertEquals(0, r.exit(), r::toString);
        assertFalse(r.stdout().contains("Non-2xx") || r.stdout().contains("Socket errors"), r::toString);
        Matcher total = WRK_TOTAL.matcher(r.stdout());
        assertTrue(total.find() && Long.parseLong(total.group(1)) > 100, r::toString);
        StringBuilder moved = new StringBuilder();
        for (int i = 0; i < LATE.length; i++) {
            long d = lab.total(LATE[i]) - before[i];
            if (d != 0) {
                moved.append(LATE[i].key()).append(" +").append(d).append(' ');
            }
        }
        assertEquals("", moved.toString(), () -> "lost wake-ups with " + what + ":\n" + r.stdout() + lab.report());
    }

    /**
     * Answers every request head (up to its blank line) with a fixed 200, on the netisr; the
     * CRLF CRLF search state lives in the channel's attachment.
     */
    private static final class Responder implements TcpHandler {
        @Override
        public int onData(TcpChannel ch, MemorySegment data, long offset, int length) {
            int matched = ch.attachment == null ? 0 : (Integer) ch.attachment;
            int used = 0;
            while (used < length) {
                byte b = data.get(ValueLayout.JAVA_BYTE, offset + used);
                if (b == (matched % 2 == 0 ? '\r' : '\n')) {
                    matched++;
                } else {
                    matched = b == '\r' ? 1 : 0;
                }
                used++;
                if (matched == 4) {
                    if (ch.writable() < RESPONSE.length) {
                        ch.attachment = 3;
                        return used - 1; // offered again with send space
                    }
                    ch.write(RESPONSE, 0, RESPONSE.length);
                    matched = 0;
                }
            }
            ch.attachment = matched;
            return used;
        }

        @Override
        public void onPeerClosed(TcpChannel ch) {
            ch.close();
        }
    }
}
