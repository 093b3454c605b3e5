package org.mailproxy.core.errorlog;

import java.util.Locale;

/** nginx's eight levels, most severe first; the ordinal is the syslog severity (RFC 3164). */
public enum Severity {
    EMERG, ALERT, CRIT, ERROR, WARN, NOTICE, INFO, DEBUG;

    /** The word nginx writes: {@code [error]}, {@code "level":"error"}. */
    public String word() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Whether a log of level {@code logLevel} takes a message of this severity. */
    public boolean within(Severity logLevel) {
        return ordinal() <= logLevel.ordinal();
    }

    /** The level named {@code word} ({@code error}, {@code notice}...); null when none is. */
    public static Severity of(String word) {
        if (word == null) {
            return null;
        }
        for (Severity s : values()) {
            if (s.word().equals(word)) {
                return s;
            }
        }
        return null;
    }
}
