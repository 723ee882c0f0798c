package io.flowstack.tools.stats;

import io.flowstack.core.config.StackConfig;
import io.flowstack.core.stats.StackSnapshot;
import io.flowstack.core.stats.ArpEntryInfo;
import io.flowstack.core.stats.Stat;
import io.flowstack.core.stats.TcpConnectionInfo;
import io.flowstack.core.wire.Ethernet;
import io.flowstack.core.wire.Ipv4;
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
    public record Neighbour(int address, long mac, String state, long expiresInNanos, List<Integer> cores) {
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
                m.put(key, new Neighbour(e.address(), e.mac(), e.state(), e.expiresInNanos(), cores));
            } else {
                n.cores().add(e.core());
                if (e.expiresInNanos() < n.expiresInNanos()) {
                    m.put(key, new Neighbour(n.address(), n.mac(), n.state(), e.expiresInNanos(), n.cores()));
                }
            }
        }
        return new ArrayList<>(m.values());
    }

    // ------------------------------------------------------------------ text

    /** The whole report as text. */
    public static String text(StackSnapshot s) {
        StringBuilder b = new StringBuilder(8192);
        StackConfig c = s.config();
        b.append(String.format("flowstack %s: %s/%d mac %s mtu %d cores %d, at %s%n", s.device(),
                Ipv4.toString(c.address), c.prefixLength, Ethernet.macToString(c.mac), s.mtu(), s.cores().size(),
                TIME.format(Instant.ofEpochMilli(s.timeMillis()))));
        b.append('\n');
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

    /** Connections like {@code ss -tni}: one line of addresses, one indented line of TCP internals. */
    static void connections(StringBuilder b, StackSnapshot s) {
        List<TcpConnectionInfo> all = s.connections();
        b.append("TCP connections: ").append(all.size()).append('\n');
        if (all.isEmpty()) {
            return;
        }
        b.append(String.format("  %-12s %-21s %-21s %4s%n", "State", "Local", "Peer", "Core"));
        for (TcpConnectionInfo t : all) {
            b.append(String.format("  %-12s %-21s %-21s %4d%n", t.state(),
                    Ipv4.toString(t.localAddress()) + ":" + t.localPort(),
                    Ipv4.toString(t.remoteAddress()) + ":" + t.remotePort(), t.core()));
            b.append("\t ").append(details(t)).append('\n');
        }
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
        b.append(String.format("  %-15s %-17s %-10s %9s %6s  %s%n", "Address", "HWaddress", "State", "Expires",
                "Queued", "Cores"));
        for (Neighbour n : ns) {
            b.append(String.format(Locale.ROOT, "  %-15s %-17s %-10s %9s %6d  %s%n", Ipv4.toString(n.address()),
                    n.mac() < 0 ? "-" : Ethernet.macToString(n.mac()), n.state(),
                    n.mac() < 0 ? "-" : String.format(Locale.ROOT, "%.1f s", n.expiresInNanos() / 1e9),
                    queued(s, n.address()), join(n.cores())));
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

    /** The routes like {@code ip route}. */
    static void routes(StringBuilder b, StackSnapshot s) {
        StackConfig c = s.config();
        b.append("Routes:\n");
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

    /**
     * The whole report as one JSON object on one line. Every counter is present (zeros too), as
     * {@code {"total": N, "per_core": [n0, n1, ...]}}; times are in microseconds
     * ({@code _us}) or milliseconds ({@code _ms}).
     */
    public static String json(StackSnapshot s) {
        StackConfig c = s.config();
        Json j = new Json().beginObject();
        j.field("device", s.device());
        j.field("address", Ipv4.toString(c.address));
        j.field("prefix_length", c.prefixLength);
        j.field("mac", Ethernet.macToString(c.mac));
        j.name("gateway");
        if (c.gateway != 0) {
            j.value(Ipv4.toString(c.gateway));
        } else {
            j.nullValue();
        }
        j.field("mtu", s.mtu());
        j.field("cores", s.cores().size());
        j.field("time_ms", s.timeMillis());
        j.name("counters").beginObject();
        for (Stat st : Stat.values()) {
            j.name(st.key()).beginObject().field("total", s.total(st)).name("per_core").beginArray();
            for (StackSnapshot.Core core : s.cores()) {
                j.value(core.get(st));
            }
            j.endArray().field("drop", st.isDrop()).endObject();
        }
        j.endObject();
        j.field("drops", s.drops(-1));
        j.name("load").beginArray();
        for (StackSnapshot.Core core : s.cores()) {
            j.beginObject().field("core", core.core()).field("frames", core.ownedPackets()).name("buckets").beginArray();
            for (int bucket : core.buckets()) {
                j.beginObject().field("bucket", bucket).field("frames", core.bucketPackets()[bucket]).endObject();
            }
            j.endArray().endObject();
        }
        j.endArray();
        j.name("connections").beginArray();
        for (TcpConnectionInfo t : s.connections()) {
            j.beginObject()
                    .field("state", t.state())
                    .field("local_address", Ipv4.toString(t.localAddress()))
                    .field("local_port", t.localPort())
                    .field("remote_address", Ipv4.toString(t.remoteAddress()))
                    .field("remote_port", t.remotePort())
                    .field("core", t.core())
                    .field("congestion_control", t.congestionControl())
                    .field("srtt_us", t.srttNanos() / 1000)
                    .field("rttvar_us", t.rttvarNanos() / 1000)
                    .field("rto_ms", t.rtoNanos() / 1_000_000)
                    .field("mss", t.mss())
                    .field("cwnd", t.cwnd());
            j.name("ssthresh");
            if (t.ssthreshUnset()) {
                j.nullValue();
            } else {
                j.value(t.ssthresh());
            }
            j.field("snd_wnd", t.sendWindow())
                    .field("unacked", t.unacked())
                    .field("bytes_sent", t.bytesOut())
                    .field("bytes_received", t.bytesIn())
                    .field("retransmits", t.retransmits())
                    .endObject();
        }
        j.endArray();
        j.name("arp").beginArray();
        for (Neighbour n : neighbours(s)) {
            j.beginObject().field("address", Ipv4.toString(n.address()));
            j.name("mac");
            if (n.mac() < 0) {
                j.nullValue();
            } else {
                j.value(Ethernet.macToString(n.mac()));
            }
            j.field("state", n.state()).field("expires_ms", n.expiresInNanos() / 1_000_000).name("cores").beginArray();
            for (int core : n.cores()) {
                j.value(core);
            }
            j.endArray().endObject();
        }
        j.endArray();
        j.name("routes").beginArray();
        for (Route r : routes(c)) {
            j.beginObject().field("destination", Ipv4.toString(r.destination()) + "/" + r.prefixLength());
            j.name("gateway");
            if (r.connected()) {
                j.nullValue();
            } else {
                j.value(Ipv4.toString(r.gateway()));
            }
            j.field("device", s.device()).field("source", Ipv4.toString(c.address))
                    .field("connected", r.connected()).endObject();
        }
        j.endArray();
        return j.endObject().toString();
    }
}
