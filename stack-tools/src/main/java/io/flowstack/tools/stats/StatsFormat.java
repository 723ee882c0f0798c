package io.flowstack.tools.stats;

import io.flowstack.core.config.StackConfig;
import io.flowstack.core.stats.StackSnapshot;
import io.flowstack.core.stats.ArpEntryInfo;
import io.flowstack.core.stats.InterfaceInfo;
import io.flowstack.core.stats.RouteInfo;
import io.flowstack.core.stats.Stat;
import io.flowstack.core.stats.TcpConnectionInfo;
import io.flowstack.core.wire.Ethernet;
import io.flowstack.core.wire.Ipv4;
import io.flowstack.tools.Json;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.StringJoiner;

/**
 * Renders a {@link StackSnapshot} for {@code stack stats}: as text (counters like
 * {@code netstat -s}, connections like {@code ss -tni}, the ARP and route tables) or as one
 * JSON object for scripts. Pure functions of the snapshot (stateless; any thread).
 */
public final class StatsFormat {
    private static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss", Locale.ROOT).withZone(ZoneId.systemDefault());

    private StatsFormat() {
    }

    /** One route of the stack: the connected subnet, then the default gateway if any. */
    public record Route(int destination, int prefixLength, int gateway, boolean connected) {
        public String destinationText() {
            return prefixLength == 0 ? "default" : Ipv4.toString(destination) + "/" + prefixLength;
        }
    }

    /** The stack's routes, from its configuration. */
    public static List<Route> routes(StackConfig c) {
        List<Route> r = new ArrayList<>(2);
        r.add(new Route(c.address & c.netmask(), c.prefixLength, 0, true));
        if (c.gateway != 0) {
            r.add(new Route(0, 0, c.gateway, false));
        }
        return r;
    }

    /** An ARP neighbour as seen by every core holding it (replicas usually agree). */
    public record Neighbour(int address, long mac, String state, long expiresInNanos, List<Integer> cores,
                            String iface) {
    }

    /** ARP entries merged over the cores' replicas by (address, MAC, state); shortest expiry kept. */
    public static List<Neighbour> neighbours(StackSnapshot s) {
        Map<String, Neighbour> m = new LinkedHashMap<>();
        List<ArpEntryInfo> all = new ArrayList<>();
        for (StackSnapshot.Core c : s.cores()) {
            all.addAll(c.arp());
        }
        all.sort((a, b) -> Long.compare(a.address() & 0xFFFF_FFFFL, b.address() & 0xFFFF_FFFFL));
        for (ArpEntryInfo e : all) {
            String key = e.address() + "/" + e.mac() + "/" + e.state();
            Neighbour n = m.get(key);
            if (n == null) {
                List<Integer> cores = new ArrayList<>();
                cores.add(e.core());
                m.put(key, new Neighbour(e.address(), e.mac(), e.state(), e.expiresInNanos(), cores, e.iface()));
            } else {
                n.cores().add(e.core());
                if (e.expiresInNanos() < n.expiresInNanos()) {
                    m.put(key, new Neighbour(n.address(), n.mac(), n.state(), e.expiresInNanos(), n.cores(), n.iface()));
                }
            }
        }
        return new ArrayList<>(m.values());
    }

    // ------------------------------------------------------------------ text

    /** The whole report as text. */
    public static String text(StackSnapshot s) {
        return text(s, List.of());
    }

    /** {@link #text(StackSnapshot)} with the devices' own counters after the interfaces. */
    public static String text(StackSnapshot s, List<DeviceCounters> devices) {
        StringBuilder b = new StringBuilder(8192);
        StackConfig c = s.config();
        b.append(String.format("flowstack %s: %s/%d mac %s mtu %d cores %d, at %s%n", s.device(),
                Ipv4.toString(c.address), c.prefixLength, Ethernet.macToString(c.mac), s.mtu(), s.cores().size(),
                TIME.format(Instant.ofEpochMilli(s.timeMillis()))));
        b.append('\n');
        if (s.multiInterface()) {
            interfaces(b, s);
            b.append('\n');
        }
        if (!devices.isEmpty()) {
            devices(b, devices);
            b.append('\n');
        }
        counters(b, s);
        b.append('\n');
        load(b, s);
        b.append('\n');
        connections(b, s);
        b.append('\n');
        arp(b, s);
        b.append('\n');
        routes(b, s);
        return b.toString();
    }

