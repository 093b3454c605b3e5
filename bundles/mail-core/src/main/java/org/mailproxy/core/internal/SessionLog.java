package org.mailproxy.core.internal;

import java.net.InetSocketAddress;
import java.util.Locale;
import java.util.function.Consumer;
import org.mailproxy.core.session.MailSession;
import org.mailproxy.core.util.InetText;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The session log: one line per finished session, at INFO on the logger {@value #LOGGER}, which
 * {@link SessionLogAppender} sends to a file of its own ({@code ${karaf.log}/mail-sessions.log}).
 * The line is {@code key=value} pairs in a fixed order, so it can be grepped and split:
 *
 * <pre>
 * 2026-11-25T22:43:20.123+01:00 id=42 server="imap 127.0.0.1:1143" protocol=imap client=127.0.0.1:54321 user=alice backend=127.0.0.1:10143 from_client=120 from_backend=2048 duration=3.021 ended="client closed"
 * </pre>
 * (the time is written by the appender's layout). A missing value is {@code -}; a value with a
 * space, a quote, a backslash or a control character is quoted, with {@code \"}, {@code \\} and
 * {@code \xHH} escapes, so a login name cannot forge a line. Passwords are never known here.
 */
final class SessionLog implements Consumer<MailSession> {

    /** The logger name; an operator can set its level to OFF to stop the log. */
    static final String LOGGER = "org.mailproxy.sessionlog";
    private static final Logger LOG = LoggerFactory.getLogger(LOGGER);

    @Override
    public void accept(MailSession session) {
        if (LOG.isInfoEnabled()) {
            LOG.info("{}", line(session));
        }
    }

    /** The line for a finished session, without the time. */
    static String line(MailSession session) {
        long end = session.endMillis() == 0 ? System.currentTimeMillis() : session.endMillis();
        return line(session.id(), session.server().name(), session.server().protocol().name(),
                address(session.clientAddress()), session.user(), address(session.backendAddress()),
                session.bytesFromClient(), session.bytesFromBackend(), end - session.startMillis(),
                session.endReason());
    }

    static String line(long id, String server, String protocol, String client, String user, String backend,
                       long fromClient, long fromBackend, long durationMillis, String ended) {
        StringBuilder out = new StringBuilder(160);
        out.append("id=").append(id);
        field(out, "server", server);
        field(out, "protocol", protocol);
        field(out, "client", client);
        field(out, "user", user);
        field(out, "backend", backend);
        out.append(" from_client=").append(fromClient);
        out.append(" from_backend=").append(fromBackend);
        long duration = Math.max(0, durationMillis); // the wall clock may have been set back
        long millis = duration % 1000;
        out.append(" duration=").append(duration / 1000).append(millis < 10 ? ".00" : millis < 100 ? ".0" : ".").append(millis);
        field(out, "ended", ended);
        return out.toString();
    }

    /** {@code 192.0.2.1:143}, {@code [2001:db8::1]:143} (nginx's forms), or null. */
    static String address(InetSocketAddress address) {
        return address == null ? null : InetText.hostPort(address);
    }

    private static void field(StringBuilder out, String key, String value) {
        out.append(' ').append(key).append('=');
        quote(out, value);
    }

    /** Appends {@code value} as one token: {@code -} when null, quoted and escaped when it needs it. */
    static void quote(StringBuilder out, String value) {
        if (value == null) {
            out.append('-');
            return;
        }
        boolean plain = !value.isEmpty() && !value.equals("-");
        for (int i = 0; plain && i < value.length(); i++) {
            char c = value.charAt(i);
            plain = c > ' ' && c != '"' && c != '\\' && c != 0x7f;
        }
        if (plain) {
            out.append(value);
            return;
        }
        out.append('"');
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '"' || c == '\\') {
                out.append('\\').append(c);
            } else if (c < ' ' || c == 0x7f) {
                out.append(String.format(Locale.ROOT, "\\x%02X", (int) c));
            } else {
                out.append(c);
            }
        }
        out.append('"');
    }
}
