package org.mailproxy.core.admin;

/**
 * Which sessions to list; a null field matches everything.
 *
 * @param server   a server's name, PID, description or listen address
 * @param protocol a protocol name
 * @param user     a login name (exact)
 */
public record SessionFilter(String server, String protocol, String user) {

    /** Every session. */
    public static final SessionFilter ALL = new SessionFilter(null, null, null);
}
