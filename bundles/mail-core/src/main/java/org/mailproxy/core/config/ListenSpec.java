package org.mailproxy.core.config;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import org.mailproxy.core.util.InetText;

/**
 * One {@code listen} directive, parsed as nginx parses it
 * ({@code listen address[:port] [ssl] [proxy_protocol] [backlog=n] [rcvbuf=size] [sndbuf=size] [bind]
 * [ipv6only=on|off] [reuseport] [so_keepalive=on|off|[idle]:[intvl]:[cnt]]}).
 *
 * <p>Exactly one of {@link #address()} and {@link #unixPath()} is non-null. A wildcard listen
 * ({@code 143}, {@code *:143}) has the address {@code 0.0.0.0:143}; {@code [::]:143} keeps the IPv6
 * wildcard. Absent numeric options are {@code -1}; absent booleans-with-default are {@code null}.
 *
 * @param address       the socket address, or null for a unix socket
 * @param unixPath      the path of a {@code unix:} listen, or null
 * @param ssl           implicit TLS on this socket
 * @param proxyProtocol a PROXY protocol header is expected first on every connection
 * @param backlog       listen() backlog, -1 when not given (nginx default 511)
 * @param rcvbuf        SO_RCVBUF in bytes, -1 when not given
 * @param sndbuf        SO_SNDBUF in bytes, -1 when not given
 * @param bind          a separate bind() for this address even when a wildcard on the port exists
 * @param ipv6only      IPV6_V6ONLY wish for an IPv6 wildcard; null when not given (nginx default on)
 * @param reuseport     SO_REUSEPORT
 * @param keepalive     so_keepalive, or null when not given
 * @param file          configuration file of the directive (for error messages)
 * @param line          line of the directive
 */
public record ListenSpec(InetSocketAddress address, Path unixPath, boolean ssl, boolean proxyProtocol,
                         int backlog, int rcvbuf, int sndbuf, boolean bind, Boolean ipv6only,
                         boolean reuseport, KeepAlive keepalive, String file, int line) {

    public ListenSpec {
        if ((address == null) == (unixPath == null)) {
            throw new IllegalArgumentException("exactly one of address and unixPath");
        }
    }

    /** The same listen without file and line, to compare the content of two configurations. */
    public ListenSpec withoutPosition() {
        return new ListenSpec(address, unixPath, ssl, proxyProtocol, backlog, rcvbuf, sndbuf, bind, ipv6only,
                reuseport, keepalive, null, 0);
    }

    /** Port of an inet listen, -1 for a unix socket. */
    public int port() {
        return address == null ? -1 : address.getPort();
    }

    /** True for 0.0.0.0 and [::]. */
    public boolean isWildcard() {
        return address != null && address.getAddress().isAnyLocalAddress();
    }

    /**
     * Whether nginx would give this address a bind() of its own: {@code bind} itself, or any of
     * the options that force it (backlog, rcvbuf, sndbuf, ipv6only, reuseport, so_keepalive).
     */
    public boolean needsOwnBind() {
        return bind || backlog != -1 || rcvbuf != -1 || sndbuf != -1 || ipv6only != null || reuseport
                || keepalive != null;
    }

    /** Text as nginx prints an address in messages: {@code 0.0.0.0:143}, {@code [::1]:143}, {@code unix:/p}. */
    public String addressText() {
        if (unixPath != null) {
            return "unix:" + unixPath;
        }
        return InetText.hostPort(address);
    }

    /**
     * {@code so_keepalive=}: {@code on}, {@code off}, or {@code idle:intvl:cnt} where each part may be
     * empty (null = system default).
     *
     * @param enabled SO_KEEPALIVE on or off
     * @param idle    TCP_KEEPIDLE, or null
     * @param interval TCP_KEEPINTVL, or null
     * @param count   TCP_KEEPCNT, or null
     */
    public record KeepAlive(boolean enabled, Duration idle, Duration interval, Integer count) {
        public KeepAlive {
            Objects.requireNonNull(Boolean.valueOf(enabled));
        }
    }
}
