package org.mailproxy.auth.http.internal;

import java.time.Duration;
import java.util.List;
import org.mailproxy.core.config.ServerConfig;

/**
 * The auth_http settings of one server, read from its merged {@link ServerConfig}.
 *
 * @param url            {@code auth_http}, null when none is defined
 * @param headers        {@code auth_http_header} lines, in order (the server's own ones, else the
 *                       mail block's: nginx does not join the two levels)
 * @param passClientCert {@code auth_http_pass_client_cert}
 * @param timeout        {@code auth_http_timeout}
 * @param keepAlive      {@code auth_http_keepalive}
 */
record AuthHttpSettings(AuthHttpUrl url, List<AuthHttpHeader> headers, boolean passClientCert, Duration timeout,
                        boolean keepAlive) {

    /**
     * Whether requests ask to keep the connection ({@link KeepAlive}): with {@code auth_http_keepalive
     * on}, over TCP and unix sockets alike (both transports are non-blocking and pool idle
     * connections).
     */
    boolean reuseConnections() {
        return keepAlive && url != null;
    }

    /**
     * @throws RuntimeException when the server was built without this module (or by an earlier
     *                          instance of it): the caller treats that as a temporary error
     */
    static AuthHttpSettings of(ServerConfig server) {
        List<?> urls = server.get(AuthHttpModule.AUTH_HTTP);
        AuthHttpUrl url = urls == null || urls.isEmpty() ? null : (AuthHttpUrl) urls.get(urls.size() - 1);
        List<?> raw = server.get(AuthHttpModule.AUTH_HTTP_HEADER);
        List<AuthHttpHeader> headers = raw.stream().map(AuthHttpHeader.class::cast).toList();
        return new AuthHttpSettings(url, headers, server.flag(AuthHttpModule.AUTH_HTTP_PASS_CLIENT_CERT),
                server.time(AuthHttpModule.AUTH_HTTP_TIMEOUT), server.flag(AuthHttpModule.AUTH_HTTP_KEEPALIVE));
    }
}
