package org.mailproxy.auth.http.internal;

import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import org.mailproxy.core.spi.AuthRequest;
import org.mailproxy.core.util.InetText;

/**
 * Builds the auth_http request as {@code ngx_mail_auth_http_create_request()} does (Angie's, the
 * most complete: Auth-SSL-Protocol/Cipher, Proxy-Protocol-*, xoauth2/oauthbearer), header by
 * header in the same order:
 *
 * <pre>
 * GET uri HTTP/1.0
 * Host, Auth-Method, Auth-User, Auth-Pass, [Auth-Salt], Auth-Protocol, Auth-Login-Attempt,
 * Client-IP, [Client-Host], [Proxy-Protocol-Addr, -Port, -Server-Addr, -Server-Port],
 * [Auth-SMTP-Helo, -From, -To], [Auth-SSL, -Protocol, -Cipher, -Verify, -Subject, -Issuer,
 * -Serial, -Fingerprint, -Cert], the auth_http_header lines, [Connection: keep-alive], an empty line
 * </pre>
 *
 * <p>The one line nginx does not send, {@code Connection: keep-alive}, comes last, with
 * {@code auth_http_keepalive on} (the default), unless an {@code auth_http_header} line
 * sends a {@code Connection} header already; see {@link KeepAlive} for why HTTP/1.0 stays.
 *
 * <p>Auth-User, Auth-Pass and Auth-SSL-Cert are escaped with {@link Escape#mailAuth}; the other
 * client-dependent values with {@link Escape#lineSafe}. What the client sent (login, password, SMTP
 * envelope) goes out as the client's bytes: the SPI carries them one char per byte
 * (ISO-8859-1), and nginx's escaping leaves bytes from 0x7F on as they are.
 */
final class AuthHttpRequest {

    private static final byte[] CRLF = {'\r', '\n'};

    /** {@code ngx_mail_auth_http_method[]}: plain, login (and login with username) are all "plain". */
    private static final Map<String, String> METHODS = Map.of(
            "plain", "plain",
            "login", "plain",
            "login-username", "plain",
            "apop", "apop",
            "cram-md5", "cram-md5",
            "external", "external",
            "xoauth2", "xoauth2",
            "oauthbearer", "oauthbearer",
            "none", "none");

    private AuthHttpRequest() {
    }

    /** The Auth-Method value of a request's method, or null when nginx knows no such method. */
    static String method(AuthRequest request) {
        return METHODS.get(request.method().toLowerCase(Locale.ROOT));
    }

    /** Whether the request carries Auth-Salt: apop and cram-md5 with a salt (nginx then forgets the password). */
    static boolean sendsSalt(AuthRequest request) {
        String m = method(request);
        return ("apop".equals(m) || "cram-md5".equals(m)) && request.salt() != null && !request.salt().isEmpty();
    }

