package org.mailproxy.core.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The value types of nginx's {@code ngx_conf_set_*_slot} handlers, with their error words, and the
 * number parsers under them ({@code ngx_atoi}, {@code ngx_parse_size}, {@code ngx_parse_offset},
 * {@code ngx_parse_time}).
 *
 * <p>Each parser reads the first argument unless it says otherwise; the argument count is checked
 * by the {@link DirectiveSpec} before.
 */
public final class Values {

    private static final long INT32_MAX = Integer.MAX_VALUE;

    private Values() {
    }

    /** {@code on|off} (any case) to Boolean; {@code invalid value "x" in "xclient" directive, it must be "on" or "off"}. */
    public static ValueParser<Boolean> flag() {
        return d -> {
            String v = d.arg(0);
            if (v.equalsIgnoreCase("on")) {
                return Boolean.TRUE;
            }
            if (v.equalsIgnoreCase("off")) {
                return Boolean.FALSE;
            }
            throw d.error("invalid value \"" + v + "\" in \"" + d.name() + "\" directive, it must be \"on\" or \"off\"");
        };
    }

    /** A non-negative decimal to Integer; {@code "max_errors" directive invalid number}. */
    public static ValueParser<Integer> number() {
        return d -> {
            long n = parseNumber(d.arg(0));
            if (n < 0 || n > Integer.MAX_VALUE) {
                throw d.invalid("invalid number");
            }
            return (int) n;
        };
    }

    /** A size ({@code 512}, {@code 4k}, {@code 1m}) to a Long count of bytes; {@code "x" directive invalid value}. */
    public static ValueParser<Long> size() {
        return d -> {
            long n = parseSize(d.arg(0));
            if (n < 0) {
                throw d.invalid("invalid value");
            }
            return n;
        };
    }

    /** An offset (a size that may also end in {@code g}) to a Long count of bytes. */
    public static ValueParser<Long> offset() {
        return d -> {
            long n = parseOffset(d.arg(0));
            if (n < 0) {
                throw d.invalid("invalid value");
            }
            return n;
        };
    }

    /**
     * A time in milliseconds precision ({@code ngx_conf_set_msec_slot}): {@code 500ms}, {@code 30s},
     * {@code 1h30m}, a bare number is seconds; at most 24 days 20 hours, and no {@code M} or
     * {@code y}. To a Duration; {@code "timeout" directive invalid value}.
     */
    public static ValueParser<Duration> time() {
        return d -> {
            long ms = parseTimeMillis(d.arg(0));
            if (ms < 0) {
                throw d.invalid("invalid value");
            }
            return Duration.ofMillis(ms);
        };
    }

    /**
     * A time in seconds precision ({@code ngx_conf_set_sec_slot}): {@code 1y 2M 3w 4d 5h 6m 7s},
     * no {@code ms}. To a Duration; {@code "x" directive invalid value}.
     */
    public static ValueParser<Duration> seconds() {
        return d -> {
            long s = parseTimeSeconds(d.arg(0));
            if (s < 0) {
                throw d.invalid("invalid value");
            }
            return Duration.ofSeconds(s);
        };
    }

    /** The first argument as it is. */
    public static ValueParser<String> string() {
        return d -> d.arg(0);
    }

    /**
     * One word of a fixed set, compared without case as {@code ngx_conf_set_enum_slot} does; the
     * value is the word as declared here. Error {@code invalid value "x"}.
     */
    public static ValueParser<String> oneOf(String... words) {
        List<String> allowed = List.of(words);
        return d -> {
            String match = match(allowed, d.arg(0));
            if (match == null) {
                throw d.error("invalid value \"" + d.arg(0) + "\"");
            }
            return match;
        };
    }

    /** All arguments as a list of words. */
    public static ValueParser<List<String>> words() {
        return Directive::args;
    }

    /**
     * All arguments, each one of a fixed set ({@code ngx_conf_set_bitmask_slot}, as
     * {@code imap_auth plain login}); repeated words are kept once. Error {@code invalid value "x"}.
     */
    public static ValueParser<List<String>> wordsOf(String... words) {
        List<String> allowed = List.of(words);
        return d -> {
            List<String> out = new ArrayList<>();
            for (String arg : d.args()) {
                String match = match(allowed, arg);
                if (match == null) {
                    throw d.error("invalid value \"" + arg + "\"");
                }
                if (!out.contains(match)) {
                    out.add(match);
                }
            }
            return List.copyOf(out);
        };
    }

    private static String match(List<String> allowed, String word) {
        for (String w : allowed) {
            if (w.equalsIgnoreCase(word)) {
                return w;
            }
        }
        return null;
    }