    /**
     * Load per core: buckets of the indirection table each core owns, the frames it processed in
     * them, and its busiest buckets (what {@code stack rebalance --move} moves).
     */
    static void load(StringBuilder b, StackSnapshot s) {
        long all = 0;
        for (StackSnapshot.Core c : s.cores()) {
            all += c.ownedPackets();
        }
        b.append("Load per core (indirection-table buckets; frames processed since start; move with stack rebalance):\n");
        b.append(String.format("  %-6s %8s %14s %7s  %s%n", "core", "buckets", "frames", "share", "busiest buckets (frames)"));
        for (StackSnapshot.Core c : s.cores()) {
            long own = c.ownedPackets();
            int[] top = java.util.Arrays.stream(c.buckets()).boxed()
                    .filter(x -> c.bucketPackets()[x] > 0)
                    .sorted((x, y) -> Long.compare(c.bucketPackets()[y], c.bucketPackets()[x]))
                    .limit(4).mapToInt(Integer::intValue).toArray();
            StringBuilder busiest = new StringBuilder();
            for (int x : top) {
                busiest.append(busiest.isEmpty() ? "" : ", ").append(x).append(" (").append(c.bucketPackets()[x]).append(')');
            }
            b.append(String.format("  %-6s %8d %14d %6.1f%%  %s%n", "core" + c.core(), c.buckets().length, own,
                    all == 0 ? 0.0 : 100.0 * own / all, busiest.isEmpty() ? "-" : busiest));
        }
    }

    /** Every non-zero counter, one column per core and the total; then drops summed. */
    static void counters(StringBuilder b, StackSnapshot s) {
        b.append("Counters (non-zero; see Stat for the meaning of each):\n");
        b.append(String.format("  %-28s", "counter"));
        for (StackSnapshot.Core c : s.cores()) {
            b.append(String.format(" %12s", "core" + c.core()));
        }
        b.append(String.format(" %12s%n", "total"));
        for (Stat st : Stat.values()) {
            long total = s.total(st);
            if (total == 0) {
                continue;
            }
            b.append(String.format("  %-28s", st.key()));
            for (StackSnapshot.Core c : s.cores()) {
                b.append(String.format(" %12d", c.get(st)));
            }
            b.append(String.format(" %12d%n", total));
        }
        b.append(String.format("  %-28s", "(drops, all reasons)"));
        for (StackSnapshot.Core c : s.cores()) {
            b.append(String.format(" %12d", s.drops(c.core())));
        }
        b.append(String.format(" %12d%n", s.drops(-1)));
    }

    /**
     * The connections: first counted by state and core with the listening ports (always; cheap at
     * any size), then, when the snapshot's query asked for rows ({@code --connections} or a
     * filter), those it selected like {@code ss -tni}: one line of addresses, one indented line of
     * TCP internals, at most the query's limit.
     */
    static void connections(StringBuilder b, StackSnapshot s) {
        b.append("TCP connections: ").append(s.connectionCount()).append('\n');
        Map<String, Long> byState = s.connectionsByState();
        if (!byState.isEmpty()) {
            b.append(String.format("  %-12s", "state"));
            for (StackSnapshot.Core c : s.cores()) {
                b.append(String.format(" %10s", "core" + c.core()));
            }
            b.append(String.format(" %10s%n", "total"));
            for (Map.Entry<String, Long> e : byState.entrySet()) {
                b.append(String.format("  %-12s", e.getKey()));
                for (StackSnapshot.Core c : s.cores()) {
                    b.append(String.format(" %10d", c.connectionsByState().getOrDefault(e.getKey(), 0L)));
                }
                b.append(String.format(" %10d%n", e.getValue()));
            }
        }
        int[] ports = s.listeners();
        StringJoiner lj = new StringJoiner(" ");
        for (int p : ports) {
            lj.add(Integer.toString(p));
        }
        timeWait(b, s);
        b.append("  listening on TCP ").append(ports.length == 0 ? "-" : lj.toString()).append('\n');
        if (s.query().limit() == 0) {
            b.append("  (list them with --connections, or select with --state, --port, --sport, --dport)\n");
            return;
        }
        List<TcpConnectionInfo> all = s.connections();
        long matched = s.matchedConnections();
        b.append('\n').append(s.query().filters() ? "Selected connections: " : "Connections: ").append(matched);
        if (all.size() < matched) {
            b.append(", the first ").append(all.size()).append(" listed (raise --limit for more)");
        }
        b.append('\n');
        if (all.isEmpty()) {
            return;
        }
        b.append(String.format("  %-12s %-21s %-21s %4s%n", "State", "Local", "Peer", "Core"));
        for (TcpConnectionInfo t : all) {
            b.append(String.format("  %-12s %-21s %-21s %4d%n", t.state(),
                    Ipv4.toString(t.localAddress()) + ":" + t.localPort(),
                    Ipv4.toString(t.remoteAddress()) + ":" + t.remotePort(), t.core()));
            if (!t.state().equals(TIME_WAIT)) { // an entry of 4-tuple and sequence numbers: nothing to detail
                b.append("\t ").append(details(t)).append('\n');
            }
        }
    }

