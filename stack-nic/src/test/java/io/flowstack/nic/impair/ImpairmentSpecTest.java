package io.flowstack.nic.impair;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.nic.impair.ImpairmentSpec.Direction;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ImpairmentSpecTest {

    @Test
    void fullProfileParsesAndPrintsCanonically() {
        ImpairmentSpec s = ImpairmentSpec.parse(
                "loss=5%,reorder=25%,delay=5ms,jitter=10ms,dup=2%,corrupt=1%,seed=42,dir=both");
        assertEquals(0.05, s.loss());
        assertEquals(0.02, s.duplicate());
        assertEquals(0.01, s.corrupt());
        assertEquals(0.25, s.reorder());
        assertEquals(5_000_000L, s.delayNanos());
        assertEquals(10_000_000L, s.jitterNanos());
        assertEquals(ImpairmentSpec.DEFAULT_LIMIT, s.limit());
        assertEquals(42L, s.seed());
        assertEquals(Direction.BOTH, s.direction());
        assertEquals("loss=5%,dup=2%,corrupt=1%,reorder=25%,delay=5ms,jitter=10ms,seed=42,dir=both",
                s.toString());
        assertEquals(s, ImpairmentSpec.parse(s.toString()));
        assertTrue(s.impairs());
        assertTrue(s.delays());
    }

    @Test
    void emptyAndSubsetsUseDefaults() {
        assertEquals(ImpairmentSpec.NONE, ImpairmentSpec.parse(""));
        assertEquals(ImpairmentSpec.NONE, ImpairmentSpec.parse("  "));
        assertEquals("seed=0,dir=both", ImpairmentSpec.NONE.toString());
        assertFalse(ImpairmentSpec.NONE.impairs());
        ImpairmentSpec rx = ImpairmentSpec.parse("dir=rx");
        assertEquals(ImpairmentSpec.NONE.withDirection(Direction.RX), rx);
        assertEquals("seed=0,dir=rx", rx.toString());
        assertEquals("loss=1%,seed=0,dir=both", ImpairmentSpec.parse("loss=1%").toString());
        assertEquals("delay=20ms,jitter=10ms,seed=0,dir=tx",
                ImpairmentSpec.parse("jitter=10ms,dir=tx,delay=20ms").toString());
        assertEquals("dup=2%,limit=16,seed=-3,dir=both",
                ImpairmentSpec.parse("limit=16,seed=-3,dup=2%").toString());
    }

    @Test
    void percentFractionWhitespaceCaseAndAliases() {
        ImpairmentSpec pct = ImpairmentSpec.parse("loss=5%,dup=2%");
        assertEquals(pct, ImpairmentSpec.parse("loss=0.05,dup=0.02"));
        assertEquals(pct, ImpairmentSpec.parse(" LOSS = 5 % , duplicate=0.02 "));
        assertEquals(Direction.TX, ImpairmentSpec.parse("direction=TX").direction());
        assertEquals(0.005, ImpairmentSpec.parse("corrupt=0.5%").corrupt());
        assertEquals("corrupt=0.5%,seed=0,dir=both", ImpairmentSpec.parse("corrupt=0.005").toString());
        assertEquals(1.0, ImpairmentSpec.parse("loss=1").loss());
        assertEquals("loss=100%,seed=0,dir=both", ImpairmentSpec.parse("loss=1").toString());
        assertEquals("loss=0.001%,seed=0,dir=both", ImpairmentSpec.parse("loss=0.00001").toString());
    }

    @ParameterizedTest
    @CsvSource({
        "250ns, 250, 250ns",
        "250us, 250000, 250us",
        "1500us, 1500000, 1500us",
        "1.5ms, 1500000, 1500us",
        "5ms, 5000000, 5ms",
        "2s, 2000000000, 2s",
        "0.25s, 250000000, 250ms",
        "1000ms, 1000000000, 1s",
        "0, 0, -",
        "0ms, 0, -",
    })
    void durationUnits(String text, long nanos, String canonical) {
        ImpairmentSpec s = ImpairmentSpec.parse("delay=" + text);
        assertEquals(nanos, s.delayNanos());
        String expected = canonical.equals("-") ? "seed=0,dir=both" : "delay=" + canonical + ",seed=0,dir=both";
        assertEquals(expected, s.toString());
    }

    @Test
    void randomSpecsRoundTripThroughTheCanonicalForm() {
        SplittableRandom r = new SplittableRandom(1);
        Direction[] dirs = Direction.values();
        for (int i = 0; i < 10_000; i++) {
            long delay = r.nextBoolean() ? 0 : 1 + r.nextLong(ImpairmentSpec.MAX_DURATION_NANOS);
            if (r.nextBoolean()) {
                delay -= delay % 1_000_000; // whole milliseconds are the common case
            }
            long jitter = r.nextBoolean() ? 0 : r.nextLong(1_000_000_000L);
            ImpairmentSpec s = new ImpairmentSpec(probability(r), probability(r), probability(r),
                    delay > 0 ? probability(r) : 0, delay, jitter,
                    1 + r.nextInt(ImpairmentSpec.MAX_LIMIT), r.nextLong(), dirs[r.nextInt(3)]);
            assertEquals(s, ImpairmentSpec.parse(s.toString()), s::toString);
        }
    }

    private static double probability(SplittableRandom r) {
        return switch (r.nextInt(4)) {
            case 0 -> 0;
            case 1 -> r.nextInt(101) / 100.0;     // whole percent
            case 2 -> r.nextInt(100_001) / 100_000.0;
            default -> r.nextDouble();            // any double in [0, 1)
        };
    }

    /** Each bad spec, and fragments its message must contain. */
    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
        "loss=5%,foo=1       | unknown key 'foo' | 'foo=1' | accepted keys: loss, dup",
        "loss=5              | 'loss=5'         | did you mean 5%? | [0%, 100%]",
        "loss=150%           | 'loss=150%'      | [0%, 100%] | ",
        "dup=-1%             | 'dup=-1%'        | [0%, 100%] | ",
        "corrupt=abc         | 'corrupt=abc'    | 5% or 0.05 | ",
        "reorder=25%         | 'reorder=25%'    | delay=5ms | without specifying some delay",
        "delay=5             | 'delay=5'        | unit ns, us, ms or s | ",
        "delay=7E777777773s  | 'delay=7E777777773s' | at most 1h | ",
        "delay=77E77777777s  | 'delay=77E77777777s' | at most 1h | ",
        "jitter=1E-999999999s | 'jitter=1E-999999999s' | whole number of nanoseconds | ",
        "loss=1E-2147483647% | 'loss=1E-2147483647%' | 5% or 0.05 | ",
        "loss=1E99999999%    | 'loss=1E99999999%' | [0%, 100%] | ",
        "delay=5m            | 'delay=5m'       | unit ns, us, ms or s | ",
        "delay=-5ms          | 'delay=-5ms'     | >= 0 | ",
        "delay=0.5ns         | 'delay=0.5ns'    | whole number of nanoseconds | ",
        "delay=2h            | 'delay=2h'       | unit | ",
        "jitter=7200s        | 'jitter=7200s'   | at most 1h | ",
        "jitter=xms          | 'jitter=xms'     | duration such as | ",
        "seed=abc            | 'seed=abc'       | 64-bit integer | ",
        "dir=up              | 'dir=up'         | rx, tx or both | ",
        "limit=0             | 'limit=0'        | [1, | ",
        "loss=5%,loss=1%     | 'loss' given twice | 'loss=1%' | ",
        "loss=5%,,dup=1%     | empty item       | accepted keys | keys: loss",
        "loss=5%,            | empty item       | | ",
        "loss                | 'loss' is not key=value | accepted keys | ",
        "loss=               | 'loss=' has no value | | ",
    })
    void badItemsAreNamedInTheMessage(String text, String a, String b, String c) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ImpairmentSpec.parse(text));
        for (String fragment : new String[] {a, b, c}) {
            if (fragment != null) {
                assertTrue(e.getMessage().contains(fragment),
                        () -> "message of '" + text + "' lacks '" + fragment + "': " + e.getMessage());
            }
        }
    }

    @Test
    void constructorValidatesToo() {
        assertThrows(IllegalArgumentException.class,
                () -> new ImpairmentSpec(1.5, 0, 0, 0, 0, 0, 1, 0, Direction.BOTH));
        assertThrows(IllegalArgumentException.class,
                () -> new ImpairmentSpec(Double.NaN, 0, 0, 0, 0, 0, 1, 0, Direction.BOTH));
        assertThrows(IllegalArgumentException.class,
                () -> new ImpairmentSpec(0, 0, 0, 0, -1, 0, 1, 0, Direction.BOTH));
        assertThrows(IllegalArgumentException.class,
                () -> new ImpairmentSpec(0, 0, 0, 0.25, 0, 0, 1, 0, Direction.BOTH));
        assertThrows(IllegalArgumentException.class,
                () -> new ImpairmentSpec(0, 0, 0, 0, 0, 0, 0, 0, Direction.BOTH));
        assertThrows(NullPointerException.class,
                () -> new ImpairmentSpec(0, 0, 0, 0, 0, 0, 1, 0, null));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new ImpairmentSpec(0, 2, 0, 0, 0, 0, 1, 0, Direction.BOTH));
        assertTrue(e.getMessage().startsWith("dup "), e.getMessage());
    }
}
