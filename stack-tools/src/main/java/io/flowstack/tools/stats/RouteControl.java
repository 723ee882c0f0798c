package io.flowstack.tools.stats;

import io.flowstack.core.wire.Ipv4;
import java.util.List;

/**
 * The route table of a running router as the control socket reaches it: {@code stack route
 * add|del|show} become the request lines {@code route add P/L via G}, {@code route del P/L} and
 * {@code route show}, which {@link ControlServer} parses ({@link RouteRequests}) and hands to the
 * router's implementation of this interface, set with {@link ControlServer#routeControl}. An
 * endpoint has none and answers {@code error: not a router}.
 *
 * <p>Prefixes and addresses are big-endian ints ({@code 198.18.9.0} is {@code 0xC6120900});
 * a prefix has no host bits set and its length is 0..32 (0: the default route). The server has
 * checked that much; everything that depends on the router's interfaces and table (a gateway on
 * no interface's subnet, one of its own addresses, a prefix already routed, a connected route)
 * is the implementation's to refuse.
 *
 * <p>Owned by: the implementation says; {@link ControlServer} calls it from its client threads
 * (virtual threads, several at once), so an implementation reaches each core's replica of the
 * table by message, never by touching it.
 */
public interface RouteControl {
    /**
     * Adds the route {@code prefix/length via gateway} to every core's table.
     *
     * @param prefix  the network address
     * @param length  the prefix length, 0..32
     * @param gateway the next router, on one of the interfaces' subnets
     * @return one line saying what was done, e.g. {@code added 198.18.9.0/24 via 198.18.2.3 on r1}
     * @throws IllegalArgumentException (its message is sent as {@code error: MESSAGE}) if refused:
     *                                  the prefix is already routed, the gateway is on no
     *                                  interface's subnet or is one of the router's addresses
     */
    String add(int prefix, int length, int gateway) throws IllegalArgumentException;

    /**
     * Removes the static route of {@code prefix/length} from every core's table.
     *
     * @return one line saying what was done, e.g. {@code deleted 198.18.9.0/24 via 198.18.2.3}
     * @throws IllegalArgumentException if there is no such static route (a connected route goes
     *                                  only with its interface)
     */
    String del(int prefix, int length) throws IllegalArgumentException;

    /** The route table, one row per route: {@link #table} of the rows, connected routes first. */
    String show();

    /**
     * One route as {@code stack route show} lists it.
     *
     * @param prefix the network address
     * @param length the prefix length (0: the default route)
     * @param via    the gateway, or 0 for a connected route (on the link)
     * @param device the outgoing interface's device
     * @param kind   {@code connected} or {@code static}
     */
    record Row(int prefix, int length, int via, String device, String kind) {
    }

    /**
     * The table {@code stack route show} prints: a header and one line per row, columns aligned,
     * e.g.
     *
     * <pre>
     * prefix         via           interface  kind
     * 198.18.1.0/24  -             r0         connected
     * 198.18.9.0/24  198.18.2.3    r1         static
     * default        198.18.2.254  r1         static
     * </pre>
     */
    static String table(List<Row> rows) {
        String[][] cells = new String[rows.size() + 1][];
        cells[0] = new String[] {"prefix", "via", "interface", "kind"};
        for (int r = 0; r < rows.size(); r++) {
            Row row = rows.get(r);
            String prefix = row.length() == 0 ? "default" : Ipv4.toString(row.prefix()) + "/" + row.length();
            cells[r + 1] = new String[] {prefix, row.via() == 0 ? "-" : Ipv4.toString(row.via()), row.device(), row.kind()};
        }
        int[] width = new int[4];
        for (String[] line : cells) {
            for (int c = 0; c < 4; c++) {
                width[c] = Math.max(width[c], line[c].length());
            }
        }
        StringBuilder b = new StringBuilder();
        for (String[] line : cells) {
            for (int c = 0; c < 3; c++) {
                b.append(line[c]).append(" ".repeat(width[c] - line[c].length() + 2));
            }
            b.append(line[3]).append('\n');
        }
        return b.toString();
    }
}