    static final String TIME_WAIT = "TIME_WAIT";

    /**
     * TIME_WAIT entries per core (their own bounded table, not connections: they count against
     * no connection limit) and how many ended early because it was full; nothing if none.
     */
    static void timeWait(StringBuilder b, StackSnapshot s) {
        long overflow = s.total(Stat.TCP_TIME_WAIT_OVERFLOW);
        long held = s.connectionsByState().getOrDefault(TIME_WAIT, 0L);
        if (held == 0 && overflow == 0) {
            return;
        }
        StringJoiner j = new StringJoiner(", ");
        for (StackSnapshot.Core c : s.cores()) {
            j.add("core" + c.core() + " " + c.connectionsByState().getOrDefault(TIME_WAIT, 0L));
        }
        b.append("  of which TIME_WAIT entries: ").append(j).append("; ended early (table full): ").append(overflow)
                .append('\n');
    }

    /** The ss-like detail line of one connection. */
    static String details(TcpConnectionInfo t) {
        StringJoiner j = new StringJoiner(" ");
        if (t.congestionControl() != null) {
            j.add(t.congestionControl());
        }
        j.add(String.format(Locale.ROOT, "rtt:%s/%s", ms(t.srttNanos()), ms(t.rttvarNanos())));
        j.add("rto:" + ms(t.rtoNanos()));
        j.add("mss:" + t.mss());
        j.add("cwnd:" + t.cwnd());
        j.add("ssthresh:" + (t.ssthreshUnset() ? "-" : Integer.toString(t.ssthresh())));
        j.add("snd_wnd:" + t.sendWindow());
        j.add("unacked:" + t.unacked());
        j.add("bytes_sent:" + t.bytesOut());
        j.add("bytes_received:" + t.bytesIn());
        j.add("retrans:" + t.retransmits());
        return j.toString();
    }

    /** Milliseconds with three decimals, as ss prints RTTs. */
    static String ms(long nanos) {
        return String.format(Locale.ROOT, "%.3f", nanos / 1e6);
    }

    /** The ARP table like {@code ip neigh}, replicas merged, with the cores holding each entry. */
    static void arp(StringBuilder b, StackSnapshot s) {
        List<Neighbour> ns = neighbours(s);
        b.append("ARP table: ").append(ns.size()).append(ns.size() == 1 ? " entry\n" : " entries\n");
        if (ns.isEmpty()) {
            return;
        }
        boolean dev = s.multiInterface();
        b.append(String.format("  %-15s %-17s %-10s %9s %6s  %s%s%n", "Address", "HWaddress", "State", "Expires",
                "Queued", "Cores", dev ? "  Device" : ""));
        for (Neighbour n : ns) {
            b.append(String.format(Locale.ROOT, "  %-15s %-17s %-10s %9s %6d  %s%s%n", Ipv4.toString(n.address()),
                    n.mac() < 0 ? "-" : Ethernet.macToString(n.mac()), n.state(),
                    n.mac() < 0 ? "-" : String.format(Locale.ROOT, "%.1f s", n.expiresInNanos() / 1e9),
                    queued(s, n.address()), join(n.cores()), dev ? "  " + n.iface() : ""));
        }
    }

    private static int queued(StackSnapshot s, int address) {
        int q = 0;
        for (StackSnapshot.Core c : s.cores()) {
            for (ArpEntryInfo e : c.arp()) {
                if (e.address() == address) {
                    q += e.queued();
                }
            }
        }
        return q;
    }

    /**
     * The devices' own counters, one line each, a counter per line below it:
     * {@code veth0 xdp driver/copy} then {@code   xdp_rx_dropped   0}.
     */
    static void devices(StringBuilder b, List<DeviceCounters> devices) {
        b.append("Devices (kernel counters):\n");
        for (DeviceCounters d : devices) {
            b.append(String.format(Locale.ROOT, "  %s %s mode %s%n", d.device(), d.kind(), d.mode()));
            for (Map.Entry<String, Long> e : d.counters().entrySet()) {
                b.append(String.format(Locale.ROOT, "    %-28s %14d%n", e.getKey(), e.getValue()));
            }
        }
    }

