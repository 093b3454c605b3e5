package org.mailproxy.smtp;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.Base64;
import org.apache.mina.core.buffer.IoBuffer;
import org.mailproxy.core.util.InetText;
import org.mailproxy.core.session.Backend;
import org.mailproxy.core.session.BackendLogin;
import org.mailproxy.core.session.MailLog;
import org.mailproxy.core.session.MailSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The SMTP login to the backend ({@code ngx_mail_proxy_smtp_handler} with
 * {@code ngx_mail_proxy_read_response}), one command per reply:
 * <ol>
 * <li>wait for the {@code 220} greeting;</li>
 * <li>with TLS toward the backend by STARTTLS ({@code proxy_ssl starttls} or
 *     {@code Auth-SSL-Backend: starttls}): {@code EHLO server_name} (expect 250), {@code STARTTLS}
 *     (expect 220), then TLS, and the steps below over it; a refusal gets the client
 *     {@code 451 4.3.2 Internal server error}, never a plaintext login;</li>
 * <li>{@code EHLO server_name} ({@code HELO} when the client said HELO and {@code xclient} is
 *     off), expect 250;</li>
 * <li>with {@code xclient on}: {@code XCLIENT ADDR=[IPV6:]ip [LOGIN=xtext] NAME=xtext}, LOGIN
 *     only with a login and {@code proxy_smtp_auth} off; expect 220 or 250; then the client's own
 *     {@code EHLO/HELO helo} when it sent one, expect 220 or 250;</li>
 * <li>with {@code proxy_smtp_auth on} (not for smtp_auth none): {@code AUTH PLAIN
 *     base64(\0login\0password)}, expect 235;</li>
 * <li>for smtp_auth none: the client's {@code MAIL FROM} (expect 250), then its {@code RCPT TO},
 *     whose reply, whatever it is, goes to the client;</li>
 * <li>otherwise the client gets {@code 235 2.0.0 OK} from the proxy;</li>
 * </ol>
 * then the relay, which sends the client's pipelined bytes first.
 *
 * <p>Replies are read whole, multi-line ones up to their last line. A reply other than expected
 * ends the session: with {@code proxy_pass_error_message on} the client gets the backend's reply,
 * otherwise {@code 451 4.3.2 Internal server error}; so do a reply longer than
 * {@code proxy_buffer}, a failed connection, a backend that closes and the {@code timeout}.
 *
 * <p>The login, password and envelope are the client's (or the auth server's) bytes, one char per
 * byte (ISO-8859-1); each command is written back as those bytes.
 */
final class SmtpBackendLogin implements BackendLogin {

    private static final Logger LOG = LoggerFactory.getLogger(SmtpBackendLogin.class);

    static final byte[] AUTH_OK = "235 2.0.0 OK\r\n".getBytes(UTF_8);

    /** What the client said before login that the backend must hear again. */
    record Envelope(String helo, boolean esmtp, String from, String to) {
    }

    /** nginx's backend states, named by what was sent last. */
    private enum State {
        START, TLS_EHLO, TLS_STARTTLS, HELO, HELO_XCLIENT, HELO_FROM, HELO_AUTH, XCLIENT, XCLIENT_HELO, XCLIENT_FROM, XCLIENT_AUTH,
        AUTH_PLAIN, FROM, TO
    }

    private final MailSession session;
    private final SmtpConfig config;
    private final String login;
    private final String password;
    private final String hostName;
    private final Envelope envelope;
    private final boolean authNone;
    private final int maxReply;
    private Backend backend;
    private State state = State.START;
    private boolean failed;

    /**
     * @param login    the login (Auth-User, else the client's), or null
     * @param password the password for {@code proxy_smtp_auth}, or null
     * @param hostName the client's name for XCLIENT NAME=: a host, {@code [UNAVAILABLE]} or {@code [TEMPUNAVAIL]}
     * @param authNone whether this is an {@code smtp_auth none} session, whose MAIL and RCPT are replayed
     * @param maxReply the longest reply accepted ({@code proxy_buffer}, nginx's backend read buffer)
     */
    SmtpBackendLogin(MailSession session, SmtpConfig config, String login, String password, String hostName,
                     Envelope envelope, boolean authNone, int maxReply) {
        this.session = session;
        this.config = config;
        this.login = login;
        this.password = password;
        this.hostName = hostName;
        this.envelope = envelope;
        this.authNone = authNone;
        this.maxReply = maxReply;
    }

