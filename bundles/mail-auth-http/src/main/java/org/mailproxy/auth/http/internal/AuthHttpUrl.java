package org.mailproxy.auth.http.internal;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import org.mailproxy.core.config.ConfigException;
import org.mailproxy.core.config.Directive;
import org.mailproxy.core.config.Values;
import org.mailproxy.core.util.InetText;

/**
 * The value of {@code auth_http URL}, parsed as {@code ngx_mail_auth_http()} does with
 * {@code ngx_parse_url()}: an optional {@code http://} prefix (any other scheme fails, as in nginx,
 * on its colon: {@code https://h/} is an {@code invalid port}), then {@code host[:port][/uri]}
 * (port 80 by default, host an IPv4 literal, {@code [IPv6]} or a name resolved now, first IPv4
 * address first, as {@code getaddrinfo} in nginx), or {@code unix:/path[:/uri]}. The uri defaults
 * to {@code /}.
 *
 * @param text       the argument as written
 * @param peerName   the server's name in log lines: {@code 127.0.0.1:9000}, {@code unix:/path}
 * @param hostHeader the {@code Host} header: the host as written, {@code localhost} for unix sockets
 * @param uri        the request uri
 * @param address    the TCP address, or null for a unix socket
 * @param unixPath   the unix socket path, or null for TCP
 */
record AuthHttpUrl(String text, String peerName, String hostHeader, String uri, InetSocketAddress address,
                   String unixPath) {

    /** {@code sizeof(sun_path)} on Linux, the terminating NUL included. */
    private static final int SUN_PATH = 108;

    boolean isUnix() {
        return unixPath != null;
    }

    /** Parses the directive's argument; errors as {@code invalid port in auth_http "x" in F:L}. */
    static AuthHttpUrl parse(Directive d) throws ConfigException {
        String text = d.arg(0);
        String url = text.startsWith("http://") ? text.substring(7) : text;
        try {
            if (url.regionMatches(true, 0, "unix:", 0, 5)) {
                return unix(text, url);
            }
            if (url.startsWith("[")) {
                return inet6(text, url);
            }
            return inet(text, url);
        } catch (UrlError e) {
            throw d.error(e.getMessage() + " in auth_http \"" + url + "\"");
        }
    }

    private static AuthHttpUrl unix(String text, String url) throws UrlError {
        String path = url.substring(5);
        String uri = "";
        int colon = path.indexOf(':');
        if (colon >= 0) {
            uri = path.substring(colon + 1);
            path = path.substring(0, colon);
        }
        if (path.isEmpty()) {
            throw new UrlError("no path in the unix domain socket");
        }
        if (path.getBytes(StandardCharsets.UTF_8).length + 1 > SUN_PATH) {
            throw new UrlError("too long path in the unix domain socket");
        }
        return new AuthHttpUrl(text, url.substring(0, 5) + path, "localhost", uri.isEmpty() ? "/" : uri, null, path);
    }

    private static AuthHttpUrl inet(String text, String url) throws UrlError {
        int last = url.length();
        int port = url.indexOf(':');
        int uriAt = url.indexOf('/');
        int args = url.indexOf('?');
        if (args >= 0 && (uriAt < 0 || args < uriAt)) {
            uriAt = args;
        }
        String uri = "";
        if (uriAt >= 0) {
            uri = url.substring(uriAt);
            last = uriAt;
            if (port >= 0 && uriAt < port) {
                port = -1;
            }
        }
        int portNumber = 80;
        if (port >= 0) {
            portNumber = port(url.substring(port + 1, last));
            last = port;
        }
        String host = url.substring(0, last);
        if (host.isEmpty()) {
            throw new UrlError("no host");
        }
        byte[] v4 = InetText.parseIpv4(host);
        InetSocketAddress address;
        String peerName;
        if (v4 != null) {
            address = new InetSocketAddress(byAddress(v4), portNumber);
            peerName = host + ":" + portNumber;
        } else {
            address = new InetSocketAddress(resolve(host), portNumber);
            peerName = InetText.hostPort(address);
        }
        return new AuthHttpUrl(text, peerName, host, uri.isEmpty() ? "/" : uri, address, null);
    }

    private static AuthHttpUrl inet6(String text, String url) throws UrlError {
        int close = url.indexOf(']', 1);
        if (close < 0) {
            throw new UrlError("invalid host");
        }
        int last = url.length();
        int port = close + 1;
        String uri = "";
        int uriAt = url.indexOf('/', port);
        if (uriAt >= 0) {
            uri = url.substring(uriAt);
            last = uriAt;
        }
        int portNumber = 80;
        if (port < last && url.charAt(port) == ':') {
            portNumber = port(url.substring(port + 1, last));
        }
        if (close == 1) {
            throw new UrlError("no host");
        }
        byte[] v6 = InetText.parseIpv6(url.substring(1, close));
        if (v6 == null) {
            throw new UrlError("invalid IPv6 address");
        }
        String host = url.substring(0, close + 1);
        InetSocketAddress address = new InetSocketAddress(byAddress(v6), portNumber);
        return new AuthHttpUrl(text, host + ":" + portNumber, host, uri.isEmpty() ? "/" : uri, address, null);
    }

    private static int port(String text) throws UrlError {
        long n = Values.parseNumber(text);
        if (n < 1 || n > 65535) {
            throw new UrlError("invalid port");
        }
        return (int) n;
    }

    private static InetAddress byAddress(byte[] bytes) {
        try {
            return InetAddress.getByAddress(bytes);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    /** As nginx's {@code ngx_inet_resolve_host}: the IPv4 addresses first, the first one is used. */
    private static InetAddress resolve(String host) throws UrlError {
        InetAddress[] all;
        try {
            all = InetAddress.getAllByName(host.toLowerCase(Locale.ROOT));
        } catch (UnknownHostException | SecurityException e) {
            throw new UrlError("host not found");
        }
        for (InetAddress a : all) {
            if (a instanceof Inet4Address) {
                return a;
            }
        }
        if (all.length == 0) {
            throw new UrlError("host not found");
        }
        return all[0];
    }

    /** A parse error in nginx's words ({@code u.err}). */
    private static final class UrlError extends Exception {
        private static final long serialVersionUID = 1L;

        UrlError(String message) {
            super(message, null, false, false);
        }
    }
}
