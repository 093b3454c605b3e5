package org.mailproxy.shell.internal;

import java.util.Locale;

/** Text forms shared by the console commands and the MBeans. */
public final class Format {

    private Format() {
    }

    /** {@code 5s}, {@code 3m12s}, {@code 2h05m}, {@code 3d04h}. */
    public static String age(long millis) {
        long s = Math.max(0, millis) / 1000;
        if (s < 60) {
            return s + "s";
        }
        if (s < 3600) {
            return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
        }
        if (s < 86400) {
            return String.format(Locale.ROOT, "%dh%02dm", s / 3600, (s % 3600) / 60);
        }
        return String.format(Locale.ROOT, "%dd%02dh", s / 86400, (s % 86400) / 3600);
    }

    /** {@code 512}, {@code 1.5K}, {@code 12.0M}, {@code 3.2G} (binary units). */
    public static String bytes(long n) {
        if (n < 1024) {
            return Long.toString(n);
        }
        String units = "KMGTPE";
        double v = n;
        int u = -1;
        while (v >= 1024 && u < units.length() - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f%c", v, units.charAt(u));
    }

    /** {@code 1.234ms} from microseconds. */
    public static String micros(long micros) {
        return String.format(Locale.ROOT, "%d.%03dms", micros / 1000, micros % 1000);
    }

    /** {@code -} for null or empty. */
    public static String dash(String s) {
        return s == null || s.isEmpty() ? "-" : s;
    }
}
