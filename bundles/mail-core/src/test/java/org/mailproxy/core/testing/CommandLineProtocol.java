package org.mailproxy.core.testing;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.mina.core.buffer.IoBuffer;
import org.mailproxy.core.config.DirectiveSpec;
import org.mailproxy.core.session.MailSession;
import org.mailproxy.core.spi.MailProtocol;
import org.mailproxy.core.spi.ProtocolHandler;

/**
 * A line protocol for the core's TLS and PROXY protocol tests, named {@code imap} (ALPN then
 * expects "imap"): it greets with {@code +OK ready}, reads lines byte by byte as the real
 * protocols do and gives each command to {@link #command}. It stops reading commands when the
 * session closes or relays, or when a command says so (a backend login started).
 */
public abstract class CommandLineProtocol implements MailProtocol {

    /**
     * Answers one command line (trimmed).
     *
     * @return false when the session reads no more commands (a backend login is under way)
     */
    protected abstract boolean command(MailSession session, String command);

    @Override
    public String name() {
        return "imap";
    }

    @Override
    public List<DirectiveSpec> directives() {
        return List.of();
    }

    @Override
    public int[] defaultPorts() {
        return new int[0];
    }

    @Override
    public byte[] certificateErrorReply() {
        return "-ERR SSL certificate error\r\n".getBytes(StandardCharsets.US_ASCII);
    }

    @Override
    public byte[] noCertificateReply() {
        return "-ERR No required SSL certificate\r\n".getBytes(StandardCharsets.US_ASCII);
    }

    @Override
    public ProtocolHandler newHandler(MailSession session) {
        return new ProtocolHandler() {
            private final StringBuilder line = new StringBuilder();

            @Override
            public void onStart() {
                session.write("+OK ready\r\n");
            }

            @Override
            public void onData(IoBuffer data) {
                while (data.hasRemaining() && !session.isClosing() && !session.isRelaying()) {
                    byte b = data.get();
                    if (b != '\n') {
                        line.append((char) b);
                        continue;
                    }
                    String command = line.toString().trim();
                    line.setLength(0);
                    if (!command(session, command)) {
                        return;
                    }
                }
            }
        };
    }
}
