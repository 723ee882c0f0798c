package io.flowstack.nic.impair;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.Locale;
import java.util.Objects;

/**
 * What an {@link ImpairedNic} does to frames: an immutable, netem-like impairment profile.
 *
 * <p>Written and parsed as comma-separated {@code key=value} items in any order, any subset:
 * <pre>
 *   loss=5%,reorder=25%,delay=5ms,jitter=10ms,dup=2%,corrupt=1%,limit=4096,seed=42,dir=both
 * </pre>
 * <table>
 *   <caption>Keys</caption>
 *   <tr><th>key</th><th>value</th><th>meaning (Linux {@code sch_netem}, see tc-netem(8))</th></tr>
 *   <tr><td>{@code loss}</td><td>probability</td><td>a frame is dropped ({@code loss random})</td></tr>
 *   <tr><td>{@code dup}</td><td>probability</td><td>a frame is sent twice ({@code duplicate});
 *       alias {@code duplicate}</td></tr>
 *   <tr><td>{@code corrupt}</td><td>probability</td><td>one random bit of the frame is flipped
 *       ({@code corrupt}), here only at offset &ge; 14, past the Ethernet header</td></tr>
 *   <tr><td>{@code reorder}</td><td>probability</td><td>a frame skips the delay and overtakes
 *       the delayed ones ({@code reorder P} with {@code gap 1}, tc's default); needs a
 *       delay</td></tr>
 *   <tr><td>{@code delay}</td><td>duration</td><td>every other frame is held back this long
 *       ({@code delay TIME}); at most 1 h</td></tr>
 *   <tr><td>{@code jitter}</td><td>duration</td><td>the delay is uniform in
 *       {@code [delay - jitter, delay + jitter]}, clamped at 0 ({@code delay TIME JITTER} with
 *       no distribution table); frames then reorder among themselves; at most 1 h</td></tr>
 *   <tr><td>{@code limit}</td><td>frames</td><td>bound of the holding area per direction per
 *       queue ({@code limit}); default {@value #DEFAULT_LIMIT}, and at most
 *       {@value ImpairedQueue#MAX_HELD_BYTES} bytes of slots</td></tr>
 *   <tr><td>{@code seed}</td><td>long</td><td>seed of the per-queue random generators</td></tr>
 *   <tr><td>{@code dir}</td><td>{@code rx|tx|both}</td><td>which direction(s) are impaired;
 *       alias {@code direction}; default {@code both}</td></tr>
 * </table>
 * A probability is a percentage ({@code 5%}, {@code 0.5%}) or a fraction ({@code 0.05}); a bare
 * number is a fraction (unlike tc, which reads it as a percentage), so {@code loss=5} is refused.
 * A duration is a number with a unit {@code ns}, {@code us}, {@code ms} or {@code s}
 * ({@code 1.5ms} is allowed if it is a whole number of nanoseconds), or a bare {@code 0}.
 * Like tc, a reorder probability without a delay is refused ("reordering not possible without
 * specifying some delay"). {@link #toString()} prints the canonical form, which
 * {@link #parse(String)} reads back to an equal spec.
 *
 * <p>Owned by: nobody (immutable, safe to share between threads).
 *
 * @param loss        probability in [0, 1] that a frame is dropped
 * @param duplicate   probability in [0, 1] that a frame is delivered twice
 * @param corrupt     probability in [0, 1] that a delivered copy gets one bit flipped
 * @param reorder     probability in [0, 1] that a frame is sent at once instead of delayed
 * @param delayNanos  delay of the frames that are not reordered, {@code >= 0}
 * @param jitterNanos half-width of the uniform delay distribution, {@code >= 0}
 * @param limit       frames the holding area of one direction of one queue may hold, {@code >= 1}
 * @param seed        random seed; queue {@code i} uses {@code seed + i}
 * @param direction   impaired direction(s)
 */
