package org.mailproxy.core.admin;

/**
 * The effective value of one directive of a server.
 *
 * @param directive the directive name
 * @param value     its value as text (nginx notation where there is one), {@code -} when unset
 * @param source    {@code server}, {@code mail} or {@code default}
 * @param location  {@code FILE:LINE} of the directive that set it, or null for a plain default
 */
public record ConfigValue(String directive, String value, String source, String location) {

    /** {@code server /etc/mail.conf:12}, {@code mail /etc/mail.conf:3} or {@code default}. */
    public String origin() {
        return location == null ? source : source + " " + location;
    }
}
