package org.mailproxy.core.spi;

import java.net.InetSocketAddress;
import java.util.Objects;

/**
 * What a protocol hands to the {@link Authenticator} after a client's login command: everything
 * nginx's auth_http module puts into its request (Auth-Method, Auth-User, Auth-Pass, Auth-Salt,
 * Auth-Protocol, Auth-Login-Attempt, Client-IP, Client-Host, Proxy-Protocol-*, Auth-SMTP-*,
 * Auth-SSL-*), plus what its log lines name (session id, listening address).
 *
 * <p>What the client sent ({@code user}, {@code password}, the SMTP envelope) is its
 * bytes, one char per byte: decoded as ISO-8859-1, so that any byte, 0x80-0xFF included, survives
 * (nginx passes the client's bytes on unchanged, and a login in Latin-1 or in invalid UTF-8 must
 * reach the auth server and the backend as it was typed). The authenticator encodes these values
 * back as ISO-8859-1 and escapes them where nginx does. Raw values go here, unescaped: escaping is
 * the authenticator's job. The other text (salt, host names, TLS
 * details) is ordinary text.
 *
 * <p>{@link #toString()} never shows the password: requests may be logged.
 *
 * @param method        auth method as nginx names it: plain, login, apop, cram-md5, external, none,
 *                      xoauth2, oauthbearer
 * @param user          login as the client sent it (raw, unescaped); for external the authzid,
 *                      for xoauth2/oauthbearer the {@code user=} / {@code a=} value
 * @param password      password, digest (apop, cram-md5) or bearer token; empty when none
 * @param salt          the session's challenge {@code <rand.time@server_name>} followed by CRLF, as
 *                      nginx keeps it, or null; sent (as Auth-Salt) only for apop and cram-md5
 * @param protocol      imap, pop3 or smtp
 * @param loginAttempt  1-based attempt number in this session
 * @param client        the client's address (after PROXY protocol / real-ip, when those apply)
 * @param clientHost    the client's resolved host name, or null when not resolved
 * @param proxyProtocol the addresses received in a PROXY protocol header, or null
 * @param smtp          SMTP envelope for {@code smtp_auth none}, or null
 * @param tls           the client connection's TLS details, or null when it is not TLS
 * @param sessionId     the session's number for log lines ({@code *id}), 0 when unknown
 * @param local         the address the client connected to, for log lines ({@code server:}), or null
 */
public record AuthRequest(String method, String user, String password, String salt, String protocol,
                          int loginAttempt, InetSocketAddress client, String clientHost,
                          ProxyProtocolInfo proxyProtocol, SmtpEnvelope smtp, TlsInfo tls,
                          long sessionId, InetSocketAddress local) {

    public AuthRequest {
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(protocol, "protocol");
        Objects.requireNonNull(client, "client");
        user = user == null ? "" : user;
        password = password == null ? "" : password;
    }

    /** A request without TLS details and log context (the first form of this record). */
    public AuthRequest(String method, String user, String password, String salt, String protocol,
                       int loginAttempt, InetSocketAddress client, String clientHost,
                       ProxyProtocolInfo proxyProtocol, SmtpEnvelope smtp) {
        this(method, user, password, salt, protocol, loginAttempt, client, clientHost, proxyProtocol, smtp,
                null, 0, null);
    }

    /** The same request with TLS details (null: not TLS). */
    public AuthRequest withTls(TlsInfo info) {
        return new AuthRequest(method, user, password, salt, protocol, loginAttempt, client, clientHost,
                proxyProtocol, smtp, info, sessionId, local);
    }

    /** The same request with the log context of its session. */
    public AuthRequest withSession(long id, InetSocketAddress localAddress) {
        return new AuthRequest(method, user, password, salt, protocol, loginAttempt, client, clientHost,
                proxyProtocol, smtp, tls, id, localAddress);
    }

    @Override
    public String toString() {
        return "AuthRequest[method=" + method + ", user=" + user + ", protocol=" + protocol
                + ", attempt=" + loginAttempt + ", client=" + client + "]";
    }

    /** Source and destination announced by a PROXY protocol header. */
    public record ProxyProtocolInfo(InetSocketAddress source, InetSocketAddress destination) {
    }

    /** HELO, MAIL FROM and RCPT TO lines as the client sent them (for {@code smtp_auth none}). */
    public record SmtpEnvelope(String helo, String from, String to) {
    }

    /**
     * The client connection's TLS, as nginx reports it in the Auth-SSL-* headers. Every field may
     * be null (or empty), and is then not sent. nginx fills the certificate fields only when
     * {@code ssl_verify_client} is not {@code off}; leave them null otherwise.
     *
     * @param protocol    Auth-SSL-Protocol, e.g. {@code TLSv1.3}
     * @param cipher      Auth-SSL-Cipher, the cipher suite name
     * @param verify      Auth-SSL-Verify: {@code SUCCESS}, {@code FAILED:reason} or {@code NONE}
     * @param subject     Auth-SSL-Subject, the client certificate's subject DN (RFC 2253)
     * @param issuer      Auth-SSL-Issuer, its issuer DN
     * @param serial      Auth-SSL-Serial, its serial number in hex
     * @param fingerprint Auth-SSL-Fingerprint, the SHA-1 of its DER in hex
     * @param certificate the client certificate in PEM (sent urlencoded as Auth-SSL-Cert with
     *                    {@code auth_http_pass_client_cert on})
     */
    public record TlsInfo(String protocol, String cipher, String verify, String subject, String issuer,
                          String serial, String fingerprint, String certificate) {

        @Override
        public String toString() {
            return "TlsInfo[protocol=" + protocol + ", cipher=" + cipher + ", verify=" + verify
                    + ", subject=" + subject + "]";
        }
    }
}
