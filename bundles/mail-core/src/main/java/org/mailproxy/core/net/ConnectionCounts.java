package org.mailproxy.core.net;

/**
 * Connections accepted for one server.
 *
 * @param current open now
 * @param total   accepted since the server key first appeared
 */
public record ConnectionCounts(long current, long total) {

    /** No connections. */
    public static final ConnectionCounts NONE = new ConnectionCounts(0, 0);
}
