package io.flowstack.tools.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.flowstack.core.FlowStack;
import io.flowstack.core.config.StackConfig;
import io.flowstack.core.wire.Ipv4;
import io.flowstack.nic.MemoryWire;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The control socket's request lines ({@link ControlServer}: {@code text}, {@code json} with
 * their filters, {@code prometheus}, {@code load}, {@code move}, {@code balance}, {@code route
 * add|del|show}), as any local client may send them: fuzzed bytes cut as
 * {@link ControlServer#readLine} cuts them, answered by a control server of a running two-core
 * stack on a {@link MemoryWire}, with a router's route table ({@link RouteControl}) that checks
 * what it is handed.
 *
 * <p>Invariants: every answer is {@code ok} and a report or one {@code error:} line; none says
 * {@code the stack did not answer} (that is for a failure of the stack, not of the request:
 * an exception the parsing let through would land there); the route table is only handed
 * prefixes without host bits, lengths 0..32 and unicast gateways (what the server promises
 * {@link RouteControl} to have checked). A {@code balance} request with a valid window is not
 * sent: it samples for that long (100 ms to 60 s).
 */
class ControlRequestFuzzTest {
    static MemoryWire wire;
    static FlowStack stack;
    static ControlServer server;
    static Path dir;

    @BeforeAll
    static void start() throws Exception {
        dir = Files.createTempDirectory("fuzz-control");
        wire = MemoryWire.create(2, 1 << 20);
        stack = FlowStack.start(StackConfig.builder().cores(2).address(Ipv4.parse("198.18.1.1")).prefixLength(24)
                .mac(0x02_00_00_00_00_02L).pinThreads(false).build(), wire.b());
        server = ControlServer.start(stack, dir.resolve("fuzz.sock"), "fuzz");
        server.routeControl(new CheckingRoutes());
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
        stack.close();
        wire.close();
        Files.deleteIfExists(dir);
    }

    /** A route table that asserts the server's promises about what it is handed. Stateless. */
    static final class CheckingRoutes implements RouteControl {
        @Override
        public String add(int prefix, int length, int gateway) {
            check(prefix, length);
            int first = gateway >>> 24;
            assertTrue(gateway != 0 && first != 127 && first < 224, "a unicast gateway: " + Ipv4.toString(gateway));
            return "added";
        }

        @Override
        public String del(int prefix, int length) {
            check(prefix, length);
            throw new IllegalArgumentException("no static route " + Ipv4.toString(prefix) + "/" + length);
        }

        @Override
        public String show() {
            return RouteControl.table(List.of(new Row(Ipv4.parse("198.18.1.0"), 24, 0, "r0", "connected")));
        }

        static void check(int prefix, int length) {
            assertTrue(length >= 0 && length <= 32, "length " + length);
            assertEquals(0, prefix & ~Ipv4.mask(length), "no host bits in " + Ipv4.toString(prefix) + "/" + length);
        }
    }

    static Stream<Arguments> requests() {
        return Stream.of("text connections state=ESTABLISHED sport=80 limit=5", "json port=9", "prometheus", "load",
                "move 1 3,4", "balance 5", "route add 198.18.9.0/24 via 198.18.1.3", "route del default", "route show",
                "text limit=0").map(r -> arguments((Object) r.getBytes(StandardCharsets.US_ASCII)));
    }

    @MethodSource("requests")
    @FuzzTest
    void requests(byte[] input) {
        int lf = 0;
        while (lf < input.length && input[lf] != '\n') {
            lf++;
        }
        String request = ControlServer.requestLine(input, lf);
        if (samplesLong(request)) {
            return;
        }
        String answer = server.answer(request);
        assertTrue(answer.startsWith("ok\n") || (answer.startsWith("error: ") && answer.indexOf('\n') == answer.length() - 1),
                "an answer or one error line: " + answer);
        assertFalse(answer.startsWith("error: the stack did not answer"), "a request error reported as the stack's: " + answer);
    }

    /** {@code balance N} with N in 100..60000: valid, and it samples the load for N ms. */
    static boolean samplesLong(String request) {
        String[] w = request.trim().split("\\s+");
        if (request.startsWith("balance ") && w.length == 2 && w[0].equals("balance")) {
            try {
                int ms = Integer.parseInt(w[1]);
                return ms >= 100 && ms <= 60_000;
            } catch (NumberFormatException e) {
                return false;
            }
        }
        return false;
    }
}
