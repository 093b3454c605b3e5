package org.mailproxy.auth.http.internal;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import org.mailproxy.core.config.Values;
import org.mailproxy.core.spi.AuthRequest;
import org.mailproxy.core.spi.AuthResult;
import org.mailproxy.core.spi.BackendTlsMode;
import org.mailproxy.core.util.InetText;

/**
 * What the headers of an auth_http response mean, as {@code ngx_mail_auth_http_process_headers()}
 * decides it. Header names are compared without case; values are taken as sent (OK and WAIT are
 * case-sensitive); a repeated header's last value counts; unknown headers are ignored.
 *
 * <ol>
 * <li>{@code Auth-Status} other than {@code OK} / {@code WAIT} is an error whose text is shown to
 *     the client (for SMTP an empty text is no error, as in nginx), with {@code Auth-Wait} seconds
 *     before the client may retry (without it, or with 0, the connection is closed after the
 *     error), {@code Auth-Error-Code} (SMTP; {@code 535 5.7.0} when absent) and
 *     {@code Auth-Error-SASL} (only for xoauth2 / oauthbearer, as in Angie);</li>
 * <li>else {@code WAIT}: ask again after {@code Auth-Wait} seconds;</li>
 * <li>else (OK, or no Auth-Status at all: nginx does not require it) the login is accepted when
 *     {@code Auth-Server} and {@code Auth-Port} are present, IMAP/POP3 have a password for the
 *     backend (the client's plaintext one or {@code Auth-Pass}), the server is an IP literal and
 *     the port is 1..65535; each failure is a temporary error with nginx's log text.</li>
 * </ol>
 *
 * <p>{@code Auth-SSL-Backend: on|starttls|off} (this project's own header, which nginx-compatible
 * auth servers never send and nginx would ignore) chooses TLS toward the backend for this login,
 * overriding the server's {@code proxy_ssl}; any other value makes the answer unusable (a
 * temporary error), so a typo never silently means plaintext.
 */
final class AuthHttpResponse {

    /** nginx's default SMTP error code ({@code ngx_mail_smtp_errcode}). */
    static final String SMTP_ERROR_CODE = "535 5.7.0";

    /** The longest Auth-Wait honoured: nginx timers are 32-bit milliseconds. */
    static final long MAX_WAIT_SECONDS = Integer.MAX_VALUE / 1000;

    private AuthHttpResponse() {
    }

    /** The outcome of one response. */
    sealed interface Decision {
    }

    /** A final answer for the protocol. */
    record Final(AuthResult result) implements Decision {
    }

    /** {@code Auth-Status: WAIT}: send the same request again after this many seconds. */
    record Wait(long seconds) implements Decision {
    }

    /** The response is unusable: the message, without the peer name, as nginx logs it. */
    record Unusable(String message) implements Decision {
    }

    static Decision interpret(List<ResponseParser.Header> headers, AuthRequest request) {
        boolean smtp = "smtp".equals(request.protocol());
        String method = AuthHttpRequest.method(request);
        boolean oauth = "xoauth2".equals(method) || "oauthbearer".equals(method);

        boolean error = false;
        String errorMessage = null;
        boolean wait = false;
        String addr = "";
        String port = "";
        String user = null;
        String pass = null;
        long sleep = 0;
        String errorCode = "";
        String errorSasl = null;
        String sslBackend = null;

        for (ResponseParser.Header h : headers) {
            if (h.is("Auth-Status")) {
                String v = h.text();
                if (v.equals("OK")) {
                    continue;
                }
                if (v.equals("WAIT")) {
                    wait = true;
                    continue;
                }
                errorMessage = v;
                // nginx keeps the error as a reply line for POP3/IMAP, as the bare text for SMTP
                error = !smtp || !v.isEmpty();
            } else if (h.is("Auth-Server")) {
                addr = h.text();
            } else if (h.is("Auth-Port")) {
                port = h.text();
            } else if (h.is("Auth-User")) {
                user = h.bytesAsText();
            } else if (h.is("Auth-Pass")) {
                pass = h.bytesAsText();
            } else if (h.is("Auth-Wait")) {
                long n = Values.parseNumber(h.text());
                if (n >= 0) {
                    sleep = n;
                }
            } else if (h.is("Auth-Error-Code")) {
                errorCode = h.text();
            } else if (h.is("Auth-SSL-Backend")) {
                sslBackend = h.text();
            } else if (h.is("Auth-Error-SASL")) {
                if (oauth) {
                    errorSasl = h.text();
                }
            }
        }

        if (error) {
            Duration retry = sleep == 0 ? null : Duration.ofSeconds(Math.min(sleep, MAX_WAIT_SECONDS));
            String code = errorCode.isEmpty() ? (smtp ? SMTP_ERROR_CODE : null) : errorCode;
            return new Final(new AuthResult.Failure(errorMessage, retry, code, errorSasl));
        }
        if (wait) {
            return new Wait(Math.min(sleep, MAX_WAIT_SECONDS));
        }
        if (addr.isEmpty() || port.isEmpty()) {
            return new Unusable("did not send server or port");
        }
        boolean plaintext = hasPlaintextPassword(request, method);
        if (!smtp && !plaintext && pass == null) {
            return new Unusable("did not send password");
        }
        InetAddress ip = InetText.parseAddress(addr);
        if (ip == null) {
            return new Unusable("sent invalid server address:\"" + Escape.forLog(addr) + "\"");
        }
        long n = Values.parseNumber(port);
        if (n < 1 || n > 65535) {
            return new Unusable("sent invalid server port:\"" + Escape.forLog(port) + "\"");
        }
        BackendTlsMode backendTls = null;
        if (sslBackend != null) {
            backendTls = BackendTlsMode.parse(sslBackend);
            if (backendTls == null) {
                return new Unusable("sent invalid Auth-SSL-Backend:\"" + Escape.forLog(sslBackend) + "\"");
            }
        }
        String backendUser = user != null ? user : request.user();
        String backendPass = pass != null ? pass : plaintext ? request.password() : null;
        return new Final(new AuthResult.Ok(new InetSocketAddress(ip, (int) n), backendUser, backendPass, backendTls));
    }

    /**
     * Whether the session still holds a password it can give the backend: nginx's
     * {@code s->passwd.data != NULL}. Not after apop / cram-md5 (the request sent the salt and
     * nginx dropped the digest), not for external (no password was ever read).
     */
    static boolean hasPlaintextPassword(AuthRequest request, String method) {
        if ("external".equals(method) || "none".equals(method)) {
            return false;
        }
        return !AuthHttpRequest.sendsSalt(request);
    }
}
