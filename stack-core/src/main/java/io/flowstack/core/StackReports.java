package io.flowstack.core;

import io.flowstack.core.flow.IndirectionTable;
import io.flowstack.core.netisr.Netisr;
import io.flowstack.core.config.Interfaces;
import io.flowstack.core.stats.ArpEntryInfo;
import io.flowstack.core.stats.InterfaceInfo;
import io.flowstack.core.stats.ConnectionQuery;
import io.flowstack.core.stats.StackSnapshot;
import io.flowstack.core.stats.Stat;
import io.flowstack.core.stats.TcpConnectionInfo;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * What {@link FlowStack#snapshot} and {@link FlowStack#countersReport} read from the cores:
 * one core's snapshot (taken on its own netisr) and the per-core counter table. Control path:
 * allocates.
 *
 * <p>Stateless; {@link #core} runs on the netisr it reads, {@link #counters} on any thread
 * (counters are single-writer and read without locks).
 */
final class StackReports {
    private StackReports() {}

    /** Core {@code n}'s counters, connections ({@code query}'s rows, all counted), ARP replica and buckets; on its netisr. */
    static StackSnapshot.Core core(Netisr n, ConnectionQuery query) {
        Stat[] stats = Stat.values();
        long[] values = new long[stats.length];
        for (int j = 0; j < stats.length; j++) {
            values[j] = n.counters().get(stats[j]);
        }
        List<TcpConnectionInfo> conns = new ArrayList<>();
        Map<String, Long> byState = new LinkedHashMap<>();
        long matched = n.tcp().snapshot(query, conns, byState);
        long count = byState.values().stream().mapToLong(Long::longValue).sum();
        List<ArpEntryInfo> arp = new ArrayList<>();
        for (int i = 0; i < n.interfaces().count(); i++) {
            n.arp(i).snapshot(arp);
        }
        IndirectionTable t = n.table();
        int[] owned = IntStream.range(0, t.size()).filter(b -> t.owner(b) == n.core()).toArray();
        long[] perBucket = new long[t.size()];
        for (int b = 0; b < perBucket.length; b++) {
            perBucket[b] = n.bucketPackets(b);
        }
        return new StackSnapshot.Core(n.core(), values, count, byState, matched, conns,
                n.tcp().listenerPorts(), arp, owned, perBucket);
    }

    /** One row per non-zero counter, one column per core and a total; platform line separators. */
    static String counters(Netisr[] cores) {
        StringBuilder b = new StringBuilder();
        b.append(String.format("%-22s", "counter"));
        for (int i = 0; i < cores.length; i++) {
            b.append(String.format(" %12s", "core" + i));
        }
        b.append(String.format(" %12s%n", "total"));
        for (Stat s : Stat.values()) {
            long total = 0;
            for (Netisr n : cores) {
                total += n.counters().get(s);
            }
            if (total == 0) {
                continue;
            }
            b.append(String.format("%-22s", s.key()));
            for (Netisr n : cores) {
                b.append(String.format(" %12d", n.counters().get(s)));
            }
            b.append(String.format(" %12d%n", total));
        }
        return b.toString();
    }

    /** Frames each core processed per bucket: {@code result[core][bucket]} (any thread; opaque reads). */
    static long[][] bucketPackets(Netisr[] cores, int buckets) {
        long[][] r = new long[cores.length][buckets];
        for (int c = 0; c < cores.length; c++) {
            for (int b = 0; b < buckets; b++) {
                r[c][b] = cores[c].bucketPackets(b);
            }
        }
        return r;
    }

    /** {@link FlowStack#snapshot(ConnectionQuery)}: each core's part, copied on its netisr, and the interfaces and routes. */
    static StackSnapshot snapshot(FlowStack stack, ConnectionQuery query) {
        int cores = stack.cores();
        Interfaces ifs = stack.interfaces();
        List<StackSnapshot.Core> list = new ArrayList<>(cores);
        long[][] sums = new long[ifs.count()][5];
        for (int i = 0; i < cores; i++) {
            // one visit per core: its part and its interface counters (added here on its netisr;
            // call() returns after, so the caller sees the sums)
            list.add(stack.call(i, n -> {
                for (int k = 0; k < sums.length; k++) {
                    long[] c = n.interfaceCounters(k);
                    for (int j = 0; j < c.length; j++) {
                        sums[k][j] += c[j];
                    }
                }
                return core(n, query);
            }));
        }
        List<InterfaceInfo> infos = new ArrayList<>(ifs.count());
        for (int k = 0; k < ifs.count(); k++) {
            infos.add(new InterfaceInfo(ifs.name(k), ifs.address(k), ifs.prefixLength(k), ifs.mac(k), ifs.mtu(k),
                    sums[k][0], sums[k][1], sums[k][2], sums[k][3], sums[k][4]));
        }
        return new StackSnapshot(ifs.name(0), stack.config(), stack.netisr(0).mtu(), System.currentTimeMillis(), query,
                list, infos, stack.routes().list());
    }
}
