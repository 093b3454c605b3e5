package org.mailproxy.core.config;

import java.util.Locale;

/**
 * Where a server's effective value of a directive comes from.
 *
 * @param source SERVER (set in the server block), MAIL (inherited from the mail block) or DEFAULT
 * @param file   the file of the directive that set it, or null for a plain default
 * @param line   its line, 0 for a plain default
 */
public record ValueOrigin(Source source, String file, int line) {

    /** The level a value comes from. */
    public enum Source {
        /** The server block sets it. */
        SERVER,
        /** The mail block sets it and the server inherits it. */
        MAIL,
        /**
         * Nobody sets it: the directive's default. The protocol guessed from a listen port is also
         * DEFAULT, with the position of that {@code listen}.
         */
        DEFAULT
    }

    static final ValueOrigin DEFAULT = new ValueOrigin(Source.DEFAULT, null, 0);

    static ValueOrigin of(Source source, Directive d) {
        return new ValueOrigin(source, d.file(), d.line());
    }

    /** {@code server /etc/mail.conf:12}, {@code mail /etc/mail.conf:3} or {@code default}. */
    @Override
    public String toString() {
        String where = source.name().toLowerCase(Locale.ROOT);
        return file == null ? where : where + " " + file + ":" + line;
    }
}
