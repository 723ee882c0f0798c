package io.flowstack.core.tcp;

/**
 * Sequence number arithmetic modulo 2^32 (RFC 9293 section 3.4): sequence numbers are ints and
 * compare by the sign of their difference.
 */
final class Seq {
    private Seq() {}

    public static boolean lt(int a, int b) { return a - b < 0; }
    public static boolean le(int a, int b) { return a - b <= 0; }
    public static boolean gt(int a, int b) { return a - b > 0; }
    public static boolean ge(int a, int b) { return a - b >= 0; }
    public static int max(int a, int b) { return gt(a, b) ? a : b; }
    public static int min(int a, int b) { return lt(a, b) ? a : b; }

    /** {@code lo <= x < hi} in sequence space. */
    public static boolean inWindow(int x, int lo, int hi) {
        return x - lo >= 0 && x - hi < 0;
    }
}
