package io.flowstack.core.tcp;

import java.util.Arrays;

/**
 * One core's TIME-WAIT entries (RFC 9293 3.6: a connection's 4-tuple is kept for 2 MSL after an
 * active close), as Linux keeps them in {@code tcp_timewait_sock}: a few numbers per connection
 * instead of its control block, its stream and its buffers.
 *
 * <p>An entry holds the 4-tuple: the local address as its interface's index (at most
 * {@link #MAX_LOCAL_IFS} interfaces) and the key ({@link Tcb#key}: remote address, remote port,
 * local port), SND.NXT and RCV.NXT, the receive window and its scale (for
 * the ACKs it sends and the sequence check), the timestamp state (whether timestamps are on,
 * TS.Recent and when it was recorded: our own TSval is the stack's clock {@code TcpOutput.tsNow}
 * plus the connection's offset, a keyed hash of the 4-tuple ({@link Isn#tsOffset}, RFC 7323
 * 7.1) computed again from the key, so nothing of it needs keeping), the time of the last
 * out-of-window ACK (rate limit) and the expiry.
 *
 * <p>Layout: parallel primitive arrays indexed by slot, no object per entry.
 * <ul>
 *   <li>A <b>ring</b> in insertion order: positions {@code head..tail} (longs, slot =
 *       position modulo the capacity). Every entry lives the same 2 MSL, so insertion order is
 *       expiry order and {@link #expire} only looks at the head. An entry that ends early
 *       (reuse, RST, a restarted timer) leaves a hole the head skips; a restarted entry
 *       ({@link #restart}) is re-inserted at the tail with its new expiry. Entries that arrive
 *       with a moved bucket are appended with their own (earlier) expiry: they may leave the
 *       ring up to one 2 MSL late, but {@link #lookup} never returns an expired entry.</li>
 *   <li>An <b>open-addressing hash</b> (linear probing, at most half full, backward-shift
 *       deletion so no tombstones) from key to slot.</li>
 * </ul>
 * The arrays start small and double (with a rebuild of the hash) up to the first power of two
 * at or above the bound, then never change: insert, lookup, restart and expiry allocate nothing.
 * When the table holds {@code bound} entries, or the ring is full of entries and holes, the
 * oldest entry is dropped to make room (returned as an overflow, counted by the caller:
 * {@code tcp_time_wait_overflow}); with many holes the ring is compacted in place instead.
 *
 * <p>Owned by: its netisr thread (through {@link TcpTimeWait}).
 */
final class TimeWaitTable {
    static final int INITIAL_CAPACITY = 256;
    /** Local interface indexes an entry can hold (one byte each). */
    static final int MAX_LOCAL_IFS = 256;
    private static final byte LIVE = 1;
    private static final byte TS_OK = 2;

    private final int bound;
    private final int maxCapacity;
    private int capacity;
    private int mask;
    private long head;
    private long tail;
    private int size;

    private long[] keys;
    /** The local address's interface index of each entry (part of its 4-tuple, with the key). */
    private byte[] localIfs;
    private long[] expiresAt;
    private long[] tsRecentAt;
    private long[] lastOowAckAt;
    private int[] sndNxt;
    private int[] rcvNxt;
    private int[] rcvWnd;
    private int[] tsRecent;
    private byte[] rcvWscale;
    private byte[] flags;
    /** Hash index: slot + 1, 0 = empty; twice the capacity. */
    private int[] index;
    private int indexMask;

    /** @param bound the most entries kept (at least 1) */
    TimeWaitTable(int bound) {
        if (bound < 1) {
            throw new IllegalArgumentException("TIME-WAIT bound must be >= 1, got " + bound);
        }
        this.bound = bound;
        this.maxCapacity = bound == 1 ? 1 : Integer.highestOneBit(Math.min(bound, 1 << 30) - 1) << 1;
        allocate(Math.min(INITIAL_CAPACITY, maxCapacity));
    }

    private void allocate(int cap) {
        capacity = cap;
        mask = cap - 1;
        keys = new long[cap];
        localIfs = new byte[cap];
        expiresAt = new long[cap];
        tsRecentAt = new long[cap];
        lastOowAckAt = new long[cap];
        sndNxt = new int[cap];
        rcvNxt = new int[cap];
        rcvWnd = new int[cap];
        tsRecent = new int[cap];
        rcvWscale = new byte[cap];
        flags = new byte[cap];
        index = new int[2 * cap];
        indexMask = 2 * cap - 1;
    }

    /** Entries held. */
    int size() {
        return size;
    }

    /** The most entries held. */
    int bound() {
        return bound;
    }

    /** Slots allocated now (grows by doubling up to the first power of two >= the bound). */
    int capacity() {
        return capacity;
    }

    /** The remote address of a {@link Tcb#key}. */
    static int remoteAddr(long key) {
        return (int) (key >>> 32);
    }

    /** The remote port of a {@link Tcb#key}. */
    static int remotePort(long key) {
        return (int) (key >>> 16) & 0xFFFF;
    }

