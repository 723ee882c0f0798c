package io.flowstack.core.stats;

import io.flowstack.core.config.StackConfig;
import io.flowstack.core.stats.ArpEntryInfo;
import io.flowstack.core.stats.Stat;
import io.flowstack.core.stats.TcpConnectionInfo;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The state of a whole stack at one instant, for statistics: per core, its counters, its
 * connections counted by state, the connections a {@link ConnectionQuery} selects, and its ARP
 * replica, each copied on that core's netisr ({@link io.flowstack.core.FlowStack#snapshot}).
 * Immutable once built; read by any thread.
 *
 * @param device     the NIC's name (TAP or interface)
 * @param config     the stack's configuration (address, prefix, gateway, MAC, cores)
 * @param mtu        the IPv4 MTU in use
 * @param timeMillis wall-clock time the snapshot was taken (epoch milliseconds)
 * @param query      which connections the cores listed ({@link Core#connections})
 * @param cores      one entry per core, in core order
 * @param interfaces the interfaces with their counters summed over the cores (one for an endpoint)
 * @param routes     the route table as core 0's replica has it
 */
public record StackSnapshot(String device, StackConfig config, int mtu, long timeMillis, ConnectionQuery query,
                            List<Core> cores, List<InterfaceInfo> interfaces, List<RouteInfo> routes) {

    /**
     * Copies the lists into unmodifiable ones.
     *
     * @throws NullPointerException if a list is or holds null
     */
    public StackSnapshot {
        cores = List.copyOf(cores);
        interfaces = List.copyOf(interfaces);
        routes = List.copyOf(routes);
    }

    /**
     * A snapshot without interface counters or routes (a test's, or a report built by hand).
     *
     * @param device the NIC's name
     * @param config the configuration
     * @param mtu the MTU
     * @param timeMillis when it was taken
     * @param query which connections the cores listed
     * @param cores one entry per core
     */
    public StackSnapshot(String device, StackConfig config, int mtu, long timeMillis, ConnectionQuery query,
                         List<Core> cores) {
        this(device, config, mtu, timeMillis, query, cores, List.of(), List.of());
    }

    /**
     * Whether the stack has more than one interface or forwards (a router): its report lists
     * interfaces and its full route table.
     *
     * @return true for a stack of several interfaces
     */
    public boolean multiInterface() {
        return interfaces.size() > 1;
    }

    /**
     * One core's part.
     *
     * @param core        the core number
     * @param counters    value of every {@link Stat}, indexed by {@link Stat#ordinal()}
     * @param connectionCount its connections (any state but LISTEN)
     * @param connectionsByState its connections by state name, in {@link ConnectionQuery#STATES} order
     *                    (states with none left out)
     * @param matchedConnections its connections the query selected, listed or not (the limit aside)
     * @param connections the connections listed: those the query selected, up to its limit
     * @param listeners   the ports it listens on, ascending
     * @param arp         its ARP replica's entries
     * @param buckets     the indirection-table buckets this core owns (its own replica), ascending
     * @param bucketPackets frames this core processed per bucket since start, indexed by bucket
     */
    public record Core(int core, long[] counters, long connectionCount, Map<String, Long> connectionsByState,
                       long matchedConnections, List<TcpConnectionInfo> connections, int[] listeners,
                       List<ArpEntryInfo> arp, int[] buckets, long[] bucketPackets) {
        /**
         * Copies the arrays and lists, so the record is immutable.
         *
         * @throws NullPointerException if an argument is or holds null
         */
        public Core {
            counters = counters.clone();
            connectionsByState = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(connectionsByState));
            connections = List.copyOf(connections);
            listeners = listeners.clone();
            arp = List.copyOf(arp);
            buckets = buckets.clone();
            bucketPackets = bucketPackets.clone();
        }

        /**
         * Frames this core processed in the buckets it owns now.
         *
         * @return the sum of {@link #bucketPackets()} over {@link #buckets()}
         */
        public long ownedPackets() {
            long t = 0;
            for (int b : buckets) {
                t += bucketPackets[b];
            }
            return t;
        }

        /**
         * This core's value of {@code s}.
         *
         * @param s the counter
         * @return its value on this core when the snapshot was taken
         */
        public long get(Stat s) {
            return counters[s.ordinal()];
        }
    }

    /**
     * Sum of {@code s} over all cores.
     *
     * @param s the counter
     * @return its total over the stack
     */
    public long total(Stat s) {
        long t = 0;
        for (Core c : cores) {
            t += c.get(s);
        }
        return t;
    }

    /**
     * Sum of every drop counter ({@link Stat#isDrop()}) of core {@code core}, or of all when -1.
     *
     * @param core a core number, or -1 (any negative value) for the whole stack
     * @return the number of frames dropped
     * @throws IndexOutOfBoundsException if {@code core} is not below the number of cores
     */
    public long drops(int core) {
        long t = 0;
        for (Stat s : Stat.values()) {
            if (s.isDrop()) {
                t += core < 0 ? total(s) : cores.get(core).get(s);
            }
        }
        return t;
    }

    /**
     * Connections of every core (any state but LISTEN).
     *
     * @return their number
     */
    public long connectionCount() {
        long t = 0;
        for (Core c : cores) {
            t += c.connectionCount();
        }
        return t;
    }

    /**
     * Connections the query selected on every core, listed or not.
     *
     * @return their number; more than {@code connections().size()} when the limit cut the list
     */
    public long matchedConnections() {
        long t = 0;
        for (Core c : cores) {
            t += c.matchedConnections();
        }
        return t;
    }

    /**
     * Connections of every core by state, in {@link ConnectionQuery#STATES} order.
     *
     * @return a new map of state name to count (states with none left out)
     */
    public Map<String, Long> connectionsByState() {
        Map<String, Long> m = new LinkedHashMap<>();
        for (String st : ConnectionQuery.STATES) {
            long n = 0;
            for (Core c : cores) {
                n += c.connectionsByState().getOrDefault(st, 0L);
            }
            if (n > 0) {
                m.put(st, n);
            }
        }
        for (Core c : cores) { // a state outside the list (none today) is still counted
            c.connectionsByState().forEach((k, v) -> {
                if (!ConnectionQuery.STATES.contains(k)) {
                    m.merge(k, v, Long::sum);
                }
            });
        }
        return m;
    }

    /**
     * The ports listened on (every core holds a replica of each listener).
     *
     * @return the ports, ascending, each once
     */
    public int[] listeners() {
        TreeSet<Integer> ports = new TreeSet<>();
        for (Core c : cores) {
            for (int p : c.listeners()) {
                ports.add(p);
            }
        }
        return ports.stream().mapToInt(Integer::intValue).toArray();
    }

    /**
     * The connections listed ({@link #query}: every one, or those it selected up to its limit
     * per core), of every core, sorted by local port, remote address and remote port, at most
     * {@code query().limit()} of them.
     *
     * @return a new mutable list
     */
    public List<TcpConnectionInfo> connections() {
        List<TcpConnectionInfo> all = new ArrayList<>();
        for (Core c : cores) {
            all.addAll(c.connections());
        }
        all.sort(Comparator.comparingInt(TcpConnectionInfo::localPort)
                .thenComparingLong(t -> t.remoteAddress() & 0xFFFF_FFFFL)
                .thenComparingInt(TcpConnectionInfo::remotePort));
        return all.size() > query.limit() ? new ArrayList<>(all.subList(0, query.limit())) : all;
    }
}
