package io.flowstack.services;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.socket.TcpConnection;
import io.flowstack.core.testing.TwoStacks;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * The metrics service on the callback API: a scrape waits on its connection for a snapshot the
 * service's snapshot thread takes, then the connection's core answers; pipelined scrapes each get
 * a fresh snapshot (one taken after the request arrived), in order.
 */
class MetricsServiceTest {

    @Test
    void pipelinedScrapesEachGetAFreshSnapshot() throws Exception {
        try (TwoStacks s = new TwoStacks(2); MetricsService m = new MetricsService(s.server, 9100)) {
            TcpConnection c = s.connect(9100);
            String get = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
            String all = get + "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n" + get
                    + "HEAD /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
            byte[] b = all.getBytes(StandardCharsets.US_ASCII);
            c.write(b, 0, b.length);
            InputStream in = c.inputStream();
            HttpServiceTest.Response r1 = HttpServiceTest.read(in, false);
            HttpServiceTest.Response r2 = HttpServiceTest.read(in, false);
            HttpServiceTest.Response r3 = HttpServiceTest.read(in, false);
            HttpServiceTest.Response r4 = HttpServiceTest.read(in, true);
            assertEquals(200, r1.status());
            assertEquals(MetricsService.CONTENT_TYPE, r1.header("content-type"));
            assertTrue(r1.text().contains("# TYPE flowstack_rx_frames_total counter"), r1.text());
            assertEquals(404, r2.status());
            assertEquals(200, r3.status());
            // the second scrape's snapshot was taken after the first answer went out: more frames seen
            assertTrue(frames(r3.text()) > frames(r1.text()), "a fresh snapshot per scrape");
            assertEquals(200, r4.status());
            assertEquals("close", r4.header("connection"));
            assertEquals(-1, c.read(new byte[1], 0, 1), "closed after Connection: close");
            c.close();
            TcpServicesTest.await(() -> m.openConnections() == 0, "the scrape connection to end");
            assertEquals(0, s.internalErrors(), s.counters());
        }
    }

    /** The sum over cores of flowstack_rx_frames_total in an exposition. */
    private static long frames(String text) {
        long sum = 0;
        for (String line : text.split("\n")) {
            if (line.startsWith("flowstack_rx_frames_total{")) {
                sum += Long.parseLong(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return sum;
    }
}
