package io.flowstack.services;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The HTTP date (RFC 9110 5.6.7 IMF-fixdate, e.g. {@code Sun, 06 Nov 1994 08:49:37 GMT}) of an
 * epoch second, written as 29 ASCII bytes into memory without allocating; the services format
 * it once a second per core (RFC 9110 6.6.1: the Date of a response).
 *
 * <p>Stateless: any thread may call it.
 */
final class ImfFixdate {
    /** Length of an IMF-fixdate. */
    static final int LENGTH = 29;
    private static final String DAYS = "ThuFriSatSunMonTueWed"; // 1970-01-01 was a Thursday
    private static final String MONTHS = "JanFebMarAprMayJunJulAugSepOctNovDec";

    private ImfFixdate() {
    }

    /** Writes the date of {@code epochSecond} at {@code d[off, off + 29)}. */
    static void write(long epochSecond, MemorySegment d, long off) {
        long days = Math.floorDiv(epochSecond, 86_400L);
        int secs = (int) Math.floorMod(epochSecond, 86_400L);
        int dow = (int) Math.floorMod(days, 7L);
        // days to civil date (proleptic Gregorian; Howard Hinnant's algorithm)
        long z = days + 719_468;
        long era = Math.floorDiv(z, 146_097L);
        long doe = z - era * 146_097;
        long yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        long mp = (5 * doy + 2) / 153;
        int day = (int) (doy - (153 * mp + 2) / 5 + 1);
        int month = (int) (mp < 10 ? mp + 3 : mp - 9);
        long year = yoe + era * 400 + (month <= 2 ? 1 : 0);
        long p = off;
        p = chars(d, p, DAYS, dow * 3, 3);
        p = put(d, p, ',');
        p = put(d, p, ' ');
        p = two(d, p, day);
        p = put(d, p, ' ');
        p = chars(d, p, MONTHS, (month - 1) * 3, 3);
        p = put(d, p, ' ');
        p = two(d, p, (int) (year / 100 % 100));
        p = two(d, p, (int) (year % 100));
        p = put(d, p, ' ');
        p = two(d, p, secs / 3600);
        p = put(d, p, ':');
        p = two(d, p, secs / 60 % 60);
        p = put(d, p, ':');
        p = two(d, p, secs % 60);
        p = chars(d, p, " GMT", 0, 4);
    }

    private static long put(MemorySegment d, long p, char c) {
        d.set(ValueLayout.JAVA_BYTE, p, (byte) c);
        return p + 1;
    }

    private static long two(MemorySegment d, long p, int v) {
        d.set(ValueLayout.JAVA_BYTE, p, (byte) ('0' + v / 10));
        d.set(ValueLayout.JAVA_BYTE, p + 1, (byte) ('0' + v % 10));
        return p + 2;
    }

    private static long chars(MemorySegment d, long p, String s, int from, int n) {
        for (int i = 0; i < n; i++) {
            d.set(ValueLayout.JAVA_BYTE, p + i, (byte) s.charAt(from + i));
        }
        return p + n;
    }
}
