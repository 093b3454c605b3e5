package org.mailproxy.core.errorlog;

/**
 * What nginx's mail log handler ({@code ngx_mail_log_error()}) adds to a session's message: the
 * action, the client, the server address, the login and the upstream. Any may be null.
 *
 * @param client     the client's address
 * @param clientPort the client's port, 0 when unknown
 * @param server     the address and port the client connected to, {@code 127.0.0.1:143}
 */
public record LogContext(String action, String client, int clientPort, String server, String login, String upstream) {

    /** The client as Angie's JSON writes it: {@code 127.0.0.1:54321}. */
    public String clientWithPort() {
        if (client == null) {
            return null;
        }
        if (clientPort == 0) {
            return client;
        }
        return (client.indexOf(':') >= 0 ? "[" + client + "]" : client) + ":" + clientPort;
    }

    /** A property's raw value, for {@code filter=NAME:...}; null when it has none. */
    public String property(String name) {
        return switch (name) {
            case "client" -> clientWithPort();
            case "server" -> server;
            case "login" -> login;
            case "upstream" -> upstream;
            default -> null;
        };
    }

    public LogContext withAction(String newAction) {
        return new LogContext(newAction, client, clientPort, server, login, upstream);
    }
}
