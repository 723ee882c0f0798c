package io.flowstack.nic.impair;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;
import java.util.stream.Stream;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code --impair} ({@link ImpairmentSpec#parse}): fuzzed text (UTF-8). Invariants: the parser
 * returns or throws {@link IllegalArgumentException} itself (not a subclass such as
 * {@link NumberFormatException}) with a message, of one line unless it quotes a line feed of the
 * input; what it returns lies within the
 * documented bounds (probabilities in [0, 1], durations in [0, 1 h], limit in
 * [1, {@value ImpairmentSpec#MAX_LIMIT}]) and its canonical form ({@code toString}) parses back
 * to an equal spec.
 */
class ImpairmentSpecFuzzTest {

    static Stream<Arguments> specs() {
        return Stream.of("loss=5%,reorder=25%,delay=5ms,jitter=10ms,dup=2%,corrupt=1%,limit=4096,seed=42,dir=both",
                "delay=1.5ms", "loss=0.05,direction=rx", "", "duplicate=100%,jitter=1s,delay=0")
                .map(t -> arguments((Object) t.getBytes(StandardCharsets.UTF_8)));
    }

    @MethodSource("specs")
    @FuzzTest
    void specs(byte[] input) {
        String text = new String(input, StandardCharsets.UTF_8);
        ImpairmentSpec spec;
        try {
            spec = ImpairmentSpec.parse(text);
        } catch (IllegalArgumentException e) {
            assertEquals(IllegalArgumentException.class, e.getClass(), "threw " + e + " for '" + text + "'");
            assertTrue(e.getMessage() != null && !e.getMessage().isBlank(), "a message");
            assertTrue(text.indexOf('\n') >= 0 || e.getMessage().indexOf('\n') < 0,
                    "one line (unless it quotes a line feed of the input): " + e.getMessage());
            return;
        }
        for (double p : new double[] {spec.loss(), spec.duplicate(), spec.corrupt(), spec.reorder()}) {
            assertTrue(p >= 0 && p <= 1, "a probability: " + spec);
        }
        assertTrue(spec.delayNanos() >= 0 && spec.delayNanos() <= ImpairmentSpec.MAX_DURATION_NANOS, "delay: " + spec);
        assertTrue(spec.jitterNanos() >= 0 && spec.jitterNanos() <= ImpairmentSpec.MAX_DURATION_NANOS, "jitter: " + spec);
        assertTrue(spec.limit() >= 1 && spec.limit() <= ImpairmentSpec.MAX_LIMIT, "limit: " + spec);
        assertEquals(spec, ImpairmentSpec.parse(spec.toString()), "printed as '" + spec + "'");
    }
}
