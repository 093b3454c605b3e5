package org.mailproxy.core.session;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.apache.mina.core.buffer.IoBuffer;
import org.mailproxy.core.config.DirectiveSpec;
import org.mailproxy.core.spi.MailProtocol;
import org.mailproxy.core.spi.ProtocolHandler;

/**
 * A tiny line protocol for tests, parsed byte by byte as the real ones are:
 * {@code NOOP}; {@code AUTH} (answers 50 ms later from the timer thread, reading suspended
 * meanwhile); {@code PROXY port} (connects to a backend on 127.0.0.1 and relays after its
 * greeting line); anything else is an invalid command.
 */
final class LineProtocol implements MailProtocol {

    /** What the core told the handlers: "timeout", "close". */
    final Queue<String> events = new ConcurrentLinkedQueue<>();

    @Override
    public String name() {
        return "line";
    }

    @Override
    public List<DirectiveSpec> directives() {
        return List.of();
    }

    @Override
    public byte[] stoppedReply() {
        return "-ERR stopped\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }

    @Override
    public int[] defaultPorts() {
        return new int[0];
    }

    @Override
    public ProtocolHandler newHandler(MailSession session) {
        return new Handler(session);
    }

    private final class Handler implements ProtocolHandler {
        private static final byte[] OK = "+OK\r\n".getBytes();
        private final MailSession session;
        private final StringBuilder line = new StringBuilder();
        private boolean waiting;

        Handler(MailSession session) {
            this.session = session;
        }

        @Override
        public void onStart() {
            session.write("+OK ready\r\n");
        }

        @Override
        public void onData(IoBuffer data) {
            while (data.hasRemaining() && !waiting && !session.isClosing()) {
                byte b = data.get();
                if (b == '\n') {
                    String command = line.toString().trim();
                    line.setLength(0);
                    command(command);
                } else {
                    line.append((char) b);
                }
            }
        }

        private void command(String command) {
            if (!session.commandReceived()) {
                session.write("-ERR too many commands\r\n");
                return;
            }
            if (command.equals("NOOP")) {
                session.write(OK);
            } else if (command.equals("AUTH")) {
                waiting = true;
                session.suspendReading();
                session.schedule(Duration.ofMillis(50), () -> {
                    session.write("+OK authenticated\r\n");
                    waiting = false;
                    session.resumeReading();
                });
            } else if (command.startsWith("PROXY ")) {
                waiting = true;
                int port = Integer.parseInt(command.substring(6));
                session.connectBackend(new InetSocketAddress("127.0.0.1", port), new GreetingLogin(session));
            } else {
                session.protocolError();
                session.write("-ERR invalid\r\n");
            }
        }

        @Override
        public void onTimeout() {
            events.add("timeout");
            session.write("-ERR timeout\r\n");
        }

        @Override
        public void onClose() {
            events.add("close");
        }
    }

    /** Waits for the backend's greeting line and relays from there, greeting included. */
    static final class GreetingLogin implements BackendLogin {
        private final MailSession session;

        GreetingLogin(MailSession session) {
            this.session = session;
        }

        @Override
        public void onConnected(Backend backend) {
        }

        @Override
        public void onData(IoBuffer data) {
            for (int i = data.position(); i < data.limit(); i++) {
                if (data.get(i) == '\n') {
                    session.startRelay(data);
                    return;
                }
            }
            // no complete line yet: leave it unconsumed, the core hands it back with the rest
        }

        @Override
        public void onClose(Failure failure) {
            session.write("-ERR backend " + failure + "\r\n");
        }
    }
}
