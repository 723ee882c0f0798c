package io.flowstack.core.route;

/** Where a route came from: what {@code stack route show} prints beside it. */
public enum RouteKind {
    /** The subnet of one of the router's interface addresses: on-link, no gateway. */
    CONNECTED,
    /** Configured ({@code --route}, {@code stack route add}): through a gateway, or on-link. */
    STATIC;

    private static final RouteKind[] VALUES = values();

    static RouteKind of(int ordinal) {
        return VALUES[ordinal];
    }

    /** The lower-case name ("connected", "static"). */
    @Override
    public String toString() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
