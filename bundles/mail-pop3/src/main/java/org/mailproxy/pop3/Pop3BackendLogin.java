package org.mailproxy.pop3;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;

import org.apache.mina.core.buffer.IoBuffer;
import org.mailproxy.core.session.Backend;
import org.mailproxy.core.session.BackendLogin;
import org.mailproxy.core.session.MailLog;
import org.mailproxy.core.session.MailSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The POP3 login to the backend ({@code ngx_mail_proxy_pop3_handler} with
 * {@code ngx_mail_proxy_read_response}): wait for the {@code +OK} greeting, send
 * {@code USER login}, wait for {@code +OK}, send {@code PASS password}, and hand the backend's
 * reply to PASS (with whatever follows it) to the relay, which gives it to the client before the
 * commands the client pipelined. Always USER/PASS, whatever method the client used.
 *
 * <p>With TLS toward the backend by STLS ({@code proxy_ssl starttls} or
 * {@code Auth-SSL-Backend: starttls}) {@code STLS} goes first; after its {@code +OK} the
 * connection switches to TLS and USER follows encrypted. A refused STLS gets the client
 * {@code -ERR internal server error}, never a plaintext login.
 *
 * <p>A reply that does not start with {@code +OK} ends the session: with
 * {@code proxy_pass_error_message on} the client gets the backend's own text (for servers that
 * refuse a correct password with a reason), otherwise {@code -ERR internal server error}; so do a
 * reply line longer than {@code proxy_buffer}, a failed connection, a backend that closes and the
 * {@code timeout}.
 */
final class Pop3BackendLogin implements BackendLogin {

    private static final Logger LOG = LoggerFactory.getLogger(Pop3BackendLogin.class);

    private enum State { GREETING, STLS, USER, PASS }

    private final MailSession session;
    /** The login and password: the client's or the auth server's bytes, one char per byte (ISO-8859-1). */
    private final String user;
    private final String password;
    private final boolean passErrorMessage;
    private final int maxLine;
    private Backend backend;
    private State state = State.GREETING;
    /** The login failed and the client has its answer: later events change nothing. */
    private boolean failed;

    /**
     * @param maxLine the longest reply line accepted ({@code proxy_buffer}, the size of nginx's
     *                read buffer for the backend)
     */
    Pop3BackendLogin(MailSession session, String user, String password, boolean passErrorMessage, int maxLine) {
        this.session = session;
        this.user = user;
        this.password = password;
        this.passErrorMessage = passErrorMessage;
        this.maxLine = maxLine;
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
        int end = lineEnd(data);
        if (end < 0) {
            if (data.remaining() >= maxLine) {
                LOG.error("*{} upstream sent too long response line", session.id());
                fail(null);
                data.position(data.limit());
            }
            return; // wait for the rest of the line; the core keeps the bytes
        }
        if (!isOk(data, start, end)) {
            if (state == State.STLS) {
                LOG.error("*{} upstream refused STLS: \"{}\"", session.id(), text(data, start, end));
                fail(null); // never a plaintext login instead
                data.position(data.limit());
                return;
            }
            invalidResponse(data, start, end);
            return;
        }
        switch (state) {
        case GREETING -> {
            if (backend.mustStartTls()) {
                send(State.STLS, "STLS\r\n", data);
            } else {
                send(State.USER, "USER " + user + "\r\n", data);
            }
        }
        case STLS -> {
            backend.startTls(); // what came after the +OK, in clear, is dropped by send()
            send(State.USER, "USER " + user + "\r\n", data);
        }
        case USER -> send(State.PASS, "PASS " + password + "\r\n", data);
        case PASS -> session.startRelay(data); // from the +OK line on, as it came
        }
    }

    @Override
    public void onClose(Failure failure) {
        LOG.debug("*{} upstream login ended: {}", session.id(), failure);
        if (!failed) {
            failed = true;
            session.write(Pop3Handler.INTERNAL_SERVER_ERROR);
        }
    }

    /** Writes the next command; what the backend sent with the reply is dropped, as nginx resets its buffer. */
    private void send(State next, String command, IoBuffer data) {
        data.position(data.limit());
        state = next;
        backend.write(command.getBytes(ISO_8859_1)); // the login and password are bytes, one char per byte
    }

    /** The backend refused a step: its reply goes to the client only with proxy_pass_error_message on. */
    private void invalidResponse(IoBuffer data, int start, int end) {
        String line = text(data, start, end);
        if (!passErrorMessage) {
            MailLog.log(LOG, "error", session.id(), MailLog.READING_UPSTREAM, "upstream sent invalid response: \"" + line + "\"");
            fail(null);
            data.position(data.limit());
            return;
        }
        MailLog.log(LOG, "info", session.id(), MailLog.READING_UPSTREAM, "upstream sent invalid response: \"" + line + "\"");
        byte[] reply = new byte[data.remaining()];
        data.get(reply);
        fail(reply);
    }

    private void fail(byte[] reply) {
        failed = true;
        session.write(reply != null ? reply : Pop3Handler.INTERNAL_SERVER_ERROR);
        session.closeAfterWrite();
    }

    /** The index just past the LF of the first line, or -1. */
    private static int lineEnd(IoBuffer data) {
        for (int i = data.position(); i < data.limit(); i++) {
            if (data.get(i) == '\n') {
                return i + 1;
            }
        }
        return -1;
    }

    private static boolean isOk(IoBuffer data, int start, int end) {
        return end - start >= 3 && data.get(start) == '+' && data.get(start + 1) == 'O' && data.get(start + 2) == 'K';
    }

    /** The line without its CRLF, for the log. */
    private static String text(IoBuffer data, int start, int end) {
        int stop = end;
        while (stop > start && (data.get(stop - 1) == '\n' || data.get(stop - 1) == '\r')) {
            stop--;
        }
        byte[] b = new byte[stop - start];
        for (int i = 0; i < b.length; i++) {
            b[i] = data.get(start + i);
        }
        return new String(b, UTF_8);
    }
}
