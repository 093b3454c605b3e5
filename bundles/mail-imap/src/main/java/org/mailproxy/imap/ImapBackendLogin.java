package org.mailproxy.imap;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.apache.mina.core.buffer.IoBuffer;
import org.mailproxy.core.session.Backend;
import org.mailproxy.core.session.BackendLogin;
import org.mailproxy.core.session.MailLog;
import org.mailproxy.core.session.MailSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The login to the IMAP backend (nginx: {@code ngx_mail_proxy_imap_handler} and the IMAP part of
 * {@code ngx_mail_proxy_read_response}): wait for the {@code * OK} greeting, send
 * {@code <tag> LOGIN {n}} with the client's own tag, wait for {@code +}, send the login and
 * {@code {m}}, wait for {@code +}, send the password, then wait for the tagged reply. Login and
 * password always go as synchronizing literals, so any byte in them is safe.
 *
 * <p>Untagged lines before the tagged reply (an untagged CAPABILITY, sent by SmarterMail and
 * Gmail) are kept and go to the client with it; nginx tolerates one such line, this class any
 * number within the buffer. A tagged OK starts the relay with those lines first: the client sees
 * the backend's own answer to its LOGIN (or AUTHENTICATE), under its own tag.
 *
 * <p>With TLS toward the backend by STARTTLS ({@code proxy_ssl starttls} or
 * {@code Auth-SSL-Backend: starttls}) the proxy sends {@code mp1 STARTTLS} after the greeting,
 * and after {@code mp1 OK} switches the connection to TLS and goes on with the LOGIN; a refusal
 * gets the client {@code * BAD internal server error}, never a plaintext login.
 *
 * <p>Anything else fails the login: with {@code proxy_pass_error_message on} the client gets the
 * backend's lines and the connection closes; otherwise it gets {@code * BAD internal server error},
 * and the log says {@code upstream sent invalid response}. Everything the backend sends before
 * the relay must fit in {@code proxy_buffer}, as nginx reads it into that buffer.
 */
final class ImapBackendLogin implements BackendLogin {

    private static final Logger LOG = LoggerFactory.getLogger(ImapBackendLogin.class);

    private enum State { GREETING, STARTTLS, LOGIN, USER, PASSWORD }

    /** The tag of the proxy's own STARTTLS to the backend; the client never sees its reply. */
    static final String STARTTLS_TAG = "mp1";

    private final MailSession session;
    private final String tag;
    private byte[] login;
    private byte[] password;
    private final boolean passErrorMessage;
    private final int maxResponse;
    private final ByteArrayOutputStream untagged = new ByteArrayOutputStream();

    private State state = State.GREETING;
    private Backend backend;
    private boolean done;

    /**
     * @param tag              the client's tag, without the space
     * @param passErrorMessage {@code proxy_pass_error_message}
     * @param maxResponse      {@code proxy_buffer}: the longest backend response accepted here
     */
    ImapBackendLogin(MailSession session, String tag, byte[] login, byte[] password, boolean passErrorMessage,
                     int maxResponse) {
        this.session = session;
        this.tag = tag;
        this.login = login;
        this.password = password;
        this.passErrorMessage = passErrorMessage;
        this.maxResponse = maxResponse;
    }

    @Override
    public void onConnected(Backend connected) {
        this.backend = connected;
    }

