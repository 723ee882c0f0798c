package io.flowstack.core.config;

import java.util.List;
import java.util.Locale;

/**
 * The names of the congestion control algorithms the stack implements: the one place the
 * configuration checks a name against and TCP chooses an algorithm by.
 */
public final class CongestionControls {
    /** CUBIC (RFC 9438), the default. */
    public static final String CUBIC = "cubic";
    /** NewReno (RFC 5681, RFC 6582); "reno" is accepted as an alias. */
    public static final String NEWRENO = "newreno";
    /** Every name, as the help and error messages list them. */
    public static final List<String> NAMES = List.of(CUBIC, NEWRENO);

    private CongestionControls() {}

    /**
     * The canonical name of {@code name} (case-insensitive; "reno" is NewReno).
     *
     * @param name an algorithm's name in any case; null is refused like an unknown name
     * @return {@link #CUBIC} or {@link #NEWRENO}
     * @throws IllegalArgumentException if the stack has no such algorithm
     */
    public static String canonical(String name) {
        String n = name == null ? "" : name.toLowerCase(Locale.ROOT);
        return switch (n) {
            case CUBIC -> CUBIC;
            case NEWRENO, "reno" -> NEWRENO;
            default -> throw new IllegalArgumentException("unknown congestion control '" + name
                    + "': choose cubic or newreno");
        };
    }
}
