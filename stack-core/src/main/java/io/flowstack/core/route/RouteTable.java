package io.flowstack.core.route;

import io.flowstack.core.wire.Ipv4;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Longest-prefix match of IPv4 destinations (RFC 1812 5.2.4.3, "the longest match": of the
 * routes whose prefix matches the destination, the one with the longest prefix wins) in a
 * DIR-16-8-8 multibit trie of int arrays on the heap.
 *
 * <p><b>Structure.</b> {@code tbl16} has an entry for each of the 65,536 /16s (256 KiB). An entry
 * is either a <em>leaf</em> (bit 31 clear: bits 0-23 hold the next-hop index + 1, 0 meaning no
 * route, and bits 24-29 the length of the rule that wrote it) or a <em>group</em> (bit 31 set: the
 * low 31 bits are the offset in {@code tbl8} of a block of 256 entries, one for each next 8 bits
 * of the address). A /16 gets a group only while a rule longer than /16 lies in it, and an entry
 * of that group points to a third-level group only while a rule longer than /24 lies in that /24;
 * both levels share {@code tbl8}, 1 KiB per group, taken from a free list and returned to it when
 * the last longer rule goes. A lookup reads one, two or three ints ({@link #lookup}).
 *
 * <p><b>Updates</b> follow DPDK's rte_lpm: writing a rule of length {@code d} sets every leaf of
 * its range whose recorded length is {@code <= d} (so longer rules inside it keep their answers);
 * removing it sets every leaf of its range whose recorded length is {@code d} to the answer of
 * the longest remaining rule that covers it (found among the shorter rules of
 * {@link RouteRules}), or to no route. Both touch only the rule's own range: at most 2^16
 * entries of {@code tbl16} for a short prefix plus the groups beneath them.
 *
 * <p><b>Why the heap:</b> the lookup indexes an {@code int[]} (one well-predicted bounds check
 * a read), and an int array holds no references for the GC to trace; off-heap memory would add a
 * segment bounds and liveness check per read and an arena to close, for no gain at a quarter of
 * a megabyte per replica.
 *
 * <p>Next hops are plain indices here (0 .. {@link #MAX_NEXT_HOP}); {@link Fib} pairs the table
 * with the {@link NextHops} they index.
 *
 * <p>Owned by: one thread, a core's netisr (each core has its own replica and applies route
 * changes to it itself, by message: docs/ROUTER.md). Not thread safe; {@link #lookup} allocates
 * nothing.
 */
public final class RouteTable {
    /** {@link #lookup}'s answer when no route matches. */
    public static final int NO_ROUTE = -1;
    /** The largest next-hop index a leaf can hold (24 bits store index + 1). */
    public static final int MAX_NEXT_HOP = (1 << 24) - 2;
    /** Entries in a group (the 8 address bits of one level). */
    static final int GROUP_SIZE = 256;
    /** The most groups tbl8 can hold (an int array of at most 2^31 - 9 entries). */
    public static final int MAX_GROUPS = (Integer.MAX_VALUE - 8) / GROUP_SIZE;

    private static final int GROUP = 0x8000_0000;
    private static final int BASE = 0x7FFF_FFFF;
    private static final int NEXT_HOP_BITS = 0x00FF_FFFF;
    private static final int DEPTH_SHIFT = 24;

    private final int[] tbl16 = new int[1 << 16];
    /** Groups of 256 entries, second and third level alike; grows by half when the free list is empty. */
    private int[] tbl8 = new int[0];
    /** Per group: the rules longer than its level (/16 or /24) inside its range. */
    private int[] groupRefs = new int[0];
    private int[] freeGroups = new int[0];
    private int freeCount;
    private int groupsInUse;
    private final RouteRules rules = new RouteRules();

    /** An empty table: every lookup answers {@link #NO_ROUTE}. Room for 16 groups to start. */
    public RouteTable() {
        this(16);
    }

    /**
     * An empty table with room for {@code groups} groups before {@code tbl8} has to grow: a
     * growth allocates and copies the whole array on the owning core (40-140 ms measured at
     * 50,000 groups, docs/ROUTER.md), so a router expecting a large table sizes it up front.
     *
     * @param groups 0 or more; each costs 1 KiB whether in use or not
     */
    public RouteTable(int groups) {
        if (groups < 0 || groups > MAX_GROUPS) {
            throw new IllegalArgumentException("groups must be 0.." + MAX_GROUPS + ", got " + groups);
        }
        grow(groups);
    }

    /**
     * The next-hop index of the longest rule matching {@code dst} (RFC 1812 5.2.4.3), or
     * {@link #NO_ROUTE}. One to three array reads; no allocation.
     */
    public int lookup(int dst) {
        int e = tbl16[dst >>> 16];
        if (e < 0) {
            e = tbl8[(e & BASE) + ((dst >>> 8) & 0xFF)];
            if (e < 0) {
                e = tbl8[(e & BASE) + (dst & 0xFF)];
            }
        }
        return (e & NEXT_HOP_BITS) - 1;
    }

    /**
     * Adds the rule {@code prefix/length -> nextHop}, replacing the next hop of an existing rule
     * of the same prefix and length. Allocates only when a new group is needed.
     *
     * @param prefix the network, host bits zero (198.18.0.0 for 198.18.0.0/15)
     * @param length 0..32; 0 is the default route
     * @param nextHop 0..{@link #MAX_NEXT_HOP}
     * @return the next hop the rule had before, or -1 if the rule is new
     * @throws IllegalArgumentException for a length out of 0..32, host bits set in the prefix, or
     *     a next hop out of range
     */
    public int add(int prefix, int length, int nextHop) {
        checkRule(prefix, length);
        if (nextHop < 0 || nextHop > MAX_NEXT_HOP) {
            throw new IllegalArgumentException("next hop must be 0.." + MAX_NEXT_HOP + ", got " + nextHop);
        }
        int old = rules.put(prefix, length, nextHop);
        int v = leaf(nextHop, length);
        if (length <= 16) {
            int from = prefix >>> 16;
            int to = from + (1 << (16 - length));
            for (int i = from; i < to; i++) {
                tbl16[i] = cover(tbl16[i], length, v);
            }
            return old;
        }
        int i = prefix >>> 16;
        if (tbl16[i] >= 0) {
            int base = newGroup(tbl16[i]);
            tbl16[i] = GROUP | base;
        }
        int base2 = tbl16[i] & BASE;
        if (old < 0) {
            groupRefs[base2 / GROUP_SIZE]++;
        }
        if (length <= 24) {
            int from = base2 + ((prefix >>> 8) & 0xFF);
            int to = from + (1 << (24 - length));
            for (int j = from; j < to; j++) {
                tbl8[j] = cover(tbl8[j], length, v);
            }
            return old;
        }
        int j = base2 + ((prefix >>> 8) & 0xFF);
        if (tbl8[j] >= 0) {
            int base = newGroup(tbl8[j]); // may grow tbl8: read the field again below
            tbl8[j] = GROUP | base;
        }
        int base3 = tbl8[j] & BASE;
        if (old < 0) {
            groupRefs[base3 / GROUP_SIZE]++;
        }
        int from = base3 + (prefix & 0xFF);
        int to = from + (1 << (32 - length));
        for (int k = from; k < to; k++) {
            if (depth(tbl8[k]) <= length) {
                tbl8[k] = v;
            }
        }
        return old;
    }

    /**
     * Removes the rule {@code prefix/length}; its range answers again as the longest remaining
     * rule that covers it (or no route), and groups no longer needed return to the free list.
     *
     * @return whether there was such a rule
     * @throws IllegalArgumentException for a length out of 0..32 or host bits set in the prefix
     */
    public boolean remove(int prefix, int length) {
        checkRule(prefix, length);
        if (rules.remove(prefix, length) < 0) {
            return false;
        }
        int pv = coveringLeaf(prefix, length);
        if (length <= 16) {
            int from = prefix >>> 16;
            int to = from + (1 << (16 - length));
            for (int i = from; i < to; i++) {
                tbl16[i] = uncover(tbl16[i], length, pv);
            }
            return true;
        }
        int i = prefix >>> 16;
        int base2 = tbl16[i] & BASE;
        if (length <= 24) {
            int from = base2 + ((prefix >>> 8) & 0xFF);
            int to = from + (1 << (24 - length));
            for (int j = from; j < to; j++) {
                tbl8[j] = uncover(tbl8[j], length, pv);
            }
        } else {
            int j = base2 + ((prefix >>> 8) & 0xFF);
            int base3 = tbl8[j] & BASE;
            int from = base3 + (prefix & 0xFF);
            int to = from + (1 << (32 - length));
            for (int k = from; k < to; k++) {
                if (depth(tbl8[k]) == length) {
                    tbl8[k] = pv;
                }
            }
            if (--groupRefs[base3 / GROUP_SIZE] == 0) {
                // no rule longer than /24 is left in this /24: its 256 entries all hold the answer
                // of the /24's longest covering rule, which the parent entry takes back
                tbl8[j] = tbl8[base3];
                freeGroup(base3);
            }
        }
        if (--groupRefs[base2 / GROUP_SIZE] == 0) {
            tbl16[i] = tbl8[base2];
            freeGroup(base2);
        }
        return true;
    }

    /** The next hop of the rule {@code prefix/length}, or -1 if there is no such rule. */
    public int nextHop(int prefix, int length) {
        checkRule(prefix, length);
        return rules.get(prefix, length);
    }

    /** The number of rules. */
    public int size() {
        return rules.size();
    }

    /** Groups of 256 entries in use (second and third level). */
    public int groupsInUse() {
        return groupsInUse;
    }

    /** Groups tbl8 has room for, in use or free. */
    public int groupCapacity() {
        return tbl8.length / GROUP_SIZE;
    }

    /**
     * Bytes of the table's arrays as allocated (lookup arrays at their capacity, free groups
     * included, plus the rules), array headers aside: the memory of one replica.
     */
    public long bytes() {
        return tbl16.length * 4L + tbl8.length * 4L + groupRefs.length * 4L + freeGroups.length * 4L
                + rules.bytes();
    }

    /** One rule of the table. */
    public record Rule(int prefix, int length, int nextHop) {
        @Override
        public String toString() {
            return Ipv4.toString(prefix) + "/" + length + " -> " + nextHop;
        }
    }

    /** The rules, sorted by prefix (unsigned) then length. Allocates (control path). */
    public List<Rule> rules() {
        long[] keys = rules.keys();
        Arrays.sort(keys); // a key is prefix << 6 | length, non-negative: numeric order is the order wanted
        List<Rule> out = new ArrayList<>(keys.length);
        for (long k : keys) {
            int p = RouteRules.prefixOf(k);
            int l = RouteRules.lengthOf(k);
            out.add(new Rule(p, l, rules.get(p, l)));
        }
        return out;
    }

    static void checkRule(int prefix, int length) {
        if (length < 0 || length > 32) {
            throw new IllegalArgumentException("prefix length must be 0..32, got " + length);
        }
        if ((prefix & ~Ipv4.mask(length)) != 0) {
            throw new IllegalArgumentException("invalid prefix " + Ipv4.toString(prefix) + "/" + length
                    + ": host bits set (the network is " + Ipv4.toString(prefix & Ipv4.mask(length)) + "/" + length + ")");
        }
    }

    private static int leaf(int nextHop, int length) {
        return length << DEPTH_SHIFT | (nextHop + 1);
    }

    private static int depth(int leaf) {
        return leaf >>> DEPTH_SHIFT;
    }

    /** The leaf of the longest rule shorter than {@code length} that covers {@code prefix}, or 0 (no route). */
    private int coveringLeaf(int prefix, int length) {
        for (int l = length - 1; l >= 0; l--) {
            int nh = rules.get(prefix & Ipv4.mask(l), l);
            if (nh >= 0) {
                return leaf(nh, l);
            }
        }
        return 0;
    }

    /** Entry {@code e} once a rule of {@code length} with leaf {@code v} covers it (groups: every entry beneath). */
    private int cover(int e, int length, int v) {
        if (e < 0) {
            int base = e & BASE;
            for (int k = base; k < base + GROUP_SIZE; k++) {
                tbl8[k] = cover(tbl8[k], length, v);
            }
            return e;
        }
        return depth(e) <= length ? v : e;
    }

    /** Entry {@code e} once the rule of {@code length} that covered it is gone and {@code pv} answers instead. */
    private int uncover(int e, int length, int pv) {
        if (e < 0) {
            int base = e & BASE;
            for (int k = base; k < base + GROUP_SIZE; k++) {
                tbl8[k] = uncover(tbl8[k], length, pv);
            }
            return e;
        }
        return depth(e) == length ? pv : e;
    }

    /** A group whose 256 entries are all {@code fill} (the leaf it replaces); returns its offset in tbl8. */
    private int newGroup(int fill) {
        if (freeCount == 0) {
            int groups = tbl8.length / GROUP_SIZE;
            if (groups == MAX_GROUPS) {
                throw new IllegalStateException("route table full: " + MAX_GROUPS + " groups in use");
            }
            grow((int) Math.min(MAX_GROUPS - groups, Math.max(16, groups / 4)));
        }
        int g = freeGroups[--freeCount];
        int base = g * GROUP_SIZE;
        Arrays.fill(tbl8, base, base + GROUP_SIZE, fill);
        groupRefs[g] = 0;
        groupsInUse++;
        return base;
    }

    /** Adds {@code more} free groups (a quarter more each time: at most a fifth of tbl8 lies unused). */
    private void grow(int more) {
        int groups = tbl8.length / GROUP_SIZE;
        tbl8 = Arrays.copyOf(tbl8, (groups + more) * GROUP_SIZE);
        groupRefs = Arrays.copyOf(groupRefs, groups + more);
        freeGroups = Arrays.copyOf(freeGroups, groups + more);
        for (int g = groups + more - 1; g >= groups; g--) {
            freeGroups[freeCount++] = g;
        }
    }

    private void freeGroup(int base) {
        freeGroups[freeCount++] = base / GROUP_SIZE;
        groupsInUse--;
    }
}
