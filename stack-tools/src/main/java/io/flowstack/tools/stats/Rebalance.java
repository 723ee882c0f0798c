package io.flowstack.tools.stats;

import io.flowstack.core.FlowStack;
import io.flowstack.core.flow.IndirectionTable;
import io.flowstack.core.stats.Stat;
import io.flowstack.core.socket.StackException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The control socket's rebalancing requests ({@code stack rebalance}): move buckets of the
 * indirection table to a core, or balance the cores by the frames each bucket carried over a
 * sampling window. Every move is {@link FlowStack#moveBucket}: by message, connections included.
 *
 * <p>Stateless; runs on a control-socket client thread.
 */
public final class Rebalance {
    /** The most buckets one balance request moves. */
    static final int MAX_BALANCE_MOVES = 32;

    private Rebalance() {
    }

    /** Answers {@code move CORE B[,B...]} or {@code balance WINDOW_MS}. */
    static String handle(FlowStack stack, String request) {
        String[] w = request.trim().split("\\s+");
        if (w[0].equals("move") && w.length == 3) {
            int core = parse(w[1], "core");
            String[] list = w[2].split(",");
            int[] buckets = new int[list.length];
            for (int i = 0; i < list.length; i++) {
                buckets[i] = parse(list[i], "bucket");
            }
            return move(stack, core, buckets);
        }
        if (w[0].equals("balance") && w.length == 2) {
            long window = parse(w[1], "window");
            if (window < 100 || window > 60_000) {
                throw new IllegalArgumentException("the window must be 100..60000 ms, got " + window);
            }
            return balance(stack, window);
        }
        throw new IllegalArgumentException("bad request '" + request + "': move CORE BUCKET[,BUCKET...] or balance WINDOW_MS");
    }

    private static int parse(String s, String what) {
        try {
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(what + " '" + s + "' is not a number");
        }
    }

    /** Moves each bucket to {@code core}; one line per bucket, then the connections that went along. */
    public static String move(FlowStack stack, int core, int[] buckets) {
        IndirectionTable t = stack.table();
        if (core < 0 || core >= stack.cores()) {
            throw new IllegalArgumentException("core " + core + " does not exist: the stack has cores 0.." + (stack.cores() - 1));
        }
        for (int b : buckets) {
            if (b < 0 || b >= t.size()) {
                throw new IllegalArgumentException("bucket " + b + " does not exist: the table has buckets 0.." + (t.size() - 1));
            }
        }
        StringBuilder out = new StringBuilder();
        long before = stack.total(Stat.TCP_MIGRATED_IN);
        int moved = 0;
        for (int b : buckets) {
            int from = stack.table().owner(b);
            if (from == core) {
                out.append(String.format("bucket %3d: already on core %d%n", b, core));
                continue;
            }
            try {
                stack.moveBucket(b, core);
                moved++;
                out.append(String.format("bucket %3d: core %d -> core %d%n", b, from, core));
            } catch (StackException e) {
                out.append(String.format("bucket %3d: not moved: %s%n", b, e.getMessage()));
            }
        }
        out.append(String.format("%d bucket%s moved; %d TCP connection%s went with them%n", moved, moved == 1 ? "" : "s",
                stack.total(Stat.TCP_MIGRATED_IN) - before, stack.total(Stat.TCP_MIGRATED_IN) - before == 1 ? "" : "s"));
        return out.toString();
    }

    /**
     * Samples the frames every bucket carries for {@code windowMillis}, then repeatedly moves the
     * bucket of the busiest core that best evens it with the idlest one, while that narrows the
     * gap (at most {@value #MAX_BALANCE_MOVES} moves). Reports the loads before and after.
     */
    public static String balance(FlowStack stack, long windowMillis) {
        long[][] a = stack.bucketPackets();
        try {
            Thread.sleep(windowMillis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StackException("interrupted while sampling the load");
        }
        long[][] z = stack.bucketPackets();
        int[] owner = stack.table().owners();
        int cores = stack.cores();
        long[] perBucket = new long[owner.length];
        long[] load = new long[cores];
        for (int b = 0; b < owner.length; b++) {
            for (int c = 0; c < cores; c++) {
                perBucket[b] += z[c][b] - a[c][b];
            }
            load[owner[b]] += perBucket[b];
        }
        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "frames per core over %d ms: %s%n", windowMillis, loads(load)));
        long all = 0;
        for (long l : load) {
            all += l;
        }
        if (all == 0) {
            out.append("no traffic in the window: nothing to balance\n");
            return out.toString();
        }
        List<int[]> plan = plan(perBucket, owner, load);
        if (plan.isEmpty()) {
            out.append("already as even as whole buckets allow: nothing moved\n");
            return out.toString();
        }
        long before = stack.total(Stat.TCP_MIGRATED_IN);
        for (int[] m : plan) {
            try {
                stack.moveBucket(m[0], m[2]);
                out.append(String.format("bucket %3d: core %d -> core %d (%d frames in the window)%n", m[0], m[1], m[2],
                        perBucket[m[0]]));
            } catch (StackException e) {
                out.append(String.format("bucket %3d: not moved: %s%n", m[0], e.getMessage()));
            }
        }
        out.append(String.format(Locale.ROOT, "expected frames per core: %s; %d TCP connections moved%n", loads(load),
                stack.total(Stat.TCP_MIGRATED_IN) - before));
        return out.toString();
    }

    /**
     * The greedy plan: while some bucket of the busiest core narrows the gap to the idlest one,
     * move the bucket that narrows it most (at most {@value #MAX_BALANCE_MOVES} moves). Updates
     * {@code owner} and {@code load} to the state after the plan.
     *
     * @param perBucket frames per bucket in the window
     * @param owner     the core of every bucket
     * @param load      frames per core (sum of its buckets)
     * @return the moves, each {bucket, from, to}
     */
    static List<int[]> plan(long[] perBucket, int[] owner, long[] load) {
        List<int[]> plan = new ArrayList<>();
        int cores = load.length;
        for (int i = 0; i < MAX_BALANCE_MOVES; i++) {
            int hi = 0;
            int lo = 0;
            for (int c = 1; c < cores; c++) {
                hi = load[c] > load[hi] ? c : hi;
                lo = load[c] < load[lo] ? c : lo;
            }
            long gap = load[hi] - load[lo];
            int best = -1;
            long bestGap = gap;
            for (int b = 0; b < owner.length; b++) {
                if (owner[b] == hi && perBucket[b] > 0) {
                    long g = Math.abs(gap - 2 * perBucket[b]);
                    if (g < bestGap) {
                        bestGap = g;
                        best = b;
                    }
                }
            }
            if (best < 0) {
                break; // no move narrows the gap
            }
            plan.add(new int[] {best, hi, lo});
            owner[best] = lo;
            load[hi] -= perBucket[best];
            load[lo] += perBucket[best];
        }
        return plan;
    }

    private static String loads(long[] load) {
        long all = 0;
        for (long l : load) {
            all += l;
        }
        StringBuilder b = new StringBuilder();
        for (int c = 0; c < load.length; c++) {
            b.append(c == 0 ? "" : ", ").append("core").append(c).append(' ').append(load[c])
                    .append(String.format(Locale.ROOT, " (%.0f%%)", all == 0 ? 0.0 : 100.0 * load[c] / all));
        }
        return b.toString();
    }
}
