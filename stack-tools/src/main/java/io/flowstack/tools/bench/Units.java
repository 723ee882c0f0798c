package io.flowstack.tools.bench;

import java.util.Locale;

/** Human-readable numbers for the progress lines and the summary (decimal units, as iperf3's rates). */
final class Units {
    private Units() {
    }

    /** "1.23 GB", "456 MB", "12.0 kB", "17 B". */
    static String bytes(long b) {
        if (b < 1000) {
            return b + " B";
        }
        String[] u = {"kB", "MB", "GB", "TB", "PB"};
        double v = b;
        int i = -1;
        while (v >= 1000 && i < u.length - 1) {
            v /= 1000;
            i++;
        }
        return three(v) + " " + u[i];
    }

    /** "9.41 Gbit/s", "941 Mbit/s". */
    static String bits(double bps) {
        String[] u = {"bit/s", "kbit/s", "Mbit/s", "Gbit/s", "Tbit/s"};
        double v = bps;
        int i = 0;
        while (v >= 1000 && i < u.length - 1) {
            v /= 1000;
            i++;
        }
        return three(v) + " " + u[i];
    }

    /** A rate with three significant digits and no unit: "12345", "123", "12.3". */
    static String rate(double v) {
        if (v >= 1000) {
            return String.format(Locale.ROOT, "%.0f", v);
        }
        return three(v);
    }

    /** A latency given in microseconds: "45.2 us", "1.23 ms", "2.10 s". */
    static String micros(double us) {
        if (us < 1000) {
            return three(us) + " us";
        }
        if (us < 1_000_000) {
            return three(us / 1000) + " ms";
        }
        return three(us / 1_000_000) + " s";
    }

    static String three(double v) {
        if (v >= 100) {
            return String.format(Locale.ROOT, "%.0f", v);
        }
        if (v >= 10) {
            return String.format(Locale.ROOT, "%.1f", v);
        }
        return String.format(Locale.ROOT, "%.2f", v);
    }

    static String seconds(double s) {
        return String.format(Locale.ROOT, "%.2f", s);
    }
}