    /** The interfaces like {@code ip -s link}: address, MAC, MTU, frames and bytes each way, drops (a router's). */
    static void interfaces(StringBuilder b, StackSnapshot s) {
        b.append("Interfaces:\n");
        b.append(String.format("  %-15s %-18s %-17s %5s %12s %14s %12s %14s %9s%n", "Device", "Address", "MAC", "MTU",
                "RX frames", "RX bytes", "TX frames", "TX bytes", "TX drops"));
        for (InterfaceInfo i : s.interfaces()) {
            b.append(String.format(Locale.ROOT, "  %-15s %-18s %-17s %5d %12d %14d %12d %14d %9d%n", i.name(),
                    i.addressText(), Ethernet.macToString(i.mac()), i.mtu(), i.rxFrames(), i.rxBytes(), i.txFrames(),
                    i.txBytes(), i.txDrops()));
        }
    }

    /** The routes like {@code ip route}. */
    static void routes(StringBuilder b, StackSnapshot s) {
        StackConfig c = s.config();
        b.append("Routes:\n");
        if (s.multiInterface()) {
            b.append(String.format("  %-18s %-15s %-15s %-15s %s%n", "Destination", "Gateway", "Device", "Source", "Kind"));
            for (RouteInfo r : s.routes()) {
                int src = s.interfaces().stream().filter(i -> i.name().equals(r.iface())).mapToInt(InterfaceInfo::address)
                        .findFirst().orElse(c.address);
                b.append(String.format("  %-18s %-15s %-15s %-15s %s%n", r.destination(),
                        r.gateway() == 0 ? "-" : Ipv4.toString(r.gateway()), r.iface(), Ipv4.toString(src), r.kind()));
            }
            return;
        }
        b.append(String.format("  %-18s %-15s %-15s %-15s %s", "Destination", "Gateway", "Device", "Source", "Kind"))
                .append('\n');
        for (Route r : routes(c)) {
            b.append(String.format("  %-18s %-15s %-15s %-15s %s%n", r.destinationText(),
                    r.connected() ? "-" : Ipv4.toString(r.gateway()), s.device(), Ipv4.toString(c.address),
                    r.connected() ? "connected" : "gateway").stripTrailing()).append('\n');
        }
    }

    private static String join(List<Integer> cores) {
        StringJoiner j = new StringJoiner(",");
        for (int c : cores) {
            j.add(Integer.toString(c));
        }
        return j.toString();
    }

    // ------------------------------------------------------------------ JSON

    private static Json.Obj byState(Map<String, Long> m) {
        Json.Obj o = Json.obj();
        m.forEach(o::put);
        return o;
    }

    /**
     * The whole report as one JSON object on one line, first {@code "tool": "flowstack stats"}
     * and {@code "format"} (the version of the fields, {@link Json#FORMAT}, as bench's). Every
     * counter is present (zeros too), as
     * {@code {"total": N, "per_core": [n0, n1, ...]}}; times are in microseconds
     * ({@code _us}) or milliseconds ({@code _ms}). {@code connections_summary} counts the
     * connections ({@code total}, {@code by_state}, {@code per_core}, {@code listeners}, and
     * {@code selected}: how many the query matched); {@code connections} lists only those the
     * snapshot's query selected (none unless asked: {@code stack stats --json --connections}).
     */
    public static String json(StackSnapshot s) {
        return json(s, List.of());
    }