    @Override
    public void onConnected(Backend connected) {
        this.backend = connected;
    }

    @Override
    public void onData(IoBuffer data) {
        if (failed) {
            data.position(data.limit());
            return;
        }
        int start = data.position();
        int end = replyEnd(data);
        if (end < 0) {
            if (data.remaining() >= maxReply) {
                LOG.error("*{} upstream sent too long response line: \"{}\"", session.id(),
                        text(data, start, Math.min(data.limit(), start + 200)));
                fail(null);
                data.position(data.limit());
            }
            return; // wait for the rest of the reply; the core keeps the bytes
        }
        if (end - start < 4 || !expected(data, start)) {
            if (state == State.TLS_EHLO || state == State.TLS_STARTTLS) {
                LOG.error("*{} upstream refused STARTTLS: \"{}\"", session.id(), text(data, start, end));
                fail(null); // never a plaintext login instead
                data.position(data.limit());
                return;
            }
            invalidResponse(data, start, end);
            return;
        }
        if (isFinal()) {
            finish(data);
            return;
        }
        data.position(data.limit()); // nginx resets its buffer after each reply
        backend.write(next().getBytes(ISO_8859_1));
    }

    @Override
    public void onClose(Failure failure) {
        LOG.debug("*{} upstream login ended: {}", session.id(), failure);
        if (!failed) {
            failed = true;
            session.write(SmtpHandler.INTERNAL_SERVER_ERROR);
        }
    }

    /** Whether the reply just read ends the login (the states nginx hands over to the relay in). */
    private boolean isFinal() {
        return state == State.HELO || state == State.XCLIENT || state == State.TO || state == State.AUTH_PLAIN;
    }

    /** The next command, and the state it leads to. */
    private String next() {
        switch (state) {
        case START: {
            if (backend.mustStartTls()) {
                state = State.TLS_EHLO;
                return "EHLO " + serverName() + "\r\n";
            }
            boolean ehlo = envelope.esmtp() || config.xclient();
            String line = (ehlo ? "EHLO " : "HELO ") + serverName() + "\r\n";
            state = config.xclient() ? State.HELO_XCLIENT
                    : authNone ? State.HELO_FROM
                    : config.proxySmtpAuth() ? State.HELO_AUTH
                    : State.HELO;
            return line;
        }
        case TLS_EHLO:
            state = State.TLS_STARTTLS;
            return "STARTTLS\r\n";
        case TLS_STARTTLS:
            backend.startTls(); // what came after the 220, in clear, was dropped with the buffer
            state = State.START;
            return next(); // EHLO again, now encrypted, and on as without TLS
        case HELO_XCLIENT: {
            String line = xclient();
            state = envelope.helo() != null ? State.XCLIENT_HELO
                    : authNone ? State.XCLIENT_FROM
                    : config.proxySmtpAuth() ? State.XCLIENT_AUTH
                    : State.XCLIENT;
            return line;
        }
        case XCLIENT_HELO: {
            String line = (envelope.esmtp() ? "EHLO " : "HELO ") + envelope.helo() + "\r\n";
            state = authNone ? State.HELO_FROM : config.proxySmtpAuth() ? State.HELO_AUTH : State.HELO;
            return line;
        }
        case HELO_AUTH:
        case XCLIENT_AUTH: {
            byte[] plain = ("\0" + (login == null ? "" : login) + "\0" + password).getBytes(ISO_8859_1);
            state = State.AUTH_PLAIN;
            return "AUTH PLAIN " + Base64.getEncoder().encodeToString(plain) + "\r\n";
        }
        case HELO_FROM:
        case XCLIENT_FROM:
            state = State.FROM;
            return envelope.from() + "\r\n";
        case FROM:
            state = State.TO;
            return envelope.to() + "\r\n";
        default:
            throw new IllegalStateException(state.toString());
        }
    }

    /** server_name (configuration text, UTF-8) as one char per byte, like the rest of the line. */
    private String serverName() {
        return new String(config.serverName().getBytes(UTF_8), ISO_8859_1);
    }