    @Override
    public void onData(IoBuffer data) {
        while (!done && data.hasRemaining()) {
            int start = data.position();
            int end = lineEnd(data, start);
            if (end < 0) {
                if (untagged.size() + data.remaining() >= maxResponse) {
                    tooLong();
                }
                return; // the rest of the line comes later; the core keeps these bytes
            }
            byte[] line = new byte[end - start];
            data.get(line);
            if (untagged.size() + line.length > maxResponse) {
                tooLong();
                return;
            }
            switch (state) {
                case GREETING:
                    if (!startsWith(line, "* OK")) {
                        fail(line);
                        return;
                    }
                    if (backend.mustStartTls()) {
                        LOG.debug("*{} mail proxy send starttls", session.id());
                        backend.write(ascii(STARTTLS_TAG + " STARTTLS\r\n"));
                        state = State.STARTTLS;
                        break;
                    }
                    sendLogin();
                    break;
                case STARTTLS:
                    if (startsWith(line, "* ")) {
                        break; // an untagged CAPABILITY or the like
                    }
                    if (!startsWith(line, STARTTLS_TAG + " OK")) {
                        refusedStartTls(line);
                        return;
                    }
                    backend.startTls();
                    data.position(data.limit()); // anything after the OK came in clear: dropped
                    sendLogin(); // goes out encrypted once the handshake is done
                    return;
                case LOGIN:
                    if (line[0] != '+') {
                        fail(line);
                        return;
                    }
                    LOG.debug("*{} mail proxy send user", session.id());
                    backend.write(concat(login, ascii(" {" + password.length + "}\r\n")));
                    state = State.USER;
                    break;
                case USER:
                    if (line[0] != '+') {
                        fail(line);
                        return;
                    }
                    LOG.debug("*{} mail proxy send passwd", session.id());
                    backend.write(concat(password, ascii("\r\n")));
                    login = null;
                    password = null;
                    state = State.PASSWORD;
                    break;
                case PASSWORD:
                    if (startsWith(line, "* ")) {
                        untagged.write(line, 0, line.length); // untagged CAPABILITY and the like
                        break;
                    }
                    if (!startsWith(line, tag + " OK")) {
                        fail(line);
                        return;
                    }
                    done = true;
                    session.startRelay(toClient(line, data));
                    return;
                default:
                    throw new IllegalStateException(state.toString());
            }
        }
    }

    private void sendLogin() {
        LOG.debug("*{} mail proxy send login", session.id());
        backend.write(ascii(tag + " LOGIN {" + login.length + "}\r\n"));
        state = State.LOGIN;
    }

    /** The backend said no to STARTTLS: as a backend that cannot be reached, never plaintext. */
    private void refusedStartTls(byte[] line) {
        done = true;
        LOG.error("*{} upstream refused STARTTLS: \"{}\" while reading response from upstream", session.id(),
                new String(line, StandardCharsets.UTF_8).stripTrailing());
        login = null;
        password = null;
        session.write(ImapHandler.INTERNAL_ERROR);
        session.closeAfterWrite();
    }

    @Override
    public void onClose(Failure failure) {
        done = true;
        login = null;
        password = null;
        session.write(ImapHandler.INTERNAL_ERROR);
    }

    /** The untagged lines, the tagged OK and whatever came after it, for the client. */
    private IoBuffer toClient(byte[] tagged, IoBuffer rest) {
        IoBuffer out = IoBuffer.allocate(untagged.size() + tagged.length + rest.remaining());
        out.put(untagged.toByteArray()).put(tagged).put(rest).flip();
        return out;
    }

    /** A response the login cannot go on with (nginx: "upstream sent invalid response"). */
    private void fail(byte[] line) {
        done = true;
        String text = new String(line, StandardCharsets.UTF_8).stripTrailing();
        if (passErrorMessage) {
            MailLog.log(LOG, "info", session.id(), MailLog.READING_UPSTREAM, "upstream sent invalid response: \"" + text + "\"");
            session.write(concat(untagged.toByteArray(), line));
        } else {
            MailLog.log(LOG, "error", session.id(), MailLog.READING_UPSTREAM, "upstream sent invalid response: \"" + text + "\"");
            session.write(ImapHandler.INTERNAL_ERROR);
        }
        session.closeAfterWrite();
    }

    private void tooLong() {
        done = true;
        LOG.error("*{} upstream sent too long response line while reading response from upstream", session.id());
        session.write(ImapHandler.INTERNAL_ERROR);
        session.closeAfterWrite();
    }

    /** The index after the next LF from {@code from}, or -1. */
    private static int lineEnd(IoBuffer data, int from) {
        for (int i = from; i < data.limit(); i++) {
            if (data.get(i) == '\n') {
                return i + 1;
            }
        }
        return -1;
    }

    private static boolean startsWith(byte[] line, String prefix) {
        if (line.length < prefix.length()) {
            return false;
        }
        for (int i = 0; i < prefix.length(); i++) {
            if (line[i] != prefix.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    private static byte[] ascii(String text) {
        return text.getBytes(StandardCharsets.US_ASCII);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