    /** {@link #json(StackSnapshot)} with a {@code devices} array of the devices' own counters. */
    public static String json(StackSnapshot s, List<DeviceCounters> devices) {
        StackConfig c = s.config();
        Json.Obj counters = Json.obj();
        for (Stat st : Stat.values()) {
            List<Long> perCore = new ArrayList<>();
            for (StackSnapshot.Core core : s.cores()) {
                perCore.add(core.get(st));
            }
            counters.put(st.key(), Json.obj().put("total", s.total(st)).put("per_core", perCore).put("drop", st.isDrop()));
        }
        List<Json.Obj> load = new ArrayList<>();
        for (StackSnapshot.Core core : s.cores()) {
            List<Json.Obj> buckets = new ArrayList<>();
            for (int bucket : core.buckets()) {
                buckets.add(Json.obj().put("bucket", bucket).put("frames", core.bucketPackets()[bucket]));
            }
            load.add(Json.obj().put("core", core.core()).put("frames", core.ownedPackets()).put("buckets", buckets));
        }
        Json.Obj summary = Json.obj().put("total", s.connectionCount()).put("by_state", byState(s.connectionsByState()));
        List<Json.Obj> perCore = new ArrayList<>();
        for (StackSnapshot.Core core : s.cores()) {
            perCore.add(Json.obj().put("core", core.core()).put("total", core.connectionCount())
                    .put("by_state", byState(core.connectionsByState())));
        }
        List<Integer> listening = new ArrayList<>();
        for (int p : s.listeners()) {
            listening.add(p);
        }
        summary.put("per_core", perCore).put("listeners", listening).put("selected", s.matchedConnections());
        List<Json.Obj> connections = new ArrayList<>();
        for (TcpConnectionInfo t : s.connections()) {
            connections.add(Json.obj()
                    .put("state", t.state())
                    .put("local_address", Ipv4.toString(t.localAddress()))
                    .put("local_port", t.localPort())
                    .put("remote_address", Ipv4.toString(t.remoteAddress()))
                    .put("remote_port", t.remotePort())
                    .put("core", t.core())
                    .put("congestion_control", t.congestionControl())
                    .put("srtt_us", t.srttNanos() / 1000)
                    .put("rttvar_us", t.rttvarNanos() / 1000)
                    .put("rto_ms", t.rtoNanos() / 1_000_000)
                    .put("mss", t.mss())
                    .put("cwnd", t.cwnd())
                    .put("ssthresh", t.ssthreshUnset() ? null : t.ssthresh())
                    .put("snd_wnd", t.sendWindow())
                    .put("unacked", t.unacked())
                    .put("bytes_sent", t.bytesOut())
                    .put("bytes_received", t.bytesIn())
                    .put("retransmits", t.retransmits()));
        }
        List<Json.Obj> arp = new ArrayList<>();
        for (Neighbour n : neighbours(s)) {
            List<Integer> cores = new ArrayList<>();
            for (int core : n.cores()) {
                cores.add(core);
            }
            arp.add(Json.obj().put("address", Ipv4.toString(n.address()))
                    .put("mac", n.mac() < 0 ? null : Ethernet.macToString(n.mac()))
                    .put("state", n.state()).put("expires_ms", n.expiresInNanos() / 1_000_000).put("cores", cores)
                    .put("device", n.iface()));
        }
        List<Json.Obj> ifaces = new ArrayList<>();
        for (InterfaceInfo i : s.interfaces()) {
            ifaces.add(Json.obj().put("device", i.name()).put("address", i.addressText())
                    .put("mac", Ethernet.macToString(i.mac())).put("mtu", i.mtu())
                    .put("rx_frames", i.rxFrames()).put("rx_bytes", i.rxBytes()).put("tx_frames", i.txFrames())
                    .put("tx_bytes", i.txBytes()).put("tx_drops", i.txDrops()));
        }
        List<Json.Obj> routes = new ArrayList<>();
        for (RouteInfo r : s.multiInterface() ? s.routes() : List.<RouteInfo>of()) {
            routes.add(Json.obj().put("destination", r.prefixLength() == 0 ? "0.0.0.0/0" : r.destination())
                    .put("gateway", r.gateway() == 0 ? null : Ipv4.toString(r.gateway()))
                    .put("device", r.iface()).put("kind", r.kind()).put("connected", r.gateway() == 0));
        }
        for (Route r : s.multiInterface() ? List.<Route>of() : routes(c)) {
            routes.add(Json.obj().put("destination", Ipv4.toString(r.destination()) + "/" + r.prefixLength())
                    .put("gateway", r.connected() ? null : Ipv4.toString(r.gateway()))
                    .put("device", s.device()).put("source", Ipv4.toString(c.address))
                    .put("connected", r.connected()));
        }
        Json.Obj doc = Json.document("stats")
                .put("device", s.device())
                .put("address", Ipv4.toString(c.address))
                .put("prefix_length", c.prefixLength)
                .put("mac", Ethernet.macToString(c.mac))
                .put("gateway", c.gateway != 0 ? Ipv4.toString(c.gateway) : null)
                .put("mtu", s.mtu())
                .put("cores", s.cores().size())
                .put("time_ms", s.timeMillis())
                .put("counters", counters)
                .put("drops", s.drops(-1))
                .put("load", load)
                .put("connections_summary", summary)
                .put("connections", connections)
                .put("interfaces", ifaces)
                .put("arp", arp)
                .put("routes", routes);
        if (!devices.isEmpty()) {
            List<Json.Obj> ds = new ArrayList<>();
            for (DeviceCounters d : devices) {
                Json.Obj kc = Json.obj();
                d.counters().forEach(kc::put);
                ds.add(Json.obj().put("device", d.device()).put("kind", d.kind()).put("mode", d.mode())
                        .put("counters", kc));
            }
            doc.put("devices", ds);
        }
        return doc.toString();
    }
}