    /**
     * The request bytes.
     *
     * @throws IllegalArgumentException for an auth method nginx does not know
     */
    static byte[] build(AuthRequest r, AuthHttpSettings settings) {
        String method = method(r);
        if (method == null) {
            throw new IllegalArgumentException("unknown auth method \"" + r.method() + "\"");
        }
        AuthHttpUrl url = settings.url();
        Out out = new Out();

        out.ascii("GET ").text(url.uri()).ascii(" HTTP/1.0").crlf();
        out.header("Host", url.hostHeader());
        out.header("Auth-Method", method);
        out.ascii("Auth-User: ").raw(Escape.mailAuth(clientBytes(r.user()))).crlf();
        out.ascii("Auth-Pass: ").raw(Escape.mailAuth(clientBytes(r.password()))).crlf();
        if (sendsSalt(r)) {
            // nginx copies s->salt, which ends in CRLF, as the whole line
            String salt = r.salt().endsWith("\r\n") ? r.salt().substring(0, r.salt().length() - 2) : r.salt();
            out.ascii("Auth-Salt: ").safe(salt).crlf();
        }
        out.header("Auth-Protocol", r.protocol());
        out.header("Auth-Login-Attempt", Integer.toUnsignedString(r.loginAttempt()));
        out.header("Client-IP", InetText.host(r.client()));
        if (r.clientHost() != null && !r.clientHost().isEmpty()) {
            out.ascii("Client-Host: ").safe(r.clientHost()).crlf();
        }
        if (r.proxyProtocol() != null) {
            InetSocketAddress src = r.proxyProtocol().source();
            InetSocketAddress dst = r.proxyProtocol().destination();
            out.ascii("Proxy-Protocol-Addr: ").safe(src == null ? "" : InetText.host(src)).crlf();
            out.header("Proxy-Protocol-Port", src == null ? "0" : Integer.toString(src.getPort()));
            out.ascii("Proxy-Protocol-Server-Addr: ").safe(dst == null ? "" : InetText.host(dst)).crlf();
            out.header("Proxy-Protocol-Server-Port", dst == null ? "0" : Integer.toString(dst.getPort()));
        }
        if ("none".equals(method)) {
            AuthRequest.SmtpEnvelope e = r.smtp();
            out.ascii("Auth-SMTP-Helo: ").client(e == null ? null : e.helo()).crlf();
            out.ascii("Auth-SMTP-From: ").client(e == null ? null : e.from()).crlf();
            out.ascii("Auth-SMTP-To: ").client(e == null ? null : e.to()).crlf();
        }
        AuthRequest.TlsInfo tls = r.tls();
        if (tls != null) {
            out.ascii("Auth-SSL: on").crlf();
            out.optional("Auth-SSL-Protocol", tls.protocol());
            out.optional("Auth-SSL-Cipher", tls.cipher());
            out.optional("Auth-SSL-Verify", tls.verify());
            out.optional("Auth-SSL-Subject", tls.subject());
            out.optional("Auth-SSL-Issuer", tls.issuer());
            out.optional("Auth-SSL-Serial", tls.serial());
            out.optional("Auth-SSL-Fingerprint", tls.fingerprint());
            if (settings.passClientCert() && tls.certificate() != null && !tls.certificate().isEmpty()) {
                out.ascii("Auth-SSL-Cert: ").raw(Escape.mailAuth(utf8(tls.certificate()))).crlf();
            }
        }
        boolean ownConnection = false;
        for (AuthHttpHeader h : settings.headers()) {
            // configuration text, copied as nginx copies it
            out.text(h.name()).ascii(": ").text(h.value()).crlf();
            ownConnection |= h.name().equalsIgnoreCase("Connection");
        }
        if (settings.reuseConnections() && !ownConnection) {
            // beyond nginx: ask to keep the connection, after all of nginx's lines (see KeepAlive)
            out.ascii(KeepAlive.REQUEST_HEADER).crlf();
        }
        out.crlf();
        return out.bytes();
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** What the client sent, back to its bytes: the SPI hands them over one char per byte. */
    private static byte[] clientBytes(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    /** A byte buffer with the few appenders the request needs. */
    private static final class Out {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream(512);

        Out ascii(String s) {
            bytes.writeBytes(s.getBytes(StandardCharsets.US_ASCII));
            return this;
        }

        Out text(String s) {
            bytes.writeBytes(utf8(s));
            return this;
        }

        Out raw(byte[] b) {
            bytes.writeBytes(b);
            return this;
        }

        /** A value nginx copies unescaped; only NUL, CR and LF are escaped. */
        Out safe(String s) {
            return s == null ? this : raw(Escape.lineSafe(utf8(s)));
        }

        /** Bytes the client sent (one char per byte), copied as {@link #safe} copies text. */
        Out client(String s) {
            return s == null ? this : raw(Escape.lineSafe(clientBytes(s)));
        }

        Out crlf() {
            bytes.writeBytes(CRLF);
            return this;
        }

        Out header(String name, String value) {
            return ascii(name).ascii(": ").safe(value).crlf();
        }

        Out optional(String name, String value) {
            return value == null || value.isEmpty() ? this : header(name, value);
        }

        byte[] bytes() {
            return bytes.toByteArray();
        }
    }
}
