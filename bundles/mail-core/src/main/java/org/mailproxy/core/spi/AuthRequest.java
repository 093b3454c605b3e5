package org.mailproxy.core.spi;

import java.net.InetSocketAddress;
import java.util.Objects;

/**
 * What a protocol hands to the {@link Authenticator} after a client's login command: everything
 * nginx's auth_http module puts into its request (Auth-Method, Auth-User, Auth-Pass, Auth-Salt,
 * Auth-Protocol, Auth-Login-Attempt, Client-IP, Client-Host, Proxy-Protocol-*, Auth-SMTP-*).
 *
 * <p>{@link #toString()} never shows the password: requests may be logged.
 *
 * @param method        auth method as nginx names it: plain, login, apop, cram-md5, external, none,
 *                      xoauth2, oauthbearer
 * @param user          login as the client sent it (raw, unescaped)
 * @param password      password, digest (apop, cram-md5) or bearer token; empty when none
 * @param salt          the challenge for apop / cram-md5 (including its CRLF as nginx sends it), or null
 * @param protocol      imap, pop3 or smtp
 * @param loginAttempt  1-based attempt number in this session
 * @param client        the client's address (after PROXY protocol / real-ip, when those apply)
 * @param clientHost    the client's resolved host name, or null when not resolved
 * @param proxyProtocol the addresses received in a PROXY protocol header, or null
 * @param smtp          SMTP envelope for {@code smtp_auth none}, or null
 */
public record AuthRequest(String method, String user, String password, String salt, String protocol,
                          int loginAttempt, InetSocketAddress client, String clientHost,
                          ProxyProtocolInfo proxyProtocol, SmtpEnvelope smtp) {

    public AuthRequest {
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(protocol, "protocol");
        Objects.requireNonNull(client, "client");
        user = user == null ? "" : user;
        password = password == null ? "" : password;
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
}
