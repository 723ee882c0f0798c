package io.flowstack.services;

import static io.flowstack.core.testing.StackHarness.PEER;
import static io.flowstack.core.testing.StackHarness.US;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.flowstack.core.fuzz.FuzzInput;
import io.flowstack.core.fuzz.FuzzSeeds;
import io.flowstack.core.fuzz.FuzzStack;
import io.flowstack.core.stats.Stat;
import io.flowstack.core.testing.Packets;
import java.io.ByteArrayOutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The HTTP/1.1 request parser (RFC 9112) of {@link HttpService}: fuzzed bytes parsed alone by
 * {@link HttpRequestHead} from off-heap memory, and sent to the service over a TCP connection in
 * up to four segments (so that heads are split anywhere), the peer acknowledging what it is sent.
 *
 * <p>Input: a byte giving the segment boundaries, then the request bytes (at most 16 KiB).
 * Invariants: the parser reads nothing past the bytes it is given (the same result whatever
 * follows them), its status is 0 or a refusal (400, 505) with a reason, the offsets it leaves
 * lie within the head; the service answers only with HTTP/1.1 responses of a status it
 * documents, no handler throws ({@link Stat#TCP_HANDLER_ERRORS}), those of {@link FuzzStack};
 * afterwards a well-formed GET on a new connection is answered 200.
 */
class HttpRequestFuzzTest {
    static final int PORT = 80;
    static final Set<String> STATUSES = Set.of("200", "400", "404", "405", "408", "431", "505");

    static Stream<Arguments> requests() {
        return Stream.of(
                arguments((Object) new FuzzSeeds().u8(0x21).bytes(
                        "GET /bytes/100 HTTP/1.1\r\nHost: a\r\n\r\nHEAD / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
                                .getBytes(StandardCharsets.ISO_8859_1)).build()),
                arguments((Object) new FuzzSeeds().u8(0x13).bytes(
                        "POST /x HTTP/1.0\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\nhelloGET http://h/a?b HTTP/1.1\nHost: h\n\n"
                                .getBytes(StandardCharsets.ISO_8859_1)).build()),
                arguments((Object) new FuzzSeeds().u8(0).bytes(
                        "GET / HTTP/2.0\r\nTransfer-Encoding: chunked\r\n \r\n\r\n".getBytes(StandardCharsets.ISO_8859_1)).build()));
    }

    @MethodSource("requests")
    @FuzzTest
    void requests(byte[] input) {
        FuzzInput in = new FuzzInput(input);
        int cuts = in.u8();
        byte[] request = in.bytes(16 << 10);
        parseAlone(request);
        try (FuzzStack s = new FuzzStack(0, b -> {})) {
            new HttpService(s.h.stack, PORT);
            Peer p = new Peer(s, 40000);
            p.open();
            int at = 0;
            for (int i = 0; i < 4 && at < request.length; i++) {
                int len = i == 3 ? request.length - at : Math.min(request.length - at, 1 + ((cuts >>> (2 * i)) & 3) * 400);
                len = Math.min(len, 1460);
                p.send(Packets.ACK | Packets.PSH, java.util.Arrays.copyOfRange(request, at, at + len));
                at += len;
            }
            while (at < request.length) {
                int len = Math.min(1460, request.length - at);
                p.send(Packets.ACK | Packets.PSH, java.util.Arrays.copyOfRange(request, at, at + len));
                at += len;
            }
            p.send(Packets.ACK | Packets.FIN, new byte[0]);
            for (int i = 0; i < 20 && !p.closed; i++) {
                p.send(Packets.ACK, new byte[0]);
            }
            checkResponses(p.received.toByteArray());
            assertEquals(0, s.h.total(Stat.TCP_HANDLER_ERRORS), "no handler threw");
            Peer probe = new Peer(s, 40001);
            probe.open();
            probe.send(Packets.ACK | Packets.PSH, "GET / HTTP/1.1\r\nHost: probe\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            String answer = new String(probe.received.toByteArray(), StandardCharsets.ISO_8859_1);
            assertTrue(answer.startsWith("HTTP/1.1 200 "), "a well-formed GET afterwards is answered 200: " + answer);
            // not http.close(): it waits for the netisrs to end the connections, and this stack has
            // none running; closing the stack ends the service with it
        }
    }

    /** {@link HttpRequestHead} over {@code request} with 0x00, then 0xFF past it: the same result, within bounds. */
    static void parseAlone(byte[] request) {
        String first = null;
        for (int fill : new int[] {0x00, 0xFF}) {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment m = a.allocate(request.length + 64);
                m.fill((byte) fill);
                MemorySegment.copy(request, 0, m, ValueLayout.JAVA_BYTE, 0, request.length);
                HttpRequestHead h = new HttpRequestHead();
                int end = h.headEnd(m, 0, request.length, 0);
                String result = "end=" + end;
                if (end > HttpRequestHead.CAPACITY) {
                    result += " larger than the parser takes (the service answers 431)";
                } else if (end > 0) {
                    assertTrue(end <= request.length, "the head ends within the bytes");
                    h.parse(m, 0, end);
                    assertTrue(h.status == 0 || h.status == 400 || h.status == 505, "status " + h.status);
                    assertTrue(h.status == 0 || h.why != null, "a refusal says why");
                    if (h.status == 0) {
                        assertTrue(h.methodOff >= 0 && h.methodOff + h.methodLen <= end, "method within the head");
                        assertTrue(h.pathLen <= 0 || (h.pathOff >= 0 && h.pathOff + h.pathLen <= end), "path within the head");
                        assertTrue(h.contentLength >= -1, "content length");
                    }
                    result += " status=" + h.status + " " + h.why + " m=" + h.method + " p=" + h.pathOff + "/" + h.pathLen
                            + " v=" + h.minor + " keep=" + h.persist + " cl=" + h.contentLength + " te=" + h.transferEncoding
                            + " expect=" + h.expectContinue;
                } else {
                    assertTrue(h.scanned >= 0 && h.scanned <= request.length, "where the search resumes");
                }
                if (first == null) {
                    first = result;
                } else {
                    assertEquals(first, result, "the same parse whatever follows the bytes");
                }
            }
        }
    }

    /** Every response the service sent starts with an HTTP/1.1 status line of a documented status. */
    static void checkResponses(byte[] all) {
        String text = new String(all, StandardCharsets.ISO_8859_1);
        if (text.isEmpty()) {
            return; // nothing complete was asked (or the peer's FIN came first)
        }
        assertTrue(text.startsWith("HTTP/1.1 ") && text.length() >= 12 && STATUSES.contains(text.substring(9, 12)),
                "a response: " + text.substring(0, Math.min(80, text.length())));
    }

    /** A scripted client on one connection to port 80 that acknowledges all it receives. Owned by: the fuzzing thread. */
    static final class Peer {
        final FuzzStack s;
        final int port;
        int seq = 1000;
        int ack;
        boolean closed;
        final ByteArrayOutputStream received = new ByteArrayOutputStream();

        Peer(FuzzStack s, int port) {
            this.s = s;
            this.port = port;
        }

        void open() {
            Packets.TcpSeg synAck = segments(frame(Packets.SYN, new byte[0])).get(0);
            assertTrue(synAck.has(Packets.SYN | Packets.ACK), "SYN-ACK");
            seq++;
            ack = synAck.seq() + 1;
            send(Packets.ACK, new byte[0]);
        }

        byte[] frame(int flags, byte[] data) {
            return s.ipFrame(Packets.ipv4(PEER, US, 6, s.nextIpId(), 0,
                    Packets.tcp(PEER, US, port, PORT, seq, ack, flags, 65535, new byte[0], data)));
        }

        void send(int flags, byte[] data) {
            for (Packets.TcpSeg seg : segments(frame(flags, data))) {
                if (seg.dport() != port) {
                    continue;
                }
                if (seg.seq() == ack) {
                    received.writeBytes(seg.data());
                    ack += seg.data().length + (seg.has(Packets.FIN) ? 1 : 0);
                }
                closed |= seg.has(Packets.RST) || seg.has(Packets.FIN);
            }
            seq += data.length + ((flags & Packets.FIN) != 0 ? 1 : 0);
        }

        java.util.List<Packets.TcpSeg> segments(byte[] frame) {
            java.util.List<Packets.TcpSeg> out = new java.util.ArrayList<>();
            for (Packets.Frame f : s.frame(frame, 0)) {
                if (f.type() == Packets.ETH_IPV4 && f.ipProto() == 6) {
                    out.add(Packets.tcpOf(f));
                }
            }
            return out;
        }
    }
}