    /** The local port of a {@link Tcb#key}. */
    static int localPort(long key) {
        return (int) key & 0xFFFF;
    }

    // ------------------------------------------------------------------ hash

    private static int hash(int localIf, long key) {
        long h = (key + localIf * 0xC2B2AE3D27D4EB4FL) * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 32));
    }

    private int hashOf(int slot) {
        return hash(localIfs[slot] & 0xFF, keys[slot]);
    }

    private boolean is(int slot, int localIf, long key) {
        return keys[slot] == key && (localIfs[slot] & 0xFF) == localIf;
    }

    /**
     * The slot of the entry of local interface {@code localIf} and {@code key}, or -1. Entries
     * past their expiry are still returned (see {@link #expired}).
     */
    int lookup(int localIf, long key) {
        if (size == 0) {
            return -1;
        }
        for (int i = hash(localIf, key) & indexMask; ; i = (i + 1) & indexMask) {
            int v = index[i];
            if (v == 0) {
                return -1;
            }
            if (is(v - 1, localIf, key)) {
                return v - 1;
            }
        }
    }

    private void indexPut(int slot) {
        int i = hashOf(slot) & indexMask;
        while (index[i] != 0) {
            i = (i + 1) & indexMask;
        }
        index[i] = slot + 1;
    }

    private void indexRemove(int slot) {
        int i = hashOf(slot) & indexMask;
        while (index[i] - 1 != slot) {
            i = (i + 1) & indexMask; // present by contract: the caller found it
        }
        // backward-shift deletion (Knuth 6.4 algorithm R): no tombstones
        int j = i;
        while (true) {
            j = (j + 1) & indexMask;
            int v = index[j];
            if (v == 0) {
                break;
            }
            int home = hashOf(v - 1) & indexMask;
            boolean stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
            if (!stays) {
                index[i] = v;
                i = j;
            }
        }
        index[i] = 0;
    }

    // ------------------------------------------------------------------ entries

    /**
     * Adds an entry (replacing one of the same local interface and key).
     *
     * @param localIf the local address's interface index, 0..{@link #MAX_LOCAL_IFS} - 1
     * @return live entries dropped early to make room (0 unless the table or ring was full)
     */
    int insert(int localIf, long key, int sndNxt, int rcvNxt, int rcvWnd, int rcvWscale, boolean tsOk,
               int tsRecent, long tsRecentAt, long expiresAt) {
        int old = lookup(localIf, key);
        if (old >= 0) {
            remove(old);
        }
        int dropped = 0;
        while (size >= bound || tail - head == capacity) {
            if (tail - head == capacity && capacity < maxCapacity) {
                rebuild(capacity * 2);
            } else if (size < bound && tail - head - size >= Math.max(1, capacity / 8)) {
                rebuild(capacity); // many holes: compact in place
            } else {
                dropped += dropHead();
            }
        }
        int s = (int) (tail & mask);
        tail++;
        size++;
        keys[s] = key;
        localIfs[s] = (byte) localIf;
        this.sndNxt[s] = sndNxt;
        this.rcvNxt[s] = rcvNxt;
        this.rcvWnd[s] = rcvWnd;
        this.rcvWscale[s] = (byte) rcvWscale;
        this.tsRecent[s] = tsRecent;
        this.tsRecentAt[s] = tsRecentAt;
        this.expiresAt[s] = expiresAt;
        this.lastOowAckAt[s] = Long.MIN_VALUE / 2;
        flags[s] = (byte) (LIVE | (tsOk ? TS_OK : 0));
        indexPut(s);
        return dropped;
    }

    /** Drops the entry at the head (live or a hole); 1 if it was live. */
    private int dropHead() {
        int s = (int) (head & mask);
        head++;
        if ((flags[s] & LIVE) != 0) {
            kill(s);
            return 1;
        }
        return 0;
    }

    private void kill(int s) {
        indexRemove(s);
        flags[s] = 0;
        size--;
    }

    /** Ends entry {@code slot} (reuse, RST, moved away): a hole until the head passes it. */
    void remove(int slot) {
        kill(slot);
        while (head < tail && (flags[(int) (head & mask)] & LIVE) == 0) {
            head++; // holes at the head go at once
        }
    }

    /**
     * Restarts entry {@code slot}'s timer: it moves to the tail with expiry {@code expiresAt}
     * (RFC 9293 3.10.7.4: a retransmitted FIN restarts the 2 MSL timeout).
     *
     * @return live entries dropped early to make room (as {@link #insert})
     */
    int restart(int slot, long expiresAt) {
        long key = keys[slot];
        int lif = localIfs[slot] & 0xFF;
        int sn = sndNxt[slot];
        int rn = rcvNxt[slot];
        int rw = rcvWnd[slot];
        int ws = rcvWscale[slot];
        boolean ts = (flags[slot] & TS_OK) != 0;
        int tr = tsRecent[slot];
        long ta = tsRecentAt[slot];
        long oow = lastOowAckAt[slot];
        remove(slot);
        int dropped = insert(lif, key, sn, rn, rw, ws, ts, tr, ta, expiresAt);
        lastOowAckAt[lookup(lif, key)] = oow;
        return dropped;
    }

    /**
     * Removes the entries at the head whose expiry is at or before {@code now}.
     *
     * @return entries removed
     */
    int expire(long now) {
        int n = 0;
        while (head < tail) {
            int s = (int) (head & mask);
            if ((flags[s] & LIVE) != 0) {
                if (expiresAt[s] - now > 0) {
                    break;
                }
                kill(s);
                n++;
            }
            head++;
        }
        return n;
    }

    /** Whether entry {@code slot} is past its expiry at {@code now} (it is still in the table). */
    boolean expired(int slot, long now) {
        return expiresAt[slot] - now <= 0;
    }

    /**
     * Re-lays the ring into arrays of {@code newCapacity} slots (the same arrays, compacted in
     * place, when the capacity does not change), live entries only, in order, and rebuilds the hash.
     */
    private void rebuild(int newCapacity) {
        if (newCapacity != capacity) {
            long[] k = keys, e = expiresAt, ta = tsRecentAt, oow = lastOowAckAt;
            byte[] li = localIfs;
            int[] sn = sndNxt, rn = rcvNxt, rw = rcvWnd, tr = tsRecent;
            byte[] ws = rcvWscale, f = flags;
            int oldMask = mask;
            long from = head, to = tail;
            allocate(newCapacity);
            int w = 0;
            for (long p = from; p < to; p++) {
                int s = (int) (p & oldMask);
                if ((f[s] & LIVE) != 0) {
                    keys[w] = k[s];
                    localIfs[w] = li[s];
                    expiresAt[w] = e[s];
                    tsRecentAt[w] = ta[s];
                    lastOowAckAt[w] = oow[s];
                    sndNxt[w] = sn[s];
                    rcvNxt[w] = rn[s];
                    rcvWnd[w] = rw[s];
                    tsRecent[w] = tr[s];
                    rcvWscale[w] = ws[s];
                    flags[w] = f[s];
                    w++;
                }
            }
            head = 0;
            tail = w;
        } else {
            long w = head;
            for (long p = head; p < tail; p++) {
                int s = (int) (p & mask);
                if ((flags[s] & LIVE) != 0) {
                    int d = (int) (w & mask);
                    if (d != s) {
                        keys[d] = keys[s];
                        localIfs[d] = localIfs[s];
                        expiresAt[d] = expiresAt[s];
                        tsRecentAt[d] = tsRecentAt[s];
                        lastOowAckAt[d] = lastOowAckAt[s];
                        sndNxt[d] = sndNxt[s];
                        rcvNxt[d] = rcvNxt[s];
                        rcvWnd[d] = rcvWnd[s];
                        tsRecent[d] = tsRecent[s];
                        rcvWscale[d] = rcvWscale[s];
                        flags[d] = flags[s];
                        flags[s] = 0;
                    }
                    w++;
                }
            }
            tail = w;
            Arrays.fill(index, 0);
        }
        for (long p = head; p < tail; p++) {
            int s = (int) (p & mask);
            indexPut(s);
        }
    }

    // ------------------------------------------------------------------ iteration (oldest first)

    /** Ring position of the oldest entry or hole. */
    long first() {
        return head;
    }

    /** Ring position after the newest entry. */
    long end() {
        return tail;
    }

    /** The slot at ring position {@code pos}, or -1 if it is a hole. */
    int slotAt(long pos) {
        int s = (int) (pos & mask);
        return (flags[s] & LIVE) != 0 ? s : -1;
    }

    // ------------------------------------------------------------------ fields

    long key(int slot) {
        return keys[slot];
    }

    /** The local address's interface index of entry {@code slot}. */
    int localIf(int slot) {
        return localIfs[slot] & 0xFF;
    }

    int sndNxt(int slot) {
        return sndNxt[slot];
    }

    int rcvNxt(int slot) {
        return rcvNxt[slot];
    }

    int rcvWnd(int slot) {
        return rcvWnd[slot];
    }

    int rcvWscale(int slot) {
        return rcvWscale[slot];
    }

    boolean tsOk(int slot) {
        return (flags[slot] & TS_OK) != 0;
    }

    int tsRecent(int slot) {
        return tsRecent[slot];
    }

    long tsRecentAt(int slot) {
        return tsRecentAt[slot];
    }

    long expiresAt(int slot) {
        return expiresAt[slot];
    }

    long lastOowAckAt(int slot) {
        return lastOowAckAt[slot];
    }

    /** RFC 7323 4.3: a newer TS.Recent from an acceptable segment. */
    void tsRecent(int slot, int value, long at) {
        tsRecent[slot] = value;
        tsRecentAt[slot] = at;
    }

    void lastOowAckAt(int slot, long at) {
        lastOowAckAt[slot] = at;
    }
}