    /**
     * {@code ngx_atoi}: decimal digits only, no sign, not empty.
     *
     * @return the number, or -1 when the text is not one (or does not fit a long)
     */
    public static long parseNumber(String text) {
        if (text.isEmpty()) {
            return -1;
        }
        long value = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            if (value > (Long.MAX_VALUE - (c - '0')) / 10) {
                return -1;
            }
            value = value * 10 + (c - '0');
        }
        return value;
    }

    /**
     * {@code ngx_parse_size}: a number optionally followed by {@code k}/{@code K} (1024) or
     * {@code m}/{@code M} (1024*1024). nginx's size parser has no {@code g}; see {@link #parseOffset}.
     *
     * @return bytes, or -1 when invalid or too large
     */
    public static long parseSize(String text) {
        return parseScaled(text, "kKmM");
    }

    /**
     * {@code ngx_parse_offset}: as {@link #parseSize} plus {@code g}/{@code G} (1024^3).
     *
     * @return bytes, or -1 when invalid or too large
     */
    public static long parseOffset(String text) {
        return parseScaled(text, "kKmMgG");
    }

    private static long parseScaled(String text, String units) {
        if (text.isEmpty()) {
            return -1;
        }
        char unit = text.charAt(text.length() - 1);
        long scale = 1;
        String digits = text;
        if (units.indexOf(unit) >= 0) {
            scale = switch (Character.toLowerCase(unit)) {
            case 'k' -> 1024L;
            case 'm' -> 1024L * 1024;
            default -> 1024L * 1024 * 1024;
            };
            digits = text.substring(0, text.length() - 1);
        }
        long n = parseNumber(digits);
        if (n < 0 || n > Long.MAX_VALUE / scale) {
            return -1;
        }
        return n * scale;
    }

    /**
     * {@code ngx_parse_time(text, 0)}: units {@code w d h m s ms}, each at most once and from the
     * largest to the smallest ({@code 1h30m}); a trailing bare number is seconds; the total must fit
     * a signed 32-bit count of milliseconds.
     *
     * @return milliseconds, or -1 when invalid
     */
    public static long parseTimeMillis(String text) {
        return parseTime(text, false);
    }

    /**
     * {@code ngx_parse_time(text, 1)}: units {@code y M w d h m s} (no {@code ms}), the total must
     * fit a signed 32-bit count of seconds.
     *
     * @return seconds, or -1 when invalid
     */
    public static long parseTimeSeconds(String text) {
        return parseTime(text, true);
    }

    /* the steps of ngx_parse_time(), in the order the units must come */
    private static final int ST_START = 0;
    private static final int ST_YEAR = 1;
    private static final int ST_MONTH = 2;
    private static final int ST_WEEK = 3;
    private static final int ST_DAY = 4;
    private static final int ST_HOUR = 5;
    private static final int ST_MIN = 6;
    private static final int ST_SEC = 7;
    private static final int ST_MSEC = 8;
    private static final int ST_LAST = 9;

    private static long parseTime(String text, boolean isSec) {
        boolean valid = false;
        long value = 0;
        long total = 0;
        int step = isSec ? ST_START : ST_MONTH;
        long scale;
        long max;
        int p = 0;
        int end = text.length();

        while (p < end) {
            char c = text.charAt(p++);

            if (c >= '0' && c <= '9') {
                value = value * 10 + (c - '0');
                if (value > INT32_MAX) {
                    return -1;
                }
                valid = true;
                continue;
            }

            switch (c) {
            case 'y':
                if (step > ST_START) {
                    return -1;
                }
                step = ST_YEAR;
                scale = 60L * 60 * 24 * 365;
                break;
            case 'M':
                if (step >= ST_MONTH) {
                    return -1;
                }
                step = ST_MONTH;
                scale = 60L * 60 * 24 * 30;
                break;
            case 'w':
                if (step >= ST_WEEK) {
                    return -1;
                }
                step = ST_WEEK;
                scale = 60L * 60 * 24 * 7;
                break;
            case 'd':
                if (step >= ST_DAY) {
                    return -1;
                }
                step = ST_DAY;
                scale = 60L * 60 * 24;
                break;
            case 'h':
                if (step >= ST_HOUR) {
                    return -1;
                }
                step = ST_HOUR;
                scale = 60L * 60;
                break;
            case 'm':
                if (p < end && text.charAt(p) == 's') {
                    if (isSec || step >= ST_MSEC) {
                        return -1;
                    }
                    p++;
                    step = ST_MSEC;
                    scale = 1;
                    break;
                }
                if (step >= ST_MIN) {
                    return -1;
                }
                step = ST_MIN;
                scale = 60;
                break;
            case 's':
                if (step >= ST_SEC) {
                    return -1;
                }
                step = ST_SEC;
                scale = 1;
                break;
            case ' ':
                if (step >= ST_SEC) {
                    return -1;
                }
                step = ST_LAST;
                scale = 1;
                break;
            default:
                return -1;
            }

            max = INT32_MAX / scale;
            if (step != ST_MSEC && !isSec) {
                scale *= 1000;
                max /= 1000;
            }
            if (value > max) {
                return -1;
            }
            total += value * scale;
            if (total > INT32_MAX) {
                return -1;
            }

            value = 0;
            while (p < end && text.charAt(p) == ' ') {
                p++;
            }
        }

        if (!valid) {
            return -1;
        }
        long last = isSec ? value : value * 1000;
        if (total + last > INT32_MAX) {
            return -1;
        }
        return total + last;
    }
}
