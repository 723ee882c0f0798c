package io.flowstack.core.route;

import io.flowstack.core.wire.Ipv4;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * The next hops a {@link RouteTable} answers with: index to (interface index, gateway address or
 * 0 for on-link, {@link RouteKind}), in primitive arrays the forwarding path reads without
 * allocating. Deduplicated and reference-counted: every route through the same gateway on the
 * same interface shares one index ({@link #acquire}), and an index returns to a free list when
 * its last route goes ({@link #release}), so the index space stays as small as the number of
 * distinct next hops, not of routes.
 *
 * <p>Owned by: the thread that owns the {@link Fib} it belongs to (a core's netisr). Not thread
 * safe.
 */
public final class NextHops {
    private int[] ifIndex = new int[8];
    private int[] gateway = new int[8];
    private byte[] kind = new byte[8];
    /** Routes using each index; 0 for a free index. */
    private int[] refs = new int[8];
    private int[] free = new int[8];
    private int freeCount;
    /** Indices handed out so far (the high-water mark: free ones below it are on the free list). */
    private int top;
    private int inUse;
    private final Map<Key, Integer> byKey = new HashMap<>();

    private record Key(int ifIndex, int gateway, RouteKind kind) {
    }

    /** An empty table. */
    public NextHops() {
    }

    /**
     * The index of the next hop (interface, gateway, kind), a new one if no route uses it yet;
     * counts one more route using it. Allocates (control path).
     *
     * @param ifIndex the outgoing interface, >= 0
     * @param gateway the neighbour to send to, or 0 for on-link (the destination itself)
     * @param kind {@link RouteKind#CONNECTED} requires gateway 0
     * @throws IllegalArgumentException for a negative interface or a connected route with a gateway
     */
    public int acquire(int ifIndex, int gateway, RouteKind kind) {
        if (ifIndex < 0) {
            throw new IllegalArgumentException("interface index must be >= 0, got " + ifIndex);
        }
        if (kind == RouteKind.CONNECTED && gateway != 0) {
            throw new IllegalArgumentException("a connected route is on-link: gateway "
                    + Ipv4.toString(gateway) + " not allowed");
        }
        Key key = new Key(ifIndex, gateway, kind);
        Integer at = byKey.get(key);
        if (at != null) {
            refs[at]++;
            return at;
        }
        int nh;
        if (freeCount > 0) {
            nh = free[--freeCount];
        } else {
            if (top > RouteTable.MAX_NEXT_HOP) {
                throw new IllegalStateException("next-hop table full (" + top + " distinct next hops)");
            }
            nh = top++;
            if (nh == refs.length) {
                int n = refs.length * 2;
                this.ifIndex = Arrays.copyOf(this.ifIndex, n);
                this.gateway = Arrays.copyOf(this.gateway, n);
                this.kind = Arrays.copyOf(this.kind, n);
                refs = Arrays.copyOf(refs, n);
                free = Arrays.copyOf(free, n);
            }
        }
        this.ifIndex[nh] = ifIndex;
        this.gateway[nh] = gateway;
        this.kind[nh] = (byte) kind.ordinal();
        refs[nh] = 1;
        inUse++;
        byKey.put(key, nh);
        return nh;
    }

    /**
     * Counts one route fewer using {@code nextHop}; at none its index becomes free for reuse.
     *
     * @throws IllegalArgumentException if the index is not in use
     */
    public void release(int nextHop) {
        checkInUse(nextHop);
        if (--refs[nextHop] == 0) {
            byKey.remove(new Key(ifIndex[nextHop], gateway[nextHop], kind(nextHop)));
            free[freeCount++] = nextHop;
            inUse--;
        }
    }

    /** The outgoing interface of next hop {@code nextHop} (an index the table handed out). */
    public int ifIndex(int nextHop) {
        return ifIndex[nextHop];
    }

    /** The gateway of next hop {@code nextHop}, or 0 if on-link. */
    public int gateway(int nextHop) {
        return gateway[nextHop];
    }

    /**
     * The address to resolve with ARP for a datagram to {@code dst} through {@code nextHop}: the
     * gateway, or {@code dst} itself on-link (RFC 1812 5.2.1: the next hop is the gateway of the
     * route, or the destination when it is on a directly connected network).
     */
    public int neighbour(int nextHop, int dst) {
        int g = gateway[nextHop];
        return g != 0 ? g : dst;
    }

    /** The kind of route next hop {@code nextHop} serves. */
    public RouteKind kind(int nextHop) {
        return RouteKind.of(kind[nextHop]);
    }

    /** Routes using {@code nextHop} (0 if it is free). */
    public int refs(int nextHop) {
        return nextHop >= 0 && nextHop < top ? refs[nextHop] : 0;
    }

    /** Next hops in use. */
    public int size() {
        return inUse;
    }

    /** One more than the highest index handed out: the index space the forwarding path sees. */
    public int indexLimit() {
        return top;
    }

    /** Bytes of the arrays (headers and the deduplication map aside). */
    public long bytes() {
        return refs.length * 17L;
    }

    private void checkInUse(int nextHop) {
        if (nextHop < 0 || nextHop >= top || refs[nextHop] == 0) {
            throw new IllegalArgumentException("next hop " + nextHop + " is not in use");
        }
    }
}
