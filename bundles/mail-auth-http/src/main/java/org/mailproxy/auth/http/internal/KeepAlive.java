package org.mailproxy.auth.http.internal;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import org.mailproxy.core.config.Values;

/**
 * Connection reuse with the auth server ({@code auth_http_keepalive on}, the default), beyond
 * nginx, which opens a new connection for every request and closes it after the headers.
 *
 * <h2>What is sent</h2>
 * The request stays nginx's {@code GET uri HTTP/1.0} with nginx's headers in nginx's order and
 * escaping; one line is added after the last of them (after the {@code auth_http_header} lines):
 * {@code Connection: keep-alive}, HTTP/1.0's way to ask for a persistent connection. Not
 * HTTP/1.1, because:
 * <ul>
 * <li>auth servers are written against nginx's requests; some log or check the request line, and
 *     the byte-exact nginx request stays a prefix of ours;</li>
 * <li>a server must not send a chunked body to an HTTP/1.0 client, so every response is either
 *     framed by {@code Content-Length} or ended by closing the connection: no chunked decoding,
 *     no trailers, no {@code 100 Continue};</li>
 * <li>with HTTP/1.1 persistence is the default, so a server that does not want it must say
 *     {@code Connection: close}; with HTTP/1.0 a server that does not understand the header
 *     simply answers and closes, as it always did: asking is harmless, which is what makes
 *     {@code on} a safe default;</li>
 * <li>the servers auth_http is used with honour it: nginx's own {@code http} servers and Apache
 *     (answering {@code Connection: keep-alive}), the JDK's {@code HttpServer}, Python's
 *     {@code http.server} with {@code protocol_version = "HTTP/1.1"} (answering {@code HTTP/1.1}
 *     without a {@code Connection} header), most frameworks.</li>
 * </ul>
 * When the operator sends a {@code Connection} header of their own with {@code auth_http_header},
 * that one is sent alone (never two), and the answer still decides.
 *
 * <h2>When a connection is kept</h2>
 * Only when the server says so and the end of its response is known ({@link #check}):
 * <ul>
 * <li>the response starts with a well-formed {@code HTTP/1.x NNN} status line, not 1xx;</li>
 * <li>{@code HTTP/1.1} (or 1.x above) without a {@code close} token in {@code Connection}, or
 *     {@code HTTP/1.0} with a {@code keep-alive} token;</li>
 * <li>the body length is known: {@code 204} and {@code 304} have none, otherwise a single valid
 *     {@code Content-Length}; any {@code Transfer-Encoding} (chunked) is not kept: an HTTP/1.0
 *     request must not get one, a server sending it anyway is not trusted with the framing;</li>
 * <li>the body (read and discarded after the headers, without delaying the login) is at most
 *     {@link Limits#maxDrain} bytes, and no byte comes beyond it;</li>
 * <li>{@code Keep-Alive: max=0} or {@code timeout=0} is no reuse; a {@code timeout=N} makes the
 *     connection idle at most three quarters of N seconds, so that it is given up before the
 *     server gives up on it.</li>
 * </ul>
 * Everything else is closed after the headers, as nginx does.
 */
final class KeepAlive {

    /** The line added to the request, CRLF excluded. */
    static final String REQUEST_HEADER = "Connection: keep-alive";

    private KeepAlive() {
    }

    /**
     * The pool's limits, per auth_http address.
     *
     * @param maxIdle     idle connections kept at most; more are closed when their request ends
     * @param idleTimeout how long an idle connection is kept (less when the server says less)
     * @param maxDrain    the longest body read and discarded to keep a connection
     */
    record Limits(int maxIdle, Duration idleTimeout, long maxDrain) {

        static final Limits DEFAULT = new Limits(32, Duration.ofSeconds(30), 64 * 1024);

        /** The idle time for a connection whose last response allowed this reuse. */
        long idleMillis(Reuse reuse) {
            long mine = idleTimeout.toMillis();
            return reuse.serverIdleMillis() < 0 ? mine : Math.min(mine, reuse.serverIdleMillis() * 3 / 4);
        }
    }

    /**
     * A response after which the connection may be used again.
     *
     * @param bodyLeft         body bytes still to come, to be read and discarded first
     * @param serverIdleMillis the server's {@code Keep-Alive: timeout}, -1 when not given
     */
    record Reuse(long bodyLeft, long serverIdleMillis) {
    }

    /**
     * Whether the connection may be used again after this response.
     *
     * @param statusLine the status line ({@link ResponseParser#statusLineText()}), null if none
     * @param headers    all response headers
     * @param bodySeen   body bytes received with the headers already
     * @return how to reuse it, or null to close it
     */
    static Reuse check(String statusLine, List<ResponseParser.Header> headers, long bodySeen, Limits limits) {
        if (statusLine == null || !statusLine.startsWith("HTTP/1.")) {
            return null;
        }
        int p = "HTTP/1.".length();
        int minorStart = p;
        while (p < statusLine.length() && isDigit(statusLine.charAt(p))) {
            p++;
        }
        if (p == minorStart || p - minorStart > 3 || p + 4 > statusLine.length() || statusLine.charAt(p) != ' ') {
            return null;
        }
        boolean http11 = Integer.parseInt(statusLine, minorStart, p, 10) >= 1;
        p++;
        if (!isDigit(statusLine.charAt(p)) || !isDigit(statusLine.charAt(p + 1)) || !isDigit(statusLine.charAt(p + 2))
                || p + 3 < statusLine.length() && statusLine.charAt(p + 3) != ' ') {
            return null;
        }
        int code = Integer.parseInt(statusLine, p, p + 3, 10);
        if (code < 200) {
            return null;
        }

        boolean close = false;
        boolean keepAlive = false;
        long length = -1;
        long serverTimeout = -1;
        for (ResponseParser.Header h : headers) {
            if (h.is("Connection")) {
                for (String token : h.text().split(",")) {
                    String t = token.trim().toLowerCase(Locale.ROOT);
                    close |= t.equals("close");
                    keepAlive |= t.equals("keep-alive");
                }
            } else if (h.is("Transfer-Encoding")) {
                return null;
            } else if (h.is("Content-Length")) {
                long n = Values.parseNumber(h.text().trim());
                if (n < 0 || length >= 0 && n != length) {
                    return null;
                }
                length = n;
            } else if (h.is("Keep-Alive")) {
                for (String param : h.text().split(",")) {
                    int eq = param.indexOf('=');
                    if (eq < 0) {
                        continue;
                    }
                    String name = param.substring(0, eq).trim().toLowerCase(Locale.ROOT);
                    String value = unquote(param.substring(eq + 1).trim());
                    long n = Values.parseNumber(value);
                    if (name.equals("max") && n == 0 || name.equals("timeout") && n == 0) {
                        return null;
                    }
                    if (name.equals("timeout") && n > 0) {
                        serverTimeout = n > Long.MAX_VALUE / 1000 ? Long.MAX_VALUE : n * 1000;
                    }
                }
            }
        }
        if (close || !http11 && !keepAlive) {
            return null;
        }
        if (code == 204 || code == 304) {
            length = 0;
        }
        if (length < 0) {
            return null;
        }
        long left = length - bodySeen;
        if (left < 0 || left > limits.maxDrain()) {
            return null;
        }
        return new Reuse(left, serverTimeout);
    }

    private static String unquote(String s) {
        return s.length() >= 2 && s.charAt(0) == '"' && s.charAt(s.length() - 1) == '"'
                ? s.substring(1, s.length() - 1) : s;
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }
}
