package io.flowstack.tools.stats;

import io.flowstack.core.wire.Ipv4;
import io.flowstack.tools.Ipv4Prefix;
import io.flowstack.tools.RoutePrefix;

/**
 * The {@code route} request lines of the control protocol ({@link ControlServer}), both ends:
 * {@code route add P/L via G}, {@code route del P/L} and {@code route show}, where P/L is
 * {@code A.B.C.D/LEN} with no host bits set or {@code default}. {@link #request} writes them
 * for {@code stack route}; {@link #handle} parses one and calls the router's
 * {@link RouteControl}.
 *
 * <p>Owned by: nobody (stateless).
 */
public final class RouteRequests {
    /** The answer of an instance that is no router (an endpoint). */
    public static final String NOT_A_ROUTER = "not a router";

    private RouteRequests() {
    }

    /** Whether {@code request} is one of the {@code route} requests (well formed or not). */
    public static boolean isRoute(String request) {
        return request.equals("route") || request.startsWith("route ");
    }

    /** The request line of {@code stack route add PREFIX via GW}. */
    public static String add(RoutePrefix prefix, int gateway) {
        return "route add " + prefix + " via " + Ipv4.toString(gateway);
    }

    /** The request line of {@code stack route del PREFIX}. */
    public static String del(RoutePrefix prefix) {
        return "route del " + prefix;
    }

    /** The request line of {@code stack route show}. */
    public static String show() {
        return "route show";
    }

    /**
     * Parses a {@code route} request and runs it on {@code control}; returns the report (with a
     * final line feed).
     *
     * @param control the router's routes, or null for an instance that is no router
     * @throws IllegalArgumentException for a malformed request, an instance that is no router
     *                                  ({@value #NOT_A_ROUTER}) or a change the router refused
     */
    public static String handle(RouteControl control, String request) {
        String[] w = request.strip().split(" +");
        String verb = w.length > 1 ? w[1] : "";
        switch (verb) {
            case "add" -> {
                if (w.length != 5 || !w[3].equals("via")) {
                    throw new IllegalArgumentException("route add wants PREFIX via GW, e.g. route add 198.18.9.0/24 via "
                            + "198.18.2.3");
                }
                RoutePrefix p = RoutePrefix.parse(w[2]);
                int gateway = Ipv4Prefix.parseHost(w[4]);
                return line(router(control).add(p.network(), p.length(), gateway));
            }
            case "del" -> {
                if (w.length != 3) {
                    throw new IllegalArgumentException("route del wants PREFIX, e.g. route del 198.18.9.0/24");
                }
                RoutePrefix p = RoutePrefix.parse(w[2]);
                return line(router(control).del(p.network(), p.length()));
            }
            case "show" -> {
                if (w.length != 2) {
                    throw new IllegalArgumentException("route show takes no arguments");
                }
                return line(router(control).show());
            }
            default -> throw new IllegalArgumentException("unknown route request '" + request.strip()
                    + "': send route add PREFIX via GW, route del PREFIX or route show");
        }
    }

    private static RouteControl router(RouteControl control) {
        if (control == null) {
            throw new IllegalArgumentException(NOT_A_ROUTER);
        }
        return control;
    }

    private static String line(String s) {
        return s.endsWith("\n") ? s : s + "\n";
    }
}
