package io.flowstack.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.flowstack.core.wire.Ethernet;
import io.flowstack.core.wire.Ipv4;
import io.flowstack.nic.packet.FanoutMode;
import io.flowstack.tools.bench.BenchProtocol;
import io.flowstack.tools.bench.CompareMode;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine.TypeConversionException;

/**
 * The text parsers of the command line that read what the user typed: {@code --serve}
 * ({@link ServiceSpec}), the router's {@code --if} and {@code --route} ({@link RouterSpec}),
 * route prefixes ({@link RoutePrefix}, also the control socket's), addresses with prefix length
 * and host addresses ({@link Ipv4Prefix}), MACs ({@link Macs}, {@link Ethernet#parseMac}),
 * dotted quads ({@link Ipv4#parse}), {@code bench --modes} ({@link CompareMode}), AF_PACKET fanout
 * modes ({@link FanoutMode}), interface names ({@link InterfaceName}), and the bench server's
 * binary request header ({@link BenchProtocol#decode}, read from any client on the network).
 *
 * <p>Input: a byte choosing the parser, then the text (UTF-8). Invariants: a parser either
 * returns or throws {@link IllegalArgumentException} itself (not a subclass such as
 * {@link NumberFormatException}, whose message would be Java's, not ours) with a message, of
 * one line unless it quotes a line feed of the input; what it returns prints (its
 * {@code toString}, the canonical form) as text it parses back to an equal value. The bench
 * header is refused with a {@code ProtocolException} that says why, or encodes back to the same
 * header; an interface name comes back unchanged or as a picocli usage error.
 */
class CliSpecsFuzzTest {
    static final int PARSERS = 13;

    static Stream<Arguments> texts() {
        String[] seeds = {"http:80", "tap:r0=198.18.1.1/24", "198.18.9.0/24 via 198.18.2.3", "default", "198.18.0.2/24",
            "198.18.0.1", "02:00:c6:12:00:02", "02-00-c6-12-00-02", "255.255.255.255", "rr,crr", "toeplitz", "fs0",
            "FSB1\u0003\u0000\u0000\u0000\u0000\u0000\u0000\u0040\u0000\u0000\u0040\u0000"};
        return Stream.iterate(0, i -> i + 1).limit(PARSERS).map(i -> {
            byte[] t = seeds[i].getBytes(StandardCharsets.UTF_8);
            byte[] b = new byte[t.length + 1];
            b[0] = (byte) (int) i;
            System.arraycopy(t, 0, b, 1, t.length);
            return arguments((Object) b);
        });
    }

    @MethodSource("texts")
    @FuzzTest
    void texts(byte[] input) {
        if (input.length == 0) {
            return;
        }
        String text = new String(input, 1, input.length - 1, StandardCharsets.UTF_8);
        int parser = (input[0] & 0xFF) % PARSERS;
        try {
            switch (parser) {
                case 0 -> roundTrip(ServiceSpec.parse(text), ServiceSpec::parse);
                case 1 -> roundTrip(RouterSpec.Interface.parse(text), RouterSpec.Interface::parse);
                case 2 -> roundTrip(RouterSpec.Route.parse(text), RouterSpec.Route::parse);
                case 3 -> roundTrip(RoutePrefix.parse(text), RoutePrefix::parse);
                case 4 -> roundTrip(Ipv4Prefix.parse(text), Ipv4Prefix::parse);
                case 5 -> {
                    int a = Ipv4Prefix.parseHost(text);
                    assertEquals(a, Ipv4Prefix.parseHost(Ipv4.toString(a)));
                }
                case 6 -> {
                    long mac = Macs.parse(text);
                    assertEquals(mac, Macs.parse(Ethernet.macToString(mac)));
                }
                case 7 -> {
                    long mac = Ethernet.parseMac(text);
                    assertTrue(mac >= 0 && mac <= 0xFFFF_FFFF_FFFFL, "48 bits");
                }
                case 8 -> {
                    int a = Ipv4.parse(text);
                    assertEquals(a, Ipv4.parse(Ipv4.toString(a)));
                }
                case 9 -> {
                    var modes = CompareMode.parse(text);
                    assertTrue(!modes.isEmpty(), "at least one mode");
                    StringBuilder keys = new StringBuilder();
                    for (CompareMode m : modes) {
                        keys.append(keys.isEmpty() ? "" : ",").append(m.key());
                    }
                    assertEquals(modes, CompareMode.parse(keys.toString()));
                }
                case 10 -> assertEquals(FanoutMode.parse(text), FanoutMode.parse(FanoutMode.parse(text).cliName()));
                case 11 -> {
                    try {
                        assertEquals(text, new InterfaceName.Converter().convert(text), "the name unchanged");
                    } catch (TypeConversionException e) {
                        assertTrue(e.getMessage() != null && !e.getMessage().isBlank(), "a usage error with a message");
                    }
                }
                case 12 -> {
                    // the bench server's header, as a client sends it (binary: the raw bytes, 16 of them)
                    byte[] h = Arrays.copyOfRange(input, 1, 1 + BenchProtocol.HEADER_BYTES);
                    try {
                        BenchProtocol.Header d = BenchProtocol.decode(h);
                        assertEquals(d, BenchProtocol.decode(d.encode()), "encodes to what it decoded");
                    } catch (BenchProtocol.ProtocolException e) {
                        assertTrue(e.getMessage() != null && !e.getMessage().isBlank(), "says what is wrong");
                    }
                }
                default -> throw new AssertionError(parser);
            }
        } catch (IllegalArgumentException e) {
            assertEquals(IllegalArgumentException.class, e.getClass(), "parser " + parser + " threw " + e + " for '" + text + "'");
            assertTrue(e.getMessage() != null && !e.getMessage().isBlank(), "a message");
            assertTrue(text.indexOf('\n') >= 0 || e.getMessage().indexOf('\n') < 0,
                    "one line (unless it quotes a line feed of the input): " + e.getMessage());
        }
    }

    static <T> void roundTrip(T value, java.util.function.Function<String, T> parse) {
        assertEquals(value, parse.apply(value.toString()), "printed as '" + value + "'");
    }
}
