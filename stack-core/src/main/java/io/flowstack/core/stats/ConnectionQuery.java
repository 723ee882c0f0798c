package io.flowstack.core.stats;

import java.util.List;
import java.util.Locale;

/**
 * Which connections a {@link StackSnapshot} lists, like {@code ss}'s filters: by RFC 9293 state
 * and by port, at most {@link #limit} of them. Every connection is counted by state and core
 * whatever the query (that summary is cheap); only the rows it selects are copied, so a stack
 * with a million connections answers {@code stack stats} without building a million rows.
 * Immutable.
 *
 * @param state      an RFC 9293 state name of {@link #STATES} (e.g. {@code ESTABLISHED}), or null for any
 * @param localPort  our port (ss's {@code sport}), or -1 for any
 * @param remotePort the peer's port (ss's {@code dport}), or -1 for any
 * @param port       either end's port, or -1 for any
 * @param limit      the most rows copied (0: none, only the summary)
 */
public record ConnectionQuery(String state, int localPort, int remotePort, int port, int limit) {
    /** The states a connection of the table can be in (RFC 9293 3.3.2, LISTEN aside), in the RFC's order. */
    public static final List<String> STATES = List.of("SYN_SENT", "SYN_RECEIVED", "ESTABLISHED", "FIN_WAIT_1",
            "FIN_WAIT_2", "CLOSE_WAIT", "CLOSING", "LAST_ACK", "TIME_WAIT", "CLOSED");
    /** Every connection listed, however many (for small stacks and tests). */
    public static final ConnectionQuery ALL = new ConnectionQuery(null, -1, -1, -1, Integer.MAX_VALUE);
    /** The summary only: no row. */
    public static final ConnectionQuery NONE = new ConnectionQuery(null, -1, -1, -1, 0);

    /**
     * Checks the fields.
     *
     * @throws IllegalArgumentException for an unknown state, a port outside -1..65535 or a negative limit
     */
    public ConnectionQuery {
        if (state != null && !STATES.contains(state)) {
            throw new IllegalArgumentException("unknown TCP state '" + state + "': one of " + String.join(", ", STATES));
        }
        for (int p : new int[] {localPort, remotePort, port}) {
            if (p < -1 || p > 65535) {
                throw new IllegalArgumentException("port " + p + " outside 0..65535");
            }
        }
        if (limit < 0) {
            throw new IllegalArgumentException("limit must be >= 0, got " + limit);
        }
    }

    /**
     * The state name {@code text} means, in ss's spelling ({@code established}, {@code syn-sent},
     * {@code syn-recv}, {@code fin-wait-1}, {@code time-wait}, ...) or the RFC's
     * ({@code SYN_RECEIVED}), any case.
     *
     * @param text what the user typed
     * @return the state's name in {@link #STATES}
     * @throws IllegalArgumentException if it names no state
     */
    public static String stateNamed(String text) {
        String s = text.strip().toUpperCase(Locale.ROOT).replace('-', '_');
        if (s.equals("SYN_RECV")) {
            s = "SYN_RECEIVED"; // ss and Linux's /proc/net/tcp
        }
        if (!STATES.contains(s)) {
            throw new IllegalArgumentException("unknown TCP state '" + text + "': one of "
                    + String.join(", ", STATES.stream().map(x -> x.toLowerCase(Locale.ROOT).replace('_', '-')).toList()));
        }
        return s;
    }

    /**
     * Whether a connection is selected (its state and ports; the limit is the caller's).
     *
     * @param stateName the connection's state name
     * @param lport     its local port
     * @param rport     its remote port
     * @return true if every given filter matches
     */
    public boolean matches(String stateName, int lport, int rport) {
        return (state == null || state.equals(stateName)) && (localPort < 0 || localPort == lport)
                && (remotePort < 0 || remotePort == rport) && (port < 0 || port == lport || port == rport);
    }

    /**
     * Whether the query filters at all (else it selects every connection).
     *
     * @return true if a state or a port is given
     */
    public boolean filters() {
        return state != null || localPort >= 0 || remotePort >= 0 || port >= 0;
    }
}
