package io.flowstack.tools.stats;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One device's own counters for {@code stack stats}, kept by the kernel rather than the stack
 * (an AF_XDP interface's {@code XDP_STATISTICS} and the mode its program and sockets run in),
 * read on the control thread when a report is asked for.
 *
 * <p>Owned by: nobody (immutable).
 *
 * @param device the interface's name
 * @param kind how the stack reaches it, e.g. {@code xdp}
 * @param mode the mode it runs in, e.g. {@code driver/copy}
 * @param counters name and value of each counter, in report order
 */
public record DeviceCounters(String device, String kind, String mode, Map<String, Long> counters) {
    /** Copies the counters (keeping their order). */
    public DeviceCounters {
        counters = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(counters));
    }
}
