package org.mailproxy.itests;

import java.util.List;
import org.apache.mina.core.buffer.IoBuffer;
import org.mailproxy.core.config.Context;
import org.mailproxy.core.config.DirectiveSpec;
import org.mailproxy.core.session.MailSession;
import org.mailproxy.core.spi.MailProtocol;
import org.mailproxy.core.spi.ProtocolHandler;

/**
 * A stand-in protocol module for the tests of the core's listeners and configuration, until the
 * protocol bundles exist: registered under the name {@code pop3} (the test configuration's pop3
 * server becomes active), it greets with {@code +OK <greeting>} and answers every line with
 * {@code +OK <the line>}. It owns the two pop3 directives the test configuration uses, so the
 * configuration validates while it is registered.
 */
final class LinePrintingProtocol implements MailProtocol {

    private final String greeting;

    LinePrintingProtocol(String greeting) {
        this.greeting = greeting;
    }

    @Override
    public String name() {
        return "pop3";
    }

    @Override
    public int[] defaultPorts() {
        return new int[] {110, 995};
    }

    @Override
    public List<DirectiveSpec> directives() {
        return List.of(
                DirectiveSpec.builder("pop3_auth").context(Context.MAIL, Context.SERVER).oneOrMore().words().inherit().build(),
                DirectiveSpec.builder("pop3_capabilities").context(Context.MAIL, Context.SERVER).oneOrMore().words().inherit().build());
    }

    @Override
    public ProtocolHandler newHandler(MailSession session) {
        return new ProtocolHandler() {
            private final StringBuilder line = new StringBuilder();

            @Override
            public void onStart() {
                session.write("+OK " + greeting + "\r\n");
            }

            @Override
            public void onData(IoBuffer data) {
                while (data.hasRemaining()) {
                    byte b = data.get();
                    if (b == '\n') {
                        session.commandReceived();
                        session.write("+OK " + line.toString().strip() + "\r\n");
                        line.setLength(0);
                    } else {
                        line.append((char) (b & 0xff));
                    }
                }
            }
        };
    }

}