    /**
     * {@code XCLIENT ADDR=... [LOGIN=...] NAME=...}: the address as nginx's {@code addr_text}
     * ({@link InetText#text}), after {@code IPV6:} for an IPv6 client; LOGIN and NAME in xtext.
     * Java gives an IPv4-mapped client as an IPv4 address, so it is sent as {@code ADDR=a.b.c.d},
     * where nginx on a dual-stack socket sends {@code ADDR=IPV6:::ffff:a.b.c.d} (which a Postfix
     * without IPv6 refuses).
     */
    private String xclient() {
        InetAddress address = session.clientAddress().getAddress();
        StringBuilder line = new StringBuilder("XCLIENT ADDR=");
        if (address instanceof Inet6Address) {
            line.append("IPV6:");
        }
        line.append(InetText.text(address));
        if (login != null && !login.isEmpty() && !config.proxySmtpAuth()) {
            line.append(" LOGIN=").append(Xtext.encode(login));
        }
        line.append(" NAME=").append(Xtext.encode(hostName));
        return line.append("\r\n").toString();
    }

    /** The codes each state accepts ({@code ngx_mail_proxy_read_response}). */
    private boolean expected(IoBuffer data, int p) {
        byte c0 = data.get(p);
        byte c1 = data.get(p + 1);
        byte c2 = data.get(p + 2);
        switch (state) {
        case START:
        case TLS_STARTTLS:
            return c0 == '2' && c1 == '2' && c2 == '0';
        case TLS_EHLO:
            return c0 == '2' && c1 == '5' && c2 == '0';
        case HELO:
        case HELO_XCLIENT:
        case HELO_FROM:
        case HELO_AUTH:
        case FROM:
            return c0 == '2' && c1 == '5' && c2 == '0';
        case XCLIENT:
        case XCLIENT_FROM:
        case XCLIENT_HELO:
        case XCLIENT_AUTH:
            return c0 == '2' && (c1 == '2' || c1 == '5') && c2 == '0';
        case AUTH_PLAIN:
            return c0 == '2' && c1 == '3' && c2 == '5';
        case TO:
            return true;
        default:
            return false;
        }
    }

    /** Login done: the client gets the RCPT reply (smtp_auth none) or {@code 235 2.0.0 OK}. */
    private void finish(IoBuffer data) {
        LOG.debug("*{} upstream login done", session.id());
        if (authNone) {
            session.startRelay(data); // from the RCPT reply on, as it came
        } else {
            data.position(data.limit());
            session.startRelay(IoBuffer.wrap(AUTH_OK));
        }
    }

    /** The backend refused a step: its reply goes to the client only with proxy_pass_error_message on. */
    private void invalidResponse(IoBuffer data, int start, int end) {
        String reply = text(data, start, end);
        if (!config.passErrorMessage()) {
            MailLog.log(LOG, "error", session.id(), MailLog.READING_UPSTREAM, "upstream sent invalid response: \"" + reply + "\"");
            fail(null);
            data.position(data.limit());
            return;
        }
        MailLog.log(LOG, "info", session.id(), MailLog.READING_UPSTREAM, "upstream sent invalid response: \"" + reply + "\"");
        byte[] out = new byte[data.remaining()];
        data.get(out);
        fail(out);
    }

    private void fail(byte[] reply) {
        failed = true;
        session.write(reply != null ? reply : SmtpHandler.INTERNAL_SERVER_ERROR);
        session.closeAfterWrite();
    }

    /**
     * The index just past the last line of the first complete reply, or -1: lines end with LF,
     * and a reply's last line is one whose fourth byte is not {@code '-'}.
     */
    private static int replyEnd(IoBuffer data) {
        int lineStart = data.position();
        for (int i = lineStart; i < data.limit(); i++) {
            if (data.get(i) == '\n') {
                boolean more = i - lineStart >= 4 && data.get(lineStart + 3) == '-';
                if (!more) {
                    return i + 1;
                }
                lineStart = i + 1;
            }
        }
        return -1;
    }

    /** The bytes as one line for the log, CR and LF shown as spaces, without the final CRLF. */
    private static String text(IoBuffer data, int start, int end) {
        int stop = end;
        while (stop > start && (data.get(stop - 1) == '\n' || data.get(stop - 1) == '\r')) {
            stop--;
        }
        byte[] b = new byte[Math.max(0, stop - start)];
        for (int i = 0; i < b.length; i++) {
            byte c = data.get(start + i);
            b[i] = c == '\r' || c == '\n' ? (byte) ' ' : c;
        }
        return new String(b, UTF_8);
    }
}