public record ImpairmentSpec(double loss, double duplicate, double corrupt, double reorder,
                             long delayNanos, long jitterNanos, int limit, long seed,
                             Direction direction) {

    /** Default {@link #limit()}. */
    public static final int DEFAULT_LIMIT = 4096;
    /** Largest accepted {@link #limit()}. */
    public static final int MAX_LIMIT = 1 << 20;
    /** Largest accepted {@link #delayNanos()} and {@link #jitterNanos()}: one hour. */
    public static final long MAX_DURATION_NANOS = 3_600_000_000_000L;

    /** No impairment in either direction: the wrapper passes frames through. */
    public static final ImpairmentSpec NONE =
            new ImpairmentSpec(0, 0, 0, 0, 0, 0, DEFAULT_LIMIT, 0, Direction.BOTH);

    private static final String KEYS =
            "loss, dup (or duplicate), corrupt, reorder, delay, jitter, limit, seed, dir (or direction)";

    /** Which direction of a queue an impairment applies to. */
    public enum Direction {
        /** Frames read by {@code receive}. */
        RX,
        /** Frames written by {@code transmit}. */
        TX,
        /** Both directions, each with its own holding area and random generator. */
        BOTH;

        /** Whether received frames are impaired. */
        public boolean rx() {
            return this != TX;
        }

        /** Whether transmitted frames are impaired. */
        public boolean tx() {
            return this != RX;
        }
    }

    /** Validates every field; throws {@link IllegalArgumentException} naming the bad one. */
    public ImpairmentSpec {
        checkProbability("loss", loss);
        checkProbability("dup", duplicate);
        checkProbability("corrupt", corrupt);
        checkProbability("reorder", reorder);
        if (delayNanos < 0 || delayNanos > MAX_DURATION_NANOS) {
            throw new IllegalArgumentException("delay must be in [0, 1h]: " + delayNanos + "ns");
        }
        if (jitterNanos < 0 || jitterNanos > MAX_DURATION_NANOS) {
            throw new IllegalArgumentException("jitter must be in [0, 1h]: " + jitterNanos + "ns");
        }
        if (limit < 1 || limit > MAX_LIMIT) {
            throw new IllegalArgumentException("limit must be in [1, " + MAX_LIMIT + "] frames: " + limit);
        }
        Objects.requireNonNull(direction, "direction");
        if (reorder > 0 && delayNanos == 0) {
            // tc-netem refuses it too: reordered frames overtake *delayed* ones
            throw new IllegalArgumentException("reorder=" + percent(reorder)
                    + " needs a delay (reordering is not possible without specifying some delay)");
        }
    }

    private static void checkProbability(String key, double p) {
        if (!(p >= 0 && p <= 1)) { // also refuses NaN
            throw new IllegalArgumentException(key + " must be a probability in [0, 1]: " + p);
        }
    }

    /** This spec with another seed. */
    public ImpairmentSpec withSeed(long newSeed) {
        return new ImpairmentSpec(loss, duplicate, corrupt, reorder, delayNanos, jitterNanos, limit,
                newSeed, direction);
    }

    /** This spec applied to another direction. */
    public ImpairmentSpec withDirection(Direction newDirection) {
        return new ImpairmentSpec(loss, duplicate, corrupt, reorder, delayNanos, jitterNanos, limit,
                seed, newDirection);
    }

    /** Whether this spec changes anything at all (any probability or delay is non-zero). */
    public boolean impairs() {
        return loss > 0 || duplicate > 0 || corrupt > 0 || reorder > 0 || delayNanos > 0
                || jitterNanos > 0;
    }

    /** Whether frames may be held back (a delay or a jitter is set). */
    public boolean delays() {
        return delayNanos > 0 || jitterNanos > 0;
    }

    /**
     * Parses {@code key=value[,key=value...]} (see the class comment). The empty string is
     * {@link #NONE}.
     *
     * @throws IllegalArgumentException naming the bad item and the accepted keys
     */
    public static ImpairmentSpec parse(String text) {
        Objects.requireNonNull(text, "text");
        double loss = 0;
        double dup = 0;
        double corrupt = 0;
        double reorder = 0;
        long delay = 0;
        long jitter = 0;
        int limit = DEFAULT_LIMIT;
        long seed = 0;
        Direction dir = Direction.BOTH;
        String trimmed = text.strip();
        if (trimmed.isEmpty()) {
            return NONE;
        }
        boolean[] seen = new boolean[9];
        for (String raw : trimmed.split(",", -1)) {
            String item = raw.strip();
            if (item.isEmpty()) {
                throw new IllegalArgumentException("empty item in impairment spec '" + text
                        + "'; expected key=value items separated by commas; accepted keys: " + KEYS);
            }
            int eq = item.indexOf('=');
            if (eq < 0) {
                throw new IllegalArgumentException("item '" + item + "' is not key=value; accepted keys: "
                        + KEYS);
            }
            String key = item.substring(0, eq).strip().toLowerCase(Locale.ROOT);
            String value = item.substring(eq + 1).strip();
            int k = switch (key) {
                case "loss" -> 0;
                case "dup", "duplicate" -> 1;
                case "corrupt" -> 2;
                case "reorder" -> 3;
                case "delay" -> 4;
                case "jitter" -> 5;
                case "limit" -> 6;
                case "seed" -> 7;
                case "dir", "direction" -> 8;
                default -> throw new IllegalArgumentException("unknown key '" + key + "' in item '" + item
                        + "'; accepted keys: " + KEYS);
            };
            if (seen[k]) {
                throw new IllegalArgumentException("key '" + key + "' given twice (item '" + item + "')");
            }
            seen[k] = true;
            if (value.isEmpty()) {
                throw new IllegalArgumentException("item '" + item + "' has no value");
            }
            switch (k) {
                case 0 -> loss = parseProbability(item, value);
                case 1 -> dup = parseProbability(item, value);
                case 2 -> corrupt = parseProbability(item, value);
                case 3 -> reorder = parseProbability(item, value);
                case 4 -> delay = parseDuration(item, value);
                case 5 -> jitter = parseDuration(item, value);
                case 6 -> limit = parseLimit(item, value);
                case 7 -> seed = parseSeed(item, value);
                default -> dir = parseDirection(item, value);
            }
        }
        if (reorder > 0 && delay == 0) {
            throw new IllegalArgumentException("item 'reorder=" + percent(reorder)
                    + "' needs a delay item, e.g. 'delay=5ms' (reordering is not possible without"
                    + " specifying some delay)");
        }
        return new ImpairmentSpec(loss, dup, corrupt, reorder, delay, jitter, limit, seed, dir);
    }

    private static double parseProbability(String item, String value) {
        boolean pct = value.endsWith("%");
        String number = pct ? value.substring(0, value.length() - 1).strip() : value;
        BigDecimal d;
        try {
            d = new BigDecimal(number);
            if (pct) {
                d = d.scaleByPowerOfTen(-2); // not movePointLeft: it builds 1E99999999 whole
            }
        } catch (NumberFormatException | ArithmeticException e) {
            // ArithmeticException: an exponent BigDecimal cannot scale (ImpairmentSpecFuzzTest)
            throw new IllegalArgumentException("item '" + item
                    + "': expected a probability such as 5% or 0.05");
        }
        if (d.signum() < 0 || d.compareTo(BigDecimal.ONE) > 0) {
            String hint = !pct && d.compareTo(BigDecimal.valueOf(100)) <= 0
                    ? " (a bare number is a fraction: did you mean " + number + "%?)" : "";
            throw new IllegalArgumentException("item '" + item
                    + "': probability must be in [0%, 100%] or [0, 1]" + hint);
        }
        return d.doubleValue();
    }

    private static long parseDuration(String item, String value) {
        String v = value.toLowerCase(Locale.ROOT);
        int scale; // power of ten of the unit in nanoseconds
        String number;
        if (v.endsWith("ns")) {
            scale = 0;
            number = v.substring(0, v.length() - 2);
        } else if (v.endsWith("us") || v.endsWith("\u00b5s")) {
            scale = 3;
            number = v.substring(0, v.length() - 2);
        } else if (v.endsWith("ms")) {
            scale = 6;
            number = v.substring(0, v.length() - 2);
        } else if (v.endsWith("s")) {
            scale = 9;
            number = v.substring(0, v.length() - 1);
        } else if (v.equals("0")) {
            return 0;
        } else {
            throw new IllegalArgumentException("item '" + item
                    + "': a duration needs a unit ns, us, ms or s, e.g. 5ms");
        }
        BigDecimal nanos;
        try {
            // scaleByPowerOfTen, not movePointRight, which makes a negative scale 0 by building
            // the whole integer: 77E77777777s took minutes (ImpairmentSpecFuzzTest reported it slow)
            nanos = new BigDecimal(number.strip()).scaleByPowerOfTen(scale);
        } catch (NumberFormatException | ArithmeticException e) {
            // ArithmeticException: an exponent such as 7E777777773 that BigDecimal cannot scale
            // (ImpairmentSpecFuzzTest found it escaping as "BigInteger would overflow ...")
            throw new IllegalArgumentException("item '" + item
                    + "': expected a duration such as 5ms, 250us or 1.5s");
        }
        if (nanos.signum() < 0) {
            throw new IllegalArgumentException("item '" + item + "': a duration must be >= 0");
        }
        // compared before it is made a long (longValueExact would build the whole integer too):
        // compareTo and stripTrailingZeros look at the exponent first
        long result;
        if (nanos.compareTo(BigDecimal.valueOf(MAX_DURATION_NANOS)) > 0 || nanos.stripTrailingZeros().scale() > 0) {
            result = -1;
        } else {
            result = nanos.longValueExact();
        }
        if (result < 0 || result > MAX_DURATION_NANOS) {
            throw new IllegalArgumentException("item '" + item
                    + "': a duration must be a whole number of nanoseconds, at most 1h");
        }
        return result;
    }

    private static int parseLimit(String item, String value) {
        try {
            int limit = Integer.parseInt(value);
            if (limit >= 1 && limit <= MAX_LIMIT) {
                return limit;
            }
        } catch (NumberFormatException e) {
            // fall through
        }
        throw new IllegalArgumentException("item '" + item + "': limit must be a number of frames in [1, "
                + MAX_LIMIT + "]");
    }

    private static long parseSeed(String item, String value) {
        try {
            return Long.parseLong(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("item '" + item + "': seed must be a 64-bit integer");
        }
    }

    private static Direction parseDirection(String item, String value) {
        return switch (value.toLowerCase(Locale.ROOT)) {
            case "rx" -> Direction.RX;
            case "tx" -> Direction.TX;
            case "both" -> Direction.BOTH;
            default -> throw new IllegalArgumentException("item '" + item + "': dir must be rx, tx or both");
        };
    }

    /**
     * The canonical form: the non-default items in the order loss, dup, corrupt, reorder, delay,
     * jitter, limit, then always seed and dir; probabilities as percentages, durations in the
     * largest unit that divides them exactly, e.g. {@code loss=5%,delay=5ms,seed=42,dir=both}.
     */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        if (loss > 0) {
            sb.append("loss=").append(percent(loss)).append(',');
        }
        if (duplicate > 0) {
            sb.append("dup=").append(percent(duplicate)).append(',');
        }
        if (corrupt > 0) {
            sb.append("corrupt=").append(percent(corrupt)).append(',');
        }
        if (reorder > 0) {
            sb.append("reorder=").append(percent(reorder)).append(',');
        }
        if (delayNanos > 0) {
            sb.append("delay=").append(duration(delayNanos)).append(',');
        }
        if (jitterNanos > 0) {
            sb.append("jitter=").append(duration(jitterNanos)).append(',');
        }
        if (limit != DEFAULT_LIMIT) {
            sb.append("limit=").append(limit).append(',');
        }
        sb.append("seed=").append(seed).append(",dir=").append(direction.name().toLowerCase(Locale.ROOT));
        return sb.toString();
    }

    /** {@code 0.05} as {@code 5%}; exact (the shortest decimal that reads back to the same double). */
    static String percent(double p) {
        BigDecimal d = BigDecimal.valueOf(p).movePointRight(2).stripTrailingZeros();
        if (d.scale() < 0) {
            d = d.setScale(0, RoundingMode.UNNECESSARY);
        }
        return d.toPlainString() + "%";
    }

    /** Nanoseconds in the largest unit that divides them: {@code 5ms}, {@code 1500us}, {@code 7ns}. */
    static String duration(long nanos) {
        if (nanos == 0) {
            return "0";
        }
        if (nanos % 1_000_000_000L == 0) {
            return nanos / 1_000_000_000L + "s";
        }
        if (nanos % 1_000_000L == 0) {
            return nanos / 1_000_000L + "ms";
        }
        if (nanos % 1_000L == 0) {
            return nanos / 1_000L + "us";
        }
        return nanos + "ns";
    }
}
