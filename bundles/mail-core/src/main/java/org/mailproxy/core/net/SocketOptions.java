package org.mailproxy.core.net;

import org.mailproxy.core.config.ListenSpec;

/**
 * The options of one listening socket, the part of a {@link ListenSpec} that makes two sockets on
 * the same address different. Absent sizes are -1.
 *
 * @param backlog   listen() backlog (nginx's default 511 when not given)
 * @param rcvbuf    SO_RCVBUF of the listening socket, inherited by accepted sockets
 * @param sndbuf    SO_SNDBUF of each accepted socket
 * @param reuseport SO_REUSEPORT
 * @param keepalive so_keepalive, or null
 */
record SocketOptions(int backlog, int rcvbuf, int sndbuf, boolean reuseport, ListenSpec.KeepAlive keepalive) {

    /** nginx's {@code NGX_LISTEN_BACKLOG} on Linux. */
    static final int DEFAULT_BACKLOG = 511;

    static SocketOptions of(ListenSpec spec) {
        return new SocketOptions(spec.backlog() == -1 ? DEFAULT_BACKLOG : spec.backlog(), spec.rcvbuf(),
                spec.sndbuf(), spec.reuseport(), spec.keepalive());
    }
}
